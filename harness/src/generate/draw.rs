//! The generators' cases drawn without proptest's value trees.
//!
//! A value tree exists to shrink a failing case; building one for every case that passes costs
//! more than the case itself (a sub-runner with its own RNG for every alternative a `prop_oneof`
//! did not pick, a boxed tree per element, the JSON rebuilt by every `current`). These functions
//! take from the runner's RNG exactly what the strategies of [`super`] take, in the same order,
//! and build the same value with the same builders; so a case drawn here is the case the
//! strategy gives for the same runner (a test checks it over many seeds), and a case that fails
//! is drawn again through the strategy, which shrinks it.
//!
//! Each helper names the strategy whose draws it repeats. One draw is not repeated: the RNG
//! clone `prop_flat_map` takes after its inner value. It only matters to a later draw from the
//! same runner, and every case gets a fresh runner; drawing two cases from one runner here would
//! break the equality.

use proptest::num::sample_uniform_incl;
use proptest::prelude::Rng;
use proptest::strategy::{float_to_weight, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use std::sync::Arc;

use keyward_iam::{BaseOp, PolicyType};

use super::{
    block_json, call_json, create_json, identity_json, level_json, op_string, policy_json,
    policy_set_json, request_actions, request_json, request_resources, statement_json, GenCase,
    GenScenario, GenSettings, SetSettings, ACTIONS, AGES, BROAD, EDGE_VALUES, INTS, MODELS,
    NUMERIC_STRINGS, OPERATIONS, OTHER_STRINGS, PRINCIPALS, QUALIFIERS, RESOURCES, SERVICES,
    STATEMENT_PRINCIPALS, STRING_VALUES, VERSIONS,
};

/// `prop::sample::select(pool)`: a `0..len` range strategy.
fn pick<'p, T>(r: &mut TestRunner, pool: &'p [T]) -> &'p T {
    let i = (0..pool.len()).new_tree(r).map_or(0, |t| t.current());
    &pool[i]
}

/// `prop::bool::ANY`.
fn any_bool(r: &mut TestRunner) -> bool {
    proptest::bool::ANY.new_tree(r).is_ok_and(|t| t.current())
}

/// `prop::bool::weighted(p)`.
fn weighted(r: &mut TestRunner, p: f64) -> bool {
    proptest::bool::weighted(p)
        .new_tree(r)
        .is_ok_and(|t| t.current())
}

/// The length `prop::collection::vec(_, lo..=hi)` draws before its elements.
fn len(r: &mut TestRunner, lo: usize, hi: usize) -> usize {
    sample_uniform_incl(r, lo, hi)
}

/// The alternative a `prop_oneof!` (or an option strategy) with these weights picks. Proptest's
/// tuple union gives every alternative before the pick a runner of its own (to shrink towards
/// it), seeded from the RNG; the picked alternative draws after those. Only the seeds are taken
/// here (as ChaCha seeds, which [`crate::run`]'s runners use), not the runners.
fn union(r: &mut TestRunner, weights: &[u32]) -> usize {
    let sum: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let at = (0..sum).new_tree(r).map_or(0, |t| t.current());
    let mut acc = 0u64;
    let pick = weights
        .iter()
        .take_while(|w| {
            acc += u64::from(**w);
            acc <= at
        })
        .count();
    // A ChaCha seed is drawn as 32 `u8`s of one `u32` word each: 32 words, 128 bytes.
    let mut seed_words = [0u8; 128];
    for _ in 0..pick {
        r.rng().fill_bytes(&mut seed_words);
    }
    pick
}

/// `prop::option::weighted(p, _)`: whether the inner value is drawn.
fn option(r: &mut TestRunner, p: f64) -> bool {
    let (some, none) = float_to_weight(p);
    union(r, &[none, some]) == 1
}

/// `super::scalar_value`.
fn scalar_value(r: &mut TestRunner) -> Value {
    match union(r, &[1; 5]) {
        0 => json!(pick(r, STRING_VALUES)),
        1 => json!(pick(r, INTS)),
        2 => json!(pick(r, NUMERIC_STRINGS)),
        3 => json!(any_bool(r)),
        _ => json!(pick(r, OTHER_STRINGS)),
    }
}

/// `super::string_or_array`.
fn string_or_array(r: &mut TestRunner, pool: &[&str], max: usize) -> Value {
    if union(r, &[1, 1]) == 0 {
        json!(pick(r, pool))
    } else {
        let n = len(r, 1, max);
        Value::Array((0..n).map(|_| json!(pick(r, pool))).collect())
    }
}

/// `super::condition_block`.
fn condition_block(r: &mut TestRunner, s: &GenSettings) -> Value {
    let n = len(r, 1, s.max_conditions.max(1));
    let conds = (0..n)
        .map(|_| {
            let base = *pick(r, &BaseOp::ALL);
            let qualifier = option(r, 0.25).then(|| *pick(r, QUALIFIERS));
            let if_exists = weighted(r, 0.25);
            let op = op_string(base, qualifier, if_exists);
            let key = *pick(r, &s.keys);
            let value = if union(r, &[1, 1]) == 0 {
                scalar_value(r)
            } else {
                let n = len(r, 0, s.max_values);
                Value::Array((0..n).map(|_| scalar_value(r)).collect())
            };
            (op, key, value)
        })
        .collect();
    block_json(conds)
}

