//! `keyward guardrail`'s analysis (policies already read): on the shipped guardrails (the
//! article's, the three aws-samples Bedrock SCPs, the leaky one), and on guardrails with 10,
//! 100 and 1000 age constants, where the time grows with the number of constants; beside it,
//! the enumeration of every age that the partition replaces; and conditions on the age with no
//! numeric constant: a date (cut at its year and second), a wildcard (each age asked of the
//! condition alone).
//! Run: `cargo bench --bench guardrail`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use keyward::case::read_policies_file;
use keyward_bedrock::guardrail::{analyze, Subject};
use keyward_bedrock::{CreateKeyScenario, Flow, ServiceName, SUPPORTED_SERVICES};
use keyward_iam::{evaluate, ContextValue, PolicySet};
use serde_json::json;

const SHIPPED: [&str; 5] = [
    "article",
    "aws-samples-deny-bedrock-api-keys",
    "aws-samples-deny-bedrock-long-term-api-keys",
    "aws-samples-deny-bedrock-api-keys-longer-than-30-days",
    "leaky",
];

fn shipped(name: &str) -> PolicySet {
    let file = format!(
        "{}/tests/guardrails/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).expect("a shipped guardrail");
    read_policies_file(&file, &text).expect("a readable guardrail")
}

/// One Deny per constant: keys for Bedrock of exactly that age.
fn with_constants(n: u32) -> PolicySet {
    let statements: Vec<_> = (0..n)
        .map(|i| {
            json!({"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
                   "Condition": {"NumericEquals": {"iam:ServiceSpecificCredentialAgeDays": (i * 7 + 3).to_string()}}})
        })
        .collect();
    let policies = json!({"identity": [
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        {"Version": "2012-10-17", "Statement": statements}]});
    keyward::case::read_policies(&policies).expect("generated policies")
}

/// Bedrock keys allowed, with a Deny whose condition on the age is `operator` on `value`.
fn age_under(operator: &str, value: &str) -> PolicySet {
    let policies = json!({"identity": [
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
             "Condition": {operator: {"iam:ServiceSpecificCredentialAgeDays": value}}}]}]});
    keyward::case::read_policies(&policies).expect("generated policies")
}

/// What the partition saves: every age of every service, one evaluation each.
fn every_age(set: &PolicySet, subject: &Subject) -> usize {
    let mut denied = 0;
    for s in SUPPORTED_SERVICES {
        let mut request = CreateKeyScenario {
            caller: subject.principal.clone(),
            user: subject.user.clone(),
            service: ServiceName::new(s).expect("a service"),
            age_days: Some(1),
            flow: Flow::Api,
            existing_keys: 0,
            user_exists: true,
        }
        .create_request();
        for age in 1..=36_600u32 {
            request.context.insert(
                "iam:ServiceSpecificCredentialAgeDays",
                ContextValue::single(age.to_string()),
            );
            denied += usize::from(evaluate(set, &request).kind != keyward_iam::DecisionKind::Allow);
        }
    }
    denied
}

fn guardrail(c: &mut Criterion) {
    let subject = Subject::default();
    let mut g = c.benchmark_group("guardrail");
    for name in SHIPPED {
        let set = shipped(name);
        g.bench_function(name, |b| {
            b.iter(|| black_box(analyze(black_box(&set), &subject)))
        });
    }
    for n in [10, 100, 1000] {
        let set = with_constants(n);
        g.bench_with_input(BenchmarkId::new("age_constants", n), &set, |b, set| {
            b.iter(|| black_box(analyze(black_box(set), &subject)))
        });
    }
    for (name, operator, value) in [
        ("age_as_date", "DateLessThan", "2020-06-01"),
        ("age_under_wildcard", "StringLike", "1*"),
    ] {
        let set = age_under(operator, value);
        g.bench_function(name, |b| {
            b.iter(|| black_box(analyze(black_box(&set), &subject)))
        });
    }
    g.sample_size(10);
    let article = shipped("article");
    g.bench_function("article_every_age_enumerated", |b| {
        b.iter(|| black_box(every_age(black_box(&article), &subject)))
    });
    g.finish();
}

criterion_group!(benches, guardrail);
criterion_main!(benches);
