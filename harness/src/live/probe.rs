//! `keyward record --probe-assumptions`: a targeted live check of each named assumption of the
//! Bedrock-key model (keyward-bedrock's `B-` ids). Each assumption is probed by the fixtures
//! whose local answer rests on it (the answer AWS gives them confirms or refutes it), plus, where no fixture exercises it, a probe case built here
//! that the local model answers one way *because of* the assumption: AWS agreeing means the
//! assumption holds for that probe.

use serde_json::{json, Value};

use crate::case::Case;

const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";
const CONSOLE_USER: &str = "BedrockAPIKey-h42z";
const CONSOLE_USER_ARN: &str = "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z";
const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow(action: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": "*"})
}

fn create_key(extra: Value) -> Value {
    let mut c = json!({"caller": ROLE, "user": CONSOLE_USER, "service": "bedrock.amazonaws.com", "flow": "api"});
    if let (Some(m), Value::Object(x)) = (c.as_object_mut(), extra) {
        m.extend(x);
    }
    json!({ "create_key": c })
}

fn call(key: Value, model: &str) -> Value {
    json!({"call": {"operation": "Converse", "key": key, "model": model, "region": "us-east-1"}})
}

/// The probe case of an assumption, when one is built here (the others are probed by their
/// fixtures only).
pub fn probe_case(id: &str) -> Option<Case> {
    let (policies, scenario) = match id {
        // A never-expiring key has no AgeDays key: a Null check on it matches.
        "B-AGEDAYS-ABSENT" => (
            json!({"identity": [doc(json!([allow("iam:CreateServiceSpecificCredential"),
                {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
                 "Condition": {"Null": {"iam:ServiceSpecificCredentialAgeDays": "true"}}}]))]}),
            create_key(json!({})),
        ),
        // The token type is on CallWithBearerToken only: a model permission that needs it fails.
        "B-BEARER-TYPE-ONLY-FIRST" => (
            json!({"identity": [doc(json!([allow("bedrock:CallWithBearerToken"),
                {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*",
                 "Condition": {"StringEquals": {"bedrock:BearerTokenType": "LONG_TERM"}}}]))]}),
            call(
                json!({"type": "LONG_TERM", "user": CONSOLE_USER_ARN}),
                MODEL,
            ),
        ),
        // CallWithBearerToken is authorized before the model action: with the key's action not
        // allowed and the model action denied, the answer names the key's action.
        "B-CALL-ORDER" => (
            json!({"identity": [doc(json!([
                {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*"}]))]}),
            call(
                json!({"type": "SHORT_TERM", "principal": ROLE, "region": "us-east-1"}),
                MODEL,
            ),
        ),
        // A `us.` profile given no destinations is routed to us-east-1, us-east-2 and us-west-2:
        // the foundation model allowed in exactly those Regions lets the call through (AWS
        // fails a call when any destination is refused, so its Allow confirms no other
        // destination).
        "B-CRIS-DESTINATIONS" => (
            json!({"identity": [doc(json!([allow("bedrock:CallWithBearerToken"),
                {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [
                    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/*",
                    "arn:aws:bedrock:us-east-1::foundation-model/*",
                    "arn:aws:bedrock:us-east-2::foundation-model/*",
                    "arn:aws:bedrock:us-west-2::foundation-model/*"]}]))]}),
            call(
                json!({"type": "SHORT_TERM", "principal": ROLE, "region": "us-east-1"}),
                &format!("us.{MODEL}"),
            ),
        ),
        // An inactive key fails authentication with the generic message.
        "B-AUTH-FAILED-MESSAGE" => (
            json!({"identity": [doc(json!([allow("bedrock:*")]))]}),
            call(
                json!({"type": "LONG_TERM", "user": CONSOLE_USER_ARN, "status": "Inactive"}),
                MODEL,
            ),
        ),
        // IAM names the user resource as `user NAME` in its message.
        "B-IAM-RESOURCE-FORM" => (
            json!({"identity": [doc(json!([allow("iam:ListUsers")]))]}),
            create_key(json!({})),
        ),
        // IAM requests carry aws:RequestedRegion us-east-1.
        "B-IAM-REGION" => (
            json!({"identity": [doc(json!([{"Effect": "Allow", "Action": "iam:CreateServiceSpecificCredential",
                "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]))]}),
            create_key(json!({})),
        ),
        "B-AGE-VALIDATION-MESSAGE" => (
            json!({"identity": [doc(json!([allow("iam:*")]))]}),
            create_key(json!({"age_days": 36601})),
        ),
        "B-NOT-SUPPORTED-MESSAGE" => (
            json!({"identity": [doc(json!([allow("iam:*")]))]}),
            create_key(json!({"service": "keyward-probe.amazonaws.com"})),
        ),
        "B-LIMIT-MESSAGE" => (
            json!({"identity": [doc(json!([allow("iam:*")]))]}),
            create_key(json!({"existing_keys": 2})),
        ),
        _ => return None,
    };
    Case::from_json(&json!({
        "id": format!("probe/{id}"),
        "source": "keyward record --probe-assumptions",
        "provenance": "generated",
        "policies": policies,
        "scenario": scenario,
    }))
    .ok()
}

/// What a probe found about one assumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// AWS agreed with the local model on every probe.
    Holds,
    /// AWS disagreed on at least one probe.
    Fails,
    /// No probe could run (skipped, failed, or none exists).
    Untested,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Holds => "holds",
            Finding::Fails => "FAILS",
            Finding::Untested => "untested",
        }
    }
}

/// The cases that probe each assumption: the fixtures among `fixtures` whose local answer rests
/// on it, and its probe.
pub fn probes(fixtures: &[Case]) -> Vec<(&'static str, Vec<Case>)> {
    let rests_on: Vec<Vec<&'static str>> =
        fixtures.iter().map(|c| c.verdict().assumptions).collect();
    keyward_bedrock::ASSUMPTIONS
        .iter()
        .map(|a| {
            let mut cs: Vec<Case> = fixtures
                .iter()
                .zip(&rests_on)
                .filter(|(_, r)| r.contains(&a.id))
                .map(|(c, _)| c.clone())
                .collect();
            cs.extend(probe_case(a.id));
            (a.id, cs)
        })
        .collect()
}

/// Combines the statuses of an assumption's probes.
pub fn finding(statuses: &[&super::runner::Status]) -> Finding {
    use super::runner::Status;
    if statuses.iter().any(|s| **s == Status::Disagreed) {
        Finding::Fails
    } else if statuses.iter().any(|s| **s == Status::Agreed) {
        Finding::Holds
    } else {
        Finding::Untested
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_iam::DecisionKind;

    #[test]
    fn every_probe_reads_and_its_local_answer_depends_on_the_assumption() {
        let built: Vec<&str> = keyward_bedrock::ASSUMPTIONS
            .iter()
            .filter_map(|a| probe_case(a.id).map(|_| a.id))
            .collect();
        assert_eq!(built.len(), 10, "{built:?}");
        let v = |id: &str| probe_case(id).unwrap().verdict();
        let order = v("B-CALL-ORDER");
        assert_eq!(order.decision, Some(DecisionKind::ImplicitDeny));
        assert!(
            order
                .message
                .as_deref()
                .is_some_and(|m| m.contains("perform: bedrock:CallWithBearerToken ")),
            "{order:?}"
        );
        assert!(order.assumptions.contains(&"B-CALL-ORDER"), "{order:?}");
        assert_eq!(
            v("B-AGEDAYS-ABSENT").decision,
            Some(DecisionKind::ExplicitDeny)
        );
        assert_eq!(
            v("B-BEARER-TYPE-ONLY-FIRST").decision,
            Some(DecisionKind::ImplicitDeny)
        );
        let cris = v("B-CRIS-DESTINATIONS");
        assert_eq!(cris.decision, Some(DecisionKind::Allow));
        assert!(
            cris.assumptions.contains(&"B-CRIS-DESTINATIONS"),
            "{cris:?}"
        );
        assert_eq!(v("B-IAM-REGION").decision, Some(DecisionKind::Allow));
        let o = v("B-LIMIT-MESSAGE").outcome.unwrap();
        assert_eq!(o.code, Some(keyward_bedrock::IamErrorCode::LimitExceeded));
        let o = v("B-AUTH-FAILED-MESSAGE").outcome.unwrap();
        assert_eq!(o.status, 403);
        let m = v("B-IAM-RESOURCE-FORM").message.unwrap();
        assert!(m.contains("on resource: user BedrockAPIKey-h42z"), "{m}");
    }

    #[test]
    fn a_fixture_probes_exactly_the_assumptions_its_answer_rests_on() {
        let denied = Case::from_json(&json!({
            "id": "t/denied",
            "policies": {"identity": [doc(json!([allow("bedrock:*"),
                {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}]))]},
            "scenario": call(json!({"type": "SHORT_TERM", "principal": ROLE, "region": "us-east-1"}), MODEL),
        }))
        .unwrap();
        let rests_on = denied.verdict().assumptions;
        assert!(rests_on.contains(&"B-DENY-STATUS-403"), "{rests_on:?}");
        for (id, cases) in probes(std::slice::from_ref(&denied)) {
            let has = cases.iter().any(|c| c.id == "t/denied");
            assert_eq!(has, rests_on.contains(&id), "{id}");
        }
    }

    #[test]
    fn every_assumption_is_probed_or_said_to_be_untestable() {
        let ps = probes(&[]);
        assert_eq!(ps.len(), keyward_bedrock::ASSUMPTIONS.len());
    }
}
