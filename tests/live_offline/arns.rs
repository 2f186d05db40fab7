//! Policy ARNs in access-denied messages (issue item 6). AWS appends the ARN of the managed
//! policy that denied explicitly (identity-based policies and permissions boundaries here), so
//! a case policy given with an ARN must be a managed policy in the sandbox, and every live ARN
//! must read as the case's in what is recorded. The fake answers a deny with AWS's sentence for
//! it, written out whole in each test for the live names of the literal run
//! ([`fake::explicit_deny`]); the record must be that sentence in the case's names.

use std::sync::Mutex;

use super::*;
use fake::{explicit_deny, is_aws_managed, DenyTable};
use keyward::live::plan::{Skip, ATTACHED_MANAGED_POLICIES};

const CASE_DENY_ARN: &str = "arn:aws:iam::123456789012:policy/DenyBearer";
/// An AWS managed policy (its real document denies everything; the fake holds the case's).
const AWS_DENY_ALL: &str = "arn:aws:iam::aws:policy/AWSDenyAll";

fn deny(action: &str) -> Value {
    doc(json!([{"Effect": "Deny", "Action": action, "Resource": "*"}]))
}

fn allow_doc() -> Value {
    doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))
}

fn managed(name: &str, arn: &str, document: Value) -> Value {
    json!({"name": name, "arn": arn, "document": document})
}

/// Installs the fake's denies, in the words of `table`, and keeps every message it gave.
fn denies_seen(fake: &Fake, table: DenyTable) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    fake.hook(move |r, w| {
        let resp = explicit_deny(r, w, table)?;
        s.lock().unwrap().push(resp.body.clone());
        Some(resp)
    });
    seen
}

/// The case ran, AWS's answer is the local evaluator's, word for word, and clean.
fn assert_agreed_with(r: &keyward::live::runner::CaseReport, message: &str) {
    let local = r.local.as_ref().expect("planned");
    assert_eq!(local.message.as_deref(), Some(message), "the local answer");
    let got = r.aws.as_ref().unwrap_or_else(|| panic!("an answer: {r:?}"));
    assert_eq!(got.message.as_deref(), Some(message), "{got:?}");
    assert_clean(got);
    assert_eq!(r.status, Status::Agreed, "{r:?}");
}

