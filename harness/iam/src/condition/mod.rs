//! Condition operators and their evaluation.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//! and reference_policies_multi-value-conditions.html / ..._condition-single-vs-multi-valued-context-keys.html
//!
//! The documented rules, in one place:
//! - operators, keys under an operator, and operators in a block are AND-ed;
//! - a key's policy values are OR-ed, and NOR-ed for negated operators;
//! - a key missing from the request makes the condition false, except for negated operators,
//!   `...IfExists` and `ForAllValues:` (true); `ForAnyValue:` is false;
//! - a value that does not parse as the operator's type does not match.

pub(crate) mod arn;
pub(crate) mod date;
pub(crate) mod ip;
pub(crate) mod numeric;

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use base64::Engine;
use serde_json::Value;

use crate::assumptions::{AssumptionId, Reading};
use crate::error::{Loc, ParseNameError, PolicyError, PolicyErrorKind};
use crate::json::Json;
use crate::pattern::Glob;
use crate::request::{Context, ContextValue};
use crate::variables::Template;
use arn::ArnPattern;

/// A condition operator without its set qualifier and `IfExists` suffix. IAM may add operators,
/// hence `non_exhaustive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BaseOp {
    /// Exact, case-sensitive string match.
    StringEquals,
    /// Negated [`BaseOp::StringEquals`].
    StringNotEquals,
    /// String match ignoring case.
    StringEqualsIgnoreCase,
    /// Negated [`BaseOp::StringEqualsIgnoreCase`].
    StringNotEqualsIgnoreCase,
    /// Case-sensitive match with `*` and `?` wildcards.
    StringLike,
    /// Negated [`BaseOp::StringLike`].
    StringNotLike,
    /// Numbers equal.
    NumericEquals,
    /// Negated [`BaseOp::NumericEquals`].
    NumericNotEquals,
    /// The request value is less than a policy value.
    NumericLessThan,
    /// The request value is at most a policy value.
    NumericLessThanEquals,
    /// The request value is greater than a policy value.
    NumericGreaterThan,
    /// The request value is at least a policy value.
    NumericGreaterThanEquals,
    /// Dates (ISO 8601 or epoch seconds) equal.
    DateEquals,
    /// Negated [`BaseOp::DateEquals`].
    DateNotEquals,
    /// The request date is before a policy date.
    DateLessThan,
    /// The request date is at or before a policy date.
    DateLessThanEquals,
    /// The request date is after a policy date.
    DateGreaterThan,
    /// The request date is at or after a policy date.
    DateGreaterThanEquals,
    /// Boolean match (`true`/`false`).
    Bool,
    /// Base64-decoded bytes equal.
    BinaryEquals,
    /// The request address lies in a policy CIDR block.
    IpAddress,
    /// Negated [`BaseOp::IpAddress`].
    NotIpAddress,
    /// ARN match component by component, with wildcards (same as [`BaseOp::ArnLike`]).
    ArnEquals,
    /// ARN match component by component, with wildcards.
    ArnLike,
    /// Negated [`BaseOp::ArnEquals`].
    ArnNotEquals,
    /// Negated [`BaseOp::ArnLike`].
    ArnNotLike,
    /// Tests whether the key is absent (`true`) or present (`false`).
    Null,
}

/// The operator families, each reading values its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// Strings.
    String,
    /// Integers and decimals.
    Numeric,
    /// ISO 8601 dates and times, or epoch seconds.
    Date,
    /// `true` or `false`.
    Bool,
    /// Base64-encoded bytes.
    Binary,
    /// IPv4 and IPv6 addresses and CIDR blocks.
    Ip,
    /// ARNs.
    Arn,
    /// Presence of the key.
    Null,
}

impl BaseOp {
    /// Every operator, in the order of the IAM documentation.
    pub const ALL: [BaseOp; 27] = [
        BaseOp::StringEquals,
        BaseOp::StringNotEquals,
        BaseOp::StringEqualsIgnoreCase,
        BaseOp::StringNotEqualsIgnoreCase,
        BaseOp::StringLike,
        BaseOp::StringNotLike,
        BaseOp::NumericEquals,
        BaseOp::NumericNotEquals,
        BaseOp::NumericLessThan,
        BaseOp::NumericLessThanEquals,
        BaseOp::NumericGreaterThan,
        BaseOp::NumericGreaterThanEquals,
        BaseOp::DateEquals,
        BaseOp::DateNotEquals,
        BaseOp::DateLessThan,
        BaseOp::DateLessThanEquals,
        BaseOp::DateGreaterThan,
        BaseOp::DateGreaterThanEquals,
        BaseOp::Bool,
        BaseOp::BinaryEquals,
        BaseOp::IpAddress,
        BaseOp::NotIpAddress,
        BaseOp::ArnEquals,
        BaseOp::ArnLike,
        BaseOp::ArnNotEquals,
        BaseOp::ArnNotLike,
        BaseOp::Null,
    ];

