//! Loopholes and mistakes in a guardrail, each with a stable id, the statement it concerns and
//! a fix. Two read the analysis (what it lets through); four read the statements (values and
//! keys that no request of the domain can match, and values no request at all can match).

use keyward_iam::{AssumptionId, Condition, Family, PolicySet, Statement, StatementRef};

use super::{ages::AGE_KEY, reaches, Analysis, CreateRow, TOKEN_TYPES};
use crate::assumptions::ids;
use crate::credential::SUPPORTED_SERVICES;
use crate::scenario::Endpoint;
use crate::token::TokenType;

/// The token-type condition keys: bedrock-runtime's and bedrock-mantle's (the service
/// authorization references of `bedrock` and `bedrock-mantle`).
pub(crate) const TOKEN_TYPE_KEYS: [&str; 2] =
    ["bedrock:BearerTokenType", "bedrock-mantle:BearerTokenType"];

/// The condition key of the service a credential is for.
pub(crate) const SERVICE_KEY: &str = "iam:ServiceSpecificCredentialServiceName";

/// The domain's actions and the service-specific condition keys the service authorization
/// reference lists for each (besides the global `aws:` keys); a key ending in `/` is a prefix.
pub(super) const ACTION_KEYS: [(&str, &[&str]); 3] = [
    ("bedrock:CallWithBearerToken", &["bedrock:BearerTokenType"]),
    (
        "bedrock-mantle:CallWithBearerToken",
        &["bedrock-mantle:BearerTokenType"],
    ),
    (
        "iam:CreateServiceSpecificCredential",
        &[AGE_KEY, SERVICE_KEY, "iam:ResourceTag/"],
    ),
];

/// What a lint found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LintId {
    /// Some age is denied, but a key that never expires is allowed.
    NeverExpiringKeysPass,
    /// A token type denied on bedrock-runtime is allowed on bedrock-mantle.
    MantleNotCovered,
    /// A `BearerTokenType` value that no key carries.
    TokenTypeValueNeverMatches,
    /// A condition key that the requests a statement applies to never carry.
    ConditionKeyNeverPresent,
    /// A `ServiceSpecificCredentialServiceName` value that is no service's name.
    ServiceNameNeverMatches,
    /// A value that does not read as its operator's type (a Numeric operator's `"30days"`), so
    /// it matches no request, whatever the key.
    ValueNeverMatchesOperator,
    /// A request written by hand leaves out a key AWS sets on every request of its principal
    /// (`aws:PrincipalArn`, ...) that its policies test. Raised on cases (by the harness), not
    /// on a policy set: [`crate::guardrail::analyze`] never gives it. Last in [`LintId::ALL`].
    PrincipalKeyNotInContext,
}

impl LintId {
    /// Every lint: those a policy set raises, in the order they run, then the one raised on
    /// cases ([`LintId::PrincipalKeyNotInContext`]).
    pub const ALL: [LintId; 7] = [
        LintId::NeverExpiringKeysPass,
        LintId::MantleNotCovered,
        LintId::TokenTypeValueNeverMatches,
        LintId::ConditionKeyNeverPresent,
        LintId::ServiceNameNeverMatches,
        LintId::ValueNeverMatchesOperator,
        LintId::PrincipalKeyNotInContext,
    ];

