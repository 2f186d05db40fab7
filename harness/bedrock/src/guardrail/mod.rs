//! What a set of policies lets through, over the whole Bedrock-key domain: which keys can be
//! used (token type × endpoint), which long-term keys can be created (service × age, and the
//! key that never expires), which other condition keys change an answer, and the loopholes
//! (lints). Format of the answers a caller prints: docs/cli.md, "keyward guardrail".
//!
//! Exact by partition: the constants the policies compare the age with split 1..=36600 into
//! classes on which every condition on the age holds or fails alike, so one representative of
//! each class is evaluated with the real evaluator (module `ages`). The requests are the ones the
//! scenarios expand into ([`CallScenario::bearer_request`], [`CreateKeyScenario::create_request`]),
//! so an analysis and a scenario never disagree.

mod ages;
mod depends;
mod lint;

use std::ops::RangeInclusive;

use keyward_iam::{
    evaluate, Assumptions, ContextValue, Decision, DecisionKind, PolicySet, PolicyType, Request,
    StatementRef,
};

pub use lint::{Lint, LintId};

use ages::Classes;

use crate::credential::{AgeDays, ServiceName, UserName, SUPPORTED_SERVICES};
use crate::scenario::{CallScenario, CreateKeyScenario, Endpoint, Flow, Operation};
use crate::token::TokenType;

/// Who uses and creates the keys, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The principal that uses short-term keys and calls CreateServiceSpecificCredential.
    pub principal: String,
    /// The IAM user a long-term key is created for, and who uses it: a long-term key
    /// authenticates as its user.
    pub user: UserName,
    /// The Region the keys are used in.
    pub region: String,
}

impl Subject {
    /// The principal when none is given.
    pub const DEFAULT_PRINCIPAL: &'static str = "arn:aws:sts::123456789012:assumed-role/dev/alice";
    /// The user when none is given (the console names its users `BedrockAPIKey-…`).
    pub const DEFAULT_USER: &'static str = "BedrockAPIKey-example";
    /// The Region when none is given.
    pub const DEFAULT_REGION: &'static str = "us-east-1";

    /// The ARN of [`Subject::user`], in the principal's account (123456789012 when the
    /// principal names none, as the scenarios do).
    pub fn user_arn(&self) -> String {
        crate::scenario::user_arn(&self.principal, &self.user)
    }

    /// Who makes a call with a key of this type.
    fn caller(&self, token_type: TokenType) -> String {
        match token_type {
            TokenType::ShortTerm => self.principal.clone(),
            TokenType::LongTerm => self.user_arn(),
        }
    }
}

impl Default for Subject {
    fn default() -> Self {
        Subject {
            principal: Subject::DEFAULT_PRINCIPAL.into(),
            user: UserName::new(Subject::DEFAULT_USER).expect("a valid user name"),
            region: Subject::DEFAULT_REGION.into(),
        }
    }
}

/// What the policies answer one request of the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Allow, explicit deny or implicit deny.
    pub decision: DecisionKind,
    /// The policy type that denied (explicitly), or that lacked an Allow (implicitly).
    pub by: Option<PolicyType>,
    /// AWS's access-denied message, as the scenario's caller reads it.
    pub message: Option<String>,
    /// For an explicit deny, the Deny statement that decided: the first one of type `by` that
    /// applied, in evaluation order.
    pub statement: Option<StatementRef>,
    /// The registered assumptions the answer rests on: the evaluator's (`A-`, the decision's
    /// and its message's), and B-AGEDAYS-ABSENT for a key that never expires whose answer a
    /// present age key would change.
    pub assumptions: Vec<&'static str>,
}

impl Answer {
    fn of(decision: &Decision, message: Option<String>, message_rests_on: Assumptions) -> Answer {
        let statement = decision.deciding_deny().cloned();
        let assumptions = decision
            .assumptions()
            .union(message_rests_on)
            .iter()
            .map(|a| a.as_str())
            .collect();
        Answer {
            decision: decision.kind,
            by: decision.by,
            message,
            statement,
            assumptions,
        }
    }

    /// Whether the caller would see the same: decision, `by` and message (what the scenarios
    /// compare to tell whether an outcome rests on an assumption).
    fn same_denial(&self, other: &Answer) -> bool {
        (self.decision, self.by, &self.message) == (other.decision, other.by, &other.message)
    }

    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.decision == DecisionKind::Allow
    }
}

/// The decision on the key's own authorization for one token type and endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseRow {
    /// The key's type.
    pub token_type: TokenType,
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// What the policies answer `CallWithBearerToken`.
    pub answer: Answer,
}