    /// The operator's name as written in a policy.
    pub const fn name(self) -> &'static str {
        use BaseOp::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    fn from_name(name: &str) -> Option<BaseOp> {
        BaseOp::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The family, which decides how values are read.
    pub fn family(self) -> Family {
        use BaseOp::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Negated operators are true when the key is missing and NOR their values.
    pub fn is_negated(self) -> bool {
        use BaseOp::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values (String, ARN and, per
    /// the current variables page, Bool).
    fn takes_variables(self) -> bool {
        matches!(self.family(), Family::String | Family::Arn | Family::Bool)
    }
}

impl fmt::Display for BaseOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BaseOp {
    type Err = ParseNameError;

    /// The bare operator name, case-sensitive (no qualifier, no `IfExists`).
    fn from_str(s: &str) -> Result<BaseOp, ParseNameError> {
        const NAMES: [&str; 27] = {
            let mut names = [""; 27];
            let mut i = 0;
            while i < 27 {
                names[i] = BaseOp::ALL[i].name();
                i += 1;
            }
            names
        };
        BaseOp::from_name(s).ok_or_else(|| ParseNameError::new("condition operator", s, &NAMES))
    }
}

/// How a condition compares a multivalued request key: the `ForAllValues:` and `ForAnyValue:`
/// prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// Every request value must match (true for a missing key).
    ForAllValues,
    /// At least one request value must match (false for a missing key).
    ForAnyValue,
}

/// `[ForAllValues:|ForAnyValue:]<BaseOp>[IfExists]`, case-sensitive as written in the docs
/// (assumption A-OPERATOR-CASE: the docs never show another spelling). Built by parsing, so
/// it is always one IAM accepts (no `NullIfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub(crate) qualifier: Option<SetQualifier>,
    pub(crate) base: BaseOp,
    pub(crate) if_exists: bool,
}

impl Operator {
    /// `[qualifier:]base[IfExists]`; `None` for `NullIfExists`, which IAM refuses (`Null` already
    /// says what a missing key does).
    pub fn new(qualifier: Option<SetQualifier>, base: BaseOp, if_exists: bool) -> Option<Operator> {
        (!(base == BaseOp::Null && if_exists)).then_some(Operator {
            qualifier,
            base,
            if_exists,
        })
    }

    /// The set qualifier, if any.
    pub fn qualifier(&self) -> Option<SetQualifier> {
        self.qualifier
    }

    /// The operator without qualifier and suffix.
    pub fn base(&self) -> BaseOp {
        self.base
    }

    /// Whether the `IfExists` suffix is present (true for a missing key).
    pub fn if_exists(&self) -> bool {
        self.if_exists
    }
}

impl FromStr for Operator {
    type Err = PolicyErrorKind;

    fn from_str(s: &str) -> Result<Operator, PolicyErrorKind> {
        let (qualifier, rest) = if let Some(r) = s.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = s.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, s)
        };
        let lookup = BaseOp::from_name;
        let (base, if_exists) = match lookup(rest) {
            Some(b) => (b, false),
            None => match rest.strip_suffix("IfExists").and_then(lookup) {
                Some(b) => (b, true),
                None => return Err(PolicyErrorKind::UnknownOperator(s.to_string())),
            },
        };
        Operator::new(qualifier, base, if_exists)
            .ok_or_else(|| PolicyErrorKind::NullIfExists(s.to_string()))
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// A policy value compiled for its operator; `Tpl` when it holds policy variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Compiled {
    Str(Box<str>),
    Like(Glob),
    Num(Option<f64>),
    Date(Option<i128>),
    Bool(Option<bool>),
    Binary(Option<Vec<u8>>),
    Ip(Option<ipnet::IpNet>),
    Arn(ArnPattern),
    Tpl(Template),
}

impl Compiled {
    /// A policy value that does not read as its operator's type, so it matches nothing.
    pub(crate) fn is_unreadable(&self) -> bool {
        matches!(
            self,
            Compiled::Num(None)
                | Compiled::Date(None)
                | Compiled::Bool(None)
                | Compiled::Binary(None)
                | Compiled::Ip(None)
        )
    }
}

/// One (operator, key) pair of a Condition block with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub(crate) op: Operator,
    /// The key as written in the policy.
    pub(crate) key: String,
    pub(crate) key_lc: Box<str>,
    /// The values as written (string, number or boolean), and whether they were an array.
    pub(crate) raw: Vec<Value>,
    pub(crate) raw_is_array: bool,
    pub(crate) compiled: Vec<Compiled>,
}

