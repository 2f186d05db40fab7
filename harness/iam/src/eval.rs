//! Evaluation of one request against every policy that applies to it.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//! (and the -denyallow and cross-account pages).
//!
//! Order, as the documented flow chart: explicit deny anywhere wins; then every RCP level and
//! every SCP level must allow; a same-account resource-based policy naming the user or session
//! allows on its own; identity-based policies must allow, then the permissions boundary and the
//! session policies, when present. Cross-account, both the caller's side and the resource-based
//! policy must allow.

use std::fmt;
use std::str::FromStr;

use crate::assumptions::{AssumptionId, Assumptions, Reading};
use crate::error::ParseNameError;
use crate::policy::{Effect, Policy, PolicyType, PrincipalMatch, Statement};
use crate::request::Request;
use smallvec::SmallVec;

/// The statements that applied. Most decisions see a handful, so they stay inline: no heap
/// allocation on the hot path.
pub(crate) type Matched = SmallVec<[StatementRef; 4]>;

/// Every policy that applies to a request, by type. Absent means "not in play" (no boundary, no
/// session policy, not governed by SCPs/RCPs); present-but-empty means "nothing allows".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    /// Identity-based policies of the user or role.
    pub identity: Vec<Policy>,
    /// The permissions boundary, when one is set.
    pub permissions_boundary: Option<Policy>,
    /// Session policies, when the caller is a role session created with some.
    pub session: Option<Vec<Policy>>,
    /// Service control policies, one list per organization level, root first, account last.
    pub scp: Option<Vec<Vec<Policy>>>,
    /// Resource control policies, one list per organization level, root first, account last.
    pub rcp: Option<Vec<Vec<Policy>>>,
    /// Resource-based policies of the resource.
    pub resource: Vec<Policy>,
}

/// One policy of a [`PolicySet`] with where it sits in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyEntry<'a> {
    /// The policy's type.
    pub policy_type: PolicyType,
    /// The organization level, for SCPs and RCPs (root is 0).
    pub level: Option<usize>,
    /// The policy's index among the policies of its type (and level).
    pub index: usize,
    /// The policy.
    pub policy: &'a Policy,
}

impl PolicySet {
    /// Every policy with its type, level (SCP/RCP) and index, in evaluation order (RCP, SCP,
    /// resource, identity, boundary, session).
    pub fn all(&self) -> Vec<PolicyEntry<'_>> {
        let entry = |policy_type, level, index, policy| PolicyEntry {
            policy_type,
            level,
            index,
            policy,
        };
        let mut out = Vec::new();
        for (t, ls) in [(PolicyType::Rcp, &self.rcp), (PolicyType::Scp, &self.scp)] {
            for (l, ps) in ls.iter().flatten().enumerate() {
                out.extend(ps.iter().enumerate().map(|(i, p)| entry(t, Some(l), i, p)));
            }
        }
        let flat: [(PolicyType, &[Policy]); 4] = [
            (PolicyType::Resource, &self.resource),
            (PolicyType::Identity, &self.identity),
            (
                PolicyType::PermissionsBoundary,
                self.permissions_boundary.as_slice(),
            ),
            (PolicyType::Session, self.session.as_deref().unwrap_or(&[])),
        ];
        for (t, ps) in flat {
            out.extend(ps.iter().enumerate().map(|(i, p)| entry(t, None, i, p)));
        }
        out
    }

    /// The policy a [`StatementRef`] points into, if it is in this set.
    pub fn policy(&self, r: &StatementRef) -> Option<&Policy> {
        match r.policy_type {
            PolicyType::Identity => self.identity.get(r.policy),
            PolicyType::PermissionsBoundary => {
                self.permissions_boundary.as_ref().filter(|_| r.policy == 0)
            }
            PolicyType::Session => self.session.as_ref()?.get(r.policy),
            PolicyType::Scp => self.scp.as_ref()?.get(r.level?)?.get(r.policy),
            PolicyType::Rcp => self.rcp.as_ref()?.get(r.level?)?.get(r.policy),
            PolicyType::Resource => self.resource.get(r.policy),
        }
    }
}

/// IAM's three answers. There are no others, so this enum is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    /// Some policy allows, every type in play allows, and nothing denies.
    Allow,
    /// An applicable Deny statement.
    ExplicitDeny,
    /// No Deny, but some type in play has no Allow.
    ImplicitDeny,
}

