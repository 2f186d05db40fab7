//! Why a case got its answer, in one line: the deciding Deny statement, the Allows that granted,
//! the policy type (and organization level) that lacked an Allow, or why a key scenario was
//! refused without a policy deciding it. Statements and policies are named by their JSON path in
//! the case format (`$.policies.scp[0][1]`), and by name where the policy has one.
//!
//! [`Reason::text`] is the one place the line is built: `eval`, `check` and `explain` all print it.

use keyward_bedrock::{Rejection, ScenarioResult};
use keyward_iam::{Decision, PolicySet, PolicyType, StatementRef};

/// The JSON path, in a case, of the policy a statement sits in: `$.policies.identity[0]`,
/// `$.policies.scp[0][1]` (level, then index), `$.policies.permissions_boundary`.
pub fn policy_path(r: &StatementRef) -> String {
    policy_path_of(r.policy_type, r.level, r.policy)
}

/// [`policy_path`] of the policy at `index` among those of type `t` (and `level`).
pub fn policy_path_of(t: PolicyType, level: Option<usize>, index: usize) -> String {
    match t {
        PolicyType::PermissionsBoundary => "$.policies.permissions_boundary".into(),
        _ => format!("{}[{index}]", group_path(t, level)),
    }
}

/// The JSON path of the policies of type `t` (for SCPs and RCPs, of one level):
/// `$.policies.identity`, `$.policies.scp[1]`.
pub fn group_path(t: PolicyType, level: Option<usize>) -> String {
    match (t, level) {
        (PolicyType::Scp | PolicyType::Rcp, l) => {
            format!("$.policies.{}[{}]", t.as_str(), l.unwrap_or(0))
        }
        _ => format!("$.policies.{}", t.as_str()),
    }
}

/// Where a statement sits, as `eval`'s JSON gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPlace {
    /// The JSON path of its policy ([`policy_path`]).
    pub policy: String,
    /// Its index in the policy's `Statement`.
    pub index: usize,
    /// Its Sid, if it has one.
    pub sid: Option<String>,
    /// The policy's name, if it has one.
    pub name: Option<String>,
}

impl StatementPlace {
    /// The place of `r` in `set`.
    pub fn of(set: &PolicySet, r: &StatementRef) -> StatementPlace {
        StatementPlace {
            policy: policy_path(r),
            index: r.statement,
            sid: r.sid(set).map(str::to_string),
            name: set.policy(r).and_then(|p| p.meta().name.clone()),
        }
    }
}

/// Why a case got its answer. Typed and cheap to build (it borrows nothing and formats nothing);
/// [`Reason::text`] renders it against the case's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A request case: its decision's reason.
    Request(keyward_iam::Reason),
    /// A key scenario decided by one of its authorization requests (the denied one, or the last
    /// when every one is allowed): which, and its decision's reason.
    Step {
        /// The request's action.
        action: String,
        /// The request's resource.
        resource: String,
        /// Its decision's reason.
        reason: keyward_iam::Reason,
        /// For a call through a system inference profile, the decision in each destination
        /// Region ([`ScenarioResult::routes_text`]): AWS picks one at run time.
        routes: Option<String>,
    },
    /// A key scenario refused without a policy deciding it.
    Rejected(Rejection),
    /// A scenario that made no authorization request and was not refused (none does today).
    NoRequest,
}

impl Reason {
    /// The reason of a request's decision.
    pub fn of_request(set: &PolicySet, d: &Decision) -> Reason {
        Reason::Request(d.reason(set))
    }

    /// The reason of a scenario's outcome: its rejection, or the request that decided it.
    pub fn of_scenario(set: &PolicySet, res: &ScenarioResult) -> Reason {
        if let Some(r) = &res.rejection {
            return Reason::Rejected(r.clone());
        }
        // Evaluation stops at the denied request, so the last is the one that decided.
        match res.steps.last() {
            Some(s) => Reason::Step {
                action: s.request.action().to_string(),
                resource: s.request.resource().to_string(),
                reason: s.decision.reason(set),
                // Only a split says something: the same answer on every route is the outcome's.
                routes: res.routes_text().filter(|_| {
                    res.routes
                        .iter()
                        .any(|r| r.decision != res.routes[0].decision)
                }),
            },
            None => Reason::NoRequest,
        }
    }

    /// The statement that decided: the deciding Deny of an explicit deny, or the first Allow
    /// that granted an allow; `None` for an implicit deny and a refusal.
    pub fn statement(&self, set: &PolicySet) -> Option<StatementPlace> {
        let r = match self {
            Reason::Request(r) | Reason::Step { reason: r, .. } => r,
            Reason::Rejected(_) | Reason::NoRequest => return None,
        };
        match r {
            keyward_iam::Reason::ExplicitDeny(s) => Some(StatementPlace::of(set, s)),
            keyward_iam::Reason::Allow(v) => v.first().map(|s| StatementPlace::of(set, s)),
            _ => None,
        }
    }