/// Reads a JSON scalar as IAM does: strings as they are, numbers and booleans by their text.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// [`scalar_text`] of a value still in the document: a string is lent, not copied.
fn json_scalar_text<'a>(v: &'a Json<'_>) -> Option<Cow<'a, str>> {
    match v {
        Json::Str(s) => Some(Cow::Borrowed(s)),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Assumption A-BOOL-SYNTAX: "true"/"false" in any letter case; anything else is not a boolean.
fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

impl Condition {
    /// [`Condition::compile_json`] of a `Value`.
    #[cfg(test)]
    pub(crate) fn compile(
        op: Operator,
        key: &str,
        value: &Value,
        at: &Loc<'_>,
        vars: bool,
    ) -> Result<Condition, PolicyError> {
        Condition::compile_json(op, key, &Json::from_value(value), at, vars)
    }

    /// Compiles one key's values. `vars` is false for policies whose Version is not 2012-10-17,
    /// where `${...}` is plain text.
    pub(crate) fn compile_json(
        op: Operator,
        key: &str,
        value: &Json<'_>,
        at: &Loc<'_>,
        vars: bool,
    ) -> Result<Condition, PolicyError> {
        let (values, raw_is_array) = match value {
            Json::Array(a) => (a.as_slice(), true),
            v => (std::slice::from_ref(v), false),
        };
        let mut raw = Vec::with_capacity(values.len());
        let mut compiled = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let Some(text) = json_scalar_text(v) else {
                let p = if raw_is_array { at.index(i) } else { *at };
                return Err(PolicyError::new(
                    p,
                    PolicyErrorKind::BadConditionValue(v.kind()),
                ));
            };
            raw.push(v.to_value());
            let tpl = if vars && op.base.takes_variables() {
                Template::parse(&text)
            } else {
                None
            };
            compiled.push(match tpl {
                Some(t) => Compiled::Tpl(t),
                None => compile_literal(op.base, &text),
            });
        }
        Ok(Condition {
            op,
            key: key.to_string(),
            key_lc: key.to_ascii_lowercase().into(),
            raw,
            raw_is_array,
            compiled,
        })
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.op
    }

    /// The condition key as written in the policy (keys match in any case).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The lower-cased key the request context is searched with.
    pub(crate) fn key_lc(&self) -> &str {
        &self.key_lc
    }

    /// Each value as written, with its template when it holds policy variables.
    pub(crate) fn values_with_templates(
        &self,
    ) -> impl Iterator<Item = (&Value, Option<&Template>)> {
        self.raw.iter().zip(&self.compiled).map(|(v, c)| match c {
            Compiled::Tpl(t) => (v, Some(t)),
            _ => (v, None),
        })
    }

    /// The values as written in the policy: JSON strings, numbers or booleans.
    pub fn values(&self) -> &[Value] {
        &self.raw
    }

    /// The condition's values as text (numbers and booleans by their JSON text).
    pub fn value_texts(&self) -> Vec<String> {
        self.raw.iter().filter_map(scalar_text).collect()
    }

    /// The key's value in the Condition block: the single value, or the array as written.
    pub fn to_json(&self) -> Value {
        if self.raw_is_array {
            Value::Array(self.raw.clone())
        } else {
            self.raw.first().cloned().unwrap_or(Value::Null)
        }
    }

    /// Whether the condition holds for this request context.
    pub fn eval(&self, ctx: &Context) -> bool {
        self.eval_under(ctx, &Reading::keyward())
    }

    /// [`Condition::eval`] under a reading of the assumed choices it meets.
    pub(crate) fn eval_under(&self, ctx: &Context, reading: &Reading) -> bool {
        let found = ctx.get_lc(&self.key_lc).filter(|v| !v.values().is_empty());
        if self.op.base == BaseOp::Null {
            return self.eval_null(found.is_some(), reading);
        }
        let Some(found) = found else {
            return match self.op.qualifier {
                // No page says which rule wins: IfExists (true) or the qualifier's own rule
                // (assumption A-SET-IFEXISTS-MISSING); the other reading is false for both.
                Some(_) if self.op.if_exists => !reading.other(AssumptionId::SetIfExistsMissing),
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => self.op.if_exists || self.op.base.is_negated(),
            };
        };
        let values = found.values();
        let negated = self.op.base.is_negated();
        let one = |r: &String| match self.any_value_matches(r, ctx, reading) {
            // A negated operator holds when nothing matched; where that is because a value is
            // of the wrong type or there are no values, it rests on an assumption.
            Some(false) if negated => self.holds_by_assumption(r, reading).unwrap_or(true),
            // No policy values: the OR of nothing is false (assumption A-EMPTY-VALUE-LIST; the
            // other reading: the key has no effect, so the condition holds).
            Some(false) if self.compiled.is_empty() => reading.other(AssumptionId::EmptyValueList),
            Some(m) => m != negated,
            // A request value of the wrong type matches nothing, so a negated operator holds
            // for it (assumption A-NEGATED-UNPARSEABLE; the other reading: it fails).
            None => negated && !reading.other(AssumptionId::NegatedUnparseable),
        };
        match self.op.qualifier {
            Some(SetQualifier::ForAllValues) => values.iter().all(one),
            Some(SetQualifier::ForAnyValue) => values.iter().any(one),
            // A plain operator on a multivalued key: assumption A-PLAIN-MULTI, it behaves as
            // ForAnyValue (the docs only warn against it; Access Analyzer flags it). The other
            // reading, as another open-source evaluator reads it: a multivalued key (even with
            // one value) needs a set qualifier, so the condition fails.
            None if matches!(found, ContextValue::Multi(_))
                && reading.other(AssumptionId::PlainMulti) =>
            {
                false
            }
            None => values.iter().any(one),
        }
    }

    /// For a negated operator that matched nothing for request value `r`: `None` when that
    /// rests on documented rules only; otherwise whether it still holds under the reading
    /// (false under the other reading of the assumption it rests on). The cases: no policy
    /// values at all (A-EMPTY-VALUE-LIST), a policy value of the wrong type, or an ARN operator
    /// given text that is not an ARN (A-NEGATED-UNPARSEABLE).
    fn holds_by_assumption(&self, r: &str, reading: &Reading) -> Option<bool> {
        if self.compiled.is_empty() {
            return Some(!reading.other(AssumptionId::EmptyValueList));
        }
        let arn_family = self.op.base.family() == Family::Arn;
        let wrong_type = self.compiled.iter().any(Compiled::is_unreadable)
            || (arn_family && !arn::looks_like_arn(r))
            || (arn_family
                && self
                    .compiled
                    .iter()
                    .any(|c| matches!(c, Compiled::Arn(p) if p.is_short())));
        wrong_type.then(|| !reading.other(AssumptionId::NegatedUnparseable))
    }
    /// `Null: true` holds when the key is absent, `false` when present; ForAllValues:Null is
    /// always true and ForAnyValue:Null always false (Access Analyzer's documented warning).
    /// Assumption A-NULL-SET-QUALIFIER: that is how the set qualifier is evaluated too; the
    /// other reading ignores the qualifier.
    fn eval_null(&self, present: bool, reading: &Reading) -> bool {
        let plain = || {
            self.compiled
                .iter()
                .zip(&self.raw)
                .any(|(c, raw)| match policy_bool(c, raw, reading) {
                    Some(want_absent) => want_absent != present,
                    None => false,
                })
        };
        match self.op.qualifier {
            Some(_) if reading.other(AssumptionId::NullSetQualifier) => plain(),
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => plain(),
        }
    }

    /// OR over the policy values of the positive form of the operator, for one request value;
    /// `None` when the request value does not parse as the operator's type.
    pub(crate) fn any_value_matches(
        &self,
        r: &str,
        ctx: &Context,
        reading: &Reading,
    ) -> Option<bool> {
        let base = self.op.base;
        Some(match base.family() {
            Family::String => {
                let ci = matches!(
                    base,
                    BaseOp::StringEqualsIgnoreCase | BaseOp::StringNotEqualsIgnoreCase
                );
                let r_lc = if ci { Some(r.to_lowercase()) } else { None };
                self.compiled.iter().any(|c| match c {
                    Compiled::Str(v) => match &r_lc {
                        Some(l) => **v == **l,
                        None => **v == *r,
                    },
                    Compiled::Like(g) => g.is_match(r),
                    Compiled::Tpl(t) => match base {
                        BaseOp::StringLike | BaseOp::StringNotLike => {
                            t.resolve_glob(ctx, reading).is_some_and(|g| g.is_match(r))
                        }
                        _ => t.resolve_string(ctx).is_some_and(|v| match &r_lc {
                            Some(l) => v.to_lowercase() == *l,
                            None => v == r,
                        }),
                    },
                    _ => false,
                })
            }
            Family::Numeric => {
                let x = read_number(r, reading)?;
                self.compiled.iter().zip(&self.raw).any(|(c, raw)| match c {
                    Compiled::Num(Some(v)) => compare(base, x.partial_cmp(v)),
                    // A policy value outside keyward's numeric syntax, read the other way.
                    Compiled::Num(None) => scalar_text(raw)
                        .and_then(|t| numeric::lenient(&t))
                        .is_some_and(|v| {
                            reading.other(AssumptionId::NumericSyntax)
                                && compare(base, x.partial_cmp(&v))
                        }),
                    _ => false,
                })
            }
            // A value that is neither ISO 8601 nor epoch seconds matches nothing (assumption
            // A-DATE-SYNTAX); the other reading: some wider syntax reads it as a date that
            // matches.
            Family::Date => {
                let Some(x) = date::parse(r) else {
                    return reading.other(AssumptionId::DateSyntax).then_some(true);
                };
                self.compiled.iter().any(|c| match c {
                    Compiled::Date(Some(v)) => compare(base, Some(x.cmp(v))),
                    Compiled::Date(None) => reading.other(AssumptionId::DateSyntax),
                    _ => false,
                })
            }
            Family::Bool => {
                let x = read_bool(r, reading)?;
                self.compiled.iter().zip(&self.raw).any(|(c, raw)| match c {
                    Compiled::Tpl(t) => t
                        .resolve_string(ctx)
                        .and_then(|s| read_bool(&s, reading))
                        .is_some_and(|v| v == x),
                    c => policy_bool(c, raw, reading) == Some(x),
                })
            }
            // Text that is not base64 matches nothing (assumption A-BINARY-BASE64); the other
            // reading compares such a value as text.
            Family::Binary => {
                let as_text = || {
                    self.raw
                        .iter()
                        .any(|v| scalar_text(v).is_some_and(|t| t == r))
                };
                let Some(x) = decode_b64(r) else {
                    return reading.other(AssumptionId::BinaryBase64).then(as_text);
                };
                // A policy value that is not base64 cannot equal this request value as text
                // either (that text decodes), so under both readings it matches nothing here.
                self.compiled.iter().any(|c| match c {
                    Compiled::Binary(Some(v)) => *v == x,
                    _ => false,
                })
            }
            Family::Ip => {
                let x = ip::parse_request(r)?;
                // A request value that is a CIDR block rather than an address matches when it lies
                // inside (assumption A-CIDR-IN-REQUEST); the other reading: it is of the wrong type.
                if r.contains('/') && reading.other(AssumptionId::IpRequestCidr) {
                    return None;
                }
                self.compiled.iter().any(|c| match c {
                    Compiled::Ip(Some(net)) => net.contains(&x),
                    _ => false,
                })
            }
            Family::Arn => self.compiled.iter().any(|c| match c {
                Compiled::Arn(p) => p.is_match_under(r, reading),
                Compiled::Tpl(t) => {
                    arn_from_template(t, ctx, reading).is_some_and(|p| p.is_match_under(r, reading))
                }
                _ => false,
            }),
            Family::Null => false,
        })
    }
}

/// A request value of a numeric operator: keyward's syntax (assumption A-NUMERIC-SYNTAX), or
/// under the other reading the wider float syntax (exponents, surrounding blanks).
fn read_number(r: &str, reading: &Reading) -> Option<f64> {
    match numeric::parse(r) {
        Some(x) => Some(x),
        None => numeric::lenient(r).filter(|_| reading.other(AssumptionId::NumericSyntax)),
    }
}

/// A Bool value: `true`/`false` in any letter case (assumption A-BOOL-SYNTAX), or under the
/// other reading the lower-case spellings only.
fn read_bool(s: &str, reading: &Reading) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => parse_bool(s).filter(|_| !reading.other(AssumptionId::BoolSyntax)),
    }
}

