//! `explain`: why each condition held or not, how each statement met the request, and the
//! sentence that sums up the decision, for every rule the evaluator follows.

use keyward_iam::{
    explain, ContextValue, DecisionKind, PolicySet, PolicyType, PrincipalCheck, PrincipalMatch,
    Request,
};
use serde_json::{json, Value};

use crate::support::{policy_set, ContextRow};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

fn get(principal: &str, context: &[(&str, ContextValue)]) -> Request {
    context.iter().fold(
        Request::new(principal, "s3:GetObject", "arn:aws:s3:::bucket/key"),
        |r, (k, v)| r.with_context(k, v.clone()),
    )
}

fn identity(statements: Value) -> PolicySet {
    policy_set(&json!({"identity": [{"Version": "2012-10-17", "Statement": statements}]}))
}

#[test]
fn each_condition_says_why_it_held_or_not() {
    let multi = |vs: &[&str]| ContextValue::multi(vs.iter().copied());
    let rows: Vec<(&str, ContextRow, bool, &str)> = vec![
        ("Null", vec![("aws:TagKeys", multi(&["a"]))], false, "Null tests presence: the key is present"),
        ("Null", vec![], true, "Null tests presence: the key is missing"),
        ("ForAllValues:StringEquals", vec![], true, "key missing from the request: ForAllValues is true for a missing key"),
        ("ForAnyValue:StringEqualsIfExists", vec![], true, "key missing from the request: IfExists is true for a missing key"),
        ("ForAnyValue:StringEquals", vec![], false, "key missing from the request: ForAnyValue is false for a missing key"),
        ("StringEqualsIfExists", vec![], true, "key missing from the request: IfExists is true for a missing key"),
        ("StringNotEquals", vec![], true, "key missing from the request: a negated operator is true for a missing key"),
        ("StringEquals", vec![], false, "key missing from the request: a missing key makes the condition false"),
        // An empty list of request values is a missing key.
        ("StringEquals", vec![("aws:TagKeys", multi(&[]))], false, "key missing from the request: a missing key makes the condition false"),
        ("ForAllValues:StringEquals", vec![("aws:TagKeys", multi(&["true", "b"]))], false, "every request value must match against any of the policy values (OR)"),
        ("ForAnyValue:StringNotEquals", vec![("aws:TagKeys", multi(&["true", "b"]))], true, "at least one request value must match against none of the policy values (NOR)"),
        ("StringEquals", vec![("aws:TagKeys", multi(&["true", "b"]))], true, "multivalued key with a plain operator: any request value may match against any of the policy values (OR)"),
        ("StringEquals", vec![("aws:TagKeys", multi(&["true"]))], true, "the request value is compared against any of the policy values (OR)"),
        ("StringNotEquals", vec![("aws:TagKeys", ContextValue::single("b"))], true, "the request value is compared against none of the policy values (NOR)"),
    ];
    for (op, context, holds, reason) in rows {
        let set = identity(
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {op: {"aws:TagKeys": "true"}}}]),
        );
        let req = get(ALICE, &context);
        let e = explain(&set, &req);
        let c = &e.policies[0].statements[0].conditions[0];
        assert_eq!((c.operator.as_str(), c.key.as_str()), (op, "aws:TagKeys"));
        assert_eq!(c.policy_values, ["true"]);
        let want_values = context
            .first()
            .map(|(_, v)| v.values().to_vec())
            .filter(|v| !v.is_empty());
        assert_eq!(c.request_values, want_values, "{op} {context:?}");
        assert_eq!(
            (c.holds, c.reason.as_str()),
            (holds, reason),
            "{op} {context:?}"
        );
        assert_eq!(
            e.policies[0].statements[0].applies, holds,
            "{op} {context:?}"
        );
    }
}

