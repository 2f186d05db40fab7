//! Why a request got its decision: every policy, statement and condition, and what each did.
//! Evaluation itself never builds this (it is on the hot path); `explain` walks the same
//! primitives and records what they answered.

use std::fmt;

use crate::assumptions::Assumptions;
use crate::condition::{Condition, SetQualifier};
use crate::eval::{evaluate, Decision, DecisionKind, PolicySet};
use crate::message::{message_is_incomplete, MessageForm, ARN_NOT_GIVEN};
use crate::policy::{Effect, PolicyType, PrincipalMatch, Statement};
use crate::request::Request;

/// The decision with everything that led to it; `Display` renders the text `keyward explain`
/// prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The decision, as [`evaluate`] gives it.
    pub decision: Decision,
    /// AWS's access-denied message; `None` for an allow.
    pub message: Option<String>,
    /// The form of the service that answers the request ([`MessageForm::of`]).
    pub message_form: MessageForm,
    /// Every policy of the set, in evaluation order.
    pub policies: Vec<PolicyExplanation>,
    /// One line on how the decision follows from the statements.
    pub reasoning: String,
    /// The assumptions the decision and its message rest on
    /// ([`Decision::assumptions`] and [`Decision::message_assumptions`]).
    pub assumptions: Assumptions,
}

/// What each statement of one policy did.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyExplanation {
    /// The policy's type.
    pub policy_type: PolicyType,
    /// The organization level, for SCPs and RCPs.
    pub level: Option<usize>,
    /// The policy's index among the policies of its type (and level).
    pub index: usize,
    /// The policy's name, if it has one.
    pub name: Option<String>,
    /// The managed policy's ARN, if it has one.
    pub arn: Option<String>,
    /// Every statement, in document order.
    pub statements: Vec<StatementExplanation>,
}

/// How a statement's Principal element named the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalCheck {
    /// Not a resource-based policy: only those name principals, so nothing was checked.
    NotChecked,
    /// The Principal (or NotPrincipal) does not name the caller: the statement does not apply.
    NotNamed,
    /// The caller is named, this way.
    Named(PrincipalMatch),
    /// A Deny with `NotPrincipal`, and the caller has a permissions boundary: the statement
    /// applies whatever `NotPrincipal` names.
    BoundaryOverridesNotPrincipal,
}

/// What one statement did.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementExplanation {
    /// The statement's index in the policy.
    pub index: usize,
    /// The statement's Sid, if it has one.
    pub sid: Option<String>,
    /// The statement's effect.
    pub effect: Effect,
    /// For resource-based policies: how the Principal names the caller.
    pub principal: PrincipalCheck,
    /// Whether Action/NotAction let the statement apply, and which listed entry matched the
    /// request (for NotAction, the entry that excluded it).
    pub action: ElementMatch,
    /// The same for Resource/NotResource (a statement without one matches every resource).
    pub resource: ElementMatch,
    /// Every condition, in document order.
    pub conditions: Vec<ConditionExplanation>,
    /// Whether the statement applies to the request.
    pub applies: bool,
}

impl StatementExplanation {
    /// Whether the statement names the request (its Principal, where it has one, names the
    /// caller; its Action and Resource match) but does not apply because a condition is false:
    /// the statements a brief explanation shows beside those that apply.
    pub fn blocked_by_condition(&self) -> bool {
        !self.applies
            && self.principal != PrincipalCheck::NotNamed
            && self.action.matched
            && self.resource.matched
            && self.conditions.iter().any(|c| !c.holds)
    }

    /// The conditions that are false, in document order.
    pub fn failed_conditions(&self) -> impl Iterator<Item = &ConditionExplanation> {
        self.conditions.iter().filter(|c| !c.holds)
    }
}

impl ConditionExplanation {
    /// One line: the operator, key and policy values, and the request's values (`missing`
    /// when the request has no such key), e.g. `StringEquals aws:RequestedRegion
    /// ["us-east-1"] is false (request: ["eu-west-1"])`.
    pub fn brief(&self) -> String {
        let req = match &self.request_values {
            None => "missing".to_string(),
            Some(v) => format!("{v:?}"),
        };
        format!(
            "{} {} {:?} is {} (request: {req})",
            self.operator,
            self.key,
            self.policy_values,
            if self.holds { "true" } else { "false" }
        )
    }
}

/// How an Action or Resource element (or its Not form) met the request.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementMatch {
    /// Whether the element lets the statement apply.
    pub matched: bool,
    /// Whether it is the Not form.
    pub negated: bool,
    /// The listed entry that matched the request, if any.
    pub entry: Option<String>,
}

