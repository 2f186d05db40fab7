//! Where things sit in a JSON file: a reader that keeps the line and column of every value and
//! member, so that an error, a lint or a disagreement can name `FILE:LINE:COLUMN` beside its
//! JSON path. The case reader parses with serde; this one is asked afterwards, only for what is
//! reported, and only of text serde already accepted (anything else is `None`, never an error).
//!
//! Lines and columns count from 1; a column counts UTF-16 code units, as SARIF's default
//! `columnKind` does (for ASCII, characters).

use std::fmt;

/// A line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in UTF-16 code units.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A JSON value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts (its `{`, `[`, `"` or first character).
    pub at: Position,
    /// What it holds.
    pub kind: NodeKind,
}

/// The shape of a [`Node`]: scalars are not kept, only where they are.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// Members in order, each with where its key starts.
    Object(Vec<(String, Position, Node)>),
    /// Elements in order.
    Array(Vec<Node>),
    /// A string, number, boolean or null.
    Scalar,
}

impl Node {
    /// The member `name` (the last one, as serde keeps the last of duplicate keys).
    pub fn member(&self, name: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _, _)| k == name)
                .map(|(_, _, n)| n),
            _ => None,
        }
    }

    /// Element `i` of an array.
    pub fn element(&self, i: usize) -> Option<&Node> {
        match &self.kind {
            NodeKind::Array(items) => items.get(i),
            _ => None,
        }
    }

    /// The value at a JSON path as keyward writes them (`$.policies.scp[0][1]`,
    /// `$.a["b.c"]`), from this node as `$`.
    pub fn at_path(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for step in steps(path)? {
            node = match step {
                Step::Member(name) => node.member(&name)?,
                Step::Index(i) => node.element(i)?,
            };
        }
        Some(node)
    }

    /// Statement `i` of the policy document (or `{"document": ...}` wrapper) at this node:
    /// `Statement` may be one object, which is statement 0.
    pub fn statement(&self, i: usize) -> Option<&Node> {
        let doc = self.member("document").unwrap_or(self);
        let statements = doc.member("Statement")?;
        match &statements.kind {
            NodeKind::Array(_) => statements.element(i),
            NodeKind::Object(_) if i == 0 => Some(statements),
            _ => None,
        }
    }
}

enum Step {
    Member(String),
    Index(usize),
}

/// The steps of a path: `.name` (up to the next `.` or `[`), `["name"]`, `[i]`.
fn steps(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Step::Member(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("[\"") {
            // A JSON string up to its closing quote.
            let mut de = serde_json::Deserializer::from_str(&rest[1..]).into_iter::<String>();
            let name = de.next()?.ok()?;
            let used = de.byte_offset();
            let after = r.get(used - 1..)?.strip_prefix(']')?;
            out.push(Step::Member(name));
            rest = after;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Step::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(out)
}

/// Reads `text` (one JSON value) into nodes with their positions; `None` unless it is JSON.
pub fn parse(text: &str) -> Option<Node> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        column: 1,
    };
    p.blank();
    let node = p.value(0)?;
    p.blank();
    (p.i == p.s.len()).then_some(node)
}

