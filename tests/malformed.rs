//! The malformed-input corpus (tests/malformed/): bad policies and bad case files, each run
//! through the real `keyward` binary and held to its *specific* error: the file, the case (id, or
//! `#index` when it has none), the JSON path and a distinctive part of the reason, exit code 2,
//! and no panic. The good cases mixed in with the bad ones must still be evaluated.
//!
//! The corpus describes itself: in a JSON Lines file, each record follows the line that says
//! what keyward must print for it, one of
//!
//! ```text
//! // expect: error <JSON path>: <part of the message>[ … <another part>]
//! // expect: decision <allow | implicit_deny | explicit_deny>, agrees <true | null>
//! ```
//!
//! (`agrees null`: the case has no `expect`). A file that cannot carry such lines before its
//! records (a JSON array, a file whose first line is what it tests) has them, in record order, in
//! a sidecar `<file>.expect`; so does a file unreadable as a whole, as its one line
//! `// expect: file error: <part of the message>`. Other `//` lines are comments. The case names
//! are not written down: a record is named by its `id`, else by its index (and line).
//!
//! To add a bad input: append it to the group file under tests/malformed/, with a `// why`
//! comment and its `// expect:` line above it. The directory-wide test fails if the corpus holds
//! an error that no expectation names. tests/malformed/dup/ (an id repeated across files) has its
//! own test.

use std::path::Path;

use serde_json::Value;

use crate::support::{json_lines, keyward, keyward_with_input, root, stderr, stdout};

const DIR: &str = "tests/malformed";

const STMT: &str = "policy-statement.jsonl";
const LINES: &str = "lines-mixed.jsonl";

/// IAM's generic text for structural problems.
const SYNTAX: &str = "MalformedPolicyDocument: Syntax errors in policy.";

/// What one case of a file must produce on `eval`'s standard output.
#[derive(Debug)]
enum Want {
    /// `{"id": case, "decision": null, "error": "FILE: case CASE: PATH: ..."}`, the message
    /// holding every fragment.
    Error { path: String, msg: Vec<String> },
    /// A readable case, still evaluated: its decision, and `agrees` (None: no `expect`).
    Decision {
        decision: String,
        agrees: Option<bool>,
    },
}

#[derive(Debug)]
struct Row {
    /// Relative to tests/malformed.
    file: String,
    /// The id, or `#index` / `#index (line n)` for a case without one.
    case: String,
    want: Want,
}

/// What a corpus file must produce.
enum Expected {
    /// One row per case, in file order.
    Cases(Vec<Row>),
    /// One error for the whole file (case-less, path `$`), its message holding this fragment.
    WholeFile(String),
}

struct CorpusFile {
    /// Relative to tests/malformed.
    file: String,
    expected: Expected,
}

/// Every corpus file but dup/'s, in the order `eval` reads a directory, with its expectations.
fn corpus() -> Vec<CorpusFile> {
    let mut files = Vec::new();
    collect(&root().join(DIR), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|rel| {
            let expected = expectations(&rel);
            CorpusFile {
                file: rel,
                expected,
            }
        })
        .collect()
}

/// The case files under `dir` (what keyward reads: `.json` and `.jsonl`), relative to the
/// corpus, dup/ left out.
fn collect(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root().join(DIR))
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        if path.is_dir() {
            if rel != "dup" {
                collect(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "jsonl")
        {
            out.push(rel);
        }
    }
}

/// One `// expect:` line, without the prefix.
enum Line {
    Case(Want),
    WholeFile(String),
}

/// Reads one expectation (`at` names its place for the failure message).
fn parse_expect(text: &str, at: &str) -> Line {
    if let Some(fragment) = text.strip_prefix("file error: ") {
        return Line::WholeFile(fragment.to_string());
    }
    if let Some(rest) = text.strip_prefix("error ") {
        let (path, msg) = rest
            .split_once(": ")
            .unwrap_or_else(|| panic!("{at}: `expect: error` needs `<path>: <message>`"));
        return Line::Case(Want::Error {
            path: path.to_string(),
            msg: msg.split(" … ").map(str::to_string).collect(),
        });
    }
    if let Some(rest) = text.strip_prefix("decision ") {
        let (decision, agrees) = match rest.split_once(", agrees ") {
            Some((d, "true")) => (d, Some(true)),
            Some((d, "null")) => (d, None),
            _ => panic!("{at}: `expect: decision` needs `<decision>, agrees <true | null>`"),
        };
        return Line::Case(Want::Decision {
            decision: decision.to_string(),
            agrees,
        });
    }
    panic!("{at}: unknown expectation {text:?}")
}