/// The policies CreatePolicy made, by name.
fn created_policies(fake: &Fake) -> Vec<String> {
    fake.of("CreatePolicy")
        .iter()
        .map(|r| r.param("PolicyName").unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_customer_managed_identity_policy_is_attached_and_named_by_its_case_arn() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let seen = denies_seen(
        &fake,
        &[("bedrock:CallWithBearerToken", "arn:aws:iam::111122223333:policy/keyward-literal1-0-DenyBearer",
            "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/keyward-literal1-0-DenyBearer")],
    );
    let aws = verified(&fake, dir.path()).await;
    let pols = json!({"identity": [allow_doc(),
        managed("DenyBearer", CASE_DENY_ARN, deny("bedrock:CallWithBearerToken"))]});
    let c = short_term_call("arn/customer", ROLE_ALICE, pols);
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    let r = only(&report);
    // AWS named the live policy ...
    let said = seen.lock().unwrap().clone();
    assert!(!said.is_empty());
    assert!(
        said[0].contains(&format!(": arn:aws:iam::{SANDBOX}:policy/keyward-")),
        "{said:?}"
    );
    // ... and the record names the case's.
    assert_agreed_with(r, "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/DenyBearer");
    // The managed policy was created under a live name and attached; the other stayed inline.
    let names = created_policies(&fake);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("keyward-") && names[0].ends_with("-DenyBearer"),
        "{names:?}"
    );
    let attach = fake.of("AttachRolePolicy");
    assert_eq!(attach.len(), 1);
    assert_eq!(
        attach[0].param("PolicyArn"),
        Some(format!("arn:aws:iam::{SANDBOX}:policy/{}", names[0]).as_str())
    );
    assert_eq!(fake.count("PutRolePolicy"), 1, "the inline allow");
    assert!(fake
        .of("CreatePolicy")
        .iter()
        .all(|r| r.tags().iter().any(|(k, _)| k == "keyward:run")));
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn a_boundary_with_no_arn_in_the_case_is_recorded_with_the_placeholder_not_the_live_arn() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let seen = denies_seen(
        &fake,
        &[("bedrock:CallWithBearerToken", "arn:aws:iam::111122223333:policy/keyward-literal1-0-boundary",
            "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in a permissions boundary: arn:aws:iam::111122223333:policy/keyward-literal1-0-boundary")],
    );
    let aws = verified(&fake, dir.path()).await;
    let pols = json!({"identity": [allow_doc()],
        "permissions_boundary": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}]))});
    let c = short_term_call("arn/boundary-unnamed", ROLE_ALICE, pols);
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    let said = seen.lock().unwrap().clone();
    assert!(
        !said.is_empty() && said[0].contains(&format!("boundary: arn:aws:iam::{SANDBOX}:policy/")),
        "AWS names the boundary it was given: {said:?}"
    );
    // The case's boundary has no ARN: keyward-iam words its deny with the placeholder where AWS
    // prints one, and so does the record (the live ARN names nothing of the case's).
    assert_agreed_with(
        only(&report),
        "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in a permissions boundary: <policy ARN not given>",
    );
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn a_boundary_given_with_an_arn_is_recorded_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let _seen = denies_seen(
        &fake,
        &[("bedrock:CallWithBearerToken", "arn:aws:iam::111122223333:policy/keyward-literal1-0-DevBoundary",
            "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in a permissions boundary: arn:aws:iam::111122223333:policy/keyward-literal1-0-DevBoundary")],
    );
    let aws = verified(&fake, dir.path()).await;
    let arn = "arn:aws:iam::123456789012:policy/DevBoundary";
    let pols = json!({"identity": [allow_doc()],
        "permissions_boundary": managed("DevBoundary", arn,
            doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}])))});
    let c = short_term_call("arn/boundary-named", ROLE_ALICE, pols);
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    assert_agreed_with(
        only(&report),
        "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in a permissions boundary: arn:aws:iam::123456789012:policy/DevBoundary",
    );
    assert!(created_policies(&fake)[0].ends_with("-DevBoundary"));
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn a_users_managed_policy_is_attached_to_the_user_for_keys_and_key_creation() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // The console-style users' live names are drawn at random: they stand as {CALLER} and
    // {TARGET}.
    let _seen = denies_seen(
        &fake,
        &[
            ("bedrock:CallWithBearerToken", "arn:aws:iam::111122223333:policy/keyward-literal1-0-DenyBearer",
                "User: {CALLER} is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/keyward-literal1-0-DenyBearer"),
            ("iam:CreateServiceSpecificCredential", "arn:aws:iam::111122223333:policy/keyward-literal1-1-DenyKeys",
                "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-1-c-dev/alice is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user {TARGET} with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/keyward-literal1-1-DenyKeys"),
        ],
    );
    let aws = verified(&fake, dir.path()).await;
    let pols = json!({"identity": [allow_doc(),
        managed("DenyBearer", CASE_DENY_ARN, deny("bedrock:CallWithBearerToken"))]});
    let long = long_term_call("arn/long-term", pols);
    let create = case(&json!({
        "id": "arn/create-key", "source": "live_offline", "provenance": "generated",
        "policies": {"identity": [allow_doc(),
            managed("DenyKeys", "arn:aws:iam::123456789012:policy/DenyKeys",
                deny("iam:CreateServiceSpecificCredential"))]},
        "scenario": {"create_key": {"caller": ROLE_ALICE, "user": "BedrockAPIKey-h42z",
            "service": "bedrock.amazonaws.com", "flow": "api", "user_exists": true}}
    }));
    let report = run_cases(&aws, &literal_run(), None, None, &[long, create], &opts()).await;
    assert_eq!(report.cases.len(), 2);
    let by_id = |id: &str| report.cases.iter().find(|c| c.case.id == id).unwrap();
    assert_agreed_with(
        by_id("arn/long-term"),
        "User: arn:aws:iam::123456789012:user/BedrockAPIKey-h42z is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/DenyBearer",
    );
    assert_agreed_with(
        by_id("arn/create-key"),
        "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user BedrockAPIKey-h42z with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/DenyKeys",
    );
    assert_eq!(fake.count("AttachUserPolicy"), 1, "{:?}", fake.ops());
    assert_eq!(fake.count("AttachRolePolicy"), 1);
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn an_aws_managed_policy_is_attached_by_its_arn_and_never_created_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let _seen = denies_seen(
        &fake,
        &[("bedrock:CallWithBearerToken", "arn:aws:iam::aws:policy/AWSDenyAll",
            "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy: arn:aws:iam::aws:policy/AWSDenyAll")],
    );
    let document = deny("*");
    fake.world_mut(|w| {
        w.policy_docs
            .insert(AWS_DENY_ALL.into(), document.to_string())
    });
    let aws = verified(&fake, dir.path()).await;
    let pols = json!({"identity": [allow_doc(), managed("AWSDenyAll", AWS_DENY_ALL, document)]});
    let c = short_term_call("arn/aws-managed", ROLE_ALICE, pols);
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    assert_agreed_with(
        only(&report),
        "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy: arn:aws:iam::aws:policy/AWSDenyAll",
    );
    assert_eq!(fake.count("CreatePolicy"), 0, "{:?}", fake.ops());
    let attach = fake.of("AttachRolePolicy");
    assert_eq!(attach.len(), 1);
    assert_eq!(attach[0].param("PolicyArn"), Some(AWS_DENY_ALL));
    // Detached with the role, never deleted.
    assert_eq!(fake.count("DetachRolePolicy"), 1);
    assert!(fake
        .of("DeletePolicy")
        .iter()
        .chain(fake.of("ListPolicyTags").iter())
        .all(|r| !r.param("PolicyArn").is_some_and(is_aws_managed)));
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn cleanup_and_sweep_never_delete_an_aws_managed_policy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| {
        w.policy_docs
            .insert(AWS_DENY_ALL.into(), deny("*").to_string())
    });
    let aws = verified(&fake, dir.path()).await;
    let r = journal::Resource::Policy(AWS_DENY_ALL.into());
    let e = keyward::live::delete::delete(&aws, &r, "abcdefgh")
        .await
        .unwrap_err();
    assert!(matches!(e, LiveError::NotOurs { .. }), "{e}");
    assert_eq!(fake.count("DeletePolicy"), 0);
    assert_eq!(fake.count("ListPolicyTags"), 0, "not even asked about");
    assert!(fake.world(|w| w.policy_docs.contains_key(AWS_DENY_ALL)));
}

