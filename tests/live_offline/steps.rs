//! The dry run is the plan that runs: for every kind of plan, the requests the fake AWS saw, in
//! order, are the steps `--dry-run` lists for the case (the settling repeats and the cleanup
//! aside); and the call budget counts exactly the requests that were sent, once each however
//! often the SDK retried them.

use std::sync::atomic::AtomicBool;

use super::*;
use keyward::live::steps::{self, Step};

/// An AWS managed policy the fake holds the case's document of.
const AWS_DENY_ALL: &str = "arn:aws:iam::aws:policy/AWSDenyAll";

fn allow(action: &str) -> Value {
    doc(json!([{"Effect": "Allow", "Action": action, "Resource": "*"}]))
}

fn deny(action: &str) -> Value {
    doc(json!([{"Effect": "Deny", "Action": action, "Resource": "*"}]))
}

/// `service:Action`, as a step names its request.
fn seen_op(r: &fake::Req) -> String {
    let service = match r.service {
        "bedrock" => "bedrock-runtime",
        s => s,
    };
    format!("{service}:{}", r.op)
}

/// What cleanup (the undo between attempts, the case's cleanup) sends: it lists, detaches and
/// deletes; no step does.
fn is_cleanup(op: &str) -> bool {
    let action = op.split_once(':').map_or(op, |(_, a)| a);
    ["List", "Delete", "Detach"]
        .iter()
        .any(|p| action.starts_with(p))
}

/// The case's steps, as the dry run lists them for the first case of a run.
fn planned_steps(c: &Case) -> Vec<Step> {
    let ctx = PlanContext {
        run: RunId::parse("stepstep").unwrap(),
        index: 0,
        account: SANDBOX.into(),
        model: keyward::live::config::DEFAULT_MODEL.into(),
        now: 1_750_000_000,
    };
    plan(c, &ctx).expect("runs live").plan.steps()
}

/// Runs `c` alone against a fake `prepare` set up; the requests after the guard's.
async fn run_alone(c: &Case, prepare: impl FnOnce(&Fake)) -> (LiveReport, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    prepare(&fake);
    let aws = verified(&fake, dir.path()).await;
    let guard = fake.requests().len();
    let report = run_cases(
        &aws,
        &RunId::new(),
        None,
        None,
        std::slice::from_ref(c),
        &opts(),
    )
    .await;
    let seen = fake.requests()[guard..].iter().map(seen_op).collect();
    (report, seen)
}

/// The requests seen are the steps: those made once, in order (AssumeRole once however often it
/// waited for the role), then whole attempts at the recorded request, at least as many as
/// settling takes.
fn assert_ran_as_planned(planned: &[Step], seen: &[String]) {
    let ops = |s: &[Step]| -> Vec<String> { s.iter().map(|s| s.operation().to_string()).collect() };
    let mut seen: Vec<String> = seen.iter().filter(|op| !is_cleanup(op)).cloned().collect();
    seen.dedup_by(|a, b| a == b && a == "sts:AssumeRole");
    let (once, attempt) = steps::split(planned);
    let once = ops(once);
    let attempt = ops(attempt);
    let listing = steps::listing("t", planned, "");
    assert!(seen.len() >= once.len(), "{seen:?}\n{listing}");
    assert_eq!(seen[..once.len()], once[..], "{listing}");
    let rest = &seen[once.len()..];
    if attempt.is_empty() {
        assert!(rest.is_empty(), "{rest:?}\n{listing}");
        return;
    }
    assert!(
        rest.len() >= 3 * attempt.len(),
        "three equal answers settle a case: {rest:?}\n{listing}"
    );
    for a in rest.chunks(attempt.len()) {
        assert_eq!(a, &attempt[..], "{rest:?}\n{listing}");
    }
}

/// The case ran (answered, agreeing or not), and what ran is what was planned.
async fn runs_as_planned(c: Case, prepare: impl FnOnce(&Fake)) -> Vec<Step> {
    let planned = planned_steps(&c);
    let (report, seen) = run_alone(&c, prepare).await;
    let r = only(&report);
    assert!(r.aws.is_some(), "{r:?}");
    assert!(report.stopped.is_none(), "{report:?}");
    assert_ran_as_planned(&planned, &seen);
    planned
}

fn malformed_key_call() -> Case {
    let mut m = short_term_call("steps/malformed", ROLE_ALICE, allow_all()).to_json();
    m["scenario"]["call"]["key"] = json!({"token": "ABSKnot-a-key"});
    Case::from_json(&m).unwrap()
}

fn create_key(id: &str, caller: &str, user: &str, policies: Value) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": policies,
        "scenario": {"create_key": {"caller": caller, "user": user,
            "service": "bedrock.amazonaws.com", "flow": "api", "user_exists": true,
            "existing_keys": 1}}
    }))
}

