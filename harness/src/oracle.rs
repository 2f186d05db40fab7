//! Oracles: anything that answers a case. Every oracle speaks the case format's `expect` shape
//! ([`Expect`]), so comparing two of them is comparing the fields both give.

use crate::case::{Case, Expect};

pub trait Oracle: Sync {
    fn name(&self) -> &'static str;
    /// The oracle's answer, or `None` when it has none for this case.
    fn answer(&self, case: &Case) -> Option<Expect>;
}

/// The local evaluator (keyward-iam and keyward-bedrock).
pub struct Local;

impl Oracle for Local {
    fn name(&self) -> &'static str {
        "local-evaluator"
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        Some(case.verdict().answer())
    }
}

/// The fixture store: the recorded answer of a known case.
pub struct Fixtures;

impl Oracle for Fixtures {
    fn name(&self) -> &'static str {
        "fixture-store"
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        case.expect.clone()
    }
}

/// Whether `actual` gives every field `expected` gives, with the same value.
pub fn agree(expected: &Expect, actual: &Expect) -> bool {
    expected.matches(actual)
}
