//! The conformance case format (docs/case-format.md, version 1): one type for every
//! case, read from fixtures, `keyward eval` input and outside suites, and written back for shrunk
//! failures.

mod json;
pub(crate) mod read;
mod scenario;
pub mod span;
pub mod stream;
mod write;

pub(crate) use read::read_item;
pub use read::{
    read_cases, read_cases_with, read_file, read_policies, read_policies_file, CaseSource, Reader,
};

use crate::reason::Reason;
use keyward_bedrock::Outcome;
use keyward_bedrock::{Scenario, ScenarioResult};
use keyward_iam::{
    message_is_incomplete, messages_agree, AssumptionId, Assumptions, DecisionKind, MessageForm,
    PolicySet, PolicyType, Request,
};
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
    /// Written by hand by a user testing their own policies: what they expect, not AWS's
    /// answer (docs/testing-guardrails.md).
    Authored,
}

impl Provenance {
    pub const ALL: [Provenance; 6] = [
        Provenance::Documented,
        Provenance::Article,
        Provenance::Recorded,
        Provenance::Generated,
        Provenance::Observed,
        Provenance::Authored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Documented => "documented",
            Provenance::Article => "article",
            Provenance::Recorded => "recorded",
            Provenance::Generated => "generated",
            Provenance::Observed => "observed",
            Provenance::Authored => "authored",
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
    /// The registered assumptions the expected outcome rests on, as the case names them (`A-...`,
    /// `B-...`). Not part of AWS's answer: `check` requires a `documented` case to name every
    /// assumption keyward's answer to the fields it expects rests on ([`Case::assumption_gap`]).
    pub assumptions: Option<Vec<String>>,
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
    /// Read from a suite: a request's context then holds the keys AWS sets for the principal
    /// unless the case kept them out ([`keyward_iam::principal_context`]).
    pub in_suite: bool,
    /// Where the case sits in its file; `None` for a case built in memory.
    pub place: Option<CasePlace>,
}

/// Where a case (or the item holding it) sits in its file: for JSON Lines, its line; and its JSON
/// path from the root of that line or of the file (`$`, `$[3]`, `$.cases[2]`). What
/// [`crate::locate`] turns into a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePlace {
    pub line: Option<usize>,
    pub path: String,
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
    /// Those of `assumptions` that only the wording of the message (and of a scenario's body)
    /// rests on: not the decision, status, code or side effects.
    pub message_assumptions: Vec<&'static str>,
    /// The service's form the message is in; `None` without a message.
    pub message_form: Option<MessageForm>,
    /// Whether the message is AWS's whole text: not when the case gave an SCP, RCP or
    /// permissions boundary that denies without its ARN ([`keyward_iam::ARN_NOT_GIVEN`]).
    pub message_complete: bool,
    /// Why: the deciding statement, the type that lacked an Allow, or why a key scenario was
    /// refused. Its text is [`Reason::text`] against the case's policies.
    pub reason: Reason,
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
                let rests_on = d.assumptions();
                let wording = match &message {
                    Some(_) => d.message_assumptions(r, &self.policies),
                    None => Assumptions::NONE,
                };
                Verdict {
                    reason: Reason::of_request(&self.policies, &d),
                    message_form: message.as_ref().map(|_| MessageForm::of(r)),
                    message_complete: !message.as_deref().is_some_and(message_is_incomplete),
                    message,
                    decision: Some(d.kind),
                    by: d.by,
                    outcome: None,
                    agrees: None,
                    assumptions: rests_on
                        .union(wording)
                        .iter()
                        .map(AssumptionId::as_str)
                        .collect(),
                    message_assumptions: wording
                        .iter()
                        .filter(|a| !rests_on.contains(*a))
                        .map(AssumptionId::as_str)
                        .collect(),
                }
            }
            Query::Scenario(s) => {
                let res = s.run(&self.policies);
                // Evaluation stops at the denied request: the last one.
                let denied = res.steps.last().filter(|_| res.message.is_some());
                let iam = res.iam_assumptions(&self.policies);
                let assumptions: Vec<&'static str> = iam
                    .iter()
                    .map(AssumptionId::as_str)
                    .chain(res.assumptions.iter().copied())
                    .collect();
                // What only words the message and body: the message's IAM assumptions that no
                // decision rests on, and the Bedrock ones that fix words only.
                let decided = res
                    .steps
                    .iter()
                    .fold(Assumptions::NONE, |a, s| a.union(s.decision.assumptions()));
                let message_assumptions = res
                    .iam_message_assumptions(&self.policies)
                    .iter()
                    .filter(|a| !decided.contains(*a))
                    .map(AssumptionId::as_str)
                    .chain(
                        res.assumptions
                            .iter()
                            .copied()
                            .filter(|a| keyward_bedrock::WORDING_ONLY.contains(a)),
                    )
                    .collect();
                Verdict {
                    reason: Reason::of_scenario(&self.policies, &res),
                    decision: res.decision.as_ref().map(|d| d.kind),
                    by: res.decision.as_ref().and_then(|d| d.by),
                    message_form: denied.map(|s| MessageForm::of(&s.request)),
                    message_complete: !res.message.as_deref().is_some_and(message_is_incomplete),
                    message: res.message,
                    outcome: Some(res.outcome),
                    agrees: None,
                    assumptions,
                    message_assumptions,
                }
            }
        };
        v.agrees = self.expect.as_ref().map(|e| e.agrees_with(&v));
        v
    }
}

