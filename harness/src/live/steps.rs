//! The plan that runs: a live plan as the list of AWS requests a run makes for it, in order, each
//! a typed [`Step`] with the data it needs. [`steps`] is pure, so `--dry-run` prints the very list
//! [`super::enforce`] executes, and the two cannot drift apart.
//!
//! One step is one AWS request, made once, except where [`Step::repeats`] says otherwise:
//! AssumeRole is made again until a just-created role can be assumed, and the recorded steps at
//! the end of the list (the request the case is about, with the console flow's steps before it)
//! are made again, as one attempt, until their answer settles ([`super::enforce::settled`]).
//! Undoing an attempt and deleting what the run made are cleanup, not steps: they depend on what
//! AWS answered, and they spend from the budget's cleanup allowance.

use std::fmt;

use keyward_bedrock::{Flow, Operation, LIMITED_ACCESS_POLICY};
use keyward_iam::PolicyType;
use serde_json::Value;

use super::plan::{KeyPlan, LivePlan, Principal};
use super::policies::{ManagedPolicy, PrincipalPolicies};

/// An IAM principal the run made, that a step puts a policy on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    User(String),
    Role(String),
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::User(u) => write!(f, "user {u}"),
            Holder::Role(r) => write!(f, "role {r}"),
        }
    }
}

/// A managed policy a step attaches: one an earlier [`Step::CreatePolicy`] created (by its live
/// name; its ARN is the one IAM answered), or an AWS managed one by its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRef {
    Created(String),
    Aws(String),
}

impl PolicyRef {
    fn of(m: &ManagedPolicy) -> PolicyRef {
        match m {
            ManagedPolicy::Create { name, .. } => PolicyRef::Created(name.clone()),
            ManagedPolicy::Aws { arn, .. } => PolicyRef::Aws(arn.clone()),
        }
    }
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::Created(n) => write!(f, "policy {n}"),
            PolicyRef::Aws(arn) => f.write_str(arn),
        }
    }
}

/// Whose credentials sign a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The runner's own: everything that prepares or cleans up.
    Runner,
    /// The case principal's (from the AssumeRole or CreateAccessKey step): what is recorded.
    Case,
}

/// What a service-specific credential the runner or the case principal creates is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The long-term key a call is made with.
    CallKey,
    /// A key the case says the user already holds.
    Existing,
    /// The creation the case is about, made as the case principal and recorded.
    Recorded,
}

/// The bearer key a call sends.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRef {
    /// The case's literal text.
    Malformed(String),
    /// Signed, for each attempt, with the credentials of the case principal `signer`, as if
    /// issued `age_secs` before the call.
    ShortTerm {
        signer: Holder,
        region: String,
        age_secs: i64,
        expires_in: u32,
    },
    /// The long-term key of `user` an earlier step created.
    LongTerm { user: String },
}

/// How a step is made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Until a just-created role can be assumed (AssumeRole answers AccessDenied until then).
    UntilAssumable,
    /// As part of an attempt at the recorded request, until the attempts' answers settle.
    UntilSettled,
}

/// One AWS request of a live plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// One SimulateCustomPolicy question; the runner asks the questions that share policies and
    /// context in one call.
    Simulate {
        action: String,
        resource: String,
    },
    /// A user, tagged with the run when the runner creates it; the console flow's user is
    /// created by the case principal (untagged, as the console does) and tagged by the next step.
    CreateUser {
        user: String,
        by: By,
    },
    /// A role whose trust policy trusts the sandbox account, tagged with the run.
    CreateRole {
        role: String,
    },
    /// An inline identity policy.
    PutPolicy {
        holder: Holder,
        name: String,
        document: Value,
    },
    /// A customer managed policy, tagged with the run.
    CreatePolicy {
        name: String,
        document: Value,
    },
    /// An AWS managed policy's default version ...
    GetPolicy {
        arn: String,
    },
    /// ... whose document must be the case's: AWS enforces its own, so the case fails otherwise.
    GetPolicyVersion {
        arn: String,
        document: Value,
        kind: PolicyType,
    },
    AttachPolicy {
        holder: Holder,
        policy: PolicyRef,
        by: By,
    },
    PutPermissionsBoundary {
        holder: Holder,
        policy: PolicyRef,
    },
    /// SigV4 credentials for a user principal.
    CreateAccessKey {
        user: String,
    },
    /// SigV4 credentials for a role principal, as session `session`.
    AssumeRole {
        role: String,
        session: String,
        session_policy: Option<Value>,
    },
    CreateServiceSpecificCredential {
        user: String,
        service: String,
        age_days: Option<i64>,
        purpose: Purpose,
    },
    /// Deactivates the call's long-term key of `user`.
    UpdateServiceSpecificCredential {
        user: String,
    },
    /// The run's tag on the user the case principal created.
    TagUser {
        user: String,
    },
    /// The model call the case is about, with a bearer key.
    Call {
        operation: Operation,
        model: String,
        region: String,
        key: KeyRef,
    },
}

