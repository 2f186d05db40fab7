//! Oracles: anything that answers a case. Every oracle speaks the case format's `expect` shape
//! ([`Expect`]), so comparing two of them is comparing the fields both give.

use std::fmt;

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
