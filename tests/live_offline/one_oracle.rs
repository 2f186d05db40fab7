//! `check --live` is `check` with AWS as the reference oracle: the same comparison, the same
//! report (per provenance, disagreements, failures), and `--json` / `--junit` like `check`.

use super::*;
use crate::support::{keyward_offline, stderr};

/// A simulator that allows everything: the identity-deny case disagrees with the local
/// evaluator, the allowed one agrees.
fn allowing_simulator(fake: &Fake) {
    fake.hook(|r, w| {
        (r.op == "SimulateCustomPolicy").then(|| {
            let id = w.uuid();
            let all: Vec<SimResult> = sim_pairs(r)
                .into_iter()
                .map(|(a, res)| (a, res, "allowed", None).into())
                .collect();
            simulate_answer(&all, None, &id)
        })
    });
}

/// Two simulated cases (one agreeing, one not) and one the plan skips (a session policy).
fn fixtures(dir: &Path) -> PathBuf {
    let allowed = sim_case("sim/allowed", "bedrock:InvokeModel", R1);
    let denied = sim_case("sim/identity-deny", "bedrock:InvokeModel", R2);
    let mut v = sim_case("sim/session", "bedrock:InvokeModel", R1).to_json();
    v["policies"]["session"] = json!([doc(
        json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    )]);
    let skipped = case(&v);
    write_fixtures(dir, &[&allowed, &denied, &skipped])
}

#[test]
fn check_live_reports_like_check_with_aws_as_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let fx = fixtures(dir.path());
    let fake = Fake::new(SANDBOX);
    allowing_simulator(&fake);
    let junit = dir.path().join("live.xml");
    let mut cmd = check(args(&cfg), &fx, 0);
    if let LiveCommand::Check { junit: j, .. } = &mut cmd {
        *j = Some(junit.clone());
    }
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(cmd, setup);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "oracle local-evaluator vs aws:", "{out}");
    assert_eq!(
        lines[1], "  generated    1 agree, 1 disagree, 1 skipped",
        "{out}"
    );
    // AWS is the reference: its answer is the expected one; the file and the oracle are named.
    let disagree = lines
        .iter()
        .find(|l| l.starts_with("DISAGREE sim/identity-deny ("))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        disagree
            .ends_with(", answered by simulator): expected allow, got explicit_deny by identity"),
        "{disagree}"
    );
    assert!(disagree.contains("cases.json"), "{disagree}");
    assert!(
        out.contains("  skipped 1: SimulateCustomPolicy takes no session policies"),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"1 passed, 1 failed"), "{out}");

    // One JUnit test case per case.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(
            "<testsuite name=\"local-evaluator vs aws\" tests=\"3\" failures=\"1\" skipped=\"1\">"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase classname=\"generated\" name=\"sim/allowed\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase classname=\"generated\" name=\"sim/identity-deny\"><failure message=\"DISAGREE sim/identity-deny"),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase classname=\"generated\" name=\"sim/session\"><skipped message=\"skipped: SimulateCustomPolicy takes no session policies\"/>"),
        "{xml}"
    );
}

#[test]
fn check_live_json_gives_both_answers_of_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let fx = fixtures(dir.path());
    let fake = Fake::new(SANDBOX);
    allowing_simulator(&fake);
    let mut cmd = check(args(&cfg), &fx, 0);
    if let LiveCommand::Check { json, .. } = &mut cmd {
        *json = true;
    }
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(cmd, setup);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let cases = v["cases"].as_array().unwrap();
    let denied = cases
        .iter()
        .find(|c| c["id"] == "sim/identity-deny")
        .unwrap();
    assert_eq!(denied["outcome"], "disagree");
    assert_eq!(denied["aws"]["answer"]["decision"], "allow");
    assert_eq!(denied["aws"]["from"], "simulator");
    assert_eq!(
        denied["local-evaluator"]["answer"]["decision"],
        "explicit_deny"
    );
    let session = cases.iter().find(|c| c["id"] == "sim/session").unwrap();
    assert_eq!(session["outcome"], "skipped");
    assert_eq!(
        session["aws"]["unanswered"],
        "skipped: SimulateCustomPolicy takes no session policies"
    );
}

#[test]
fn check_live_refuses_the_options_of_the_property_run() {
    let dir = tempfile::tempdir().unwrap();
    for flag in [
        &["--threads", "2"][..],
        &["--time-budget", "10"],
        &["--shard", "1/2"],
        &["--property", "matching-deny-wins"],
        &["--save-failures", "out"],
    ] {
        let mut a = vec!["check", "--live", "--dry-run"];
        a.extend_from_slice(flag);
        let o = keyward_offline(&a, dir.path());
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("do not apply to --live"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn what_cleanup_could_not_delete_is_reported_without_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let c = short_term_call("t/role", ROLE_ALICE, allow_all());
    let fx = write_fixtures(dir.path(), &[&c]);
    let fake = Fake::new(SANDBOX);
    // IAM refuses to delete the case's role, in words that name the account.
    fake.hook(|r, w| {
        (r.op == "DeleteRole").then(|| {
            let role = r.param("RoleName").unwrap_or_default().to_string();
            let message = format!(
                "Cannot delete entity, must delete policies first: arn:aws:iam::{SANDBOX}:role/{role}"
            );
            iam_error(w, 409, "DeleteConflict", &message)
        })
    });
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 1, "something was left: {out}{err}");
    let left: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("NOT DELETED role keyward-"))
        .collect();
    assert!(!left.is_empty(), "{out}");
    assert!(!out.contains(SANDBOX), "{out}");
}