impl Step {
    /// The AWS operation the step's request is, as `service:Action`.
    pub fn operation(&self) -> &'static str {
        let per = |h: &Holder, user: &'static str, role: &'static str| match h {
            Holder::User(_) => user,
            Holder::Role(_) => role,
        };
        match self {
            Step::Simulate { .. } => "iam:SimulateCustomPolicy",
            Step::CreateUser { .. } => "iam:CreateUser",
            Step::CreateRole { .. } => "iam:CreateRole",
            Step::PutPolicy { holder, .. } => per(holder, "iam:PutUserPolicy", "iam:PutRolePolicy"),
            Step::CreatePolicy { .. } => "iam:CreatePolicy",
            Step::GetPolicy { .. } => "iam:GetPolicy",
            Step::GetPolicyVersion { .. } => "iam:GetPolicyVersion",
            Step::AttachPolicy { holder, .. } => {
                per(holder, "iam:AttachUserPolicy", "iam:AttachRolePolicy")
            }
            Step::PutPermissionsBoundary { holder, .. } => per(
                holder,
                "iam:PutUserPermissionsBoundary",
                "iam:PutRolePermissionsBoundary",
            ),
            Step::CreateAccessKey { .. } => "iam:CreateAccessKey",
            Step::AssumeRole { .. } => "sts:AssumeRole",
            Step::CreateServiceSpecificCredential { .. } => "iam:CreateServiceSpecificCredential",
            Step::UpdateServiceSpecificCredential { .. } => "iam:UpdateServiceSpecificCredential",
            Step::TagUser { .. } => "iam:TagUser",
            Step::Call { operation, .. } => match operation {
                Operation::Converse => "bedrock-runtime:Converse",
                Operation::ConverseStream => "bedrock-runtime:ConverseStream",
                Operation::InvokeModel => "bedrock-runtime:InvokeModel",
                Operation::InvokeModelWithResponseStream => {
                    "bedrock-runtime:InvokeModelWithResponseStream"
                }
                Operation::CountTokens => "bedrock-runtime:CountTokens",
            },
        }
    }

    /// Whose credentials sign the step's request.
    pub fn by(&self) -> By {
        match self {
            Step::CreateUser { by, .. } | Step::AttachPolicy { by, .. } => *by,
            Step::CreateServiceSpecificCredential {
                purpose: Purpose::Recorded,
                ..
            }
            | Step::Call { .. } => By::Case,
            _ => By::Runner,
        }
    }

    /// Whether, and how, the step is made more than once.
    pub fn repeats(&self) -> Option<Repeat> {
        match self {
            Step::AssumeRole { .. } => Some(Repeat::UntilAssumable),
            // The console flow's steps and the recorded request: one attempt.
            Step::TagUser { .. } | Step::Call { .. } => Some(Repeat::UntilSettled),
            s if s.by() == By::Case => Some(Repeat::UntilSettled),
            _ => None,
        }
    }

    /// The resource the step creates that the run must delete, by live name.
    pub fn creates(&self) -> Option<String> {
        match self {
            Step::CreateUser { user, .. } => Some(format!("user {user}")),
            Step::CreateRole { role } => Some(format!("role {role}")),
            Step::CreatePolicy { name, .. } => Some(format!("policy {name}")),
            Step::CreateServiceSpecificCredential {
                user,
                purpose: Purpose::CallKey,
                ..
            } => Some(format!("a Bedrock long-term key of user {user}")),
            _ => None,
        }
    }
}

