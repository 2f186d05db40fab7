//! `keyward eval FILE...`: one JSON line per case, or `--summary`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{Tally, EXIT_BAD_INPUT};
use crate::case::{Case, Verdict};
use crate::inputs::{expand, load, Loaded};

pub fn verdict_json(case: &Case, v: &Verdict) -> Value {
    let mut line = json!({
        "id": case.id,
        "decision": v.decision.as_str(),
        "by": v.by.map(|b| b.as_str()),
        "message": v.message,
        "agrees": v.agrees,
    });
    if v.agrees == Some(false) {
        if let (Some(e), Value::Object(m)) = (&case.expect, &mut line) {
            m.insert(
                "expected".into(),
                json!({"decision": e.decision.as_str(), "by": e.by.map(|b| b.as_str()), "message": e.message}),
            );
        }
    }
    line
}

/// One line saying how a case disagrees.
pub fn disagreement_line(file: &str, case: &Case, v: &Verdict) -> String {
    let Some(e) = &case.expect else {
        return String::new();
    };
    let show = |d: &str, by: Option<keyward_iam::PolicyType>| match by {
        Some(b) => format!("{d} by {b}"),
        None => d.to_string(),
    };
    let mut s = format!(
        "DISAGREE {} ({file}): expected {}, got {}",
        case.id,
        show(e.decision.as_str(), e.by),
        show(v.decision.as_str(), v.by)
    );
    if let Some(m) = &e.message {
        if Some(m) != v.message.as_ref() {
            s.push_str(&format!(
                "\n  expected message: {m}\n  got message:      {}",
                v.message.as_deref().unwrap_or("(none)")
            ));
        }
    }
    s
}

pub fn run(paths: &[PathBuf], summary: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let files = match expand(paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut tally = Tally::default();
    for item in load(&files) {
        match item {
            Loaded::Error(e) => {
                tally.unreadable += 1;
                let _ = writeln!(err, "error: {e}");
                if !summary {
                    let id = e.case.clone().unwrap_or_else(|| e.file.clone());
                    let _ = writeln!(
                        out,
                        "{}",
                        json!({"id": id, "decision": null, "error": e.to_string()})
                    );
                }
            }
            Loaded::Case { file, case } => {
                let v = case.verdict();
                tally.record(v.agrees);
                if summary && v.agrees == Some(false) {
                    let _ = writeln!(out, "{}", disagreement_line(&file, &case, &v));
                }
                if !summary {
                    let _ = writeln!(out, "{}", verdict_json(&case, &v));
                }
            }
        }
    }
    if summary {
        let _ = writeln!(out, "{}", tally.summary_line());
    }
    tally.exit_code()
}
