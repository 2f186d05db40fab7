//! From the places the readers keep to `FILE:LINE:COLUMN`: a policy's [`Source`] and a
//! statement index, a case's [`CasePlace`], an unreadable case's error path. Files are read
//! again and parsed with [`span`] only when something in them is reported, each once.

use std::collections::HashMap;
use std::fmt;

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

/// Places targets. Each file is read once (its text and where its lines start are kept); a
/// target is placed by parsing only the text it is in: its JSON Lines line, its element of an
/// array file, or the whole of a small file (whose tree is kept). So placing every case of a
/// large file costs one read and one pass, not one per case.
#[derive(Default)]
pub struct Locator {
    files: HashMap<String, Option<Indexed>>,
}

/// A file read for placing targets in it.
struct Indexed {
    text: String,
    line_starts: Vec<usize>,
    /// For a file holding an array, where each element is; `None` until asked.
    elements: Option<Option<Vec<std::ops::Range<usize>>>>,
    /// The tree of a small file that is not an array (kept: its targets are many).
    tree: Option<Option<Node>>,
}

/// A whole file's tree is kept up to this size (the case reader's block): above it, a file
/// holding one object is parsed for each target, and an array only element by element.
const MAX_KEPT_TREE: usize = crate::case::stream::BLOCK;

impl Locator {
    /// Where `t` sits: the value at its path (or, when the path names something absent such as
    /// a missing field, its nearest enclosing value). `None` for standard input, for a file
    /// that cannot be read again, or one too large to (but a JSON Lines target in a file too
    /// large still gets its line).
    pub fn locate(&mut self, t: &Target) -> Option<Location> {
        if t.file == "-" {
            return None;
        }
        let found = self.find(t);
        let at = match (found, t.line) {
            (Some(p), _) => p,
            (None, Some(line)) => Position { line, column: 1 },
            (None, None) => return None,
        };
        Some(Location {
            file: t.file.clone(),
            at,
        })
    }

    fn find(&mut self, t: &Target) -> Option<Position> {
        let f = self
            .files
            .entry(t.file.clone())
            .or_insert_with(|| Indexed::read(&t.file))
            .as_mut()?;
        // The text the target's path starts from, where that text starts, and the path in it.
        let (start, path): (usize, std::borrow::Cow<'_, str>) = match t.line {
            Some(n) => (
                *f.line_starts.get(n.checked_sub(1)?)?,
                t.path.as_str().into(),
            ),
            None => match element_step(&t.path) {
                Some((i, rest)) if f.elements().is_some() => {
                    let range = f.elements()?.get(i)?.clone();
                    (range.start, format!("${rest}").into())
                }
                _ => {
                    let node = f.tree()?;
                    return Some(place(nearest(node, &t.path)?, t.statement));
                }
            },
        };
        let end = match t.line {
            Some(n) => f.line_starts.get(n).map_or(f.text.len(), |&e| e - 1),
            None => f.elements()?.iter().find(|r| r.start == start)?.end,
        };
        let root = span::parse(f.text.get(start..end)?)?;
        let inner = place(nearest(&root, &path)?, t.statement);
        let base = span::position_of(&f.text, &f.line_starts, start);
        // Positions inside that text count from where it starts.
        Some(Position {
            line: base.line + inner.line - 1,
            column: if inner.line == 1 {
                base.column + inner.column - 1
            } else {
                inner.column
            },
        })
    }
}

impl Indexed {
    fn read(file: &str) -> Option<Indexed> {
        if std::fs::metadata(file).ok()?.len() > MAX_LOCATED_FILE {
            return None;
        }
        let text = std::fs::read_to_string(file).ok()?;
        let line_starts = span::line_starts(&text);
        Some(Indexed {
            text,
            line_starts,
            elements: None,
            tree: None,
        })
    }

    fn elements(&mut self) -> Option<&Vec<std::ops::Range<usize>>> {
        let text = &self.text;
        self.elements
            .get_or_insert_with(|| span::array_elements(text))
            .as_ref()
    }

    /// The whole file's tree: kept when the file is small.
    fn tree(&mut self) -> Option<&Node> {
        if self.text.len() > MAX_KEPT_TREE {
            // Parsed again for each target: a large file that is one object is rare.
            self.tree = Some(span::parse(&self.text));
            return self.tree.as_ref()?.as_ref();
        }
        let text = &self.text;
        self.tree.get_or_insert_with(|| span::parse(text)).as_ref()
    }
}

/// Where the value `node` (or statement `statement` of the policy it holds) starts.
fn place(node: &Node, statement: Option<usize>) -> Position {
    match statement {
        Some(i) => node.statement(i).unwrap_or(node).at,
        None => node.at,
    }
}

/// `$[i]...`: the element index and the rest of the path.
fn element_step(path: &str) -> Option<(usize, &str)> {
    let rest = path.strip_prefix("$[")?;
    let end = rest.find(']')?;
    Some((rest[..end].parse().ok()?, &rest[end + 1..]))
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
