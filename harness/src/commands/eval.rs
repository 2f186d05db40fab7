//! `keyward eval FILE...`: one JSON line per case, or `--summary`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{Tally, EXIT_BAD_INPUT};
use crate::case::{Case, Verdict};
use crate::compare::disagreement_text;
use crate::inputs::{expand, load, Loaded};
use rayon::prelude::*;

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

/// What one case (or one unreadable input) prints, and how it counts.
struct Printed {
    out: Option<String>,
    err: Option<String>,
    agrees: Option<bool>,
    unreadable: bool,
}

/// Evaluates one loaded item: pure, so items are evaluated on every core and printed in order.
fn render(item: &Loaded, summary: bool) -> Printed {
    match item {
        Loaded::Error(e) => {
            let id = e.case.clone().unwrap_or_else(|| e.file.clone());
            Printed {
                out: (!summary).then(|| {
                    json!({"id": id, "decision": null, "error": e.to_string()}).to_string()
                }),
                err: Some(format!("error: {e}")),
                agrees: None,
                unreadable: true,
            }
        }
        Loaded::Case { file, case } => {
            let v = case.verdict();
            let out = if summary {
                (v.agrees == Some(false)).then(|| disagreement_line(file, case, &v))
            } else {
                Some(verdict_json(case, &v).to_string())
            };
            Printed {
                out,
                err: None,
                agrees: v.agrees,
                unreadable: false,
            }
        }
    }
}

/// `keyward eval` on `threads` cores (0: all of them). The output is the same whatever the
/// number of threads: every line in input order.
pub fn run(
    paths: &[PathBuf],
    summary: bool,
    threads: usize,
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
    let printed: Vec<Printed> = pool.install(|| {
        load(&files)
            .par_iter()
            .map(|i| render(i, summary))
            .collect()
    });
    let mut tally = Tally::default();
    for p in printed {
        if p.unreadable {
            tally.unreadable += 1;
        } else {
            tally.record(p.agrees);
        }
        if let Some(e) = p.err {
            let _ = writeln!(err, "{e}");
        }
        if let Some(o) = p.out {
            let _ = writeln!(out, "{o}");
        }
    }
    if summary {
        let _ = writeln!(out, "{}", tally.summary_line());
    }
    tally.exit_code()
}