#[tokio::test]
async fn an_aws_managed_policy_whose_document_is_not_the_cases_is_not_attached() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // No deny is answered: the case is skipped before any call.
    let _seen = denies_seen(&fake, &[]);
    // AWS's document (as the fake holds it) denies everything; the case says it denies one
    // action: AWS would enforce its own, so the case cannot be answered for its policies.
    fake.world_mut(|w| {
        w.policy_docs
            .insert(AWS_DENY_ALL.into(), deny("*").to_string())
    });
    let aws = verified(&fake, dir.path()).await;
    let pols = json!({"identity": [allow_doc(),
        managed("AWSDenyAll", AWS_DENY_ALL, deny("bedrock:InvokeModel"))]});
    let c = short_term_call("arn/aws-managed-other", ROLE_ALICE, pols);
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    // A skip with its reason (found at run time), not a failure of the run.
    let Status::Skipped(why) = &r.status else {
        panic!("{r:?}")
    };
    let why = why.to_string();
    assert!(
        why.contains(AWS_DENY_ALL) && why.contains("not the one the case gives"),
        "{why}"
    );
    assert!(r.aws.is_none(), "nothing recorded");
    assert_eq!(fake.count("GetPolicyVersion"), 1);
    assert_eq!(fake.count("AttachRolePolicy"), 0);
    assert_eq!(fake.count("Converse"), 0);
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn more_managed_policies_than_iam_attaches_are_planned_as_a_skip() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // The fake refuses the eleventh attachment, as IAM's quota says.
    let iam = aws.iam().clone();
    iam.create_role()
        .role_name("keyward-quota")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    for i in 0..=ATTACHED_MANAGED_POLICIES {
        let arn = format!("arn:aws:iam::aws:policy/P{i}");
        let r = iam
            .attach_role_policy()
            .role_name("keyward-quota")
            .policy_arn(arn)
            .send()
            .await;
        if i < ATTACHED_MANAGED_POLICIES {
            r.unwrap();
        } else {
            let e = r.unwrap_err();
            let code = aws_sdk_iam::error::ProvideErrorMetadata::code(&e);
            assert_eq!(code, Some("LimitExceeded"), "{e:?}");
        }
    }
    assert_eq!(fake::ATTACHED_POLICIES, ATTACHED_MANAGED_POLICIES);
    // Eleven identity policies with ARNs: planned as a skip, nothing sent.
    let eleven: Vec<Value> = (0..=ATTACHED_MANAGED_POLICIES)
        .map(|i| {
            managed(
                &format!("P{i}"),
                &format!("arn:aws:iam::123456789012:policy/P{i}"),
                allow_doc(),
            )
        })
        .collect();
    let c = short_term_call("arn/eleven", ROLE_ALICE, json!({ "identity": eleven }));
    let before = fake.requests().len();
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    assert_eq!(
        only(&report).status,
        Status::Skipped(Skip::TooManyManagedPolicies {
            count: 11,
            limit: ATTACHED_MANAGED_POLICIES
        })
    );
    assert_eq!(fake.requests().len(), before, "{:?}", fake.ops());
}