/// The expectation lines of `text`: (line number, expectation).
fn expect_lines(text: &str, name: &str) -> Vec<(usize, Line)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let e = l.trim().strip_prefix("// expect: ")?;
            Some((i + 1, parse_expect(e, &format!("{name}:{}", i + 1))))
        })
        .collect()
}

/// The name keyward gives a record: its `id` when that is a non-empty string, else its index,
/// and its line in JSON Lines.
fn case_name(record: Option<&Value>, index: usize, line: Option<usize>) -> String {
    match record.and_then(|v| v.get("id")).and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => match line {
            Some(l) => format!("#{index} (line {l})"),
            None => format!("#{index}"),
        },
    }
}

/// The records of a case file: (name, line of the record in JSON Lines).
fn records(text: &str) -> Vec<(String, Option<usize>)> {
    if text.trim_start().starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            return vec![(case_name(Some(&v), 0, None), None)];
        }
    }
    if text.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(text).expect("a JSON array of cases");
        return items
            .iter()
            .enumerate()
            .map(|(i, v)| (case_name(Some(v), i, None), None))
            .collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim().starts_with("//"))
        .enumerate()
        .map(|(i, (n, l))| {
            let v = serde_json::from_str(l.trim()).ok();
            (case_name(v.as_ref(), i, Some(n + 1)), Some(n + 1))
        })
        .collect()
}

