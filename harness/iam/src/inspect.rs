//! Questions about a compiled policy: its conditions (operator, family, qualifiers, key,
//! values), the context-key types its operators imply, the policy variables it reads, and the
//! literals it compares against. Everything outside this crate that needs to know what a policy
//! says asks here, so no other code parses policy JSON or knows an operator's spelling.

use std::collections::BTreeMap;

use crate::condition::{scalar_text, Condition, Family, Operator, SetQualifier};
use crate::eval::PolicySet;
use crate::policy::{Policy, Statement};
use crate::request::Request;
use crate::variables::{Part, Template};

/// The type of a request-context key, as the operator that reads it implies. These are the
/// types of the IAM policy simulator's `ContextKeyType` (each also has a list form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyType {
    /// String and ARN operators.
    String,
    /// Numeric operators.
    Numeric,
    /// Date operators.
    Date,
    /// `Bool`.
    Boolean,
    /// `IpAddress` and `NotIpAddress`.
    Ip,
    /// `BinaryEquals`.
    Binary,
}

impl KeyType {
    /// The simulator's name of the type: `string`, `numeric`, ...; the list form (a multivalued
    /// key) adds `List`: `stringList`, `numericList`, ...
    pub fn simulator_name(self, list: bool) -> &'static str {
        match (self, list) {
            (KeyType::String, false) => "string",
            (KeyType::String, true) => "stringList",
            (KeyType::Numeric, false) => "numeric",
            (KeyType::Numeric, true) => "numericList",
            (KeyType::Date, false) => "date",
            (KeyType::Date, true) => "dateList",
            (KeyType::Boolean, false) => "boolean",
            (KeyType::Boolean, true) => "booleanList",
            (KeyType::Ip, false) => "ip",
            (KeyType::Ip, true) => "ipList",
            (KeyType::Binary, false) => "binary",
            (KeyType::Binary, true) => "binaryList",
        }
    }
}

impl Family {
    /// The key type an operator of this family reads its key as; `None` for `Null`, which only
    /// asks whether the key is present.
    pub fn key_type(self) -> Option<KeyType> {
        match self {
            Family::String | Family::Arn => Some(KeyType::String),
            Family::Numeric => Some(KeyType::Numeric),
            Family::Date => Some(KeyType::Date),
            Family::Bool => Some(KeyType::Boolean),
            Family::Binary => Some(KeyType::Binary),
            Family::Ip => Some(KeyType::Ip),
            Family::Null => None,
        }
    }
}

impl Operator {
    /// The operator's family (string, numeric, date, ...).
    pub fn family(&self) -> Family {
        self.base.family()
    }

    /// The key type this operator reads its key as (`None` for `Null`).
    pub fn key_type(&self) -> Option<KeyType> {
        self.family().key_type()
    }

    /// Whether the operator is qualified with `ForAllValues:` or `ForAnyValue:`, which reads the
    /// key as a set of values.
    pub fn is_set_operator(&self) -> bool {
        self.qualifier.is_some()
    }
}

/// How one context key is read across a whole policy set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUse {
    /// The type every typed operator on the key agrees on.
    pub key_type: KeyType,
    /// Whether some operator on the key reads it as a set (`ForAllValues:`/`ForAnyValue:`).
    pub as_set: bool,
}

/// Two operators of different types read the same key, so the key has no single type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictingKeyType {
    /// The key as written in the policy where the conflict was found.
    pub key: String,
    /// The type first seen for the key.
    pub first: KeyType,
    /// The other type.
    pub second: KeyType,
}

/// A condition key a policy set tests, with the literal values it compares against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValues {
    /// The key as first written.
    pub key: String,
    /// The literal values (numbers and booleans by their JSON text), in policy order, with
    /// repeats; values holding policy variables are left out.
    pub values: Vec<String>,
}

