//! AWS's access-denied message for a decision.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html> and
//! <https://aws.amazon.com/blogs/security/enhanced-access-denied-error-messages-with-policy-arns/>
//!
//! `User: <principal> is not authorized to perform: <action> on resource: <resource>` then
//! `with an explicit deny in <a/an> <type>[: <policy ARN>]` or
//! `because no <type> allows <action> action`. Note "an identity-based policy" and "a permissions
//! boundary" (no "policy"). Where the docs leave a form open:
//! - the session type is "session policy" (assumption A-SESSION-WORDING: one older page spells
//!   it "sessions policy", newer material "session policy");
//! - the policy-ARN suffix is added only for a policy given with an ARN; an inline policy has
//!   none (assumption A-INLINE-NO-ARN: the docs show only managed policies).

use crate::assumptions::{AssumptionId, Assumptions};
use crate::eval::{Decision, DecisionKind, PolicySet};
use crate::policy::{Effect, PolicyType};
use crate::request::Request;

impl PolicyType {
    /// The noun AWS uses for the type in access-denied messages, without article
    /// (`identity-based policy`, `permissions boundary`, ...).
    pub fn aws_phrase(self) -> &'static str {
        type_phrase(self)
    }
}

/// The noun AWS uses for a policy type, without article.
pub(crate) fn type_phrase(t: PolicyType) -> &'static str {
    match t {
        PolicyType::Identity => "identity-based policy",
        PolicyType::PermissionsBoundary => "permissions boundary",
        PolicyType::Session => "session policy",
        PolicyType::Scp => "service control policy",
        PolicyType::Rcp => "resource control policy",
        PolicyType::Resource => "resource-based policy",
    }
}

pub(crate) fn article(t: PolicyType) -> &'static str {
    match t {
        PolicyType::Identity => "an",
        _ => "a",
    }
}

impl Decision {
    /// AWS's message for a deny; `None` for an allow.
    pub fn message(&self, req: &Request, set: &PolicySet) -> Option<String> {
        self.message_with_resource(req, set, req.resource())
    }

    /// The same message with the resource printed another way: some services (IAM) name it
    /// `user bob` rather than by its ARN.
    pub fn message_with_resource(
        &self,
        req: &Request,
        set: &PolicySet,
        resource: &str,
    ) -> Option<String> {
        let by = self.by?;
        let head = format!(
            "User: {} is not authorized to perform: {} on resource: {resource}",
            req.principal(),
            req.action(),
        );
        Some(match self.kind {
            DecisionKind::Allow => return None,
            DecisionKind::ExplicitDeny => {
                let mut m = format!(
                    "{head} with an explicit deny in {} {}",
                    article(by),
                    type_phrase(by)
                );
                if let Some(arn) = self.denying_policy_arn(set) {
                    m.push_str(": ");
                    m.push_str(arn);
                }
                m
            }
            DecisionKind::ImplicitDeny => format!(
                "{head} because no {} allows the {} action",
                type_phrase(by),
                req.action()
            ),
        })
    }

    /// The assumptions the wording of [`Decision::message`] rests on: A-SESSION-WORDING when an
    /// explicit deny names a session policy, A-DENY-ARN-FIRST when several policies of the type
    /// named deny, A-INLINE-NO-ARN when it reports an explicit deny by a policy that can be
    /// inline (identity-based, resource-based, session) and was given without an ARN.
    pub fn message_assumptions(&self, set: &PolicySet) -> Assumptions {
        let mut a = Assumptions::NONE;
        let Some(by) = self.by.filter(|_| self.kind != DecisionKind::Allow) else {
            return a;
        };
        // Only the explicit-deny form is spelled two ways in AWS's pages.
        if by == PolicyType::Session && self.kind == DecisionKind::ExplicitDeny {
            a = a.with(AssumptionId::SessionWording);
        }
        let mut denying = self
            .matched
            .iter()
            .filter(|m| m.policy_type == by && m.effect == Effect::Deny)
            .map(|m| (m.level, m.policy));
        if self.kind == DecisionKind::ExplicitDeny {
            if let Some(first) = denying.next() {
                if denying.any(|p| p != first) {
                    a = a.with(AssumptionId::DenyArnFirst);
                }
            }
        }
        let can_be_inline = matches!(
            by,
            PolicyType::Identity | PolicyType::Resource | PolicyType::Session
        );
        if self.kind == DecisionKind::ExplicitDeny
            && can_be_inline
            && self.denying_policy_arn(set).is_none()
        {
            a = a.with(AssumptionId::InlineNoArn);
        }
        a
    }

    /// The ARN of the first policy of the deciding type whose Deny applied, if it has one.
    pub fn denying_policy_arn<'a>(&self, set: &'a PolicySet) -> Option<&'a str> {
        let by = self.by?;
        let r = self
            .matched
            .iter()
            .find(|m| m.policy_type == by && m.effect == Effect::Deny)?;
        set.policy(r)?.meta.arn.as_deref()
    }
}
