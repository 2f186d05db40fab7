//! The public API's names and accessors, as the harness above this crate reads them: every
//! keyword type reads back what it writes and names the accepted spellings when it refuses one,
//! the assumption register is found by id, and a compiled policy answers questions about itself
//! (its conditions, variables, entries and key types) as its document says.

use std::str::FromStr;

use keyward_iam::{
    evaluate, Arn, AssumptionId, Assumptions, BaseOp, DecisionKind, Effect, Family, KeyType,
    Operator, PolicySet, PolicyType, PrincipalKind, Request, SetQualifier, Version, ASSUMPTIONS,
};
use keyward_iam::{Assumption, ParseNameError};
use serde_json::json;

use crate::support::policy_set;

/// Every value prints as its name, reads back from it, and a wrong spelling is refused with the
/// list of names.
fn round_trips<T>(values: &[T], names: &[&str], what: &str)
where
    T: FromStr<Err = ParseNameError> + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    for (v, name) in values.iter().zip(names) {
        assert_eq!(v.to_string(), *name);
        assert_eq!(&name.parse::<T>().unwrap(), v);
    }
    let e = "Nonsense".parse::<T>().unwrap_err();
    assert_eq!(e.found(), "Nonsense");
    assert_eq!(e.expected(), names, "{what}");
    assert!(
        e.to_string().starts_with(&format!(
            "unknown {what} \"Nonsense\": expected one of {}",
            names[0]
        )),
        "{e}"
    );
    // Names are case-sensitive.
    assert!(
        names[0].to_ascii_uppercase().parse::<T>().is_err()
            || names[0].to_ascii_uppercase() == names[0]
    );
    assert!(
        names[0].to_ascii_lowercase().parse::<T>().is_err()
            || names[0].to_ascii_lowercase() == names[0]
    );
}

#[test]
fn keyword_types_read_back_what_they_write() {
    use PolicyType::*;
    round_trips(
        &[Identity, PermissionsBoundary, Session, Scp, Rcp, Resource],
        &[
            "identity",
            "permissions_boundary",
            "session",
            "scp",
            "rcp",
            "resource",
        ],
        "policy type",
    );
    round_trips(
        &[
            DecisionKind::Allow,
            DecisionKind::ExplicitDeny,
            DecisionKind::ImplicitDeny,
        ],
        &["allow", "explicit_deny", "implicit_deny"],
        "decision",
    );
    // The nouns of AWS's access-denied messages (troubleshoot_access-denied.html).
    let phrases: Vec<&str> = [Identity, PermissionsBoundary, Session, Scp, Rcp, Resource]
        .iter()
        .map(|t| t.aws_phrase())
        .collect();
    assert_eq!(
        phrases,
        [
            "identity-based policy",
            "permissions boundary",
            "session policy",
            "service control policy",
            "resource control policy",
            "resource-based policy"
        ]
    );
    round_trips(&[Effect::Allow, Effect::Deny], &["Allow", "Deny"], "effect");
    round_trips(
        &[Version::V2012_10_17, Version::V2008_10_17],
        &["2012-10-17", "2008-10-17"],
        "policy version",
    );
    round_trips(
        &[
            PrincipalKind::Aws,
            PrincipalKind::Service,
            PrincipalKind::Federated,
            PrincipalKind::CanonicalUser,
        ],
        &["AWS", "Service", "Federated", "CanonicalUser"],
        "principal type",
    );
    let names: Vec<String> = BaseOp::ALL.iter().map(|b| b.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names.len(), 27);
    assert_eq!(
        &names[..3],
        ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase"]
    );
    assert!(
        names.contains(&"Null") && names.contains(&"BinaryEquals") && names.contains(&"ArnNotLike")
    );
    round_trips(&BaseOp::ALL, &names, "condition operator");
}

