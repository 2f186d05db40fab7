//! Running the properties on generated cases: deterministic per case (each case index has its
//! own seed, so a run can be split into shards and any failure replayed), shrunk by proptest,
//! bounded by a case count and a time budget, spread over the machine's cores.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::{BoxedStrategy, Strategy};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;

use crate::generate::{case, draw, scenario_case, GenCase, GenScenario, GenSettings, SetSettings};
use crate::oracle::Oracle;
use crate::properties::{check_request, check_scenario, failure_case, Property};

/// A deterministic slice of the case indices: index `i` belongs to shard `k` of `n` when
/// `i % n == k - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: a shard is K/N, e.g. 2/4"))?;
        let k: u32 = k.parse().map_err(|_| format!("{s:?}: K is not a number"))?;
        let n: u32 = n.parse().map_err(|_| format!("{s:?}: N is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("{s:?}: a shard is K/N with 1 <= K <= N"));
        }
        Ok(Shard { k, n })
    }

    fn owns(self, i: u64) -> bool {
        i % u64::from(self.n) == u64::from(self.k - 1)
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Generated cases in total (before sharding), spread evenly over the properties.
    pub cases: u64,
    pub seed: u64,
    pub shard: Shard,
    pub time_budget: Option<Duration>,
    pub properties: Vec<Property>,
    pub threads: usize,
    pub gen: GenSettings,
    pub sets: SetSettings,
}

/// A property's failure, shrunk to the smallest case proptest found.
#[derive(Debug, Clone)]
pub struct Failure {
    pub property: Property,
    pub index: u64,
    pub reason: String,
    /// The minimal case as a ready-to-commit case file.
    pub case: Value,
}

#[derive(Debug, Clone, Default)]
pub struct PropertyResult {
    pub cases: u64,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub per_property: Vec<(Property, PropertyResult)>,
    pub elapsed: Duration,
    pub threads: usize,
    /// Whether the time budget cut the run short.
    pub cut_short: bool,
}

impl RunResult {
    pub fn total_cases(&self) -> u64 {
        self.per_property.iter().map(|(_, r)| r.cases).sum()
    }

    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.per_property
            .iter()
            .flat_map(|(_, r)| r.failures.iter())
    }

    /// Generated cases per minute per core, the figure the speed target is stated in.
    pub fn cases_per_minute_per_core(&self) -> f64 {
        let mins = self.elapsed.as_secs_f64() / 60.0;
        if mins == 0.0 {
            return 0.0;
        }
        self.total_cases() as f64 / mins / self.threads.max(1) as f64
    }
}

/// The seed of one case: a mix of the run's seed, the property and the case index, so any
/// case can be regenerated alone.
fn case_seed(seed: u64, p: Property, i: u64) -> [u8; 32] {
    mixed_seed(seed, p as u64, i)
}

/// The seed of case `i` of a stream of cases named by `stream` (a property's number, or another
/// user's own: the differential run's).
pub(crate) fn mixed_seed(seed: u64, stream: u64, i: u64) -> [u8; 32] {
    let mut x =
        seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

pub(crate) fn runner(seed: [u8; 32]) -> TestRunner {
    let config = Config {
        cases: 1,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

/// The generators of a run. Building them allocates, so each worker builds them once and draws
/// every one of its cases from them.
pub struct Generators {
    pub(crate) requests: BoxedStrategy<GenCase>,
    scenarios: BoxedStrategy<GenScenario>,
}

impl Generators {
    pub fn new(gen: &GenSettings, sets: &SetSettings) -> Generators {
        Generators {
            requests: case(gen, sets).boxed(),
            scenarios: scenario_case(gen, sets).boxed(),
        }
    }
}

/// Runs one generated case of a property; `Some(failure)` with the shrunk case when it fails.
pub fn run_case(p: Property, oracle: &dyn Oracle, opts: &RunOptions, i: u64) -> Option<Failure> {
    if passes(p, oracle, opts, i) {
        return None;
    }
    shrink(&Generators::new(&opts.gen, &opts.sets), p, oracle, opts, i)
}

/// [`run_case`] with generators built beforehand (they are only used to shrink a failure).
pub fn run_case_with(
    gens: &Generators,
    p: Property,
    oracle: &dyn Oracle,
    opts: &RunOptions,
    i: u64,
) -> Option<Failure> {
    if passes(p, oracle, opts, i) {
        return None;
    }
    shrink(gens, p, oracle, opts, i)
}

/// Whether case `i` passes, drawn without value trees ([`crate::generate::draw`]): the case
/// proptest's runner would draw for the same seed (it first reseeds its RNG from itself, to have
/// a seed to persist, then builds the tree), checked the same way. A panic counts as a failure,
/// as proptest counts it.
fn passes(p: Property, oracle: &dyn Oracle, opts: &RunOptions, i: u64) -> bool {
    let mut seeded = runner(case_seed(opts.seed, p, i));
    let rng = seeded.new_rng();
    let mut r = TestRunner::new_with_rng(seeded.config().clone(), rng);
    let check = || {
        if p.on_scenarios() {
            let g = draw::scenario_case(&mut r, &opts.gen, &opts.sets);
            check_scenario(p, oracle, &g)
        } else {
            let g = draw::case(&mut r, &opts.gen, &opts.sets);
            check_request(p, oracle, &g)
        }
    };
    matches!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)),
        Ok(Ok(()))
    )
}

