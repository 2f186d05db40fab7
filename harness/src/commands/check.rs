//! `keyward check`: the main job. Replays every fixture and reports agreements and
//! disagreements per provenance; the last line is `N passed, M failed`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use super::eval::disagreement_line;
use super::{EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
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
    let mut per: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let (mut passed, mut failed, mut unreadable) = (0usize, 0usize, 0usize);
    let mut lines = Vec::new();
    for item in load(&files) {
        match item {
            Loaded::Error(e) => {
                unreadable += 1;
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
                match v.agrees {
                    Some(true) => {
                        passed += 1;
                        slot.0 += 1;
                    }
                    Some(false) => {
                        failed += 1;
                        slot.1 += 1;
                        lines.push(disagreement_line(&file, &case, &v));
                    }
                    None => slot.2 += 1,
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
    for (prov, (p, f, n)) in &per {
        let _ = write!(out, "  {prov:<12} {p} agree, {f} disagree");
        if *n > 0 {
            let _ = write!(out, ", {n} without expectation");
        }
        let _ = writeln!(out);
    }
    for l in &lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = writeln!(out, "{passed} passed, {} failed", failed + unreadable);
    if unreadable > 0 {
        EXIT_BAD_INPUT
    } else if failed > 0 {
        EXIT_DISAGREE
    } else {
        EXIT_OK
    }
}