#[test]
fn operators_have_a_qualifier_a_base_and_a_suffix() {
    let op: Operator = "ForAnyValue:StringLikeIfExists".parse().unwrap();
    assert_eq!(
        (op.qualifier(), op.base(), op.if_exists()),
        (Some(SetQualifier::ForAnyValue), BaseOp::StringLike, true)
    );
    assert!(op.is_set_operator());
    assert_eq!(op.to_string(), "ForAnyValue:StringLikeIfExists");
    let op: Operator = "NumericLessThan".parse().unwrap();
    assert_eq!(
        (op.qualifier(), op.if_exists(), op.is_set_operator()),
        (None, false, false)
    );
    assert_eq!(
        (op.family(), op.key_type()),
        (Family::Numeric, Some(KeyType::Numeric))
    );
    let op: Operator = "ForAllValues:Null".parse().unwrap();
    assert_eq!(
        (op.qualifier(), op.key_type()),
        (Some(SetQualifier::ForAllValues), None)
    );
    assert!("NullIfExists".parse::<Operator>().is_err());
    assert_eq!(Operator::new(None, BaseOp::Null, true), None);
    assert_eq!(SetQualifier::ForAllValues.prefix(), "ForAllValues:");
    assert_eq!(SetQualifier::ForAnyValue.prefix(), "ForAnyValue:");
    for (t, name) in [
        (KeyType::String, "string"),
        (KeyType::Numeric, "numeric"),
        (KeyType::Date, "date"),
        (KeyType::Boolean, "boolean"),
        (KeyType::Ip, "ip"),
        (KeyType::Binary, "binary"),
    ] {
        assert_eq!(t.simulator_name(false), name);
        assert_eq!(t.simulator_name(true), format!("{name}List"));
    }
}

#[test]
fn the_assumption_register_is_found_by_id() {
    assert_eq!(ASSUMPTIONS.len(), AssumptionId::ALL.len());
    for (a, id) in ASSUMPTIONS.iter().zip(AssumptionId::ALL) {
        assert_eq!(id.to_string(), a.id);
        assert_eq!(id.as_str(), a.id);
        let found = Assumption::find(a.id).unwrap();
        assert_eq!(
            (found.id, found.statement, found.basis),
            (a.id, a.statement, a.basis)
        );
    }
    assert!(Assumption::find("A-NO-SUCH-THING").is_none());
    let one = Assumptions::of(AssumptionId::PlainMulti);
    let two = one.with(AssumptionId::DateSyntax);
    assert_eq!(
        two.with(AssumptionId::DateSyntax),
        two,
        "adding twice adds once"
    );
    assert!(two.contains(AssumptionId::PlainMulti) && two.contains(AssumptionId::DateSyntax));
    assert!(!one.contains(AssumptionId::DateSyntax));
    let other = Assumptions::of(AssumptionId::DateSyntax).with(AssumptionId::BoolSyntax);
    let both = two.union(other);
    assert_eq!(
        both.iter().collect::<Vec<_>>(),
        [
            AssumptionId::BoolSyntax,
            AssumptionId::PlainMulti,
            AssumptionId::DateSyntax
        ]
    );
    assert_eq!(two.union(two), two);
    assert_eq!(Assumptions::NONE.union(one), one);
    assert_eq!(
        format!("{both:?}"),
        r#"{"A-BOOL-SYNTAX", "A-PLAIN-MULTI", "A-DATE-SYNTAX"}"#
    );
}

