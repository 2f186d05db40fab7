//! `keyward explain FILE`: a person's account of each case's decision.

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
use keyward_iam::{PolicySet, Request, StatementRef};

use crate::case::{Case, Query, Reader, Verdict};
use crate::compare::disagreement_text;
use crate::inputs::{expand, load_with, Loaded};
use crate::reason::statement_path;

/// One request and why it got its decision.
fn render_request(s: &mut String, r: &Request, set: &PolicySet) {
    s.push_str(request_line(r).trim_end());
    if let Some(a) = r.resource_account() {
        let cross = if r.is_cross_account() {
            ", cross-account"
        } else {
            ""
        };
        s.push_str(&format!(" (resource account {a}{cross})"));
    }
    s.push('\n');
    if !r.context.is_empty() {
        s.push_str("context:\n");
        for (k, v) in r.context.iter() {
            s.push_str(&format!("  {k} = {:?}\n", v.values()));
        }
    }
    s.push_str(&keyward_iam::explain(set, r).to_string());
}

/// What `explain` shows of each case.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct View {
    /// A few lines per case: the statements that applied, those whose condition failed (which
    /// condition, and the request's value), then the decision, reason and message.
    #[arg(long)]
    pub brief: bool,
    /// Explain only the cases that disagree with their `expect`.
    #[arg(long)]
    pub failing: bool,
}

/// The request line of an explanation.
fn request_line(r: &Request) -> String {
    format!(
        "request: {} calls {} on {}\n",
        r.principal(),
        r.action(),
        r.resource()
    )
}

/// One request in brief: the statements that applied, each statement that names the request but
/// whose condition failed (with the conditions that failed), and the decision.
fn render_request_brief(s: &mut String, r: &Request, set: &PolicySet) {
    s.push_str(&format!(
        "{} calls {} on {}\n",
        r.principal(),
        r.action(),
        r.resource()
    ));
    let e = keyward_iam::explain(set, r);
    for p in &e.policies {
        for st in &p.statements {
            let blocked = st.blocked_by_condition();
            if !st.applies && !blocked {
                continue;
            }
            let here = StatementRef {
                policy_type: p.policy_type,
                level: p.level,
                policy: p.index,
                statement: st.index,
                effect: st.effect,
            };
            let mut at = statement_path(set, &here);
            if let Some(n) = &p.name {
                at.push_str(&format!(" {n:?}"));
            }
            if let Some(sid) = &st.sid {
                at.push_str(&format!(" Sid {sid:?}"));
            }
            let effect = st.effect.as_str();
            if st.applies {
                s.push_str(&format!("  applies: {effect} {at}\n"));
            } else {
                s.push_str(&format!("  condition failed: {effect} {at}\n"));
                for c in st.failed_conditions() {
                    s.push_str(&format!("    {}\n", c.brief()));
                }
            }
        }
    }
    s.push_str(&format!("  decision: {}", e.decision.kind.as_str()));
    if let Some(by) = e.decision.by {
        s.push_str(&format!(" by {by}"));
    }
    s.push('\n');
}

/// The case's expectation and whether keyward agrees.
fn render_expected(s: &mut String, case: &Case, v: &Verdict) {
    if let Some(e) = &case.expect {
        let want = serde_json::to_string(&e.to_json()).unwrap_or_default();
        let verdict = if v.agrees == Some(true) {
            "agrees"
        } else {
            "DISAGREES"
        };
        s.push_str(&format!("expected: {want} -> {verdict}\n"));
    }
}

/// The brief explanation of one case: a few lines (`explain --brief`).
pub fn render_brief(case: &Case) -> String {
    let mut s = format!("case {}\n", case.id);
    let v = case.verdict();
    match &case.query {
        Query::Request(r) => {
            s.push_str("request: ");
            render_request_brief(&mut s, r, &case.policies);
        }
        Query::Scenario(sc) => {
            let res = sc.run(&case.policies);
            for (i, step) in res.steps.iter().enumerate() {
                s.push_str(&format!("request {}: ", i + 1));
                render_request_brief(&mut s, &step.request, &case.policies);
            }
            // One line: the message is below, the body only carries it.
            let o = &res.outcome;
            s.push_str(&format!("outcome: HTTP {}", o.status));
            if let Some(c) = o.code {
                s.push_str(&format!(" {c}"));
            }
            let effects = o.side_effect_texts();
            if !effects.is_empty() {
                s.push_str(&format!(", side effects: {}", effects.join(", ")));
            }
            s.push('\n');
        }
    }
    s.push_str(&format!("reason: {}\n", v.reason.text(&case.policies)));
    if let Some(m) = &v.message {
        s.push_str(&format!("message: {m}\n"));
    }
    // What differs from `expect`, not the whole expectation.
    match (&case.expect, v.agrees) {
        (Some(_), Some(true)) => s.push_str("agrees with expect\n"),
        (Some(e), _) => {
            let text = disagreement_text(&case.id, "expect", e, &v.answer(), None);
            s.push_str(&text);
            s.push('\n');
        }
        (None, _) => {}
    }
    s
}

