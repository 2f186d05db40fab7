//! `Decision::reason` and `Decision::deciding_deny`: which statement decided an explicit deny,
//! which Allows granted an allow, and which type (and organization level) lacked an Allow.

use keyward_iam::{evaluate, DecisionKind, Effect, PolicySet, PolicyType, Reason, StatementRef};
use serde_json::{json, Value};

use crate::support::{policy_set, request};

const ALLOW_ALL: &str = "AllowAll";

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow_all() -> Value {
    doc(json!([{"Sid": ALLOW_ALL, "Effect": "Allow", "Action": "*", "Resource": "*"}]))
}

fn deny(sid: &str) -> Value {
    json!({"Sid": sid, "Effect": "Deny", "Action": "bedrock:*", "Resource": "*"})
}

fn req() -> keyward_iam::Request {
    request(&json!({
        "principal": "arn:aws:iam::123456789012:user/alice",
        "action": "bedrock:InvokeModel",
        "resource": "*",
        "context": {"aws:RequestedRegion": "eu-west-1"}
    }))
}

fn reason(set: &PolicySet) -> (DecisionKind, Reason) {
    let d = evaluate(set, &req());
    (d.kind, d.reason(set))
}

fn at(
    t: PolicyType,
    level: Option<usize>,
    policy: usize,
    statement: usize,
    effect: Effect,
) -> StatementRef {
    StatementRef {
        policy_type: t,
        level,
        policy,
        statement,
        effect,
    }
}

#[test]
fn an_explicit_deny_names_the_first_deny_of_the_deciding_type_with_its_sid() {
    // An identity Deny too, but the SCP's decides (explicit deny in an SCP is named first), and
    // of the SCP's two Denies the first in evaluation order.
    let set = policy_set(&json!({
        "identity": [allow_all(), doc(json!([deny("IdentityDeny")]))],
        "scp": [[allow_all(), doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, deny("DenyFirst"), deny("DenySecond")]))]]
    }));
    let d = evaluate(&set, &req());
    assert_eq!(
        (d.kind, d.by),
        (DecisionKind::ExplicitDeny, Some(PolicyType::Scp))
    );
    let want = at(PolicyType::Scp, Some(0), 1, 1, Effect::Deny);
    assert_eq!(d.deciding_deny(), Some(&want));
    assert_eq!(want.sid(&set), Some("DenyFirst"));
    assert_eq!(d.reason(&set), Reason::ExplicitDeny(want));
}

#[test]
fn an_allow_names_the_identity_and_resource_allows_not_the_limits() {
    let set = policy_set(&json!({
        "identity": [doc(json!([{"Sid": "AllowBedrock", "Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))],
        "scp": [[allow_all()]],
        "permissions_boundary": allow_all()
    }));
    let (kind, r) = reason(&set);
    assert_eq!(kind, DecisionKind::Allow);
    assert_eq!(
        r,
        Reason::Allow(vec![at(PolicyType::Identity, None, 0, 0, Effect::Allow)])
    );
    assert_eq!(evaluate(&set, &req()).deciding_deny(), None);
}

#[test]
fn an_implicit_deny_names_each_type_that_lacks_an_allow() {
    let no_bedrock = || doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
    for (policies, t) in [
        (json!({"identity": [no_bedrock()]}), PolicyType::Identity),
        (
            json!({"identity": [allow_all()], "permissions_boundary": no_bedrock()}),
            PolicyType::PermissionsBoundary,
        ),
        (
            json!({"identity": [allow_all()], "session": [no_bedrock()]}),
            PolicyType::Session,
        ),
    ] {
        let set = policy_set(&policies);
        assert_eq!(
            reason(&set),
            (
                DecisionKind::ImplicitDeny,
                Reason::ImplicitDeny {
                    policy_type: t,
                    level: None
                }
            ),
            "{policies}"
        );
    }
}

#[test]
fn an_implicit_deny_by_scps_or_rcps_names_the_first_level_without_an_allow() {
    let no_bedrock = || doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
    for t in [PolicyType::Scp, PolicyType::Rcp] {
        let key = t.as_str();
        // Root allows, level 1 does not, level 2 does not either: level 1 is named.
        let mut policies = json!({"identity": [allow_all()]});
        policies[key] = json!([[allow_all()], [no_bedrock()], [no_bedrock()]]);
        let set = policy_set(&policies);
        let (kind, r) = reason(&set);
        assert_eq!(kind, DecisionKind::ImplicitDeny, "{key}");
        assert_eq!(
            r,
            Reason::ImplicitDeny {
                policy_type: t,
                level: Some(1)
            },
            "{key}"
        );
    }
}