#[test]
fn arns_read_as_their_text() {
    let arn: Arn = "arn:aws:iam::123456789012:user/alice".parse().unwrap();
    let s: &str = arn.as_ref();
    assert_eq!(s, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(arn.to_string(), s);
}

#[test]
fn a_policy_set_answers_questions_about_itself() {
    let doc =
        |statements: serde_json::Value| json!({"Version": "2012-10-17", "Statement": statements});
    let set = policy_set(&json!({
        "identity": [doc(json!([
            {"Sid": "Mine", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"], "Resource": "arn:aws:s3:::${aws:username}/*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}, "NumericLessThan": {"s3:max-keys": 10}}},
            {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "*",
             "Condition": {"StringLike": {"s3:prefix": "${aws:userid}/*"}, "DateLessThan": {"aws:CurrentTime": "${aws:EpochTime}"}}}
        ]))],
        "scp": [[doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:principaltag/TEAM": "green"}}}]))]],
        "resource": [doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]))],
        "permissions_boundary": doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}])),
        "session": [doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": true}}}]))],
        "rcp": [[doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]))]]
    }));
    // In evaluation order: RCP, SCP, resource, identity, boundary, session.
    let order: Vec<(PolicyType, Option<usize>, usize)> = set
        .all()
        .iter()
        .map(|e| (e.policy_type, e.level, e.index))
        .collect();
    use PolicyType::*;
    assert_eq!(
        order,
        [
            (Rcp, Some(0), 0),
            (Scp, Some(0), 0),
            (Resource, None, 0),
            (Identity, None, 0),
            (PermissionsBoundary, None, 0),
            (Session, None, 0)
        ]
    );
    assert_eq!(set.policies().count(), 6);
    assert!(std::ptr::eq(
        set.policies().nth(3).unwrap(),
        &set.identity[0]
    ));
    let keys: Vec<&str> = set.conditions().map(|c| c.key()).collect();
    assert_eq!(
        keys,
        [
            "aws:principaltag/TEAM",
            "aws:PrincipalTag/team",
            "s3:max-keys",
            "s3:prefix",
            "aws:CurrentTime",
            "aws:SourceIp",
            "aws:SecureTransport"
        ]
    );
    // Variables in a String operator and in a Resource, not in a Date operator's values.
    let mut vars: Vec<&str> = set.variables().collect();
    vars.sort();
    assert_eq!(vars, ["aws:userid", "aws:username"]);
    let values = set.condition_values();
    assert_eq!(values[0].key, "aws:principaltag/TEAM");
    assert_eq!(
        values[0].values,
        ["green", "red", "blue"],
        "keys merge in any case"
    );
    assert_eq!(values[1].key, "s3:max-keys");
    assert_eq!(values[1].values, ["10"]);
    let c = set.identity[0].conditions().nth(1).unwrap();
    assert_eq!(c.values(), [json!(10)]);
    assert_eq!(c.value_texts(), ["10"]);
    let tags = set.identity[0].conditions().next().unwrap();
    assert_eq!(tags.value_texts(), ["red", "blue"]);
    assert_eq!(tags.to_json(), json!(["red", "blue"]));
    let actions: Vec<&str> = set.action_entries().collect();
    assert_eq!(
        actions,
        [
            "*",
            "*",
            "s3:*",
            "s3:GetObject",
            "s3:List*",
            "iam:*",
            "s3:*",
            "s3:*"
        ]
    );
    let resources: Vec<&str> = set.resource_entries().collect();
    assert_eq!(
        resources,
        [
            "*",
            "*",
            "*",
            "arn:aws:s3:::${aws:username}/*",
            "*",
            "*",
            "*"
        ]
    );
    let uses = set.key_uses().unwrap();
    assert_eq!(uses["aws:principaltag/team"].key_type, KeyType::String);
    assert!(
        uses["aws:principaltag/team"].as_set,
        "one operator reads it as a set"
    );
    assert!(!uses["s3:max-keys"].as_set);
    assert_eq!(uses["aws:currenttime"].key_type, KeyType::Date);
    assert_eq!(uses["aws:sourceip"].key_type, KeyType::Ip);
    assert_eq!(uses["aws:securetransport"].key_type, KeyType::Boolean);
    let clash = policy_set(
        &json!({"identity": [doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"k:x": "1"}, "NumericEquals": {"K:X": "1"}}}]))]}),
    );
    let e = clash.key_uses().unwrap_err();
    assert_eq!((e.first, e.second), (KeyType::String, KeyType::Numeric));
}

#[test]
fn a_decision_lists_the_statements_that_applied_with_their_sids() {
    let set = policy_set(&json!({"identity": [
        {"Version": "2012-10-17", "Statement": [
            {"Sid": "Reads", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
            {"Sid": "Writes", "Effect": "Allow", "Action": "s3:Put*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
        ]}
    ]}));
    let d = evaluate(
        &set,
        &Request::new("arn:aws:iam::123456789012:user/alice", "s3:GetObject", "*"),
    );
    let applied: Vec<(usize, Option<&str>, Effect)> = d
        .matched()
        .iter()
        .map(|m| (m.statement, m.sid(&set), m.effect))
        .collect();
    assert_eq!(
        applied,
        [(0, Some("Reads"), Effect::Allow), (2, None, Effect::Allow)]
    );
    assert_eq!(
        d.matched()[0].sid(&PolicySet::default()),
        None,
        "not in that set"
    );
}

#[test]
fn a_statement_answers_for_its_elements() {
    use keyward_iam::{Policy, PrincipalMatch};
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "One", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"], "Service": "s3.amazonaws.com"},
         "Action": ["s3:Put*", "s3:Get*"], "Resource": "arn:aws:s3:::bucket/*",
         "Condition": {"StringEquals": {"aws:username": "alice"}}},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
         "NotAction": "s3:Get*", "NotResource": ["arn:aws:s3:::bucket/public/*"]},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    ]});
    let p = Policy::parse(&doc, PolicyType::Resource).unwrap();
    let [one, two, star] = p.statements() else {
        panic!("three statements")
    };
    let get = Request::new(
        "arn:aws:iam::123456789012:user/alice",
        "s3:GetObject",
        "arn:aws:s3:::bucket/key",
    );
    assert_eq!(
        (one.sid(), one.effect(), two.sid(), two.effect()),
        (Some("One"), Effect::Allow, None, Effect::Deny)
    );
    let a = one.action();
    assert!(!a.is_negated() && a.matches(&get));
    assert_eq!(a.patterns(), ["s3:Put*", "s3:Get*"]);
    assert_eq!(a.matching_entry(&get), Some("s3:Get*"));
    let r = one.resource().unwrap();
    assert!(!r.is_negated() && r.matches(&get));
    assert_eq!(r.patterns(), ["arn:aws:s3:::bucket/*"]);
    assert_eq!(r.matching_entry(&get), Some("arn:aws:s3:::bucket/*"));
    assert_eq!(one.conditions().len(), 1);
    assert!(!one.applies(&get), "aws:username is missing");
    assert!(one.applies(
        &get.clone()
            .with_context("aws:username", keyward_iam::ContextValue::single("alice"))
    ));
    // NotAction and NotResource: the entries listed are the ones excluded.
    let (na, nr) = (two.action(), two.resource().unwrap());
    assert!(na.is_negated() && !na.matches(&get));
    assert_eq!(na.matching_entry(&get), Some("s3:Get*"));
    assert!(nr.is_negated() && nr.matches(&get) && nr.matching_entry(&get).is_none());
    assert_eq!(nr.patterns(), ["arn:aws:s3:::bucket/public/*"]);
    // Principal and NotPrincipal.
    let pb = one.principal().unwrap();
    assert!(!pb.is_negated());
    let entries = pb.entries().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0].kind(), entries[0].values()),
        (
            PrincipalKind::Aws,
            &["arn:aws:iam::123456789012:root".to_string()][..]
        )
    );
    assert_eq!(entries[1].kind(), PrincipalKind::Service);
    assert_eq!(
        pb.match_principal(get.principal()),
        Some(PrincipalMatch::Account)
    );
    assert_eq!(
        pb.match_principal("arn:aws:iam::999999999999:user/bob"),
        None
    );
    let np = two.principal().unwrap();
    assert!(np.is_negated());
    assert_eq!(
        np.match_principal(get.principal()),
        None,
        "NotPrincipal names alice out"
    );
    assert_eq!(
        np.match_principal("arn:aws:iam::123456789012:user/bob"),
        Some(PrincipalMatch::Direct)
    );
    assert!(two.denies_every_bounded_principal() && !one.denies_every_bounded_principal());
    assert_eq!(
        two.names_caller(get.principal(), true),
        Some(PrincipalMatch::Direct)
    );
    assert_eq!(two.names_caller(get.principal(), false), None);
    assert!(
        star.principal().unwrap().entries().is_none(),
        "\"*\" has no entries"
    );
    assert_eq!(
        star.names_caller("arn:aws:iam::999999999999:user/bob", false),
        Some(PrincipalMatch::Direct)
    );
}

#[test]
fn a_policy_answers_for_its_document() {
    use keyward_iam::{Policy, PolicyMeta};
    let text = r#"{"Version": "2012-10-17", "Id": "Guard", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
         "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/${aws:username}",
         "Condition": {"StringEquals": {"aws:username": ["alice"]}, "Bool": {"aws:SecureTransport": true}}}]}"#;
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let p = Policy::parse_str(text, PolicyType::Resource).unwrap();
    assert_eq!(
        (p.version(), p.id()),
        (Some(Version::V2012_10_17), Some("Guard"))
    );
    assert_eq!(p.statements().len(), 1);
    assert!(p.substitutes_variables());
    // Written back as read: a one-element array stays an array, a lone string a string.
    assert_eq!(p.to_json(), doc);
    assert_eq!(p.meta(), &PolicyMeta::default());
    let meta = PolicyMeta {
        name: Some("guard".into()),
        arn: Some("arn:aws:iam::123456789012:policy/guard".into()),
        source: None,
    };
    assert_eq!(p.clone().with_meta(meta.clone()).meta(), &meta);
    // Where a document was read from is not part of the policy: the same document read from
    // two files is one policy (a case written out and read back keeps its policies).
    let from = |file: &str| PolicyMeta {
        source: Some(keyward_iam::Source {
            file: file.into(),
            line: None,
            path: "$".into(),
        }),
        ..meta.clone()
    };
    assert_eq!(
        p.clone().with_meta(from("a.json")),
        p.clone().with_meta(from("b.json"))
    );
    // Version 2008-10-17, or none: variables are plain text.
    for version in [json!("2008-10-17"), serde_json::Value::Null] {
        let mut old = doc.clone();
        match &version {
            serde_json::Value::Null => {
                old.as_object_mut().unwrap().remove("Version");
            }
            v => old["Version"] = v.clone(),
        }
        let p = Policy::parse(&old, PolicyType::Resource).unwrap();
        assert!(!p.substitutes_variables(), "{version}");
        assert_eq!(p.version(), version.as_str().map(|v| v.parse().unwrap()));
    }
    let no_id = Policy::parse_str(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#, PolicyType::Identity).unwrap();
    assert_eq!(no_id.id(), None);
    assert_eq!(
        no_id.to_json()["Statement"],
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"})
    );
}

/// Principal `"*"` allowing on its own in the same account is assumption
/// A-STAR-PRINCIPAL-DIRECT, in either spelling; an entry naming the caller makes it moot, one
/// naming only the account does not.
#[test]
fn a_star_principal_rests_on_its_assumption_unless_the_caller_is_named() {
    let alice = "arn:aws:iam::123456789012:user/alice";
    let cases = [
        (
            json!("*"),
            DecisionKind::Allow,
            vec!["A-STAR-PRINCIPAL-DIRECT"],
        ),
        (
            json!({"AWS": "*"}),
            DecisionKind::Allow,
            vec!["A-STAR-PRINCIPAL-DIRECT"],
        ),
        (json!({"AWS": ["*", alice]}), DecisionKind::Allow, vec![]),
        (
            json!({"AWS": ["123456789012", "*"]}),
            DecisionKind::Allow,
            vec!["A-STAR-PRINCIPAL-DIRECT"],
        ),
        (json!({"AWS": alice}), DecisionKind::Allow, vec![]),
    ];
    for (principal, kind, ids) in cases {
        let set = policy_set(
            &json!({"resource": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}]}]}),
        );
        let req = Request::new(alice, "s3:GetObject", "arn:aws:s3:::b/k")
            .with_resource_account("123456789012");
        let d = evaluate(&set, &req);
        let got: Vec<&str> = d.assumptions().iter().map(|a| a.as_str()).collect();
        assert_eq!((d.kind, got), (kind, ids), "{principal}");
    }
}

#[test]
fn action_resource_and_principal_are_required_where_iam_requires_them() {
    use keyward_iam::{Policy, PolicyErrorKind};
    let parse = |statement: serde_json::Value, t: PolicyType| {
        Policy::parse(
            &json!({"Version": "2012-10-17", "Statement": [statement]}),
            t,
        )
        .map_err(|e| e.kind)
    };
    let both = parse(
        json!({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}),
        PolicyType::Identity,
    );
    assert_eq!(both.unwrap_err(), PolicyErrorKind::BothForms("Action"));
    let none = parse(
        json!({"Effect": "Allow", "Resource": "*"}),
        PolicyType::Identity,
    );
    assert_eq!(none.unwrap_err(), PolicyErrorKind::MissingAction);
    let no_resource = json!({"Effect": "Allow", "Action": "s3:*"});
    assert_eq!(
        parse(no_resource.clone(), PolicyType::Identity).unwrap_err(),
        PolicyErrorKind::MissingResource
    );
    // A trust policy (a resource-based policy on a role) has no Resource.
    let trust = json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
    assert!(parse(trust, PolicyType::Resource).unwrap().statements()[0]
        .resource()
        .is_none());
    let both = parse(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}),
        PolicyType::Identity,
    );
    assert_eq!(both.unwrap_err(), PolicyErrorKind::BothForms("Resource"));
    let unnamed = parse(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        PolicyType::Resource,
    );
    assert_eq!(unnamed.unwrap_err(), PolicyErrorKind::MissingPrincipal);
    let both = parse(
        json!({"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "s3:*", "Resource": "*"}),
        PolicyType::Resource,
    );
    assert_eq!(both.unwrap_err(), PolicyErrorKind::BothForms("Principal"));
    // Principals are optional in RCPs (which name "*"), prohibited in identity-based policies.
    assert!(parse(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        PolicyType::Rcp
    )
    .is_ok());
    let named = parse(
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
        PolicyType::Identity,
    );
    assert_eq!(
        named.unwrap_err(),
        PolicyErrorKind::PrincipalNotAllowed("Principal")
    );
}

#[test]
fn a_request_context_counts_its_keys() {
    let empty = Request::new("arn:aws:iam::123456789012:user/alice", "s3:GetObject", "*");
    assert!(empty.context.is_empty());
    assert_eq!(empty.context.len(), 0);
    let two = empty
        .with_context("aws:username", keyward_iam::ContextValue::single("alice"))
        .with_context("aws:TagKeys", keyward_iam::ContextValue::multi(["a", "b"]))
        .with_context("AWS:USERNAME", keyward_iam::ContextValue::single("bob"));
    assert!(!two.context.is_empty());
    assert_eq!(two.context.len(), 2, "keys are one in any case");
    assert_eq!(
        two.context
            .get("aws:username")
            .and_then(|v| v.single_value()),
        Some("bob")
    );
}

/// The edits the metamorphic properties make: dropping a statement keeps at least one, every
/// policy is reached, and a named policy is written back with its name.
#[test]
fn edits_keep_policies_valid_and_sets_write_back_their_names() {
    use keyward_iam::{Policy, PolicyMeta};
    let two = Policy::parse(
        &json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "B", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}),
        PolicyType::Identity,
    )
    .unwrap();
    let one = two.without_statement(0).unwrap();
    assert_eq!(
        one.statements().iter().map(|s| s.sid()).collect::<Vec<_>>(),
        [Some("B")]
    );
    assert_eq!(
        two.without_statement(1).unwrap().statements()[0].sid(),
        Some("A")
    );
    assert!(
        one.without_statement(0).is_none(),
        "IAM refuses an empty Statement"
    );
    assert!(two.without_statement(2).is_none());
    let mut set = policy_set(&json!({
        "identity": [{"name": "dev", "document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}}],
        "scp": [[{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]],
        "permissions_boundary": {"arn": "arn:aws:iam::123456789012:policy/b", "document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}}
    }));
    assert_eq!(set.policies_mut().count(), 3);
    let written = set.to_json();
    assert_eq!(written["identity"][0]["name"], "dev");
    assert!(written["identity"][0].get("arn").is_none());
    assert_eq!(
        written["permissions_boundary"]["arn"],
        "arn:aws:iam::123456789012:policy/b"
    );
    assert!(
        written["scp"][0][0].get("document").is_none(),
        "an unnamed policy is its document"
    );
    assert_eq!(policy_set(&written), set);
    assert_eq!(
        set.identity[0].meta(),
        &PolicyMeta {
            name: Some("dev".into()),
            arn: None,
            source: None,
        }
    );
}

/// A variable's default is `${key, 'text'}`, quoted at both ends; anything else is no default.
#[test]
fn a_default_is_quoted_at_both_ends() {
    let allow_under = |resource: &str| {
        policy_set(
            &json!({"identity": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}}]}),
        )
    };
    let get = |resource: &str| {
        Request::new(
            "arn:aws:iam::123456789012:user/alice",
            "s3:GetObject",
            resource,
        )
    };
    let quoted = allow_under("arn:aws:s3:::b/${aws:username, 'guest'}");
    assert_eq!(
        evaluate(&quoted, &get("arn:aws:s3:::b/guest")).kind,
        DecisionKind::Allow
    );
    for half in [
        "arn:aws:s3:::b/${aws:username, 'guest}",
        "arn:aws:s3:::b/${aws:username, guest'}",
        "arn:aws:s3:::b/${aws:username, '}",
    ] {
        let set = allow_under(half);
        for resource in [
            "arn:aws:s3:::b/guest",
            "arn:aws:s3:::b/gues",
            "arn:aws:s3:::b/",
            "arn:aws:s3:::b/uest",
        ] {
            assert_eq!(
                evaluate(&set, &get(resource)).kind,
                DecisionKind::ImplicitDeny,
                "{half} on {resource}"
            );
        }
    }
}

/// Text that is not JSON, or holds a character IAM refuses, is refused in IAM's words
/// (docs/aws-behaviour.md §5.1) with the parser's detail.
#[test]
fn text_is_refused_before_its_structure() {
    use keyward_iam::{ErrorCode, Policy, PolicyErrorKind};
    let e = Policy::parse_str("{\"Version\": ", PolicyType::Identity).unwrap_err();
    assert!(matches!(e.kind, PolicyErrorKind::InvalidJson(_)), "{e:?}");
    assert_eq!(e.kind.code(), ErrorCode::MalformedPolicyDocument);
    assert!(
        e.reason().starts_with(
            "MalformedPolicyDocument: This policy contains invalid Json (invalid JSON: "
        ),
        "{}",
        e.reason()
    );
    let e = Policy::parse_str(
        r#"{"Version": "2012-10-17", "Statement": {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/€"}}"#,
        PolicyType::Identity,
    )
    .unwrap_err();
    assert_eq!(e.kind, PolicyErrorKind::InvalidCharacter('€'));
    assert_eq!(e.kind.code(), ErrorCode::ValidationError);
    assert_eq!(e.kind.code().to_string(), "ValidationError");
    assert!(
        e.aws_error()
            .starts_with("ValidationError: 1 validation error detected: Value at 'policyDocument'"),
        "{}",
        e.aws_error()
    );
}

/// A document with several problems is refused for the one IAM checks first: characters, then
/// structure, the Version, Sids, actions, resources, action prefixes and principals.
#[test]
fn the_first_check_that_fails_names_the_problem() {
    use keyward_iam::{Policy, PolicyErrorKind as K};
    let first = |version: &str, statement: serde_json::Value| {
        Policy::parse(
            &json!({"Version": version, "Statement": [statement]}),
            PolicyType::Identity,
        )
        .unwrap_err()
    };
    let v = "2012-10-17";
    let bad_version = "2010-01-01";
    type Is = fn(&K) -> bool;
    let cases: Vec<(&str, serde_json::Value, Is)> = vec![
        (
            bad_version,
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/€"}),
            |k| matches!(k, K::InvalidCharacter(_)),
        ),
        (
            v,
            json!({"Foo": 1, "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/€"}),
            |k| matches!(k, K::InvalidCharacter(_)),
        ),
        (
            bad_version,
            json!({"Foo": 1, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            |k| matches!(k, K::UnknownElement(_)),
        ),
        (
            bad_version,
            json!({"Sid": "a-b", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            |k| matches!(k, K::BadVersion(_)),
        ),
        (
            v,
            json!({"Sid": "a-b", "Effect": "Allow", "Resource": "*"}),
            |k| matches!(k, K::BadSid(_)),
        ),
        (v, json!({"Effect": "Allow", "Resource": "bucket"}), |k| {
            matches!(k, K::MissingAction)
        }),
        (
            v,
            json!({"Effect": "Allow", "Action": "GetObject", "Resource": "bucket"}),
            |k| matches!(k, K::ResourceNotArn(_)),
        ),
        (v, json!({"Effect": "Allow", "Action": "GetObject"}), |k| {
            matches!(k, K::MissingResource)
        }),
        (
            v,
            json!({"Effect": "Allow", "Principal": "*", "Action": "GetObject", "Resource": "*"}),
            |k| matches!(k, K::ActionNoVendor(_)),
        ),
        (
            v,
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
            |k| matches!(k, K::PrincipalNotAllowed(_)),
        ),
    ];
    for (version, statement, want) in cases {
        let e = first(version, statement.clone());
        assert!(want(&e.kind), "{statement}: {e:?}");
        assert_eq!(e.to_string(), format!("{}: {}", e.path, e.reason()));
    }
    // Where IAM's words say it all, keyward adds nothing; where they are generic, it adds why.
    let e = first(
        v,
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}),
    );
    assert_eq!(e.to_string(), "$.Statement[0].Resource: MalformedPolicyDocument: Resource bucket must be in ARN format or \"*\".");
    let e = first(
        v,
        json!({"Foo": 1, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    );
    assert_eq!(e.to_string(), "$.Statement[0].Foo: MalformedPolicyDocument: Syntax errors in policy. (unknown element \"Foo\")");
}

/// A role ARN names the role's sessions only as `arn:aws:iam::ACCOUNT:role/NAME` of the caller's
/// own account and partition, with no region; and only a Deny with NotPrincipal reaches every
/// caller with a permissions boundary.
#[test]
fn a_principal_names_a_session_through_its_role_exactly() {
    use keyward_iam::{Policy, PrincipalMatch};
    let session = "arn:aws:sts::123456789012:assumed-role/r/s";
    let names = |principal: &str| {
        let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:*", "Resource": "*"}});
        let p = Policy::parse(&doc, PolicyType::Resource).unwrap();
        p.statements()[0].names_caller(session, false)
    };
    assert_eq!(
        names("arn:aws:iam::123456789012:role/r"),
        Some(PrincipalMatch::Role)
    );
    assert_eq!(
        names("arn:aws:iam::123456789012:role/path/r"),
        Some(PrincipalMatch::Role)
    );
    for other in [
        "arn:aws:iam::999999999999:role/r",
        "arn:aws:iam:us-east-1:123456789012:role/r",
        "arn:aws-cn:iam::123456789012:role/r",
        "arn:aws:iam::123456789012:role/q",
        "arn:aws:iam::123456789012:user/r",
    ] {
        assert_eq!(names(other), None, "{other}");
    }
    let doc = |effect: &str, element: &str| json!({"Version": "2012-10-17", "Statement": {"Effect": effect, element: {"AWS": "arn:aws:iam::123456789012:user/bob"}, "Action": "s3:*", "Resource": "*"}});
    let statement = |effect: &str, element: &str| {
        Policy::parse(&doc(effect, element), PolicyType::Resource)
            .unwrap()
            .statements()[0]
            .clone()
    };
    let alice = "arn:aws:iam::123456789012:user/alice";
    assert!(statement("Deny", "NotPrincipal").denies_every_bounded_principal());
    for (effect, element) in [
        ("Deny", "Principal"),
        ("Allow", "NotPrincipal"),
        ("Allow", "Principal"),
    ] {
        let s = statement(effect, element);
        assert!(!s.denies_every_bounded_principal(), "{effect} {element}");
        let expected = (element == "NotPrincipal").then_some(PrincipalMatch::Direct);
        assert_eq!(s.names_caller(alice, true), expected, "{effect} {element}");
    }
}
