//! Two oracles on the same cases: which cases they agree on, which they do not, which could not
//! be compared and why; and the report of it that `keyward check` prints (text, JSON, JUnit),
//! whichever the two oracles are: the fixture store and the local evaluator (`check`), or AWS
//! and the local evaluator (`check --live`). The first oracle is the reference: every field its
//! answer gives must match.

use std::collections::BTreeMap;
use std::future::Future;

use keyward_iam::{DecisionKind, PolicyType};
use serde_json::{json, Value};

use crate::case::{Case, Expect, Provenance};
use crate::commands::Tally;
use crate::oracle::{Answer, BatchOracle, OracleKind, Unanswered};

/// One case, as both oracles answered it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    /// The file the case was read from; none for a generated case.
    pub file: Option<String>,
    pub provenance: Option<Provenance>,
    pub reference: Answer,
    pub tested: Answer,
    /// Why the tested oracle answered as it did, when it disagrees and can say
    /// ([`BatchOracle::reason`]).
    pub why: Option<String>,
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    Agreed,
    Disagreed,
    /// One of the two had no answer.
    NotCompared(&'a Unanswered),
}

impl Row {
    pub fn outcome(&self) -> Outcome<'_> {
        match (&self.reference, &self.tested) {
            (Answer::Unanswered(u), _) | (_, Answer::Unanswered(u)) => Outcome::NotCompared(u),
            (Answer::Given { expect: want, .. }, Answer::Given { expect: got, .. }) => {
                if want.matches(got) {
                    Outcome::Agreed
                } else {
                    Outcome::Disagreed
                }
            }
        }
    }

    /// Where the case came from and, for AWS, which of its oracles answered, as a disagreement
    /// line shows it.
    pub(crate) fn place(&self) -> String {
        let mut at = self.file.clone().unwrap_or_else(|| "generated".into());
        if let Answer::Given {
            from: Some(k @ (OracleKind::AwsSimulator | OracleKind::AwsEnforcement)),
            ..
        } = &self.reference
        {
            at.push_str(&format!(", answered by {k}"));
        }
        at
    }

    /// What a report says about this row, when there is something to say: a disagreement with
    /// the fields that differ, or why an oracle that was asked could not answer.
    pub fn problem(&self) -> Option<String> {
        match self.outcome() {
            Outcome::Disagreed => {
                let (want, got) = (self.reference.expect()?, self.tested.expect()?);
                Some(disagreement_text(
                    &self.id,
                    &self.place(),
                    want,
                    got,
                    self.why.as_deref(),
                ))
            }
            Outcome::NotCompared(Unanswered::Failed(why)) => {
                Some(format!("FAILED {} ({}): {why}", self.id, self.place()))
            }
            Outcome::NotCompared(Unanswered::Environment { problem, .. }) => {
                Some(format!("NOT RUN {} ({}): {problem}", self.id, self.place()))
            }
            Outcome::Agreed | Outcome::NotCompared(_) => None,
        }
    }
}

/// The counts of one provenance (or of the whole comparison).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub agree: usize,
    pub disagree: usize,
    pub without_expectation: usize,
    pub skipped: usize,
    pub failed: usize,
    pub not_run: usize,
}

impl Counts {
    fn add(&mut self, o: Outcome<'_>) {
        match o {
            Outcome::Agreed => self.agree += 1,
            Outcome::Disagreed => self.disagree += 1,
            Outcome::NotCompared(Unanswered::NoExpectation) => self.without_expectation += 1,
            Outcome::NotCompared(Unanswered::Skipped(_)) => self.skipped += 1,
            Outcome::NotCompared(Unanswered::Failed(_)) => self.failed += 1,
            Outcome::NotCompared(Unanswered::Environment { .. }) => self.not_run += 1,
        }
    }
}

/// Both oracles' answers to the same cases.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub reference: &'static str,
    pub tested: &'static str,
    pub rows: Vec<Row>,
}

