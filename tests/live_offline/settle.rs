//! Settling and the run's environment. IAM's changes are eventually consistent
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):
//! here the fake lets a policy, a new long-term key or a key's deactivation reach Bedrock only
//! after a delay, flapping between the old and the new state for a while, and each test checks
//! that no stale state is recorded. The tests run a real run's waits on tokio's paused time.
//! Then the model: a model the account has no access to, or a profile id that does not exist, is
//! a problem of the run's environment, never a disagreement.

use super::*;
use fake::{Lag, INVALID_MODEL_ID, NO_MODEL_ACCESS};
use keyward::live::enforce::EnvProblem;
use keyward::live::plan::Skip;
use tokio::time::Instant;

/// A real run's settling, with room for the slowest case here.
fn real_opts() -> LiveOptions {
    LiveOptions {
        settle: Settle::new(Duration::from_secs(300)),
        ..opts()
    }
}

fn lag(delay: u64, flap: u64) -> Lag {
    Lag {
        delay: Duration::from_secs(delay),
        flap: Duration::from_secs(flap),
    }
}

/// Notes the time (seconds after `t0`) and the answer of every model call the fake answers.
fn call_times(fake: &Fake, t0: Instant) -> Arc<std::sync::Mutex<Vec<u64>>> {
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = times.clone();
    fake.hook(move |r, _| {
        if r.service == "bedrock" {
            seen.lock().unwrap().push(t0.elapsed().as_secs());
        }
        None
    });
    times
}

