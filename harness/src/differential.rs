//! The differential run of `keyward check --oracle iam-simulate`: the request-case fixtures and
//! generated request cases through keyward's local evaluator and the peer evaluator
//! ([`crate::peer`]). Every disagreement is classified:
//!
//! - **assumption**: keyward's decision rests on an assumption (a behaviour the AWS documentation
//!   leaves open, `keyward_iam::assumptions`) that bears on the decision: reported, not a failure;
//! - **erratum**: a documented rule the peer gets wrong, recognised by an entry of the peer's
//!   errata file ([`crate::peer::errata`]): reported, not a failure;
//! - **unexplained**: a failure, printed as a ready-to-commit case.
//!
//! A generated disagreement is shrunk by proptest to a minimal case of the same class (the same
//! assumptions, the same erratum, or the same pair of answers when unexplained), the first few of
//! each class; a fixture is shown as it is.

use std::collections::BTreeMap;
use std::path::PathBuf;

use keyward_iam::{DecisionKind, PolicyType};
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::case::{Case, Expect};
use crate::generate::{draw, GenCase, GenSettings, SetSettings};
use crate::inputs::{load, Loaded};
use crate::oracle::Oracle;
use crate::peer::errata::Errata;
use crate::peer::{IamSimulate, PeerReply};
use crate::run::{mixed_seed, runner, Generators};

/// The stream of generated cases of the differential run (distinct from every property's).
const STREAM: u64 = 0xD1FF;

/// Cases sent to the peer at once.
const CHUNK: usize = 2048;

/// Assumptions that choose which of several qualifying types is named: the peer lists every
/// qualifying type, so they cannot explain a disagreement either.
const NAMING_ONLY: &[&str] = &["A-DENY-PRECEDENCE", "A-IMPLICIT-PRECEDENCE"];

/// The assumptions keyward's decision on `case` rests on: the verdict's, less those that only
/// word its message (`Verdict::message_assumptions`), which cannot explain another decision or
/// deciding type. The one place the classification reads them.
pub fn decision_assumptions(case: &Case) -> Vec<&'static str> {
    let v = case.verdict();
    v.assumptions
        .into_iter()
        .filter(|a| !v.message_assumptions.contains(a))
        .collect()
}

/// What the two answers differ in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Differs {
    Decision,
    /// Same decision; keyward's deciding type is not among the peer's qualifying ones.
    By,
}

/// A disagreement's class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    Assumption(Vec<&'static str>),
    Erratum(String),
    Unexplained,
}

impl Class {
    pub fn name(&self) -> &'static str {
        match self {
            Class::Assumption(_) => "assumption",
            Class::Erratum(_) => "erratum",
            Class::Unexplained => "unexplained",
        }
    }
}

/// One disagreement, classified.
#[derive(Debug, Clone)]
pub struct Disagreement {
    pub id: String,
    /// The fixture file, or `None` for a generated case.
    pub file: Option<String>,
    /// The generated case's index.
    pub index: Option<u64>,
    pub keyward: (DecisionKind, Option<PolicyType>),
    pub peer: (DecisionKind, Vec<PolicyType>),
    pub differs: Differs,
    pub class: Class,
    /// What disagreements of one kind share: the class, and for an unexplained one the answers.
    pub key: String,
    /// The case as a ready-to-commit case file: shrunk for a generated case (the first few of
    /// each key), the fixture itself otherwise.
    pub minimal: Option<Value>,
}

/// The counts of one source of cases (fixtures, or generated).
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub cases: u64,
    pub agreed: u64,
    pub disagreed: u64,
    pub unanswerable: u64,
}

/// A differential run's result.
#[derive(Debug, Clone, Default)]
pub struct DiffResult {
    pub peer_version: String,
    pub fixtures: Counts,
    pub generated: Counts,
    /// Fixtures that could not be read (reported to standard error as they are met).
    pub unreadable: usize,
    pub disagreements: Vec<Disagreement>,
    /// Why the peer could not answer, with how many cases.
    pub unanswerable: BTreeMap<String, u64>,
}