/// A compiled Bool/Null policy value, read as [`read_bool`] reads it.
fn policy_bool(c: &Compiled, raw: &Value, reading: &Reading) -> Option<bool> {
    match (c, raw) {
        (Compiled::Bool(Some(b)), Value::String(s)) if s != "true" && s != "false" => {
            Some(*b).filter(|_| !reading.other(AssumptionId::BoolSyntax))
        }
        (Compiled::Bool(b), _) => *b,
        _ => None,
    }
}

/// An ARN pattern from a template: split the policy text at its colons first, then resolve each
/// component, so a colon inside a substituted value cannot shift components.
fn arn_from_template(t: &Template, ctx: &Context, reading: &Reading) -> Option<ArnPattern> {
    use crate::variables::Part;
    let mut comps: Vec<Vec<Part>> = vec![Vec::new()];
    for p in t.parts() {
        match p {
            Part::Text(s) => {
                let mut first = true;
                for piece in s.split(':') {
                    if !first {
                        if comps.len() < 6 {
                            comps.push(Vec::new());
                        } else {
                            comps.last_mut()?.push(Part::Text(":".into()));
                        }
                    }
                    first = false;
                    if !piece.is_empty() {
                        comps.last_mut()?.push(Part::Text(piece.into()));
                    }
                }
            }
            other => comps.last_mut()?.push(other.clone()),
        }
    }
    let mut globs = Vec::with_capacity(comps.len());
    for c in comps {
        globs.push(Template::from_parts(c).resolve_glob(ctx, reading)?);
    }
    Some(ArnPattern::from_globs(globs))
}