    /// The one line, e.g. `explicit deny by scp $.policies.scp[0][1].Statement[2] (Sid
    /// "DenyShortTerm")`, or `bedrock:InvokeModel on arn:…: implicit deny: no Allow in the
    /// identity-based policies ($.policies.identity)`. `set` is the case's policies.
    pub fn text(&self, set: &PolicySet) -> String {
        match self {
            Reason::Request(r) => request_text(set, r),
            Reason::Step {
                action,
                resource,
                reason,
                routes,
            } => {
                let mut s = format!("{action} on {resource}: {}", request_text(set, reason));
                if let Some(r) = routes {
                    s.push_str(&format!(" ({r})"));
                }
                s
            }
            Reason::Rejected(r) => r.to_string(),
            Reason::NoRequest => "no authorization request was made".into(),
        }
    }
}

fn request_text(set: &PolicySet, r: &keyward_iam::Reason) -> String {
    match r {
        keyward_iam::Reason::ExplicitDeny(s) => {
            format!(
                "explicit deny by {} {}",
                s.policy_type,
                statement_text(set, s)
            )
        }
        keyward_iam::Reason::Allow(v) if v.is_empty() => "allowed".into(),
        keyward_iam::Reason::Allow(v) => {
            let each: Vec<String> = v
                .iter()
                .map(|s| format!("{} {}", s.policy_type, statement_text(set, s)))
                .collect();
            format!("allowed by {}", each.join("; "))
        }
        keyward_iam::Reason::ImplicitDeny { policy_type, level } => {
            let t = *policy_type;
            let what = match (t, level) {
                (PolicyType::Identity, _) => "the identity-based policies".to_string(),
                (PolicyType::PermissionsBoundary, _) => "the permissions boundary".into(),
                (PolicyType::Session, _) => "the session policies".into(),
                (PolicyType::Resource, _) => {
                    "the resource-based policies that name the caller".into()
                }
                (PolicyType::Scp, Some(l)) => format!("the SCPs of level {l}"),
                (PolicyType::Rcp, Some(l)) => format!("the RCPs of level {l}"),
                (PolicyType::Scp, None) => "the SCPs".into(),
                (PolicyType::Rcp, None) => "the RCPs".into(),
                (t, _) => format!("the {t} policies"),
            };
            format!(
                "implicit deny: no Allow in {what} ({})",
                group_text(set, t, *level)
            )
        }
    }
}

/// The JSON path of a statement in its policy's document: `$.policies.scp[0][1].Statement[2]`,
/// or `….Statement` where the document gives its one statement as an object. (A policy given
/// as the wrapper `{"name", "arn", "document"}` has its document under `document`.)
pub fn statement_path(set: &PolicySet, r: &StatementRef) -> String {
    let array = set.policy(r).is_none_or(|p| p.statement_is_array());
    if array {
        format!("{}.Statement[{}]", policy_path(r), r.statement)
    } else {
        format!("{}.Statement", policy_path(r))
    }
}

/// `$.policies.scp[0][1].Statement[2] (Sid "DenyShortTerm", policy "org-guard")`.
fn statement_text(set: &PolicySet, r: &StatementRef) -> String {
    let place = StatementPlace::of(set, r);
    let mut s = statement_path(set, r);
    let mut notes = Vec::new();
    if let Some(sid) = &place.sid {
        notes.push(format!("Sid {sid:?}"));
    }
    if let Some(n) = &place.name {
        notes.push(format!("policy {n:?}"));
    }
    if !notes.is_empty() {
        s.push_str(&format!(" ({})", notes.join(", ")));
    }
    s
}

/// The policies of a type (and level): their group's path, or, where any has a name, each
/// policy's path with its name (`$.policies.identity[0] "dev-identity"`).
fn group_text(set: &PolicySet, t: PolicyType, level: Option<usize>) -> String {
    let entries: Vec<_> = set
        .all()
        .into_iter()
        .filter(|e| e.policy_type == t && (level.is_none() || e.level == level))
        .collect();
    if !entries.iter().any(|e| e.policy.meta().name.is_some()) {
        return group_path(t, level);
    }
    entries
        .iter()
        .map(|e| {
            let path = policy_path_of(t, e.level, e.index);
            match &e.policy.meta().name {
                Some(n) => format!("{path} {n:?}"),
                None => path,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
