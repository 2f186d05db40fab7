//! Reports where reviewers look (docs/ci.md): `--format sarif` puts each lint on its statement's
//! line and each disagreement or unreadable case on its case's line, as SARIF 2.1.0 that the
//! published schema accepts; `--format short` prints the same findings one per line with their
//! place; `--format markdown` summarises a run; without `--format` nothing changes. Expected positions are found in the test's own text by searching it, not by the
//! reader under test.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{keyward, keyward_offline, root, stderr, stdout, write};

/// Line and column (from 1, in characters) of the first `{` before `needle` in `text`: where
/// the JSON object holding `needle` starts, when no other object opens in between.
fn object_before(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in the text"));
    let open = text[..at].rfind('{').unwrap();
    line_column(text, open)
}

/// Line and column (from 1) of byte offset `i`.
fn line_column(text: &str, i: usize) -> (usize, usize) {
    let before = &text[..i];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

fn sarif(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

/// (uri, line, column) of a result.
fn place(r: &Value) -> (String, usize, usize) {
    let l = &r["locations"][0]["physicalLocation"];
    (
        l["artifactLocation"]["uri"].as_str().unwrap().to_string(),
        l["region"]["startLine"].as_u64().unwrap() as usize,
        l["region"]["startColumn"].as_u64().unwrap() as usize,
    )
}

/// Fails unless the published SARIF 2.1.0 schema (tests/sarif) accepts `log`: checked by the
/// Python `jsonschema` package (tests/requirements.txt), with its format checks on.
fn assert_valid_sarif(log: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.sarif");
    std::fs::write(&file, log.to_string()).unwrap();
    let schema = root().join("tests/sarif/sarif-schema-2.1.0.json");
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        log = json.load(open(sys.argv[2]))\n\
        cls = jsonschema.validators.validator_for(schema)\n\
        cls.check_schema(schema)\n\
        errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(log), key=str)\n\
        [print(list(e.absolute_path), e.message) for e in errors]\n\
        sys.exit(1 if errors else 0)\n";
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("python3 (tests/requirements.txt installs jsonschema)");
    assert!(
        o.status.success(),
        "the SARIF schema refuses the log:\n{}{}\n{log:#}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A guardrail whose age limit a never-expiring key escapes (`NumericGreaterThan` on the age
/// without a `Null` check), given as a policy file that a suite names.
const LOOPHOLE_SCP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowAll",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    },
      {  "Sid": "KeysExpireWithin30Days",
         "Effect": "Deny",
         "Action": "iam:CreateServiceSpecificCredential",
         "Resource": "*",
         "Condition": {"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30"}}
      }
  ]
}
"#;

const SUITE: &str = r#"{
  "policies": {
    "scp": [[{"file": "policies/scp.json"}]],
    "identity": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]
  },
  "cases": []
}
"#;

fn team(dir: &Path) {
    std::fs::create_dir(dir.join("policies")).unwrap();
    write(dir, "policies/scp.json", LOOPHOLE_SCP);
    write(dir, "suite.json", SUITE);
}