/// What one condition said.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionExplanation {
    /// The operator as written (`ForAnyValue:StringLike`, ...).
    pub operator: String,
    /// The key as written in the policy.
    pub key: String,
    /// The policy's values as text.
    pub policy_values: Vec<String>,
    /// The request's values for the key; `None` when the key is missing.
    pub request_values: Option<Vec<String>>,
    /// Whether the condition holds.
    pub holds: bool,
    /// Why, in a phrase.
    pub reason: String,
}

/// Evaluates the request and records what every policy, statement and condition did. Slower
/// than [`evaluate`] (it allocates); meant for people reading the answer.
pub fn explain(set: &PolicySet, req: &Request) -> Explanation {
    let decision = evaluate(set, req);
    let message = decision.message(req, set);
    let policies = set
        .all()
        .into_iter()
        .map(|e| PolicyExplanation {
            policy_type: e.policy_type,
            level: e.level,
            index: e.index,
            name: e.policy.meta.name.clone(),
            arn: e.policy.meta.arn.clone(),
            statements: e
                .policy
                .statements
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    explain_statement(e.policy_type, i, s, req, set.permissions_boundary.is_some())
                })
                .collect(),
        })
        .collect();
    let reasoning = reasoning(&decision, req);
    let mut assumptions = decision.assumptions();
    if message.is_some() {
        assumptions = assumptions.union(decision.message_assumptions(req, set));
    }
    Explanation {
        decision,
        message,
        message_form: MessageForm::of(req),
        policies,
        reasoning,
        assumptions,
    }
}

fn explain_statement(
    t: PolicyType,
    index: usize,
    s: &Statement,
    req: &Request,
    has_boundary: bool,
) -> StatementExplanation {
    let principal = if t != PolicyType::Resource {
        PrincipalCheck::NotChecked
    } else if has_boundary && s.denies_every_bounded_principal() {
        PrincipalCheck::BoundaryOverridesNotPrincipal
    } else {
        s.names_caller(req.principal(), false)
            .map_or(PrincipalCheck::NotNamed, PrincipalCheck::Named)
    };
    let action = ElementMatch {
        matched: s.action.matches(req),
        negated: s.action.negated,
        entry: s.action.matching_entry(req).map(str::to_string),
    };
    let resource = match &s.resource {
        Some(r) => ElementMatch {
            matched: r.matches(req),
            negated: r.negated,
            entry: r.matching_entry(req).map(str::to_string),
        },
        None => ElementMatch {
            matched: true,
            negated: false,
            entry: None,
        },
    };
    let conditions: Vec<_> = s
        .conditions
        .iter()
        .map(|c| explain_condition(c, req))
        .collect();
    let applies = s.applies(req) && principal != PrincipalCheck::NotNamed;
    StatementExplanation {
        index,
        sid: s.sid.clone(),
        effect: s.effect,
        principal,
        action,
        resource,
        conditions,
        applies,
    }
}

fn explain_condition(c: &Condition, req: &Request) -> ConditionExplanation {
    let holds = c.eval(&req.context);
    let request_values = req
        .context
        .get_lc(c.key_lc())
        .map(|v| v.values().to_vec())
        .filter(|v| !v.is_empty());
    let op = c.op;
    let reason = match (&request_values, op.base == crate::BaseOp::Null) {
        (_, true) => format!(
            "Null tests presence: the key is {}",
            if request_values.is_some() {
                "present"
            } else {
                "missing"
            }
        ),
        (None, false) => {
            let why = match op.qualifier {
                Some(SetQualifier::ForAllValues) => "ForAllValues is true for a missing key",
                Some(SetQualifier::ForAnyValue) if op.if_exists => {
                    "IfExists is true for a missing key"
                }
                Some(SetQualifier::ForAnyValue) => "ForAnyValue is false for a missing key",
                None if op.if_exists => "IfExists is true for a missing key",
                None if op.base.is_negated() => "a negated operator is true for a missing key",
                None => "a missing key makes the condition false",
            };
            format!("key missing from the request: {why}")
        }
        (Some(vals), false) => {
            let per = match op.qualifier {
                Some(SetQualifier::ForAllValues) => "every request value must match",
                Some(SetQualifier::ForAnyValue) => "at least one request value must match",
                None if vals.len() > 1 => {
                    "multivalued key with a plain operator: any request value may match"
                }
                None => "the request value is compared",
            };
            let how = if op.base.is_negated() {
                "none of the policy values (NOR)"
            } else {
                "any of the policy values (OR)"
            };
            format!("{per} against {how}")
        }
    };
    ConditionExplanation {
        operator: op.to_string(),
        key: c.key.clone(),
        policy_values: c.value_texts(),
        request_values,
        holds,
        reason,
    }
}