impl DecisionKind {
    /// The name used in the case format (`decision`).
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allow => "allow",
            DecisionKind::ExplicitDeny => "explicit_deny",
            DecisionKind::ImplicitDeny => "implicit_deny",
        }
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DecisionKind {
    type Err = ParseNameError;

    /// Reads the case-format name ([`DecisionKind::as_str`]), case-sensitively.
    fn from_str(s: &str) -> Result<DecisionKind, ParseNameError> {
        const NAMES: &[&str] = &["allow", "explicit_deny", "implicit_deny"];
        [
            DecisionKind::Allow,
            DecisionKind::ExplicitDeny,
            DecisionKind::ImplicitDeny,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| ParseNameError::new("decision", s, NAMES))
    }
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// The type of the policy holding the statement.
    pub policy_type: PolicyType,
    /// The organization level, for SCPs and RCPs.
    pub level: Option<usize>,
    /// The policy's index among the policies of its type (and level).
    pub policy: usize,
    /// The statement's index in the policy.
    pub statement: usize,
    /// The statement's effect.
    pub effect: Effect,
}

impl StatementRef {
    /// The statement's Sid; looked up rather than copied, since evaluation is the hot path.
    pub fn sid<'a>(&self, set: &'a PolicySet) -> Option<&'a str> {
        set.policy(self)?
            .statements
            .get(self.statement)?
            .sid
            .as_deref()
    }
}

/// The answer: a value, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow, explicit deny or implicit deny.
    pub kind: DecisionKind,
    /// For an explicit deny, the type whose Deny decided; for an implicit deny, the type that
    /// lacked an Allow; `None` for allow.
    pub by: Option<PolicyType>,
    /// Every statement that applied, in evaluation order (RCP, SCP, resource, identity,
    /// boundary, session).
    pub(crate) matched: Matched,
    /// The assumptions the decision rests on.
    pub(crate) rests_on: Assumptions,
}

impl Decision {
    /// Every statement that applied, in evaluation order (RCP, SCP, resource, identity,
    /// boundary, session).
    pub fn matched(&self) -> &[StatementRef] {
        &self.matched
    }

    /// The registered assumptions (docs/aws-behaviour.md; [`crate::ASSUMPTIONS`]) whose other
    /// reading would change this decision or the policy type it names; empty when it rests on
    /// documented rules only. The message's own assumptions are
    /// [`Decision::message_assumptions`].
    pub fn assumptions(&self) -> Assumptions {
        self.rests_on
    }

    /// For an explicit deny, the Deny statement that decided: the first Deny of type
    /// [`Decision::by`] that applied, in evaluation order. `None` for an allow or an implicit
    /// deny.
    pub fn deciding_deny(&self) -> Option<&StatementRef> {
        match self.kind {
            DecisionKind::ExplicitDeny => self
                .matched
                .iter()
                .find(|s| Some(s.policy_type) == self.by && s.effect == Effect::Deny),
            _ => None,
        }
    }

    /// Why the decision is what it is, in terms of the statements of `set` (the set it was
    /// evaluated against): the deciding Deny, the Allows that granted, or the policy type (and,
    /// for SCPs and RCPs, the organization level) that lacked an Allow.
    pub fn reason(&self, set: &PolicySet) -> Reason {
        match (self.kind, self.by) {
            (DecisionKind::ExplicitDeny, _) => match self.deciding_deny() {
                Some(s) => Reason::ExplicitDeny(s.clone()),
                // `by` always names a type with a Deny that applied; kept total all the same.
                None => Reason::ImplicitDeny {
                    policy_type: self.by.unwrap_or(PolicyType::Identity),
                    level: None,
                },
            },
            (DecisionKind::ImplicitDeny, by) => {
                let policy_type = by.unwrap_or(PolicyType::Identity);
                let levels = match policy_type {
                    PolicyType::Scp => set.scp.as_ref(),
                    PolicyType::Rcp => set.rcp.as_ref(),
                    _ => None,
                };
                // The first level (root first) where no Allow applied: every level must allow.
                let level = levels.and_then(|ls| {
                    (0..ls.len()).find(|l| {
                        !self.matched.iter().any(|m| {
                            m.policy_type == policy_type
                                && m.level == Some(*l)
                                && m.effect == Effect::Allow
                        })
                    })
                });
                Reason::ImplicitDeny { policy_type, level }
            }
            (DecisionKind::Allow, _) => Reason::Allow(
                self.matched
                    .iter()
                    .filter(|m| {
                        m.effect == Effect::Allow
                            && matches!(m.policy_type, PolicyType::Identity | PolicyType::Resource)
                    })
                    .cloned()
                    .collect(),
            ),
        }
    }
}

