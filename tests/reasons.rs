//! A reason for every outcome, through the real binary: `eval`'s `reason` and `statement`, the
//! `why:` line under a disagreement (`eval --summary`, `check`), `check --json`'s problems, and
//! `explain --brief` / `--failing`.

use serde_json::{json, Value};

use crate::support::{json_lines, keyward, stdout, write};

const PRINCIPAL: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";

fn request(context: Value) -> Value {
    json!({"principal": PRINCIPAL, "action": "bedrock:CallWithBearerToken", "resource": "*", "context": context})
}

fn allow_s3_only() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
}

fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// One case of each reason kind; only `r/wrong-region` disagrees with its `expect` (the user's
/// complaint: a key issued for us-east-1, used in eu-west-1, expected to be allowed).
fn cases() -> String {
    let cases = [
        json!({"id": "r/deny-sid", "policies": {"identity": [{"name": "dev-identity", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"},
            {"Sid": "DenyShortTerm", "Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
             "Condition": {"StringEquals": {"bedrock:BearerTokenType": "SHORT_TERM"}}}]}}]},
            "request": request(json!({"bedrock:BearerTokenType": "SHORT_TERM"})),
            "expect": {"decision": "explicit_deny", "by": "identity"}}),
        json!({"id": "r/allow", "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
            {"Sid": "AllowBedrock", "Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}]},
            "request": request(json!({})), "expect": {"decision": "allow"}}),
        json!({"id": "r/scp-level", "policies": {"identity": [allow_all()], "scp": [[allow_all()], [allow_s3_only()]]},
            "request": request(json!({})), "expect": {"decision": "implicit_deny", "by": "scp"}}),
        json!({"id": "r/identity-named", "policies": {"identity": [{"name": "dev-identity", "document": allow_s3_only()}]},
            "request": request(json!({})), "expect": {"decision": "implicit_deny"}}),
        json!({"id": "r/condition", "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]}]},
            "request": request(json!({"aws:RequestedRegion": "eu-west-1"})), "expect": {"decision": "implicit_deny"}}),
        json!({"id": "r/wrong-region", "policies": {"identity": [allow_all()]},
            "scenario": {"call": {"operation": "InvokeModel",
                "key": {"type": "SHORT_TERM", "principal": PRINCIPAL, "region": "us-east-1"},
                "model": "amazon.nova-lite-v1:0", "region": "eu-west-1"}},
            "expect": {"decision": "allow"}}),
    ];
    cases.iter().map(|c| format!("{c}\n")).collect()
}

const WRONG_REGION: &str = "the key was issued for us-east-1 and used in eu-west-1";

fn file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cases.jsonl", &cases());
    let f = dir.path().join("cases.jsonl").to_str().unwrap().to_string();
    (dir, f)
}

#[test]
fn eval_gives_every_case_a_reason_and_the_deciding_statement() {
    let (_dir, f) = file();
    let o = keyward(&["eval", &f]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let lines = json_lines(&o);
    let by_id = |id: &str| lines.iter().find(|l| l["id"] == id).unwrap().clone();

    let l = by_id("r/deny-sid");
    assert_eq!(
        l["reason"],
        r#"explicit deny by identity $.policies.identity[0].Statement[1] (Sid "DenyShortTerm", policy "dev-identity")"#
    );
    assert_eq!(
        l["statement"],
        json!({"policy": "$.policies.identity[0]", "index": 1, "sid": "DenyShortTerm"})
    );
    // The new fields trail the existing ones, in the contract's order.
    let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "decision",
            "by",
            "message",
            "agrees",
            "assumptions",
            "message_form",
            "reason",
            "statement"
        ]
    );

    let l = by_id("r/allow");
    assert_eq!(
        l["reason"],
        r#"allowed by identity $.policies.identity[0].Statement[0] (Sid "AllowBedrock")"#
    );
    assert_eq!(
        l["statement"],
        json!({"policy": "$.policies.identity[0]", "index": 0, "sid": "AllowBedrock"})
    );

    let l = by_id("r/scp-level");
    assert_eq!(
        l["reason"],
        "implicit deny: no Allow in the SCPs of level 1 ($.policies.scp[1])"
    );
    assert_eq!(l["statement"], Value::Null);

    assert_eq!(
        by_id("r/identity-named")["reason"],
        r#"implicit deny: no Allow in the identity-based policies ($.policies.identity[0] "dev-identity")"#
    );
    assert_eq!(
        by_id("r/condition")["reason"],
        "implicit deny: no Allow in the identity-based policies ($.policies.identity)"
    );

    let l = by_id("r/wrong-region");
    assert_eq!(l["decision"], Value::Null);
    assert!(
        l["reason"].as_str().unwrap().starts_with(WRONG_REGION),
        "{l}"
    );
    assert_eq!(l["statement"], Value::Null);
    assert!(
        l.get("expected").is_some(),
        "a disagreement keeps `expected`"
    );
}