/// The explanation text of one case (also what the snapshots hold).
pub fn render(case: &Case) -> String {
    let mut s = format!("case {}\n", case.id);
    let v = case.verdict();
    match &case.query {
        Query::Request(r) => render_request(&mut s, r, &case.policies),
        Query::Scenario(sc) => {
            let res = sc.run(&case.policies);
            if res.steps.is_empty() {
                s.push_str("the key is rejected before any authorization request\n");
            }
            for (i, step) in res.steps.iter().enumerate() {
                s.push_str(&format!(
                    "-- authorization request {} of the scenario\n",
                    i + 1
                ));
                render_request(&mut s, &step.request, &case.policies);
            }
            // Allowed, then refused (LimitExceeded, NoSuchEntity, ...): said so, so that the
            // request's `decision: allow` above does not read as the call's answer.
            let refused = match &res.decision {
                Some(d)
                    if d.kind == keyward_iam::DecisionKind::Allow && res.outcome.status >= 300 =>
                {
                    "authorization allowed, then refused: "
                }
                _ => "",
            };
            s.push_str(&format!("outcome: {refused}{}\n", res.outcome));
            // The requests' own assumptions are under each request; these are the outcome's.
            if res.assumptions.is_empty() {
                s.push_str("outcome assumptions: none beyond the requests'\n");
            }
            for id in &res.assumptions {
                let statement = keyward_bedrock::Assumption::find(id).map_or("", |a| a.statement);
                s.push_str(&format!("assumption {id}: {statement}\n"));
            }
        }
    }
    s.push_str(&format!("reason: {}\n", v.reason.text(&case.policies)));
    render_expected(&mut s, case, &v);
    s
}

/// `keyward explain`: every case of `path` (or the one with id `only`), as `view` says, read
/// by `reader` (`--policies`). Exit 1 when a case shown disagrees with its `expect` (with
/// `--failing`, every case shown does), 2 on unreadable input. With `deny_warnings`, a lint
/// warning (on the policies of the cases explained) makes an exit of 0 one of 1.
pub fn run(
    path: &PathBuf,
    reader: &Reader,
    only: Option<&str>,
    view: View,
    deny_warnings: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let files = match expand(std::slice::from_ref(path)) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (mut code, mut shown, mut found, mut unreadable) = (EXIT_OK, 0, 0, false);
    let mut linter = crate::lints::Linter::default();
    for item in load_with(&files, reader) {
        match item {
            Loaded::Error(e) => {
                let _ = writeln!(err, "error: {e}");
                code = EXIT_BAD_INPUT;
                // The case asked for exists but is unreadable: not "no case with id".
                unreadable |= only.is_some() && e.case.as_deref() == only;
            }
            Loaded::Case { case, file } => {
                if only.is_some_and(|id| id != case.id) {
                    continue;
                }
                found += 1;
                linter.add_case(&file, &case);
                let disagrees = case.verdict().agrees == Some(false);
                if view.failing && !disagrees {
                    continue;
                }
                if shown > 0 {
                    let _ = writeln!(out);
                }
                shown += 1;
                let text = if view.brief {
                    render_brief(&case)
                } else {
                    render(&case)
                };
                let _ = write!(out, "{text}");
                if disagrees && code == EXIT_OK {
                    code = EXIT_DISAGREE;
                }
            }
        }
    }
    if let (Some(id), 0, false) = (only, found, unreadable) {
        let _ = writeln!(err, "error: {}: no case with id {id:?}", path.display());
        return EXIT_BAD_INPUT;
    }
    let warnings = linter.warnings();
    super::print_warnings(&warnings, err);
    super::deny_warnings(code, deny_warnings, &warnings)
}
