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
}

impl Decision {
    /// Every statement that applied, in evaluation order (RCP, SCP, resource, identity,
    /// boundary, session).
    pub fn matched(&self) -> &[StatementRef] {
        &self.matched
    }
}

/// What the statements of one type said.
#[derive(Default, Clone, Copy)]
struct Verdict {
    allow: bool,
    deny: bool,
}

/// Which type is named when several deny explicitly: the order of the documented flow chart.
/// Assumption A-DENY-PRECEDENCE: AWS documents that only one type is named, not which.
const DENY_ORDER: [PolicyType; 6] = [
    PolicyType::Rcp,
    PolicyType::Scp,
    PolicyType::Resource,
    PolicyType::Identity,
    PolicyType::PermissionsBoundary,
    PolicyType::Session,
];

fn scan(
    t: PolicyType,
    level: Option<usize>,
    policies: &[Policy],
    req: &Request,
    matched: &mut Matched,
) -> Verdict {
    let mut v = Verdict::default();
    for (pi, p) in policies.iter().enumerate() {
        for (si, s) in p.statements.iter().enumerate() {
            if s.applies(req) {
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
    matched: &mut Matched,
) -> (Verdict, Option<PrincipalMatch>) {
    let mut v = Verdict::default();
    let mut best = None;
    for (pi, p) in policies.iter().enumerate() {
        for (si, s) in p.statements.iter().enumerate() {
            let Some(pm) = s.names_caller(req.principal(), has_boundary) else {
                continue;
            };
            if s.applies(req) {
                if s.effect == Effect::Allow {
                    best = best.max(Some(pm));
                }
                record(PolicyType::Resource, None, pi, si, s, &mut v, matched);
            }
        }
    }
    (v, best)
}

/// Evaluates one request. Pure and allocation-free unless a statement applies.
pub fn evaluate(set: &PolicySet, req: &Request) -> Decision {
    let mut matched = Matched::new();
    let mut deny_by = None;
    let mut note_deny = |t: PolicyType, v: &Verdict| {
        if v.deny {
            deny_by = Some(match deny_by {
                Some(prev) if rank(prev) <= rank(t) => prev,
                _ => t,
            });
        }
    };

    let levels = |t: PolicyType, ls: &Option<Vec<Vec<Policy>>>, matched: &mut Matched| {
        ls.as_ref().map(|ls| {
            ls.iter()
                .enumerate()
                .map(|(l, ps)| scan(t, Some(l), ps, req, matched))
                .collect::<Vec<_>>()
        })
    };
    let rcp = levels(PolicyType::Rcp, &set.rcp, &mut matched);
    let scp = levels(PolicyType::Scp, &set.scp, &mut matched);
    let (resource, res_allow) = scan_resource(
        &set.resource,
        req,
        set.permissions_boundary.is_some(),
        &mut matched,
    );
    let identity = scan(PolicyType::Identity, None, &set.identity, req, &mut matched);
    let boundary = set.permissions_boundary.as_ref().map(|b| {
        scan(
            PolicyType::PermissionsBoundary,
            None,
            std::slice::from_ref(b),
            req,
            &mut matched,
        )
    });
    let session = set
        .session
        .as_ref()
        .map(|s| scan(PolicyType::Session, None, s, req, &mut matched));

    for v in rcp.iter().flatten() {
        note_deny(PolicyType::Rcp, v);
    }
    for v in scp.iter().flatten() {
        note_deny(PolicyType::Scp, v);
    }
    note_deny(PolicyType::Resource, &resource);
    note_deny(PolicyType::Identity, &identity);
    if let Some(b) = &boundary {
        note_deny(PolicyType::PermissionsBoundary, b);
    }
    if let Some(s) = &session {
        note_deny(PolicyType::Session, s);
    }

    let decide = |kind: DecisionKind, by: Option<PolicyType>| Decision { kind, by, matched };

    if let Some(t) = deny_by {
        return decide(DecisionKind::ExplicitDeny, Some(t));
    }
    let every_level_allows =
        |ls: &Option<Vec<Verdict>>| ls.as_ref().is_none_or(|ls| ls.iter().all(|v| v.allow));
    if !every_level_allows(&rcp) {
        return decide(DecisionKind::ImplicitDeny, Some(PolicyType::Rcp));
    }
    if !every_level_allows(&scp) {
        return decide(DecisionKind::ImplicitDeny, Some(PolicyType::Scp));
    }

    let boundary_ok = boundary.is_none_or(|b| b.allow);
    let session_ok = session.is_none_or(|s| s.allow);
    // Several types lacking an Allow: the first in flow-chart order is named
    // (assumption A-IMPLICIT-PRECEDENCE).
    let lacking = |t| Some(t);
    // The caller's side: identity-based policies, then the boundary and session policies.
    let caller_side = || {
        if !identity.allow {
            lacking(PolicyType::Identity)
        } else if !boundary_ok {
            lacking(PolicyType::PermissionsBoundary)
        } else if !session_ok {
            lacking(PolicyType::Session)
        } else {
            None
        }
    };
    let missing = if req.is_cross_account() {
        caller_side().or_else(|| res_allow.is_none().then_some(PolicyType::Resource))
    } else {
        match res_allow {
            Some(PrincipalMatch::Direct) => None,
            Some(PrincipalMatch::Role) if !boundary_ok => lacking(PolicyType::PermissionsBoundary),
            Some(PrincipalMatch::Role) if !session_ok => lacking(PolicyType::Session),
            Some(PrincipalMatch::Role) => None,
            Some(PrincipalMatch::Account) | None => caller_side(),
        }
    };
    let (kind, by) = match missing {
        Some(t) => (DecisionKind::ImplicitDeny, Some(t)),
        None => (DecisionKind::Allow, None),
    };
    decide(kind, by)
}

fn rank(t: PolicyType) -> usize {
    DENY_ORDER
        .iter()
        .position(|x| *x == t)
        .unwrap_or(usize::MAX)
}
