//! The runner policy (`keyward runner-policy`) against what the runner really sends: every IAM
//! and STS request the runner made with its own credentials in a run of each kind of scenario
//! is allowed by the policy for the sandbox account, evaluated by keyward's own evaluator, on
//! the resource the request names.

use super::*;
use keyward::commands::runner_policy::{policy, AccountId};
use keyward_iam::{evaluate, ContextValue, Policy, PolicySet, Request};

/// The resource a runner request acts on, as the Service Authorization Reference names it: the
/// user or role it names (for an attachment, the principal; the policy is its `iam:PolicyARN`),
/// else the managed policy, else (simulator, listings) none.
fn resource_of(r: &fake::Req) -> String {
    let arn = |kind: &str, name: &str| format!("arn:aws:iam::{SANDBOX}:{kind}/{name}");
    if let Some(role) = r.param("RoleArn") {
        return role.to_string();
    }
    if let Some(u) = r.param("UserName") {
        return arn("user", u);
    }
    if let Some(role) = r.param("RoleName") {
        return arn("role", role);
    }
    if let Some(p) = r.param("PolicyArn") {
        return p.to_string();
    }
    if let Some(p) = r.param("PolicyName") {
        return arn("policy", p);
    }
    "*".into()
}

/// Checks every request the runner made with its own credentials against the runner policy for
/// the sandbox account (keyward's evaluator, the resource the request names, and for an
/// attachment the attached policy as `iam:PolicyARN`); returns the actions seen.
pub(super) fn runner_requests_allowed(fake: &Fake) -> BTreeSet<String> {
    let set = PolicySet {
        identity: vec![Policy::parse(
            &policy(&AccountId::parse(SANDBOX).unwrap()),
            keyward_iam::PolicyType::Identity,
        )
        .unwrap()],
        ..PolicySet::default()
    };
    let runner = format!("arn:aws:sts::{SANDBOX}:assumed-role/{RUNNER_ROLE}/run");
    let mut seen = BTreeSet::new();
    for r in fake.requests() {
        // GetCallerIdentity needs no permission (STS API reference).
        if !r.by_runner || r.op == "GetCallerIdentity" {
            continue;
        }
        let action = format!("{}:{}", r.service, r.op);
        let resource = resource_of(&r);
        let mut req = Request::new(runner.as_str(), action.as_str(), resource.as_str());
        if let (true, Some(p)) = (r.op.starts_with("Attach"), r.param("PolicyArn")) {
            req = req.with_context("iam:PolicyARN", ContextValue::single(p));
        }
        assert_eq!(
            evaluate(&set, &req).kind,
            DecisionKind::Allow,
            "{action} on {resource}"
        );
        seen.insert(action);
    }
    seen
}

fn create_key(id: &str, flow: &str, user_exists: bool) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": allow_all(),
        "scenario": {"create_key": {"caller": ROLE_ALICE, "user": "BedrockAPIKey-h42z",
            "service": "bedrock.amazonaws.com", "flow": flow,
            "user_exists": user_exists, "existing_keys": u32::from(user_exists)}}
    }))
}

#[tokio::test]
async fn every_request_the_runner_makes_is_allowed_by_the_runner_policy() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let with_boundary = json!({
        "identity": [doc(json!([{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]))],
        "permissions_boundary": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))
    });
    let cases = [
        short_term_call("p/role", ROLE_ALICE, with_boundary.clone()),
        short_term_call(
            "p/user",
            "arn:aws:iam::123456789012:user/bob",
            with_boundary,
        ),
        long_term_call("p/long", allow_all()),
        create_key("p/console", "console", false),
        create_key("p/api", "api", true),
        sim_case("p/sim", "bedrock:InvokeModel", R1),
    ];
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    for c in &report.cases {
        assert!(
            matches!(c.status, Status::Agreed | Status::Disagreed),
            "every kind of case ran: {c:?}"
        );
    }
    let seen = runner_requests_allowed(&fake);
    // The run crossed every kind of thing the runner does.
    for a in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:CreatePolicy",
        "iam:PutUserPermissionsBoundary",
        "sts:AssumeRole",
        "iam:CreateUser",
        "iam:CreateServiceSpecificCredential",
        "iam:DeleteServiceSpecificCredential",
        "iam:DetachUserPolicy",
        "iam:DeleteUser",
        "iam:DeleteRole",
        "iam:DeletePolicy",
        "iam:SimulateCustomPolicy",
    ] {
        assert!(seen.contains(a), "{a} not exercised: {seen:?}");
    }
}