impl Condition {
    /// The values that hold no policy variable: what the condition compares against literally.
    pub fn literals(&self) -> impl Iterator<Item = String> + '_ {
        self.values_with_templates()
            .filter(|(_, t)| t.is_none())
            .filter_map(|(v, _)| scalar_text(v))
    }

    /// Whether some value holds a policy variable, so what it compares against depends on the
    /// request.
    pub fn has_variables(&self) -> bool {
        self.values_with_templates().any(|(_, t)| t.is_some())
    }

    /// Every number a literal value reads as: under keyward's numeric syntax, and under the
    /// wider syntax of the other reading of A-NUMERIC-SYNTAX (exponents, blanks, a number
    /// followed by text), whatever the operator. What splits a numeric key's values into
    /// classes on which the condition answers alike under both readings.
    pub fn numbers(&self) -> impl Iterator<Item = f64> + '_ {
        self.literals().flat_map(|l| {
            let strict = crate::condition::numeric::parse(&l);
            let lenient = crate::condition::numeric::lenient(&l);
            [strict, lenient.filter(|x| Some(*x) != strict)]
                .into_iter()
                .flatten()
        })
    }

    /// The literal values that do not read as the operator's type under keyward's reading: a
    /// Numeric operator's value that is not an integer or a decimal (A-NUMERIC-SYNTAX: `"30days"`,
    /// `"1e3"`), a Date operator's that is neither ISO 8601 nor epoch seconds (A-DATE-SYNTAX), a
    /// Bool operator's that is not true or false (A-BOOL-SYNTAX), a Binary operator's that is
    /// not base64 (A-BINARY-BASE64), an IP operator's that is no address or CIDR block. Such a
    /// value matches no request value, whatever the key. String, ARN and Null operators have none.
    pub fn unreadable_literals(&self) -> impl Iterator<Item = String> + '_ {
        let family = self.op.base.family();
        self.raw
            .iter()
            .zip(&self.compiled)
            .filter(move |(_, c)| family != Family::Null && c.is_unreadable())
            .filter_map(|(v, _)| scalar_text(v))
    }

    /// For each policy value in order, whether it matches `request_value` under the operator's
    /// positive form (`StringEquals` for `StringNotEquals`, without a set qualifier or
    /// `IfExists`): the question "can this value ever match that one?". `None` for a value
    /// holding a policy variable, for `Null`, and where `request_value` does not read as the
    /// operator's type.
    pub fn value_matches(&self, request_value: &str) -> Vec<Option<bool>> {
        let ctx = crate::request::Context::default();
        let reading = crate::assumptions::Reading::keyward();
        self.raw
            .iter()
            .zip(&self.compiled)
            .map(|(raw, compiled)| {
                if matches!(compiled, crate::condition::Compiled::Tpl(_))
                    || self.op.base == crate::condition::BaseOp::Null
                {
                    return None;
                }
                let one = Condition {
                    raw: vec![raw.clone()],
                    raw_is_array: false,
                    compiled: vec![compiled.clone()],
                    ..self.clone()
                };
                one.any_value_matches(request_value, &ctx, &reading)
            })
            .collect()
    }

    /// For requests that carry this condition's key as one decimal integer `n` from `range`
    /// (written as Rust writes a `u32`) and differ in nothing else: the integers at which the
    /// condition's [`behaviour`](Condition::behaviour) may change, so that it behaves alike on
    /// every `n` from one cut up to the next. `None` where that is not known without asking each
    /// `n`: a wildcard pattern on the integer's text, or a policy variable in a value. A cut
    /// too many only splits a class.
    ///
    /// Per family, for such an `n`: a number, or text equal to a number's, compares with each
    /// constant `x` alike below `floor(x)`, at `floor(x)` and `ceil(x)`, and above (both
    /// readings of A-NUMERIC-SYNTAX, so what a decision rests on is constant too). A date reads
    /// four digits as a year and other digits as epoch seconds, so 1000 and 10000 cut, and each
    /// constant instant cuts at its second and at its year. Text that decodes as base64 is four
    /// digits here, and equals a binary constant only when written alike. An ARN
    /// pattern without `:` is matched as a pattern on the whole text (A-ARN-SHORT-PATTERN); one
    /// with `:` matches no integer. No integer is a Bool or an IP address, and Null reads only
    /// whether the key is present.
    pub fn integer_cuts(
        &self,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<std::collections::BTreeSet<u32>> {
        use crate::condition::{BaseOp, Compiled};
        if self.has_variables() {
            return None;
        }
        let wildcard = |l: &str| l.contains(['*', '?']);
        let mut cuts = std::collections::BTreeSet::new();
        let mut cut_at = |x: f64| {
            for m in [x.floor(), x.ceil()] {
                for c in [m, m + 1.0] {
                    if c > f64::from(*range.start()) && c <= f64::from(*range.end()) {
                        cuts.insert(c as u32);
                    }
                }
            }
        };
        match self.op.base.family() {
            Family::Null | Family::Bool | Family::Ip => {}
            Family::Numeric => self.numbers().for_each(&mut cut_at),
            Family::String => {
                if matches!(self.op.base, BaseOp::StringLike | BaseOp::StringNotLike)
                    && self.literals().any(|l| wildcard(&l))
                {
                    return None;
                }
                self.numbers().for_each(&mut cut_at);
            }
            Family::Arn => {
                let short: Vec<String> = self.literals().filter(|l| !l.contains(':')).collect();
                if short.iter().any(|l| wildcard(l)) {
                    return None;
                }
                short
                    .iter()
                    .filter_map(|l| crate::condition::numeric::lenient(l))
                    .for_each(&mut cut_at);
            }
            Family::Date => {
                cut_at(999.0);
                cut_at(9999.0);
                for c in &self.compiled {
                    if let Compiled::Date(Some(ns)) = c {
                        let secs = ns.div_euclid(1_000_000_000);
                        if (0..=i128::from(u32::MAX)).contains(&secs) {
                            cut_at(secs as f64);
                        }
                        if let Some(year) = crate::condition::date::year_of(*ns) {
                            cut_at(year as f64);
                        }
                    }
                }
            }
            // Eight digits decode as base64 too: past 10^7 the reasoning below does not hold.
            Family::Binary if *range.end() >= 10_000_000 => return None,
            Family::Binary => {
                cut_at(999.0);
                cut_at(9999.0);
                // A four-digit text decodes as base64 and equals the one constant that is
                // written as that text (base64 is read strictly); the other reading of
                // A-BINARY-BASE64 compares other text as text. Both are a number's text.
                self.numbers().for_each(&mut cut_at);
            }
        }
        Some(cuts)
    }

    /// How the condition answers `ctx` under every reading of the assumed choices: two contexts
    /// with equal behaviours make it hold alike, and meet the same choices, whichever way each
    /// choice is read. So where only this condition reads a key, requests that differ in that
    /// key alone and have equal behaviours on every condition testing it get the same decision,
    /// resting on the same assumptions: one of them answers for all (the guardrail analysis
    /// groups a credential's 36,600 ages so).
    pub fn behaviour(&self, ctx: &crate::request::Context) -> Behaviour {
        use crate::assumptions::{Assumptions, Reading};
        // Evaluate under each subset of the choices met so far; a reading that meets a new
        // choice widens the set and starts again. An evaluation under reading R asks only the
        // choices it meets, so for any R it goes as under R restricted to the final set.
        let mut choices = Assumptions::NONE;
        'widen: loop {
            let mut outcomes = Vec::new();
            let all = choices.bits();
            let mut sub = all;
            loop {
                let flipped = Assumptions::from_bits(sub);
                let reading = Reading::flipping(flipped);
                let holds = self.eval_under(ctx, &reading);
                let met = reading.met();
                if met.bits() & !all != 0 {
                    choices = choices.union(met);
                    continue 'widen;
                }
                outcomes.push((sub, holds, met.bits()));
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & all;
            }
            return Behaviour(outcomes);
        }
    }

    /// The (lower-cased) context keys this condition reads through policy variables in its
    /// values, besides its own key.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.values_with_templates()
            .filter_map(|(_, t)| t)
            .flat_map(template_keys)
    }
}