#[tokio::test]
async fn a_simulation_is_one_simulator_question() {
    let planned = runs_as_planned(sim_case("steps/sim", "bedrock:InvokeModel", R1), |f| {
        paged_simulator(f, 100)
    })
    .await;
    assert_eq!(planned.len(), 1);
}

#[tokio::test]
async fn a_long_term_key_call_runs_its_steps() {
    // Also a key the case says is inactive: it is deactivated before the calls.
    let mut c = long_term_call("steps/long", allow_all()).to_json();
    c["scenario"]["call"]["key"]["status"] = json!("Inactive");
    c["id"] = json!("steps/long-inactive");
    for c in [
        long_term_call("steps/long", allow_all()),
        Case::from_json(&c).unwrap(),
    ] {
        let inactive = c.id != "steps/long";
        let planned = runs_as_planned(c, |_| {}).await;
        assert!(planned
            .iter()
            .any(|s| s.operation() == "iam:CreateServiceSpecificCredential"));
        assert_eq!(
            planned
                .iter()
                .any(|s| s.operation() == "iam:UpdateServiceSpecificCredential"),
            inactive
        );
    }
}

#[tokio::test]
async fn a_malformed_key_call_is_the_call_alone() {
    let planned = runs_as_planned(malformed_key_call(), |_| {}).await;
    assert_eq!(planned.len(), 1);
}

#[tokio::test]
async fn a_short_term_key_call_runs_its_steps_for_a_role_and_for_a_user() {
    let planned = runs_as_planned(
        short_term_call("steps/short-role", ROLE_ALICE, allow_all()),
        |_| {},
    )
    .await;
    assert!(planned.iter().any(|s| s.operation() == "sts:AssumeRole"));
    let user = "arn:aws:iam::123456789012:user/bob";
    let planned = runs_as_planned(
        short_term_call("steps/short-user", user, allow_all()),
        |_| {},
    )
    .await;
    assert!(planned
        .iter()
        .any(|s| s.operation() == "iam:CreateAccessKey"));
}

#[tokio::test]
async fn an_api_key_creation_runs_its_steps_allowed_and_denied() {
    let allowed = json!({"identity": [allow("iam:*")]});
    let planned =
        runs_as_planned(create_key("steps/api", ROLE_ALICE, "bob", allowed), |_| {}).await;
    // The target user and the key it already holds, made once by the runner.
    let (once, attempt) = steps::split(&planned);
    assert_eq!(
        once.iter()
            .filter(|s| s.operation() == "iam:CreateServiceSpecificCredential")
            .count(),
        1
    );
    assert_eq!(attempt.len(), 1);
    let denied = json!({"identity": [allow("iam:*"), deny("iam:CreateServiceSpecificCredential")]});
    runs_as_planned(
        create_key("steps/api-denied", ROLE_ALICE, "bob", denied),
        |_| {},
    )
    .await;
}

#[tokio::test]
async fn the_console_flow_runs_its_steps_and_repeats_all_of_them() {
    let planned = runs_as_planned(console_case("steps/console", "BedrockAPIKey-*"), |_| {}).await;
    let (_, attempt) = steps::split(&planned);
    let ops: Vec<&str> = attempt.iter().map(|s| s.operation()).collect();
    // The runner's tag between the principal's CreateUser and AttachUserPolicy: a request the
    // dry run did not list before the step list.
    assert_eq!(
        ops,
        [
            "iam:CreateUser",
            "iam:TagUser",
            "iam:AttachUserPolicy",
            "iam:CreateServiceSpecificCredential"
        ]
    );
}

#[tokio::test]
async fn a_user_creating_its_own_key_runs_its_steps() {
    let own = doc(
        json!([{"Effect": "Allow", "Action": "iam:CreateServiceSpecificCredential",
        "Resource": "arn:aws:iam::123456789012:user/${aws:username}"}]),
    );
    let c = create_key(
        "steps/self",
        "arn:aws:iam::123456789012:user/alice",
        "alice",
        json!({ "identity": [own] }),
    );
    let planned = runs_as_planned(c, |_| {}).await;
    assert_eq!(
        planned
            .iter()
            .filter(|s| s.operation() == "iam:CreateUser")
            .count(),
        1,
        "one user, the caller"
    );
}

