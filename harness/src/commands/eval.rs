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
    let Some(e) = &case.expect else {
        return String::new();
    };
    let show = |d: Option<keyward_iam::DecisionKind>, by: Option<keyward_iam::PolicyType>| {
        let d = d.map_or("no decision", |d| d.as_str());
        match by {
            Some(b) => format!("{d} by {b}"),
            None => d.to_string(),
        }
    };
    let mut s = format!("DISAGREE {} ({file})", case.id);
    if e.decision.is_some() || e.by.is_some() {
        s.push_str(&format!(
            ": expected {}, got {}",
            show(e.decision.or(v.decision), e.by),
            show(v.decision, v.by)
        ));
    }
    let mut detail = |what: &str, want: String, got: String| {
        if want != got {
            s.push_str(&format!(
                "\n  expected {what}: {want}\n       got {what}: {got}"
            ));
        }
    };
    if let Some(m) = &e.message {
        detail(
            "message",
            m.clone(),
            v.message.clone().unwrap_or_else(|| "(none)".into()),
        );
    }
    let o = v.outcome.as_ref();
    if let Some(st) = e.status {
        detail(
            "status",
            st.to_string(),
            o.map_or("(none)".into(), |o| o.status.to_string()),
        );
    }
    if let Some(c) = &e.code {
        detail(
            "code",
            c.clone(),
            o.and_then(|o| o.code)
                .map_or("(none)", |c| c.as_str())
                .to_string(),
        );
    }
    if let Some(b) = &e.body {
        detail(
            "body",
            b.clone(),
            o.map_or("(none)".into(), |o| o.body.clone()),
        );
    }
    if let Some(se) = &e.side_effects {
        detail(
            "side effects",
            format!("{se:?}"),
            o.map_or("(none)".into(), |o| format!("{:?}", o.side_effect_texts())),
        );
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
