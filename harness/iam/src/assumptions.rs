//! Every behaviour the evaluator has to choose because the AWS documentation leaves it open, in
//! one place. Each has an id that the code cites where it makes the choice, so a live run can
//! confirm or refute it and the code to change is easy to find.
//!
//! Evaluation also records which of them a decision rests on ([`Decision::assumptions`]). Where
//! the code makes an assumed choice it asks a [`Reading`], which notes that the choice was met and
//! says which branch to take: keyward's, or the other reading the docs leave open. A decision
//! rests on an assumption when evaluating it again under the other reading of that assumption
//! changes the decision or the policy type named (`by`); merely meeting the choice is not enough.
//! When several of the others change nothing alone but do together, it rests on them too.
//! Only the rare requests that meet an assumed choice are evaluated again.
//!
//! [`Decision::assumptions`]: crate::Decision::assumptions

use std::cell::Cell;
use std::fmt;

/// A behaviour keyward chose where the AWS documentation leaves it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assumption {
    /// The id the code cites (`A-...`).
    pub id: &'static str,
    /// What keyward does.
    pub statement: &'static str,
    /// Why: the documentation this reading follows, or the gap in it.
    pub basis: &'static str,
}

/// Every assumption the evaluator makes.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: "A-NUMERIC-SYNTAX",
        statement: "Numeric values are an optional sign, digits and an optional fraction; exponents, hex and blanks never match.",
        basis: "The condition-operators page says only \"integer or decimal\" (docs/aws-behaviour.md §4.6, open question 13).",
    },
    Assumption {
        id: "A-BOOL-SYNTAX",
        statement: "Bool values are true/false in any letter case; anything else never matches.",
        basis: "Undocumented; Access Analyzer asks for \"a valid Boolean value (true or false)\" (docs/aws-behaviour.md §4.6).",
    },
    Assumption {
        id: "A-OPERATOR-CASE",
        statement: "Condition operator names and qualifiers are case-sensitive; another spelling is an unknown operator.",
        basis: "The docs never show another spelling (docs/aws-behaviour.md §4.5).",
    },
    Assumption {
        id: "A-PLAIN-MULTI",
        statement: "A plain (unqualified) operator on a multivalued context key matches when any request value matches.",
        basis: "The docs only warn against it (docs/aws-behaviour.md §4.6, open question 14).",
    },
    Assumption {
        id: "A-VAR-LITERAL",
        statement: "Text substituted for a policy variable is literal: a * or ? in a context value is not a wildcard.",
        basis: "The variables page documents ${*} and ${?} for the policy's own text, and says nothing of values.",
    },
    Assumption {
        id: "A-NEGATED-UNPARSEABLE",
        statement: "A value that does not parse as the operator's type does not match, so a negated operator is true for it.",
        basis: "The docs say such values do not match; negation then follows the documented NOR rule.",
    },
    Assumption {
        id: "A-ARN-SHORT-PATTERN",
        statement: "An ARN-operator pattern with fewer than six components (e.g. \"*\") matches that many request components, the last taking the rest.",
        basis: "The docs show only six-component patterns; this keeps \"*\" matching every ARN.",
    },
    Assumption {
        id: "A-STAR-PRINCIPAL-DIRECT",
        statement: "In the same account, a resource-based policy allowing Principal \"*\" allows on its own, like one naming the caller.",
        basis: "The evaluation flow chart: a same-account resource-based Allow is final; the docs single out only role ARNs as still limited.",
    },
    Assumption {
        id: "A-DENY-PRECEDENCE",
        statement: "When several policy types deny explicitly, the one named is the first of RCP, SCP, resource, identity, boundary, session.",
        basis: "AWS documents that only one type is named, not which (docs/aws-behaviour.md §3.1, open question 7); this is the flow chart's order.",
    },
    Assumption {
        id: "A-IMPLICIT-PRECEDENCE",
        statement: "When several types lack an Allow, the one named follows the flow chart: RCP, SCP, identity, boundary, session, then (cross-account) resource.",
        basis: "Undocumented, as for explicit denies.",
    },
    Assumption {
        id: "A-SESSION-WORDING",
        statement: "The session-policy message reads \"session policy\".",
        basis: "An older troubleshooting page spells it \"sessions policy\"; newer material \"session policy\" (docs/aws-behaviour.md §3.1).",
    },
    Assumption {
        id: "A-INLINE-NO-ARN",
        statement: "An explicit deny by an inline policy (no ARN) carries no policy-ARN suffix.",
        basis: "The announcement of the suffix shows managed policies only (docs/aws-behaviour.md §3.1, open question 6).",
    },
    Assumption {
        id: "A-SYNTAX-WORDING",
        statement: "Structural errors without a known IAM text (unknown element, bad Effect, unknown operator, Null with IfExists, ...) are reported as \"Syntax errors in policy.\" with keyward's detail after it.",
        basis: "IAM's generic MalformedPolicyDocument text for structural problems (docs/aws-behaviour.md §5.1); the emulators that mirror IAM use it the same way.",
    },
    Assumption {
        id: "A-SET-IFEXISTS-MISSING",
        statement: "A ForAnyValue: or ForAllValues: operator with IfExists is true when the key is missing from the request.",
        basis: "The condition-operators page: IfExists makes a condition true when the key is absent; the multivalued-keys page: ForAllValues is true and ForAnyValue false for a missing key. No page combines a set qualifier with IfExists (docs/aws-behaviour.md §4.6). For ForAnyValue the two rules conflict; for ForAllValues both say true, and the other reading (false) is only what another open-source evaluator, iam-simulate, answers.",
    },
    Assumption {
        id: "A-DATE-SYNTAX",
        statement: "Date values are W3C ISO 8601 dates and times or epoch seconds; any other text matches nothing.",
        basis: "The condition-operators page names only those forms; how other text is read is undocumented (docs/aws-behaviour.md §4.6, open question 13).",
    },
    Assumption {
        id: "A-BINARY-BASE64",
        statement: "A BinaryEquals value, in the policy or the request, that is not valid base64 matches nothing.",
        basis: "The condition-operators page gives the policy value as the base64 of the bytes and says nothing of other text.",
    },
    Assumption {
        id: "A-EMPTY-VALUE-LIST",
        statement: "A condition key whose policy value is an empty array makes a plain operator false and a negated one true (the OR, and the NOR, of nothing).",
        basis: "Undocumented for evaluation; Access Analyzer's policy checks say only that such a key has no effect (docs/aws-behaviour.md §4.7).",
    },
    Assumption {
        id: "A-NULL-SET-QUALIFIER",
        statement: "ForAllValues:Null is always true and ForAnyValue:Null always false, whatever the key and the value.",
        basis: "Access Analyzer's policy checks warn that these combinations are always true and always false (docs/aws-behaviour.md §4.7); how IAM evaluates them is not stated elsewhere. The other reading, another open-source evaluator's, ignores the qualifier.",
    },
    Assumption {
        id: "A-CIDR-IN-REQUEST",
        statement: "An IpAddress request value that is a CIDR block rather than an address matches when the block lies inside a policy block.",
        basis: "The condition-operators page describes the request side as an address only; a block there is undocumented.",
    },
    Assumption {
        id: "A-DENY-ARN-FIRST",
        statement: "When several policies of the type named in an explicit deny deny the request, the message carries the first one's ARN.",
        basis: "The announcement of the ARN in access-denied messages shows one policy; which one AWS names among several is undocumented (docs/aws-behaviour.md §3.1).",
    },
    Assumption {
        id: "A-EC2-SENTENCE",
        statement: "Amazon EC2 puts IAM's sentence, ended by a period, between \"You are not authorized to perform this operation.\" and \"Encoded authorization failure message:\".",
        basis: "EC2's pages show only the wrapper and the encoded message (docs/aws-behaviour.md §3.1); the sentence between them is how EC2's answers pasted in public reports read. Which EC2 actions answer this way is not listed (DecodeAuthorizationMessage: \"only certain AWS operations\"); keyward uses the form for every ec2: action.",
    },
    Assumption {
        id: "A-ORG-UNKNOWN",
        statement: "A cross-account request whose case does not give both aws:PrincipalOrgID and aws:ResourceOrgID comes from outside the resource owner's organization: Amazon S3 answers it with a bare Access Denied, and no explicit-deny message names a policy ARN.",
        basis: "S3's troubleshooting page and the announcement of the policy-ARN suffix give that context only within the owner's account or organization (docs/aws-behaviour.md §3.1); a case that names no organizations leaves which one applies open.",
    },
];

