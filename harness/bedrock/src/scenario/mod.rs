//! Key scenarios: what a caller does with Bedrock API keys, expanded into the authorization
//! requests AWS makes and the outcome the caller sees. Format: docs/case-format.md.

mod call;
mod create_key;
mod rejection;

pub use call::{CallScenario, ContextEntry, Endpoint, KeySpec, Operation};
pub(crate) use create_key::user_arn;
pub use create_key::{CreateKeyScenario, Flow, LIMITED_ACCESS_POLICY};
pub use rejection::Rejection;

use keyward_iam::{evaluate, Assumptions, Decision, DecisionKind, PolicySet, PolicyType, Request};

use crate::outcome::Outcome;
pub(crate) use keyward_iam::principal_context;

/// What a caller does with Bedrock API keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// A Bedrock runtime call made with a key.
    Call(CallScenario),
    /// A key (service-specific credential) created.
    CreateKey(CreateKeyScenario),
}

/// One authorization request of a scenario and what the evaluator decided.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Step {
    /// The request AWS authorizes.
    pub request: Request,
    /// What the policies decide for it.
    pub decision: Decision,
}

/// A scenario run against a set of policies.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScenarioResult {
    /// The requests evaluated, in order; evaluation stops at the first that is not allowed.
    pub steps: Vec<Step>,
    /// The first denied request's decision, or the last allowed one's; `None` when the key was
    /// rejected before any authorization.
    pub decision: Option<Decision>,
    /// AWS's access-denied message for the denied request.
    pub message: Option<String>,
    /// What the caller sees.
    pub outcome: Outcome,
    /// The Bedrock-key assumptions ([`crate::ASSUMPTIONS`]) the outcome rests on: those whose
    /// other reading would change it, and those that fix the form of what the caller sees. The
    /// IAM assumptions are [`ScenarioResult::iam_assumptions`].
    pub assumptions: Vec<&'static str>,
    /// Why the scenario was refused when no policy decided it: the key rejected before any
    /// authorization request, or a key creation IAM refuses for its age, user, service or quota.
    /// `None` when the outcome is the requests' decisions' (allowed, or denied by a policy).
    pub rejection: Option<Rejection>,
    /// For a call through a system inference profile, what the call meets when routed to each
    /// destination Region, in the order of [`CallScenario::destination_regions`]; empty for
    /// every other scenario. The outcome is allowed only when every route is; otherwise it is
    /// the denial of the first route denied (AWS authorizes the foundation model in each
    /// destination Region: docs/aws-behaviour.md).
    pub routes: Vec<Route>,
}

/// What a call through a system inference profile meets when AWS routes it to one destination
/// Region: the first request not allowed among the key's, the profile's, the foundation
/// model's in the call's Region and the foundation model's in the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The destination Region.
    pub region: String,
    /// `Allow` when every one of those requests is allowed, else the first denial's kind.
    pub decision: DecisionKind,
    /// The policy type that decided the first denial, when one did.
    pub by: Option<PolicyType>,
}

impl ScenarioResult {
    fn rejected(outcome: Outcome, rejection: Rejection) -> ScenarioResult {
        ScenarioResult {
            steps: Vec::new(),
            decision: None,
            message: None,
            outcome,
            assumptions: Vec::new(),
            rejection: Some(rejection),
            routes: Vec::new(),
        }
    }

    /// The routes in one line, e.g. `allowed when routed to us-east-1, denied when routed to
    /// us-east-2`; `None` when the scenario has no routes.
    pub fn routes_text(&self) -> Option<String> {
        if self.routes.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .routes
            .iter()
            .map(|r| {
                let word = if r.decision == DecisionKind::Allow {
                    "allowed"
                } else {
                    "denied"
                };
                format!("{word} when routed to {}", r.region)
            })
            .collect();
        Some(parts.join(", "))
    }

