//! The other condition keys an answer depends on: each key the policies test, besides the
//! domain's own, set in every request to each value that could answer differently (each
//! constant it is compared with, a number on either side of a numeric or date threshold, a
//! value equal to none, and no value at all), one key at a time. `absent` is listed when a
//! request without the key answers otherwise than one with an unlisted value. A misspelling of a domain
//! key is left out: no request carries it.

use keyward_iam::{Family, KeyType, PolicySet};

use super::{ages::AGE_KEY, Dependency, Variation};
use crate::guardrail::lint::{misspelled_domain_key, SERVICE_KEY, TOKEN_TYPE_KEYS};

/// A value no policy compares with.
const OTHER_VALUE: &str = "keyward-other-value";

/// The keys whose variation `changes` some answer, with the values the policies compare them
/// with, in the order the policies first test them.
pub(super) fn dependencies<A: PartialEq>(
    set: &PolicySet,
    baseline: &A,
    answers: impl Fn(Variation<'_>) -> A,
) -> Vec<Dependency> {
    let uses = set.key_uses().unwrap_or_default();
    let domain_keys: Vec<&str> = TOKEN_TYPE_KEYS
        .iter()
        .copied()
        .chain([SERVICE_KEY, AGE_KEY])
        .collect();
    let mut out = Vec::new();
    for (key, mut values) in tested_keys(set) {
        // A misspelled key is never present (condition-key-never-present says so): setting
        // it would answer a question no request asks.
        if domain_keys.iter().any(|k| k.eq_ignore_ascii_case(&key))
            || misspelled_domain_key(&key).is_some()
        {
            continue;
        }
        let key_type = uses.get(&key.to_ascii_lowercase()).map(|u| u.key_type);
        let mut candidates: Vec<Option<String>> = values.iter().cloned().map(Some).collect();
        for v in &values {
            candidates.extend(neighbours(key_type, v).into_iter().map(Some));
        }
        let with = |value: Option<&str>| answers(Variation { key: &key, value });
        let other = with(Some(OTHER_VALUE));
        let absent = with(None);
        let matters = other != *baseline
            || absent != *baseline
            || candidates.iter().any(|c| with(c.as_deref()) != *baseline);
        if matters {
            values.push(Dependency::OTHER.into());
            if absent != other {
                values.push(Dependency::ABSENT.into());
            }
            out.push(Dependency { key, values });
        }
    }
    out
}

/// Every tested key (first spelling, keys merged case-insensitively, in the order first
/// tested) with the literal values it is compared with, without repeats. `Null`'s `true` and
/// `false` say whether the key is present, not what it holds, so they are not values.
fn tested_keys(set: &PolicySet) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for c in set.conditions() {
        let i = match out
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(c.key()))
        {
            Some(i) => i,
            None => {
                out.push((c.key().to_string(), Vec::new()));
                out.len() - 1
            }
        };
        if c.operator().family() == Family::Null {
            continue;
        }
        for v in c.literals() {
            if !out[i].1.contains(&v) {
                out[i].1.push(v);
            }
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