/// `super::statement`.
fn statement(r: &mut TestRunner, s: &GenSettings, principal: bool) -> Value {
    let allow = any_bool(r);
    let not_action = weighted(r, 0.2);
    let actions = string_or_array(r, ACTIONS, 3);
    let not_resource = weighted(r, 0.15);
    let resources = string_or_array(r, RESOURCES, 2);
    let cond = option(r, 0.5).then(|| condition_block(r, s));
    let p = pick(r, STATEMENT_PRINCIPALS);
    statement_json(
        principal,
        allow,
        (not_action, actions),
        (not_resource, resources),
        cond,
        p,
    )
}

/// `super::policy`.
fn policy(r: &mut TestRunner, s: &GenSettings, t: PolicyType) -> Value {
    let principal = t == PolicyType::Resource;
    let version = *pick(r, VERSIONS);
    let n = len(r, 1, s.max_statements.max(1));
    let stmts = (0..n).map(|_| statement(r, s, principal)).collect();
    let as_object = any_bool(r);
    let sids = weighted(r, 0.3);
    policy_json(version, stmts, as_object, sids)
}

/// `super::opt`: `None` without a draw when `percent` is 0.
fn opt<T>(r: &mut TestRunner, percent: u32, inner: impl FnOnce(&mut TestRunner) -> T) -> Option<T> {
    if percent == 0 {
        return None;
    }
    option(r, f64::from(percent.min(100)) / 100.0).then(|| inner(r))
}

/// The organization levels of `super::policy_set`.
fn levels(r: &mut TestRunner, g: &GenSettings, t: PolicyType) -> Vec<Vec<Value>> {
    let n = len(r, 1, 2);
    (0..n)
        .map(|_| {
            let k = len(r, 1, 2);
            let ps = (0..k).map(|_| policy(r, g, t)).collect();
            level_json(ps, weighted(r, 0.75))
        })
        .collect()
}

/// `super::policy_set`.
pub(super) fn policy_set(r: &mut TestRunner, g: &GenSettings, s: &SetSettings) -> Value {
    let n = len(r, 1, s.max_identity.max(1));
    let identity = (0..n).map(|_| policy(r, g, PolicyType::Identity)).collect();
    let broad = option(r, 0.5).then(|| *pick(r, BROAD));
    let identity = identity_json(identity, broad);
    let boundary = opt(r, s.boundary, |r| {
        policy(r, g, PolicyType::PermissionsBoundary)
    });
    let session = opt(r, s.session, |r| policy(r, g, PolicyType::Session));
    let scp = opt(r, s.scp, |r| levels(r, g, PolicyType::Scp));
    let rcp = opt(r, s.rcp, |r| levels(r, g, PolicyType::Rcp));
    let resource = opt(r, s.resource, |r| policy(r, g, PolicyType::Resource));
    policy_set_json(identity, boundary, session, scp, rcp, resource)
}

/// `super::request_for`. The pools are borrowed from the policy set (only the drawn values are
/// copied); [`super::mentioned`]'s pool of a key is its values, then [`EDGE_VALUES`].
fn request_for(r: &mut TestRunner, set: &keyward_iam::PolicySet) -> Value {
    let actions: Vec<&str> = request_actions(set).collect();
    let resources: Vec<&str> = request_resources(set).collect();
    let principal = pick(r, PRINCIPALS);
    let action = pick(r, &actions).to_string();
    let resource = pick(r, &resources).to_string();
    let mut context = Vec::new();
    for kv in set.condition_values() {
        let n = kv.values.len() + EDGE_VALUES.len();
        let value = |r: &mut TestRunner| {
            let i = (0..n).new_tree(r).map_or(0, |t| t.current());
            Value::String(match kv.values.get(i) {
                Some(v) => v.clone(),
                None => EDGE_VALUES[i - kv.values.len()].to_string(),
            })
        };
        // `super::context_entry`: absent, one value, or several.
        let v = match union(r, &[3, 6, 1]) {
            0 => None,
            1 => Some(value(r)),
            _ => {
                let n = len(r, 1, 3);
                Some(Value::Array((0..n).map(|_| value(r)).collect()))
            }
        };
        if let Some(v) = v {
            context.push((kv.key.clone(), v));
        }
    }
    let cross = weighted(r, 0.1);
    request_json(principal, action, resource, cross, context.into_iter())
}

/// `super::case`: what its strategy's value tree gives for the same runner.
pub fn case(r: &mut TestRunner, g: &GenSettings, s: &SetSettings) -> GenCase {
    let policies = policy_set(r, g, s);
    let compiled = crate::case::read_policies(&policies)
        .map(Arc::new)
        .map_err(|e| e.to_string());
    let request = match &compiled {
        Ok(set) => request_for(r, set),
        Err(_) => json!({}),
    };
    GenCase {
        policies: Arc::new(policies),
        compiled,
        request,
    }
}

/// `super::scenario_case`: what its strategy's value tree gives for the same runner.
pub fn scenario_case(r: &mut TestRunner, g: &GenSettings, s: &SetSettings) -> GenScenario {
    let policies = policy_set(r, g, s);
    let scenario = if union(r, &[1, 1]) == 0 {
        let op = pick(r, OPERATIONS);
        let short = any_bool(r);
        let model = pick(r, MODELS);
        let mantle = weighted(r, 0.2);
        call_json(op, short, model, mantle)
    } else {
        let age = option(r, 0.5).then(|| *pick(r, AGES));
        let service = pick(r, SERVICES);
        let console = any_bool(r);
        create_json(age, service, console)
    };
    GenScenario { policies, scenario }
}