    /// The IAM assumptions the outcome rests on: those of every request evaluated (each one's
    /// decision is part of the outcome), and those of the denied request's message.
    pub fn iam_assumptions(&self, set: &PolicySet) -> Assumptions {
        self.steps
            .iter()
            .fold(Assumptions::NONE, |a, s| a.union(s.decision.assumptions()))
            .union(self.iam_message_assumptions(set))
    }

    /// The IAM assumptions the denied request's message (and the body carrying it) rests on.
    pub fn iam_message_assumptions(&self, set: &PolicySet) -> Assumptions {
        // Evaluation stops at the denied request: the last one.
        match (&self.decision, &self.message, self.steps.last()) {
            (Some(d), Some(_), Some(last)) => d.message_assumptions(&last.request, set),
            _ => Assumptions::NONE,
        }
    }
}

/// Which request of a run is denied, how, and the message the caller reads: what the outcome
/// turns on.
fn denial(
    set: &PolicySet,
    steps: &[Step],
    denied: Option<usize>,
) -> Option<(usize, DecisionKind, Option<PolicyType>, Option<String>)> {
    let i = denied?;
    let s = steps.get(i)?;
    let d = &s.decision;
    Some((i, d.kind, d.by, d.message(&s.request, set)))
}

/// Whether authorizing `other` instead changes which request is denied, how, or its message.
fn denial_changes(
    set: &PolicySet,
    steps: &[Step],
    denied: Option<usize>,
    other: Vec<Request>,
) -> bool {
    let mut other_steps = Vec::new();
    let other_denied = authorize(set, other, &mut other_steps);
    denial(set, steps, denied) != denial(set, &other_steps, other_denied)
}

impl Scenario {
    /// Expands the scenario into its requests, evaluates them against `set` in order, and
    /// predicts what the caller sees.
    pub fn run(&self, set: &PolicySet) -> ScenarioResult {
        match self {
            Scenario::Call(c) => c.run(set),
            Scenario::CreateKey(c) => c.run(set),
        }
    }
}

/// Evaluates requests in order until one is not allowed. Returns the index of the denied one.
fn authorize(set: &PolicySet, requests: Vec<Request>, steps: &mut Vec<Step>) -> Option<usize> {
    for request in requests {
        let decision = evaluate(set, &request);
        let denied = decision.kind != DecisionKind::Allow;
        steps.push(Step { request, decision });
        if denied {
            return Some(steps.len() - 1);
        }
    }
    None
}

/// Seconds since the epoch from ISO 8601 or epoch-seconds text, read as the IAM evaluator reads
/// dates; the times of a scenario (`at`, `issued_at`, `expires_at`) are given this way.
///
/// ```
/// assert_eq!(keyward_bedrock::parse_time("1970-01-01T00:01:00Z"), Some(60));
/// assert_eq!(keyward_bedrock::parse_time("later"), None);
/// ```
pub fn parse_time(s: &str) -> Option<i64> {
    keyward_iam::parse_date(s).map(|n| n.div_euclid(1_000_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(p: &str) -> Vec<(&'static str, String)> {
        principal_context(p)
            .into_iter()
            .map(|(k, v)| (k, v.values()[0].clone()))
            .collect()
    }

    #[test]
    fn role_sessions_and_users() {
        let s = ctx("arn:aws:sts::123456789012:assumed-role/dev/alice");
        assert!(s.contains(&(
            "aws:PrincipalArn",
            "arn:aws:iam::123456789012:role/dev".into()
        )));
        assert!(s.contains(&("aws:PrincipalType", "AssumedRole".into())));
        assert!(!s.iter().any(|(k, _)| *k == "aws:username"));
        let u = ctx("arn:aws:iam::123456789012:user/team/bob");
        assert!(u.contains(&("aws:username", "bob".into())));
        assert!(u.contains(&("aws:PrincipalAccount", "123456789012".into())));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_time("60"), Some(60));
        assert_eq!(parse_time("later"), None);
    }
}