/// The step as `--dry-run` prints it: the operation and what it acts on; never a document's
/// text nor a key.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.operation())?;
        match self {
            Step::Simulate { action, resource } => write!(
                f,
                "{action} on {resource} (asked with the cases that share its policies and context)"
            )?,
            Step::CreateUser { user, .. } => write!(f, "user {user}")?,
            Step::CreateRole { role } => write!(f, "role {role} (trusting the sandbox account)")?,
            Step::PutPolicy { holder, name, .. } => write!(f, "{name} on {holder}")?,
            Step::CreatePolicy { name, .. } => write!(f, "policy {name}")?,
            Step::GetPolicy { arn } => write!(f, "{arn}")?,
            Step::GetPolicyVersion { arn, .. } => {
                write!(f, "{arn} (its default version must be the case's document)")?
            }
            Step::AttachPolicy { holder, policy, .. } => write!(f, "{policy} to {holder}")?,
            Step::PutPermissionsBoundary { holder, policy } => write!(f, "{policy} on {holder}")?,
            Step::CreateAccessKey { user } => write!(f, "for user {user}")?,
            Step::AssumeRole {
                role,
                session,
                session_policy,
            } => {
                write!(f, "role {role} as session {session}")?;
                if session_policy.is_some() {
                    f.write_str(" with a session policy")?;
                }
            }
            Step::CreateServiceSpecificCredential {
                user,
                service,
                age_days,
                purpose,
            } => {
                write!(f, "for user {user}, service {service}")?;
                match age_days {
                    Some(1) => f.write_str(", credential age 1 day")?,
                    Some(d) => write!(f, ", credential age {d} days")?,
                    None => {}
                }
                match purpose {
                    Purpose::CallKey => f.write_str(" (the call's long-term key)")?,
                    Purpose::Existing => f.write_str(" (a key the case says it holds)")?,
                    Purpose::Recorded => {}
                }
            }
            Step::UpdateServiceSpecificCredential { user } => {
                write!(f, "the call's key of user {user} to Inactive")?
            }
            Step::TagUser { user } => write!(f, "user {user} with the run's tag")?,
            Step::Call {
                model, region, key, ..
            } => {
                write!(f, "{model} in {region} with ")?;
                match key {
                    KeyRef::Malformed(_) => f.write_str("the case's malformed key")?,
                    KeyRef::ShortTerm {
                        signer, age_secs, ..
                    } => {
                        write!(f, "a short-term key signed by {signer}")?;
                        if *age_secs > 0 {
                            write!(f, " {age_secs} s before the call")?;
                        }
                    }
                    KeyRef::LongTerm { user } => write!(f, "the long-term key of user {user}")?,
                }
            }
        }
        // A call's key already says whose it is.
        if self.by() == By::Case && !matches!(self, Step::Call { .. }) {
            f.write_str(" as the case principal")?;
        }
        match self.repeats() {
            Some(Repeat::UntilAssumable) => {
                f.write_str(" [repeated until the role can be assumed]")
            }
            Some(Repeat::UntilSettled) if self.is_recorded() => {
                f.write_str(" [recorded; repeated until the answer settles]")
            }
            Some(Repeat::UntilSettled) => f.write_str(" [repeated with the recorded request]"),
            None => Ok(()),
        }
    }
}

impl Step {
    /// Whether the step's answer is the case's answer.
    pub fn is_recorded(&self) -> bool {
        matches!(
            self,
            Step::Call { .. }
                | Step::CreateServiceSpecificCredential {
                    purpose: Purpose::Recorded,
                    ..
                }
        )
    }
}

