//! From the places the readers keep to `FILE:LINE:COLUMN`: a policy's [`Source`] and a
//! statement index, a case's [`CasePlace`], an unreadable case's error path. Files are read
//! again and parsed with [`span`] only when something in them is reported, each once.

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use keyward_iam::{PolicySet, Source, StatementRef};

use crate::case::span::{self, Node, Position};
use crate::case::{CaseError, CasePlace};

/// Files larger than this are not read again to place a finding in them (the case reader
/// streams them); a JSON Lines finding still gets its line.
const MAX_LOCATED_FILE: u64 = 64 << 20;

/// What a report points at: a JSON path in a file (from the file's root, or from the root of
/// one JSON Lines line), and for a policy, one of its statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The file, as the reader was given it.
    pub file: String,
    /// For JSON Lines, the line the path starts on.
    pub line: Option<usize>,
    /// The JSON path (`$.policies.scp[0][1]`).
    pub path: String,
    /// A statement of the policy document at `path` (`Statement` may be one object, and the
    /// document a `{"document": ...}` wrapper).
    pub statement: Option<usize>,
}

impl Target {
    /// A case, at its place in `file`.
    pub fn case(file: &str, place: &CasePlace) -> Target {
        Target {
            file: file.to_string(),
            line: place.line,
            path: place.path.clone(),
            statement: None,
        }
    }

    /// What an unreadable case's error names: its path from its item's place, else the file.
    pub fn error(e: &CaseError) -> Target {
        let (line, path) = match &e.place {
            Some(p) => (
                p.line,
                format!("{}{}", p.path, e.path.strip_prefix('$').unwrap_or("")),
            ),
            None => (None, "$".into()),
        };
        Target {
            file: e.file.clone(),
            line,
            path,
            statement: None,
        }
    }

    /// Statement `r` of `set`, where its policy was read from.
    pub fn statement(set: &PolicySet, r: &StatementRef) -> Option<Target> {
        let source = set.policy(r)?.meta().source.as_ref()?;
        Some(Target::of_source(source, Some(r.statement)))
    }

    /// A policy document (or one of its statements) at `source`.
    pub fn of_source(source: &Source, statement: Option<usize>) -> Target {
        Target {
            file: source.file.to_string(),
            line: source.line,
            path: source.path.clone(),
            statement,
        }
    }
}

/// A file and a position in it, written `FILE:LINE:COLUMN` as compilers write them (editors and
/// terminals turn that form into links).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub at: Position,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.at)
    }
}

/// Places targets, reading and parsing each file (or JSON Lines line) once.
#[derive(Default)]
pub struct Locator {
    trees: HashMap<(String, Option<usize>), Option<Node>>,
}

impl Locator {
    /// Where `t` sits: the value at its path (or, when the path names something absent such as
    /// a missing field, its nearest enclosing value); `None` when the file cannot be read again
    /// or is too large, except that a JSON Lines target still gets its line.
    pub fn locate(&mut self, t: &Target) -> Option<Location> {
        let found = self.tree(&t.file, t.line).and_then(|root| {
            let node = nearest(root, &t.path)?;
            Some(match t.statement {
                Some(i) => node.statement(i).unwrap_or(node).at,
                None => node.at,
            })
        });
        let at = match (found, t.line) {
            // Positions inside a JSON Lines line count from that line.
            (Some(p), Some(line)) => Position {
                line: line + p.line - 1,
                column: p.column,
            },
            (Some(p), None) => p,
            (None, Some(line)) => Position { line, column: 1 },
            (None, None) => return None,
        };
        Some(Location {
            file: t.file.clone(),
            at,
        })
    }

    fn tree(&mut self, file: &str, line: Option<usize>) -> Option<&Node> {
        self.trees
            .entry((file.to_string(), line))
            .or_insert_with(|| read_text(file, line).as_deref().and_then(span::parse))
            .as_ref()
    }
}

/// The value at `path`, or at its longest prefix that exists.
fn nearest<'n>(root: &'n Node, path: &str) -> Option<&'n Node> {
    let mut p = path;
    loop {
        if let Some(n) = root.at_path(p) {
            return Some(n);
        }
        // Drop the last step: `.name`, `["name"]` or `[i]`.
        let cut = p.rfind(['.', '['])?;
        p = &p[..cut];
    }
}

/// The text of `file`, or of its line `line`; `None` for standard input, a file that cannot be
/// read, or one too large to read again.
fn read_text(file: &str, line: Option<usize>) -> Option<String> {
    if file == "-" || std::fs::metadata(file).ok()?.len() > MAX_LOCATED_FILE {
        return None;
    }
    match line {
        None => std::fs::read_to_string(file).ok(),
        Some(n) => {
            let f = std::io::BufReader::new(std::fs::File::open(file).ok()?);
            f.lines().nth(n.checked_sub(1)?)?.ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_member_is_placed_at_the_value_that_lacks_it() {
        let root = span::parse("{\n  \"request\": {\n    \"action\": 1\n  }\n}").unwrap();
        assert_eq!(nearest(&root, "$.request.principal").unwrap().at.line, 2);
        assert_eq!(nearest(&root, "$.request.action").unwrap().at.line, 3);
        assert_eq!(nearest(&root, "$[4]").unwrap().at.line, 1);
    }
}