    /// What the lint finds, in one sentence (a report's rule description).
    pub fn summary(self) -> &'static str {
        match self {
            LintId::NeverExpiringKeysPass => "Some age of a service's key is denied, but a key that never expires is allowed: an age condition never sees a key created without an age.",
            LintId::MantleNotCovered => "A token type denied on bedrock-runtime is allowed on bedrock-mantle.",
            LintId::TokenTypeValueNeverMatches => "A bearer-token-type value matches neither SHORT_TERM nor LONG_TERM under its operator.",
            LintId::ConditionKeyNeverPresent => "A condition key that no request of the statement's actions carries (often a misspelling).",
            LintId::ServiceNameNeverMatches => "A service-name value that matches no service that takes service-specific credentials.",
            LintId::ValueNeverMatchesOperator => "A value its operator cannot read (\"30days\" under a Numeric operator), so it matches no request.",
            LintId::PrincipalKeyNotInContext => "A request case leaves out a key AWS sets on every request of its principal, which its policies test.",
        }
    }

    /// The stable id, e.g. `never-expiring-keys-pass`.
    pub fn as_str(self) -> &'static str {
        match self {
            LintId::NeverExpiringKeysPass => "never-expiring-keys-pass",
            LintId::MantleNotCovered => "mantle-not-covered",
            LintId::TokenTypeValueNeverMatches => "token-type-value-never-matches",
            LintId::ConditionKeyNeverPresent => "condition-key-never-present",
            LintId::ServiceNameNeverMatches => "service-name-never-matches",
            LintId::ValueNeverMatchesOperator => "value-never-matches-operator",
            LintId::PrincipalKeyNotInContext => "principal-key-not-in-context",
        }
    }
}

impl std::fmt::Display for LintId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// What was found.
    pub id: LintId,
    /// What is wrong, in a sentence.
    pub message: String,
    /// How to close it.
    pub fix: String,
    /// The statement concerned; `None` when no statement decided (an implicit deny).
    pub at: Option<StatementRef>,
    /// The registered assumptions (crate::ASSUMPTIONS) the finding rests on.
    pub assumptions: Vec<&'static str>,
}

pub(super) fn lints(set: &PolicySet, analysis: &Analysis) -> Vec<Lint> {
    let mut out = never_expiring(analysis);
    out.extend(mantle_not_covered(analysis));
    for_each_condition(set, |at, s, c| {
        out.extend(token_type_value(at, c));
        out.extend(key_never_present(at, s, c));
        out.extend(service_name_value(at, c));
        out.extend(value_of_wrong_type(at, c));
    });
    // Statement order within each lint, lints in their order.
    out.sort_by_key(|l| l.id);
    out
}

fn for_each_condition(set: &PolicySet, mut f: impl FnMut(&StatementRef, &Statement, &Condition)) {
    for e in set.all() {
        for (i, s) in e.policy.statements().iter().enumerate() {
            let at = StatementRef {
                policy_type: e.policy_type,
                level: e.level,
                policy: e.index,
                statement: i,
                effect: s.effect(),
            };
            for c in s.conditions() {
                f(&at, s, c);
            }
        }
    }
}

/// `6-36600` or `5`.
fn range_text(r: &std::ops::RangeInclusive<u32>) -> String {
    if r.start() == r.end() {
        r.start().to_string()
    } else {
        format!("{}-{}", r.start(), r.end())
    }
}