/// One of the assumptions above, as a value the evaluator can record. The discriminant is the
/// assumption's index in [`ASSUMPTIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum AssumptionId {
    /// A-NUMERIC-SYNTAX.
    NumericSyntax,
    /// A-BOOL-SYNTAX.
    BoolSyntax,
    /// A-OPERATOR-CASE (a parse-time choice: no decision rests on it).
    OperatorCase,
    /// A-PLAIN-MULTI.
    PlainMulti,
    /// A-VAR-LITERAL.
    VarLiteral,
    /// A-NEGATED-UNPARSEABLE.
    NegatedUnparseable,
    /// A-ARN-SHORT-PATTERN.
    ArnShortPattern,
    /// A-STAR-PRINCIPAL-DIRECT.
    StarPrincipalDirect,
    /// A-DENY-PRECEDENCE.
    DenyPrecedence,
    /// A-IMPLICIT-PRECEDENCE.
    ImplicitPrecedence,
    /// A-SESSION-WORDING (the message's wording).
    SessionWording,
    /// A-INLINE-NO-ARN (the message's wording).
    InlineNoArn,
    /// A-SYNTAX-WORDING (a parse-time choice: no decision rests on it).
    SyntaxWording,
    /// A-SET-IFEXISTS-MISSING.
    SetIfExistsMissing,
    /// A-DATE-SYNTAX.
    DateSyntax,
    /// A-BINARY-BASE64.
    BinaryBase64,
    /// A-EMPTY-VALUE-LIST.
    EmptyValueList,
    /// A-NULL-SET-QUALIFIER.
    NullSetQualifier,
    /// A-CIDR-IN-REQUEST.
    IpRequestCidr,
    /// A-DENY-ARN-FIRST (the message's wording).
    DenyArnFirst,
    /// A-EC2-SENTENCE (the message's wording).
    Ec2Sentence,
    /// A-ORG-UNKNOWN (the message's wording).
    OrgUnknown,
}