#[test]
fn a_scenario_denied_by_a_policy_names_the_request_and_the_statement() {
    let dir = tempfile::tempdir().unwrap();
    let case = json!({"id": "r/model-denied", "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"},
        {"Sid": "NoNova", "Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:*::foundation-model/amazon.nova-*"}]}]},
        "scenario": {"call": {"operation": "InvokeModel",
            "key": {"type": "SHORT_TERM", "principal": PRINCIPAL, "region": "us-east-1"},
            "model": "amazon.nova-lite-v1:0", "region": "us-east-1"}}});
    write(dir.path(), "c.json", &case.to_string());
    let o = keyward(&["eval", dir.path().join("c.json").to_str().unwrap()]);
    let l = &json_lines(&o)[0];
    assert_eq!(
        l["reason"],
        r#"bedrock:InvokeModel on arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0: explicit deny by identity $.policies.identity[0].Statement[1] (Sid "NoNova")"#
    );
    assert_eq!(
        l["statement"],
        json!({"policy": "$.policies.identity[0]", "index": 1, "sid": "NoNova"})
    );
}

#[test]
fn a_disagreement_says_why_in_eval_summary_and_check() {
    let (dir, f) = file();
    let o = keyward(&["eval", "--summary", &f]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let block: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("DISAGREE r/wrong-region"))
        .collect();
    assert!(
        block[0].contains("expected allow, got refused before authorization: HTTP 403"),
        "{out}"
    );
    assert!(
        block[1].starts_with(&format!("  why: {WRONG_REGION}")),
        "{out}"
    );

    let fixtures = dir.path().to_str().unwrap();
    let o = keyward(&["check", "--fixtures", fixtures, "--cases", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "got refused before authorization: HTTP 403\n  why: {WRONG_REGION}"
        )),
        "{out}"
    );

    let o = keyward(&["check", "--fixtures", fixtures, "--cases", "0", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let problems = report["fixtures"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["id"], "r/wrong-region");
    assert!(
        problems[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with(WRONG_REGION),
        "{problems:?}"
    );
    assert!(problems[0]["detail"].as_str().unwrap().contains("  why: "));
}

#[test]
fn explain_brief_shows_the_statements_that_applied_and_the_failed_conditions() {
    let (_dir, f) = file();
    let o = keyward(&["explain", "--brief", "--case", "r/condition", &f]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(
        out,
        format!(
            "case r/condition\n\
             request: {PRINCIPAL} calls bedrock:CallWithBearerToken on *\n  \
             condition failed: Allow $.policies.identity[0].Statement[0]\n    \
             StringEquals aws:RequestedRegion [\"us-east-1\"] is false (request: [\"eu-west-1\"])\n  \
             decision: implicit_deny by identity\n\
             reason: implicit deny: no Allow in the identity-based policies ($.policies.identity)\n\
             message: User: {PRINCIPAL} is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action\n\
             agrees with expect\n"
        )
    );

    let o = keyward(&["explain", "--brief", "--case", "r/deny-sid", &f]);
    let out = stdout(&o);
    assert!(
        out.contains("  applies: Allow $.policies.identity[0].Statement[0] \"dev-identity\"\n  applies: Deny $.policies.identity[0].Statement[1] \"dev-identity\" Sid \"DenyShortTerm\"\n"),
        "{out}"
    );

    // Brief is a few lines per case; the full account is several times longer.
    let brief = stdout(&keyward(&["explain", "--brief", &f]));
    let cases = brief.matches("\ncase ").count() + 1;
    assert_eq!(cases, 6, "{brief}");
    assert!(brief.lines().count() <= cases * 9, "{brief}");
    // On the shipped fixtures, less than half the full account.
    let fixtures = crate::support::root().join("fixtures");
    let fixtures = fixtures.to_str().unwrap();
    let brief = stdout(&keyward(&["explain", "--brief", fixtures]));
    let full = stdout(&keyward(&["explain", fixtures]));
    assert!(brief.lines().count() * 2 < full.lines().count());
}

#[test]
fn explain_of_a_rejected_key_says_why() {
    let (_dir, f) = file();
    for view in [&[][..], &["--brief"]] {
        let o = keyward(&[&["explain", "--case", "r/wrong-region"], view, &[&f]].concat());
        assert_eq!(o.status.code(), Some(1), "it disagrees");
        let out = stdout(&o);
        assert!(
            out.contains(&format!("\nreason: {WRONG_REGION} (a short-term key")),
            "{view:?}: {out}"
        );
    }
    let brief = stdout(&keyward(&[
        "explain",
        "--brief",
        "--case",
        "r/wrong-region",
        &f,
    ]));
    assert!(
        brief.ends_with("DISAGREE r/wrong-region (expect): expected allow, got refused before authorization: HTTP 403\n"),
        "{brief}"
    );
}

#[test]
fn explain_failing_skips_the_cases_that_agree() {
    let (dir, f) = file();
    for view in [&["--failing"][..], &["--failing", "--brief"]] {
        let o = keyward(&[&["explain"], view, &[&f]].concat());
        assert_eq!(o.status.code(), Some(1), "{view:?}");
        let out = stdout(&o);
        assert!(out.starts_with("case r/wrong-region\n"), "{out}");
        assert_eq!(out.matches("case r/").count(), 1, "{out}");
    }
    // A case that agrees: nothing to explain, not an error; every case agrees: exit 0.
    let o = keyward(&["explain", "--failing", "--case", "r/allow", &f]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), String::new()));
    let agreeing: String = cases()
        .lines()
        .filter(|l| !l.contains("r/wrong-region"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(dir.path(), "agree.jsonl", &agreeing);
    let o = keyward(&[
        "explain",
        "--failing",
        dir.path().join("agree.jsonl").to_str().unwrap(),
    ]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), String::new()));
    // An unknown id is still an error.
    let o = keyward(&["explain", "--failing", "--case", "r/nope", &f]);
    assert_eq!(o.status.code(), Some(2));
}