/// Why a request got its decision ([`Decision::reason`]), by the statements' places in the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// An explicit deny, and the Deny statement that decided ([`Decision::deciding_deny`]).
    ExplicitDeny(StatementRef),
    /// An allow, and the Allow statements of the identity-based and resource-based policies
    /// that granted it, in evaluation order (the other types in play only limit: their Allows
    /// let the grant through, and are among [`Decision::matched`]).
    Allow(Vec<StatementRef>),
    /// An implicit deny: the policy type that lacked an Allow, and for SCPs and RCPs the first
    /// organization level (root is 0) where no Allow applied.
    ImplicitDeny {
        /// The type without an Allow ([`Decision::by`]).
        policy_type: PolicyType,
        /// For SCPs and RCPs, the level without an Allow.
        level: Option<usize>,
    },
}

/// What the statements of one type said.
#[derive(Default, Clone, Copy)]
struct Verdict {
    allow: bool,
    deny: bool,
}

fn scan(
    t: PolicyType,
    level: Option<usize>,
    policies: &[Policy],
    req: &Request,
    reading: &Reading,
    matched: &mut Matched,
) -> Verdict {
    let mut v = Verdict::default();
    for (pi, p) in policies.iter().enumerate() {
        for (si, s) in p.statements.iter().enumerate() {
            if s.applies_under(req, reading) {
                record(t, level, pi, si, s, &mut v, matched);
            }
        }
    }
    v
}

fn record(
    t: PolicyType,
    level: Option<usize>,
    policy: usize,
    statement: usize,
    s: &Statement,
    v: &mut Verdict,
    matched: &mut Matched,
) {
    match s.effect {
        Effect::Allow => v.allow = true,
        Effect::Deny => v.deny = true,
    }
    matched.push(StatementRef {
        policy_type: t,
        level,
        policy,
        statement,
        effect: s.effect,
    });
}

/// Resource-based policies: a statement applies only when its Principal names the caller. The
/// strongest way an Allow names the caller is kept.
fn scan_resource(
    policies: &[Policy],
    req: &Request,
    has_boundary: bool,
    reading: &Reading,
    matched: &mut Matched,
) -> (Verdict, Option<PrincipalMatch>) {
    let mut v = Verdict::default();
    let mut best = None;
    for (pi, p) in policies.iter().enumerate() {
        for (si, s) in p.statements.iter().enumerate() {
            let Some(mut pm) = s.names_caller(req.principal(), has_boundary) else {
                continue;
            };
            if s.applies_under(req, reading) {
                if s.effect == Effect::Allow {
                    // Principal "*" allows like naming the caller (assumption
                    // A-STAR-PRINCIPAL-DIRECT); the other reading: like naming the account,
                    // unless another entry names the caller.
                    if pm == PrincipalMatch::Direct {
                        if let Some(rest) = s.star_only_direct(req.principal()) {
                            if reading.other(AssumptionId::StarPrincipalDirect) {
                                pm = rest.unwrap_or(PrincipalMatch::Account);
                            }
                        }
                    }
                    best = best.max(Some(pm));
                }
                record(PolicyType::Resource, None, pi, si, s, &mut v, matched);
            }
        }
    }
    (v, best)
}

/// Evaluates one request. Pure and allocation-free unless a statement applies (or the request
/// meets an assumed choice, when it is evaluated again to see whether the decision rests on it).
pub fn evaluate(set: &PolicySet, req: &Request) -> Decision {
    let reading = Reading::keyward();
    let mut decision = evaluate_under(set, req, &reading);
    let met = reading.met();
    if !met.is_empty() {
        decision.rests_on = rests_on(set, req, &decision, met);
    }
    decision
}

/// The assumptions among `met` whose other reading changes the decision or its `by`; and, when
/// several of the others change nothing alone but do together, those too. (Two statements that
/// deny, each on its own assumption, need both flipped; that one more assumption, say which type
/// is named, changes the answer alone must not hide them.)
fn rests_on(set: &PolicySet, req: &Request, d: &Decision, met: Assumptions) -> Assumptions {
    let changes = |flipped: Assumptions| {
        let other = evaluate_under(set, req, &Reading::flipping(flipped));
        (other.kind, other.by) != (d.kind, d.by)
    };
    let alone: Assumptions = met
        .iter()
        .filter(|a| changes(Assumptions::of(*a)))
        .collect();
    let others: Assumptions = met.iter().filter(|a| !alone.contains(*a)).collect();
    if others.iter().nth(1).is_some() && changes(others) {
        alone.union(others)
    } else {
        alone
    }
}