/// Asks both oracles about `cases` (`files[k]` is where case `k` was read from) and pairs their
/// answers.
pub async fn compare(
    reference: &dyn BatchOracle,
    tested: &dyn BatchOracle,
    cases: &[Case],
    files: &[Option<String>],
) -> Comparison {
    let want = reference.answer_all(cases).await;
    let got = tested.answer_all(cases).await;
    let tested_oracle = tested;
    let rows = cases
        .iter()
        .zip(want.into_iter().zip(got))
        .enumerate()
        .map(|(k, (case, (reference, tested)))| {
            let mut row = Row {
                id: case.id.clone(),
                file: files.get(k).cloned().flatten(),
                provenance: case.provenance,
                reference,
                tested,
                why: None,
            };
            // Asked only of disagreements: a reason costs an evaluation.
            if row.outcome() == Outcome::Disagreed {
                row.why = tested_oracle.reason(case);
            }
            row
        })
        .collect();
    Comparison {
        reference: reference.label(),
        tested: tested.label(),
        rows,
    }
}

/// [`compare`] where no oracle needs to wait (the local evaluator, the fixture store, an
/// oracle under test): answered on the calling thread.
pub fn compare_now(
    reference: &dyn BatchOracle,
    tested: &dyn BatchOracle,
    cases: &[Case],
    files: &[Option<String>],
) -> Comparison {
    let mut fut = std::pin::pin!(compare(reference, tested, cases, files));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        // Per-case oracles answer with ready futures, so the first poll finishes; the loop
        // only keeps an oracle that yields once in a while correct, if slow.
        if let std::task::Poll::Ready(c) = fut.as_mut().poll(&mut cx) {
            return c;
        }
        std::thread::yield_now();
    }
}

