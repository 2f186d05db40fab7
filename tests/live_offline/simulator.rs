//! The simulator's answer read in full: SCP levels go in with their conditions (global keys
//! included), and `by` comes from what the answer says — matched statements,
//! `OrganizationsDecisionDetail` and `PermissionsBoundaryDecisionDetail` — and is left out
//! where it says nothing.

use super::*;

const MODEL_ARN: &str = R1;

/// Identity policies allow two actions and deny a third; the one SCP level allows two actions
/// and denies InvokeModel outside us-east-1 (a global key).
fn scp_case(id: &str, action: &str) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": {
            "identity": [doc(json!([
                {"Effect": "Allow", "Action": ["bedrock:InvokeModel", "bedrock:Converse"], "Resource": "*"},
                {"Effect": "Deny", "Action": "bedrock:ConverseStream", "Resource": "*"}
            ]))],
            "scp": [[doc(json!([
                {"Effect": "Allow", "Action": ["bedrock:InvokeModel", "bedrock:CountTokens"], "Resource": "*"},
                {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}
            ]))]]
        },
        "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": action,
            "resource": MODEL_ARN, "context": {"aws:RequestedRegion": "eu-west-1"}}
    }))
}

/// The answers a simulator gives for [`scp_case`]'s policies. Where the SCP denies explicitly
/// no statement is listed: the API reference does not say which `SourcePolicyId` an SCP
/// statement has, so the fake lists none and keyward must not need one.
fn scp_simulator(fake: &Fake) {
    fake.hook(|r, w| {
        if r.op != "SimulateCustomPolicy" {
            return None;
        }
        let id = w.uuid();
        let all: Vec<SimResult> = sim_pairs(r)
            .into_iter()
            .map(|(a, res)| {
                let (decision, matched, scps_allow) = match a.as_str() {
                    "bedrock:InvokeModel" => ("explicitDeny", None, false),
                    "bedrock:Converse" => ("implicitDeny", None, false),
                    "bedrock:CountTokens" => ("implicitDeny", None, true),
                    "bedrock:ConverseStream" => ("explicitDeny", Some("PolicyInputList.1"), false),
                    other => panic!("not asked by the test: {other}"),
                };
                SimResult {
                    allowed_by_organizations: Some(scps_allow),
                    ..(a, res, decision, matched).into()
                }
            })
            .collect();
        Some(simulate_answer(&all, None, &id))
    });
}

#[tokio::test]
async fn scps_with_global_keys_are_simulated_and_by_is_read_from_the_decision_details() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    scp_simulator(&fake);
    let aws = verified(&fake, dir.path()).await;
    let cases = [
        scp_case("scp/explicit", "bedrock:InvokeModel"),
        scp_case("scp/implicit", "bedrock:Converse"),
        scp_case("scp/identity-implicit", "bedrock:CountTokens"),
        scp_case("scp/identity-explicit", "bedrock:ConverseStream"),
    ];
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;

    // One call for the four questions, with the SCP level and its condition.
    let sims = fake.of("SimulateCustomPolicy");
    assert_eq!(sims.len(), 1, "{:?}", fake.ops());
    let scp = sims[0]
        .param("OrderedOrganizationPolicyInputList.member.1.ServiceControlPolicyInputList.member.1")
        .unwrap_or_else(|| panic!("no SCP level sent: {}", sims[0].body));
    assert!(scp.contains("aws:RequestedRegion"), "{scp}");

    let by: Vec<(&str, Option<PolicyType>, &Status)> = report
        .cases
        .iter()
        .map(|c| {
            let aws = c.aws.as_ref().unwrap_or_else(|| panic!("no answer: {c:?}"));
            (c.case.id.as_str(), aws.by, &c.status)
        })
        .collect();
    assert_eq!(
        by,
        [
            // Only the SCPs did not allow, and no identity statement matched: the SCP denied.
            ("scp/explicit", Some(PolicyType::Scp), &Status::Agreed),
            // The flow chart stops at SCPs that do not allow.
            ("scp/implicit", Some(PolicyType::Scp), &Status::Agreed),
            // SCPs allow and no boundary was given: the identity policies lacked an Allow.
            (
                "scp/identity-implicit",
                Some(PolicyType::Identity),
                &Status::Agreed
            ),
            // An identity statement matched while the SCPs did not allow: whether the SCP denied
            // explicitly too is not in the answer, so `by` is not compared.
            ("scp/identity-explicit", None, &Status::Agreed),
        ]
    );
}

#[tokio::test]
async fn a_simulator_naming_another_type_than_the_local_evaluator_is_a_disagreement() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // The simulator says SCPs allow, so the identity policies lacked the Allow; locally the SCP
    // level lacks it.
    fake.hook(|r, w| {
        (r.op == "SimulateCustomPolicy").then(|| {
            let id = w.uuid();
            let all: Vec<SimResult> = sim_pairs(r)
                .into_iter()
                .map(|(a, res)| SimResult {
                    allowed_by_organizations: Some(true),
                    ..(a, res, "implicitDeny", None).into()
                })
                .collect();
            simulate_answer(&all, None, &id)
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let c = scp_case("scp/implicit", "bedrock:Converse");
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    assert_eq!(
        r.aws.as_ref().and_then(|a| a.by),
        Some(PolicyType::Identity)
    );
    assert_eq!(r.local.as_ref().and_then(|a| a.by), Some(PolicyType::Scp));
    assert_eq!(r.status, Status::Disagreed, "{r:?}");
}

#[tokio::test]
async fn an_implicit_deny_with_a_boundary_that_does_not_allow_leaves_by_out() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    paged_simulator(&fake, 100);
    let aws = verified(&fake, dir.path()).await;
    // The boundary lacks the Allow (the identity policies allow bedrock:*); the answer says the
    // boundary did not allow, but not whether the identity policies did.
    let c = sim_case("sim/implicit", "bedrock:CountTokens", R2);
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    let aws_answer = r.aws.as_ref().expect("answered");
    assert_eq!(aws_answer.decision, Some(DecisionKind::ImplicitDeny));
    assert_eq!(aws_answer.by, None);
    assert_eq!(r.status, Status::Agreed);
}