/// Runs case `i` through proptest, which draws it again and, when it fails, shrinks it.
fn shrink(
    gens: &Generators,
    p: Property,
    oracle: &dyn Oracle,
    opts: &RunOptions,
    i: u64,
) -> Option<Failure> {
    let mut r = runner(case_seed(opts.seed, p, i));
    // (the case's policies, its query member name, the query) of the shrunk failing input
    let failed: Option<(String, Value, &str, Value)> = if p.on_scenarios() {
        match r.run(&gens.scenarios, |g| {
            check_scenario(p, oracle, &g).map_err(TestCaseError::fail)
        }) {
            Err(TestError::Fail(reason, g)) => {
                Some((reason.to_string(), g.policies, "scenario", g.scenario))
            }
            _ => None,
        }
    } else {
        match r.run(&gens.requests, |g| {
            check_request(p, oracle, &g).map_err(TestCaseError::fail)
        }) {
            Err(TestError::Fail(reason, g)) => Some((
                reason.to_string(),
                (*g.policies).clone(),
                "request",
                g.request,
            )),
            _ => None,
        }
    };
    let (reason, policies, key, query) = failed?;
    let id = format!("generated/{}/seed-{}-case-{i}", p.name(), opts.seed);
    Some(Failure {
        property: p,
        index: i,
        case: failure_case(p, &id, &policies, key, &query, &reason),
        reason,
    })
}