fn reasoning(d: &Decision, req: &Request) -> String {
    let by = d.by.map(crate::message::type_phrase).unwrap_or("");
    let art = d.by.map(crate::message::article).unwrap_or("a");
    match d.kind {
        DecisionKind::ExplicitDeny => {
            format!("a Deny statement in {art} {by} applies, and an explicit deny always wins")
        }
        DecisionKind::ImplicitDeny => {
            format!("no Deny applies, but no {by} allows {}", req.action())
        }
        DecisionKind::Allow => {
            let res = d
                .matched
                .iter()
                .any(|m| m.policy_type == PolicyType::Resource && m.effect == Effect::Allow);
            if res && !req.is_cross_account() {
                "no Deny applies and every policy type in play allows (a resource-based policy can allow on its own in the same account)".into()
            } else {
                "no Deny applies and every policy type in play allows".into()
            }
        }
    }
}

fn mark(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.policies.is_empty() {
            writeln!(f, "no policies apply")?;
        }
        for p in &self.policies {
            write!(f, "{}", p.policy_type)?;
            if let Some(l) = p.level {
                write!(f, " level {l}")?;
            }
            write!(f, " policy #{}", p.index)?;
            if let Some(n) = &p.name {
                write!(f, " \"{n}\"")?;
            }
            if let Some(a) = &p.arn {
                write!(f, " ({a})")?;
            }
            writeln!(f)?;
            for s in &p.statements {
                write!(f, "  statement #{}", s.index)?;
                if let Some(sid) = &s.sid {
                    write!(f, " Sid {sid}")?;
                }
                writeln!(
                    f,
                    " {}: {}",
                    s.effect.as_str(),
                    if s.applies {
                        "APPLIES"
                    } else {
                        "does not apply"
                    }
                )?;
                let how = match s.principal {
                    PrincipalCheck::NotChecked => None,
                    PrincipalCheck::NotNamed => Some("does not name the caller"),
                    PrincipalCheck::Named(PrincipalMatch::Direct) => {
                        Some("names the caller directly")
                    }
                    PrincipalCheck::Named(PrincipalMatch::Role) => Some("names the caller's role"),
                    PrincipalCheck::Named(PrincipalMatch::Account) => {
                        Some("names the caller's account")
                    }
                    PrincipalCheck::BoundaryOverridesNotPrincipal => Some(
                        "a Deny with NotPrincipal denies every caller with a permissions boundary, whatever it names",
                    ),
                };
                if let Some(how) = how {
                    writeln!(f, "    principal: {how}")?;
                }
                let elem = |name: &str, m: &ElementMatch| {
                    let n = if m.negated {
                        format!("Not{name}")
                    } else {
                        name.to_string()
                    };
                    match (&m.entry, m.negated) {
                        (Some(e), false) => format!("{n}: {} (\"{e}\" matches)", mark(m.matched)),
                        (Some(e), true) => {
                            format!("{n}: {} (\"{e}\" is excluded)", mark(m.matched))
                        }
                        (None, false) => format!("{n}: {} (no entry matches)", mark(m.matched)),
                        (None, true) => format!("{n}: {} (not excluded)", mark(m.matched)),
                    }
                };
                writeln!(f, "    {}", elem("Action", &s.action))?;
                writeln!(f, "    {}", elem("Resource", &s.resource))?;
                for c in &s.conditions {
                    let req = match &c.request_values {
                        None => "missing".to_string(),
                        Some(v) => format!("{v:?}"),
                    };
                    writeln!(
                        f,
                        "    condition {} {} {:?}: {} (request: {}; {})",
                        c.operator,
                        c.key,
                        c.policy_values,
                        if c.holds { "true" } else { "false" },
                        req,
                        c.reason
                    )?;
                }
            }
        }
        write!(f, "decision: {}", self.decision.kind.as_str())?;
        if let Some(by) = self.decision.by {
            write!(f, " by {by}")?;
        }
        writeln!(f, " ({})", self.reasoning)?;
        if let Some(m) = &self.message {
            writeln!(f, "message: {m}")?;
            writeln!(
                f,
                "message form: {} ({})",
                self.message_form.as_str(),
                self.message_form.source()
            )?;
            if message_is_incomplete(m) {
                writeln!(
                    f,
                    "message incomplete: the denying policy was given without its ARN, which AWS prints where {ARN_NOT_GIVEN} stands; give the policy as {{\"name\", \"arn\", \"document\"}}"
                )?;
            }
        }
        if self.assumptions.is_empty() {
            writeln!(f, "assumptions: none, documented rules only")?;
        }
        for a in self.assumptions.iter() {
            writeln!(f, "assumption {a}: {}", a.info().statement)?;
        }
        Ok(())
    }
}
