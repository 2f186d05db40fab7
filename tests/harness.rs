//! The harness itself: generated cases are varied enough to matter, runs are deterministic and
//! shardable, and planted bugs are caught, shrunk and printed as small, readable case files.

use keyward::case::{read_cases, Case, Expect};
use keyward::generate::{case, GenSettings, SetSettings};
use keyward::oracle::{Local, Oracle};
use keyward::properties::Property;
use keyward::run::{run, RunOptions, Shard};
use keyward_iam::DecisionKind;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

fn opts(cases: u64, properties: Vec<Property>) -> RunOptions {
    RunOptions {
        cases,
        seed: 7,
        shard: Shard::ALL,
        time_budget: None,
        properties,
        threads: 2,
        gen: GenSettings::default(),
        sets: SetSettings::default(),
    }
}

#[test]
fn generated_cases_reach_every_decision_and_often_match_conditions() {
    let strat = case(&GenSettings::default(), &SetSettings::default());
    let mut runner = TestRunner::deterministic();
    let (mut allow, mut explicit, mut implicit, mut cond_true) = (0, 0, 0, 0);
    for _ in 0..1000 {
        let g = strat.new_tree(&mut runner).unwrap().current();
        let c = Case::from_json(
            &serde_json::json!({"id": "g", "policies": *g.policies, "request": g.request}),
        )
        .unwrap();
        match Local.answer(&c).unwrap().decision.unwrap() {
            DecisionKind::Allow => allow += 1,
            DecisionKind::ExplicitDeny => explicit += 1,
            DecisionKind::ImplicitDeny => implicit += 1,
        }
        let req = c.request().unwrap();
        if c.policies.all().iter().any(|e| {
            e.policy.statements().iter().any(|s| {
                !s.conditions().is_empty() && s.conditions().iter().all(|k| k.eval(&req.context))
            })
        }) {
            cond_true += 1;
        }
    }
    assert!(
        allow >= 100 && explicit >= 100 && implicit >= 100,
        "allow {allow}, explicit {explicit}, implicit {implicit}"
    );
    assert!(
        cond_true >= 150,
        "only {cond_true} of 1000 cases have a statement whose conditions all hold"
    );
}

#[test]
fn runs_are_deterministic_and_shards_partition_them() {
    let props = vec![Property::StatementOrder, Property::DenyWins];
    let all = run(&opts(400, props.clone()), &Local, &|_| {});
    assert_eq!(all.total_cases(), 400);
    let mut a = opts(400, props.clone());
    a.shard = Shard::parse("1/2").unwrap();
    let mut b = opts(400, props);
    b.shard = Shard::parse("2/2").unwrap();
    let (ra, rb) = (run(&a, &Local, &|_| {}), run(&b, &Local, &|_| {}));
    assert_eq!(ra.total_cases() + rb.total_cases(), 400);
    assert_eq!(ra.total_cases(), 200);
    assert!(
        Shard::parse("3/2").is_err() && Shard::parse("0/2").is_err() && Shard::parse("x").is_err()
    );
}

/// A planted bug: only the first statement of each identity policy counts.
struct FirstStatementOnly;

impl Oracle for FirstStatementOnly {
    fn name(&self) -> &'static str {
        "mutant-first-statement-only"
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        let mut c = case.clone();
        // Keep each identity policy's first statement: drop the rest of the compiled policy.
        for p in &mut std::sync::Arc::make_mut(&mut c.policies).identity {
            let _rest = p.split_off(1);
        }
        Local.answer(&c)
    }
}

/// A planted bug: only the first identity policy counts.
struct FirstPolicyOnly;

impl Oracle for FirstPolicyOnly {
    fn name(&self) -> &'static str {
        "mutant-first-policy-only"
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        let mut c = case.clone();
        std::sync::Arc::make_mut(&mut c.policies)
            .identity
            .truncate(1);
        Local.answer(&c)
    }
}

fn statements_in(case: &serde_json::Value) -> usize {
    fn walk(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .map(|(k, x)| {
                    if k == "Statement" {
                        x.as_array().map_or(1, Vec::len)
                    } else {
                        walk(x)
                    }
                })
                .sum(),
            serde_json::Value::Array(a) => a.iter().map(walk).sum(),
            _ => 0,
        }
    }
    walk(&case["policies"])
}

#[test]
fn planted_bugs_are_caught_shrunk_and_printed_as_case_files() {
    for (oracle, property) in [
        (&FirstStatementOnly as &dyn Oracle, Property::DenyWins),
        (&FirstStatementOnly, Property::StatementOrder),
        (&FirstPolicyOnly, Property::PolicyOrder),
        (&FirstPolicyOnly, Property::SplitPolicy),
    ] {
        let r = run(&opts(300, vec![property]), oracle, &|_| {});
        let f = r
            .failures()
            .next()
            .unwrap_or_else(|| panic!("{} not caught by {}", oracle.name(), property.name()));
        // Shrunk: a handful of statements at most, one of them the culprit.
        let n = statements_in(&f.case);
        assert!(
            n <= 4,
            "{} / {}: minimal case still has {n} statements:\n{}",
            oracle.name(),
            property.name(),
            f.case
        );
        // A ready-to-commit case file: it reads back, with provenance generated and the property
        // in its note.
        let text = serde_json::to_string_pretty(&f.case).unwrap();
        let back = read_cases("failure.json", &text)
            .unwrap()
            .remove(0)
            .unwrap();
        assert_eq!(back.provenance, Some(keyward::case::Provenance::Generated));
        assert!(back.note.as_deref().unwrap().contains(property.statement()));
        assert!(back.id.contains(property.name()));
    }
}