impl AssumptionId {
    /// Every id, in the order of [`ASSUMPTIONS`].
    pub const ALL: [AssumptionId; 22] = [
        AssumptionId::NumericSyntax,
        AssumptionId::BoolSyntax,
        AssumptionId::OperatorCase,
        AssumptionId::PlainMulti,
        AssumptionId::VarLiteral,
        AssumptionId::NegatedUnparseable,
        AssumptionId::ArnShortPattern,
        AssumptionId::StarPrincipalDirect,
        AssumptionId::DenyPrecedence,
        AssumptionId::ImplicitPrecedence,
        AssumptionId::SessionWording,
        AssumptionId::InlineNoArn,
        AssumptionId::SyntaxWording,
        AssumptionId::SetIfExistsMissing,
        AssumptionId::DateSyntax,
        AssumptionId::BinaryBase64,
        AssumptionId::EmptyValueList,
        AssumptionId::NullSetQualifier,
        AssumptionId::IpRequestCidr,
        AssumptionId::DenyArnFirst,
        AssumptionId::Ec2Sentence,
        AssumptionId::OrgUnknown,
    ];

    /// The registered assumption: id, statement, basis.
    pub fn info(self) -> &'static Assumption {
        &ASSUMPTIONS[self as usize]
    }

    /// The id the code and the reports cite (`A-...`).
    pub fn as_str(self) -> &'static str {
        self.info().id
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl fmt::Display for AssumptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`AssumptionId`]s; copied by value, allocation-free.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Assumptions(u32);

