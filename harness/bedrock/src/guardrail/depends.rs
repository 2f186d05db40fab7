//! The other condition keys an answer depends on: each key the policies test, besides the
//! domain's own, set in every request to each value that could answer differently (each
//! constant it is compared with, a number on either side of a numeric or date threshold, a
//! value equal to none, and no value at all), one key at a time. Keys read only through policy
//! variables are varied too (to a value equal to none, and to none). `absent` is listed when a
//! request without the key answers otherwise than one with an unlisted value. A misspelling of a domain
//! key is left out: no request carries it.

use keyward_iam::{Family, KeyType, PolicySet};

use super::lint::{misspelled_domain_key, ACTION_KEYS, SERVICE_KEY, TOKEN_TYPE_KEYS};
use super::reaches;
use super::{ages::AGE_KEY, Dependency, Variation};

/// A value no policy compares with.
const OTHER_VALUE: &str = "keyward-other-value";

/// The keys whose variation `changes` some answer, with the values the policies compare them
/// with, in the order the policies first test them.
pub(super) fn dependencies<A: PartialEq>(
    set: &PolicySet,
    baseline: &A,
    answers: impl Fn(Variation<'_>) -> A,
) -> Vec<Dependency> {
    let domain_keys: Vec<&str> = TOKEN_TYPE_KEYS
        .iter()
        .copied()
        .chain([SERVICE_KEY, AGE_KEY])
        .collect();
    let mut out = Vec::new();
    for Tested {
        key,
        mut values,
        key_type,
    } in tested_keys(set)
    {
        // A misspelled key is never present (condition-key-never-present says so): setting
        // it would answer a question no request asks.
        if domain_keys.iter().any(|k| k.eq_ignore_ascii_case(&key))
            || misspelled_domain_key(&key).is_some()
        {
            continue;
        }
        let mut candidates: Vec<String> = values.clone();
        for v in &values {
            candidates.extend(neighbours(key_type, v));
        }
        let other_value = match key_type {
            // Numbers and dates: the neighbours of each threshold are the other values.
            Some(KeyType::Numeric | KeyType::Date) => None,
            Some(KeyType::Boolean) => {
                candidates.extend(["true".into(), "false".into()]);
                None
            }
            Some(KeyType::Ip) => {
                candidates.push("2001:db8::1".into());
                Some("192.0.2.1")
            }
            _ => Some(OTHER_VALUE),
        };
        let with = |value: Option<&str>| answers(Variation { key: &key, value });
        let other = other_value.map(|v| with(Some(v)));
        let absent = with(None);
        let matters = other.as_ref().is_some_and(|o| o != baseline)
            || absent != *baseline
            || candidates.iter().any(|c| with(Some(c)) != *baseline);
        if matters {
            values.push(Dependency::OTHER.into());
            if other.as_ref().is_some_and(|o| *o != absent) {
                values.push(Dependency::ABSENT.into());
            }
            out.push(Dependency { key, values });
        }
    }
    out
}

/// A key the policies test.
struct Tested {
    /// As first written.
    key: String,
    /// The literal values it is compared with, without repeats.
    values: Vec<String>,
    /// The type its first typed operator reads it as.
    key_type: Option<KeyType>,
}

/// Every key tested or read through a policy variable by a statement whose Action can match
/// one of the domain's actions (first spelling, keys merged case-insensitively, in the order
/// first read). `Null`'s `true` and `false` say
/// whether the key is present, not what it holds, so they are not values.
fn tested_keys(set: &PolicySet) -> Vec<Tested> {
    let mut out: Vec<Tested> = Vec::new();
    let index = |key: &str, out: &mut Vec<Tested>| match out
        .iter()
        .position(|t| t.key.eq_ignore_ascii_case(key))
    {
        Some(i) => i,
        None => {
            out.push(Tested {
                key: key.to_string(),
                values: Vec::new(),
                key_type: None,
            });
            out.len() - 1
        }
    };
    // Only statements that can apply to a request of the domain: the others' keys change
    // nothing, and trying them would cost a run over the domain per value.
    let statements = set
        .all()
        .into_iter()
        .flat_map(|e| e.policy.statements().iter());
    for s in statements.filter(|s| ACTION_KEYS.iter().any(|(a, _)| reaches(s, a))) {
        for c in s.conditions() {
            let i = index(c.key(), &mut out);
            if c.operator().family() == Family::Null {
                continue;
            }
            let t = &mut out[i];
            t.key_type = t.key_type.or(c.operator().key_type());
            for v in c.literals() {
                if !t.values.contains(&v) {
                    t.values.push(v);
                }
            }
        }
        for v in s.variables() {
            index(v, &mut out);
        }
    }
    out
}

/// The values just below and just above a numeric or date threshold.
fn neighbours(key_type: Option<KeyType>, v: &str) -> Vec<String> {
    match key_type {
        Some(KeyType::Numeric) => match v.trim().parse::<f64>() {
            Ok(x) => [x - 1.0, x + 1.0]
                .iter()
                .map(|y| format_number(*y))
                .collect(),
            Err(_) => Vec::new(),
        },
        Some(KeyType::Date) => match keyward_iam::parse_date(v) {
            Some(nanos) => {
                let secs = nanos.div_euclid(1_000_000_000);
                vec![(secs - 1).to_string(), (secs + 1).to_string()]
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}
