//! The CLI contract (docs/cli.md) through the real binary: output shapes, the closing
//! line, and exit codes 0 / 1 / 2.

use crate::support::{generated_case_lines, keyward, keyward_offline, root, stderr, stdout, write};

const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}}"#;

fn case(id: &str, decision: &str) -> String {
    format!(
        r#"{{"id":"{id}","source":"test","provenance":"documented","policies":{{"identity":[{ALLOW_ALL}]}},"request":{{"principal":"arn:aws:iam::123456789012:user/a","action":"bedrock:InvokeModel","resource":"*"}},"expect":{{"decision":"{decision}"}}}}"#
    )
}

#[test]
fn check_on_the_shipped_fixtures_passes() {
    let o = keyward(&["check", "--cases", "220"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let last = out.lines().last().unwrap();
    let (passed, rest) = last.split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() >= 200, "{last}");
    assert_eq!(rest, "0 failed");
}

#[test]
fn a_planted_wrong_fixture_makes_check_fail_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.json", &case("t/good", "allow"));
    write(
        dir.path(),
        "wrong.jsonl",
        &format!(
            "// a wrong expectation\n{}\n",
            case("t/wrong", "implicit_deny")
        ),
    );
    let o = keyward(&[
        "check",
        "--cases",
        "0",
        "--fixtures",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("DISAGREE t/wrong"), "{out}");
    assert!(out.contains("expected implicit_deny, got allow"), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"));
}

/// A documented case whose message rests on A-INLINE-NO-ARN (an inline identity policy denies).
fn inline_deny_case(id: &str, provenance: &str, assumptions: Option<&str>) -> String {
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"bedrock:*","Resource":"*"}}"#;
    let named = assumptions.map_or(String::new(), |a| format!(r#","assumptions":{a}"#));
    format!(
        r#"{{"id":"{id}","source":"test","provenance":"{provenance}","policies":{{"identity":[{deny}]}},"request":{{"principal":"arn:aws:iam::123456789012:user/a","action":"bedrock:InvokeModel","resource":"*"}},"expect":{{"decision":"explicit_deny","by":"identity","message":"User: arn:aws:iam::123456789012:user/a is not authorized to perform: bedrock:InvokeModel on resource: * with an explicit deny in an identity-based policy"{named}}}}}"#
    )
}

fn check_dir(files: &[(&str, String)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    keyward(&[
        "check",
        "--cases",
        "0",
        "--fixtures",
        dir.path().to_str().unwrap(),
    ])
}

#[test]
fn a_planted_documented_fixture_resting_on_an_unnamed_assumption_fails_check() {
    // The answer agrees with AWS's text, but "documented" claims more than the docs say.
    let o = check_dir(&[(
        "unnamed.json",
        inline_deny_case("t/unnamed", "documented", None),
    )]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("PROVENANCE t/unnamed (")
            && out.contains("rests on A-INLINE-NO-ARN, which expect.assumptions does not name"),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));

    // Naming it passes; naming one it does not rest on fails.
    let named = inline_deny_case("t/named", "documented", Some(r#"["A-INLINE-NO-ARN"]"#));
    let o = check_dir(&[("named.json", named)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let wrong = inline_deny_case(
        "t/wrong",
        "documented",
        Some(r#"["A-INLINE-NO-ARN","A-DATE-SYNTAX"]"#),
    );
    let o = check_dir(&[("wrong.json", wrong)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains(
        "expect.assumptions names A-DATE-SYNTAX, on which keyward's answer does not rest"
    ));

    // Another provenance claims nothing about the docs: naming none is not a failure.
    let o = check_dir(&[(
        "article.json",
        inline_deny_case("t/article", "article", None),
    )]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_documented_message_for_an_scp_deny_needs_the_scps_arn() {
    let scp = |wrapper: bool| {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"bedrock:*","Resource":"*"}]}"#;
        if wrapper {
            format!(
                r#"{{"name":"Deny","arn":"arn:aws:organizations::111122223333:policy/o-a/service_control_policy/p-a","document":{doc}}}"#
            )
        } else {
            doc.to_string()
        }
    };
    let case = |id: &str, wrapper: bool| {
        format!(
            r#"{{"id":"{id}","source":"test","provenance":"documented","policies":{{"identity":[{ALLOW_ALL}],"scp":[[{}]]}},"request":{{"principal":"arn:aws:iam::123456789012:user/a","action":"bedrock:InvokeModel","resource":"*"}},"expect":{{"decision":"explicit_deny","by":"scp","message":"User: arn:aws:iam::123456789012:user/a is not authorized to perform: bedrock:InvokeModel on resource: * with an explicit deny in a service control policy: arn:aws:organizations::111122223333:policy/o-a/service_control_policy/p-a"}}}}"#,
            scp(wrapper)
        )
    };
    let o = check_dir(&[("with.json", case("t/with-arn", true))]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Without the ARN keyward's message is incomplete: it still agrees (the placeholder stands
    // for any ARN), but a documented fixture may not rest on it.
    let o = check_dir(&[("without.json", case("t/without-arn", false))]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("PROVENANCE t/without-arn (")
            && stdout(&o).contains("expects a message for a deny by service control policy, which the case gives without its ARN"),
        "{}",
        stdout(&o)
    );
    // eval says the message is incomplete, and which form it is in.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "without.json", &case("t/without-arn", false));
    let f = dir.path().join("without.json");
    let o = keyward(&["eval", f.to_str().unwrap()]);
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(line["message_complete"], false);
    assert_eq!(line["message_form"], "generic");
    assert!(line["message"]
        .as_str()
        .unwrap()
        .ends_with("service control policy: <policy ARN not given>"));
    let o = keyward(&["explain", f.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("message incomplete: the denying policy was given without its ARN"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn eval_lines_summary_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cases.json");
    std::fs::write(
        &f,
        format!(
            "[{}, {}]",
            case("t/a", "allow"),
            case("t/b", "explicit_deny")
        ),
    )
    .unwrap();
    let f = f.to_str().unwrap();

    let o = keyward(&["eval", f]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "t/a");
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[0]["by"], serde_json::Value::Null);
    assert_eq!(lines[0]["message"], serde_json::Value::Null);
    assert_eq!(lines[0]["agrees"], true);
    assert_eq!(lines[1]["agrees"], false);

    let o = keyward(&["eval", "--summary", f]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.starts_with("DISAGREE t/b"), "{out}");
    assert_eq!(
        out.lines().nth(1),
        // A single statement given as an object is `Statement`, not `Statement[0]`.
        Some("  why: allowed by identity $.policies.identity[0].Statement")
    );
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn eval_of_the_documented_fixtures_agrees() {
    let o = keyward(&["eval", "--summary", "fixtures/documented"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    // No disagreement: only the counts of assumptions, then the closing line.
    let (last, counts) = out
        .lines()
        .collect::<Vec<_>>()
        .split_last()
        .map(|(l, c)| (*l, c.to_vec()))
        .unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{out}");
    for line in counts {
        assert!(
            line.starts_with("rests on A-") || line.starts_with("rests on B-"),
            "{line}"
        );
    }
}

/// A policy whose Allow holds only because a set qualifier with IfExists is read as true on a
/// missing key (A-SET-IFEXISTS-MISSING), beside one that documented rules decide.
const IFEXISTS_ALLOW: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"bedrock:*","Resource":"*","Condition":{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}}}"#;

fn assumption_cases() -> String {
    let ifexists = format!(
        r#"{{"id":"t/ifexists","source":"test","provenance":"documented","policies":{{"identity":[{IFEXISTS_ALLOW}]}},"request":{{"principal":"arn:aws:iam::123456789012:user/a","action":"bedrock:InvokeModel","resource":"*"}},"expect":{{"decision":"allow","assumptions":["A-SET-IFEXISTS-MISSING"]}}}}"#
    );
    format!("{}\n{ifexists}\n", case("t/plain", "allow"))
}

#[test]
fn every_answer_says_which_assumptions_it_rests_on() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cases.jsonl", &assumption_cases());
    let file = dir.path().join("cases.jsonl");
    let o = keyward(&["eval", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = crate::support::json_lines(&o);
    assert_eq!(lines[0]["assumptions"], serde_json::json!([]));
    assert_eq!(
        lines[1]["assumptions"],
        serde_json::json!(["A-SET-IFEXISTS-MISSING"])
    );

    let o = keyward(&["eval", "--summary", file.to_str().unwrap()]);
    assert_eq!(
        stdout(&o),
        "rests on A-SET-IFEXISTS-MISSING: 1 case\n2 passed, 0 failed\n"
    );

    let o = keyward(&["explain", "--case", "t/ifexists", file.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("\nassumption A-SET-IFEXISTS-MISSING: A ForAnyValue: or ForAllValues: operator with IfExists is true when the key is missing from the request.\n"),
        "{}",
        stdout(&o)
    );
    let o = keyward(&["explain", "--case", "t/plain", file.to_str().unwrap()]);
    assert!(stdout(&o).contains("\nassumptions: none, documented rules only\n"));

    let junit = dir.path().join("report.xml");
    let fixtures = dir.path().to_str().unwrap();
    let check = |more: &[&str]| {
        keyward(&[&["check", "--fixtures", fixtures, "--cases", "0"], more].concat())
    };
    let o = check(&["--json", "--junit", junit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        report["fixtures"]["assumptions"],
        serde_json::json!({"A-SET-IFEXISTS-MISSING": 1})
    );
    assert_eq!(
        report["fixtures"]["resting_on_assumptions"],
        serde_json::json!([{"id": "t/ifexists", "file": file.to_str().unwrap(), "assumptions": ["A-SET-IFEXISTS-MISSING"]}])
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<property name="fixtures resting on A-SET-IFEXISTS-MISSING" value="1"/>"#),
        "{xml}"
    );
    let o = check(&[]);
    assert!(
        stdout(&o).contains("1 fixtures rest on registered assumptions (docs/aws-behaviour.md):\n  rests on A-SET-IFEXISTS-MISSING: 1 case\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn explain_names_statements_conditions_and_the_message() {
    let o = keyward(&[
        "explain",
        "fixtures/documented/bedrock-guardrails.json",
        "--case",
        "documented/bedrock/deny-create-age-age-30-denied",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("condition NumericGreaterThanEquals iam:ServiceSpecificCredentialAgeDays"),
        "{out}"
    );
    assert!(out.contains("decision: explicit_deny by identity"), "{out}");
    assert!(
        out.contains("message: User: arn:aws:iam::123456789012:user/JohnDoe is not authorized"),
        "{out}"
    );
}

/// A Deny with NotPrincipal denies a caller with a permissions boundary whatever it names, and
/// explain says so; without a boundary, the named caller is not denied.
#[test]
fn explain_says_a_boundary_overrides_not_principal() {
    let explain = |id: &str| {
        let o = keyward(&[
            "explain",
            "fixtures/documented/evaluation-logic.json",
            "--case",
            id,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let with = explain("documented/evaluation/notprincipal-deny-role-session-with-boundary");
    assert!(
        with.contains("principal: a Deny with NotPrincipal denies every caller with a permissions boundary, whatever it names"),
        "{with}"
    );
    assert!(
        with.contains("decision: explicit_deny by resource"),
        "{with}"
    );
    let without = explain("documented/evaluation/notprincipal-deny-role-session-no-boundary");
    assert!(
        without.contains("principal: does not name the caller"),
        "{without}"
    );
    assert!(without.contains("decision: allow"), "{without}");
}

#[test]
fn help_works_for_every_command() {
    for args in [
        &["--help"][..],
        &["eval", "--help"],
        &["explain", "--help"],
        &["check", "--help"],
        &["record", "--help"],
        &["sweep", "--help"],
    ] {
        let o = keyward(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(stdout(&o).contains("Usage"), "{args:?}");
    }
}

/// The README's examples are true: each case block, given to `keyward eval`, prints exactly the
/// output block that follows it.
#[test]
fn readme_examples_print_what_the_readme_says() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```json\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let mut checked = 0;
    for pair in blocks.windows(2) {
        let (case, output) = (pair[0], pair[1].trim());
        if !case.trim_start().starts_with('{') || !output.starts_with("{\"id\"") {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "case.json", case);
        let o = keyward(&["eval", dir.path().join("case.json").to_str().unwrap()]);
        assert_eq!(stdout(&o).trim(), output, "README example drifted");
        assert_eq!(o.status.code(), Some(0));
        checked += 1;
    }
    assert_eq!(checked, 2, "expected the request and the scenario examples");
}

/// Live commands without a sandbox account, run in an empty directory with every AWS variable
/// cleared: they refuse with exit 2 before any AWS call (there is no network here, so a call
/// would show up as a different error).
#[test]
fn live_commands_refuse_without_a_sandbox_account() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("fixtures");
    let f = fixtures.to_str().unwrap();
    for args in [
        &["check", "--live", "--fixtures", f][..],
        &["record", "--fixtures", f],
        &["record", "--probe-assumptions", "--fixtures", f],
        &["sweep"],
    ] {
        let o = keyward_offline(args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("KEYWARD_SANDBOX_ACCOUNT") && err.contains("nothing was sent to AWS"),
            "{args:?}: {err}"
        );
    }
    // Nothing was written: no journal, no recorded fixtures.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn live_arguments_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("fixtures");
    let f = fixtures.to_str().unwrap();
    let bad = |args: &[&str], says: &str| {
        let o = keyward_offline(args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    bad(&["check", "--dry-run"], "need --live");
    bad(&["check", "--resume", "abcdefgh"], "--live");
    bad(
        &["record", "--resume", "NOT-A-RUN", "--fixtures", f],
        "run id",
    );
    bad(&["sweep", "--run", "x"], "run id");
    let cfg = dir.path().join("k.toml");
    std::fs::write(&cfg, "[live]\nsandbox_account = 12\n").unwrap();
    bad(&["sweep", "--config", cfg.to_str().unwrap()], "k.toml");
}

#[test]
fn a_dry_run_prints_the_plan_and_needs_no_account() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("fixtures");
    let o = keyward_offline(
        &[
            "record",
            "--dry-run",
            "--cases",
            "6",
            "--fixtures",
            fixtures.to_str().unwrap(),
        ],
        dir.path(),
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("nothing is sent to AWS"), "{out}");
    let plan = out.lines().last().unwrap();
    assert!(plan.starts_with("plan: 6 cases"), "{plan}");
    // Every generated case is either planned (with its API calls) or skipped with a reason.
    let listed = out
        .lines()
        .filter(|l| l.starts_with("case ") || l.starts_with("skip "))
        .count();
    assert_eq!(listed, 6, "{out}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a dry run writes nothing"
    );
}

/// The AWS managed policies, the same in every account: the runner reads them and attaches them
/// to its own principals (the `iam:PolicyARN` condition of the attachment).
const AWS_MANAGED: &str = "arn:aws:iam::aws:policy/*";
/// What the runner may do to an AWS managed policy itself: read it.
const AWS_MANAGED_ACTIONS: &[&str] = &["iam:GetPolicy", "iam:GetPolicyVersion"];

/// The actions the runner policy may grant on `*`: they have no resource type to name, and none
/// changes anything.
const UNSCOPED: &[&str] = &[
    "iam:SimulateCustomPolicy",
    "iam:ListUsers",
    "iam:ListRoles",
    "iam:ListPolicies",
];

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => panic!("not a string or a list: {other}"),
    }
}

#[test]
fn runner_policy_names_that_account_only_and_scopes_every_resource() {
    let o = keyward(&["runner-policy", "--account", "111122223333"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let p: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(p["Version"], "2012-10-17");
    // Every account the policy names is the one asked for: no `*`, no other (`aws`, AWS's own
    // managed policies, is no account, and is named only as `arn:aws:iam::aws:policy/*`).
    let accounts: std::collections::BTreeSet<String> = regex::Regex::new(r"arn:aws:iam::([^:]*):")
        .unwrap()
        .captures_iter(&text)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(
        accounts.into_iter().collect::<Vec<_>>(),
        ["111122223333", "aws"]
    );
    assert_eq!(
        text.matches("arn:aws:iam::aws:").count(),
        text.matches(AWS_MANAGED).count(),
        "{text}"
    );
    let statements = p["Statement"].as_array().unwrap();
    assert!(!statements.is_empty());
    for s in statements {
        assert_eq!(s["Effect"], "Allow", "{s}");
        assert!(
            s.get("NotAction").is_none() && s.get("NotResource").is_none(),
            "{s}"
        );
        let actions = strings(&s["Action"]);
        assert!(actions.iter().all(|a| !a.contains('*')), "{s}");
        for r in strings(&s["Resource"]) {
            if r == "*" {
                assert!(
                    actions.iter().all(|a| UNSCOPED.contains(&a.as_str())),
                    "{s}"
                );
                continue;
            }
            if r == AWS_MANAGED {
                assert!(
                    actions
                        .iter()
                        .all(|a| AWS_MANAGED_ACTIONS.contains(&a.as_str())),
                    "{s}"
                );
                continue;
            }
            let name = r
                .strip_prefix("arn:aws:iam::111122223333:")
                .and_then(|x| x.split_once('/'))
                .map(|(_, n)| n)
                .unwrap_or_else(|| panic!("not in the account: {r}"));
            assert!(
                name == "keyward-*" || name == "BedrockAPIKey-*",
                "not the runner's names: {r}"
            );
        }
    }
    // The shipped example is exactly what the command prints.
    let shipped = std::fs::read_to_string(root().join("docs/live-runner-policy.json")).unwrap();
    assert_eq!(shipped, text, "regenerate docs/live-runner-policy.json");
    // Another account gets its own, and nothing of the first.
    let other = stdout(&keyward(&["runner-policy", "--account", "444455556666"]));
    assert!(other.contains("arn:aws:iam::444455556666:role/keyward-*"));
    assert!(!other.contains("111122223333"));
}

#[test]
fn runner_policy_refuses_a_bad_account_id_with_exit_2() {
    for bad in ["12345", "11112222333a", "*", "1111222233334", ""] {
        let o = keyward(&["runner-policy", "--account", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(stdout(&o).is_empty(), "{bad:?}");
        assert!(stderr(&o).contains("must be 12 digits"), "{}", stderr(&o));
    }
    let o = keyward(&["runner-policy"]);
    assert_eq!(o.status.code(), Some(2), "--account is required");
}

/// JSON Lines of `n` generated request cases (some with duplicate Sids or other problems the
/// reader must report), and in the middle one line that is not JSON.
fn generated_lines(n: usize) -> String {
    let mut lines = generated_case_lines(n);
    lines.insert(n / 2, "{\"id\": \"broken\", \"policies\": ".to_string());
    lines.join("\n")
}

/// `eval` on every core prints what it prints on one, byte for byte, on the shipped fixtures
/// and on generated cases; a broken line in the middle is one error, and every other case is
/// still evaluated.
#[test]
fn eval_on_every_core_prints_what_one_thread_prints() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "generated.jsonl", &generated_lines(400));
    let gen = dir.path().join("generated.jsonl").display().to_string();
    for input in ["fixtures", gen.as_str()] {
        let one = keyward(&["eval", "--threads", "1", input]);
        for threads in ["2", "7"] {
            let many = keyward(&["eval", "--threads", threads, input]);
            assert_eq!(stdout(&many), stdout(&one), "{input}, {threads} threads");
            assert_eq!(stderr(&many), stderr(&one), "{input}, {threads} threads");
            assert_eq!(many.status.code(), one.status.code(), "{input}");
        }
        let summary_one = keyward(&["eval", "--summary", "--threads", "1", input]);
        let summary_many = keyward(&["eval", "--summary", input]);
        assert_eq!(stdout(&summary_many), stdout(&summary_one), "{input}");
    }
    let out = keyward(&["eval", "--threads", "3", &gen]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        401,
        "one line per case, the broken one included"
    );
    assert_eq!(out.status.code(), Some(2), "an unreadable line is exit 2");
    let broken: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l.get("error").is_some()).collect();
    assert!(
        broken
            .iter()
            .any(|l| l["id"].as_str().is_some_and(|id| id.contains("(line 201)"))),
        "{broken:?}"
    );
    // Every other case, before and after the broken line, in input order.
    let ids: Vec<&str> = lines.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids[0], "g0");
    assert_eq!(ids[199], "g199");
    assert_eq!(ids[201], "g200");
    assert_eq!(ids[400], "g399");
    assert!(lines.iter().filter(|l| l["decision"].is_string()).count() > 300);
}

#[test]
fn eval_refuses_zero_threads() {
    let o = keyward(&["eval", "--threads", "0", "fixtures"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--threads"), "{}", stderr(&o));
}

mod guardrail {
    //! `keyward guardrail`: the JSON contract of docs/cli.md, the snapshot round trip, bad input.

    use serde_json::{json, Value};

    use crate::support::{keyward, stderr, stdout, write};

    fn analysis(file: &str, extra: &[&str]) -> Value {
        let mut args = vec!["guardrail", file, "--json"];
        args.extend_from_slice(extra);
        let o = keyward(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    }

    #[test]
    fn the_articles_guardrails_in_the_json_contract() {
        let v = analysis("tests/guardrails/article.json", &[]);
        assert_eq!(
            v["principal"],
            "arn:aws:sts::123456789012:assumed-role/dev/alice"
        );
        assert_eq!(v["user"], "BedrockAPIKey-example");
        assert_eq!(v["region"], "us-east-1");
        let uses: Vec<(String, String, String)> = v["use"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["token_type"].as_str().unwrap().into(),
                    r["endpoint"].as_str().unwrap().into(),
                    r["decision"].as_str().unwrap().into(),
                )
            })
            .collect();
        let row = |t: &str, e: &str, d: &str| (t.to_string(), e.to_string(), d.to_string());
        assert_eq!(
            uses,
            [
                row("SHORT_TERM", "bedrock-runtime", "explicit_deny"),
                row("SHORT_TERM", "bedrock-mantle", "allow"),
                row("LONG_TERM", "bedrock-runtime", "allow"),
                row("LONG_TERM", "bedrock-mantle", "allow"),
            ]
        );
        assert_eq!(v["use"][0]["by"], "identity");
        assert_eq!(
            v["use"][0]["message"],
            "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: \
             bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy"
        );
        let bedrock: Vec<&Value> = v["create"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["service"] == "bedrock.amazonaws.com")
            .collect();
        let shape: Vec<(Value, &str)> = bedrock
            .iter()
            .map(|r| (r["age_days"].clone(), r["decision"].as_str().unwrap()))
            .collect();
        assert_eq!(
            shape,
            [
                (json!({"min": 1, "max": 5}), "allow"),
                (json!({"min": 6, "max": 36600}), "explicit_deny"),
                (Value::Null, "allow"),
            ]
        );
        assert_eq!(
            bedrock[1]["statement"],
            json!({"policy": "$.policies.identity[2]", "index": 0, "sid": null})
        );
        let lints: Vec<&str> = v["lints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(lints, ["never-expiring-keys-pass", "mantle-not-covered"]);
        assert_eq!(v["lints"][0]["policy"], "$.policies.identity[2]");
        assert_eq!(v["lints"][0]["statement"], 0);
        assert!(v["lints"][0]["fix"].as_str().unwrap().contains("\"Null\""));
        assert_eq!(v["depends_on"], json!([]));
    }

    #[test]
    fn every_services_rows_cover_every_age_once_then_the_key_that_never_expires() {
        for file in [
            "tests/guardrails/leaky.json",
            "tests/guardrails/aws-samples-deny-bedrock-api-keys-longer-than-30-days.json",
        ] {
            let v = analysis(file, &[]);
            let rows = v["create"].as_array().unwrap();
            let mut services: Vec<&str> = Vec::new();
            let mut next = 1;
            for r in rows {
                let service = r["service"].as_str().unwrap();
                if !services.contains(&service) {
                    assert_eq!(
                        next, 1,
                        "{file}: {service} starts before the last one ended"
                    );
                    services.push(service);
                }
                match r["age_days"].as_object() {
                    Some(a) => {
                        assert_eq!(a["min"], next, "{file}: {service}");
                        next = a["max"].as_u64().unwrap() + 1;
                    }
                    None => {
                        assert_eq!(next, 36_601, "{file}: {service} ends early");
                        next = 1;
                    }
                }
            }
            assert!(services.contains(&"bedrock.amazonaws.com"));
            assert_eq!(services.len(), 6);
        }
    }

    #[test]
    fn the_flags_change_who_and_where() {
        let v = analysis(
            "tests/guardrails/article.json",
            &[
                "--principal",
                "arn:aws:iam::111122223333:user/bob",
                "--user",
                "ci-key",
                "--region",
                "eu-west-1",
            ],
        );
        assert_eq!(v["user"], "ci-key");
        let long = &v["use"][2];
        assert_eq!(long["token_type"], "LONG_TERM");
        assert_eq!(long["decision"], "allow");
        let denied = v["create"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["decision"] == "explicit_deny")
            .unwrap();
        assert_eq!(
            denied["message"],
            "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: \
             iam:CreateServiceSpecificCredential on resource: user ci-key with an explicit deny \
             in an identity-based policy"
        );
    }

    #[test]
    fn a_snapshot_keeps_the_answer_and_shows_what_a_change_lets_through() {
        let dir = tempfile::tempdir().unwrap();
        let policies = std::fs::read_to_string("tests/guardrails/article.json").unwrap();
        write(dir.path(), "g.json", &policies);
        let g = dir.path().join("g.json");
        let snap = dir.path().join("g.snap.json");
        let (g, snap) = (g.to_str().unwrap(), snap.to_str().unwrap());
        let o = keyward(&["guardrail", g, "--expect", snap, "--update"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let written: Value = serde_json::from_str(&std::fs::read_to_string(snap).unwrap()).unwrap();
        assert_eq!(written, analysis(g, &[]));
        let o = keyward(&["guardrail", g, "--expect", snap]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("unchanged"));

        // Loosen the age limit from 5 to 30 days.
        write(dir.path(), "g.json", &policies.replace("\"5\"", "\"30\""));
        let o = keyward(&["guardrail", g, "--expect", snap]);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        let text = stdout(&o);
        assert!(
            text.contains(
                "create bedrock.amazonaws.com ages 6-30: explicit_deny by identity -> allow"
            ),
            "{text}"
        );
        // Only those ages changed.
        assert_eq!(text.matches("  create ").count(), 1, "{text}");

        // A snapshot with ages outside 1..36600 is not one.
        let mut bad = written.clone();
        bad["create"][0]["age_days"]["max"] = json!(40000);
        write(dir.path(), "g.snap.json", &bad.to_string());
        let o = keyward(&["guardrail", g, "--expect", snap]);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(
            stderr(&o).contains("$.create[0].age_days"),
            "{}",
            stderr(&o)
        );

        // A snapshot that is not one is bad input.
        write(dir.path(), "g.snap.json", "{\"principal\": 1}");
        let o = keyward(&["guardrail", g, "--expect", snap]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("not a guardrail snapshot"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn bad_input_exits_2_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "text.json", "not json");
        write(dir.path(), "array.json", "[]");
        write(dir.path(), "nopolicies.json", "{\"id\": \"x\"}");
        write(
            dir.path(),
            "badpolicy.json",
            r#"{"policies": {"identity": [{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}]}}"#,
        );
        let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        for (args, needle) in [
            (
                vec!["guardrail".to_string(), d("missing.json")],
                "cannot read",
            ),
            (vec!["guardrail".into(), d("text.json")], "$: not JSON"),
            (vec!["guardrail".into(), d("array.json")], "found an array"),
            (
                vec!["guardrail".into(), d("nopolicies.json")],
                "no `policies` member",
            ),
            (
                vec!["guardrail".into(), d("badpolicy.json")],
                "$.policies.identity[0].Statement.Effect",
            ),
            (
                vec![
                    "guardrail".into(),
                    "tests/guardrails/article.json".into(),
                    "--principal".into(),
                    "alice".into(),
                ],
                "--principal: not the ARN of an IAM user, role or role session",
            ),
            (
                vec![
                    "guardrail".into(),
                    "tests/guardrails/article.json".into(),
                    "--principal".into(),
                    "arn:aws:s3:::bucket".into(),
                ],
                "--principal: not the ARN",
            ),
            (
                vec![
                    "guardrail".into(),
                    "tests/guardrails/article.json".into(),
                    "--user".into(),
                    "a/b".into(),
                ],
                "--user:",
            ),
            (
                vec![
                    "guardrail".into(),
                    "tests/guardrails/article.json".into(),
                    "--update".into(),
                ],
                "--expect",
            ),
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = keyward(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        }
    }
}

#[test]
fn the_readme_shows_the_articles_guardrails_as_keyward_prints_them() {
    let o = keyward(&["guardrail", "tests/guardrails/article.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&stdout(&o)),
        "README's \"Is my guardrail right?\" shows another output than:\n{}",
        stdout(&o)
    );
}

/// Suites, policy files and `--policies` (docs/case-format.md, "Suites and policy files").
mod suites {
    use super::{keyward, stderr, stdout, write};
    use serde_json::{json, Value};
    use std::path::Path;

    const SCP_PLATFORM_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Sid":"OnlyPlatform","Effect":"Deny","Action":"iam:CreateServiceSpecificCredential","Resource":"*",
         "Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/platform-*"}}}]}"#;
    const ALLOW_ALL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn create_request(principal: &str) -> Value {
        json!({
            "principal": principal,
            "action": "iam:CreateServiceSpecificCredential",
            "resource": "arn:aws:iam::111122223333:user/bedrock-ci",
            "context": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com",
                        "iam:ServiceSpecificCredentialAgeDays": 5}
        })
    }

    const PLATFORM: &str = "arn:aws:sts::111122223333:assumed-role/platform-admin/bob";

    /// A folder with `policies/scp.json`, `policies/allow.json` and the suite `suite.json`.
    fn folder(suite: &Value) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        write(dir.path(), "policies/scp.json", SCP_PLATFORM_ONLY);
        write(dir.path(), "policies/allow.json", ALLOW_ALL);
        write(dir.path(), "suite.json", &suite.to_string());
        dir
    }

    fn shared() -> Value {
        json!({"scp": [[{"file": "policies/scp.json"}]], "identity": [{"file": "policies/allow.json"}]})
    }

    fn path(dir: &Path, name: &str) -> String {
        dir.join(name).display().to_string()
    }

    /// Each line of `eval`'s JSON output, by id.
    fn answers(out: &str) -> Vec<Value> {
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn the_walkthroughs_suite_passes_with_one_command() {
        let o = keyward(&["eval", "--summary", "tests/guardrails/team/suite.json"]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
        let cases = serde_json::from_str::<Value>(
            &std::fs::read_to_string("tests/guardrails/team/suite.json").unwrap(),
        )
        .unwrap()["cases"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(
            out.lines().last(),
            Some(&*format!("{cases} passed, 0 failed"))
        );
    }

    #[test]
    fn suite_cases_share_the_policies_read_from_files_and_name_them() {
        let dir = folder(&json!({
            "provenance": "authored",
            "policies": shared(),
            "cases": [
                {"id": "platform", "request": create_request(PLATFORM), "expect": {"decision": "allow"}},
                {"id": "dev", "request": create_request("arn:aws:sts::111122223333:assumed-role/dev/alice"),
                 "expect": {"decision": "explicit_deny", "by": "scp"}}
            ]
        }));
        let o = keyward(&["eval", &path(dir.path(), "suite.json")]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let a = answers(&stdout(&o));
        assert_eq!(a.len(), 2);
        assert_eq!(a[0]["decision"], "allow");
        assert_eq!(a[1]["decision"], "explicit_deny");
        assert!(a.iter().all(|x| x["agrees"] == true), "{a:?}");
    }

    /// Item 2 of the issue: a request case in a suite gets aws:PrincipalArn as AWS sets it; the
    /// same case in the bare format keeps its context literal (and is warned about).
    #[test]
    fn a_suite_request_gets_the_principal_keys_a_bare_case_does_not() {
        let dir = folder(&json!({
            "policies": shared(),
            "cases": [{"id": "in-suite", "request": create_request(PLATFORM)}]
        }));
        write(
            dir.path(),
            "bare.json",
            &json!({
                "id": "bare",
                "policies": {"scp": [[{"file": "policies/scp.json"}]], "identity": [{"file": "policies/allow.json"}]},
                "request": create_request(PLATFORM)
            })
            .to_string(),
        );
        let o = keyward(&[
            "eval",
            &path(dir.path(), "suite.json"),
            &path(dir.path(), "bare.json"),
        ]);
        let a = answers(&stdout(&o));
        assert_eq!(a[0]["decision"], "allow", "{a:?}");
        // ArnNotLike holds for a key that is absent: the bare case is denied.
        assert_eq!(a[1]["decision"], "explicit_deny", "{a:?}");
        assert!(
            stderr(&o).contains("aws:PrincipalArn"),
            "the bare case is warned about: {}",
            stderr(&o)
        );
    }

    #[test]
    fn null_keeps_a_principal_key_out_of_a_suite_request_and_a_set_key_wins() {
        let mut kept_out = create_request(PLATFORM);
        kept_out["context"]["aws:PrincipalArn"] = Value::Null;
        let mut set = create_request("arn:aws:sts::111122223333:assumed-role/dev/alice");
        set["context"]["aws:principalarn"] = json!("arn:aws:iam::111122223333:role/platform-x");
        let dir = folder(&json!({
            "policies": shared(),
            "cases": [{"id": "kept-out", "request": kept_out}, {"id": "set", "request": set}]
        }));
        let o = keyward(&["eval", &path(dir.path(), "suite.json")]);
        let a = answers(&stdout(&o));
        assert_eq!(a[0]["decision"], "explicit_deny", "{a:?}");
        assert_eq!(a[1]["decision"], "allow", "{a:?}");
    }

    #[test]
    fn a_broken_shared_policy_is_one_error_with_its_file_and_path() {
        let dir = folder(&json!({
            "policies": shared(),
            "cases": (0..5).map(|i| json!({"id": format!("c{i}"), "request": create_request(PLATFORM)})).collect::<Vec<_>>()
        }));
        write(
            dir.path(),
            "policies/scp.json",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}"#,
        );
        let o = keyward(&["eval", "--summary", &path(dir.path(), "suite.json")]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        for part in [
            "suite.json: $.policies.scp[0][0]: ",
            "policies/scp.json: $.Statement[0].Effect: MalformedPolicyDocument",
        ] {
            assert!(errors[0].contains(part), "{part} in {}", errors[0]);
        }
        assert_eq!(stdout(&o).lines().last(), Some("0 passed, 1 failed"));
    }

    #[test]
    fn a_missing_policy_file_is_an_error_at_the_reference() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "case.json",
            &json!({"id": "x", "policies": {"identity": [{"file": "nowhere.json"}]},
                    "request": create_request(PLATFORM)})
            .to_string(),
        );
        let o = keyward(&["eval", &path(dir.path(), "case.json")]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("case x: $.policies.identity[0].file: cannot read ")
                && err.contains("nowhere.json"),
            "{err}"
        );
    }

    #[test]
    fn a_case_adds_its_own_policies_to_the_suites_but_not_a_second_boundary() {
        let boundary = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]});
        let dir = folder(&json!({
            "policies": shared(),
            "cases": [
                {"id": "with-boundary", "policies": {"permissions_boundary": boundary},
                 "request": create_request(PLATFORM), "expect": {"decision": "implicit_deny", "by": "permissions_boundary"}},
                {"id": "another-level", "policies": {"scp": [[], [{"file": "policies/scp.json"}]]},
                 "request": create_request("arn:aws:sts::111122223333:assumed-role/dev/alice"),
                 "expect": {"decision": "explicit_deny", "by": "scp"}}
            ]
        }));
        let o = keyward(&["eval", "--summary", &path(dir.path(), "suite.json")]);
        assert_eq!(
            stdout(&o).lines().last(),
            Some("2 passed, 0 failed"),
            "{}",
            stderr(&o)
        );

        let dir = folder(&json!({
            "policies": {"permissions_boundary": boundary},
            "cases": [{"id": "second", "policies": {"permissions_boundary": boundary}, "request": create_request(PLATFORM)}]
        }));
        let o = keyward(&["eval", &path(dir.path(), "suite.json")]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("case second: $.cases[0].policies.permissions_boundary: the suite already gives a permissions boundary"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn errors_inside_a_suite_case_carry_its_path_from_the_suites_root() {
        let mut bad = create_request(PLATFORM);
        bad["action"] = json!("iam:*");
        let dir = folder(&json!({
            "policies": shared(),
            "cases": [{"id": "good", "request": create_request(PLATFORM)}, {"id": "bad", "request": bad},
                      {"id": "described", "description": "x", "request": create_request(PLATFORM)}]
        }));
        let o = keyward(&["eval", &path(dir.path(), "suite.json")]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("case bad: $.cases[1].request.action: "),
            "{err}"
        );
        assert!(
            err.contains(r#"case described: $.cases[2].description: unknown field "description" (a case's free text goes in "note")"#),
            "{err}"
        );
        assert_eq!(answers(&stdout(&o))[0]["decision"], "allow");
    }

    #[test]
    fn policies_flag_runs_the_same_cases_against_another_variant() {
        let dir = folder(&json!({
            "policies": shared(),
            "cases": [{"id": "dev", "request": create_request("arn:aws:sts::111122223333:assumed-role/dev/alice"),
                       "expect": {"decision": "explicit_deny", "by": "scp"}}]
        }));
        std::fs::create_dir(dir.path().join("variant")).unwrap();
        write(dir.path(), "variant/allow.json", ALLOW_ALL);
        write(
            dir.path(),
            "variant/policies.json",
            &json!({"policies": {"identity": [{"file": "allow.json"}]}}).to_string(),
        );
        let suite = path(dir.path(), "suite.json");
        let variant = path(dir.path(), "variant/policies.json");
        let o = keyward(&["eval", "--summary", &suite]);
        assert_eq!(stdout(&o).lines().last(), Some("1 passed, 0 failed"));
        // Without the SCP the developer is no longer denied.
        for cmd in [
            vec!["eval", "--summary", "--policies", &variant, &suite],
            vec![
                "check",
                "--cases",
                "0",
                "--fixtures",
                &suite,
                "--policies",
                &variant,
            ],
        ] {
            let o = keyward(&cmd);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{cmd:?}: {}{}",
                stdout(&o),
                stderr(&o)
            );
            assert!(
                stdout(&o).contains("DISAGREE dev"),
                "{cmd:?}: {}",
                stdout(&o)
            );
        }
        let o = keyward(&["explain", "--policies", &variant, &suite]);
        assert!(stdout(&o).contains("allow"), "{}", stdout(&o));
        // guardrail reads the same file through --policies or as FILE.
        let a = keyward(&["guardrail", "--json", "--policies", &variant]);
        let b = keyward(&["guardrail", "--json", &variant]);
        assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
        assert_eq!(stdout(&a), stdout(&b));
        // A variant that cannot be read is exit 2, named.
        write(
            dir.path(),
            "variant/broken.json",
            r#"{"policies": {"identity": [{"file": "none.json"}]}}"#,
        );
        let o = keyward(&[
            "eval",
            "--policies",
            &path(dir.path(), "variant/broken.json"),
            &suite,
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("error: --policies: ")
                && stderr(&o).contains("$.policies.identity[0].file"),
            "{}",
            stderr(&o)
        );
    }

    #[test]
    fn a_duplicate_id_names_both_files_or_the_file_it_repeats_in() {
        let dir = tempfile::tempdir().unwrap();
        let case = |id: &str| json!({"id": id, "request": create_request(PLATFORM)});
        write(
            dir.path(),
            "a.json",
            &json!([case("x"), case("y"), case("y")]).to_string(),
        );
        write(dir.path(), "b.json", &json!([case("x")]).to_string());
        let o = keyward(&["eval", dir.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains(
                r#"a.json: case y: $.id: duplicate id "y": already used earlier in this file"#
            ),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                r#"b.json: case x: $.id: duplicate id "x": already used in {}"#,
                dir.path().join("a.json").display()
            )),
            "{err}"
        );
    }

    #[test]
    fn authored_is_a_provenance_and_a_suite_lends_its_own_to_its_cases() {
        let dir = folder(&json!({
            "source": "ticket 42", "provenance": "authored",
            "policies": shared(),
            "cases": [{"id": "c", "request": create_request(PLATFORM)}]
        }));
        let text = std::fs::read_to_string(dir.path().join("suite.json")).unwrap();
        let cases = keyward::case::read_cases(&path(dir.path(), "suite.json"), &text).unwrap();
        let c = cases[0].as_ref().unwrap();
        assert_eq!(c.provenance, Some(keyward::case::Provenance::Authored));
        assert_eq!(c.source.as_deref(), Some("ticket 42"));
        assert!(c.in_suite);
        // The policies read from files are named by their path.
        let names: Vec<_> = c
            .policies
            .policies()
            .map(|p| p.meta().name.clone())
            .collect();
        assert_eq!(
            names,
            [
                Some("policies/scp.json".to_string()),
                Some("policies/allow.json".to_string())
            ]
        );
    }
}

/// A request case on `policies` (identity policies), expecting `decision`.
fn policies_case(id: &str, identity: serde_json::Value, decision: &str) -> String {
    serde_json::json!({
        "id": id, "source": "test", "provenance": "documented",
        "policies": {"identity": identity},
        "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "bedrock:InvokeModel", "resource": "*"},
        "expect": {"decision": decision},
    })
    .to_string()
}

/// Allow everything, then one Deny statement.
fn allow_then_deny(action: &str, condition: serde_json::Value) -> serde_json::Value {
    serde_json::json!([
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*", "Condition": condition}]},
    ])
}

/// The four meaning mistakes a user's guardrail cases passed silently with, one case each.
fn mistakes() -> Vec<(&'static str, &'static str, String)> {
    let age = "iam:ServiceSpecificCredentialAgeDays";
    [
        (
            "u/typo",
            "condition-key-never-present",
            allow_then_deny(
                "bedrock:CallWithBearerToken",
                serde_json::json!({"StringEquals": {"bedrock:BearerTokenTyp": "SHORT_TERM"}}),
            ),
        ),
        (
            "u/lower",
            "token-type-value-never-matches",
            allow_then_deny(
                "bedrock:CallWithBearerToken",
                serde_json::json!({"StringEquals": {"bedrock:BearerTokenType": "short_term"}}),
            ),
        ),
        (
            "u/unit",
            "value-never-matches-operator",
            allow_then_deny(
                "iam:CreateServiceSpecificCredential",
                serde_json::json!({"NumericGreaterThan": {age: "30days"}}),
            ),
        ),
        (
            "u/no-null",
            "never-expiring-keys-pass",
            allow_then_deny(
                "iam:CreateServiceSpecificCredential",
                serde_json::json!({"NumericGreaterThan": {age: "30"}}),
            ),
        ),
    ]
    .into_iter()
    .map(|(id, lint, identity)| (id, lint, policies_case(id, identity, "allow")))
    .collect()
}

#[test]
fn eval_warns_of_each_meaning_mistake_and_deny_warnings_fails_on_it() {
    let dir = tempfile::tempdir().unwrap();
    for (id, lint, text) in mistakes() {
        let name = format!("{}.json", id.replace('/', "-"));
        write(dir.path(), &name, &text);
        let file = dir.path().join(&name);
        let file = file.to_str().unwrap();
        let o = keyward(&["eval", file]);
        assert_eq!(o.status.code(), Some(0), "{id}: {}", stderr(&o));
        let err = stderr(&o);
        let want =
            format!("warning: {file}: case {id}: $.policies.identity[1].Statement[0]: {lint}: ");
        assert!(err.starts_with(&want), "{id}: wanted {want}\n{err}");
        assert!(err.contains("\n  fix: "), "{id}: {err}");
        // Warnings never change the exit code, unless asked to.
        let o = keyward(&["eval", "--deny-warnings", file]);
        assert_eq!(o.status.code(), Some(1), "{id}: {}", stderr(&o));
        let o = keyward(&["explain", "--deny-warnings", file]);
        assert_eq!(o.status.code(), Some(1), "{id}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!(": {lint}: ")), "{id}");
    }
    // The "30days" warning names the assumption it rests on.
    let o = keyward(&["eval", dir.path().join("u-unit.json").to_str().unwrap()]);
    assert!(
        stderr(&o).contains("which is not a number (AWS documents numeric values as an integer or a decimal): it never matches any request\n  fix: write \"30\" (digits only, no unit)\n  rests on: A-NUMERIC-SYNTAX\n"),
        "{}",
        stderr(&o)
    );
    // A clean case: no warning, and --deny-warnings passes.
    write(dir.path(), "clean.json", &case("t/clean", "allow"));
    let clean = dir.path().join("clean.json");
    for cmd in ["eval", "explain"] {
        let o = keyward(&[cmd, "--deny-warnings", clean.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{cmd}");
    }
    let o = keyward(&[
        "check",
        "--cases",
        "0",
        "--deny-warnings",
        "--fixtures",
        clean.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // check: the warnings on standard error, one line in the report, exit 1 only when denied.
    let all = dir.path().to_str().unwrap();
    let o = keyward(&["check", "--cases", "0", "--fixtures", all]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("warning: ").count(), 4, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\nlints: 4 warnings in 4 policy sets (standard error); --deny-warnings fails on them\n"),
        "{}",
        stdout(&o)
    );
    let o = keyward(&[
        "check",
        "--cases",
        "0",
        "--deny-warnings",
        "--fixtures",
        all,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = keyward(&["check", "--cases", "0", "--json", "--fixtures", all]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = report["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(
        report["lints"][0]["path"],
        "$.policies.identity[1].Statement[0]"
    );
}

#[test]
fn cases_sharing_policies_get_one_warning_naming_the_first_and_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, one) = &mistakes()[1];
    let mut text = String::new();
    for k in 0..3 {
        text.push_str(&one.replace("u/lower", &format!("u/lower-{k}")));
        text.push('\n');
    }
    write(dir.path(), "three.jsonl", &text);
    let file = dir.path().join("three.jsonl");
    let o = keyward(&["eval", file.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(err.matches("warning: ").count(), 1, "{err}");
    assert!(
        err.contains("case u/lower-0 (and 2 other cases with the same policies): "),
        "{err}"
    );
}

#[test]
fn check_reads_the_case_files_and_folders_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "guardrails.json", &case("t/one", "allow"));
    std::fs::create_dir(dir.path().join("more")).unwrap();
    write(
        &dir.path().join("more"),
        "cases.jsonl",
        &format!("{}\n{}\n", case("t/two", "allow"), case("t/three", "allow")),
    );
    let file = dir.path().join("guardrails.json");
    let folder = dir.path().join("more");
    let (file, folder) = (file.to_str().unwrap(), folder.to_str().unwrap());
    let o = keyward(&["check", "--cases", "0", "--fixtures", file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().next(),
        Some(format!("keyward check: {file} (1 file)").as_str())
    );
    assert_eq!(stdout(&o).lines().last(), Some("1 passed, 0 failed"));
    let o = keyward(&[
        "check",
        "--cases",
        "0",
        "--fixtures",
        file,
        "--fixtures",
        folder,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().next(),
        Some(format!("keyward check: {file}, {folder} (2 files)").as_str())
    );
    assert_eq!(stdout(&o).lines().last(), Some("3 passed, 0 failed"));
    // A path that does not exist: a clear error, exit 2.
    let missing = dir.path().join("cases/guardrail.json");
    let o = keyward(&[
        "check",
        "--fixtures",
        file,
        "--fixtures",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(&format!(
            "error: {}: no such file or directory (--fixtures takes case files and folders",
            missing.display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_with_no_generated_cases_has_no_property_section() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.json", &case("t/a", "allow"));
    let fixtures = dir.path().join("a.json");
    let junit = dir.path().join("report.xml");
    let args = |more: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "check",
            "--cases",
            "0",
            "--fixtures",
            fixtures.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    let run = |more: &[&str]| {
        let a = args(more);
        keyward(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&["--junit", junit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for absent in [
        "properties of",
        "cases, 0 failed",
        "generated",
        "per minute",
    ] {
        assert!(!out.contains(absent), "{absent:?} in\n{out}");
    }
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains("property "), "{xml}");
    let o = run(&["--json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(report["generated"].is_null(), "{report}");
    // With generated cases the section is there.
    let o = keyward(&[
        "check",
        "--cases",
        "22",
        "--fixtures",
        fixtures.to_str().unwrap(),
    ]);
    assert!(
        stdout(&o).contains("cases per minute per core"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_junit_has_one_test_case_per_case_and_per_property() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cases.jsonl",
        &format!(
            "{}\n{}\n{}\n{{\"id\":\"t/broken\"}}\n",
            case("t/a", "allow"),
            case("t/b&c", "allow"),
            case("t/wrong", "implicit_deny")
        ),
    );
    let file = dir.path().join("cases.jsonl");
    let junit = dir.path().join("report.xml");
    let o = keyward(&[
        "check",
        "--cases",
        "22",
        "--fixtures",
        file.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let f = file.to_str().unwrap();
    assert!(
        xml.contains(&format!("<testcase classname=\"{f}\" name=\"t/a\"/>")),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<testcase classname=\"{f}\" name=\"t/b&amp;c\"/>")),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<testcase classname=\"{f}\" name=\"t/wrong\"><failure message=\"DISAGREE t/wrong ({f}): expected implicit_deny, got allow\">DISAGREE t/wrong"
        )),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<testcase classname=\"{f}\" name=\"t/broken\"><error message=\"UNREADABLE {f}: case t/broken: ")),
        "{xml}"
    );
    assert!(
        xml.contains("tests=\"4\" failures=\"1\" errors=\"1\""),
        "{xml}"
    );
    // One per property (11), besides the four cases.
    assert_eq!(xml.matches("<testcase ").count(), 4 + 11, "{xml}");
    assert!(
        xml.contains("<testcase classname=\"properties\" name=\"statement-order\">"),
        "{xml}"
    );
}

#[test]
fn check_on_the_shipped_fixtures_warns_once_per_finding_and_still_passes() {
    let o = keyward(&["check", "--cases", "0"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    // Every warning is a distinct finding.
    let mut distinct = warnings.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), warnings.len(), "{err}");
    let out = stdout(&o);
    assert!(
        out.contains(&format!("\nlints: {} warnings in ", warnings.len())),
        "{out}"
    );
    assert!(
        out.lines().last().unwrap().ends_with(" passed, 0 failed"),
        "{out}"
    );
}

/// docs/testing-guardrails.md: every command of the walkthrough, on its shipped example.
#[test]
fn testing_guardrails_walkthrough() {
    let suite = "tests/guardrails/team/suite.json";
    let o = keyward(&["eval", "--summary", suite]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).ends_with("13 passed, 0 failed\n"),
        "{}",
        stdout(&o)
    );
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));

    // Every line has a reason; the cross-Region case names the route that is denied.
    let o = keyward(&["eval", suite]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["reason"].is_string()), "{lines:?}");
    let cris = lines
        .iter()
        .find(|l| l["id"] == "use/cross-region-profile-denied-where-routed-outside-the-two-regions")
        .unwrap();
    let why = cris["reason"].as_str().unwrap();
    assert!(
        why.contains("allowed when routed to us-east-1, denied when routed to us-east-2, allowed when routed to us-west-2"),
        "{why}"
    );
    assert!(why.contains("policies/dev-identity.json"), "{why}");

    let o = keyward(&[
        "explain",
        "--brief",
        "--case",
        "use/short-term-key-denied",
        suite,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("NoShortTermKeys"), "{}", stdout(&o));
    let o = keyward(&["explain", "--failing", suite]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""));

    // The variant without the account's SCP level lets keys through that the suite denies.
    let o = keyward(&[
        "eval",
        "--summary",
        "--policies",
        "tests/guardrails/team/variant.json",
        suite,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("DISAGREE create/31-days-denied"),
        "{}",
        stdout(&o)
    );

    let o = keyward(&[
        "guardrail",
        suite,
        "--expect",
        "tests/guardrails/team/allowed.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("keyward.xml");
    let o = keyward(&[
        "check",
        "--fixtures",
        suite,
        "--cases",
        "0",
        "--junit",
        junit.to_str().unwrap(),
        "--deny-warnings",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).ends_with("13 passed, 0 failed\n"),
        "{}",
        stdout(&o)
    );
    let xml = std::fs::read_to_string(junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 13, "{xml}");
}
