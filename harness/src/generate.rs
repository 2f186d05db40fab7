//! proptest generators for policies shaped like what people write for Bedrock API keys.
//! Settings live in [`GenSettings`]; every strategy reads from it.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use keyward_iam::{BaseOp, PolicyType};

/// What the generators may produce.
#[derive(Debug, Clone)]
pub struct GenSettings {
    pub max_statements: usize,
    pub max_conditions: usize,
    pub max_values: usize,
}

impl Default for GenSettings {
    fn default() -> Self {
        GenSettings {
            max_statements: 4,
            max_conditions: 3,
            max_values: 3,
        }
    }
}

pub const ACTIONS: &[&str] = &[
    "*",
    "bedrock:CallWithBearerToken",
    "bedrock:*",
    "BEDROCK:callwithbearertoken",
    "bedrock:InvokeModel*",
    "bedrock:Converse",
    "bedrock-mantle:CallWithBearerToken",
    "iam:CreateServiceSpecificCredential",
    "iam:*ServiceSpecificCredential*",
    "iam:?reateUser",
    "s3:GetObject",
];

pub const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:iam::123456789012:user/*",
    "arn:aws:iam::123456789012:user/${aws:username}",
    "arn:aws:iam::123456789012:user/BedrockAPIKey-????",
    "arn:aws:bedrock:us-east-1::foundation-model/*",
    "arn:aws:bedrock:*:123456789012:inference-profile/us.anthropic.*",
];

pub const KEYS: &[&str] = &[
    "bedrock:bearerTokenType",
    "bedrock-mantle:BearerTokenType",
    "iam:ServiceSpecificCredentialServiceName",
    "iam:ServiceSpecificCredentialAgeDays",
    "aws:RequestedRegion",
    "aws:PrincipalArn",
    "aws:username",
    "aws:TagKeys",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:SecureTransport",
];

pub const STRING_VALUES: &[&str] = &[
    "SHORT_TERM",
    "LONG_TERM",
    "short_term",
    "bedrock.amazonaws.com",
    "codecommit.amazonaws.com",
    "us-east-1",
    "us-*",
    "arn:aws:iam::123456789012:user/*",
    "${aws:username}",
    "",
];

fn op_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(BaseOp::ALL.to_vec()),
        prop::option::weighted(0.25, prop::bool::ANY),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(b, q, ie)| {
            let q = match q {
                Some(true) => "ForAllValues:",
                Some(false) => "ForAnyValue:",
                None => "",
            };
            let ie = if ie && b != BaseOp::Null {
                "IfExists"
            } else {
                ""
            };
            format!("{q}{}{ie}", b.name())
        })
}

/// A scalar condition value: strings, and numbers and booleans at the edges that matter.
pub fn scalar_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(STRING_VALUES).prop_map(|s| json!(s)),
        prop::sample::select(&[0i64, 1, 5, 30, 36600, 36601][..]).prop_map(|n| json!(n)),
        prop::sample::select(&["0", "5", "30", "36600", "5.0", "five"][..]).prop_map(|s| json!(s)),
        prop::bool::ANY.prop_map(|b| json!(b)),
        prop::sample::select(
            &[
                "true",
                "false",
                "203.0.113.0/24",
                "2020-01-01T00:00:00Z",
                "QUJD"
            ][..]
        )
        .prop_map(|s| json!(s)),
    ]
}

fn string_or_array(pool: &'static [&'static str], max: usize) -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(pool).prop_map(|s| json!(s)),
        prop::collection::vec(prop::sample::select(pool), 1..=max).prop_map(|v| json!(v)),
    ]
}

fn condition_block(s: &GenSettings) -> impl Strategy<Value = Value> {
    let mv = s.max_values;
    prop::collection::vec(
        (
            op_name(),
            prop::sample::select(KEYS),
            prop_oneof![
                scalar_value(),
                prop::collection::vec(scalar_value(), 0..=mv).prop_map(Value::Array),
            ],
        ),
        1..=s.max_conditions.max(1),
    )
    .prop_map(|conds| {
        let mut block = Map::new();
        for (op, key, v) in conds {
            let e = block.entry(op).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = e {
                m.insert(key.to_string(), v);
            }
        }
        Value::Object(block)
    })
}

/// One statement; `principal` for the policy types that take a Principal.
pub fn statement(s: &GenSettings, principal: bool) -> impl Strategy<Value = Value> {
    (
        prop::bool::ANY,
        prop::bool::weighted(0.2),
        string_or_array(ACTIONS, 3),
        prop::bool::weighted(0.15),
        string_or_array(RESOURCES, 2),
        prop::option::weighted(0.5, condition_block(s)),
        prop::sample::select(&["*", "arn:aws:iam::123456789012:user/alice", "123456789012"][..]),
    )
        .prop_map(
            move |(allow, not_action, actions, not_resource, resources, cond, p)| {
                let mut m = Map::new();
                m.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                if principal {
                    let pv = if p == "*" {
                        json!("*")
                    } else {
                        json!({ "AWS": p })
                    };
                    m.insert("Principal".into(), pv);
                }
                m.insert(
                    if not_action { "NotAction" } else { "Action" }.into(),
                    actions,
                );
                m.insert(
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    }
                    .into(),
                    resources,
                );
                if let Some(c) = cond {
                    m.insert("Condition".into(), c);
                }
                Value::Object(m)
            },
        )
}

/// A valid policy document of the given type.
pub fn policy(s: &GenSettings, t: PolicyType) -> impl Strategy<Value = Value> {
    let principal = t == PolicyType::Resource;
    (
        prop::sample::select(&[Some("2012-10-17"), Some("2008-10-17"), None][..]),
        prop::collection::vec(statement(s, principal), 1..=s.max_statements.max(1)),
        prop::bool::ANY,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(version, mut stmts, as_object, sids)| {
            if sids {
                for (i, st) in stmts.iter_mut().enumerate() {
                    if let Value::Object(m) = st {
                        m.insert("Sid".into(), json!(format!("S{i}")));
                    }
                }
            }
            let mut m = Map::new();
            if let Some(v) = version {
                m.insert("Version".into(), json!(v));
            }
            let st = if as_object && stmts.len() == 1 {
                stmts.remove(0)
            } else {
                Value::Array(stmts)
            };
            m.insert("Statement".into(), st);
            Value::Object(m)
        })
}

/// Arbitrary JSON, for the never-panics properties.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        prop::bool::ANY.prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(
            &[
                "Version",
                "Statement",
                "Effect",
                "Allow",
                "Deny",
                "Action",
                "NotAction",
                "Resource",
                "Condition",
                "StringEquals",
                "Null",
                "ForAllValues:StringLike",
                "*",
                "2012-10-17",
                "Principal",
                "Sid",
                "${aws:username}",
                "s3:a:b",
            ][..]
        )
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(
                        &[
                            "Version",
                            "Statement",
                            "Effect",
                            "Action",
                            "NotAction",
                            "Resource",
                            "NotResource",
                            "Condition",
                            "Principal",
                            "Sid",
                            "Id",
                            "StringEquals",
                            "NumericLessThan",
                            "aws:TagKeys",
                            "AWS",
                            "x",
                        ][..]
                    ),
                    inner,
                ),
                0..6,
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}