#[test]
fn a_guardrails_loophole_is_a_sarif_result_on_its_statements_line() {
    let dir = tempfile::tempdir().unwrap();
    team(dir.path());
    let o = keyward_offline(
        &["guardrail", "suite.json", "--format", "sarif"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = sarif(&o);
    assert_eq!(log["version"], "2.1.0");
    let found: Vec<&Value> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "never-expiring-keys-pass")
        .collect();
    assert_eq!(found.len(), 1, "{log:#}");
    let r = found[0];
    // In the policy file the suite names, where the Deny statement opens (its `{` is indented
    // off the usual column, so a guess would miss it).
    let (line, column) = object_before(LOOPHOLE_SCP, "\"Sid\": \"KeysExpireWithin30Days\"");
    assert_eq!((line, column), (10, 7));
    assert_eq!(place(r), ("policies/scp.json".to_string(), line, column));
    assert_eq!(r["level"], "warning");
    let text = r["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("Fix: deny the key without an age too"),
        "{text}"
    );
    assert!(text.contains("B-AGEDAYS-ABSENT"), "{text}");
    // The rule it names, with its help and where it is documented.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let i = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[i]["id"], "never-expiring-keys-pass");
    let help = rules[i]["help"]["text"].as_str().unwrap();
    assert!(
        help.contains("docs/lints.md#never-expiring-keys-pass"),
        "{help}"
    );
    assert!(root().join("docs/lints.md").exists());
    assert_valid_sarif(&log);
    // The same finding on one line, in the form compilers print, for a terminal.
    let o = keyward_offline(
        &["guardrail", "suite.json", "--format", "short"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let short = stdout(&o);
    assert!(
        short
            .lines()
            .any(|l| l.starts_with("policies/scp.json:10:7: warning: never-expiring-keys-pass: ")),
        "{short}"
    );
    assert_eq!(short.lines().count(), results(&log).len(), "{short}");
}

#[test]
fn a_lint_in_an_inline_policy_is_placed_in_the_case_file() {
    let dir = tempfile::tempdir().unwrap();
    // One statement given as an object, not an array, in a case that is one of several in an
    // array file: its position counts from the file's start.
    let text = r#"[
  {"id": "a", "policies": {"identity": []}, "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": "*"}},
  {"id": "b",
   "policies": {"identity": [{"Version": "2012-10-17",
     "Statement": {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
                   "Condition": {"StringEquals": {"bedrock:BearerTokenTyp": "SHORT_TERM"}}}}]},
   "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": "*"}}
]
"#;
    write(dir.path(), "cases.json", text);
    let o = keyward_offline(&["eval", "cases.json", "--format", "sarif"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = sarif(&o);
    let lint = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "condition-key-never-present")
        .unwrap_or_else(|| panic!("{log:#}"));
    let (line, column) = object_before(text, "\"Effect\": \"Deny\"");
    assert_eq!(place(lint), ("cases.json".to_string(), line, column));
    assert_valid_sarif(&log);
}

#[test]
fn disagreements_and_unreadable_cases_are_results_on_their_cases_lines() {
    let dir = tempfile::tempdir().unwrap();
    let allow =
        r#"{"identity": [{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]}"#;
    let request = r#"{"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": "*"}"#;
    let lines = [
        "// JSON Lines: a comment, a case that agrees, one that disagrees, one that cannot be read"
            .to_string(),
        format!(
            r#"{{"id": "agrees", "policies": {allow}, "request": {request}, "expect": {{"decision": "allow"}}}}"#
        ),
        format!(
            r#"  {{"id": "disagrees", "policies": {allow}, "request": {request}, "expect": {{"decision": "explicit_deny", "by": "identity"}}}}"#
        ),
        format!(
            r#"{{"id": "broken", "policies": {allow}, "request": {{"principal": "arn:aws:iam::123456789012:user/a", "resource": "*"}}}}"#
        ),
    ];
    write(dir.path(), "cases.jsonl", &(lines.join("\n") + "\n"));
    for command in [
        vec!["eval", "cases.jsonl", "--format", "sarif"],
        vec![
            "check",
            "--fixtures",
            "cases.jsonl",
            "--cases",
            "0",
            "--format",
            "sarif",
        ],
    ] {
        let o = keyward_offline(&command, dir.path());
        // An unreadable case makes the run's exit 2, whatever the format.
        assert_eq!(o.status.code(), Some(2), "{command:?}: {}", stderr(&o));
        let log = sarif(&o);
        let rs = results(&log);
        let disagreement = rs
            .iter()
            .find(|r| r["ruleId"] == "disagreement")
            .unwrap_or_else(|| panic!("{log:#}"));
        // Line 3, where the case's object opens after its indent.
        assert_eq!(
            place(disagreement),
            ("cases.jsonl".to_string(), 3, 3),
            "{command:?}"
        );
        assert_eq!(disagreement["level"], "error");
        let text = disagreement["message"]["text"].as_str().unwrap();
        assert!(
            text.contains("expected explicit_deny by identity, got allow"),
            "{text}"
        );
        let unreadable = rs
            .iter()
            .find(|r| r["ruleId"] == "unreadable-case")
            .unwrap_or_else(|| panic!("{log:#}"));
        // The missing action: the request object that lacks it, on line 4.
        let (_, column) = object_before(&lines[3], "\"principal\"");
        assert_eq!(
            place(unreadable),
            ("cases.jsonl".to_string(), 4, column),
            "{command:?}"
        );
        assert!(unreadable["message"]["text"]
            .as_str()
            .unwrap()
            .contains("$.request.action"));
        assert_eq!(
            rs.iter().filter(|r| r["level"] == "error").count(),
            2,
            "{command:?}: {log:#}"
        );
        assert_valid_sarif(&log);
    }
    // One line per finding with its place, then the counts.
    let o = keyward_offline(&["eval", "cases.jsonl", "--format", "short"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let short = stdout(&o);
    let lines: Vec<&str> = short.lines().collect();
    assert!(
        lines.contains(&"cases.jsonl:3:3: error: disagreement: DISAGREE disagrees (cases.jsonl): expected explicit_deny by identity, got allow"),
        "{short}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cases.jsonl:4:") && l.contains(": error: unreadable-case: ")),
        "{short}"
    );
    assert_eq!(lines.last(), Some(&"1 passed, 2 failed"), "{short}");
}

/// `check` of the team suite (tests/guardrails/team) against its variant policies, without an
/// account-level SCP: six of its cases disagree.
fn team_variant_check(format: &str) -> std::process::Output {
    keyward(&[
        "check",
        "--fixtures",
        "tests/guardrails/team/suite.json",
        "--policies",
        "tests/guardrails/team/variant.json",
        "--cases",
        "0",
        "--format",
        format,
    ])
}

#[test]
fn a_suites_cases_are_placed_inside_the_suite() {
    let o = team_variant_check("sarif");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let log = sarif(&o);
    let text = std::fs::read_to_string(root().join("tests/guardrails/team/suite.json")).unwrap();
    let disagreements: Vec<&Value> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "disagreement")
        .collect();
    assert!(!disagreements.is_empty());
    for r in disagreements {
        let message = r["message"]["text"].as_str().unwrap();
        let id = message.split_whitespace().nth(1).unwrap();
        let (line, column) = object_before(&text, &format!("\"id\": \"{id}\""));
        assert_eq!(
            place(r),
            ("tests/guardrails/team/suite.json".to_string(), line, column),
            "{id}"
        );
    }
    assert_valid_sarif(&log);
}