/// How a condition answers one context under every reading of the assumed choices
/// ([`Condition::behaviour`]); only compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Behaviour(Vec<(u32, bool, u32)>);

fn template_keys(t: &Template) -> impl Iterator<Item = &str> {
    t.parts().iter().filter_map(|p| match p {
        Part::Var { key, .. } => Some(&**key),
        _ => None,
    })
}

impl Statement {
    /// The Action or NotAction entries as written.
    pub fn action_entries(&self) -> &[String] {
        &self.action.raw
    }

    /// The Resource or NotResource entries as written (empty when the statement has neither).
    pub fn resource_entries(&self) -> &[String] {
        self.resource.as_ref().map_or(&[], |r| &r.raw)
    }

    /// The (lower-cased) context keys read through policy variables, in resources and in
    /// condition values.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        let resource = self
            .resource
            .iter()
            .flat_map(|r| r.templates())
            .flat_map(template_keys);
        resource.chain(self.conditions.iter().flat_map(Condition::variables))
    }
}

impl Policy {
    /// Every condition of every statement, in document order.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.statements.iter().flat_map(|s| s.conditions.iter())
    }

    /// The (lower-cased) context keys the policy reads through policy variables. Empty unless
    /// the policy's Version substitutes variables (2012-10-17): elsewhere `${...}` is text.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().flat_map(Statement::variables)
    }
}