#[test]
fn the_decision_is_summed_up_in_one_sentence() {
    let allow_all = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
    let deny_all = json!({"Effect": "Deny", "Action": "*", "Resource": "*"});
    let bucket_allows = |principal: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/key"}]})
    };
    let doc = |s: &Value| json!({"Version": "2012-10-17", "Statement": [s]});
    let same_account_resource = policy_set(&json!({"resource": [bucket_allows(ALICE)]}));
    let cross_account =
        policy_set(&json!({"identity": [doc(&allow_all)], "resource": [bucket_allows(ALICE)]}));
    let scp_denies = policy_set(&json!({"identity": [doc(&allow_all)], "scp": [[doc(&deny_all)]]}));
    let cases: Vec<(PolicySet, Request, DecisionKind, &str)> = vec![
        (identity(json!([allow_all])), get(ALICE, &[]), DecisionKind::Allow,
         "no Deny applies and every policy type in play allows"),
        (same_account_resource, get(ALICE, &[]), DecisionKind::Allow,
         "no Deny applies and every policy type in play allows (a resource-based policy can allow on its own in the same account)"),
        (cross_account, get(ALICE, &[]).with_resource_account("999999999999"), DecisionKind::Allow,
         "no Deny applies and every policy type in play allows"),
        (scp_denies, get(ALICE, &[]), DecisionKind::ExplicitDeny,
         "a Deny statement in a service control policy applies, and an explicit deny always wins"),
        (identity(json!([deny_all])), get(ALICE, &[]), DecisionKind::ExplicitDeny,
         "a Deny statement in an identity-based policy applies, and an explicit deny always wins"),
        (identity(json!([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])), get(ALICE, &[]),
         DecisionKind::ImplicitDeny, "no Deny applies, but no identity-based policy allows s3:GetObject"),
    ];
    for (set, req, kind, sentence) in cases {
        let e = explain(&set, &req);
        assert_eq!((e.decision.kind, e.reasoning.as_str()), (kind, sentence));
        let last = e
            .to_string()
            .lines()
            .rev()
            .find(|l| l.starts_with("decision: "))
            .unwrap()
            .to_string();
        assert!(last.ends_with(&format!("({sentence})")), "{last}");
    }
}

#[test]
fn each_statement_says_how_it_met_the_request() {
    let set = policy_set(&json!({
        "identity": [{"Version": "2012-10-17", "Statement": [
            {"Sid": "Excluded", "Effect": "Allow", "NotAction": ["s3:Put*", "s3:Get*"], "NotResource": "arn:aws:s3:::other/*"},
            {"Effect": "Allow", "Action": ["ec2:*", "s3:Get*"], "Resource": ["arn:aws:s3:::bucket/*"]}
        ]}],
        "permissions_boundary": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        "resource": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/dev"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "s3:PutObject", "Resource": "*"}
        ]}]
    }));
    let e = explain(&set, &get(ALICE, &[]));
    let by_type = |t: PolicyType| e.policies.iter().find(|p| p.policy_type == t).unwrap();
    let id = &by_type(PolicyType::Identity).statements;
    assert_eq!(id[0].sid.as_deref(), Some("Excluded"));
    assert_eq!(id[0].principal, PrincipalCheck::NotChecked);
    assert!(!id[0].applies && !id[0].action.matched && id[0].action.negated);
    assert_eq!(id[0].action.entry.as_deref(), Some("s3:Get*"));
    assert!(id[0].resource.matched && id[0].resource.negated && id[0].resource.entry.is_none());
    assert!(id[1].applies && id[1].action.matched && !id[1].action.negated);
    assert_eq!(id[1].action.entry.as_deref(), Some("s3:Get*"));
    assert_eq!(
        id[1].resource.entry.as_deref(),
        Some("arn:aws:s3:::bucket/*")
    );
    assert_eq!(
        by_type(PolicyType::PermissionsBoundary).statements[0].principal,
        PrincipalCheck::NotChecked
    );
    let res = &by_type(PolicyType::Resource).statements;
    assert_eq!(res[0].principal, PrincipalCheck::NotNamed);
    assert!(
        !res[0].applies,
        "a statement naming someone else does not apply"
    );
    assert_eq!(
        res[1].principal,
        PrincipalCheck::Named(PrincipalMatch::Account)
    );
    assert_eq!(
        res[2].principal,
        PrincipalCheck::Named(PrincipalMatch::Direct)
    );
    assert!(res[1].applies && res[2].applies);
    // Alice has a permissions boundary: the Deny with NotPrincipal reaches her whatever it names.
    assert_eq!(
        res[3].principal,
        PrincipalCheck::BoundaryOverridesNotPrincipal
    );
    // Without the boundary, NotPrincipal naming her leaves her out.
    let mut unbounded = set.clone();
    unbounded.permissions_boundary = None;
    let principals = |set: &PolicySet, caller: &str| -> Vec<PrincipalCheck> {
        let e = explain(set, &get(caller, &[]));
        let p = e
            .policies
            .iter()
            .find(|p| p.policy_type == PolicyType::Resource)
            .unwrap();
        p.statements.iter().map(|s| s.principal).collect()
    };
    let res = principals(&unbounded, ALICE);
    assert_eq!(res[3], PrincipalCheck::NotNamed);
    // A role session is named through its role.
    let session = "arn:aws:sts::123456789012:assumed-role/dev/alice";
    let res = principals(&set, session);
    assert_eq!(res[0], PrincipalCheck::Named(PrincipalMatch::Role));
}