fn never_expiring(analysis: &Analysis) -> Vec<Lint> {
    // Services by the statement that denied their first denied age and the ages denied, in
    // service order.
    let mut groups: Vec<(Option<StatementRef>, Vec<&str>, String)> = Vec::new();
    for service_rows in analysis.creates_by_service() {
        let never = service_rows.iter().find(|r| r.ages.is_none());
        let denied: Vec<&CreateRow> = service_rows
            .iter()
            .filter(|r| r.ages.is_some() && !r.answer.allowed())
            .collect();
        let (Some(never), Some(first_denied)) = (never, denied.first()) else {
            continue;
        };
        if !never.answer.allowed() {
            continue;
        }
        // Neighbouring denied rows (denied by different statements) read as one span.
        let mut spans: Vec<std::ops::RangeInclusive<u32>> = Vec::new();
        for r in denied.iter().filter_map(|r| r.ages.clone()) {
            match spans.last_mut() {
                Some(last) if *last.end() + 1 == *r.start() => *last = *last.start()..=*r.end(),
                _ => spans.push(r),
            }
        }
        let ranges: Vec<String> = spans.iter().map(range_text).collect();
        let at = first_denied.answer.statement.clone();
        let service = first_denied.service.as_str();
        let ranges = ranges.join(", ");
        match groups.iter_mut().find(|g| g.0 == at && g.2 == ranges) {
            Some(g) => g.1.push(service),
            None => groups.push((at, vec![service], ranges)),
        }
    }
    groups
        .into_iter()
        .map(|(at, services, ranges)| Lint {
            id: LintId::NeverExpiringKeysPass,
            message: format!(
                "a key that never expires is allowed for {}, though ages {ranges} are denied: a \
                 key created without CredentialAgeDays carries no {AGE_KEY}, so no age \
                 comparison (NumericGreaterThan, ...) ever holds for it",
                services.join(", ")
            ),
            fix: format!(
                "deny the key without an age too: add a Deny statement on \
                 iam:CreateServiceSpecificCredential with \"Null\": {{\"{AGE_KEY}\": \"true\"}} \
                 (and the same service condition), or use the IfExists form of the age \
                 operator in a Deny (e.g. NumericGreaterThanIfExists)"
            ),
            at,
            assumptions: vec![ids::AGEDAYS_ABSENT],
        })
        .collect()
}

fn mantle_not_covered(analysis: &Analysis) -> Vec<Lint> {
    let row = |t: TokenType, e: Endpoint| {
        analysis
            .uses
            .iter()
            .find(|r| r.token_type == t && r.endpoint == e)
    };
    let mut out = Vec::new();
    for t in TOKEN_TYPES {
        let (Some(runtime), Some(mantle)) = (
            row(t, Endpoint::BedrockRuntime),
            row(t, Endpoint::BedrockMantle),
        ) else {
            continue;
        };
        if runtime.answer.allowed() || !mantle.answer.allowed() {
            continue;
        }
        out.push(Lint {
            id: LintId::MantleNotCovered,
            message: format!(
                "{t} keys are denied on bedrock-runtime but allowed on bedrock-mantle: a call to \
                 bedrock-mantle is authorized as bedrock-mantle:CallWithBearerToken, which this \
                 denial does not reach"
            ),
            fix: match (&runtime.answer.statement, runtime.answer.by) {
                (Some(_), _) => "deny bedrock-mantle:CallWithBearerToken under the same \
                    conditions: add it to the Action of the statement that denies on \
                    bedrock-runtime (a statement of its own if that one tests bedrock: condition \
                    keys, with each written in the bedrock-mantle: namespace: \
                    bedrock:BearerTokenType becomes bedrock-mantle:BearerTokenType)"
                    .into(),
                // An implicit deny: no statement denies; an Allow lets mantle through.
                (None, by) => format!(
                    "bedrock-runtime is denied because no {} policy allows it; bedrock-mantle is \
                     allowed by a statement that names bedrock-mantle:CallWithBearerToken (or a \
                     wildcard): narrow that Allow, or deny bedrock-mantle:CallWithBearerToken",
                    by.map_or("", |b| b.as_str())
                ),
            },
            at: runtime.answer.statement.clone(),
            assumptions: vec![ids::MANTLE_ONE_REQUEST],
        });
    }
    out
}

/// The condition's values that never match the request value of any candidate, each with the
/// condition's operator written out.
fn values_matching_none(c: &Condition, candidates: &[&str]) -> Vec<String> {
    if c.operator().family() == Family::Null || c.has_variables() {
        return Vec::new();
    }
    let per_candidate: Vec<Vec<Option<bool>>> =
        candidates.iter().map(|v| c.value_matches(v)).collect();
    c.literals()
        .enumerate()
        .filter(|(i, _)| per_candidate.iter().all(|m| m.get(*i) != Some(&Some(true))))
        .map(|(_, v)| v)
        .collect()
}