impl DiffResult {
    pub fn count(&self, class: &str) -> usize {
        self.disagreements
            .iter()
            .filter(|d| d.class.name() == class)
            .count()
    }

    /// Disagreements per key, in key order, with the ones holding a minimal case first.
    pub fn by_key(&self) -> BTreeMap<&str, Vec<&Disagreement>> {
        let mut m: BTreeMap<&str, Vec<&Disagreement>> = BTreeMap::new();
        for d in &self.disagreements {
            m.entry(d.key.as_str()).or_default().push(d);
        }
        m
    }

    /// Cases per assumption id, and per erratum id.
    pub fn per_id(&self) -> (BTreeMap<&'static str, usize>, BTreeMap<&str, usize>) {
        let (mut a, mut e) = (BTreeMap::new(), BTreeMap::new());
        for d in &self.disagreements {
            match &d.class {
                Class::Assumption(ids) => {
                    for id in ids {
                        *a.entry(*id).or_default() += 1;
                    }
                }
                Class::Erratum(id) => *e.entry(id.as_str()).or_default() += 1,
                Class::Unexplained => {}
            }
        }
        (a, e)
    }
}

/// What the run needs.
pub struct DiffOptions {
    /// Fixture files (request cases among them are compared).
    pub fixture_files: Vec<PathBuf>,
    pub cases: u64,
    pub seed: u64,
    pub gen: GenSettings,
    pub sets: SetSettings,
    /// Unexplained generated disagreements shrunk per key (one of each explained key is).
    pub shrink_per_key: usize,
}

/// The two evaluators and the errata that explain their differences.
pub struct Differential<'a> {
    /// keyward's side (the local evaluator, or a planted bug in the harness's own tests).
    pub local: &'a dyn Oracle,
    pub peer: &'a IamSimulate,
    pub errata: &'a Errata,
}

/// How two answers differ, if they do.
pub fn differs(keyward: &Expect, peer: &PeerReply) -> Option<Differs> {
    let PeerReply::Answer { decision, by } = peer else {
        return None;
    };
    if keyward.decision != Some(*decision) {
        return Some(Differs::Decision);
    }
    match keyward.by {
        Some(b) if *decision != DecisionKind::Allow && !by.contains(&b) => Some(Differs::By),
        _ => None,
    }
}