/// Runs every selected property on its share of the cases. `progress` is called with the number
/// of cases done so far (from any thread).
pub fn run(opts: &RunOptions, oracle: &dyn Oracle, progress: &(dyn Fn(u64) + Sync)) -> RunResult {
    let start = Instant::now();
    let props = &opts.properties;
    let per = if props.is_empty() {
        0
    } else {
        opts.cases / props.len() as u64
    };
    // Work items: (property, case index) owned by this shard, interleaved so a cut-short run
    // still covers every property.
    let work: Vec<(Property, u64)> = (0..per)
        .flat_map(|i| props.iter().map(move |p| (*p, i)))
        .filter(|(_, i)| opts.shard.owns(*i))
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Like proptest, a property stops at its first failure: that one is shrunk and reported, and
    // the rest of its cases are not run (shrinking every failure of a broken property would
    // only repeat the same minimal case, slowly).
    let failed: Vec<AtomicBool> = props.iter().map(|_| AtomicBool::new(false)).collect();
    let threads = opts.threads.max(1);
    let results: Vec<Vec<(Property, Option<Failure>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let gens = Generators::new(&opts.gen, &opts.sets);
                    let mut local = Vec::new();
                    loop {
                        if opts.time_budget.is_some_and(|b| start.elapsed() >= b) {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(p, i)) = work.get(k) else { break };
                        let slot = props.iter().position(|q| *q == p).unwrap_or(0);
                        if failed[slot].load(Ordering::Relaxed) {
                            continue;
                        }
                        let outcome = run_case_with(&gens, p, oracle, opts, i);
                        if outcome.is_some() {
                            failed[slot].store(true, Ordering::Relaxed);
                        }
                        local.push((p, outcome));
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if d.is_multiple_of(256) {
                            progress(d as u64);
                        }
                    }
                    local
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut per_property: Vec<(Property, PropertyResult)> = props
        .iter()
        .map(|p| (*p, PropertyResult::default()))
        .collect();
    for (p, f) in results.into_iter().flatten() {
        if let Some((_, r)) = per_property.iter_mut().find(|(q, _)| *q == p) {
            r.cases += 1;
            r.failures.extend(f);
        }
    }
    for (_, r) in &mut per_property {
        r.failures.sort_by_key(|f| f.index);
    }
    progress(done.load(Ordering::Relaxed) as u64);
    RunResult {
        per_property,
        elapsed: start.elapsed(),
        threads,
        cut_short: stop.load(Ordering::Relaxed),
    }
}

/// Case `i` of the generated cases `keyward record` and `check --live` send to AWS: the same
/// generators and per-case seeding as the properties (even indices are key scenarios, odd ones
/// authorization requests), as a case without an expectation.
pub fn generated_case(
    seed: u64,
    i: u64,
    gen: &GenSettings,
    sets: &SetSettings,
) -> Option<crate::case::Case> {
    let scenario = i.is_multiple_of(2);
    let p = if scenario {
        Property::FirstDeniedRequest
    } else {
        Property::DenyWins
    };
    let mut r = runner(case_seed(seed, p, i));
    let (policies, key, query) = if scenario {
        let g = draw::scenario_case(&mut r, gen, sets);
        (g.policies, "scenario", g.scenario)
    } else {
        let g = draw::case(&mut r, gen, sets);
        ((*g.policies).clone(), "request", g.request)
    };
    let mut v = serde_json::json!({
        "id": format!("generated/live/seed-{seed}-case-{i}"),
        "source": "keyward generators",
        "provenance": "generated",
        "policies": policies,
    });
    v[key] = query;
    crate::case::Case::from_json(&v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    /// Shards and replays rest on case `i` being the same however the generators were built: a
    /// worker's reused generators draw what fresh ones draw.
    #[test]
    fn reused_generators_draw_the_cases_fresh_ones_draw() {
        let (gen, sets) = (GenSettings::default(), SetSettings::default());
        let reused = Generators::new(&gen, &sets);
        let mut distinct = std::collections::HashSet::new();
        for i in 0..200 {
            let seed = case_seed(7, Property::StatementOrder, i);
            let fresh = case(&gen, &sets)
                .new_tree(&mut runner(seed))
                .unwrap()
                .current();
            let again = reused
                .requests
                .new_tree(&mut runner(seed))
                .unwrap()
                .current();
            assert_eq!(fresh, again, "case {i}");
            distinct.insert(again.request.to_string());
            let fresh = scenario_case(&gen, &sets)
                .new_tree(&mut runner(seed))
                .unwrap()
                .current();
            let again = reused
                .scenarios
                .new_tree(&mut runner(seed))
                .unwrap()
                .current();
            assert_eq!(fresh, again, "scenario case {i}");
        }
        assert!(
            distinct.len() > 100,
            "the cases barely differ: {}",
            distinct.len()
        );
    }

    /// The fast path checks the case proptest would check: for the same seed, drawing without
    /// value trees gives what the strategies' trees give, as the runner draws it (after
    /// reseeding), under the default settings and settings that turn policy types off or on.
    #[test]
    fn drawn_cases_are_the_strategies_cases() {
        let all = SetSettings {
            max_identity: 1,
            boundary: 0,
            session: 99,
            scp: 0,
            rcp: 50,
            resource: 1,
        };
        let live = GenSettings {
            keys: crate::generate::live_keys(),
            max_values: 1,
            ..GenSettings::default()
        };
        for (gen, sets) in [
            (GenSettings::default(), SetSettings::default()),
            (live, all),
        ] {
            let gens = Generators::new(&gen, &sets);
            let mut failing_compiles = 0;
            for i in 0..300 {
                let reseeded = || {
                    let mut seeded = runner(case_seed(11, Property::KeyCase, i));
                    let rng = seeded.new_rng();
                    TestRunner::new_with_rng(seeded.config().clone(), rng)
                };
                let drawn = draw::case(&mut reseeded(), &gen, &sets);
                let tree = gens.requests.new_tree(&mut reseeded()).unwrap().current();
                assert_eq!(drawn, tree, "case {i}");
                failing_compiles += usize::from(drawn.compiled.is_err());
                let drawn = draw::scenario_case(&mut reseeded(), &gen, &sets);
                let tree = gens.scenarios.new_tree(&mut reseeded()).unwrap().current();
                assert_eq!(drawn, tree, "scenario case {i}");
            }
            assert_eq!(failing_compiles, 0);
        }
    }

    /// A failing case still goes through proptest and comes back shrunk: a property that fails
    /// on every case (an oracle that answers nothing) reports case 0 with a small policy set.
    #[test]
    fn a_failing_case_is_shrunk() {
        struct Silent;
        impl Oracle for Silent {
            fn answer(&self, _: &crate::case::Case) -> Option<crate::case::Expect> {
                None
            }
        }
        let opts = RunOptions {
            cases: 0,
            seed: 3,
            shard: Shard::ALL,
            time_budget: None,
            properties: vec![Property::DenyWins],
            threads: 1,
            gen: GenSettings::default(),
            sets: SetSettings::default(),
        };
        let f = run_case(Property::DenyWins, &Silent, &opts, 5).expect("fails");
        assert_eq!(f.index, 5);
        assert!(f.reason.contains("gave no answer"), "{}", f.reason);
        let identity = f.case["policies"]["identity"].as_array().unwrap();
        assert_eq!(
            identity.len(),
            1,
            "shrunk to one identity policy: {}",
            f.case
        );
        assert!(f.case["policies"].get("scp").is_none(), "{}", f.case);
    }
}
