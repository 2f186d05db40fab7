//! `Condition::integer_cuts` against the evaluator: where a condition claims its cuts, every
//! integer from one cut up to the next gets the same decision from `evaluate` (kind and the
//! assumptions it rests on) and the same `Condition::behaviour`, for conditions of every
//! operator family on values chosen to sit at the edges (numbers and their neighbours,
//! four-digit years, epoch seconds, base64 that decodes from digits, short ARN patterns).
//! The guardrail analysis evaluates one credential age per class on this claim.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use keyward_iam::{evaluate, Condition, ContextValue, Policy, PolicySet, PolicyType, Request};
use proptest::prelude::*;
use serde_json::{json, Value};

const KEY: &str = "iam:ServiceSpecificCredentialAgeDays";

/// The integers asked: past the four-digit years on both sides.
const RANGE: RangeInclusive<u32> = 1..=12_000;

fn allow_under(operator: &str, values: Value) -> PolicySet {
    let doc = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
        "Condition": {operator: {KEY: values}}
    }]});
    PolicySet {
        identity: vec![Policy::parse(&doc, PolicyType::Identity).unwrap()],
        ..PolicySet::default()
    }
}

fn request(n: u32) -> Request {
    Request::new(
        "arn:aws:iam::123456789012:user/alice",
        "iam:CreateServiceSpecificCredential",
        "*",
    )
    .with_context(KEY, ContextValue::single(n.to_string()))
}

/// Fails unless `n` answers as the start of its class does, for every `n` in [`RANGE`].
fn check_constant_between_cuts(operator: &str, values: &Value) -> Result<(), TestCaseError> {
    let set = allow_under(operator, values.clone());
    let condition: &Condition = set.conditions().next().unwrap();
    let Some(cuts) = condition.integer_cuts(RANGE) else {
        return Ok(());
    };
    prop_assert!(cuts
        .iter()
        .all(|c| RANGE.contains(c) && *c > *RANGE.start()));
    let mut class_start = *RANGE.start();
    let mut first = None;
    for n in RANGE {
        if cuts.contains(&n) {
            class_start = n;
            first = None;
        }
        let r = request(n);
        let d = evaluate(&set, &r);
        let seen = (
            d.kind,
            d.by,
            d.assumptions(),
            condition.behaviour(&r.context),
        );
        match &first {
            None => first = Some(seen),
            Some(f) => prop_assert_eq!(
                f,
                &seen,
                "{} {}: {} answers otherwise than {}, which starts its class (cuts {:?})",
                operator,
                values,
                n,
                class_start,
                cuts
            ),
        }
    }
    Ok(())
}

const OPERATORS: &[&str] = &[
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericGreaterThanEquals",
    "NumericLessThanIfExists",
    "ForAnyValue:NumericGreaterThan",
    "StringEquals",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "DateEquals",
    "DateLessThan",
    "DateGreaterThanEquals",
    "DateNotEquals",
    "BinaryEquals",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotLike",
    "Null",
    "ForAllValues:StringEquals",
];

const VALUES: &[&str] = &[
    "5",
    "5.5",
    "30days",
    " 7",
    "1e3",
    "999",
    "1000",
    "1234",
    "2020",
    "9999",
    "10000",
    "-3",
    "0",
    "1970-01-01T00:16:40Z",
    "1970-01-01T00:00:05.5Z",
    "1999-06-01",
    "2020-01-01T00:00:00Z",
    "true",
    "MTIz",
    "10.0.0.0/8",
    "arn:aws:iam::123456789012:user/x",
    "12",
    "",
    "x",
];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(|v| json!(v)),
        1 => (1u32..=12_000).prop_map(|n| json!(n)),
        1 => (1u32..=12_000).prop_map(|n| json!(n.to_string())),
        1 => (0.0f64..12_000.0).prop_map(|x| json!(x)),
        1 => Just(json!(false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn integers_between_cuts_answer_alike(
        operator in proptest::sample::select(OPERATORS),
        values in proptest::collection::vec(value(), 1..=3),
    ) {
        check_constant_between_cuts(operator, &Value::Array(values))?;
    }
}

/// The edges the property's random draw may miss, each checked over every integer: a decimal
/// under either numeric reading, a year and epoch seconds, base64 of digits, a short ARN.
#[test]
fn each_familys_edges_answer_alike_between_cuts() {
    let rows: &[(&str, Value)] = &[
        ("NumericLessThan", json!(["30days", "5.5"])),
        ("NumericEquals", json!([" 7", "1e3"])),
        ("StringEquals", json!(["1000", "05"])),
        ("DateLessThan", json!(["2020", "1970-01-01T00:16:40Z"])),
        (
            "DateEquals",
            json!(["1999-06-01", "1970-01-01T00:00:05.5Z"]),
        ),
        ("DateGreaterThan", json!("yesterday")),
        ("BinaryEquals", json!(["1234", "MTIz", "12"])),
        ("ArnLike", json!(["12", "arn:aws:iam::*:user/*"])),
        ("ArnNotEquals", json!("5")),
        ("Bool", json!("true")),
        ("NotIpAddress", json!("10.0.0.0/8")),
        ("Null", json!("false")),
    ];
    for (operator, values) in rows {
        check_constant_between_cuts(operator, values).unwrap();
    }
}

/// What has no cuts says so: a wildcard on the text, a policy variable.
#[test]
fn wildcards_and_variables_have_no_cuts() {
    for (operator, values) in [
        ("StringLike", json!("1*")),
        ("ArnLike", json!("?5")),
        ("StringEquals", json!("${aws:username}")),
    ] {
        let set = allow_under(operator, values);
        let c = set.conditions().next().unwrap();
        assert_eq!(c.integer_cuts(RANGE), None, "{operator}");
    }
}

/// The cuts a reader can check by hand: an integer constant cuts at itself and after it; a
/// date cuts the four-digit years off, and at its year.
#[test]
fn cuts_fall_where_the_comparisons_change() {
    let cuts = |operator: &str, values: Value| {
        let set = allow_under(operator, values);
        let c = set.conditions().next().unwrap();
        c.integer_cuts(RANGE).unwrap()
    };
    assert_eq!(
        cuts("NumericLessThan", json!("30")),
        BTreeSet::from([30, 31])
    );
    let date = cuts("DateLessThan", json!("2020-06-01"));
    for c in [1000, 2020, 2021, 10_000] {
        assert!(date.contains(&c), "{date:?}");
    }
    assert_eq!(cuts("Bool", json!("true")), BTreeSet::new());
    // Eight digits decode as base64 too: past 10^7 a binary condition's cuts are not known.
    let set = allow_under("BinaryEquals", json!("1234"));
    let c = set.conditions().next().unwrap();
    assert_eq!(c.integer_cuts(1..=10_000_000), None);
    assert!(c.integer_cuts(1..=9_999_999).is_some());
}