/// The decision on creating keys for one service over a maximal range of ages (or for the key
/// that never expires).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRow {
    /// The service the credential is for.
    pub service: ServiceName,
    /// The ages in days, both ends included; `None` for a key that never expires (no
    /// `CredentialAgeDays`).
    pub ages: Option<RangeInclusive<u32>>,
    /// What the policies answer `CreateServiceSpecificCredential`.
    pub answer: Answer,
}

/// A condition key, other than the domain's own, whose value changes some answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The key as first written in the policies.
    pub key: String,
    /// The values the policies compare it with (thresholds, for numbers and dates), then
    /// [`Dependency::OTHER`], then [`Dependency::ABSENT`] when a request without the key answers
    /// otherwise than one with an unlisted value.
    pub values: Vec<String>,
}

impl Dependency {
    /// Stands for every value equal to none of the listed ones.
    pub const OTHER: &'static str = "other";
    /// Stands for a request without the key.
    pub const ABSENT: &'static str = "absent";
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Who and where.
    pub subject: Subject,
    /// Using a key: SHORT_TERM then LONG_TERM, bedrock-runtime then bedrock-mantle.
    pub uses: Vec<UseRow>,
    /// Creating a key: per service (in [`SUPPORTED_SERVICES`] order), the ages 1..=36600 in
    /// ascending maximal ranges, then the key that never expires.
    pub creates: Vec<CreateRow>,
    /// The other condition keys that change some answer, each varied alone.
    pub depends_on: Vec<Dependency>,
    /// What looks wrong, in the order the lints run.
    pub lints: Vec<Lint>,
}

impl Analysis {
    /// The create rows of each service in turn (each slice: the ranges, then the key that
    /// never expires).
    pub fn creates_by_service(&self) -> impl Iterator<Item = &[CreateRow]> {
        self.creates.chunk_by(|a, b| a.service == b.service)
    }
}

/// Whether the statement's Action or NotAction lets it apply to `action` (on any resource).
fn reaches(s: &keyward_iam::Statement, action: &str) -> bool {
    s.action()
        .matches(&Request::new("arn:aws:iam::123456789012:root", action, "*"))
}

/// Every token type, in the order of the answers.
pub const TOKEN_TYPES: [TokenType; 2] = [TokenType::ShortTerm, TokenType::LongTerm];

/// The requests of the domain, built once per analysis; a [`Variation`] edits copies of them.
struct Domain {
    /// Per token type and endpoint: the CallWithBearerToken request.
    uses: Vec<(TokenType, Endpoint, Request)>,
    /// Per service: the scenario and its CreateServiceSpecificCredential request without an
    /// age (the key that never expires).
    creates: Vec<(CreateKeyScenario, Request)>,
}

impl Domain {
    fn new(subject: &Subject) -> Domain {
        let mut uses = Vec::new();
        for token_type in TOKEN_TYPES {
            for endpoint in Endpoint::ALL {
                let call = CallScenario {
                    operation: Operation::Converse,
                    key: crate::scenario::KeySpec::Absent,
                    model: String::new(),
                    region: subject.region.clone(),
                    endpoint,
                    at: None,
                    context: Vec::new(),
                    destinations: None,
                };
                let request = call.bearer_request(&subject.caller(token_type), token_type);
                uses.push((token_type, endpoint, request));
            }
        }
        let creates = SUPPORTED_SERVICES
            .iter()
            .map(|s| {
                let scenario = CreateKeyScenario {
                    caller: subject.principal.clone(),
                    user: subject.user.clone(),
                    service: ServiceName::new(s).expect("a supported service is a valid name"),
                    age_days: None,
                    flow: Flow::Api,
                    existing_keys: 0,
                    user_exists: true,
                };
                let request = scenario.create_request();
                (scenario, request)
            })
            .collect();
        Domain { uses, creates }
    }
}

/// One context key set to another value (or removed) in every request of the domain.
#[derive(Debug, Clone, Copy)]
struct Variation<'a> {
    key: &'a str,
    value: Option<&'a str>,
}

fn vary(request: &Request, variation: Option<Variation<'_>>) -> Request {
    let mut r = request.clone();
    if let Some(v) = variation {
        match v.value {
            Some(x) => r.context.insert(v.key, ContextValue::single(x)),
            None => {
                r.context.remove(v.key);
            }
        }
    }
    r
}

/// The answers of one run over the domain: per use request, and per service one per age class
/// and one for the key that never expires.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answers {
    uses: Vec<Answer>,
    creates: Vec<(ages::ByAge, Answer)>,
}