impl PolicySet {
    /// Every policy of the set, in evaluation order.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        let rcp = self.rcp.iter().flatten().flatten();
        let scp = self.scp.iter().flatten().flatten();
        rcp.chain(scp)
            .chain(&self.resource)
            .chain(&self.identity)
            .chain(&self.permissions_boundary)
            .chain(self.session.iter().flatten())
    }

    /// Every condition of every policy.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.policies().flat_map(Policy::conditions)
    }

    /// The conditions of the statements whose Action or NotAction covers `req`'s action: the
    /// only conditions an evaluation of `req` can read, whatever its context.
    pub fn conditions_for_action<'a>(
        &'a self,
        req: &'a Request,
    ) -> impl Iterator<Item = &'a Condition> + 'a {
        self.policies()
            .flat_map(|p| p.statements.iter())
            .filter(move |s| s.action.matches(req))
            .flat_map(|s| s.conditions.iter())
    }

    /// The (lower-cased) context keys read through policy variables anywhere in the set.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.policies().flat_map(Policy::variables)
    }

    /// Every condition key the set tests with the literal values it compares against, keys
    /// merged case-insensitively and kept in first-seen order.
    pub fn condition_values(&self) -> Vec<KeyValues> {
        let mut out: Vec<KeyValues> = Vec::new();
        for c in self.conditions() {
            let i = match out
                .iter()
                .position(|kv| kv.key.eq_ignore_ascii_case(&c.key))
            {
                Some(i) => i,
                None => {
                    out.push(KeyValues {
                        key: c.key.clone(),
                        values: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            out[i].values.extend(c.literals());
        }
        out
    }

    /// The Action/NotAction entries of every statement, as written.
    pub fn action_entries(&self) -> impl Iterator<Item = &str> {
        self.policies()
            .flat_map(|p| p.statements.iter())
            .flat_map(|s| s.action_entries().iter().map(String::as_str))
    }

    /// The Resource/NotResource entries of every statement, as written.
    pub fn resource_entries(&self) -> impl Iterator<Item = &str> {
        self.policies()
            .flat_map(|p| p.statements.iter())
            .flat_map(|s| s.resource_entries().iter().map(String::as_str))
    }

    /// How each tested key is read, by lower-cased key: the type its operators imply and whether
    /// one reads it as a set. `Null` says nothing about a type. Two operators that read one key
    /// as different types are an error, since no context value can be typed for both.
    pub fn key_uses(&self) -> Result<BTreeMap<String, KeyUse>, ConflictingKeyType> {
        let mut uses: BTreeMap<String, KeyUse> = BTreeMap::new();
        for c in self.conditions() {
            let Some(t) = c.op.key_type() else { continue };
            let set = c.op.qualifier.is_some();
            let u = uses.entry(c.key_lc().to_string()).or_insert(KeyUse {
                key_type: t,
                as_set: set,
            });
            if u.key_type != t {
                return Err(ConflictingKeyType {
                    key: c.key.clone(),
                    first: u.key_type,
                    second: t,
                });
            }
            u.as_set |= set;
        }
        Ok(uses)
    }
}

impl SetQualifier {
    /// The qualifier as written, with its colon: `ForAllValues:` or `ForAnyValue:`.
    pub fn prefix(self) -> &'static str {
        match self {
            SetQualifier::ForAllValues => "ForAllValues:",
            SetQualifier::ForAnyValue => "ForAnyValue:",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyType;
    use serde_json::json;

    fn policy(v: serde_json::Value) -> Policy {
        Policy::parse(&v, PolicyType::Identity).unwrap()
    }

    #[test]
    fn conditions_carry_operator_family_key_and_values() {
        let p = policy(
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"ForAnyValue:NumericGreaterThanIfExists": {"iam:ServiceSpecificCredentialAgeDays": [5, "30"]},
                          "StringEquals": {"aws:username": "${aws:PrincipalTag/team}"}}}}),
        );
        let cs: Vec<_> = p.conditions().collect();
        assert_eq!(cs.len(), 2);
        let op = cs[0].operator();
        assert_eq!(op.family(), Family::Numeric);
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists && op.is_set_operator());
        assert_eq!(op.key_type(), Some(KeyType::Numeric));
        assert_eq!(cs[0].key(), "iam:ServiceSpecificCredentialAgeDays");
        assert_eq!(cs[0].literals().collect::<Vec<_>>(), ["5", "30"]);
        assert_eq!(cs[0].numbers().collect::<Vec<_>>(), [5.0, 30.0]);
        // A value with a variable is not a literal; the variable's key is reported.
        assert_eq!(cs[1].literals().count(), 0);
        assert_eq!(p.variables().collect::<Vec<_>>(), ["aws:principaltag/team"]);
        assert!(!cs[0].has_variables() && cs[1].has_variables());
    }

    #[test]
    fn numbers_read_both_ways() {
        let p = policy(
            json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NumericLessThan": {"n": ["30days", " 5", "1e1", "7", "x"]}}}}),
        );
        let c = p.conditions().next().unwrap();
        assert_eq!(c.numbers().collect::<Vec<_>>(), [30.0, 5.0, 10.0, 7.0]);
    }

    #[test]
    fn value_matches_asks_the_positive_form_of_each_value() {
        let p = policy(
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"k": ["SHORT_TERM", "short_term"]},
                          "StringEqualsIgnoreCase": {"k": "short_term"},
                          "ForAnyValue:StringLike": {"k": ["SHORT*", "${aws:username}"]},
                          "NumericLessThan": {"n": ["5", "x"]},
                          "Null": {"k": "true"}}}}),
        );
        let cs: Vec<_> = p.conditions().collect();
        assert_eq!(cs[0].value_matches("SHORT_TERM"), [Some(true), Some(false)]);
        assert_eq!(cs[1].value_matches("SHORT_TERM"), [Some(true)]);
        assert_eq!(cs[2].value_matches("SHORT_TERM"), [Some(true), None]);
        assert_eq!(cs[2].value_matches("LONG_TERM"), [Some(false), None]);
        assert_eq!(cs[3].value_matches("4"), [Some(true), Some(false)]);
        assert_eq!(cs[3].value_matches("four"), [None, None]);
        assert_eq!(cs[4].value_matches("x"), [None]);
    }

    #[test]
    fn variables_are_text_outside_version_2012() {
        let p = policy(
            json!({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*",
            "Resource": "arn:aws:iam::123456789012:user/${aws:username}",
            "Condition": {"StringEquals": {"k": "${aws:username}"}}}}),
        );
        assert_eq!(p.variables().count(), 0);
        assert_eq!(
            p.conditions()
                .next()
                .unwrap()
                .literals()
                .collect::<Vec<_>>(),
            ["${aws:username}"]
        );
        let p = policy(
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*",
            "Resource": "arn:aws:iam::123456789012:user/${aws:username}"}}),
        );
        assert_eq!(p.variables().collect::<Vec<_>>(), ["aws:username"]);
    }

    #[test]
    fn key_uses_merge_case_and_refuse_two_types() {
        let mut set = PolicySet::default();
        set.identity.push(policy(json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:TagKeys": "a"}}},
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForAllValues:StringLike": {"AWS:tagkeys": "b"}, "Null": {"x": "true"}}}]})));
        let uses = set.key_uses().unwrap();
        assert_eq!(
            uses.get("aws:tagkeys"),
            Some(&KeyUse {
                key_type: KeyType::String,
                as_set: true
            })
        );
        assert!(!uses.contains_key("x"), "Null implies no type");
        assert_eq!(KeyType::String.simulator_name(true), "stringList");
        let kv = set.condition_values();
        assert_eq!(kv.len(), 2);
        assert_eq!(kv[0].key, "aws:TagKeys");
        assert_eq!(kv[0].values, ["a", "b"]);

        set.identity.push(policy(
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"NumericEquals": {"aws:tagKeys": "1"}}}}),
        ));
        let e = set.key_uses().unwrap_err();
        assert_eq!(e.key, "aws:tagKeys");
        assert_eq!((e.first, e.second), (KeyType::String, KeyType::Numeric));
    }

    #[test]
    fn literals_of_actions_and_resources() {
        let mut set = PolicySet::default();
        set.identity
            .push(policy(json!({"Statement": {"Effect": "Allow",
            "Action": ["bedrock:Converse", "iam:*"], "NotResource": "arn:aws:s3:::b"}})));
        assert_eq!(
            set.action_entries().collect::<Vec<_>>(),
            ["bedrock:Converse", "iam:*"]
        );
        assert_eq!(
            set.resource_entries().collect::<Vec<_>>(),
            ["arn:aws:s3:::b"]
        );
    }
}