fn token_type_value(at: &StatementRef, c: &Condition) -> Vec<Lint> {
    if !TOKEN_TYPE_KEYS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(c.key()))
    {
        return Vec::new();
    }
    let types = [TokenType::ShortTerm.as_str(), TokenType::LongTerm.as_str()];
    values_matching_none(c, &types)
        .into_iter()
        .map(|v| {
            let squeezed: String = v
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_uppercase();
            let meant = types.iter().find(|t| t.replace('_', "") == squeezed);
            Lint {
                id: LintId::TokenTypeValueNeverMatches,
                message: format!(
                    "{} on {} compares with \"{v}\", which no key carries: the token types are \
                     SHORT_TERM and LONG_TERM, upper case with an underscore",
                    c.operator(),
                    c.key()
                ),
                fix: match meant {
                    _ if c.operator().family() != Family::String => format!(
                        "compare with a string operator (StringEquals, StringNotEquals, ...): \
                         {} reads the token type as {}",
                        c.operator(),
                        c.operator()
                            .key_type()
                            .map_or("presence", |t| t.simulator_name(false))
                    ),
                    Some(t) => format!("write \"{t}\""),
                    None => "write \"SHORT_TERM\" or \"LONG_TERM\"".into(),
                },
                at: Some(at.clone()),
                assumptions: Vec::new(),
            }
        })
        .collect()
}

fn service_name_value(at: &StatementRef, c: &Condition) -> Vec<Lint> {
    if !c.key().eq_ignore_ascii_case(SERVICE_KEY) {
        return Vec::new();
    }
    values_matching_none(c, &SUPPORTED_SERVICES)
        .into_iter()
        .map(|v| {
            let full = format!("{}.amazonaws.com", v.to_ascii_lowercase());
            let meant = SUPPORTED_SERVICES
                .iter()
                .find(|s| **s == full || s.eq_ignore_ascii_case(&v));
            Lint {
                id: LintId::ServiceNameNeverMatches,
                message: format!(
                    "{} on {} compares with \"{v}\", which is not the name of a service that \
                     takes service-specific credentials ({})",
                    c.operator(),
                    c.key(),
                    SUPPORTED_SERVICES.join(", ")
                ),
                fix: match meant {
                    Some(s) => format!("write \"{s}\" (the service's full name)"),
                    None => "write the service's full name, e.g. \"bedrock.amazonaws.com\"".into(),
                },
                at: Some(at.clone()),
                assumptions: Vec::new(),
            }
        })
        .collect()
}

/// A literal value its operator cannot read, for any key. What each family takes is documented
/// on the condition-operators page
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
/// docs/aws-behaviour.md §4.6): numbers are "integer or decimal", dates W3C ISO 8601 or epoch
/// seconds, booleans true or false, IP addresses IPv4 or IPv6 CIDR. That a value outside these
/// is saved and then matches nothing is not documented: it is keyward's reading, under the
/// assumption named for the family (the other reading of A-NUMERIC-SYNTAX takes `"30days"` as
/// 30, which is why this is a warning and not an error). Binary values are left out: the domain
/// has no binary key, and A-BINARY-BASE64's other reading compares them as text.
fn value_of_wrong_type(at: &StatementRef, c: &Condition) -> Vec<Lint> {
    let op = c.operator();
    let (what, assumption) = match op.family() {
        Family::Numeric => (
            "a number (AWS documents numeric values as an integer or a decimal)",
            Some(AssumptionId::NumericSyntax),
        ),
        Family::Date => (
            "a date (AWS documents W3C ISO 8601 dates and times, or epoch seconds)",
            Some(AssumptionId::DateSyntax),
        ),
        Family::Bool => (
            "a boolean (AWS documents true or false)",
            Some(AssumptionId::BoolSyntax),
        ),
        Family::Ip => (
            "an IP address or CIDR block (AWS documents IPv4 or IPv6 CIDR notation)",
            None,
        ),
        _ => return Vec::new(),
    };
    c.unreadable_literals()
        .map(|v| {
            let negated = op.base().is_negated();
            let mut assumptions: Vec<&'static str> =
                assumption.iter().map(|a| a.as_str()).collect();
            if negated {
                // The negated operator holding for a value it cannot compare with.
                assumptions.push(AssumptionId::NegatedUnparseable.as_str());
            }
            Lint {
                id: LintId::ValueNeverMatchesOperator,
                message: format!(
                    "{op} on {} compares with \"{v}\", which is not {what}: it never matches any \
                     request{}",
                    c.key(),
                    if negated {
                        format!(", so {op} holds for every request that carries the key")
                    } else {
                        String::new()
                    }
                ),
                fix: match op.family() {
                    Family::Numeric => match leading_number(&v) {
                        Some(n) => format!("write \"{n}\" (digits only, no unit)"),
                        None => "write an integer or a decimal, e.g. \"30\"".into(),
                    },
                    Family::Date => {
                        "write an ISO 8601 date such as \"2025-01-31T00:00:00Z\", or epoch seconds"
                            .into()
                    }
                    Family::Bool => "write \"true\" or \"false\"".into(),
                    _ => "write an address or a CIDR block, e.g. \"203.0.113.0/24\"".into(),
                },
                at: Some(at.clone()),
                assumptions,
            }
        })
        .collect()
}