impl Comparison {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.rows {
            c.add(r.outcome());
        }
        c
    }

    /// Counts per provenance, by the provenance's name (`(no provenance)` for cases without).
    pub fn per_provenance(&self) -> BTreeMap<String, Counts> {
        let mut m: BTreeMap<String, Counts> = BTreeMap::new();
        for r in &self.rows {
            let key = r.provenance.map_or("(no provenance)", |p| p.as_str());
            m.entry(key.to_string()).or_default().add(r.outcome());
        }
        m
    }

    /// Passed and failed cases: a disagreement and an oracle that failed to answer both fail a
    /// run; cases without an answer for another reason are not counted.
    pub fn tally(&self) -> Tally {
        let c = self.counts();
        Tally {
            passed: c.agree,
            failed: c.disagree + c.failed,
            unreadable: 0,
        }
    }

    /// The heading and one line per provenance.
    pub fn summary_text(&self) -> String {
        let mut s = format!("oracle {} vs {}:\n", self.tested, self.reference);
        for (prov, c) in self.per_provenance() {
            s.push_str(&format!(
                "  {prov:<12} {} agree, {} disagree",
                c.agree, c.disagree
            ));
            for (n, what) in [
                (c.without_expectation, "without expectation"),
                (c.skipped, "skipped"),
                (c.failed, "not answered"),
                (c.not_run, "not run"),
            ] {
                if n > 0 {
                    s.push_str(&format!(", {n} {what}"));
                }
            }
            s.push('\n');
        }
        s
    }

    /// Why cases were skipped, with how many each reason skipped, most frequent first.
    pub fn skip_reasons(&self) -> Vec<(String, usize)> {
        let mut m: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &self.rows {
            if let Outcome::NotCompared(Unanswered::Skipped(why)) = r.outcome() {
                *m.entry(why).or_default() += 1;
            }
        }
        let mut v: Vec<(String, usize)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// What to change in the environment, once each, for the cases it kept from running.
    pub fn remedies(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .rows
            .iter()
            .filter_map(|r| match r.outcome() {
                Outcome::NotCompared(Unanswered::Environment { remedy, .. }) => {
                    Some(remedy.as_str())
                }
                _ => None,
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// One JUnit test suite, one test case per case: a disagreement or a failure to answer is
    /// a `<failure>`, a case not compared is `<skipped>` with its reason.
    pub fn junit_suite(&self, name: &str) -> String {
        let c = self.counts();
        let mut s = format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            xml_escape(name),
            self.rows.len(),
            c.disagree + c.failed,
            c.without_expectation + c.skipped + c.not_run
        );
        for r in &self.rows {
            let class = r.provenance.map_or("cases", |p| p.as_str());
            s.push_str(&format!(
                "    <testcase classname=\"{class}\" name=\"{}\"",
                xml_escape(&r.id)
            ));
            let body = match (r.outcome(), r.problem()) {
                (Outcome::Agreed, _) => None,
                (Outcome::NotCompared(u), None) => Some(format!(
                    "<skipped message=\"{}\"/>",
                    xml_escape(&unanswered_reason(u))
                )),
                (_, problem) => {
                    let text = problem.unwrap_or_default();
                    Some(format!(
                        "<failure message=\"{}\">{}</failure>",
                        xml_escape(text.lines().next().unwrap_or_default()),
                        xml_escape(&text)
                    ))
                }
            };
            match body {
                None => s.push_str("/>\n"),
                Some(b) => s.push_str(&format!(">{b}</testcase>\n")),
            }
        }
        s.push_str("  </testsuite>\n");
        s
    }

    /// Every row as JSON: the case, both answers and how they compare.
    pub fn rows_json(&self) -> Value {
        let answer = |a: &Answer| match a {
            Answer::Given { expect, from } => {
                json!({"answer": expect.to_json(), "from": from.map(OracleKind::name)})
            }
            Answer::Unanswered(u) => json!({"unanswered": unanswered_reason(u)}),
        };
        self.rows
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "file": r.file,
                    "provenance": r.provenance.map(|p| p.as_str()),
                    "outcome": match r.outcome() {
                        Outcome::Agreed => "agree",
                        Outcome::Disagreed => "disagree",
                        Outcome::NotCompared(Unanswered::NoExpectation) => "without_expectation",
                        Outcome::NotCompared(Unanswered::Skipped(_)) => "skipped",
                        Outcome::NotCompared(Unanswered::Failed(_)) => "not_answered",
                        Outcome::NotCompared(Unanswered::Environment { .. }) => "not_run",
                    },
                    self.reference: answer(&r.reference),
                    self.tested: answer(&r.tested),
                })
            })
            .collect()
    }

    /// The per-provenance counts as `check --json` gives them.
    pub fn per_provenance_json(&self) -> Value {
        self.per_provenance()
            .into_iter()
            .map(|(k, c)| {
                let mut o = json!({"agree": c.agree, "disagree": c.disagree, "without_expectation": c.without_expectation});
                if c.skipped > 0 || c.failed > 0 || c.not_run > 0 {
                    o["skipped"] = json!(c.skipped);
                    o["not_answered"] = json!(c.failed);
                    o["not_run"] = json!(c.not_run);
                }
                (k, o)
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// Why an oracle did not answer, in words.
fn unanswered_reason(u: &Unanswered) -> String {
    match u {
        Unanswered::NoExpectation => "no expectation".into(),
        Unanswered::Skipped(why) => format!("skipped: {why}"),
        Unanswered::Failed(why) => format!("not answered: {why}"),
        Unanswered::Environment { problem, .. } => format!("not run: {problem}"),
    }
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One line (and details) saying how `got` differs from `want` for case `id` read at `place`,
/// and, when the tested oracle says why it answered `got`, a last line `  why: <reason>`.
pub fn disagreement_text(
    id: &str,
    place: &str,
    want: &Expect,
    got: &Expect,
    why: Option<&str>,
) -> String {
    let show = |d: Option<DecisionKind>, by: Option<PolicyType>, e: &Expect| {
        // A scenario allowed and then refused (LimitExceeded, a validation error) says so:
        // `allow` beside status 409 read as if the call had gone through.
        let refused = match (d, e.status) {
            (Some(DecisionKind::Allow) | None, Some(st)) if st >= 300 => Some(match &e.code {
                Some(code) => format!("{code} ({st})"),
                None => format!("HTTP {st}"),
            }),
            _ => None,
        };
        let d = match (d, &refused) {
            (Some(DecisionKind::Allow), Some(r)) => {
                return format!("authorization: allow; then refused: {r}")
            }
            (None, Some(r)) => return format!("refused before authorization: {r}"),
            (d, _) => d.map_or("no decision", |d| d.as_str()),
        };
        match by {
            Some(b) => format!("{d} by {b}"),
            None => d.to_string(),
        }
    };
    let mut s = format!("DISAGREE {id} ({place})");
    if want.decision.is_some() || want.by.is_some() {
        s.push_str(&format!(
            ": expected {}, got {}",
            show(want.decision.or(got.decision), want.by, want),
            show(got.decision, got.by, got)
        ));
    }
    let mut detail = |what: &str, want: Option<String>, got: Option<String>| {
        let Some(want) = want else { return };
        // A message or body agrees through its placeholders: it does not differ.
        let differs = match &got {
            Some(got) if what == "message" || what == "body" => {
                !keyward_iam::messages_agree(&want, got)
            }
            got => got.as_ref() != Some(&want),
        };
        let got = got.unwrap_or_else(|| "(none)".into());
        if differs {
            s.push_str(&format!(
                "\n  expected {what}: {want}\n       got {what}: {got}"
            ));
        }
    };
    detail("message", want.message.clone(), got.message.clone());
    detail(
        "status",
        want.status.map(|s| s.to_string()),
        got.status.map(|s| s.to_string()),
    );
    detail("code", want.code.clone(), got.code.clone());
    detail("body", want.body.clone(), got.body.clone());
    detail(
        "side effects",
        want.side_effects.as_ref().map(|v| format!("{v:?}")),
        got.side_effects.as_ref().map(|v| format!("{v:?}")),
    );
    if let Some(why) = why {
        s.push_str(&format!("\n  why: {why}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(decision: DecisionKind, by: Option<PolicyType>) -> Answer {
        Answer::Given {
            expect: Expect {
                decision: Some(decision),
                by,
                ..Expect::default()
            },
            from: None,
        }
    }

    fn row(id: &str, reference: Answer, tested: Answer) -> Row {
        Row {
            id: id.into(),
            file: Some("f.json".into()),
            provenance: Some(Provenance::Recorded),
            reference,
            tested,
            why: None,
        }
    }

    #[test]
    fn the_reference_decides_which_fields_are_compared_and_unanswered_rows_are_counted_apart() {
        let allow = || given(DecisionKind::Allow, None);
        let c = Comparison {
            reference: "aws",
            tested: "local",
            rows: vec![
                row("a", allow(), allow()),
                // The reference gives no `by`: only the decision is compared.
                row(
                    "b",
                    given(DecisionKind::ImplicitDeny, None),
                    given(DecisionKind::ImplicitDeny, Some(PolicyType::Scp)),
                ),
                row(
                    "c",
                    given(DecisionKind::ImplicitDeny, Some(PolicyType::Identity)),
                    given(DecisionKind::ImplicitDeny, Some(PolicyType::Scp)),
                ),
                row(
                    "d",
                    Answer::Unanswered(Unanswered::Skipped("why".into())),
                    allow(),
                ),
                row(
                    "e",
                    Answer::Unanswered(Unanswered::Failed("throttled".into())),
                    allow(),
                ),
            ],
        };
        let n = c.counts();
        assert_eq!((n.agree, n.disagree, n.skipped, n.failed), (2, 1, 1, 1));
        let t = c.tally();
        assert_eq!(
            (t.passed, t.failed),
            (2, 2),
            "a failure to answer fails the run"
        );
        let problems: Vec<String> = c.rows.iter().filter_map(Row::problem).collect();
        assert_eq!(
            problems,
            [
                "DISAGREE c (f.json): expected implicit_deny by identity, got implicit_deny by scp",
                "FAILED e (f.json): throttled",
            ]
        );
        assert_eq!(
            c.summary_text(),
            "oracle local vs aws:\n  recorded     2 agree, 1 disagree, 1 skipped, 1 not answered\n"
        );
        assert_eq!(c.skip_reasons(), [("why".to_string(), 1)]);
    }

    #[test]
    fn a_disagreement_answered_by_aws_says_which_oracle_answered() {
        let mut r = row(
            "x",
            given(DecisionKind::ExplicitDeny, Some(PolicyType::Scp)),
            given(DecisionKind::Allow, None),
        );
        if let Answer::Given { from, .. } = &mut r.reference {
            *from = Some(OracleKind::AwsSimulator);
        }
        r.file = None;
        assert_eq!(
            r.problem().unwrap(),
            "DISAGREE x (generated, answered by simulator): expected explicit_deny by scp, got allow"
        );
    }
}
