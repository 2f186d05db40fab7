//! proptest generators for policies shaped like what people write for Bedrock API keys.
//! Settings live in [`GenSettings`]; every strategy reads from it.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use std::sync::Arc;

pub mod draw;

use keyward_iam::{BaseOp, Operator, PolicySet, PolicyType, SetQualifier};

/// The version of what the generators draw for a seed. A live run journals it, and a run is not
/// resumed by a keyward whose generators draw other cases for the same seed and index: the
/// journal's answers would be attached to different cases. Bump it whenever a change to the
/// generators changes what a seed draws.
pub const GENERATOR_VERSION: u32 = 2;

/// What the generators may produce.
#[derive(Debug, Clone)]
pub struct GenSettings {
    pub max_statements: usize,
    pub max_conditions: usize,
    pub max_values: usize,
    /// The condition keys conditions are written on.
    pub keys: Vec<&'static str>,
}

impl Default for GenSettings {
    fn default() -> Self {
        GenSettings {
            max_statements: 4,
            max_conditions: 3,
            max_values: 3,
            keys: KEYS.to_vec(),
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

/// Keys of [`KEYS`] that AWS sets from the real request (source address, time): a live run cannot
/// choose them, so live runs generate conditions on the others ([`live_keys`]).
pub const SET_BY_THE_REQUEST: &[&str] = &["aws:SourceIp", "aws:CurrentTime"];

/// [`KEYS`] without [`SET_BY_THE_REQUEST`].
pub fn live_keys() -> Vec<&'static str> {
    KEYS.iter()
        .copied()
        .filter(|k| !SET_BY_THE_REQUEST.contains(k))
        .collect()
}

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

/// An operator of any family, qualified or not, with `IfExists` or not (never `NullIfExists`,
/// which IAM refuses), written as keyward-iam writes it.
fn op_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(BaseOp::ALL.to_vec()),
        prop::option::weighted(0.25, prop::sample::select(QUALIFIERS)),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(b, q, ie)| op_string(b, q, ie))
}

fn op_string(b: BaseOp, q: Option<SetQualifier>, if_exists: bool) -> String {
    Operator::new(q, b, if_exists)
        .or_else(|| Operator::new(q, b, false))
        .map(|op| op.to_string())
        .unwrap_or_default()
}

/// A scalar condition value: strings, and numbers and booleans at the edges that matter.
pub fn scalar_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(STRING_VALUES).prop_map(|s| json!(s)),
        prop::sample::select(INTS).prop_map(|n| json!(n)),
        prop::sample::select(NUMERIC_STRINGS).prop_map(|s| json!(s)),
        prop::bool::ANY.prop_map(|b| json!(b)),
        prop::sample::select(OTHER_STRINGS).prop_map(|s| json!(s)),
    ]
}

const INTS: &[i64] = &[0, 1, 5, 30, 36600, 36601];
const NUMERIC_STRINGS: &[&str] = &["0", "5", "30", "36600", "5.0", "five"];
const OTHER_STRINGS: &[&str] = &[
    "true",
    "false",
    "203.0.113.0/24",
    "2020-01-01T00:00:00Z",
    "QUJD",
];
const STATEMENT_PRINCIPALS: &[&str] =
    &["*", "arn:aws:iam::123456789012:user/alice", "123456789012"];
const VERSIONS: &[Option<&str>] = &[Some("2012-10-17"), Some("2008-10-17"), None];
const QUALIFIERS: &[SetQualifier] = &[SetQualifier::ForAllValues, SetQualifier::ForAnyValue];

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
            prop::sample::select(s.keys.clone()),
            prop_oneof![
                scalar_value(),
                prop::collection::vec(scalar_value(), 0..=mv).prop_map(Value::Array),
            ],
        ),
        1..=s.max_conditions.max(1),
    )
    .prop_map(block_json)
}

fn block_json(conds: Vec<(String, &'static str, Value)>) -> Value {
    let mut block = Map::with_capacity(conds.len());
    for (op, key, v) in conds {
        let e = block.entry(op).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = e {
            m.insert(key.to_string(), v);
        }
    }
    Value::Object(block)
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
        prop::sample::select(STATEMENT_PRINCIPALS),
    )
        .prop_map(
            move |(allow, not_action, actions, not_resource, resources, cond, p)| {
                statement_json(
                    principal,
                    allow,
                    (not_action, actions),
                    (not_resource, resources),
                    cond,
                    p,
                )
            },
        )
}