impl Assumptions {
    /// The empty set: the decision rests on documented rules only.
    pub const NONE: Assumptions = Assumptions(0);

    /// The set holding one assumption.
    pub fn of(a: AssumptionId) -> Assumptions {
        Assumptions(a.bit())
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `a` is in the set.
    pub fn contains(self, a: AssumptionId) -> bool {
        self.0 & a.bit() != 0
    }

    /// The set with `a` added.
    #[must_use]
    pub fn with(self, a: AssumptionId) -> Assumptions {
        Assumptions(self.0 | a.bit())
    }

    /// Both sets together.
    #[must_use]
    pub fn union(self, other: Assumptions) -> Assumptions {
        Assumptions(self.0 | other.0)
    }

    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    pub(crate) fn from_bits(bits: u32) -> Assumptions {
        Assumptions(bits)
    }

    /// The members, in the order of [`ASSUMPTIONS`].
    pub fn iter(self) -> impl Iterator<Item = AssumptionId> {
        AssumptionId::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

impl fmt::Debug for Assumptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(AssumptionId::as_str))
            .finish()
    }
}

impl FromIterator<AssumptionId> for Assumptions {
    fn from_iter<I: IntoIterator<Item = AssumptionId>>(iter: I) -> Assumptions {
        iter.into_iter().fold(Assumptions::NONE, Assumptions::with)
    }
}

/// Which reading of the assumed choices an evaluation takes, and which choices it met.
pub(crate) struct Reading {
    /// The assumptions read the other way.
    flipped: Assumptions,
    met: Cell<Assumptions>,
}

impl Reading {
    /// keyward's reading of every assumption.
    pub(crate) fn keyward() -> Reading {
        Reading::flipping(Assumptions::NONE)
    }

    /// keyward's reading except for `flipped`, read the other way.
    pub(crate) fn flipping(flipped: Assumptions) -> Reading {
        Reading {
            flipped,
            met: Cell::new(Assumptions::NONE),
        }
    }

    /// Notes that the evaluation met the choice `a`; true when it is to take the other branch.
    #[inline]
    pub(crate) fn other(&self, a: AssumptionId) -> bool {
        self.met.set(self.met.get().with(a));
        self.flipped.contains(a)
    }

    /// Every assumed choice met so far.
    pub(crate) fn met(&self) -> Assumptions {
        self.met.get()
    }
}

impl Assumption {
    /// Looks an assumption up by id.
    pub fn find(id: &str) -> Option<&'static Assumption> {
        ASSUMPTIONS.iter().find(|a| a.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_assumption_has_its_id_in_order() {
        assert_eq!(AssumptionId::ALL.len(), ASSUMPTIONS.len());
        for (i, a) in AssumptionId::ALL.iter().enumerate() {
            assert_eq!(*a as usize, i, "{a:?}");
            assert_eq!(a.info().id, ASSUMPTIONS[i].id);
        }
    }

    #[test]
    fn a_set_holds_what_was_added_in_registry_order() {
        let s = Assumptions::of(AssumptionId::SetIfExistsMissing).with(AssumptionId::BoolSyntax);
        assert!(s.contains(AssumptionId::BoolSyntax));
        assert!(!s.contains(AssumptionId::PlainMulti));
        let ids: Vec<&str> = s.iter().map(AssumptionId::as_str).collect();
        assert_eq!(ids, ["A-BOOL-SYNTAX", "A-SET-IFEXISTS-MISSING"]);
        assert_eq!(
            format!("{s:?}"),
            r#"{"A-BOOL-SYNTAX", "A-SET-IFEXISTS-MISSING"}"#
        );
        assert!(Assumptions::NONE.is_empty());
    }

    #[test]
    fn a_reading_notes_every_choice_met_and_flips_only_its_own() {
        let r = Reading::flipping(Assumptions::of(AssumptionId::PlainMulti));
        assert!(!r.other(AssumptionId::BoolSyntax));
        assert!(r.other(AssumptionId::PlainMulti));
        assert_eq!(
            r.met(),
            Assumptions::of(AssumptionId::BoolSyntax).with(AssumptionId::PlainMulti)
        );
    }
}

/// Which assumptions whole decisions rest on, evaluated through the public API.
#[cfg(test)]
mod decisions {
    use super::AssumptionId::{self, *};
    use super::Assumptions;
    use crate::{
        evaluate, ContextValue, DecisionKind, Policy, PolicyMeta, PolicySet, PolicyType, Request,
    };
    use serde_json::{json, Value};