impl Differential<'_> {
    /// The class of a disagreement on `case`.
    pub fn classify(&self, case: &Case, keyward: DecisionKind, peer: DecisionKind) -> Class {
        let written = case.to_json();
        for e in &self.errata.entries {
            if !e.triggered(&written, keyward, peer) {
                continue;
            }
            let Some(rewritten) = e.neutralized(&written) else {
                continue;
            };
            let (Some(k), Ok(p)) = (self.local.answer(&rewritten), self.peer.ask(&rewritten))
            else {
                continue;
            };
            if matches!(p, PeerReply::Answer { .. }) && differs(&k, &p).is_none() {
                return Class::Erratum(e.id.clone());
            }
        }
        let ids: Vec<&'static str> = decision_assumptions(case)
            .into_iter()
            .filter(|id| !NAMING_ONLY.contains(id))
            .collect();
        if ids.is_empty() {
            Class::Unexplained
        } else {
            Class::Assumption(ids)
        }
    }

    /// keyward's answer, the peer's reply, and the classified disagreement if they disagree.
    fn judge(
        &self,
        case: &Case,
        reply: &PeerReply,
    ) -> Option<(Expect, DecisionKind, Vec<PolicyType>, Differs, Class)> {
        let k = self.local.answer(case)?;
        let what = differs(&k, reply)?;
        let PeerReply::Answer { decision, by } = reply else {
            return None;
        };
        let class = self.classify(case, k.decision?, *decision);
        Some((k, *decision, by.clone(), what, class))
    }

    /// Runs the fixtures and `opts.cases` generated cases through both; `err` gets unreadable
    /// fixtures as they are met. `Err` when the peer's process fails.
    pub fn run(
        &self,
        opts: &DiffOptions,
        err: &mut dyn std::io::Write,
    ) -> Result<DiffResult, String> {
        let mut res = DiffResult {
            peer_version: self.peer.version().to_string(),
            ..DiffResult::default()
        };
        // Fixtures: request cases only (the peer answers requests, not key scenarios).
        let (mut cases, mut files) = (Vec::new(), Vec::new());
        for item in load(&opts.fixture_files) {
            match item {
                Loaded::Error(e) => {
                    let _ = writeln!(err, "error: {e}");
                    res.unreadable += 1;
                }
                Loaded::Case { file, case } if case.request().is_some() => {
                    cases.push(*case);
                    files.push(file);
                }
                Loaded::Case { .. } => {}
            }
        }
        let replies = self.peer.ask_all(&cases)?;
        for ((case, file), reply) in cases.iter().zip(files).zip(&replies) {
            self.tally(&mut res, Source::Fixture(file), case, reply, None);
        }

        // Generated cases, a chunk at a time.
        let gens = Generators::new(&opts.gen, &opts.sets);
        let mut shrunk: BTreeMap<String, usize> = BTreeMap::new();
        let mut start = 0;
        while start < opts.cases {
            let end = (start + CHUNK as u64).min(opts.cases);
            let drawn: Vec<(u64, Case)> = (start..end)
                .filter_map(|i| build(&draw_case(opts, i)).map(|c| (i, c)))
                .collect();
            let cases: Vec<Case> = drawn.iter().map(|(_, c)| c.clone()).collect();
            let replies = self.peer.ask_all(&cases)?;
            for ((i, case), reply) in drawn.iter().zip(&replies) {
                let at = res.disagreements.len();
                self.tally(&mut res, Source::Generated(*i), case, reply, Some(&gens));
                let Some(d) = res.disagreements.get(at) else {
                    continue;
                };
                // Explained kinds need one example; unexplained ones a few, to tell causes apart.
                let limit = if d.class == Class::Unexplained {
                    opts.shrink_per_key
                } else {
                    1
                };
                let n = shrunk.entry(d.key.clone()).or_default();
                if *n < limit {
                    *n += 1;
                    let key = d.key.clone();
                    let minimal = self.shrink(&gens, opts, *i, &key);
                    res.disagreements[at].minimal = minimal;
                }
            }
            start = end;
        }
        Ok(res)
    }

    fn tally(
        &self,
        res: &mut DiffResult,
        source: Source,
        case: &Case,
        reply: &PeerReply,
        _gens: Option<&Generators>,
    ) {
        let counts = match source {
            Source::Fixture(_) => &mut res.fixtures,
            Source::Generated(_) => &mut res.generated,
        };
        counts.cases += 1;
        if let PeerReply::Unanswerable(why) = reply {
            counts.unanswerable += 1;
            *res.unanswerable.entry(why.clone()).or_default() += 1;
            return;
        }
        let Some((k, decision, by, what, class)) = self.judge(case, reply) else {
            counts.agreed += 1;
            return;
        };
        counts.disagreed += 1;
        let keyward = (k.decision.unwrap_or(DecisionKind::ImplicitDeny), k.by);
        let key = key_of(&class, what, keyward, (decision, &by));
        let (file, index, minimal) = match source {
            Source::Fixture(f) => (
                Some(f),
                None,
                Some(ready_case(case, &k, (decision, &by), &class, None)),
            ),
            Source::Generated(i) => (None, Some(i), None),
        };
        res.disagreements.push(Disagreement {
            id: case.id.clone(),
            file,
            index,
            keyward,
            peer: (decision, by),
            differs: what,
            class,
            key,
            minimal,
        });
    }

    /// Shrinks generated case `i` to a minimal case that disagrees in the same way (`key`).
    fn shrink(&self, gens: &Generators, opts: &DiffOptions, i: u64, key: &str) -> Option<Value> {
        let same = |g: &GenCase| -> Option<Value> {
            let case = build(g)?;
            let reply = self.peer.ask(&case).ok()?;
            let (k, decision, by, what, class) = self.judge(&case, &reply)?;
            let keyward = (k.decision?, k.by);
            (key_of(&class, what, keyward, (decision, &by)) == key).then(|| {
                let id = format!("generated/iam-simulate/seed-{}-case-{i}", opts.seed);
                let mut case = case;
                case.id = id;
                ready_case(&case, &k, (decision, &by), &class, Some(i))
            })
        };
        // As `run::runner` seeds it, with each step bounded: every step asks the peer.
        let config = proptest::test_runner::Config {
            max_shrink_iters: 1024,
            max_shrink_time: 1500,
            ..runner([0; 32]).config().clone()
        };
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &mixed_seed(opts.seed, STREAM, i));
        let mut r = TestRunner::new_with_rng(config, rng);
        let shrunk = match r.run(&gens.requests, |g| match same(&g) {
            Some(_) => Err(TestCaseError::fail("disagrees the same way")),
            None => Ok(()),
        }) {
            Err(TestError::Fail(_, g)) => build(&g)?,
            _ => return None,
        };
        let reduced = self.reduce(shrunk, key);
        let reply = self.peer.ask(&reduced).ok()?;
        let (k, decision, by, _, class) = self.judge(&reduced, &reply)?;
        let mut case = reduced;
        case.id = format!("generated/iam-simulate/seed-{}-case-{i}", opts.seed);
        Some(ready_case(&case, &k, (decision, &by), &class, Some(i)))
    }

    /// The key of the disagreement on `case`, if it disagrees.
    fn key_on(&self, case: &Case) -> Option<String> {
        let reply = self.peer.ask(case).ok()?;
        let (k, decision, by, what, class) = self.judge(case, &reply)?;
        Some(key_of(&class, what, (k.decision?, k.by), (decision, &by)))
    }

    /// proptest shrinks through the generators' value trees, which cannot drop one statement,
    /// condition or value of a drawn policy set: this goes on from its result, removing one member
    /// of the case's JSON at a time (a policy, a level, a statement, a condition, a value, a context
    /// key) while the case still reads and disagrees the same way. keyward's answer must stay the
    /// same too, so that only candidates worth a round trip are put to the peer.
    fn reduce(&self, start: Case, key: &str) -> Case {
        let Some(want) = self.local.answer(&start) else {
            return start;
        };
        let mut current = start;
        let mut from = 0;
        loop {
            let written = current.to_json();
            let candidates = removals(&written);
            let mut next = None;
            for (n, cand) in candidates.iter().enumerate().skip(from) {
                let Ok(mut c) = Case::from_json(cand) else {
                    continue;
                };
                c.id.clone_from(&current.id);
                let same_answer = self
                    .local
                    .answer(&c)
                    .is_some_and(|a| a.decision == want.decision && a.by == want.by);
                if same_answer && self.key_on(&c).as_deref() == Some(key) {
                    next = Some((n, c));
                    break;
                }
            }
            match next {
                Some((n, c)) => {
                    current = c;
                    from = n;
                }
                None => return current,
            }
        }
    }
}