/// The digits (with a sign and fraction) a value starts with, when only a unit follows them:
/// `"30days"` was meant as `30` (but `"1e3"` is not `1`).
fn leading_number(v: &str) -> Option<&str> {
    let t = v.trim();
    let end = t
        .char_indices()
        .find(|(i, ch)| {
            !(ch.is_ascii_digit() || *ch == '.' || (*i == 0 && matches!(ch, '+' | '-')))
        })
        .map_or(t.len(), |(i, _)| i);
    let (n, rest) = t.split_at(end);
    (n.bytes().any(|b| b.is_ascii_digit()) && !rest.bytes().any(|b| b.is_ascii_digit()))
        .then_some(n)
}

/// The domain's service-specific keys (`aws:` keys are global, and a request may carry ones
/// keyward does not model, so they are never reported).
fn domain_keys() -> impl Iterator<Item = &'static str> {
    ACTION_KEYS
        .iter()
        .flat_map(|(_, keys)| keys.iter().copied())
        .filter(|k| !k.ends_with('/'))
}

fn action_carries(keys: &[&str], key: &str) -> bool {
    keys.iter().any(|k| match k.strip_suffix('/') {
        Some(prefix) => key
            .get(..prefix.len() + 1)
            .is_some_and(|p| p.eq_ignore_ascii_case(k)),
        None => k.eq_ignore_ascii_case(key),
    })
}

/// The domain key that `key` misspells (one or two edits away), if any.
pub(crate) fn misspelled_domain_key(key: &str) -> Option<&'static str> {
    let lc = key.to_ascii_lowercase();
    domain_keys().find(|k| {
        let d = strsim::levenshtein(&lc, &k.to_ascii_lowercase());
        d > 0 && d <= 2
    })
}

/// The actions the service authorization reference lists for each of the domain's keys: no
/// other request carries it.
const KEY_ACTIONS: [(&str, &[&str]); 4] = [
    ("bedrock:BearerTokenType", &["bedrock:CallWithBearerToken"]),
    (
        "bedrock-mantle:BearerTokenType",
        &["bedrock-mantle:CallWithBearerToken"],
    ),
    (AGE_KEY, &["iam:CreateServiceSpecificCredential"]),
    (
        SERVICE_KEY,
        &[
            "iam:CreateServiceSpecificCredential",
            "iam:DeleteServiceSpecificCredential",
            "iam:ResetServiceSpecificCredential",
            "iam:UpdateServiceSpecificCredential",
            "iam:ListServiceSpecificCredentials",
        ],
    ),
];

