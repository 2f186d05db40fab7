//! `keyward check`: the main job. Replays every fixture and reports agreements and
//! disagreements per provenance; the last line is `N passed, M failed`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use super::eval::disagreement_line;
use super::{Tally, EXIT_BAD_INPUT};
use crate::inputs::{expand, load, Loaded};

pub struct CheckOptions {
    pub fixtures: PathBuf,
}

pub fn run(opts: &CheckOptions, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if !opts.fixtures.is_dir() {
        let _ = writeln!(
            err,
            "error: {}: no fixtures directory (pass --fixtures DIR, or run from the repository root)",
            opts.fixtures.display()
        );
        return EXIT_BAD_INPUT;
    }
    let files = match expand(std::slice::from_ref(&opts.fixtures)) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // Per provenance: agreements, disagreements, and cases without an expectation.
    let mut per: BTreeMap<String, (Tally, usize)> = BTreeMap::new();
    let mut total = Tally::default();
    let mut lines = Vec::new();
    for item in load(&files) {
        match item {
            Loaded::Error(e) => {
                total.unreadable += 1;
                let _ = writeln!(err, "error: {e}");
                lines.push(format!("UNREADABLE {e}"));
            }
            Loaded::Case { file, case } => {
                let key = case
                    .provenance
                    .map_or("(no provenance)", |p| p.as_str())
                    .to_string();
                let slot = per.entry(key).or_default();
                let v = case.verdict();
                total.record(v.agrees);
                slot.0.record(v.agrees);
                match v.agrees {
                    Some(false) => lines.push(disagreement_line(&file, &case, &v)),
                    None => slot.1 += 1,
                    Some(true) => {}
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "keyward check: fixtures under {} ({} files)",
        opts.fixtures.display(),
        files.len()
    );
    let _ = writeln!(out, "oracle local-evaluator vs fixture store:");
    for (prov, (t, n)) in &per {
        let _ = write!(
            out,
            "  {prov:<12} {} agree, {} disagree",
            t.passed, t.failed
        );
        if *n > 0 {
            let _ = write!(out, ", {n} without expectation");
        }
        let _ = writeln!(out);
    }
    for l in &lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = writeln!(out, "{}", total.summary_line());
    total.exit_code()
}
