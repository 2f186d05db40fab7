//! `keyward eval FILE...`: one JSON line per case, or `--summary`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::{AssumptionCounts, Tally, EXIT_BAD_INPUT};
use crate::case::{Case, Reader, Verdict};
use crate::compare::disagreement_text;
use crate::inputs::{expand, for_each_batch, Loaded};
use crate::lints::Linter;
use crate::locate::{Locator, Target};
use crate::sarif::{Finding, Rule};

/// Appends a case's output line (without its newline) to `buf`: the fields of docs/cli.md, in
/// their order, written straight into the buffer (no JSON tree per case).
pub fn write_verdict(buf: &mut Vec<u8>, case: &Case, v: &Verdict) {
    fn opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => string(buf, s),
            None => buf.extend_from_slice(b"null"),
        }
    }
    fn string(buf: &mut Vec<u8>, s: &str) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, s);
    }
    buf.extend_from_slice(b"{\"id\":");
    string(buf, &case.id);
    buf.extend_from_slice(b",\"decision\":");
    opt_str(buf, v.decision.map(|d| d.as_str()));
    buf.extend_from_slice(b",\"by\":");
    opt_str(buf, v.by.map(|b| b.as_str()));
    buf.extend_from_slice(b",\"message\":");
    opt_str(buf, v.message.as_deref());
    buf.extend_from_slice(match v.agrees {
        Some(true) => b",\"agrees\":true",
        Some(false) => b",\"agrees\":false",
        None => b",\"agrees\":null",
    });
    if let Some(o) = &v.outcome {
        let _ = write!(buf, ",\"status\":{},\"code\":", o.status);
        opt_str(buf, o.code.map(|c| c.as_str()));
        buf.extend_from_slice(b",\"body\":");
        string(buf, &o.body);
        buf.extend_from_slice(b",\"side_effects\":[");
        for (i, e) in o.side_effects.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            string(buf, &e.to_string());
        }
        buf.push(b']');
    }
    buf.extend_from_slice(b",\"assumptions\":[");
    for (i, a) in v.assumptions.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        string(buf, a);
    }
    buf.push(b']');
    buf.extend_from_slice(b",\"message_form\":");
    opt_str(buf, v.message_form.map(|f| f.as_str()));
    if !v.message_complete {
        buf.extend_from_slice(b",\"message_complete\":false");
    }
    if v.agrees == Some(false) {
        if let Some(e) = &case.expect {
            buf.extend_from_slice(b",\"expected\":");
            let _ = serde_json::to_writer(&mut *buf, &e.to_json());
        }
    }
    buf.extend_from_slice(b",\"reason\":");
    string(buf, &v.reason.text(&case.policies));
    buf.extend_from_slice(b",\"statement\":");
    match v.reason.statement(&case.policies) {
        Some(s) => {
            buf.extend_from_slice(b"{\"policy\":");
            string(buf, &s.policy);
            let _ = write!(buf, ",\"index\":{},\"sid\":", s.index);
            opt_str(buf, s.sid.as_deref());
            buf.push(b'}');
        }
        None => buf.extend_from_slice(b"null"),
    }
    buf.push(b'}');
}

/// What `eval --format` prints instead of its JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    /// One JSON object per case, per line (the default).
    Json,
    /// A SARIF 2.1.0 log.
    Sarif,
    /// One line per disagreement, unreadable case and lint, `FILE:LINE:COLUMN: LEVEL: RULE:
    /// MESSAGE`, then `N passed, M failed`.
    Short,
}

/// What `eval` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One JSON line per case.
    Lines,
    /// `--summary`: the disagreements and the counts.
    Summary,
    /// `--format sarif`: each disagreement and unreadable case a result on its case's line, and
    /// each lint warning one on its statement's.
    Sarif,
    /// `--format short`: the same findings one per line, then the counts.
    Short,
}

/// One line (and details) saying how a case disagrees.
pub fn disagreement_line(file: &str, case: &Case, v: &Verdict) -> String {
    match &case.expect {
        Some(e) => disagreement_text(
            &case.id,
            file,
            e,
            &v.answer(),
            Some(&v.reason.text(&case.policies)),
        ),
        None => String::new(),
    }
}

