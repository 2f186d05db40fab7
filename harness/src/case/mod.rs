//! The conformance case format (docs/case-format.md, version 1): one type for every
//! case, read from fixtures, `keyward eval` input and outside suites, and written back for shrunk
//! failures.

mod json;
pub(crate) mod read;
mod scenario;
pub mod stream;
mod write;

pub(crate) use read::read_item;
pub use read::{read_cases, read_file, read_policies, CaseSource};

use keyward_bedrock::Outcome;
use keyward_bedrock::{Scenario, ScenarioResult};
use keyward_iam::{AssumptionId, DecisionKind, PolicySet, PolicyType, Request};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Where a case's expectation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// AWS's documentation (or official samples) says it; `source` is the page.
    Documented,
    /// The hands-on article observed it.
    Article,
    /// `keyward record` saw AWS answer it.
    Recorded,
    /// A generator made the case; no expectation from AWS.
    Generated,
    /// An AWS answer pasted verbatim in a public report (an issue thread, a committed run log);
    /// `source` is its URL.
    Observed,
}

impl Provenance {
    pub const ALL: [Provenance; 5] = [
        Provenance::Documented,
        Provenance::Article,
        Provenance::Recorded,
        Provenance::Generated,
        Provenance::Observed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Documented => "documented",
            Provenance::Article => "article",
            Provenance::Recorded => "recorded",
            Provenance::Generated => "generated",
            Provenance::Observed => "observed",
        }
    }

    pub fn parse(s: &str) -> Option<Provenance> {
        Provenance::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What AWS decides (and, for a scenario, what the caller sees). Each field given is compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// Required for request cases; optional for scenarios.
    pub decision: Option<DecisionKind>,
    pub by: Option<PolicyType>,
    pub message: Option<String>,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub body: Option<String>,
    pub side_effects: Option<Vec<String>>,
}

/// The question a case asks: one authorization request, or a key scenario.
#[derive(Debug, Clone)]
pub enum Query {
    Request(Request),
    Scenario(ScenarioCase),
}

/// A key scenario with its `scenario` member as written. The model keeps times as epoch seconds
/// and drops defaults, so a written-back case carries the user's spelling. (Policies and requests
/// are written back from their model: there is one model of a policy.)
#[derive(Debug, Clone)]
pub struct ScenarioCase {
    pub scenario: Scenario,
    pub written: Value,
}

impl std::ops::Deref for ScenarioCase {
    type Target = Scenario;

    fn deref(&self) -> &Scenario {
        &self.scenario
    }
}

/// One authorization question, compiled and ready to evaluate.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub source: Option<String>,
    pub provenance: Option<Provenance>,
    pub note: Option<String>,
    /// Shared: a transformed case copies the set only when it edits it ([`Arc::make_mut`]).
    pub policies: Arc<PolicySet>,
    pub query: Query,
    pub expect: Option<Expect>,
}

/// What the local evaluator answers for a case, compared with `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `None` only for a scenario whose key was rejected before any authorization.
    pub decision: Option<DecisionKind>,
    pub by: Option<PolicyType>,
    pub message: Option<String>,
    /// What the caller sees, for scenarios.
    pub outcome: Option<Outcome>,
    /// `None` when the case has no expectation.
    pub agrees: Option<bool>,
    /// The registered assumptions (keyward-iam's `A-...`, then keyward-bedrock's `B-...`) the
    /// answer rests on; empty when it rests on documented rules only.
    pub assumptions: Vec<&'static str>,
}

impl Case {
    /// The request of a request case.
    pub fn request(&self) -> Option<&Request> {
        match &self.query {
            Query::Request(r) => Some(r),
            Query::Scenario(_) => None,
        }
    }

    /// Runs the scenario of a scenario case.
    pub fn run_scenario(&self) -> Option<ScenarioResult> {
        match &self.query {
            Query::Scenario(s) => Some(s.run(&self.policies)),
            Query::Request(_) => None,
        }
    }

    /// Evaluates with the local evaluator and compares every field `expect` gives.
    pub fn verdict(&self) -> Verdict {
        let mut v = match &self.query {
            Query::Request(r) => {
                let d = keyward_iam::evaluate(&self.policies, r);
                let message = d.message(r, &self.policies);
                let mut rests_on = d.assumptions();
                if message.is_some() {
                    rests_on = rests_on.union(d.message_assumptions(&self.policies));
                }
                Verdict {
                    message,
                    decision: Some(d.kind),
                    by: d.by,
                    outcome: None,
                    agrees: None,
                    assumptions: rests_on.iter().map(AssumptionId::as_str).collect(),
                }
            }
            Query::Scenario(s) => {
                let res = s.run(&self.policies);
                let assumptions = res
                    .iam_assumptions(&self.policies)
                    .iter()
                    .map(AssumptionId::as_str)
                    .chain(res.assumptions.iter().copied())
                    .collect();
                Verdict {
                    decision: res.decision.as_ref().map(|d| d.kind),
                    by: res.decision.as_ref().and_then(|d| d.by),
                    message: res.message,
                    outcome: Some(res.outcome),
                    agrees: None,
                    assumptions,
                }
            }
        };
        v.agrees = self.expect.as_ref().map(|e| e.agrees_with(&v));
        v
    }
}

impl Expect {
    /// Whether an answer gives every field this expectation gives, with the same value.
    pub fn matches(&self, actual: &Expect) -> bool {
        fn same<T: PartialEq>(want: &Option<T>, got: &Option<T>) -> bool {
            want.is_none() || want == got
        }
        same(&self.decision, &actual.decision)
            && same(&self.by, &actual.by)
            && same(&self.message, &actual.message)
            && same(&self.status, &actual.status)
            && same(&self.code, &actual.code)
            && same(&self.body, &actual.body)
            && same(&self.side_effects, &actual.side_effects)
    }

    pub fn agrees_with(&self, v: &Verdict) -> bool {
        self.matches(&v.answer())
    }
}

impl Verdict {
    /// The verdict as an answer in the `expect` shape.
    pub fn answer(&self) -> Expect {
        let o = self.outcome.as_ref();
        Expect {
            decision: self.decision,
            by: self.by,
            message: self.message.clone(),
            status: o.map(|o| o.status),
            code: o.and_then(|o| o.code.map(|c| c.as_str().to_string())),
            body: o.map(|o| o.body.clone()),
            side_effects: o.map(Outcome::side_effect_texts),
        }
    }
}

impl Case {
    /// A request case of compiled policies and a request in the case format (e.g. a generated
    /// one): only the request is read.
    pub fn from_parts(
        id: &str,
        policies: Arc<PolicySet>,
        request: &Value,
    ) -> Result<Case, CaseError> {
        let request =
            read::parse_request(request).map_err(|json::Fail { path, message }| CaseError {
                file: "(generated)".into(),
                case: Some(id.to_string()),
                path,
                message,
            })?;
        Ok(Case {
            id: id.to_string(),
            source: None,
            provenance: Some(Provenance::Generated),
            note: None,
            policies,
            query: Query::Request(request),
            expect: None,
        })
    }

    /// Reads a case from its JSON (the case format), e.g. one built by a generator.
    pub fn from_json(v: &Value) -> Result<Case, CaseError> {
        read::parse_case(
            "(generated)",
            &keyward_iam::json::Json::from_value(v),
            CaseSource {
                index: 0,
                line: None,
            },
        )
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
