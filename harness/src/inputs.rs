//! Turning command-line paths into cases: directories are walked for `*.json` / `*.jsonl` in a
//! stable order, `-` is standard input, and ids must be unique within a run.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::case::{read_cases, read_file, Case, CaseError};

/// A case, or why it could not be read, with the file it came from.
pub enum Loaded {
    Case { file: String, case: Box<Case> },
    Error(CaseError),
}

/// Expands paths into files. A path that does not exist is an error.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CaseError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
        } else if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| CaseError {
                file: p.display().to_string(),
                case: None,
                path: "$".into(),
                message: format!("cannot read directory: {e}"),
            })?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(CaseError {
                file: p.display().to_string(),
                case: None,
                path: "$".into(),
                message: "no such file or directory".into(),
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "jsonl")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every case of every file, in order. Later cases reusing an id are errors.
pub fn load(files: &[PathBuf]) -> Vec<Loaded> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for f in files {
        let name = f.display().to_string();
        let cases = read_file(f).and_then(|text| read_cases(&name, &text));
        match cases {
            Err(e) => out.push(Loaded::Error(e)),
            Ok(cases) => {
                for c in cases {
                    out.push(match c {
                        Ok(c) if !seen.insert(c.id.clone()) => Loaded::Error(CaseError {
                            file: name.clone(),
                            case: Some(c.id.clone()),
                            path: "$.id".into(),
                            message: format!(
                                "duplicate id {:?}: ids must be unique within a run",
                                c.id
                            ),
                        }),
                        Ok(c) => Loaded::Case {
                            file: name.clone(),
                            case: Box::new(c),
                        },
                        Err(e) => Loaded::Error(e),
                    });
                }
            }
        }
    }
    out
}
