//! `keyward eval FILE...`: one JSON line per case, or `--summary`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{Tally, EXIT_BAD_INPUT};
use crate::case::{Case, Verdict};
use crate::compare::disagreement_text;
use crate::inputs::{expand, load, Loaded};

pub fn verdict_json(case: &Case, v: &Verdict) -> Value {
    let mut line = json!({
        "id": case.id,
        "decision": v.decision.map(|d| d.as_str()),
        "by": v.by.map(|b| b.as_str()),
        "message": v.message,
        "agrees": v.agrees,
    });
    let Value::Object(m) = &mut line else {
        return line;
    };
    if let Some(o) = &v.outcome {
        m.insert("status".into(), json!(o.status));
        m.insert("code".into(), json!(o.code.map(|c| c.as_str())));
        m.insert("body".into(), json!(o.body));
        m.insert("side_effects".into(), json!(o.side_effect_texts()));
    }
    if v.agrees == Some(false) {
        if let Some(e) = &case.expect {
            m.insert("expected".into(), e.to_json());
        }
    }
    line
}

/// One line (and details) saying how a case disagrees.
pub fn disagreement_line(file: &str, case: &Case, v: &Verdict) -> String {
    match &case.expect {
        Some(e) => disagreement_text(&case.id, file, e, &v.answer()),
        None => String::new(),
    }
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