/// The steps of `plan`, in the order a run makes them. The steps that repeat until the answer
/// settles come last (see [`split`]).
pub fn steps(plan: &LivePlan) -> Vec<Step> {
    let mut out = Vec::new();
    match plan {
        LivePlan::Simulate(s) => out.push(Step::Simulate {
            action: s.action.clone(),
            resource: s.resource.clone(),
        }),
        LivePlan::CreateKey {
            caller,
            user,
            service,
            age_days,
            flow,
            existing_keys,
            user_exists,
        } => {
            principal(caller, &mut out);
            out.push(credentials(caller));
            if *flow == Flow::Api && *user_exists {
                // A user creating its own key is the caller, made above.
                if caller.user_name() != Some(user.as_str()) {
                    out.push(Step::CreateUser {
                        user: user.clone(),
                        by: By::Runner,
                    });
                }
                for _ in 0..*existing_keys {
                    out.push(Step::CreateServiceSpecificCredential {
                        user: user.clone(),
                        service: existing_key_service(service),
                        age_days: None,
                        purpose: Purpose::Existing,
                    });
                }
            }
            if *flow == Flow::Console {
                out.push(Step::CreateUser {
                    user: user.clone(),
                    by: By::Case,
                });
                out.push(Step::TagUser { user: user.clone() });
                out.push(Step::AttachPolicy {
                    holder: Holder::User(user.clone()),
                    policy: PolicyRef::Aws(LIMITED_ACCESS_POLICY.into()),
                    by: By::Case,
                });
            }
            out.push(Step::CreateServiceSpecificCredential {
                user: user.clone(),
                service: service.clone(),
                age_days: *age_days,
                purpose: Purpose::Recorded,
            });
        }
        LivePlan::Call {
            key,
            operation,
            region,
            model,
        } => {
            let key = match key {
                KeyPlan::Malformed(t) => KeyRef::Malformed(t.clone()),
                KeyPlan::ShortTerm {
                    principal: p,
                    region,
                    age_secs,
                    expires_in,
                } => {
                    principal(p, &mut out);
                    out.push(credentials(p));
                    KeyRef::ShortTerm {
                        signer: holder(p),
                        region: region.clone(),
                        age_secs: *age_secs,
                        expires_in: *expires_in,
                    }
                }
                KeyPlan::LongTerm {
                    user,
                    age_days,
                    active,
                } => {
                    principal(user, &mut out);
                    let name = match holder(user) {
                        Holder::User(n) | Holder::Role(n) => n,
                    };
                    out.push(Step::CreateServiceSpecificCredential {
                        user: name.clone(),
                        service: keyward_bedrock::ServiceName::bedrock().as_str().to_string(),
                        age_days: age_days.map(i64::from),
                        purpose: Purpose::CallKey,
                    });
                    if !active {
                        out.push(Step::UpdateServiceSpecificCredential { user: name.clone() });
                    }
                    KeyRef::LongTerm { user: name }
                }
            };
            out.push(Step::Call {
                operation: *operation,
                model: model.clone(),
                region: region.clone(),
                key,
            });
        }
    }
    out
}

/// The steps made once, in order, and the steps of one attempt at the recorded request.
pub fn split(steps: &[Step]) -> (&[Step], &[Step]) {
    let at = steps
        .iter()
        .position(|s| s.repeats() == Some(Repeat::UntilSettled))
        .unwrap_or(steps.len());
    steps.split_at(at)
}

/// IAM makes no credential for a service that takes none: a case's existing keys for such a
/// service are Bedrock's.
fn existing_key_service(service: &str) -> String {
    keyward_bedrock::ServiceName::new(service)
        .ok()
        .filter(keyward_bedrock::ServiceName::is_supported)
        .unwrap_or_else(keyward_bedrock::ServiceName::bedrock)
        .as_str()
        .to_string()
}

fn holder(p: &Principal) -> Holder {
    match p {
        Principal::Role { live_name, .. } => Holder::Role(live_name.clone()),
        Principal::User { live_name, .. } => Holder::User(live_name.clone()),
    }
}

/// The principal, then its policies ([`provision`]).
fn principal(p: &Principal, out: &mut Vec<Step>) {
    let h = holder(p);
    out.push(match &h {
        Holder::Role(role) => Step::CreateRole { role: role.clone() },
        Holder::User(user) => Step::CreateUser {
            user: user.clone(),
            by: By::Runner,
        },
    });
    let policies = match p {
        Principal::Role { policies, .. } | Principal::User { policies, .. } => policies,
    };
    out.extend(provision(&h, policies));
}

/// The steps that give a principal the runner made its policies: the inline ones (`p0`, `p1`,
/// ...), the managed ones (each created, or AWS's checked, then attached) and the boundary.
pub fn provision(h: &Holder, policies: &PrincipalPolicies) -> Vec<Step> {
    let mut out = Vec::new();
    for (i, document) in policies.identity.iter().enumerate() {
        out.push(Step::PutPolicy {
            holder: h.clone(),
            name: format!("p{i}"),
            document: document.clone(),
        });
    }
    for m in &policies.managed {
        managed(m, PolicyType::Identity, &mut out);
        out.push(Step::AttachPolicy {
            holder: h.clone(),
            policy: PolicyRef::of(m),
            by: By::Runner,
        });
    }
    if let Some(b) = &policies.boundary {
        managed(b, PolicyType::PermissionsBoundary, &mut out);
        out.push(Step::PutPermissionsBoundary {
            holder: h.clone(),
            policy: PolicyRef::of(b),
        });
    }
    out
}