/// What one case (or one unreadable input) prints, and how it counts.
struct Printed {
    out: Vec<u8>,
    err: Option<String>,
    agrees: Option<bool>,
    unreadable: bool,
    /// What the answer rests on, kept for `--summary`'s counts.
    assumptions: Vec<&'static str>,
    /// The case's file, id and policies, for the lints.
    policies: Option<(String, String, std::sync::Arc<keyward_iam::PolicySet>)>,
    /// A request case's principal and the keys AWS sets for it that its policies test and its
    /// context leaves out.
    unset_keys: Option<(String, Vec<&'static str>)>,
    /// Where the case (or the unreadable input) sits.
    target: Option<Target>,
}

/// Evaluates one loaded item: pure, so items are evaluated on every core and printed in order.
fn render(item: &Loaded, output: Output) -> Printed {
    let summary = output != Output::Lines;
    match item {
        Loaded::Error(e) => {
            let id = e.case.clone().unwrap_or_else(|| e.file.clone());
            let out = if summary {
                Vec::new()
            } else {
                json!({"id": id, "decision": null, "error": e.to_string()})
                    .to_string()
                    .into_bytes()
            };
            Printed {
                out,
                err: Some(format!("error: {e}")),
                agrees: None,
                unreadable: true,
                assumptions: Vec::new(),
                policies: None,
                unset_keys: None,
                target: Some(Target::error(e)),
            }
        }
        Loaded::Case { file, case } => {
            let v = case.verdict();
            let mut out = Vec::new();
            if !summary {
                out.reserve(256);
                write_verdict(&mut out, case, &v);
            } else if v.agrees == Some(false) {
                out = disagreement_line(file, case, &v).into_bytes();
            }
            Printed {
                out,
                err: None,
                agrees: v.agrees,
                unreadable: false,
                assumptions: if summary { v.assumptions } else { Vec::new() },
                policies: Some((file.clone(), case.id.clone(), case.policies.clone())),
                unset_keys: case
                    .request()
                    .map(|r| (r.principal().to_string(), case.unset_principal_keys()))
                    .filter(|(_, keys)| !keys.is_empty()),
                target: case.place.as_ref().map(|p| Target::case(file, p)),
            }
        }
    }
}

/// `keyward eval` on `threads` cores (0: all of them). The output is the same whatever the
/// number of threads: every line in input order. The input is read batch by batch, so memory
/// stays bounded however large it is. The lints of the cases' policies go to `err` as warnings
/// at the end; with `deny_warnings`, a warning makes an exit of 0 one of 1.
pub fn run(
    paths: &[PathBuf],
    reader: &Reader,
    output: Output,
    threads: usize,
    deny_warnings: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start {threads} threads: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let files = match expand(paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut tally = Tally::default();
    let mut counts = AssumptionCounts::default();
    let mut linter = Linter::default();
    let (mut findings, mut locator) = (Vec::new(), Locator::default());
    // One write per batch, not one per line (standard output is line-buffered).
    let mut text = Vec::new();
    for_each_batch(
        &files,
        Some(&pool),
        reader,
        |item| render(&item, output),
        |printed| {
            for p in printed {
                if p.unreadable {
                    tally.unreadable += 1;
                } else {
                    tally.record(p.agrees);
                }
                counts.record(&p.assumptions);
                if let Some((file, id, set)) = &p.policies {
                    linter.add(file, id, set);
                    if let Some((principal, keys)) = &p.unset_keys {
                        linter.add_unset_keys(file, id, principal, keys, p.target.clone());
                    }
                }
                if matches!(output, Output::Sarif | Output::Short) {
                    let problem = match (&p.err, p.agrees) {
                        (Some(e), _) => Some((
                            Rule::UNREADABLE,
                            e.trim_start_matches("error: ").to_string(),
                        )),
                        (None, Some(false)) => Some((
                            Rule::DISAGREEMENT,
                            String::from_utf8_lossy(&p.out).into_owned(),
                        )),
                        _ => None,
                    };
                    if let Some((rule, message)) = problem {
                        findings.push(Finding {
                            rule: rule.id,
                            level: rule.level,
                            message,
                            location: p.target.as_ref().and_then(|t| locator.locate(t)),
                        });
                    }
                    if let Some(e) = p.err {
                        let _ = writeln!(err, "{e}");
                    }
                    continue;
                }
                // An error goes out after the lines before it, as when every line was written on
                // its own (the two streams may be one terminal or one file).
                if let Some(e) = p.err {
                    let _ = out.write_all(&text);
                    text.clear();
                    let _ = writeln!(err, "{e}");
                }
                if !p.out.is_empty() {
                    text.extend_from_slice(&p.out);
                    text.push(b'\n');
                }
            }
            let _ = out.write_all(&text);
            text.clear();
            linter.lint_pending(Some(&pool));
        },
    );
    if output == Output::Summary {
        let _ = write!(out, "{}", counts.lines());
        let _ = writeln!(out, "{}", tally.summary_line());
    }
    let warnings = linter.warnings();
    super::print_warnings(&warnings, err);
    if output == Output::Short {
        findings.extend(super::warning_findings(&warnings, &mut locator));
        let _ = write!(out, "{}", super::short_lines(&findings));
        let _ = writeln!(out, "{}", tally.summary_line());
    }
    if output == Output::Sarif {
        findings.extend(super::warning_findings(&warnings, &mut locator));
        let mut rules = vec![Rule::DISAGREEMENT, Rule::UNREADABLE];
        rules.extend(Rule::lints());
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&crate::sarif::log(&rules, &findings)).unwrap_or_default()
        );
    }
    super::deny_warnings(tally.exit_code(), deny_warnings, &warnings)
}