/// The byte ranges of the elements of the array `text` holds, in order, found without building
/// their trees (a large file's cases are placed one element at a time); `None` unless `text` is
/// an array. Strings are skipped as JSON writes them; `text` must be JSON.
pub fn array_elements(text: &str) -> Option<Vec<std::ops::Range<usize>>> {
    let b = text.as_bytes();
    let mut i = b.iter().position(|c| !c.is_ascii_whitespace())?;
    if b[i] != b'[' {
        return None;
    }
    i += 1;
    let (mut out, mut depth, mut start) = (Vec::new(), 0usize, None);
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                start.get_or_insert(i);
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => {
                start.get_or_insert(i);
                depth += 1;
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            b',' | b']' if depth == 0 => {
                if let Some(s) = start.take() {
                    out.push(s..text[..i].trim_end().len());
                }
                if c == b']' {
                    return Some(out);
                }
            }
            c if !c.is_ascii_whitespace() => {
                start.get_or_insert(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The position of byte `offset` of `text`, whose lines start at `line_starts`.
pub fn position_of(text: &str, line_starts: &[usize], offset: usize) -> Position {
    let line = line_starts.partition_point(|&s| s <= offset).max(1);
    let start = line_starts[line - 1];
    Position {
        line,
        column: text[start..offset].encode_utf16().count() + 1,
    }
}

/// Where each line of `text` starts (the first at 0), lines ending at `\n` as `str::lines`
/// ends them.
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// Deeper than this is not read (serde_json's own limit is 128).
const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    column: usize,
}

impl Parser<'_> {
    fn at(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    /// Moves past one character, counting lines and UTF-16 columns.
    fn bump(&mut self) -> Option<u8> {
        let b = *self.s.get(self.i)?;
        if b == b'\n' {
            self.line += 1;
            self.column = 1;
            self.i += 1;
        } else if b < 0x80 {
            self.column += 1;
            self.i += 1;
        } else {
            let c = self.text[self.i..].chars().next()?;
            self.column += c.len_utf16();
            self.i += c.len_utf8();
        }
        Some(b)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.bump()? == b).then_some(())
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let at = self.at();
        let kind = match self.peek()? {
            b'{' => {
                self.bump();
                let mut members = Vec::new();
                self.blank();
                if self.peek()? == b'}' {
                    self.bump();
                } else {
                    loop {
                        self.blank();
                        let key_at = self.at();
                        let key = self.string()?;
                        self.blank();
                        self.expect(b':')?;
                        self.blank();
                        let v = self.value(depth + 1)?;
                        members.push((key, key_at, v));
                        self.blank();
                        match self.bump()? {
                            b',' => continue,
                            b'}' => break,
                            _ => return None,
                        }
                    }
                }
                NodeKind::Object(members)
            }
            b'[' => {
                self.bump();
                let mut items = Vec::new();
                self.blank();
                if self.peek()? == b']' {
                    self.bump();
                } else {
                    loop {
                        self.blank();
                        items.push(self.value(depth + 1)?);
                        self.blank();
                        match self.bump()? {
                            b',' => continue,
                            b']' => break,
                            _ => return None,
                        }
                    }
                }
                NodeKind::Array(items)
            }
            b'"' => {
                self.string()?;
                NodeKind::Scalar
            }
            _ => {
                // A number or a literal: up to the next delimiter.
                let start = self.i;
                while matches!(self.peek(), Some(b) if !b" \t\r\n,]}:".contains(&b)) {
                    self.bump();
                }
                if self.i == start {
                    return None;
                }
                NodeKind::Scalar
            }
        };
        Some(Node { at, kind })
    }

    /// A JSON string, decoded (by serde, so escapes read as serde reads them).
    fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.expect(b'"')?;
        loop {
            match self.bump()? {
                b'"' => break,
                b'\\' => {
                    self.bump()?;
                }
                _ => {}
            }
        }
        serde_json::from_str(&self.text[start..self.i]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_utf16_columns() {
        let text = "{\n  \"a\": [1, {\"b\": \"é😀\", \"c\": true}],\n  \"d\": \"x\"\n}\n";
        let n = parse(text).unwrap();
        assert_eq!(n.at, Position { line: 1, column: 1 });
        assert_eq!(
            n.at_path("$.a[1]").unwrap().at,
            Position {
                line: 2,
                column: 12
            }
        );
        // "é😀" is 1 + 2 UTF-16 units: `"c"`'s value starts after it.
        let c = n.at_path("$.a[1].c").unwrap().at;
        assert_eq!(
            c,
            Position {
                line: 2,
                column: 30
            }
        );
        assert_eq!(
            n.at_path("$.d").unwrap().at,
            Position { line: 3, column: 8 }
        );
        assert_eq!(
            n.at_path("$[\"d\"]").unwrap().at,
            Position { line: 3, column: 8 }
        );
        assert!(n.at_path("$.a[2]").is_none());
        assert!(n.at_path("$.zz").is_none());
    }

    #[test]
    fn a_statement_is_found_in_an_array_an_object_or_a_wrapper() {
        let list = parse(r#"{"Statement": [{"Sid": "a"}, {"Sid": "b"}]}"#).unwrap();
        assert_eq!(list.statement(1).unwrap().at.column, 30);
        let one = parse(r#"{"Statement": {"Sid": "a"}}"#).unwrap();
        assert_eq!(one.statement(0).unwrap().at.column, 15);
        assert!(one.statement(1).is_none());
        let wrapped = parse(r#"{"name": "n", "document": {"Statement": {"Sid": "a"}}}"#).unwrap();
        assert_eq!(wrapped.statement(0).unwrap().at.column, 41);
    }

    fn json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-zé😀\"\\\n /]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z:.\"é]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Every value's path (as keyward writes paths) and what starts at its position in the
    /// text, checked against serde's own tree: the character there opens a value of its kind.
    fn each_path(v: &serde_json::Value, path: String, out: &mut Vec<(String, serde_json::Value)>) {
        out.push((path.clone(), v.clone()));
        match v {
            serde_json::Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    each_path(x, format!("{path}[{i}]"), out);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let step = if k.contains(['.', '[', '"']) {
                        format!("[{}]", serde_json::to_string(k).unwrap())
                    } else {
                        format!(".{k}")
                    };
                    each_path(x, format!("{path}{step}"), out);
                }
            }
            _ => {}
        }
    }

    proptest::proptest! {
        #[test]
        fn every_value_is_found_where_it_starts(v in json(), pretty in proptest::bool::ANY) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let root = parse(&text).unwrap();
            let lines: Vec<&str> = text.split('\n').collect();
            let mut paths = Vec::new();
            each_path(&v, "$".into(), &mut paths);
            for (path, value) in paths {
                let node = root.at_path(&path);
                proptest::prop_assert!(node.is_some(), "{} in {}", path, text);
                let at = node.unwrap().at;
                // The column counts UTF-16 units: walk the line to it.
                let line = lines[at.line - 1];
                let mut units = 1;
                let c = line.chars().find(|c| {
                    let here = units == at.column;
                    units += c.len_utf16();
                    here
                });
                let want = match &value {
                    serde_json::Value::Null => 'n',
                    serde_json::Value::Bool(true) => 't',
                    serde_json::Value::Bool(false) => 'f',
                    serde_json::Value::Number(n) => n.to_string().chars().next().unwrap(),
                    serde_json::Value::String(_) => '"',
                    serde_json::Value::Array(_) => '[',
                    serde_json::Value::Object(_) => '{',
                };
                proptest::prop_assert_eq!(c, Some(want), "{} at {} in {}", path, at, text);
            }
        }
    }

    #[test]
    fn an_arrays_elements_are_found_without_their_trees() {
        let text = "[\n  {\"a\": [1, \"],{\"]},\n  \"x\\\"y\" , 2,[ ]\n]";
        let e = array_elements(text).unwrap();
        let parts: Vec<&str> = e.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(parts, ["{\"a\": [1, \"],{\"]}", "\"x\\\"y\"", "2", "[ ]"]);
        let starts = line_starts(text);
        assert_eq!(
            position_of(text, &starts, e[1].start),
            Position { line: 3, column: 3 }
        );
        assert_eq!(
            array_elements("[]").unwrap(),
            Vec::<std::ops::Range<usize>>::new()
        );
        assert!(array_elements("{}").is_none());
    }

    proptest::proptest! {
        /// JSON cut short or with a byte replaced: refused, never a panic.
        #[test]
        fn broken_json_is_refused_without_a_panic(
            v in json(),
            cut in proptest::num::usize::ANY,
            with in proptest::sample::select(vec!["", ",", "]", "}", "\"", "\\", "é"]),
        ) {
            let text = serde_json::to_string_pretty(&v).unwrap();
            let mut at = cut % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let broken = format!("{}{with}{}", &text[..at], &text[at..].chars().skip(1).collect::<String>());
            let _ = (parse(&broken), array_elements(&broken));
            if serde_json::from_str::<serde_json::Value>(&broken).is_ok() {
                proptest::prop_assert!(parse(&broken).is_some(), "{:?}", broken);
            }
        }

        /// Any text, JSON or not: no panic; what serde reads, this reader reads too; an array's
        /// elements are found (the locator asks about files that may have changed on disk).
        #[test]
        fn any_text_is_read_or_refused_without_a_panic(
            text in "[\\[\\]{}\",:\\\\ \n\r\ta-z0-9.eé😀-]{0,40}",
        ) {
            let parsed = parse(&text);
            let elements = array_elements(&text);
            if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
                proptest::prop_assert!(parsed.is_some(), "{:?}", text);
                if let Some(NodeKind::Array(items)) = parsed.as_ref().map(|n| &n.kind) {
                    proptest::prop_assert_eq!(elements.map(|e| e.len()), Some(items.len()));
                }
            }
        }
    }

    #[test]
    fn what_is_not_json_has_no_positions() {
        for bad in ["", "{", "[1,]x", "{\"a\" 1}", "\"open"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