#[tokio::test]
async fn managed_policies_and_a_boundary_run_their_steps() {
    let managed = |name: &str, arn: &str, document: Value| json!({"name": name, "arn": arn, "document": document});
    let customer = "arn:aws:iam::123456789012:policy/DenyS3";
    let pols = json!({"identity": [allow("*"),
        managed("DenyS3", customer, deny("s3:*")),
        managed("AWSDenyAll", AWS_DENY_ALL, deny("iam:*"))]});
    let planned = runs_as_planned(short_term_call("steps/managed", ROLE_ALICE, pols), |f| {
        f.world_mut(|w| {
            w.policy_docs
                .insert(AWS_DENY_ALL.into(), deny("iam:*").to_string())
        });
    })
    .await;
    for op in ["iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion"] {
        assert!(planned.iter().any(|s| s.operation() == op), "{op}");
    }
    let boundary = json!({"identity": [allow("*")], "permissions_boundary": allow("bedrock:*")});
    runs_as_planned(
        short_term_call("steps/boundary-role", ROLE_ALICE, boundary.clone()),
        |_| {},
    )
    .await;
    let planned = runs_as_planned(long_term_call("steps/boundary-user", boundary), |_| {}).await;
    assert!(planned
        .iter()
        .any(|s| s.operation() == "iam:PutUserPermissionsBoundary"));
}

#[test]
fn the_dry_run_says_which_steps_repeat_and_shows_no_secret() {
    let c = console_case("steps/console", "BedrockAPIKey-*");
    let listing = steps::listing(&c.id, &planned_steps(&c), "");
    assert!(
        listing.contains("[repeated until the role can be assumed]"),
        "{listing}"
    );
    assert!(
        listing.contains("[recorded; repeated until the answer settles]"),
        "{listing}"
    );
    assert!(
        listing.contains("[repeated with the recorded request]"),
        "{listing}"
    );
    let c = malformed_key_call();
    let listing = steps::listing(&c.id, &planned_steps(&c), "");
    assert!(!listing.contains("ABSKnot"), "{listing}");
    assert!(listing.contains("the case's malformed key"), "{listing}");
    // Policy documents are not printed either: only their names.
    let c = short_term_call("steps/doc", ROLE_ALICE, allow_all());
    let listing = steps::listing(&c.id, &planned_steps(&c), "");
    assert!(!listing.contains("\"Effect\""), "{listing}");
}

/// A live config with a cap of `cap` calls.
fn capped(dir: &Path, cap: u32) -> LiveConfig {
    LiveConfig {
        max_calls: cap,
        ..live_config(dir)
    }
}

#[tokio::test]
async fn the_budget_charges_each_request_once_and_a_cap_of_n_sends_exactly_n() {
    let c = short_term_call(
        "steps/cap",
        ROLE_ALICE,
        json!({"identity": [allow("*")], "permissions_boundary": allow("bedrock:*")}),
    );
    // A run with no cap to speak of: every request it sent is charged once.
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = guard::verify(fake.sdk(), &capped(dir.path(), 10_000))
        .await
        .unwrap();
    let guard_requests = fake.requests().len();
    let report = run_cases(
        &aws,
        &RunId::new(),
        None,
        None,
        std::slice::from_ref(&c),
        &opts(),
    )
    .await;
    assert!(report.stopped.is_none(), "{report:?}");
    let sent = fake.requests().len() - guard_requests;
    assert_eq!(report.calls as usize, sent, "{:?}", fake.ops());
    let work = fake.ops()[guard_requests..]
        .iter()
        .filter(|op| !is_cleanup(op))
        .count();
    // A cap of n: exactly n requests that are not cleanup go out, then the run stops and still
    // cleans up (cleanup is counted, never refused).
    for n in [1, 3, work - 1] {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake::new(SANDBOX);
        let aws = guard::verify(fake.sdk(), &capped(dir.path(), n as u32))
            .await
            .unwrap();
        let guard_requests = fake.requests().len();
        let report = run_cases(
            &aws,
            &RunId::new(),
            None,
            None,
            std::slice::from_ref(&c),
            &opts(),
        )
        .await;
        let ops = fake.ops()[guard_requests..].to_vec();
        let not_cleanup = ops.iter().filter(|op| !is_cleanup(op)).count();
        assert_eq!(not_cleanup, n, "cap {n}: {ops:?}");
        assert!(
            report.stopped.as_deref().is_some_and(|s| s.contains("cap")),
            "cap {n}: {report:?}"
        );
        assert_eq!(report.calls as usize, ops.len(), "cap {n}: {ops:?}");
    }
}

#[tokio::test]
async fn a_request_the_sdk_retries_is_charged_once() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // CreateRole fails once with a 500, which the SDK retries.
    let failed = Arc::new(AtomicBool::new(false));
    let f = failed.clone();
    fake.hook(move |r, w| {
        (r.op == "CreateRole" && !f.swap(true, Ordering::SeqCst)).then(|| {
            iam_error(
                w,
                500,
                "ServiceFailure",
                "Request processing has failed due to an unknown error, exception or failure.",
            )
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let guard_requests = fake.requests().len();
    let c = short_term_call("steps/retried", ROLE_ALICE, allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    assert!(only(&report).aws.is_some(), "{report:?}");
    assert_eq!(fake.count("CreateRole"), 2, "{:?}", fake.ops());
    let sent = fake.requests().len() - guard_requests;
    assert_eq!(report.calls as usize, sent - 1, "{:?}", fake.ops());
}
