//! Pre-compiled policies evaluated against requests: the article's two guardrails; growth with
//! the statements of a policy (10, 100, 1,000), the policies of a set (1, 10, 100) and the values
//! of a condition key (1 to 1,000): the cost should grow at most linearly with each.
//! Run: `cargo bench --bench evaluator`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use keyward_iam::{evaluate, ContextValue, Policy, PolicySet, PolicyType, Request};
use serde_json::json;

const PRINCIPAL: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";

fn set(doc: serde_json::Value) -> PolicySet {
    PolicySet {
        identity: vec![Policy::parse(&doc, PolicyType::Identity).expect("valid policy")],
        ..PolicySet::default()
    }
}

fn article(c: &mut Criterion) {
    // Article §2: deny use of short-term keys.
    let deny_short = set(json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["bedrock:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
             "Condition": {"StringEquals": {"bedrock:bearerTokenType": "SHORT_TERM"}}}
        ]
    }));
    // Article §3: deny creating Bedrock keys that live longer than 5 days.
    let deny_long = set(json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:*ServiceSpecificCredential*", "Resource": "arn:aws:iam::123456789012:user/*"},
            {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
             "Condition": {
                "StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"},
                "NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "5"}}}
        ]
    }));
    let call = |t: &str| {
        Request::new(PRINCIPAL, "bedrock:CallWithBearerToken", "*")
            .with_context("bedrock:bearerTokenType", ContextValue::single(t))
    };
    let create = |days: &str| {
        Request::new(
            "arn:aws:iam::123456789012:user/admin",
            "iam:CreateServiceSpecificCredential",
            "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z",
        )
        .with_context(
            "iam:ServiceSpecificCredentialServiceName",
            ContextValue::single("bedrock.amazonaws.com"),
        )
        .with_context(
            "iam:ServiceSpecificCredentialAgeDays",
            ContextValue::single(days),
        )
    };
    let mut g = c.benchmark_group("article");
    g.throughput(Throughput::Elements(1));
    for (name, s, r) in [
        (
            "deny_short_term/short_term_denied",
            &deny_short,
            call("SHORT_TERM"),
        ),
        (
            "deny_short_term/long_term_allowed",
            &deny_short,
            call("LONG_TERM"),
        ),
        ("deny_over_5_days/5_days_allowed", &deny_long, create("5")),
        ("deny_over_5_days/30_days_denied", &deny_long, create("30")),
    ] {
        g.bench_function(name, |b| b.iter(|| evaluate(black_box(s), black_box(&r))));
    }
    g.finish();
}

/// N statements that all have to be looked at: none of them applies, so every one is checked.
fn statements(c: &mut Criterion) {
    let mut g = c.benchmark_group("statements");
    for n in [10usize, 100, 1000] {
        let stmts: Vec<_> = (0..n)
            .map(|i| {
                json!({
                    "Effect": if i % 2 == 0 { "Allow" } else { "Deny" },
                    "Action": [format!("bedrock:Action{i}*"), "bedrock:CallWithBearerToken"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"bedrock:bearerTokenType": format!("TYPE{i}")},
                        "NumericLessThan": {"iam:ServiceSpecificCredentialAgeDays": i}
                    }
                })
            })
            .collect();
        let s = set(json!({"Version": "2012-10-17", "Statement": stmts}));
        let r = Request::new(PRINCIPAL, "bedrock:CallWithBearerToken", "*")
            .with_context(
                "bedrock:bearerTokenType",
                ContextValue::single("SHORT_TERM"),
            )
            .with_context(
                "iam:ServiceSpecificCredentialAgeDays",
                ContextValue::single("3"),
            );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &(s, r), |b, (s, r)| {
            b.iter(|| evaluate(black_box(s), black_box(r)))
        });
    }
    g.finish();
}

/// A set of N identity policies of two statements each, none of which applies until the last:
/// every policy is looked at.
fn policies(c: &mut Criterion) {
    let mut g = c.benchmark_group("policies");
    for n in [1usize, 10, 100] {
        let identity = (0..n)
            .map(|i| {
                let last = i + 1 == n;
                let doc = json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": format!("bedrock:Other{i}"), "Resource": "*"},
                        {"Effect": if last { "Allow" } else { "Deny" },
                         "Action": "bedrock:CallWithBearerToken", "Resource": "*",
                         "Condition": {"StringEquals": {
                             "bedrock:bearerTokenType": if last { "SHORT_TERM" } else { "LONG_TERM" }
                         }}}
                    ]
                });
                Policy::parse(&doc, PolicyType::Identity).expect("valid policy")
            })
            .collect();
        let s = PolicySet {
            identity,
            ..PolicySet::default()
        };
        let r = Request::new(PRINCIPAL, "bedrock:CallWithBearerToken", "*").with_context(
            "bedrock:bearerTokenType",
            ContextValue::single("SHORT_TERM"),
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &(s, r), |b, (s, r)| {
            b.iter(|| evaluate(black_box(s), black_box(r)))
        });
    }
    g.finish();
}

/// One condition whose key has N values in the policy and matches only the last: every value is
/// compared (StringLike, so each is a pattern).
fn condition_values(c: &mut Criterion) {
    let mut g = c.benchmark_group("condition_values");
    for n in [1usize, 10, 100, 1000] {
        let values: Vec<String> = (0..n)
            .map(|i| {
                if i + 1 == n {
                    "us-east-*".to_string()
                } else {
                    format!("xx-region-{i}*")
                }
            })
            .collect();
        let s = set(json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
                          "Condition": {"StringLike": {"aws:RequestedRegion": values}}}
        }));
        let r = Request::new(PRINCIPAL, "bedrock:CallWithBearerToken", "*")
            .with_context("aws:RequestedRegion", ContextValue::single("us-east-1"));
        assert_eq!(
            evaluate(&s, &r).kind,
            keyward_iam::DecisionKind::Allow,
            "the last value matches"
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &(s, r), |b, (s, r)| {
            b.iter(|| evaluate(black_box(s), black_box(r)))
        });
    }
    g.finish();
}

/// One generated case per iteration, per property: generation, the oracle's answers on the case
/// and its transformed twin, and the comparison. The harness's own speed figure.
fn generated_cases(c: &mut Criterion) {
    use keyward::oracle::Local;
    use keyward::properties::Property;
    use keyward::run::{run_case, RunOptions, Shard};
    let opts = RunOptions {
        cases: 0,
        seed: 1,
        shard: Shard::ALL,
        time_budget: None,
        properties: Property::ALL.to_vec(),
        threads: 1,
        gen: Default::default(),
        sets: Default::default(),
    };
    let mut g = c.benchmark_group("generated_case");
    g.throughput(Throughput::Elements(1));
    for p in [
        Property::StatementOrder,
        Property::KeyCase,
        Property::FirstDeniedRequest,
        Property::RoundTrip,
    ] {
        let mut i = 0u64;
        g.bench_function(p.name(), |b| {
            b.iter(|| {
                i += 1;
                assert!(run_case(p, &Local, &opts, i).is_none());
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    article,
    statements,
    policies,
    condition_values,
    generated_cases
);
criterion_main!(benches);
