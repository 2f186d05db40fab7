//! Limits AWS documents that a run must plan around rather than fail on mid-run: the models
//! CountTokens supports, IAM's policy size quotas, and the simulator's required
//! `PolicyInputList`. Each test first makes the fake answer as AWS documents, then checks that
//! the plan skips the case with its reason and sends nothing AWS would refuse.

use super::*;
use keyward::live::plan::Skip;

/// A model Amazon Bedrock documents CountTokens for.
const CLAUDE: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn count_tokens_call(id: &str, model: &str) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": allow_all(),
        "scenario": {"call": {"operation": "CountTokens",
            "key": {"type": "SHORT_TERM", "principal": ROLE_ALICE, "region": "us-east-1"},
            "model": model, "region": "us-east-1"}}
    }))
}

fn with_model(model: &str) -> LiveOptions {
    LiveOptions {
        model: model.into(),
        ..opts()
    }
}

#[tokio::test]
async fn count_tokens_on_a_model_aws_does_not_count_for_is_skipped_and_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // The run's model (Nova Micro) in the case's profile: neither is documented for CountTokens.
    let c = count_tokens_call("ct/profile", MODEL);
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    assert_eq!(
        r.status,
        Status::Skipped(Skip::CountTokensModel("us.amazon.nova-micro-v1:0".into())),
        "{r:?}"
    );
    assert_eq!(fake.count("CountTokens"), 0, "{:?}", fake.ops());
    assert!(
        fake.world(|w| w.created.is_empty()),
        "nothing is provisioned"
    );
    // A Claude run model sent as a profile is still not a foundation model id.
    let report = run_cases(
        &aws,
        &RunId::new(),
        None,
        None,
        &[count_tokens_call("ct/claude-profile", MODEL)],
        &with_model(CLAUDE),
    )
    .await;
    assert!(
        matches!(
            only(&report).status,
            Status::Skipped(Skip::CountTokensModel(_))
        ),
        "{report:?}"
    );
    assert_eq!(fake.count("CountTokens"), 0);
}

#[tokio::test]
async fn the_fake_counts_tokens_only_for_documented_models_and_such_a_case_runs() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let report = run_cases(
        &aws,
        &RunId::new(),
        None,
        None,
        &[count_tokens_call("ct/claude", CLAUDE)],
        &with_model(CLAUDE),
    )
    .await;
    let r = only(&report);
    assert_eq!(r.status, Status::Agreed, "{r:?}");
    let sent = fake.of("CountTokens");
    assert!(!sent.is_empty());
    assert!(
        sent[0].uri.contains("anthropic.claude-3-5-haiku"),
        "{}",
        sent[0].uri
    );
    assert_all_deleted(&fake);
}

/// An Allow-everything policy made `chars` long (compact JSON) with a list of model ARNs.
fn padded_policy(chars: usize) -> Value {
    let mut resources = vec![json!("*")];
    let mut p = doc(json!([{"Effect": "Allow", "Action": "*", "Resource": resources}]));
    let mut i = 0;
    while p.to_string().len() < chars {
        resources.push(json!(format!(
            "arn:aws:bedrock:us-east-1::foundation-model/pad-{i:04}"
        )));
        p = doc(json!([{"Effect": "Allow", "Action": "*", "Resource": resources}]));
        i += 1;
    }
    p
}

fn skipped_for_size(report: &LiveReport, limit: usize) {
    let r = only(report);
    match &r.status {
        Status::Skipped(Skip::PolicyTooLarge {
            chars, limit: l, ..
        }) => {
            assert_eq!(*l, limit, "{r:?}");
            assert!(*chars > limit, "{r:?}");
        }
        other => panic!("not skipped for its size: {other:?}"),
    }
}

#[tokio::test]
async fn inline_policies_over_the_user_quota_are_a_skip_not_a_failed_put_user_policy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // Two policies of 1,100 characters each: each fits, together they pass 2,048.
    let policies = json!({"identity": [padded_policy(1_100), padded_policy(1_100)]});
    let c = long_term_call("size/user", policies);
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    skipped_for_size(&report, 2_048);
    assert_eq!(fake.count("CreateUser"), 0, "{:?}", fake.ops());
    assert_eq!(fake.count("PutUserPolicy"), 0);
}

#[tokio::test]
async fn a_role_holds_more_than_a_user_and_its_own_quota_is_a_skip() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // 3,000 characters: over a user's quota, within a role's, so the case runs.
    let fits = short_term_call(
        "size/role-fits",
        ROLE_ALICE,
        json!({"identity": [padded_policy(3_000)]}),
    );
    let report = run_cases(&aws, &RunId::new(), None, None, &[fits], &opts()).await;
    assert_eq!(only(&report).status, Status::Agreed, "{report:?}");
    assert_eq!(fake.count("PutRolePolicy"), 1);
    // 11,000 characters: over a role's 10,240.
    let big = short_term_call(
        "size/role-big",
        ROLE_ALICE,
        json!({"identity": [padded_policy(5_500), padded_policy(5_500)]}),
    );
    let report = run_cases(&aws, &RunId::new(), None, None, &[big], &opts()).await;
    skipped_for_size(&report, 10_240);
    assert_eq!(
        fake.count("CreateRole"),
        1,
        "only the first case made a role"
    );
}

#[tokio::test]
async fn a_boundary_over_the_managed_policy_quota_is_a_skip_not_a_failed_create_policy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let c = short_term_call(
        "size/boundary",
        ROLE_ALICE,
        json!({"identity": [padded_policy(100)], "permissions_boundary": padded_policy(6_500)}),
    );
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    skipped_for_size(&report, 6_144);
    assert_eq!(fake.count("CreatePolicy"), 0, "{:?}", fake.ops());
    assert_eq!(fake.count("CreateRole"), 0);
}

#[tokio::test]
async fn the_simulator_refuses_an_empty_policy_input_list() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let plan = SimPlan {
        identity: Vec::new(),
        boundary: None,
        scp_levels: Vec::new(),
        action: "s3:ListAllMyBuckets".into(),
        resource: "*".into(),
        context: Vec::new(),
    };
    let err = simulate_batch(&aws, &[&plan]).await.unwrap_err();
    assert!(err.to_string().contains("MissingParameter"), "{err}");
}

#[tokio::test]
async fn a_request_case_without_identity_policies_is_a_skip_not_a_refused_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let c = fixture("documented/evaluation/no-policies-implicit-deny");
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    assert_eq!(
        only(&report).status,
        Status::Skipped(Skip::SimulatorNoIdentityPolicy),
        "{report:?}"
    );
    assert_eq!(fake.count("SimulateCustomPolicy"), 0, "{:?}", fake.ops());
}