/// [`evaluate`] under one reading of the assumed choices, without looking at which it met.
fn evaluate_under(set: &PolicySet, req: &Request, reading: &Reading) -> Decision {
    let mut matched = Matched::new();
    let levels = |t: PolicyType, ls: &Option<Vec<Vec<Policy>>>, matched: &mut Matched| {
        ls.as_ref().map(|ls| {
            ls.iter()
                .enumerate()
                .map(|(l, ps)| scan(t, Some(l), ps, req, reading, matched))
                .collect::<Vec<_>>()
        })
    };
    let rcp = levels(PolicyType::Rcp, &set.rcp, &mut matched);
    let scp = levels(PolicyType::Scp, &set.scp, &mut matched);
    let (resource, res_allow) = scan_resource(
        &set.resource,
        req,
        set.permissions_boundary.is_some(),
        reading,
        &mut matched,
    );
    let identity = scan(
        PolicyType::Identity,
        None,
        &set.identity,
        req,
        reading,
        &mut matched,
    );
    let boundary = set.permissions_boundary.as_ref().map(|b| {
        scan(
            PolicyType::PermissionsBoundary,
            None,
            std::slice::from_ref(b),
            req,
            reading,
            &mut matched,
        )
    });
    let session = set
        .session
        .as_ref()
        .map(|s| scan(PolicyType::Session, None, s, req, reading, &mut matched));

    let decide = |kind: DecisionKind, by: Option<PolicyType>| Decision {
        kind,
        by,
        matched,
        rests_on: Assumptions::NONE,
    };

    // Every type with an applicable Deny, in flow-chart order (DENY_ORDER).
    let mut denying: SmallVec<[PolicyType; 6]> = SmallVec::new();
    let mut deny_if = |t: PolicyType, deny: bool| {
        if deny && !denying.contains(&t) {
            denying.push(t);
        }
    };
    for v in rcp.iter().flatten() {
        deny_if(PolicyType::Rcp, v.deny);
    }
    for v in scp.iter().flatten() {
        deny_if(PolicyType::Scp, v.deny);
    }
    deny_if(PolicyType::Resource, resource.deny);
    deny_if(PolicyType::Identity, identity.deny);
    deny_if(
        PolicyType::PermissionsBoundary,
        boundary.is_some_and(|b| b.deny),
    );
    deny_if(PolicyType::Session, session.is_some_and(|s| s.deny));
    if let Some(t) = named(&denying, AssumptionId::DenyPrecedence, reading) {
        return decide(DecisionKind::ExplicitDeny, Some(t));
    }

    // Every type in play without an Allow, in the order A-IMPLICIT-PRECEDENCE gives (the flow
    // chart's, with a cross-account resource-based policy last).
    let mut lacking: SmallVec<[PolicyType; 6]> = SmallVec::new();
    let every_level_allows =
        |ls: &Option<Vec<Verdict>>| ls.as_ref().is_none_or(|ls| ls.iter().all(|v| v.allow));
    if !every_level_allows(&rcp) {
        lacking.push(PolicyType::Rcp);
    }
    if !every_level_allows(&scp) {
        lacking.push(PolicyType::Scp);
    }
    let boundary_ok = boundary.is_none_or(|b| b.allow);
    let session_ok = session.is_none_or(|s| s.allow);
    // What still has a say beside the resource-based policy: a same-account Allow naming the
    // caller is final; naming the role leaves the boundary and session policies a say.
    let (identity_counts, limits_count, resource_counts) = if req.is_cross_account() {
        (true, true, true)
    } else {
        match res_allow {
            Some(PrincipalMatch::Direct) => (false, false, false),
            Some(PrincipalMatch::Role) => (false, true, false),
            Some(PrincipalMatch::Account) | None => (true, true, false),
        }
    };
    if identity_counts && !identity.allow {
        lacking.push(PolicyType::Identity);
    }
    if limits_count && !boundary_ok {
        lacking.push(PolicyType::PermissionsBoundary);
    }
    if limits_count && !session_ok {
        lacking.push(PolicyType::Session);
    }
    if resource_counts && res_allow.is_none() {
        lacking.push(PolicyType::Resource);
    }
    match named(&lacking, AssumptionId::ImplicitPrecedence, reading) {
        Some(t) => decide(DecisionKind::ImplicitDeny, Some(t)),
        None => decide(DecisionKind::Allow, None),
    }
}

/// The type a message names among `types` (in the order of its assumption): the first (assumptions
/// A-DENY-PRECEDENCE and A-IMPLICIT-PRECEDENCE; AWS documents only that one is named), or under
/// the other reading the last.
fn named(types: &[PolicyType], order: AssumptionId, reading: &Reading) -> Option<PolicyType> {
    match types {
        [] => None,
        [one] => Some(*one),
        [first, .., last] => Some(if reading.other(order) { *last } else { *first }),
    }
}