/// Every case that is `v` less one member: an array element (of an array of two or more) or an
/// object member, anywhere below `policies` and `request.context`, whole policy types first.
fn removals(v: &Value) -> Vec<Value> {
    fn walk(node: &Value, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        match node {
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    if a.len() > 1 {
                        out.push(path.clone());
                    }
                    walk(x, path, out);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(PathStep::Key(k.clone()));
                    out.push(path.clone());
                    walk(x, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut paths = Vec::new();
    for root in ["policies", "request"] {
        let mut path = vec![PathStep::Key(root.into())];
        if root == "request" {
            path.push(PathStep::Key("context".into()));
            if v["request"].get("context").is_some() {
                paths.push(path.clone());
            }
            walk(&v["request"]["context"], &mut path, &mut paths);
        } else {
            walk(&v["policies"], &mut path, &mut paths);
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let mut c = v.clone();
            remove_at(&mut c, &p).then_some(c)
        })
        .collect()
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn remove_at(v: &mut Value, path: &[PathStep]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = v;
    for step in parents {
        node = match (step, node) {
            (PathStep::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(x) => x,
                None => return false,
            },
            (PathStep::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (PathStep::Key(k), Value::Object(m)) => m.shift_remove(k).is_some(),
        (PathStep::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

enum Source {
    Fixture(String),
    Generated(u64),
}

/// Generated case `i`: the case proptest's runner draws first for the case's seed (see
/// `run::passes`), so that shrinking starts from it.
fn draw_case(opts: &DiffOptions, i: u64) -> GenCase {
    let mut seeded = runner(mixed_seed(opts.seed, STREAM, i));
    let rng = seeded.new_rng();
    let mut r = TestRunner::new_with_rng(seeded.config().clone(), rng);
    draw::case(&mut r, &opts.gen, &opts.sets)
}

fn build(g: &GenCase) -> Option<Case> {
    let set = g.compiled.as_ref().ok()?;
    Case::from_parts("generated", set.clone(), &g.request).ok()
}

fn types(by: &[PolicyType]) -> String {
    let v: Vec<&str> = by.iter().map(|t| t.as_str()).collect();
    format!("[{}]", v.join(","))
}

fn answer_text(d: DecisionKind, by: Option<PolicyType>) -> String {
    match by {
        Some(t) => format!("{} by {}", d.as_str(), t.as_str()),
        None => d.as_str().to_string(),
    }
}

/// The key of a disagreement: its class, and for an unexplained one what the answers were.
fn key_of(
    class: &Class,
    what: Differs,
    keyward: (DecisionKind, Option<PolicyType>),
    peer: (DecisionKind, &[PolicyType]),
) -> String {
    match class {
        Class::Assumption(ids) => format!("assumption {}", ids.join("+")),
        Class::Erratum(id) => format!("erratum {id}"),
        Class::Unexplained => match what {
            Differs::Decision => format!(
                "unexplained: keyward {}, iam-simulate {}",
                keyward.0.as_str(),
                peer.0.as_str()
            ),
            Differs::By => format!(
                "unexplained: keyward {}, iam-simulate {} by {}",
                answer_text(keyward.0, keyward.1),
                peer.0.as_str(),
                types(peer.1)
            ),
        },
    }
}

/// The case as a ready-to-commit case file: keyward's decision and deciding type as `expect`, the
/// peer's answer and the class in `note`.
fn ready_case(
    case: &Case,
    keyward: &Expect,
    peer: (DecisionKind, &[PolicyType]),
    class: &Class,
    index: Option<u64>,
) -> Value {
    let mut c = case.clone();
    let why = match class {
        Class::Assumption(ids) => format!("explained by keyward's assumption {}", ids.join(", ")),
        Class::Erratum(id) => format!("explained by the peer's erratum {id}"),
        Class::Unexplained => "unexplained".to_string(),
    };
    c.note =
        Some(format!(
        "keyward answers {}; @cloud-copilot/iam-simulate answers {} (qualifying types {}): {why}",
        answer_text(keyward.decision.unwrap_or(DecisionKind::ImplicitDeny), keyward.by),
        peer.0.as_str(),
        types(peer.1)
    ));
    if index.is_some() || c.source.is_none() {
        c.source = Some("keyward check --oracle iam-simulate".into());
    }
    c.expect = Some(Expect {
        decision: keyward.decision,
        by: keyward.by,
        ..Expect::default()
    });
    c.to_json()
}

/// The report's JSON members of a run.
pub fn json(res: &DiffResult, seed: u64) -> Value {
    let counts = |c: &Counts| json!({"cases": c.cases, "agreed": c.agreed, "disagreed": c.disagreed, "unanswerable": c.unanswerable});
    let (per_assumption, per_erratum) = res.per_id();
    let classes: Vec<Value> = res
        .by_key()
        .into_iter()
        .map(|(key, ds)| {
            let first = ds[0];
            json!({
                "key": key,
                "class": first.class.name(),
                "cases": ds.len(),
                "examples": ds.iter().filter(|d| d.minimal.is_some()).map(|d| json!({
                    "id": d.id,
                    "file": d.file,
                    "index": d.index,
                    "keyward": {"decision": d.keyward.0.as_str(), "by": d.keyward.1.map(|t| t.as_str())},
                    "iam_simulate": {"decision": d.peer.0.as_str(), "by": d.peer.1.iter().map(|t| t.as_str()).collect::<Vec<_>>()},
                    "minimal_case": d.minimal,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "oracle": "iam-simulate",
        "peer": {"package": crate::peer::PACKAGE, "version": res.peer_version},
        "seed": seed,
        "fixtures": counts(&res.fixtures),
        "generated": counts(&res.generated),
        "unreadable": res.unreadable,
        "disagreements": {
            "assumption": res.count("assumption"),
            "erratum": res.count("erratum"),
            "unexplained": res.count("unexplained"),
            "per_assumption": per_assumption,
            "per_erratum": per_erratum,
        },
        "classes": classes,
        "unanswerable": res.unanswerable,
        "passed": res.fixtures.agreed + res.generated.agreed + (res.count("assumption") + res.count("erratum")) as u64,
        "failed": res.count("unexplained") + res.unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_differ_in_the_decision_or_in_a_type_the_peer_does_not_list() {
        let kw = |d, by| Expect {
            decision: Some(d),
            by,
            ..Expect::default()
        };
        let peer = |d, by: &[PolicyType]| PeerReply::Answer {
            decision: d,
            by: by.to_vec(),
        };
        use DecisionKind::*;
        use PolicyType::*;
        assert_eq!(differs(&kw(Allow, None), &peer(Allow, &[])), None);
        assert_eq!(
            differs(&kw(Allow, None), &peer(ImplicitDeny, &[Identity])),
            Some(Differs::Decision)
        );
        assert_eq!(
            differs(
                &kw(ExplicitDeny, Some(Scp)),
                &peer(ExplicitDeny, &[Scp, Identity])
            ),
            None
        );
        assert_eq!(
            differs(
                &kw(ExplicitDeny, Some(Scp)),
                &peer(ExplicitDeny, &[Identity])
            ),
            Some(Differs::By)
        );
        assert_eq!(
            differs(
                &kw(ImplicitDeny, Some(Identity)),
                &PeerReply::Unanswerable("x".into())
            ),
            None
        );
    }

    #[test]
    fn removals_take_out_one_member_below_policies_or_the_context() {
        let v = json!({"id": "x",
            "policies": {"identity": [{"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}]},
            "request": {"principal": "p", "context": {"k": ["a", "b"]}}});
        let all = removals(&v);
        // Never the id, the principal or the request itself.
        assert!(all
            .iter()
            .all(|c| c["id"] == "x" && c["request"]["principal"] == "p"));
        assert!(all.contains(&json!({"id": "x",
            "policies": {"identity": [{"Statement": [{"Effect": "Deny"}]}]},
            "request": {"principal": "p", "context": {"k": ["a", "b"]}}})));
        assert!(all.contains(&json!({"id": "x",
            "policies": {"identity": [{"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}]},
            "request": {"principal": "p", "context": {"k": ["b"]}}})));
        assert!(all.contains(&json!({"id": "x", "policies": {},
            "request": {"principal": "p", "context": {"k": ["a", "b"]}}})));
        assert!(all.contains(&json!({"id": "x",
            "policies": {"identity": [{"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}]},
            "request": {"principal": "p"}})));
    }
}