#[tokio::test(start_paused = true)]
async fn a_policy_that_reaches_bedrock_after_a_few_seconds_is_not_recorded_stale() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // The role's policy reaches Bedrock 13 s after it is put: until then the call is denied.
    fake.world_mut(|w| w.propagation.policies = lag(13, 0));
    let times = call_times(&fake, Instant::now());
    let aws = verified(&fake, dir.path()).await;
    let c = documented("identity-deny-long-term/short-term-call-allowed");
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &real_opts()).await;
    let r = only(&report);
    let got = r.aws.clone().expect("an answer");
    let times = times.lock().unwrap().clone();
    assert_eq!(got.decision, Some(DecisionKind::Allow), "{times:?} {got:?}");
    assert_eq!(r.status, Status::Agreed);
    // The denial was seen, and the answer recorded was seen at least three times over 30 s.
    assert!(times[0] < 13, "{times:?}");
    let allowed: Vec<u64> = times.iter().copied().filter(|t| *t >= 13).collect();
    assert!(allowed.len() >= 3, "{times:?}");
    assert!(allowed.last().unwrap() - allowed[0] >= 30, "{times:?}");
    assert_all_deleted(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_flapping_policy_is_recorded_only_once_it_has_stopped_flapping() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // Old and new answer in turn from 5 s to 65 s after the policy is put.
    fake.world_mut(|w| w.propagation.policies = lag(5, 60));
    let times = call_times(&fake, Instant::now());
    let aws = verified(&fake, dir.path()).await;
    let c = documented("identity-deny-long-term/short-term-call-allowed");
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &real_opts()).await;
    let r = only(&report);
    let times = times.lock().unwrap().clone();
    assert_eq!(r.status, Status::Agreed, "{times:?} {r:?}");
    assert!(*times.last().unwrap() >= 65 + 30, "{times:?}");
    assert_all_deleted(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_new_long_term_key_bedrock_does_not_know_yet_is_not_recorded_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // Bedrock learns of the new key 13 s after IAM made it: until then, "Authentication failed".
    fake.world_mut(|w| w.propagation.key_created = lag(13, 0));
    let times = call_times(&fake, Instant::now());
    let aws = verified(&fake, dir.path()).await;
    let c = long_term_call("t/new-key", allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &real_opts()).await;
    let r = only(&report);
    let got = r.aws.clone().expect("an answer");
    let times = times.lock().unwrap().clone();
    assert_eq!(got.status, Some(200), "{times:?} {got:?}");
    assert_eq!(r.status, Status::Agreed);
    assert!(times[0] < 13, "the unknown key was seen: {times:?}");
    assert_all_deleted(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_deactivated_key_is_recorded_only_once_bedrock_sees_it_inactive() {
    for (delay, flap) in [(13, 0), (5, 30)] {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake::new(SANDBOX);
        // The deactivation reaches Bedrock late (and then flaps): until then the key works.
        fake.world_mut(|w| w.propagation.key_status = lag(delay, flap));
        let times = call_times(&fake, Instant::now());
        let aws = verified(&fake, dir.path()).await;
        let c = keyward::live::probe::probe_case("B-AUTH-FAILED-MESSAGE").unwrap();
        let report = run_cases(&aws, &RunId::new(), None, None, &[c], &real_opts()).await;
        let r = only(&report);
        let got = r.aws.clone().expect("an answer");
        let times = times.lock().unwrap().clone();
        assert_eq!(
            got.body,
            Some(json!({ "Message": AUTH_FAILED }).to_string()),
            "lag {delay}+{flap}: {times:?}"
        );
        assert_eq!(r.status, Status::Agreed);
        assert!(
            times[0] < delay + flap,
            "the key was seen working: {times:?}"
        );
        // Recorded from answers given after the deactivation had reached Bedrock for good.
        let settled: Vec<u64> = times
            .iter()
            .copied()
            .filter(|t| *t >= delay + flap)
            .collect();
        assert!(settled.len() >= 3, "{times:?}");
        assert_all_deleted(&fake);
    }
}

/// A deactivated key Bedrock keeps accepting past the window (here, past the whole timeout) is
/// never recorded as working: the case ends as not settled, with its reason.
#[tokio::test(start_paused = true)]
async fn a_deactivated_key_that_keeps_working_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| w.propagation.key_status = lag(10_000, 0));
    let aws = verified(&fake, dir.path()).await;
    let c = keyward::live::probe::probe_case("B-AUTH-FAILED-MESSAGE").unwrap();
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &real_opts()).await;
    let r = only(&report);
    assert!(r.aws.is_none(), "{r:?}");
    match &r.status {
        Status::Failed(why) => assert!(why.contains("did not settle"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(fake.count("Converse") >= 3, "{:?}", fake.ops());
    assert_all_deleted(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_short_term_key_is_signed_for_each_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // A key that lives 5 s: one signed before the settle wait has expired when it is used.
    let c = case(&json!({
        "id": "t/short-lived", "source": "live_offline", "provenance": "generated",
        "policies": allow_all(),
        "scenario": {"call": {"operation": "Converse",
            "key": {"type": "SHORT_TERM", "principal": ROLE_ALICE, "region": "us-east-1", "expires_in": 5},
            "model": MODEL, "region": "us-east-1"}}
    }));
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &real_opts()).await;
    let r = only(&report);
    let got = r.aws.clone().expect("an answer");
    assert_eq!(got.status, Some(200), "{got:?}");
    assert_eq!(r.status, Status::Agreed);
    let keys: BTreeSet<String> = fake
        .of("Converse")
        .iter()
        .map(|c| c.header("authorization").unwrap().to_string())
        .collect();
    assert!(keys.len() >= 3, "one key per attempt: {}", keys.len());
    assert_eq!(keys.len(), fake.count("Converse"));
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn profiles_bedrock_does_not_document_for_the_run_model_are_skipped_not_called() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let mk = |geo: &str| {
        case(&json!({
            "id": format!("t/{geo}"), "source": "live_offline", "provenance": "generated",
            "policies": allow_all(),
            "scenario": {"call": {"operation": "Converse",
                "key": {"type": "SHORT_TERM", "principal": ROLE_ALICE, "region": "us-east-1"},
                "model": format!("{geo}.anthropic.claude-sonnet-4-5-20250929-v1:0"), "region": "us-east-1"}}
        }))
    };
    let cases = [mk("global"), mk("jp"), mk("au"), mk("eu")];
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    for (r, geo) in report.cases.iter().zip(["global", "jp", "au"]) {
        assert_eq!(
            r.status,
            Status::Skipped(Skip::NoSuchProfile(format!("{geo}.amazon.nova-micro-v1:0"))),
            "{r:?}"
        );
    }
    // The EU profile exists: it is called, and once only by this case's principal.
    assert_eq!(
        report.cases[3].status,
        Status::Agreed,
        "{:?}",
        report.cases[3]
    );
    let sent: BTreeSet<String> = fake.of("Converse").iter().map(|r| r.uri.clone()).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent.iter()
            .all(|u| u.contains("/model/eu.amazon.nova-micro-v1")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn the_fake_refuses_a_profile_that_does_not_exist_as_bedrock_does() {
    // What the plan sent for a `global.` case before such profiles were skipped, and what
    // Bedrock answers it.
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let secret = "ABSKdGVzdA==";
    fake.world_mut(|w| {
        w.creds.push(ServiceCred {
            id: "ACCATEST".into(),
            user: "u".into(),
            service: "bedrock.amazonaws.com".into(),
            secret: secret.into(),
            active: true,
            seq: 0,
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let client = aws.bedrock_with_key("us-east-1", &keyward::live::aws::Secret::new(secret));
    let send = |model: &'static str| {
        let client = client.clone();
        async move {
            client
                .converse()
                .model_id(model)
                .send()
                .await
                .err()
                .map(|e| keyward::live::aws::ApiFailure::from_sdk(&e))
        }
    };
    for model in ["global.amazon.nova-micro-v1:0", "jp.amazon.nova-micro-v1:0"] {
        let f = send(model).await.expect("refused");
        assert_eq!(f.status, Some(400));
        assert_eq!(f.code.as_deref(), Some("ValidationException"));
        assert_eq!(f.message.as_deref(), Some(INVALID_MODEL_ID));
    }
    assert!(send("apac.amazon.nova-micro-v1:0").await.is_none());
}

/// Denies case 1's `dev/alice` (in the literal run) the bearer-token action, in AWS's words;
/// every other call gets the fake's own answer.
fn deny_alice_1_explicitly(fake: &Fake) {
    fake.hook(|r, w| {
        (r.service == "bedrock" && r.caller_arn.as_deref() == Some(LIVE_ALICE_1))
            .then(|| bedrock_error(w, 403, "AccessDeniedException", AWS_EXPLICIT_DENY_ALICE_1))
    });
}

const BOB: &str = "arn:aws:sts::123456789012:assumed-role/ops/bob";

#[tokio::test]
async fn a_model_the_account_cannot_use_is_an_environment_problem_and_a_policy_deny_is_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // Both are AccessDeniedExceptions: one is the account's model access, one a policy's deny.
    fake.world_mut(|w| {
        w.models_without_access
            .insert("amazon.nova-micro-v1:0".into())
    });
    deny_alice_1_explicitly(&fake);
    let aws = verified(&fake, dir.path()).await;
    let cases = [
        short_term_call("t/no-model-access", BOB, allow_all()),
        documented("identity-deny-short-term/short-term-call-denied"),
    ];
    let report = run_cases(&aws, &literal_run(), None, None, &cases, &opts()).await;
    let no_access = &report.cases[0];
    let Status::Environment(problem) = &no_access.status else {
        panic!("not an environment problem: {no_access:?}");
    };
    assert!(
        matches!(problem, EnvProblem::ModelAccess { model, region, message }
            if model == "us.amazon.nova-micro-v1:0" && region == "us-east-1" && message == NO_MODEL_ACCESS),
        "{problem:?}"
    );
    assert!(no_access.aws.is_none(), "nothing is recorded");
    assert!(no_access.recorded("source").is_none());
    assert_eq!(
        fake.count("Converse"),
        1 + 3,
        "asked once: no settling on the environment"
    );
    let denied = &report.cases[1];
    assert_eq!(denied.status, Status::Agreed, "{denied:?}");
    assert_eq!(
        denied.aws.as_ref().unwrap().decision,
        Some(DecisionKind::ExplicitDeny)
    );
    assert_eq!(
        denied.aws.as_ref().unwrap().message.as_deref(),
        Some(CASE_EXPLICIT_DENY_ALICE)
    );
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn a_model_bedrock_no_longer_serves_is_an_environment_problem() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // A public report's text for a retired model (awslabs/llmeter#35).
    fake.hook(|r, w| {
        (r.service == "bedrock").then(|| bedrock_error(w, 404, "ResourceNotFoundException", "Access denied. This Model is marked by provider as Legacy and you have not been actively using the model in the last 15 days. Please upgrade to an active model on Amazon Bedrock"))
    });
    let aws = verified(&fake, dir.path()).await;
    let c = short_term_call("t/legacy", ROLE_ALICE, allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    assert!(
        matches!(&r.status, Status::Environment(EnvProblem::UnknownModel { code, .. }) if code == "ResourceNotFoundException"),
        "{r:?}"
    );
    assert!(r.aws.is_none());
    assert_all_deleted(&fake);
}

#[test]
fn check_live_prints_environment_problems_apart_and_says_what_to_enable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let fine = short_term_call("t/fine", BOB, allow_all());
    let fx = write_fixtures(dir.path(), &[&fine]);
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| {
        w.models_without_access
            .insert("amazon.nova-micro-v1:0".into())
    });
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 2, "a setup problem: {out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with("NOT RUN t/fine (")
            && l.contains("): the sandbox account has no access to model us.amazon.nova-micro-v1:0 in us-east-1")),
        "{out}"
    );
    assert!(
        !out.contains("DISAGREE") && !out.contains("FAILED"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.last(), Some(&"0 passed, 0 failed"), "{out}");
    let note = lines[lines.len() - 2];
    assert!(
        note.starts_with("1 not run: ")
            && note.contains(
                "grant the sandbox account access to us.amazon.nova-micro-v1:0 in us-east-1"
            ),
        "{out}"
    );
    // The journal keeps it as failed (a resumed run tries it again), with the reason.
    let (_, text) = journals(&dir.path().join("state")).pop().unwrap();
    assert!(
        text.contains("\"failed\"") && text.contains("no access to model"),
        "{text}"
    );
}