fn key_never_present(at: &StatementRef, s: &Statement, c: &Condition) -> Option<Lint> {
    let key = c.key();
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return None;
    }
    let lint = |message: String, fix: String| Lint {
        id: LintId::ConditionKeyNeverPresent,
        message,
        fix,
        at: Some(at.clone()),
        assumptions: Vec::new(),
    };
    // A near miss of a domain key is a misspelling wherever it stands.
    if let Some(meant) = misspelled_domain_key(key) {
        return Some(lint(
            format!("{key} is not a condition key, so no request carries it"),
            format!("write {meant}"),
        ));
    }
    // One of the domain's keys, in a statement none of whose actions carries it.
    if let Some((known, carriers)) = KEY_ACTIONS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
    {
        if s.action().is_negated() || carriers.iter().any(|a| reaches(s, a)) {
            return None;
        }
        let patterns = s.action().patterns().join(", ");
        // The other endpoint's token-type key: the namespace is what is wrong.
        let is_token_key = TOKEN_TYPE_KEYS
            .iter()
            .any(|t| t.eq_ignore_ascii_case(known));
        let other_namespace = TOKEN_TYPE_KEYS
            .iter()
            .filter(|t| is_token_key && !t.eq_ignore_ascii_case(known))
            .find(|t| {
                KEY_ACTIONS
                    .iter()
                    .find(|(k, _)| k == *t)
                    .is_some_and(|(_, acts)| acts.iter().any(|a| reaches(s, a)))
            });
        let fix = match other_namespace {
            Some(t) => format!("write {t}: each endpoint's CallWithBearerToken carries the token type under its own namespace"),
            None => format!(
                "move the condition to a statement on {}, whose requests carry it",
                carriers[0]
            ),
        };
        return Some(lint(
            format!(
                "{key} is never present on the statement's actions ({patterns}): only {} carr{} it",
                carriers.join(", "),
                if carriers.len() == 1 { "ies" } else { "y" }
            ),
            fix,
        ));
    }
    // Another service key, in a statement on the domain's actions only, none of which carries it.
    if !names_only_domain_actions(s) {
        return None;
    }
    let actions: Vec<&(&str, &[&str])> =
        ACTION_KEYS.iter().filter(|(a, _)| reaches(s, a)).collect();
    if actions.iter().any(|(_, keys)| action_carries(keys, key)) {
        return None;
    }
    let names: Vec<&str> = actions.iter().map(|(a, _)| *a).collect();
    Some(lint(
        format!(
            "{key} is never present on {}, the statement's only action{}",
            names.join(" or "),
            if names.len() > 1 { "s" } else { "" }
        ),
        format!(
            "test a key the action carries ({}), or an aws: global key",
            actions
                .iter()
                .flat_map(|(_, keys)| keys.iter())
                .map(|k| k
                    .strip_suffix('/')
                    .map_or(k.to_string(), |p| format!("{p}/<tag>")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// Whether the statement's Action lists only the domain's actions, by their exact names.
fn names_only_domain_actions(s: &Statement) -> bool {
    let block = s.action();
    !block.is_negated()
        && block
            .patterns()
            .iter()
            .all(|p| ACTION_KEYS.iter().any(|(a, _)| a.eq_ignore_ascii_case(p)))
}

#[cfg(test)]
mod tests {
    use super::LintId;

    #[test]
    fn every_lint_is_all_of_a_sets_and_then_the_cases_one() {
        assert_eq!(LintId::ALL.last(), Some(&LintId::PrincipalKeyNotInContext));
        assert_eq!(
            LintId::ALL
                .iter()
                .filter(|l| **l == LintId::PrincipalKeyNotInContext)
                .count(),
            1
        );
        // Every lint has its own id and summary.
        let ids: std::collections::BTreeSet<_> = LintId::ALL.iter().map(|l| l.as_str()).collect();
        let summaries: std::collections::BTreeSet<_> =
            LintId::ALL.iter().map(|l| l.summary()).collect();
        assert_eq!((ids.len(), summaries.len()), (7, 7));
    }
}