    const USER: &str = "arn:aws:iam::123456789012:user/alice";

    fn policy(statements: Value, t: PolicyType) -> Policy {
        let doc = json!({"Version": "2012-10-17", "Statement": statements});
        Policy::parse_str(&doc.to_string(), t).expect("a valid policy")
    }

    fn identity(statements: Value) -> PolicySet {
        PolicySet {
            identity: vec![policy(statements, PolicyType::Identity)],
            ..PolicySet::default()
        }
    }

    fn allow_if(condition: Value) -> Value {
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition})
    }

    fn get(ctx: &[(&str, ContextValue)]) -> Request {
        ctx.iter().fold(
            Request::new(USER, "s3:GetObject", "arn:aws:s3:::bucket/key"),
            |r, (k, v)| r.with_context(k, v.clone()),
        )
    }

    fn rests_on(set: &PolicySet, req: &Request) -> (DecisionKind, Vec<AssumptionId>) {
        let d = evaluate(set, req);
        (d.kind, d.assumptions().iter().collect())
    }

    #[test]
    fn documented_rules_alone_leave_the_list_empty() {
        let set = identity(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
        assert_eq!(rests_on(&set, &get(&[])), (DecisionKind::Allow, vec![]));
    }

    #[test]
    fn a_set_qualifier_with_if_exists_on_a_missing_key() {
        for op in [
            "ForAnyValue:StringEqualsIfExists",
            "ForAllValues:StringEqualsIfExists",
        ] {
            let set = identity(json!([allow_if(json!({op: {"aws:TagKeys": "a"}}))]));
            assert_eq!(
                rests_on(&set, &get(&[])),
                (DecisionKind::Allow, vec![SetIfExistsMissing]),
                "{op}"
            );
            // The key present: the documented rules decide.
            let req = get(&[("aws:TagKeys", ContextValue::multi(["a"]))]);
            assert_eq!(rests_on(&set, &req), (DecisionKind::Allow, vec![]), "{op}");
        }
    }

    #[test]
    fn an_assumption_met_but_not_deciding_is_not_listed() {
        let set = identity(json!([
            allow_if(json!({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "a"}})),
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        ]));
        assert_eq!(rests_on(&set, &get(&[])), (DecisionKind::Allow, vec![]));
    }

    #[test]
    fn a_plain_operator_on_several_values() {
        let set = identity(json!([allow_if(
            json!({"StringEquals": {"aws:TagKeys": "a"}})
        )]));
        let two = get(&[("aws:TagKeys", ContextValue::multi(["a", "b"]))]);
        assert_eq!(
            rests_on(&set, &two),
            (DecisionKind::Allow, vec![PlainMulti])
        );
        // A single-valued key: documented.
        let one = get(&[("aws:TagKeys", ContextValue::single("a"))]);
        assert_eq!(rests_on(&set, &one), (DecisionKind::Allow, vec![]));
    }

    #[test]
    fn value_syntax_choices() {
        let deny_unless_five = identity(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"NumericNotEquals": {"s3:max-keys": "5"}}},
        ]));
        let req = get(&[("s3:max-keys", ContextValue::single("five"))]);
        assert_eq!(
            rests_on(&deny_unless_five, &req),
            (DecisionKind::ExplicitDeny, vec![NegatedUnparseable])
        );
        // "5.0" is a number under every reading: documented.
        let req = get(&[("s3:max-keys", ContextValue::single("5.0"))]);
        assert_eq!(
            rests_on(&deny_unless_five, &req),
            (DecisionKind::Allow, vec![])
        );

        let below_30 = identity(json!([allow_if(
            json!({"NumericLessThan": {"s3:max-keys": "30"}})
        )]));
        let req = get(&[("s3:max-keys", ContextValue::single("1e1"))]);
        assert_eq!(
            rests_on(&below_30, &req),
            (DecisionKind::ImplicitDeny, vec![NumericSyntax])
        );
        // Not a number under any reading: nothing to assume.
        let req = get(&[("s3:max-keys", ContextValue::single("ten"))]);
        assert_eq!(
            rests_on(&below_30, &req),
            (DecisionKind::ImplicitDeny, vec![])
        );

        let tls = identity(json!([allow_if(
            json!({"Bool": {"aws:SecureTransport": "True"}})
        )]));
        let req = get(&[("aws:SecureTransport", ContextValue::single("true"))]);
        assert_eq!(
            rests_on(&tls, &req),
            (DecisionKind::Allow, vec![BoolSyntax])
        );
    }

    #[test]
    fn a_wildcard_substituted_from_a_variable() {
        let set = identity(json!([{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket/${aws:username}/*"}]));
        let req = Request::new(USER, "s3:GetObject", "arn:aws:s3:::bucket/bob/report")
            .with_context("aws:username", ContextValue::single("*"));
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::ImplicitDeny, vec![VarLiteral])
        );
    }

    #[test]
    fn a_short_arn_pattern() {
        let set = identity(json!([allow_if(
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3*"}})
        )]));
        let req = get(&[("aws:SourceArn", ContextValue::single("arn:aws:s3:::b"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::Allow, vec![ArnShortPattern])
        );
    }

    #[test]
    fn which_type_is_named_when_several_qualify() {
        let deny = json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}]);
        let allow = json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]);
        let mut set = identity(deny.clone());
        set.scp = Some(vec![vec![policy(deny.clone(), PolicyType::Scp)]]);
        let d = evaluate(&set, &get(&[]));
        assert_eq!(d.by, Some(PolicyType::Scp));
        assert_eq!(d.assumptions().iter().collect::<Vec<_>>(), [DenyPrecedence]);
        // One denying type: nothing to choose.
        set.identity = vec![policy(allow, PolicyType::Identity)];
        assert!(evaluate(&set, &get(&[])).assumptions().is_empty());

        let empty = json!([{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]);
        let mut set = identity(empty.clone());
        set.scp = Some(vec![vec![policy(empty, PolicyType::Scp)]]);
        let d = evaluate(&set, &get(&[]));
        assert_eq!(d.by, Some(PolicyType::Scp));
        assert_eq!(
            d.assumptions().iter().collect::<Vec<_>>(),
            [ImplicitPrecedence]
        );
    }

    #[test]
    fn principal_star_in_a_same_account_resource_policy() {
        let star = json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]);
        let set = PolicySet {
            resource: vec![policy(star, PolicyType::Resource)],
            ..PolicySet::default()
        };
        let req = get(&[]).with_resource_account("123456789012");
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::Allow, vec![StarPrincipalDirect])
        );
        let named = json!([{"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:GetObject", "Resource": "*"}]);
        let set = PolicySet {
            resource: vec![policy(named, PolicyType::Resource)],
            ..PolicySet::default()
        };
        assert_eq!(rests_on(&set, &req), (DecisionKind::Allow, vec![]));
    }

    #[test]
    fn two_denials_each_on_its_own_assumption_rest_on_both_together() {
        let set = identity(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "x"}}},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}},
        ]));
        let req = get(&[("aws:PrincipalTag/team", ContextValue::multi(["a", "b"]))]);
        assert_eq!(
            rests_on(&set, &req),
            (
                DecisionKind::ExplicitDeny,
                vec![PlainMulti, SetIfExistsMissing]
            )
        );
    }

    #[test]
    fn a_type_named_by_assumption_does_not_hide_two_denials_resting_on_others_together() {
        // The same two denials, and a boundary that denies too: which type is named rests on
        // A-DENY-PRECEDENCE alone, and whether the identity policy denies at all on both others.
        let mut set = identity(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "x"}}},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}},
        ]));
        set.permissions_boundary = Some(policy(
            json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]),
            PolicyType::PermissionsBoundary,
        ));
        let req = get(&[("aws:PrincipalTag/team", ContextValue::multi(["a", "b"]))]);
        assert_eq!(
            rests_on(&set, &req),
            (
                DecisionKind::ExplicitDeny,
                vec![PlainMulti, DenyPrecedence, SetIfExistsMissing]
            )
        );
    }

    #[test]
    fn the_message_wording() {
        let deny = json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}]);
        let set = identity(deny.clone());
        let d = evaluate(&set, &get(&[]));
        assert_eq!(
            d.message_assumptions(&get(&[]), &set),
            Assumptions::of(InlineNoArn)
        );
        let managed = PolicySet {
            identity: vec![
                policy(deny.clone(), PolicyType::Identity).with_meta(PolicyMeta {
                    name: None,
                    arn: Some("arn:aws:iam::123456789012:policy/deny-all".into()),
                    source: None,
                }),
            ],
            ..PolicySet::default()
        };
        let d = evaluate(&managed, &get(&[]));
        assert!(d.message_assumptions(&get(&[]), &managed).is_empty());

        let allow = json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]);
        let session = |statements| PolicySet {
            identity: vec![policy(allow.clone(), PolicyType::Identity)],
            session: Some(statements),
            ..PolicySet::default()
        };
        // "no session policy allows" is documented; only the explicit form is spelled two ways.
        let lacking = session(vec![]);
        let d = evaluate(&lacking, &get(&[]));
        assert_eq!(d.by, Some(PolicyType::Session));
        assert!(d.message_assumptions(&get(&[]), &lacking).is_empty());
        let denying = session(vec![policy(deny.clone(), PolicyType::Session)]);
        let d = evaluate(&denying, &get(&[]));
        assert_eq!(
            d.message_assumptions(&get(&[]), &denying),
            Assumptions::of(SessionWording).with(InlineNoArn)
        );

        // Two identity policies deny: the message names the first one's ARN.
        let arn = |n: &str| PolicyMeta {
            name: None,
            arn: Some(format!("arn:aws:iam::123456789012:policy/{n}")),
            source: None,
        };
        let two = PolicySet {
            identity: vec![
                policy(deny.clone(), PolicyType::Identity).with_meta(arn("a")),
                policy(deny, PolicyType::Identity).with_meta(arn("b")),
            ],
            ..PolicySet::default()
        };
        let d = evaluate(&two, &get(&[]));
        assert_eq!(
            d.message_assumptions(&get(&[]), &two),
            Assumptions::of(DenyArnFirst)
        );
    }

    #[test]
    fn values_of_the_wrong_type_under_negated_operators() {
        // The policy's own value is not a date: DateNotEquals holds for every request value.
        let set = identity(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"DateNotEquals": {"aws:CurrentTime": "soon"}}},
        ]));
        let req = get(&[(
            "aws:CurrentTime",
            ContextValue::single("2026-01-01T00:00:00Z"),
        )]);
        let (kind, on) = rests_on(&set, &req);
        assert_eq!(kind, DecisionKind::ExplicitDeny);
        assert!(on.contains(&NegatedUnparseable), "{on:?}");
        // A request value that is not an ARN under ArnNotEquals.
        let set = identity(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}},
        ]));
        let req = get(&[("aws:SourceArn", ContextValue::single("30"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::ExplicitDeny, vec![NegatedUnparseable])
        );
        // An ARN that simply differs: documented.
        let req = get(&[("aws:SourceArn", ContextValue::single("arn:aws:s3:::c"))]);
        assert_eq!(rests_on(&set, &req), (DecisionKind::ExplicitDeny, vec![]));
    }

    #[test]
    fn an_empty_value_list() {
        let set = identity(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": []}}},
        ]));
        let req = get(&[("aws:PrincipalTag/team", ContextValue::single("a"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::ExplicitDeny, vec![EmptyValueList])
        );
        let plain = identity(json!([allow_if(
            json!({"StringEquals": {"aws:PrincipalTag/team": []}})
        )]));
        assert_eq!(
            rests_on(&plain, &req),
            (DecisionKind::ImplicitDeny, vec![EmptyValueList])
        );
    }

    #[test]
    fn date_and_binary_text_of_the_wrong_type() {
        let set = identity(json!([allow_if(
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})
        )]));
        let req = get(&[("aws:CurrentTime", ContextValue::single("us-east-1"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::ImplicitDeny, vec![DateSyntax])
        );
        let set = identity(json!([allow_if(
            json!({"BinaryEquals": {"s3:x-amz-meta": "not base64!"}})
        )]));
        let req = get(&[("s3:x-amz-meta", ContextValue::single("not base64!"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::ImplicitDeny, vec![BinaryBase64])
        );
    }

    #[test]
    fn a_plain_operator_on_a_multivalued_key_of_one_value() {
        let set = identity(json!([allow_if(
            json!({"StringEquals": {"aws:TagKeys": "a"}})
        )]));
        let one = get(&[("aws:TagKeys", ContextValue::multi(["a"]))]);
        assert_eq!(
            rests_on(&set, &one),
            (DecisionKind::Allow, vec![PlainMulti])
        );
        let single = get(&[("aws:TagKeys", ContextValue::single("a"))]);
        assert_eq!(rests_on(&set, &single), (DecisionKind::Allow, vec![]));
    }

    #[test]
    fn principal_star_beside_an_entry_naming_the_role() {
        let both = json!([{"Effect": "Allow",
            "Principal": {"AWS": ["*", "arn:aws:iam::123456789012:role/r"]},
            "Action": "s3:GetObject", "Resource": "*"}]);
        let set = PolicySet {
            resource: vec![policy(both, PolicyType::Resource)],
            ..PolicySet::default()
        };
        let req = Request::new(
            "arn:aws:sts::123456789012:assumed-role/r/s",
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
        )
        .with_resource_account("123456789012");
        // Naming the role suffices here (no boundary, no session policy): "*" decides nothing.
        assert_eq!(rests_on(&set, &req), (DecisionKind::Allow, vec![]));
    }

    #[test]
    fn null_with_a_set_qualifier_an_address_block_and_a_short_arn_pattern() {
        let set = identity(json!([allow_if(
            json!({"ForAllValues:Null": {"aws:PrincipalTag/team": "true"}})
        )]));
        let req = get(&[("aws:PrincipalTag/team", ContextValue::single("a"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::Allow, vec![NullSetQualifier])
        );
        let set = identity(json!([allow_if(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
        )]));
        let block = get(&[("aws:SourceIp", ContextValue::single("203.0.113.0/28"))]);
        assert_eq!(
            rests_on(&set, &block),
            (DecisionKind::Allow, vec![IpRequestCidr])
        );
        let address = get(&[("aws:SourceIp", ContextValue::single("203.0.113.9"))]);
        assert_eq!(rests_on(&set, &address), (DecisionKind::Allow, vec![]));
        let set = identity(json!([allow_if(
            json!({"ArnNotLike": {"aws:SourceArn": "5"}})
        )]));
        let req = get(&[("aws:SourceArn", ContextValue::single("arn:aws:s3:::b"))]);
        assert_eq!(
            rests_on(&set, &req),
            (DecisionKind::Allow, vec![NegatedUnparseable])
        );
    }
}