#[test]
fn markdown_summaries_hold_the_counts_the_tables_the_lints_and_the_first_problems() {
    let dir = tempfile::tempdir().unwrap();
    team(dir.path());
    let o = keyward_offline(
        &["guardrail", "suite.json", "--format", "markdown"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(
        md.starts_with("## keyward guardrail `suite.json`\n"),
        "{md}"
    );
    assert!(
        md.contains("| token type | endpoint | decision | deciding statement |"),
        "{md}"
    );
    // The loophole, in the allowed set and among the lints, with where it is.
    assert!(
        md.contains("| never expires | allow |"),
        "the never-expiring row: {md}"
    );
    assert!(
        md.contains("- **`never-expiring-keys-pass`** at `policies/scp.json:10:7`"),
        "{md}"
    );
    // A file's name in the heading is in a code span, not a table: written as it is.
    std::fs::copy(dir.path().join("suite.json"), dir.path().join("a|b.json")).unwrap();
    let o = keyward_offline(
        &["guardrail", "a|b.json", "--format", "markdown"],
        dir.path(),
    );
    assert!(
        stdout(&o).starts_with("## keyward guardrail `a|b.json`\n"),
        "{}",
        stdout(&o)
    );

    let o = team_variant_check("markdown");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.contains("**6 failed, 0 unreadable.**"), "{md}");
    assert!(md.contains("| cases read (1 file) | 7 | 6 | 0 |"), "{md}");
    assert!(md.contains("### Problems (6)"), "{md}");
    assert!(
        md.contains("- `use/short-term-key-denied` at `tests/guardrails/team/suite.json:"),
        "{md}"
    );
    assert!(md.contains("DISAGREE use/short-term-key-denied"), "{md}");
}

#[test]
fn without_a_format_every_output_is_as_before() {
    let file = "tests/guardrails/leaky.json";
    let plain = keyward(&["guardrail", file]);
    let text = keyward(&["guardrail", file, "--format", "text"]);
    assert_eq!(stdout(&plain), stdout(&text));
    assert!(stdout(&plain).starts_with("principal "));
    let json = keyward(&["guardrail", file, "--json"]);
    let format_json = keyward(&["guardrail", file, "--format", "json"]);
    assert_eq!(stdout(&json), stdout(&format_json));
    // A format and a snapshot comparison do not go together; nor sarif with --oracle.
    let o = keyward(&[
        "guardrail",
        file,
        "--format",
        "sarif",
        "--expect",
        "tests/guardrails/team/allowed.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = keyward(&["check", "--oracle", "iam-simulate", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--format sarif reports the fixtures and properties run"));
}

#[test]
fn a_duplicate_id_is_placed_at_the_second_use_and_standard_input_has_no_place() {
    let dir = tempfile::tempdir().unwrap();
    let case = r#"{"id": "a", "policies": {"identity": []}, "request": {"principal": "arn:aws:iam::123456789012:user/u", "action": "s3:GetObject", "resource": "*"}}"#;
    let text = format!("[\n  {case},\n    {case}\n]\n");
    write(dir.path(), "dup.json", &text);
    let o = keyward_offline(&["eval", "dup.json", "--format", "sarif"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let log = sarif(&o);
    let dup = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "unreadable-case")
        .unwrap_or_else(|| panic!("{log:#}"));
    // The second case's id value: line 3, after its indent and `{"id": `.
    assert_eq!(
        place(dup),
        ("dup.json".to_string(), 3, 5 + "{\"id\": ".len())
    );
    assert_valid_sarif(&log);
    // From standard input nothing can be read again: no location, not a file named `-`.
    let o = crate::support::keyward_with_input(&["eval", "-", "--format", "sarif"], &text);
    let log = sarif(&o);
    assert!(!results(&log).is_empty());
    assert!(
        results(&log).iter().all(|r| r.get("locations").is_none()),
        "{log:#}"
    );
    assert_valid_sarif(&log);
}