/// A customer managed policy is created; an AWS managed one is read, to check that it is the
/// case's document, before it is attached.
fn managed(m: &ManagedPolicy, kind: PolicyType, out: &mut Vec<Step>) {
    match m {
        ManagedPolicy::Create { name, document } => out.push(Step::CreatePolicy {
            name: name.clone(),
            document: document.clone(),
        }),
        ManagedPolicy::Aws { arn, document } => {
            out.push(Step::GetPolicy { arn: arn.clone() });
            out.push(Step::GetPolicyVersion {
                arn: arn.clone(),
                document: document.clone(),
                kind,
            });
        }
    }
}

/// The step that gives the runner the principal's credentials.
fn credentials(p: &Principal) -> Step {
    match p {
        Principal::Role {
            live_name,
            session,
            session_policy,
            ..
        } => Step::AssumeRole {
            role: live_name.clone(),
            session: session.clone(),
            session_policy: session_policy.clone(),
        },
        Principal::User { live_name, .. } => Step::CreateAccessKey {
            user: live_name.clone(),
        },
    }
}

/// A case's steps as `--dry-run` prints them: `case ID:`, one step a line, then what the case
/// creates; every line starts with `indent`.
pub fn listing(id: &str, steps: &[Step], indent: &str) -> String {
    let mut out = format!("{indent}case {id}:\n");
    for s in steps {
        out.push_str(&format!("{indent}  {s}\n"));
    }
    let created: Vec<String> = steps.iter().filter_map(Step::creates).collect();
    if !created.is_empty() {
        out.push_str(&format!("{indent}  creates: {}\n", created.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Case;
    use crate::live::names::RunId;
    use crate::live::plan::{plan, PlanContext};
    use serde_json::json;

    const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";

    fn planned(policies: Value, scenario: Value) -> Vec<Step> {
        let case = Case::from_json(&json!({"id": "t", "policies": policies, "scenario": scenario}))
            .unwrap();
        let ctx = PlanContext {
            run: RunId::parse("abcdefgh").unwrap(),
            index: 1,
            account: "111122223333".into(),
            model: "amazon.nova-micro-v1:0".into(),
            now: 1_800_000_000,
        };
        plan(&case, &ctx).unwrap().plan.steps()
    }

    fn allow() -> Value {
        json!({"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]})
    }

    fn create(flow: &str, user_exists: bool) -> Value {
        json!({"create_key": {"caller": ROLE, "user": "bob", "service": "bedrock.amazonaws.com",
                              "flow": flow, "user_exists": user_exists}})
    }

    #[test]
    fn the_steps_that_settle_are_the_last_and_end_with_the_recorded_one() {
        let call = json!({"call": {"operation": "Converse", "key": {"type": "SHORT_TERM", "principal": ROLE,
            "region": "us-east-1"}, "model": "amazon.nova-micro-v1:0", "region": "us-east-1"}});
        for steps in [
            planned(allow(), create("api", true)),
            planned(allow(), create("api", false)),
            planned(allow(), call),
        ] {
            let (once, attempt) = split(&steps);
            assert!(once
                .iter()
                .all(|s| s.repeats() != Some(Repeat::UntilSettled)));
            assert!(attempt
                .iter()
                .all(|s| s.repeats() == Some(Repeat::UntilSettled)));
            assert!(attempt.last().unwrap().is_recorded(), "{steps:?}");
            assert_eq!(attempt.iter().filter(|s| s.is_recorded()).count(), 1);
            // A document is never printed, only its name.
            assert!(steps.iter().all(|s| !s.to_string().contains('{')));
        }
    }

    #[test]
    fn a_target_user_that_does_not_exist_yet_is_not_created_nor_listed() {
        let exists = planned(allow(), create("api", true));
        let absent = planned(allow(), create("api", false));
        let users = |s: &[Step]| {
            s.iter()
                .filter_map(Step::creates)
                .filter(|r| r.starts_with("user "))
                .count()
        };
        assert_eq!(users(&exists), 1);
        assert_eq!(users(&absent), 0);
        assert_eq!(exists.len(), absent.len() + 1);
    }
}