impl Case {
    /// The keys AWS sets on every request of the principal (aws:PrincipalArn and the others of
    /// [`keyward_iam::principal_context`]) that the policies test, or read through a variable,
    /// and that a request case outside a suite leaves out of its context: its answer may then
    /// not be AWS's. Empty for scenarios and suite cases, which get them.
    pub fn unset_principal_keys(&self) -> Vec<&'static str> {
        let Query::Request(r) = &self.query else {
            return Vec::new();
        };
        if self.in_suite {
            return Vec::new();
        }
        let tested = |key: &str| {
            self.policies
                .conditions()
                .any(|c| c.key().eq_ignore_ascii_case(key))
                || self
                    .policies
                    .variables()
                    .any(|v| v.eq_ignore_ascii_case(key))
        };
        keyward_iam::principal_context(r.principal())
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| r.context.get(k).is_none() && tested(k))
            .collect()
    }
}

/// Where the assumptions a case names differ from those keyward's answer rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumptionGap {
    /// Assumptions the answer rests on that the case does not name.
    pub unnamed: Vec<&'static str>,
    /// Assumptions the case names that the answer does not rest on.
    pub not_rested_on: Vec<String>,
}

impl fmt::Display for AssumptionGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.unnamed.is_empty() {
            write!(
                f,
                "rests on {}, which expect.assumptions does not name",
                self.unnamed.join(", ")
            )?;
        }
        if !self.not_rested_on.is_empty() {
            if !self.unnamed.is_empty() {
                f.write_str("; ")?;
            }
            write!(
                f,
                "expect.assumptions names {}, on which keyward's answer does not rest",
                self.not_rested_on.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Case {
    /// The assumptions keyward's answer to the fields `expect` gives rests on: those that only
    /// word the message count only when a message (or a body, which carries it) is expected.
    pub fn assumptions_for_expect(&self, v: &Verdict) -> Vec<&'static str> {
        let message_expected = self
            .expect
            .as_ref()
            .is_some_and(|e| e.message.is_some() || e.body.is_some());
        v.assumptions
            .iter()
            .filter(|a| message_expected || !v.message_assumptions.contains(a))
            .copied()
            .collect()
    }

    /// How the assumptions the case names (`expect.assumptions`) differ from those keyward's
    /// answer rests on. A `documented` case that names none names the empty list: "documented"
    /// means that nothing it expects rests on keyward's choices. `None` when they are the same,
    /// or when a case of another provenance names none.
    pub fn assumption_gap(&self, v: &Verdict) -> Option<AssumptionGap> {
        let e = self.expect.as_ref()?;
        let named: &[String] = match &e.assumptions {
            Some(named) => named,
            None if self.provenance == Some(Provenance::Documented) => &[],
            None => return None,
        };
        let rests_on = self.assumptions_for_expect(v);
        let gap = AssumptionGap {
            unnamed: v
                .assumptions
                .iter()
                .copied()
                .filter(|a| rests_on.contains(a) && !named.iter().any(|n| n == a))
                .collect(),
            not_rested_on: named
                .iter()
                .filter(|n| !rests_on.contains(&n.as_str()))
                .cloned()
                .collect(),
        };
        (!gap.unnamed.is_empty() || !gap.not_rested_on.is_empty()).then_some(gap)
    }

    /// What makes the case's provenance claim more than keyward's answer supports, one phrase
    /// each: assumptions it does not name ([`Case::assumption_gap`]), and, for a `documented`
    /// case that expects a message, a message keyward can only give incomplete (a denying SCP,
    /// RCP or permissions boundary given without its ARN).
    pub fn provenance_problems(&self, v: &Verdict) -> Vec<String> {
        let mut problems: Vec<String> = self
            .assumption_gap(v)
            .map(|g| g.to_string())
            .into_iter()
            .collect();
        let expects_message = self.expect.as_ref().is_some_and(|e| e.message.is_some());
        if expects_message && !v.message_complete && self.provenance == Some(Provenance::Documented)
        {
            problems.push(format!(
                "expects a message for a deny by {}, which the case gives without its ARN: give the policy as {{\"name\", \"arn\", \"document\"}}",
                v.by.map_or("a policy", |b| b.aws_phrase())
            ));
        }
        problems
    }
}

impl Expect {
    /// Whether an answer gives every field this expectation gives, with the same value.
    pub fn matches(&self, actual: &Expect) -> bool {
        fn same<T: PartialEq>(want: &Option<T>, got: &Option<T>) -> bool {
            want.is_none() || want == got
        }
        // Messages (and the bodies that carry them) may hold placeholders for what only AWS
        // knows: compared by `messages_agree`, never as exact text.
        fn agree(want: &Option<String>, got: &Option<String>) -> bool {
            match (want, got) {
                (None, _) => true,
                (Some(want), Some(got)) => messages_agree(want, got),
                (Some(_), None) => false,
            }
        }
        same(&self.decision, &actual.decision)
            && same(&self.by, &actual.by)
            && agree(&self.message, &actual.message)
            && same(&self.status, &actual.status)
            && same(&self.code, &actual.code)
            && agree(&self.body, &actual.body)
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
            assumptions: None,
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
                place: None,
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
            in_suite: false,
            place: None,
        })
    }

    /// Reads a case from its JSON (the case format), e.g. one built by a generator.
    pub fn from_json(v: &Value) -> Result<Case, CaseError> {
        let reader = Reader::default();
        read::parse_case(
            "(generated)",
            &keyward_iam::json::Json::from_value(v),
            CaseSource {
                index: 0,
                line: None,
                array: false,
            },
            None,
            read::Ctx::new("(generated)", &reader),
        )
    }
}

/// A case that cannot be read: the file, the case (id, or index when it has no id), the JSON path
/// inside the case, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    /// Where the item whose root `path` starts from sits in `file`, when it is known.
    pub place: Option<Box<CasePlace>>,
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
