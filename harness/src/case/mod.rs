//! The conformance case format (../shared/spec/case-format.md, version 1): one type for every
//! case, read from fixtures, `keyward eval` input and outside suites, and written back for shrunk
//! failures.

mod read;
mod write;

pub use read::{read_cases, read_file, CaseSource};

use keyward_iam::{DecisionKind, PolicySet, PolicyType, Request};
use serde_json::Value;
use std::fmt;

/// Where a case's expectation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    Documented,
    Article,
    Recorded,
    Generated,
}

impl Provenance {
    pub const ALL: [Provenance; 4] = [
        Provenance::Documented,
        Provenance::Article,
        Provenance::Recorded,
        Provenance::Generated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Documented => "documented",
            Provenance::Article => "article",
            Provenance::Recorded => "recorded",
            Provenance::Generated => "generated",
        }
    }

    pub fn parse(s: &str) -> Option<Provenance> {
        Provenance::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What AWS decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub decision: DecisionKind,
    pub by: Option<PolicyType>,
    pub message: Option<String>,
}

/// One authorization question, compiled and ready to evaluate, with the JSON it came from (so it
/// can be written back unchanged).
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub source: Option<String>,
    pub provenance: Option<Provenance>,
    pub note: Option<String>,
    pub policies: PolicySet,
    pub request: Request,
    pub expect: Option<Expect>,
    /// The `policies` and `request` members exactly as read (or as generated).
    pub raw_policies: Option<Value>,
    pub raw_request: Value,
}

/// The outcome of comparing a decision with `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: DecisionKind,
    pub by: Option<PolicyType>,
    pub message: Option<String>,
    /// `None` when the case has no expectation.
    pub agrees: Option<bool>,
}

impl Case {
    /// Evaluates with the local evaluator and compares with `expect`: the decision always, `by`
    /// and `message` where the case gives them.
    pub fn verdict(&self) -> Verdict {
        let d = keyward_iam::evaluate(&self.policies, &self.request);
        let message = d.message(&self.request, &self.policies);
        let agrees = self.expect.as_ref().map(|e| {
            e.decision == d.kind
                && e.by.is_none_or(|b| Some(b) == d.by)
                && e.message
                    .as_ref()
                    .is_none_or(|m| Some(m) == message.as_ref())
        });
        Verdict {
            decision: d.kind,
            by: d.by,
            message,
            agrees,
        }
    }
}

/// A case that cannot be read: the file, the case (id, or index when it has no id), the JSON path
/// inside the case, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    pub file: String,
    /// `None` for an error about the whole file.
    pub case: Option<String>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(c) = &self.case {
            write!(f, ": case {c}")?;
        }
        write!(f, ": {}: {}", self.path, self.message)
    }
}

impl std::error::Error for CaseError {}