fn compare(base: BaseOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use BaseOp::*;
    let Some(o) = ord else { return false };
    match base {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => o == Equal,
        NumericLessThan | DateLessThan => o == Less,
        NumericLessThanEquals | DateLessThanEquals => o != Greater,
        NumericGreaterThan | DateGreaterThan => o == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => o != Less,
        _ => false,
    }
}

fn compile_literal(base: BaseOp, text: &str) -> Compiled {
    use BaseOp::*;
    match base {
        StringEquals | StringNotEquals => Compiled::Str(text.into()),
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            Compiled::Str(text.to_lowercase().into())
        }
        StringLike | StringNotLike => Compiled::Like(Glob::new(text)),
        _ => match base.family() {
            Family::Numeric => Compiled::Num(numeric::parse(text)),
            Family::Date => Compiled::Date(date::parse(text)),
            Family::Bool | Family::Null => Compiled::Bool(parse_bool(text)),
            Family::Binary => Compiled::Binary(decode_b64(text)),
            Family::Ip => Compiled::Ip(ip::parse_net(text)),
            Family::Arn => Compiled::Arn(ArnPattern::new(text)),
            Family::String => unreachable!("string operators handled above"),
        },
    }
}

/// Parses a whole Condition block: `{ "<operator>": { "<key>": <value or array>, ... }, ... }`.
pub(crate) fn parse_block(
    block: &Json<'_>,
    at: &Loc<'_>,
    vars: bool,
    errors: &mut Vec<PolicyError>,
) -> Vec<Condition> {
    let Json::Object(ops) = block else {
        errors.push(PolicyError::new(
            at,
            PolicyErrorKind::WrongType {
                element: "Condition".into(),
                expected: "an object",
                found: block.kind(),
            },
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops.iter() {
        let op_path = at.member(op_name);
        let op = match op_name.parse::<Operator>() {
            Ok(op) => op,
            Err(kind) => {
                errors.push(PolicyError::new(op_path, kind));
                continue;
            }
        };
        let Json::Object(keys) = keys else {
            errors.push(PolicyError::new(
                op_path,
                PolicyErrorKind::WrongType {
                    element: op_name.to_string(),
                    expected: "an object of condition keys",
                    found: keys.kind(),
                },
            ));
            continue;
        };
        for (key, value) in keys.iter() {
            let key_path = op_path.member(key);
            let prefix = key.split('/').next().unwrap_or(key);
            if prefix.matches(':').count() > 1 {
                errors.push(PolicyError::new(
                    key_path,
                    PolicyErrorKind::TooManyColons(key.to_string()),
                ));
            }
            match Condition::compile_json(op, key, value, &key_path, vars) {
                Ok(c) => out.push(c),
                Err(e) => errors.push(e),
            }
        }
    }
    out
}

/// Serializes conditions back into a block, grouping keys under their operator in first-seen
/// order (the parse flattened them in that order).
pub(crate) fn to_block(conds: &[Condition]) -> Value {
    let mut block = serde_json::Map::new();
    for c in conds {
        let entry = block
            .entry(c.op.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(m) = entry {
            m.insert(c.key.clone(), c.to_json());
        }
    }
    Value::Object(block)
}

#[cfg(test)]
mod tests;