#[test]
fn a_managed_session_policy_and_a_foreign_arn_are_planned_as_skips() {
    let ctx = plan_ctx();
    let mut pols = allow_all();
    pols["session"] = json!([managed(
        "S",
        "arn:aws:iam::123456789012:policy/S",
        allow_doc()
    )]);
    let c = short_term_call("arn/session", ROLE_ALICE, pols);
    assert_eq!(
        plan(&c, &ctx).unwrap_err(),
        Skip::ManagedSessionPolicy("arn:aws:iam::123456789012:policy/S".into())
    );
    let scp_arn = "arn:aws:organizations::111122223333:policy/o-x/service_control_policy/p-x";
    let c = short_term_call(
        "arn/foreign",
        ROLE_ALICE,
        json!({"identity": [managed("X", scp_arn, allow_doc())]}),
    );
    assert_eq!(
        plan(&c, &ctx).unwrap_err(),
        Skip::NotAManagedPolicyArn(scp_arn.into())
    );
    let twice = json!({"identity": [managed("A", CASE_DENY_ARN, allow_doc())],
        "permissions_boundary": managed("A", CASE_DENY_ARN, allow_doc())});
    assert_eq!(
        plan(&short_term_call("arn/twice", ROLE_ALICE, twice), &ctx).unwrap_err(),
        Skip::RepeatedPolicyArn(CASE_DENY_ARN.into())
    );
}

fn plan_ctx() -> PlanContext {
    PlanContext {
        run: RunId::parse("abcdefgh").unwrap(),
        index: 4,
        account: SANDBOX.into(),
        model: keyward::live::config::DEFAULT_MODEL.into(),
        now: 1_750_000_000,
    }
}

#[test]
fn the_dry_run_lists_the_managed_policies_it_creates_reads_and_attaches() {
    let other = "arn:aws:iam::777788889999:policy/team/Other";
    let pols = json!({"identity": [allow_doc(),
            managed("DenyBearer", CASE_DENY_ARN, deny("bedrock:*")),
            managed("Other", other, deny("s3:*")),
            managed("AWSDenyAll", AWS_DENY_ALL, deny("*"))],
        "permissions_boundary": allow_doc()});
    let p = plan(&short_term_call("arn/dry", ROLE_ALICE, pols), &plan_ctx()).unwrap();
    let steps = p.plan.steps();
    let calls: Vec<&str> = steps.iter().map(|s| s.operation()).collect();
    let count = |c: &str| calls.iter().filter(|x| **x == c).count();
    assert_eq!(count("iam:PutRolePolicy"), 1, "{calls:?}");
    assert_eq!(
        count("iam:CreatePolicy"),
        3,
        "two named, one boundary: {calls:?}"
    );
    assert_eq!(count("iam:AttachRolePolicy"), 3);
    assert_eq!(count("iam:GetPolicy"), 1);
    assert_eq!(count("iam:GetPolicyVersion"), 1);
    assert_eq!(count("iam:PutRolePermissionsBoundary"), 1);
    let resources = p.plan.resources();
    assert_eq!(
        resources,
        [
            "role keyward-abcdefgh-4-k-dev",
            "policy keyward-abcdefgh-4-DenyBearer",
            "policy keyward-abcdefgh-4-Other",
            "policy keyward-abcdefgh-4-boundary",
        ]
    );
    // The last one is the permissions boundary.
    assert!(
        steps.iter().any(|s| s.to_string()
            == "iam:PutRolePermissionsBoundary policy keyward-abcdefgh-4-boundary on role keyward-abcdefgh-4-k-dev"),
        "{steps:?}"
    );
    // Each live ARN reads as the case's again; the boundary's, which the case has not, as the
    // placeholder keyward-iam words it with.
    let live = |n: &str| format!("arn:aws:iam::{SANDBOX}:policy/keyward-abcdefgh-4-{n}");
    assert_eq!(p.renamer.to_case(&live("DenyBearer")), CASE_DENY_ARN);
    assert_eq!(p.renamer.to_case(&live("Other")), other);
    assert_eq!(
        p.renamer
            .to_case(&format!("in a permissions boundary: {}", live("boundary"))),
        "in a permissions boundary: <policy ARN not given>"
    );
}

#[tokio::test]
async fn the_runner_policy_allows_attaching_exactly_what_the_runner_attaches() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| {
        w.policy_docs
            .insert(AWS_DENY_ALL.into(), deny("*").to_string())
    });
    let aws = verified(&fake, dir.path()).await;
    let pols = json!({"identity": [allow_doc(),
            managed("DenyBearer", CASE_DENY_ARN, deny("s3:*")),
            managed("AWSDenyAll", AWS_DENY_ALL, deny("*"))],
        "permissions_boundary": managed("B", "arn:aws:iam::123456789012:policy/B", allow_doc())});
    let cases = [
        short_term_call("arn/p-role", ROLE_ALICE, pols.clone()),
        long_term_call("arn/p-user", pols),
    ];
    run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    let seen = super::runner_policy::runner_requests_allowed(&fake);
    for a in [
        "iam:AttachRolePolicy",
        "iam:AttachUserPolicy",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:CreatePolicy",
        "iam:DetachRolePolicy",
        "iam:DetachUserPolicy",
        "iam:DeletePolicy",
    ] {
        assert!(seen.contains(a), "{a} not exercised: {seen:?}");
    }
    assert_all_deleted(&fake);
}