fn message_rests_on(
    d: &Decision,
    message: &Option<String>,
    request: &Request,
    set: &PolicySet,
) -> Assumptions {
    match message {
        Some(_) => d.message_assumptions(request, set),
        None => Assumptions::NONE,
    }
}

fn answer_use(set: &PolicySet, request: &Request) -> Answer {
    let d = evaluate(set, request);
    let message = d.message(request, set);
    let rests = message_rests_on(&d, &message, request, set);
    Answer::of(&d, message, rests)
}

fn answer_create(set: &PolicySet, scenario: &CreateKeyScenario, request: &Request) -> Answer {
    let d = evaluate(set, request);
    let message = scenario.denial_message(&d, request, set);
    let rests = message_rests_on(&d, &message, request, set);
    Answer::of(&d, message, rests)
}

/// The request for a key of `age` days: the never-expiring request with the age key added, as
/// [`CreateKeyScenario::create_request`] adds it.
fn with_age(request: &Request, age: u32) -> Request {
    let mut r = request.clone();
    r.context
        .insert(ages::AGE_KEY, ContextValue::single(age.to_string()));
    r
}

fn answers(
    set: &PolicySet,
    domain: &Domain,
    classes: &Classes,
    variation: Option<Variation<'_>>,
) -> Answers {
    let uses = domain
        .uses
        .iter()
        .map(|(_, _, r)| answer_use(set, &vary(r, variation)))
        .collect();
    // IAM requests carry aws:RequestedRegion us-east-1 whatever Region keys are used in
    // (assumption B-IAM-REGION), so that key is not varied on them.
    let iam_variation = variation.filter(|v| !v.key.eq_ignore_ascii_case("aws:RequestedRegion"));
    let creates = domain
        .creates
        .iter()
        .map(|(scenario, r)| {
            let base = vary(r, iam_variation);
            let per_class = ages::by_age(set, classes, &base, |r| answer_create(set, scenario, r));
            let mut never = answer_create(set, scenario, &base);
            // The other reading of B-AGEDAYS-ABSENT: the request carries the largest age.
            let carried = answer_create(set, scenario, &with_age(&base, MAX_AGE));
            if !never.same_denial(&carried) {
                never
                    .assumptions
                    .push(crate::assumptions::ids::AGEDAYS_ABSENT);
            }
            (per_class, never)
        })
        .collect();
    Answers { uses, creates }
}

/// Analyses `set` for `subject`: see the module's documentation.
pub fn analyze(set: &PolicySet, subject: &Subject) -> Analysis {
    let domain = Domain::new(subject);
    let classes = ages::classes(set);
    let (mut analysis, base) = answer_rows(set, subject, &domain, &classes);
    analysis.depends_on =
        depends::dependencies(set, &base, |v| answers(set, &domain, &classes, Some(v)));
    analysis.lints = lint::lints(set, &analysis);
    analysis
}

/// The lints of [`analyze`] alone, for a caller that only warns (`keyward eval`, `check`,
/// `explain`): the same findings, without the search for the other keys that change an answer
/// ([`Analysis::depends_on`]), which is most of an analysis's cost.
pub fn lints(set: &PolicySet, subject: &Subject) -> Vec<Lint> {
    let domain = Domain::new(subject);
    let classes = ages::classes(set);
    let (analysis, _) = answer_rows(set, subject, &domain, &classes);
    lint::lints(set, &analysis)
}

/// The use and create rows of the analysis (no `depends_on`, no lints yet), and the answers
/// they were made from.
fn answer_rows(
    set: &PolicySet,
    subject: &Subject,
    domain: &Domain,
    classes: &Classes,
) -> (Analysis, Answers) {
    let base = answers(set, domain, classes, None);
    let uses = domain
        .uses
        .iter()
        .zip(&base.uses)
        .map(|((token_type, endpoint, _), answer)| UseRow {
            token_type: *token_type,
            endpoint: *endpoint,
            answer: answer.clone(),
        })
        .collect();
    let mut creates = Vec::new();
    for ((scenario, _), (per_class, never)) in domain.creates.iter().zip(&base.creates) {
        creates.extend(per_class.iter().map(|(ages, answer)| CreateRow {
            service: scenario.service.clone(),
            ages: Some(ages.clone()),
            answer: answer.clone(),
        }));
        creates.push(CreateRow {
            service: scenario.service.clone(),
            ages: None,
            answer: never.clone(),
        });
    }
    let analysis = Analysis {
        subject: subject.clone(),
        uses,
        creates,
        depends_on: Vec::new(),
        lints: Vec::new(),
    };
    (analysis, base)
}

/// The largest age IAM takes.
pub const MAX_AGE: u32 = AgeDays::MAX.get() as u32;