#[test]
fn the_local_evaluator_passes_every_property() {
    let r = run(&opts(1100, Property::ALL.to_vec()), &Local, &|_| {});
    let failures: Vec<String> = r
        .failures()
        .map(|f| format!("{}: {}\n{}", f.property.name(), f.reason, f.case))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(r.total_cases(), 1100);
}

/// `keyward check` with a planted bug: it fails, and its report prints the shrunk case ready to
/// commit; `--json`, `--junit` and `--save-failures` carry the same failure.
#[test]
fn check_reports_a_planted_bug_with_its_minimal_case() {
    use keyward::commands::check::{run_with_oracle, CheckOptions};
    let dir = tempfile::tempdir().unwrap();
    let mut o = CheckOptions::new(vec![crate::support::root().join("fixtures/article")]);
    o.run.cases = 200;
    o.run.properties = vec![Property::DenyWins];
    o.progress = false;
    o.junit = Some(dir.path().join("junit.xml"));
    o.save_failures = Some(dir.path().join("failures"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with_oracle(&o, &FirstStatementOnly, &mut out, &mut err);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL matching-deny-wins"), "{text}");
    assert!(text.contains("minimal case:"), "{text}");
    assert!(
        text.lines().last().unwrap().ends_with(" failed") && !text.ends_with(" 0 failed\n"),
        "{text}"
    );
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"property matching-deny-wins\"")
            && junit.contains("<failure"),
        "{junit}"
    );
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("failures"))
        .unwrap()
        .collect();
    assert!(!saved.is_empty());
    for f in saved {
        let p = f.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let c = read_cases(&p.display().to_string(), &text)
            .unwrap()
            .remove(0)
            .unwrap();
        assert_eq!(c.provenance, Some(keyward::case::Provenance::Generated));
    }

    o.format = keyward::commands::Format::Json;
    o.junit = None;
    o.save_failures = None;
    let mut out = Vec::new();
    assert_eq!(
        run_with_oracle(&o, &FirstStatementOnly, &mut out, &mut Vec::new()),
        1
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["failed"].as_u64().unwrap() >= 1);
    assert!(v["generated"]["properties"][0]["failures"][0]["minimal_case"]["policies"].is_object());
}

/// An oracle under test that allows everything.
struct AllowsEverything;

impl Oracle for AllowsEverything {
    fn name(&self) -> &'static str {
        "mutant-allows-everything"
    }

    fn answer(&self, _: &Case) -> Option<Expect> {
        Some(Expect {
            decision: Some(DecisionKind::Allow),
            ..Expect::default()
        })
    }
}

/// A fixture an oracle under test disagrees on is reported with that oracle's answer (not the
/// local evaluator's), under that oracle's name.
#[test]
fn check_reports_a_fixture_disagreement_with_the_tested_oracles_answer() {
    use keyward::commands::check::{run_with_oracle, CheckOptions};
    let mut o = CheckOptions::new(vec![crate::support::root().join("fixtures/article")]);
    o.run.cases = 0;
    o.progress = false;
    let mut out = Vec::new();
    let code = run_with_oracle(&o, &AllowsEverything, &mut out, &mut Vec::new());
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("oracle mutant-allows-everything vs fixture-store:"),
        "{text}"
    );
    let disagreements: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("DISAGREE "))
        .collect();
    assert!(!disagreements.is_empty(), "{text}");
    for l in disagreements.iter().filter(|l| l.contains(": expected ")) {
        assert!(l.ends_with(", got allow"), "{l}");
    }
    assert!(
        disagreements
            .iter()
            .any(|l| l.contains(": expected explicit_deny")),
        "{text}"
    );
}

// The properties as proptest tests too: a failure here is persisted by proptest in
// tests/harness.proptest-regressions, which is committed and replayed first on every run.
proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]

    #[test]
    fn every_request_property_holds(g in case(&GenSettings::default(), &SetSettings::default())) {
        for p in Property::ALL.into_iter().filter(|p| !p.on_scenarios()) {
            keyward::properties::check_request(p, &Local, &g).map_err(proptest::test_runner::TestCaseError::fail)?;
        }
    }

    #[test]
    fn every_scenario_property_holds(g in keyward::generate::scenario_case(&GenSettings::default(), &SetSettings::default())) {
        keyward::properties::check_scenario(Property::FirstDeniedRequest, &Local, &g).map_err(proptest::test_runner::TestCaseError::fail)?;
    }
}