/// The whole text, for a set that shows every kind of line: levels, names and ARNs, Sids,
/// principals, Not elements, conditions on present and missing keys, the message and the
/// assumptions.
#[test]
fn the_text_shows_every_kind_of_line() {
    let set = policy_set(&json!({
        "identity": [{"name": "dev", "arn": "arn:aws:iam::123456789012:policy/dev", "document":
            {"Version": "2012-10-17", "Statement": [
                {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "NotAction": "ec2:*", "NotResource": "arn:aws:s3:::bucket/*",
                 "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}, "Bool": {"aws:SecureTransport": "TRUE"}}}
            ]}}],
        "scp": [[{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
                [{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}]],
        "resource": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "*"}]}]
    }));
    let req = get(
        ALICE,
        &[("aws:SecureTransport", ContextValue::single("false"))],
    );
    let text = explain(&set, &req).to_string();
    let want = r#"scp level 0 policy #0
  statement #0 Allow: APPLIES
    Action: yes ("*" matches)
    Resource: yes ("*" matches)
scp level 1 policy #0
  statement #0 Deny: APPLIES
    Action: yes ("s3:*" matches)
    Resource: yes ("*" matches)
    condition Bool aws:SecureTransport ["false"]: true (request: ["false"]; the request value is compared against any of the policy values (OR))
resource policy #0
  statement #0 Allow: APPLIES
    principal: names the caller's account
    Action: yes ("s3:GetObject" matches)
    Resource: yes ("*" matches)
identity policy #0 "dev" (arn:aws:iam::123456789012:policy/dev)
  statement #0 Sid All Allow: APPLIES
    Action: yes ("s3:*" matches)
    Resource: yes ("*" matches)
  statement #1 Deny: does not apply
    NotAction: yes (not excluded)
    NotResource: no ("arn:aws:s3:::bucket/*" is excluded)
    condition StringEquals aws:PrincipalTag/team ["red"]: false (request: missing; key missing from the request: a missing key makes the condition false)
    condition Bool aws:SecureTransport ["TRUE"]: false (request: ["false"]; the request value is compared against any of the policy values (OR))
decision: explicit_deny by scp (a Deny statement in a service control policy applies, and an explicit deny always wins)
message: User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::bucket/key" with an explicit deny in a service control policy: <policy ARN not given>
message form: s3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html)
message incomplete: the denying policy was given without its ARN, which AWS prints where <policy ARN not given> stands; give the policy as {"name", "arn", "document"}
assumptions: none, documented rules only
"#;
    assert_eq!(text, want);
    let nothing = explain(&PolicySet::default(), &req).to_string();
    assert!(
        nothing.starts_with("no policies apply\ndecision: implicit_deny by identity"),
        "{nothing}"
    );
    // A decision resting on an assumption names it, with its statement.
    let star = identity(
        json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": {"ArnLike": {"aws:SourceArn": "*"}}}]),
    );
    let text = explain(
        &star,
        &get(
            ALICE,
            &[("aws:SourceArn", ContextValue::single("arn:aws:s3:::b"))],
        ),
    )
    .to_string();
    assert!(text.ends_with("assumption A-ARN-SHORT-PATTERN: An ARN-operator pattern with fewer than six components (e.g. \"*\") matches that many request components, the last taking the rest.\n"), "{text}");
}
