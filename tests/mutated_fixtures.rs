//! Bad input never panics and always gets a located error: shipped fixtures, cut down to a few
//! cases and laid out as a file (a pretty array as fixtures/ has it, JSON Lines, or one object),
//! are mutated (bytes flipped, deleted, duplicated, cut short; JSON values replaced by a value of
//! another kind, members and elements removed, elements repeated) and read through the case
//! reader; every case that still reads is evaluated.
//!
//! What "located" means here: an error about the whole file names the file, has the path `$`,
//! and says where (the JSON reader's line and column), or that the file holds no case at all; an
//! error about one case names the file, the case (its id, else `#index`, with its line in JSON
//! Lines) and a JSON path under `$`.
//!
//! The coverage-guided fuzz targets (fuzz/, docs/architecture.md "Fuzzing") search further; this
//! is the bounded, reproducible part that runs with `cargo test`.

use std::sync::OnceLock;

use keyward::case::{read_cases, CaseError};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::root;

/// Every fixture file: its name (relative to the repository) and its cases.
fn fixture_files() -> &'static [(String, Vec<Value>)] {
    static FILES: OnceLock<Vec<(String, Vec<Value>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut files = Vec::new();
        let mut dirs = vec![root().join("fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read fixtures/") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).expect("read a fixture");
                    let cases: Vec<Value> = serde_json::from_str(&text).expect("a fixture array");
                    let name = path.strip_prefix(root()).unwrap().display().to_string();
                    files.push((name, cases));
                }
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(files.len() >= 10, "the fixtures are missing: {files:?}");
        files
    })
}

/// How the chosen cases are written out as a file.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// A JSON array, indent 2, as fixtures/ has it.
    Array,
    /// One compact case per line.
    Lines,
    /// The first case alone, as one object.
    Object,
}

/// What a JSON-aware mutation puts in place of the value it picks.
#[derive(Debug, Clone, Copy)]
enum JsonEdit {
    /// A value of another kind than the one there (null, boolean, number, string, array, object).
    OtherKind(u8),
    /// The member or element removed.
    Remove,
    /// The element repeated (an array's), or the value wrapped in an array.
    Repeat,
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Flips one bit of the byte at this position (modulo the length).
    FlipBit { at: usize, bit: u8 },
    /// Deletes up to `len` bytes from the position.
    Delete { at: usize, len: usize },
    /// Inserts a copy of up to `len` bytes from the position right after them.
    Duplicate { at: usize, len: usize },
    /// Cuts the text short at the position.
    Truncate { at: usize },
    /// Edits the value at this node (preorder index, modulo the number of nodes) of the JSON.
    Json { node: usize, edit: JsonEdit },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        8 => (
            any::<usize>(),
            prop_oneof![
                any::<u8>().prop_map(JsonEdit::OtherKind),
                Just(JsonEdit::Remove),
                Just(JsonEdit::Repeat),
            ]
        )
            .prop_map(|(node, edit)| Mutation::Json { node, edit }),
    ]
}