/// A statement's document from what was drawn: the Effect, the (Not)Action and (Not)Resource
/// blocks (negated or not), the condition block, and the principal when `principal`.
fn statement_json(
    principal: bool,
    allow: bool,
    (not_action, actions): (bool, Value),
    (not_resource, resources): (bool, Value),
    cond: Option<Value>,
    p: &str,
) -> Value {
    let mut m = Map::with_capacity(5);
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
}

/// A valid policy document of the given type.
pub fn policy(s: &GenSettings, t: PolicyType) -> impl Strategy<Value = Value> {
    let principal = t == PolicyType::Resource;
    (
        prop::sample::select(VERSIONS),
        prop::collection::vec(statement(s, principal), 1..=s.max_statements.max(1)),
        prop::bool::ANY,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(version, stmts, as_object, sids)| policy_json(version, stmts, as_object, sids))
}

fn policy_json(version: Option<&str>, mut stmts: Vec<Value>, as_object: bool, sids: bool) -> Value {
    if sids {
        for (i, st) in stmts.iter_mut().enumerate() {
            if let Value::Object(m) = st {
                m.insert("Sid".into(), json!(format!("S{i}")));
            }
        }
    }
    let mut m = Map::with_capacity(2);
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

/// A generated request case: the JSON of its `policies` and `request` members, and the policies
/// compiled (or why they do not compile, which is a generator bug).
#[derive(Debug, Clone, PartialEq)]
pub struct GenCase {
    /// Shared, not copied: every case the flat-map yields holds the same document.
    pub policies: Arc<Value>,
    pub compiled: Result<Arc<PolicySet>, String>,
    pub request: Value,
}

/// A generated scenario case.
#[derive(Debug, Clone, PartialEq)]
pub struct GenScenario {
    pub policies: Value,
    pub scenario: Value,
}

/// Which policy types a generated set may hold, and how often (percent).
#[derive(Debug, Clone)]
pub struct SetSettings {
    pub max_identity: usize,
    pub boundary: u32,
    pub session: u32,
    pub scp: u32,
    pub rcp: u32,
    pub resource: u32,
}

impl Default for SetSettings {
    fn default() -> Self {
        SetSettings {
            max_identity: 3,
            boundary: 20,
            session: 15,
            scp: 25,
            rcp: 10,
            resource: 15,
        }
    }
}

pub const PRINCIPALS: &[&str] = &[
    "arn:aws:sts::123456789012:assumed-role/dev/alice",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z",
];

pub const REQUEST_ACTIONS: &[&str] = &[
    "bedrock:CallWithBearerToken",
    "bedrock:InvokeModel",
    "bedrock:Converse",
    "bedrock-mantle:CallWithBearerToken",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "s3:GetObject",
];

pub const REQUEST_RESOURCES: &[&str] = &[
    "*",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
];

fn chance(percent: u32) -> prop::bool::Weighted {
    prop::bool::weighted(f64::from(percent) / 100.0)
}

/// `Some` in `percent` of cases; never when 0 (proptest refuses a probability of 0).
fn opt<S>(percent: u32, s: S) -> BoxedStrategy<Option<S::Value>>
where
    S: Strategy + 'static,
    S::Value: Clone,
{
    if percent == 0 {
        Just(None).boxed()
    } else {
        prop::option::weighted(f64::from(percent.min(100)) / 100.0, s).boxed()
    }
}

/// A policy set in the case format's `policies` shape.
pub fn policy_set(g: &GenSettings, s: &SetSettings) -> impl Strategy<Value = Value> {
    let levels = |t: PolicyType, g: &GenSettings| {
        prop::collection::vec(
            (prop::collection::vec(policy(g, t), 1..=2), chance(75))
                .prop_map(|(ps, keep_full)| level_json(ps, keep_full)),
            1..=2,
        )
    };
    let broad = prop::option::of(prop::sample::select(BROAD));
    let identity = (
        prop::collection::vec(policy(g, PolicyType::Identity), 1..=s.max_identity.max(1)),
        broad,
    )
        .prop_map(|(ps, b)| identity_json(ps, b));
    (
        identity,
        opt(s.boundary, policy(g, PolicyType::PermissionsBoundary)),
        opt(s.session, policy(g, PolicyType::Session)),
        opt(s.scp, levels(PolicyType::Scp, g)),
        opt(s.rcp, levels(PolicyType::Rcp, g)),
        opt(s.resource, policy(g, PolicyType::Resource)),
    )
        .prop_map(|(identity, boundary, session, scp, rcp, resource)| {
            policy_set_json(identity, boundary, session, scp, rcp, resource)
        })
}

/// The actions of the broad identity policy guardrails usually sit on.
const BROAD: &[&str] = &["*", "bedrock:*", "iam:*", "bedrock:Invoke*"];

fn full_access(action: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": action, "Resource": "*"}})
}

/// An organization level: usually AWS's default full-access policy (FullAWSAccess,
/// RCPFullAWSAccess) beside the generated ones, as real organizations do.
fn level_json(mut ps: Vec<Value>, keep_full: bool) -> Vec<Value> {
    if keep_full {
        ps.insert(0, full_access("*"));
    }
    ps
}

/// Guardrails usually sit on top of broad permissions: half the identity sets carry one.
fn identity_json(mut ps: Vec<Value>, broad: Option<&str>) -> Vec<Value> {
    if let Some(a) = broad {
        ps.insert(0, full_access(a));
    }
    ps
}

fn policy_set_json(
    identity: Vec<Value>,
    boundary: Option<Value>,
    session: Option<Value>,
    scp: Option<Vec<Vec<Value>>>,
    rcp: Option<Vec<Vec<Value>>>,
    resource: Option<Value>,
) -> Value {
    let levels = |l: Vec<Vec<Value>>| Value::Array(l.into_iter().map(Value::Array).collect());
    let mut m = Map::with_capacity(6);
    m.insert("identity".into(), Value::Array(identity));
    if let Some(b) = boundary {
        m.insert("permissions_boundary".into(), b);
    }
    if let Some(s) = session {
        m.insert("session".into(), Value::Array(vec![s]));
    }
    if let Some(l) = scp {
        m.insert("scp".into(), levels(l));
    }
    if let Some(l) = rcp {
        m.insert("rcp".into(), levels(l));
    }
    if let Some(r) = resource {
        m.insert("resource".into(), Value::Array(vec![r]));
    }
    Value::Object(m)
}

/// Edge values beside the mentioned ones: the numeric edges of CredentialAgeDays and a value no
/// policy mentions.
const EDGE_VALUES: [&str; 4] = ["0", "36600", "36601", "unmentioned"];

/// Every condition key a policy set tests, with the literal values it compares against plus the
/// edge values that matter: requests are drawn from these so that conditions match often
/// (type-directed, as Cedar's generators).
pub fn mentioned(policies: &PolicySet) -> Vec<(String, Vec<Value>)> {
    policies
        .condition_values()
        .into_iter()
        .map(|kv| {
            let mut vs: Vec<Value> = kv.values.into_iter().map(Value::String).collect();
            vs.extend(EDGE_VALUES.iter().map(|v| Value::String(v.to_string())));
            (kv.key, vs)
        })
        .collect()
}

/// A context value for one mentioned key: absent, one mentioned value, or several (a
/// multivalued key).
fn context_entry(values: Vec<Value>) -> impl Strategy<Value = Option<Value>> {
    let one = prop::sample::select(values.clone());
    let many = prop::collection::vec(prop::sample::select(values), 1..=3).prop_map(Value::Array);
    prop_oneof![3 => Just(None), 6 => one.prop_map(Some), 1 => many.prop_map(Some)]
}

/// A request whose context is drawn from what the policies mention.
pub fn request_for(policies: &PolicySet) -> impl Strategy<Value = Value> {
    let keys = mentioned(policies);
    let actions: Vec<String> = request_actions(policies).map(str::to_string).collect();
    let resources: Vec<String> = request_resources(policies).map(str::to_string).collect();
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let entries: Vec<_> = keys.into_iter().map(|(_, vs)| context_entry(vs)).collect();
    (
        prop::sample::select(PRINCIPALS),
        prop::sample::select(actions),
        prop::sample::select(resources),
        entries,
        chance(10),
    )
        .prop_map(move |(principal, action, resource, values, cross)| {
            let context = names
                .iter()
                .zip(values)
                .filter_map(|(k, v)| Some((k.clone(), v?)));
            request_json(principal, action, resource, cross, context)
        })
}

/// The actions a request is drawn from: those the policies name exactly (as likely as the
/// fixed pool, so statements apply often), then [`REQUEST_ACTIONS`].
fn request_actions(policies: &PolicySet) -> impl Iterator<Item = &str> {
    policies
        .action_entries()
        .filter(|a| a.contains(':') && !a.contains(['*', '?']))
        .chain(REQUEST_ACTIONS.iter().copied())
}

/// The resources a request is drawn from, as [`request_actions`].
fn request_resources(policies: &PolicySet) -> impl Iterator<Item = &str> {
    policies
        .resource_entries()
        .filter(|r| !r.contains(['*', '?', '$']) || *r == "*")
        .chain(REQUEST_RESOURCES.iter().copied())
}

fn request_json(
    principal: &str,
    action: String,
    resource: String,
    cross: bool,
    context: impl Iterator<Item = (String, Value)>,
) -> Value {
    let ctx: Map<String, Value> = context.collect();
    let mut r = Map::with_capacity(5);
    r.insert("principal".into(), Value::String(principal.to_string()));
    r.insert("action".into(), Value::String(action));
    r.insert("resource".into(), Value::String(resource));
    if cross {
        r.insert("resource_account".into(), json!("444455556666"));
    }
    if !ctx.is_empty() {
        r.insert("context".into(), Value::Object(ctx));
    }
    Value::Object(r)
}

/// `n` generated request cases in the case format, ids `g0`, `g1`, ..., drawn from the default
/// settings with proptest's deterministic runner: the same cases on every call. The sample the
/// benches and the streaming tests share.
pub fn sample_cases(n: usize) -> Vec<Value> {
    use proptest::strategy::ValueTree;
    let strat = case(&GenSettings::default(), &SetSettings::default());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .map(|i| {
            let g = strat
                .new_tree(&mut runner)
                .map(|t| t.current())
                .unwrap_or_else(|e| unreachable!("the default generators reject nothing: {e}"));
            json!({"id": format!("g{i}"), "policies": *g.policies, "request": g.request})
        })
        .collect()
}

/// A whole request case. The policies are compiled once, here: the request is drawn from what
/// the compiled set says, and the properties transform the compiled set.
pub fn case(g: &GenSettings, s: &SetSettings) -> impl Strategy<Value = GenCase> {
    policy_set(g, s).prop_flat_map(|policies| {
        let compiled = crate::case::read_policies(&policies)
            .map(Arc::new)
            .map_err(|e| e.to_string());
        let policies = Arc::new(policies);
        let req = match &compiled {
            Ok(set) => request_for(set).boxed(),
            // A generator bug: the property reports it (and proptest shrinks it).
            Err(_) => Just(json!({})).boxed(),
        };
        (Just(policies), Just(compiled), req).prop_map(|(policies, compiled, request)| GenCase {
            policies,
            compiled,
            request,
        })
    })
}

/// A call or key-creation scenario against a generated policy set.
pub fn scenario_case(g: &GenSettings, s: &SetSettings) -> impl Strategy<Value = GenScenario> {
    let call = (
        prop::sample::select(OPERATIONS),
        prop::bool::ANY,
        prop::sample::select(MODELS),
        chance(20),
    )
        .prop_map(|(op, short, model, mantle)| call_json(op, short, model, mantle));
    let create = (
        prop::option::of(prop::sample::select(AGES)),
        prop::sample::select(SERVICES),
        prop::bool::ANY,
    )
        .prop_map(|(age, service, console)| create_json(age, service, console));
    (policy_set(g, s), prop_oneof![call, create])
        .prop_map(|(policies, scenario)| GenScenario { policies, scenario })
}

const OPERATIONS: &[&str] = &["Converse", "ConverseStream", "InvokeModel", "CountTokens"];
const MODELS: &[&str] = &[
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
];
const AGES: &[i64] = &[1, 5, 30, 90, 36600];
const SERVICES: &[&str] = &["bedrock.amazonaws.com", "codecommit.amazonaws.com"];

fn call_json(op: &str, short: bool, model: &str, mantle: bool) -> Value {
    let key = if short {
        json!({"type": "SHORT_TERM", "principal": PRINCIPALS[0], "region": "us-east-1"})
    } else {
        json!({"type": "LONG_TERM", "user": PRINCIPALS[2]})
    };
    let mut c = json!({"operation": op, "key": key, "model": model, "region": "us-east-1"});
    if mantle {
        c["endpoint"] = json!("bedrock-mantle");
    }
    json!({"call": c})
}

fn create_json(age: Option<i64>, service: &str, console: bool) -> Value {
    let mut c = json!({"caller": PRINCIPALS[0], "user": "BedrockAPIKey-h42z", "service": service,
                       "flow": if console { "console" } else { "api" }});
    if let Some(a) = age {
        c["age_days"] = json!(a);
    }
    json!({"create_key": c})
}