/// What `rel` must produce: from its sidecar `<rel>.expect` when it has one, else from the
/// `// expect:` line before each of its records.
fn expectations(rel: &str) -> Expected {
    let path = root().join(DIR).join(rel);
    let sidecar = path.with_file_name(format!(
        "{}.expect",
        path.file_name().unwrap().to_str().unwrap()
    ));
    let name = format!("{DIR}/{rel}");
    if sidecar.exists() {
        let side = std::fs::read_to_string(&sidecar).unwrap();
        let lines = expect_lines(&side, &format!("{name}.expect"));
        if let [(_, Line::WholeFile(fragment))] = &lines[..] {
            return Expected::WholeFile(fragment.clone());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let recs = records(&text);
        assert_eq!(
            lines.len(),
            recs.len(),
            "{name}.expect: one expectation per case of {name}, in order"
        );
        let rows = recs
            .into_iter()
            .zip(lines)
            .map(|((case, _), (n, line))| match line {
                Line::Case(want) => Row {
                    file: rel.to_string(),
                    case,
                    want,
                },
                Line::WholeFile(_) => {
                    panic!("{name}.expect:{n}: a file error is the file's only expectation")
                }
            })
            .collect();
        return Expected::Cases(rows);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = expect_lines(&text, &name).into_iter().peekable();
    let mut rows = Vec::new();
    for (case, line) in records(&text) {
        let line = line.expect("JSON Lines");
        let (n, e) = lines
            .next_if(|(n, _)| *n < line)
            .unwrap_or_else(|| panic!("{name}:{line}: no `// expect:` line before this record"));
        assert!(
            lines.peek().is_none_or(|(m, _)| *m > line),
            "{name}:{line}: two `// expect:` lines before this record"
        );
        match e {
            Line::Case(want) => rows.push(Row {
                file: rel.to_string(),
                case,
                want,
            }),
            Line::WholeFile(_) => panic!("{name}:{n}: a file error belongs in {rel}.expect"),
        }
    }
    if let Some((n, _)) = lines.next() {
        panic!("{name}:{n}: an expectation with no record after it");
    }
    Expected::Cases(rows)
}

fn path_of(file: &str) -> String {
    format!("{DIR}/{file}")
}

/// The error text a row must produce (its prefix: file, case, path), checked against `line`.
fn check_row(row: &Row, line: &Value, stderr: &str, problems: &mut Vec<String>) {
    let file = path_of(&row.file);
    let mut fail = |what: String| problems.push(format!("{file}: {}: {what}", row.case));
    if line["id"] != row.case.as_str() {
        fail(format!("expected the line for this case, got {line}"));
        return;
    }
    match &row.want {
        Want::Error { path, msg } => {
            let keys: Vec<&str> = line
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            if keys != ["id", "decision", "error"] || !line["decision"].is_null() {
                fail(format!(
                    "an unreadable case's line must be {{\"id\", \"decision\": null, \"error\"}}, got {line}"
                ));
            }
            let Some(error) = line["error"].as_str() else {
                return fail(format!("no error string in {line}"));
            };
            let prefix = format!("{file}: case {}: {path}: ", row.case);
            let Some(message) = error.strip_prefix(&prefix) else {
                return fail(format!("error should start with {prefix:?}, got {error:?}"));
            };
            for m in msg {
                if !message.contains(m.as_str()) {
                    fail(format!("message {message:?} lacks {m:?}"));
                }
            }
            if !stderr.lines().any(|l| l == format!("error: {error}")) {
                fail(format!("stderr lacks the line `error: {error}`"));
            }
        }
        Want::Decision { decision, agrees } => {
            if line.get("error").is_some() || line["decision"] != decision.as_str() {
                fail(format!("expected decision {decision}, got {line}"));
            }
            if line["agrees"] != serde_json::json!(agrees) {
                fail(format!("expected agrees {agrees:?}, got {line}"));
            }
        }
    }
}

/// Every row of the corpus, file by file.
fn all_rows(corpus: &[CorpusFile]) -> impl Iterator<Item = &Row> {
    corpus.iter().flat_map(|f| match &f.expected {
        Expected::Cases(rows) => rows.as_slice(),
        Expected::WholeFile(_) => &[],
    })
}

/// Runs `eval` on each file with cases and holds every stdout line to its row, in order.
#[test]
fn every_bad_case_reports_its_file_case_path_and_reason() {
    let mut problems = Vec::new();
    for f in corpus() {
        let Expected::Cases(rows) = &f.expected else {
            continue;
        };
        let file = &f.file;
        let out = keyward(&["eval", &path_of(file)]);
        let stderr = stderr(&out);
        if out.status.code() != Some(2) {
            problems.push(format!("{file}: exit {:?}, expected 2", out.status.code()));
        }
        let lines = json_lines(&out);
        if lines.len() != rows.len() {
            problems.push(format!(
                "{file}: {} stdout lines for {} expectations:\n{}",
                lines.len(),
                rows.len(),
                stdout(&out)
            ));
            continue;
        }
        let errors = rows
            .iter()
            .filter(|r| matches!(r.want, Want::Error { .. }))
            .count();
        // The lints of the good cases' policies add `warning:` blocks; the errors are counted.
        let error_lines = stderr.lines().filter(|l| l.starts_with("error:")).count();
        if error_lines != errors {
            problems.push(format!(
                "{file}: {error_lines} stderr errors for {errors} bad cases:\n{stderr}"
            ));
        }
        for (row, line) in rows.iter().zip(&lines) {
            check_row(row, line, &stderr, &mut problems);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_corpus_is_large_enough() {
    let corpus = corpus();
    let bad = all_rows(&corpus)
        .filter(|r| matches!(r.want, Want::Error { .. }))
        .count()
        + corpus
            .iter()
            .filter(|f| matches!(f.expected, Expected::WholeFile(_)))
            .count();
    assert!(bad >= 50, "only {bad} bad inputs");
}

#[test]
fn a_file_unreadable_as_a_whole_is_one_error() {
    let mut problems = Vec::new();
    for f in corpus() {
        let Expected::WholeFile(fragment) = &f.expected else {
            continue;
        };
        let name = path_of(&f.file);
        let out = keyward(&["eval", &name]);
        let stderr = stderr(&out);
        let lines = json_lines(&out);
        let prefix = format!("{name}: $: ");
        let ok = out.status.code() == Some(2)
            && lines.len() == 1
            && lines[0]["id"] == name.as_str()
            && lines[0]["decision"].is_null()
            && lines[0]["error"]
                .as_str()
                .and_then(|e| e.strip_prefix(&prefix))
                .is_some_and(|m| m.contains(fragment.as_str()))
            && stderr.lines().count() == 1
            && stderr.starts_with(&format!("error: {prefix}"))
            && stderr.contains(fragment.as_str());
        if !ok {
            problems.push(format!(
                "{name}: exit {:?}, expected 2 and one error {fragment:?}\nstdout: {}\nstderr: {stderr}",
                out.status.code(),
                stdout(&out)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn good_json_lines_are_evaluated_around_broken_ones() {
    let out = keyward(&["eval", &path_of(LINES)]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    let decided: Vec<(&str, &str, &str)> = lines
        .iter()
        .filter(|l| !l["decision"].is_null())
        .map(|l| {
            (
                l["id"].as_str().unwrap_or_default(),
                l["decision"].as_str().unwrap_or_default(),
                l["by"].as_str().unwrap_or("null"),
            )
        })
        .collect();
    assert_eq!(
        decided,
        [
            ("lines/allow", "allow", "null"),
            ("lines/implicit-deny", "implicit_deny", "identity"),
            ("lines/explicit-deny", "explicit_deny", "identity"),
            ("lines/no-expect", "allow", "null"),
        ]
    );
    assert_eq!(
        lines[4]["message"],
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: bedrock:InvokeModel on resource: * with an explicit deny in an identity-based policy"
    );

    // --summary: unreadable cases count as failed, and the last line says so.
    let out = keyward(&["eval", "--summary", &path_of(LINES)]);
    assert_eq!(out.status.code(), Some(2));
    // The explicit deny's message is by an identity policy without an ARN (A-INLINE-NO-ARN).
    assert_eq!(
        stdout(&out),
        "rests on A-INLINE-NO-ARN: 1 case\n3 passed, 3 failed\n"
    );
    assert_eq!(stderr(&out).lines().count(), 3);
}

#[test]
fn a_duplicate_id_across_files_is_an_error_in_the_later_file() {
    let (a, b) = (path_of("dup/a.json"), path_of("dup/b.json"));
    for (first, second, later) in [(&a, &b, "dup/b.json"), (&b, &a, "dup/a.json")] {
        let out = keyward(&["eval", first, second]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = stderr(&out);
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let errors: Vec<&Value> = lines.iter().filter(|l| l["decision"].is_null()).collect();
        assert_eq!(errors.len(), 1, "{lines:?}");
        let row = Row {
            file: later.to_string(),
            case: "dup/same-id".to_string(),
            want: Want::Error {
                path: "$.id".to_string(),
                msg: vec![r#"duplicate id "dup/same-id""#.to_string()],
            },
        };
        let mut problems = Vec::new();
        check_row(&row, errors[0], &stderr, &mut problems);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

/// The whole directory in one run: every error it reports is one the corpus expects, and all of
/// them are reported (so nothing in the corpus goes unchecked).
#[test]
fn the_whole_corpus_in_one_run() {
    let corpus = corpus();
    let out = keyward(&["eval", DIR]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr(&out);
    let lines = json_lines(&out);
    let errors: Vec<&str> = lines
        .iter()
        .filter(|l| l["decision"].is_null())
        .map(|l| l["error"].as_str().expect("an error string"))
        .collect();
    let mut expected: Vec<String> = corpus
        .iter()
        .flat_map(|f| match &f.expected {
            Expected::Cases(rows) => rows
                .iter()
                .filter_map(|r| match &r.want {
                    Want::Error { path, .. } => {
                        Some(format!("{}: case {}: {path}: ", path_of(&r.file), r.case))
                    }
                    Want::Decision { .. } => None,
                })
                .collect(),
            Expected::WholeFile(_) => vec![format!("{}: $: ", path_of(&f.file))],
        })
        .collect();
    expected.push(format!(
        "{}: case dup/same-id: $.id: ",
        path_of("dup/b.json")
    ));
    let unexpected: Vec<&&str> = errors
        .iter()
        .filter(|e| !expected.iter().any(|p| e.starts_with(p.as_str())))
        .collect();
    assert!(
        unexpected.is_empty(),
        "errors no `// expect:` line names (add them):\n{unexpected:#?}"
    );
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        expected.len()
    );
    let decided = lines.len() - errors.len();
    let good = all_rows(&corpus)
        .filter(|r| matches!(r.want, Want::Decision { .. }))
        .count();
    assert_eq!(decided, good + 2, "the good cases, and dup/a.json's two");

    // `check` replays the same directory: exit 2, one UNREADABLE line per error, and the
    // unreadable cases counted as failed.
    let out = keyward(&["check", "--fixtures", DIR, "--cases", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = stdout(&out);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("UNREADABLE "))
            .count(),
        expected.len()
    );
    let agreeing = all_rows(&corpus)
        .filter(|r| {
            matches!(
                r.want,
                Want::Decision {
                    agrees: Some(true),
                    ..
                }
            )
        })
        .count()
        + 2;
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{agreeing} passed, {} failed", expected.len()).as_str())
    );
}

#[test]
fn standard_input_is_named_dash() {
    let case = r#"{"id": "stdin/no-resource", "request": {"principal": "arn:aws:iam::123456789012:user/alice", "action": "bedrock:InvokeModel"}}"#;
    let out = keyward_with_input(&["eval", "-"], case);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    // The file of standard input is `-`.
    let error = lines[0]["error"].as_str().unwrap_or_default();
    assert_eq!(
        error,
        r#"-: case stdin/no-resource: $.request.resource: missing required field "resource""#
    );
    assert_eq!(lines[0]["id"], "stdin/no-resource");
    assert_eq!(stderr(&out), format!("error: {error}\n"));

    let out = keyward_with_input(&["eval", "-"], "not json");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: -: $: not JSON"));
}

#[test]
fn explain_reports_malformed_input() {
    // The case asked for is unreadable: its error, exit 2, and no claim that it does not exist.
    let out = keyward(&["explain", &path_of(STMT), "--case", "stmt/effect-lowercase"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!(
        "error: {}: case stmt/effect-lowercase: $.policies.identity[0].Statement[1].Effect: {SYNTAX}",
        path_of(STMT)
    )));
    assert!(!err.contains("no case with id"), "{err}");
    assert!(out.stdout.is_empty());

    // A readable case in a file with broken lines is explained; the run still exits 2.
    let out = keyward(&["explain", &path_of(LINES), "--case", "lines/explicit-deny"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = stdout(&out);
    assert!(stdout.starts_with("case lines/explicit-deny\n"), "{stdout}");
    assert!(stdout.contains("decision: explicit_deny"), "{stdout}");
    assert!(stderr(&out).contains(&format!("error: {}: case #1 (line 5): $: ", path_of(LINES))));

    // A file that is not JSON at all.
    let out = keyward(&["explain", &path_of("file/prose.json")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with(&format!(
        "error: {}: $: not JSON",
        path_of("file/prose.json")
    )));
}

/// Bad arguments and paths: exit 2, nothing on standard output, and the reason on standard error.
#[test]
fn bad_arguments_exit_2() {
    let lines = path_of(LINES);
    let good = path_of("dup/a.json");
    let cases: &[(&[&str], &str)] = &[
        (
            &["eval", "--bogus", &lines],
            "unexpected argument '--bogus'",
        ),
        (
            &["eval"],
            "the following required arguments were not provided",
        ),
        (
            &["eval", "--summary"],
            "the following required arguments were not provided",
        ),
        (
            &["explain"],
            "the following required arguments were not provided",
        ),
        (
            &["explain", &lines, "--case"],
            "a value is required for '--case <ID>'",
        ),
        (
            &["explain", &good, "--case", "no/such-case"],
            r#"no case with id "no/such-case""#,
        ),
        (&["check", "--bogus"], "unexpected argument '--bogus'"),
        (
            &["check", "--fixtures", "tests/malformed/no-such-dir"],
            "tests/malformed/no-such-dir: no such file or directory",
        ),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&[], "Usage: keyward <COMMAND>"),
        (
            &["eval", "tests/malformed/no-such-file.json"],
            "error: tests/malformed/no-such-file.json: $: no such file or directory",
        ),
        (
            &["eval", &good, "tests/malformed/no-such-file.json"],
            "error: tests/malformed/no-such-file.json: $: no such file or directory",
        ),
        (
            &["explain", "tests/malformed/no-such-file.json"],
            "error: tests/malformed/no-such-file.json: $: no such file or directory",
        ),
    ];
    let mut problems = Vec::new();
    for (args, fragment) in cases {
        let out = keyward(args);
        let stderr = stderr(&out);
        if out.status.code() != Some(2) || !out.stdout.is_empty() || !stderr.contains(fragment) {
            problems.push(format!(
                "keyward {args:?}: exit {:?} (expected 2), stdout {:?}, stderr lacks {fragment:?}:\n{stderr}",
                out.status.code(),
                stdout(&out)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