/// Values of every kind, some of them at the edges of what a reader copes with.
fn replacements() -> [Value; 14] {
    [
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(18446744073709551615u64),
        json!(1e300),
        json!(-0.5),
        json!(""),
        json!("*"),
        json!("arn:aws:iam::123456789012:user/\u{0100}é\u{2028}"),
        json!([]),
        json!([null, 1, "x"]),
        json!({"": {}}),
    ]
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Applies `edit` to the node `*n` (counting down in preorder). The root is never removed.
fn edit_node(v: &mut Value, n: &mut usize, edit: JsonEdit) -> bool {
    if *n == 0 {
        match edit {
            JsonEdit::OtherKind(pick) => {
                let options = replacements();
                let start = pick as usize % options.len();
                let other = (0..options.len())
                    .map(|i| &options[(start + i) % options.len()])
                    .find(|o| !same_kind(o, v))
                    .expect("another kind");
                *v = other.clone();
            }
            JsonEdit::Repeat => match v {
                Value::Array(a) if !a.is_empty() => a.push(a[0].clone()),
                _ => *v = Value::Array(vec![v.take()]),
            },
            JsonEdit::Remove => *v = Value::Null,
        }
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => {
            for i in 0..a.len() {
                if *n == 0 && matches!(edit, JsonEdit::Remove) {
                    a.remove(i);
                    return true;
                }
                if edit_node(&mut a[i], n, edit) {
                    return true;
                }
            }
        }
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                if *n == 0 && matches!(edit, JsonEdit::Remove) {
                    o.shift_remove(&k);
                    return true;
                }
                if edit_node(o.get_mut(&k).expect("a member"), n, edit) {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

fn render(cases: &[Value], layout: Layout) -> String {
    match layout {
        Layout::Array => serde_json::to_string_pretty(cases).unwrap() + "\n",
        Layout::Lines => cases.iter().map(|c| format!("{c}\n")).collect(),
        Layout::Object => serde_json::to_string_pretty(&cases[0]).unwrap() + "\n",
    }
}

/// Applies the mutations in order: the JSON-aware ones to the cases (before they are written
/// out), the byte-level ones to the text. Byte edits may leave text that is not UTF-8: it is
/// read lossily, as a file's invalid bytes would be replaced by nothing better.
fn mutate(cases: &[Value], layout: Layout, mutations: &[Mutation]) -> String {
    let mut doc = Value::Array(cases.to_vec());
    for m in mutations {
        if let Mutation::Json { node, edit } = m {
            let mut n = node % count_nodes(&doc);
            edit_node(&mut doc, &mut n, *edit);
        }
    }
    let cases = match doc {
        Value::Array(a) if !a.is_empty() => a,
        other => vec![other],
    };
    let mut bytes = render(&cases, layout).into_bytes();
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::FlipBit { at, bit } if !bytes.is_empty() => bytes[at % len] ^= 1 << bit,
            Mutation::Delete { at, len: n } if !bytes.is_empty() => {
                let at = at % len;
                bytes.drain(at..(at + n).min(bytes.len()));
            }
            Mutation::Duplicate { at, len: n } if !bytes.is_empty() => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
            Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Why an error is not located, or `None` when it is.
fn unlocated(file: &str, text: &str, e: &CaseError, whole_file: bool) -> Option<String> {
    if e.file != file {
        return Some(format!("names the file {:?}, not {file:?}", e.file));
    }
    if e.message.trim().is_empty() {
        return Some("says nothing".into());
    }
    if whole_file {
        if e.case.is_some() || e.path != "$" {
            return Some("a whole-file error names a case or a path inside one".into());
        }
        let positioned = e.message.contains(" line ") && e.message.contains(" column ");
        let no_case = (e.message == "the file is empty" && text.trim().is_empty())
            || e.message.starts_with("not JSON: ");
        if !(positioned || no_case) {
            return Some("a whole-file error says neither where nor that no case is there".into());
        }
        return None;
    }
    let Some(case) = &e.case else {
        return Some("an error in a case does not name the case".into());
    };
    if case.is_empty() {
        return Some("names an empty case".into());
    }
    if let Some(label) = case.strip_prefix('#') {
        // `#index`, or `#index (line n)` in JSON Lines, with a line that is in the file.
        let (index, line) = match label.split_once(" (line ") {
            Some((i, l)) => (i, l.strip_suffix(')').map(str::parse::<usize>)),
            None => (label, None),
        };
        if index.parse::<usize>().is_err() {
            return Some(format!("the case {case:?} has no index"));
        }
        match line {
            Some(Ok(l)) if l == 0 || l > text.split('\n').count() => {
                return Some(format!(
                    "the case {case:?} names a line the file does not have"
                ))
            }
            Some(Err(_)) => return Some(format!("the case {case:?} names no line")),
            _ => {}
        }
    } else if !text.contains(case.as_str()) && !text.contains(&json!(case).to_string()) {
        return Some(format!("the case id {case:?} is not in the file"));
    }
    if !e.path.starts_with('$') {
        return Some(format!("the path {:?} is not a JSON path", e.path));
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic_and_errors_are_located(
        file in any::<prop::sample::Index>(),
        first in any::<prop::sample::Index>(),
        count in 1usize..4,
        layout in prop_oneof![Just(Layout::Array), Just(Layout::Lines), Just(Layout::Object)],
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (name, cases) = file.get(fixture_files());
        let start = first.index(cases.len());
        let chosen = &cases[start..(start + count).min(cases.len())];
        let text = mutate(chosen, layout, &mutations);
        match read_cases(name, &text) {
            Err(e) => {
                if let Some(why) = unlocated(name, &text, &e, true) {
                    return Err(TestCaseError::fail(format!("{why}: {e}\n--- text:\n{text}")));
                }
            }
            Ok(read) => {
                for case in read {
                    match case {
                        Ok(case) => {
                            let _ = case.verdict();
                        }
                        Err(e) => {
                            if let Some(why) = unlocated(name, &text, &e, false) {
                                return Err(TestCaseError::fail(format!("{why}: {e}\n--- text:\n{text}")));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The mutations do what they say: a JSON-aware edit changes the kind of a value, and the
/// byte-level ones change the text; otherwise the property above would test unmutated fixtures.
#[test]
fn mutations_change_the_fixture() {
    let (_, cases) = &fixture_files()[0];
    let chosen = &cases[..1];
    let plain = render(chosen, Layout::Array);
    let edits = [
        Mutation::FlipBit { at: 10, bit: 3 },
        Mutation::Delete { at: 5, len: 3 },
        Mutation::Duplicate { at: 5, len: 3 },
        Mutation::Truncate { at: 7 },
        Mutation::Json {
            node: 1,
            edit: JsonEdit::OtherKind(0),
        },
        Mutation::Json {
            node: 2,
            edit: JsonEdit::Remove,
        },
        Mutation::Json {
            node: 2,
            edit: JsonEdit::Repeat,
        },
    ];
    for m in edits {
        let text = mutate(chosen, Layout::Array, std::slice::from_ref(&m));
        assert_ne!(text, plain, "{m:?} left the text as it was");
    }
    // Node 1 is the first case (node 0 is the array): replaced by a value of another kind.
    let text = mutate(
        chosen,
        Layout::Array,
        &[Mutation::Json {
            node: 1,
            edit: JsonEdit::OtherKind(0),
        }],
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(!v[0].is_object(), "{text}");
}
