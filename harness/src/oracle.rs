//! Oracles: anything that answers a case. Every oracle speaks the case format's `expect` shape
//! ([`Expect`]), so comparing two of them is comparing the fields both give.
//!
//! Two interfaces, one meaning: [`Oracle`] answers one case at a time, synchronously (the local
//! evaluator and the fixture store, on the hot path of every property); [`BatchOracle`] is asked
//! about many cases at once and may take its time (AWS: batched simulator calls, real requests
//! a few at a time). Every [`Oracle`] is a [`BatchOracle`], so the comparison and the reports of
//! `keyward check` ([`crate::compare`]) take any two of them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::case::{Case, Expect};

/// keyward's own oracles. An oracle under test (a planted bug, another implementation) is none
/// of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OracleKind {
    /// keyward-iam and keyward-bedrock, evaluated locally.
    #[serde(rename = "local-evaluator")]
    LocalEvaluator,
    /// The recorded answers of the fixtures.
    #[serde(rename = "fixture-store")]
    FixtureStore,
    /// AWS's policy simulator, iam:SimulateCustomPolicy (request cases in live mode).
    #[serde(rename = "simulator")]
    AwsSimulator,
    /// Real requests to AWS (scenario cases in live mode).
    #[serde(rename = "enforcement")]
    AwsEnforcement,
}

impl OracleKind {
    /// The short name reports and run journals use. The serde names are the same, so a journal
    /// written by an older keyward reads back.
    pub fn name(self) -> &'static str {
        match self {
            OracleKind::LocalEvaluator => "local-evaluator",
            OracleKind::FixtureStore => "fixture-store",
            OracleKind::AwsSimulator => "simulator",
            OracleKind::AwsEnforcement => "enforcement",
        }
    }

    /// What answered, as a recorded fixture's note says it.
    pub fn description(self) -> &'static str {
        match self {
            OracleKind::LocalEvaluator => "the local evaluator",
            OracleKind::FixtureStore => "the fixture store",
            OracleKind::AwsSimulator => "iam:SimulateCustomPolicy",
            OracleKind::AwsEnforcement => "real requests (enforcement)",
        }
    }
}

impl fmt::Display for OracleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub trait Oracle: Sync {
    /// Which of keyward's oracles this is; `None` for an oracle under test.
    fn kind(&self) -> Option<OracleKind> {
        None
    }

    /// The name reports print.
    fn name(&self) -> &'static str {
        self.kind().map_or("oracle-under-test", OracleKind::name)
    }

    /// The oracle's answer, or `None` when it has none for this case.
    fn answer(&self, case: &Case) -> Option<Expect>;

    /// Why the oracle answers `case` as it does, in one line, when it can say (the local
    /// evaluator); reports print it under a disagreement.
    fn reason(&self, _case: &Case) -> Option<String> {
        None
    }
}

/// A borrowed oracle is the oracle (so a `&dyn Oracle` can be asked as a [`BatchOracle`]).
impl<T: Oracle + ?Sized> Oracle for &T {
    fn kind(&self) -> Option<OracleKind> {
        (**self).kind()
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        (**self).answer(case)
    }

    fn reason(&self, case: &Case) -> Option<String> {
        (**self).reason(case)
    }
}

/// The local evaluator (keyward-iam and keyward-bedrock).
pub struct Local;

impl Oracle for Local {
    fn kind(&self) -> Option<OracleKind> {
        Some(OracleKind::LocalEvaluator)
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        Some(case.verdict().answer())
    }

    fn reason(&self, case: &Case) -> Option<String> {
        Some(case.verdict().reason.text(&case.policies))
    }
}

/// The fixture store: the recorded answer of a known case.
pub struct Fixtures;

impl Oracle for Fixtures {
    fn kind(&self) -> Option<OracleKind> {
        Some(OracleKind::FixtureStore)
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        case.expect.clone()
    }
}

/// What an oracle said about one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Its answer; `from` names which of keyward's oracles gave it, where an oracle answers
    /// through several (AWS: the simulator for request cases, real requests for scenarios).
    Given {
        expect: Expect,
        from: Option<OracleKind>,
    },
    /// No answer, and why.
    Unanswered(Unanswered),
}

/// Why an oracle gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// It holds nothing for this case (a fixture without `expect`).
    NoExpectation,
    /// The case cannot be put to it faithfully (live mode's planned skips), with the reason.
    Skipped(String),
    /// It was asked and could not answer (an AWS error, the call cap), with the reason.
    Failed(String),
    /// The run's environment, not the case, kept it from answering (the sandbox account has
    /// no access to the model): what is wrong, and what to change.
    Environment { problem: String, remedy: String },
}

impl Answer {
    /// The answer of a per-case oracle.
    pub fn of(oracle: &(impl Oracle + ?Sized), case: &Case) -> Answer {
        match oracle.answer(case) {
            Some(expect) => Answer::Given {
                expect,
                from: oracle.kind(),
            },
            None => Answer::Unanswered(Unanswered::NoExpectation),
        }
    }

    pub fn expect(&self) -> Option<&Expect> {
        match self {
            Answer::Given { expect, .. } => Some(expect),
            Answer::Unanswered(_) => None,
        }
    }
}

/// A future an oracle hands back; boxed so that the trait stays object-safe.
pub type AnswersFuture<'a> = Pin<Box<dyn Future<Output = Vec<Answer>> + Send + 'a>>;

/// An oracle asked about many cases at once: batched and asynchronous where it needs to be.
pub trait BatchOracle: Sync {
    /// The name reports print (for an [`Oracle`], its [`Oracle::name`]).
    fn label(&self) -> &'static str;

    /// One answer per case, in the order of `cases`.
    fn answer_all<'a>(&'a self, cases: &'a [Case]) -> AnswersFuture<'a>;

    /// Why the oracle answers `case` as it does, in one line, when it can say
    /// ([`Oracle::reason`]); asked only about disagreements.
    fn reason(&self, _case: &Case) -> Option<String> {
        None
    }
}

impl<O: Oracle + ?Sized> BatchOracle for O {
    fn label(&self) -> &'static str {
        self.name()
    }

    fn answer_all<'a>(&'a self, cases: &'a [Case]) -> AnswersFuture<'a> {
        let answers = cases.iter().map(|c| Answer::of(self, c)).collect();
        Box::pin(std::future::ready(answers))
    }

    fn reason(&self, case: &Case) -> Option<String> {
        Oracle::reason(self, case)
    }
}

/// Whether `actual` gives every field `expected` gives, with the same value.
pub fn agree(expected: &Expect, actual: &Expect) -> bool {
    expected.matches(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_ones_reports_and_journals_have_always_used() {
        for (k, name) in [
            (OracleKind::LocalEvaluator, "local-evaluator"),
            (OracleKind::FixtureStore, "fixture-store"),
            (OracleKind::AwsSimulator, "simulator"),
            (OracleKind::AwsEnforcement, "enforcement"),
        ] {
            assert_eq!(k.to_string(), name);
            assert_eq!(serde_json::to_value(k).unwrap(), name);
            assert_eq!(
                serde_json::from_value::<OracleKind>(name.into()).unwrap(),
                k
            );
        }
        assert_eq!(Local.name(), "local-evaluator");
        assert_eq!(Fixtures.name(), "fixture-store");
    }
}
