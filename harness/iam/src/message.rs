//! AWS's access-denied message for a decision, in the form of the service that answers.
//!
//! Most services print IAM's sentence
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html>,
//! <https://aws.amazon.com/blogs/security/enhanced-access-denied-error-messages-with-policy-arns/>):
//! `User: <principal> is not authorized to perform: <action> on resource: <resource>` then
//! `with an explicit deny in <a/an> <type>[: <policy ARN>]` or
//! `because no <type> allows <action> action`. Note "an identity-based policy" and "a permissions
//! boundary" (no "policy"). Two services document another form ([`MessageForm`]):
//! - Amazon S3 quotes the resource, and answers a request from outside the bucket owner's
//!   account and organization with a bare `Access Denied`
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html>);
//! - Amazon EC2 wraps the sentence and ends with an encoded authorization message that only
//!   `sts:DecodeAuthorizationMessage` reads
//!   (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html>,
//!   <https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html>).
//!
//! Where the docs leave a form open:
//! - the session type is "session policy" (assumption A-SESSION-WORDING: one older page spells
//!   it "sessions policy", newer material "session policy");
//! - the policy-ARN suffix is added only for a policy given with an ARN; an inline policy has
//!   none (assumption A-INLINE-NO-ARN: the docs show only managed policies). SCPs, RCPs and
//!   permissions boundaries always have an ARN: when a case gives none, the message holds
//!   [`ARN_NOT_GIVEN`] where AWS prints it, and is incomplete: never compared as exact text;
//! - EC2's sentence between its wrapper's two parts (assumption A-EC2-SENTENCE).

use crate::assumptions::{AssumptionId, Assumptions};
use crate::eval::{Decision, DecisionKind, PolicySet};
use crate::policy::{Effect, PolicyType};
use crate::request::Request;

/// Stands where AWS prints the ARN of an SCP, RCP or permissions boundary that the case gave
/// without one: a message holding it is incomplete, and agrees with AWS's text whatever ARN
/// that names ([`messages_agree`]).
pub const ARN_NOT_GIVEN: &str = "<policy ARN not given>";

/// Stands for EC2's encoded authorization message, which only AWS can write: any encoded
/// message matches it.
pub const EC2_ENCODED: &str = "<encoded-message>";

const EC2_HEAD: &str = "You are not authorized to perform this operation. ";
const EC2_TAIL: &str = ". Encoded authorization failure message: ";

/// How the service that answers a request prints an access-denied message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageForm {
    /// IAM's sentence, as most services print it.
    Generic,
    /// Amazon S3, for a request from the bucket owner's account or organization: IAM's
    /// sentence with the resource in quotation marks.
    S3,
    /// Amazon S3, for a request from outside the bucket owner's account and organization: a
    /// bare `Access Denied`.
    S3AccessDenied,
    /// Amazon EC2: `You are not authorized to perform this operation.`, IAM's sentence, then
    /// `Encoded authorization failure message:` and the encoded message.
    Ec2,
}

impl MessageForm {
    /// The form of the service that answers `req`, by the action's service prefix.
    pub fn of(req: &Request) -> MessageForm {
        let service = req.action().split(':').next().unwrap_or_default();
        if service.eq_ignore_ascii_case("s3") {
            if outside_owner(req) {
                MessageForm::S3AccessDenied
            } else {
                MessageForm::S3
            }
        } else if service.eq_ignore_ascii_case("ec2") {
            MessageForm::Ec2
        } else {
            MessageForm::Generic
        }
    }

    /// The name reports print: `generic`, `s3`, `s3-access-denied` or `ec2`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageForm::Generic => "generic",
            MessageForm::S3 => "s3",
            MessageForm::S3AccessDenied => "s3-access-denied",
            MessageForm::Ec2 => "ec2",
        }
    }

    /// The documentation page that fixes the form.
    pub fn source(self) -> &'static str {
        match self {
            MessageForm::Generic => {
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html"
            }
            MessageForm::S3 | MessageForm::S3AccessDenied => {
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html"
            }
            MessageForm::Ec2 => {
                "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html"
            }
        }
    }
}

/// Where a request comes from, seen from the resource's owner: AWS adds context to a denial (S3's
/// policy type, every service's policy ARN) only within the owner's account or organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The owner's account, or an account the case shows in the owner's organization.
    Within,
    /// Another account, in another organization by the case's `aws:PrincipalOrgID` and
    /// `aws:ResourceOrgID`.
    Outside,
    /// Another account, and the case does not give both organizations: read as outside
    /// (assumption A-ORG-UNKNOWN).
    OutsideByAssumption,
}

fn origin(req: &Request) -> Origin {
    if !req.is_cross_account() {
        return Origin::Within;
    }
    let org = |k| req.context.get(k).and_then(|v| v.single_value());
    match (org("aws:PrincipalOrgID"), org("aws:ResourceOrgID")) {
        (Some(p), Some(r)) if p == r => Origin::Within,
        (Some(_), Some(_)) => Origin::Outside,
        _ => Origin::OutsideByAssumption,
    }
}

/// Whether S3 answers `req` without context: from outside the bucket owner's account and
/// organization.
fn outside_owner(req: &Request) -> bool {
    origin(req) != Origin::Within
}

/// Whether `message` is incomplete: it holds [`ARN_NOT_GIVEN`] where AWS prints a policy ARN.
pub fn message_is_incomplete(message: &str) -> bool {
    message.contains(ARN_NOT_GIVEN)
}

/// Whether two answers carry the same message. Where one holds a placeholder, the other may
/// hold what it stands for there: [`ARN_NOT_GIVEN`] any policy ARN (a word starting `arn:`),
/// [`EC2_ENCODED`] any encoded message (a word, not empty); each placeholder also stands for
/// itself. Everything else must be equal. A message with a placeholder is therefore never
/// compared as exact text. Placeholders are filled on one side at a time: two messages that each
/// hold a placeholder where the other holds a value (an ARN placeholder against an encoded one)
/// do not agree; no answer keyward or AWS gives holds such a pair.
pub fn messages_agree(a: &str, b: &str) -> bool {
    fits(a, b) || fits(b, a)
}

/// Whether `text` is `pattern` with each placeholder of `pattern` filled in.
fn fits(pattern: &str, text: &str) -> bool {
    let hole = [ARN_NOT_GIVEN, EC2_ENCODED]
        .into_iter()
        .filter_map(|p| pattern.find(p).map(|at| (at, p)))
        .min();
    let Some((at, placeholder)) = hole else {
        return pattern == text;
    };
    let (Some(head), rest) = (text.get(..at), &pattern[at + placeholder.len()..]) else {
        return false;
    };
    if head != &pattern[..at] {
        return false;
    }
    let filled = &text[at..];
    if let Some(after) = filled.strip_prefix(placeholder) {
        if fits(rest, after) {
            return true;
        }
    }
    let word_end = filled.find(char::is_whitespace).unwrap_or(filled.len());
    let word_ok = |w: &str| placeholder == EC2_ENCODED || w.starts_with("arn:");
    // The shortest word that lets the rest fit: a period may follow an ARN in EC2's form.
    (1..=word_end)
        .filter(|&end| filled.is_char_boundary(end))
        .any(|end| word_ok(&filled[..end]) && fits(rest, &filled[end..]))
}

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

/// Whether a policy of type `t` always has an ARN: an SCP or RCP (an Organizations policy) and
/// a permissions boundary (a managed policy) cannot be inline.
fn always_has_arn(t: PolicyType) -> bool {
    matches!(
        t,
        PolicyType::Scp | PolicyType::Rcp | PolicyType::PermissionsBoundary
    )
}

impl Decision {
    /// AWS's message for a deny, in the form of the service that answers ([`MessageForm::of`]);
    /// `None` for an allow.
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
        let form = MessageForm::of(req);
        let resource = match form {
            MessageForm::S3 => format!("\"{resource}\""),
            MessageForm::S3AccessDenied => {
                return (self.kind != DecisionKind::Allow).then(|| "Access Denied".to_string())
            }
            MessageForm::Generic | MessageForm::Ec2 => resource.to_string(),
        };
        let head = format!(
            "User: {} is not authorized to perform: {} on resource: {resource}",
            req.principal(),
            req.action(),
        );
        let sentence = match self.kind {
            DecisionKind::Allow => return None,
            DecisionKind::ExplicitDeny => {
                let mut m = format!(
                    "{head} with an explicit deny in {} {}",
                    article(by),
                    type_phrase(by)
                );
                // AWS names the policy only within the owner's account or organization.
                if origin(req) == Origin::Within {
                    if let Some(arn) = self.denying_policy_arn(set) {
                        m.push_str(": ");
                        m.push_str(arn);
                    } else if always_has_arn(by) {
                        m.push_str(": ");
                        m.push_str(ARN_NOT_GIVEN);
                    }
                }
                m
            }
            DecisionKind::ImplicitDeny => format!(
                "{head} because no {} allows the {} action",
                type_phrase(by),
                req.action()
            ),
        };
        Some(match form {
            MessageForm::Ec2 => format!("{EC2_HEAD}{sentence}{EC2_TAIL}{EC2_ENCODED}"),
            _ => sentence,
        })
    }

    /// Whether [`Decision::message`] is AWS's whole text: not when it reports an explicit deny
    /// by an SCP, RCP or permissions boundary that the case gave without its ARN.
    pub fn message_is_complete(&self, req: &Request, set: &PolicySet) -> bool {
        !self
            .message(req, set)
            .is_some_and(|m| message_is_incomplete(&m))
    }

    /// The assumptions the wording of [`Decision::message`] rests on: A-SESSION-WORDING when an
    /// explicit deny names a session policy, A-DENY-ARN-FIRST when several policies of the type
    /// named deny, A-INLINE-NO-ARN when it reports an explicit deny by a policy that can be
    /// inline (identity-based, resource-based, session) and was given without an ARN, and
    /// A-EC2-SENTENCE in EC2's form, and A-ORG-UNKNOWN when a cross-account request's
    /// organizations are not given and that decides the form (S3) or whether a policy is named.
    pub fn message_assumptions(&self, req: &Request, set: &PolicySet) -> Assumptions {
        let mut a = Assumptions::NONE;
        let Some(by) = self.by.filter(|_| self.kind != DecisionKind::Allow) else {
            return a;
        };
        let form = MessageForm::of(req);
        let origin = origin(req);
        if origin == Origin::OutsideByAssumption
            && (form == MessageForm::S3AccessDenied || self.kind == DecisionKind::ExplicitDeny)
        {
            a = a.with(AssumptionId::OrgUnknown);
        }
        match form {
            MessageForm::S3AccessDenied => return a,
            MessageForm::Ec2 => a = a.with(AssumptionId::Ec2Sentence),
            MessageForm::Generic | MessageForm::S3 => {}
        }
        if origin != Origin::Within {
            // No policy is named: which one, and whether it has an ARN, does not matter.
            return a;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::policy::{Policy, PolicyMeta};
    use serde_json::json;

    fn deny_all(t: PolicyType) -> Policy {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        Policy::parse(&doc, t).expect("a valid policy")
    }

    fn allow_all() -> Policy {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        Policy::parse(&doc, PolicyType::Identity).expect("a valid policy")
    }

    const USER: &str = "arn:aws:iam::123456789012:user/JohnDoe";

    fn denied(set: &PolicySet, req: &Request) -> String {
        evaluate(set, req).message(req, set).expect("a deny")
    }

    #[test]
    fn s3_quotes_the_resource_and_ec2_wraps_the_sentence() {
        let set = PolicySet::default();
        let s3 = Request::new(USER, "s3:GetObject", "arn:aws:s3:::bucket/key");
        assert_eq!(MessageForm::of(&s3), MessageForm::S3);
        assert_eq!(
            denied(&set, &s3),
            format!("User: {USER} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::bucket/key\" because no identity-based policy allows the s3:GetObject action")
        );
        let ec2 = Request::new(
            USER,
            "ec2:RunInstances",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
        );
        assert_eq!(MessageForm::of(&ec2), MessageForm::Ec2);
        assert_eq!(
            denied(&set, &ec2),
            format!("You are not authorized to perform this operation. User: {USER} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: <encoded-message>")
        );
        assert_eq!(
            evaluate(&set, &ec2).message_assumptions(&ec2, &set),
            Assumptions::of(AssumptionId::Ec2Sentence)
        );
        let other = Request::new(
            USER,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:123456789012:q",
        );
        assert_eq!(MessageForm::of(&other), MessageForm::Generic);
        assert!(denied(&set, &other).starts_with("User: "));
    }

    #[test]
    fn s3_says_only_access_denied_outside_the_owners_account_and_organization() {
        let set = PolicySet::default();
        let cross = Request::new(USER, "s3:GetObject", "arn:aws:s3:::bucket/key")
            .with_resource_account("111122223333");
        assert_eq!(MessageForm::of(&cross), MessageForm::S3AccessDenied);
        assert_eq!(denied(&set, &cross), "Access Denied");
        // The case names no organizations: reading them as different is an assumption.
        assert_eq!(
            evaluate(&set, &cross).message_assumptions(&cross, &set),
            Assumptions::of(AssumptionId::OrgUnknown)
        );
        let same_org = |resource_org: &str| {
            cross
                .clone()
                .with_context("aws:PrincipalOrgID", crate::ContextValue::single("o-a"))
                .with_context(
                    "aws:ResourceOrgID",
                    crate::ContextValue::single(resource_org),
                )
        };
        assert_eq!(MessageForm::of(&same_org("o-a")), MessageForm::S3);
        assert_eq!(
            MessageForm::of(&same_org("o-b")),
            MessageForm::S3AccessDenied
        );
        assert!(evaluate(&set, &same_org("o-b"))
            .message_assumptions(&same_org("o-b"), &set)
            .is_empty());
    }

    #[test]
    fn no_policy_arn_is_named_outside_the_owners_account_and_organization() {
        let mut set = PolicySet {
            identity: vec![allow_all()],
            permissions_boundary: Some(deny_all(PolicyType::PermissionsBoundary)),
            ..PolicySet::default()
        };
        let within = Request::new(
            USER,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:123456789012:q",
        );
        let cross = Request::new(
            USER,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:111122223333:q",
        )
        .with_resource_account("111122223333");
        assert!(
            denied(&set, &within).ends_with(&format!("a permissions boundary: {ARN_NOT_GIVEN}"))
        );
        assert!(denied(&set, &cross).ends_with("with an explicit deny in a permissions boundary"));
        let d = evaluate(&set, &cross);
        assert!(d.message_is_complete(&cross, &set));
        assert_eq!(
            d.message_assumptions(&cross, &set),
            Assumptions::of(AssumptionId::OrgUnknown)
        );
        // An ARN given is not named either.
        set.permissions_boundary = set.permissions_boundary.map(|b| {
            b.with_meta(PolicyMeta {
                name: None,
                arn: Some("arn:aws:iam::123456789012:policy/B".into()),
                source: None,
            })
        });
        assert!(denied(&set, &cross).ends_with("in a permissions boundary"));
        assert!(denied(&set, &within).ends_with(": arn:aws:iam::123456789012:policy/B"));
    }

    #[test]
    fn an_organizations_policy_or_boundary_without_its_arn_leaves_a_placeholder() {
        let req = Request::new(USER, "sqs:SendMessage", "*");
        for t in [
            PolicyType::Scp,
            PolicyType::Rcp,
            PolicyType::PermissionsBoundary,
        ] {
            let mut set = PolicySet {
                identity: vec![allow_all()],
                ..PolicySet::default()
            };
            match t {
                PolicyType::Scp => set.scp = Some(vec![vec![allow_all(), deny_all(t)]]),
                PolicyType::Rcp => set.rcp = Some(vec![vec![allow_all(), deny_all(t)]]),
                _ => set.permissions_boundary = Some(deny_all(t)),
            }
            let d = evaluate(&set, &req);
            assert_eq!(d.by, Some(t));
            let m = d.message(&req, &set).expect("a deny");
            assert!(
                m.ends_with(&format!("{}: {ARN_NOT_GIVEN}", t.aws_phrase())),
                "{m}"
            );
            assert!(!d.message_is_complete(&req, &set));
        }
        // An identity policy may be inline: no placeholder, and the message is complete.
        let set = PolicySet {
            identity: vec![deny_all(PolicyType::Identity)],
            ..PolicySet::default()
        };
        let d = evaluate(&set, &req);
        assert!(!d.message(&req, &set).unwrap().contains(ARN_NOT_GIVEN));
        assert!(d.message_is_complete(&req, &set));
        let arn = "arn:aws:iam::123456789012:policy/Boundary";
        let set = PolicySet {
            identity: vec![allow_all()],
            permissions_boundary: Some(deny_all(PolicyType::PermissionsBoundary).with_meta(
                PolicyMeta {
                    name: None,
                    arn: Some(arn.into()),
                    source: None,
                },
            )),
            ..PolicySet::default()
        };
        let d = evaluate(&set, &req);
        assert!(d
            .message(&req, &set)
            .unwrap()
            .ends_with(&format!(": {arn}")));
        assert!(d.message_is_complete(&req, &set));
    }

    #[test]
    fn placeholders_agree_with_what_they_stand_for_and_nothing_else() {
        let incomplete = format!("... in a permissions boundary: {ARN_NOT_GIVEN}");
        let full = "... in a permissions boundary: arn:aws:iam::1:policy/B";
        assert!(messages_agree(&incomplete, full));
        assert!(messages_agree(full, &incomplete));
        assert!(messages_agree(&incomplete, &incomplete));
        assert!(!messages_agree(
            &incomplete,
            "... in a permissions boundary"
        ));
        assert!(!messages_agree(
            &incomplete,
            "... in a permissions boundary: B"
        ));
        assert!(!messages_agree(
            &incomplete,
            "... in a service control policy: arn:x"
        ));
        let ec2 = format!("You are not authorized to perform this operation. X: {ARN_NOT_GIVEN}. Encoded authorization failure message: {EC2_ENCODED}");
        assert!(messages_agree(
            &ec2,
            "You are not authorized to perform this operation. X: arn:aws:organizations::1:policy/o-1/service_control_policy/p-1. Encoded authorization failure message: Ab-_9"
        ));
        assert!(!messages_agree(
            &ec2,
            "You are not authorized to perform this operation. X: arn:p. Encoded authorization failure message: "
        ));
        assert!(!messages_agree(
            &ec2,
            "You are not authorized to perform this operation. X: arn:p. Encoded authorization failure message: two words"
        ));
        assert!(messages_agree("same", "same"));
        assert!(!messages_agree("same", "Same"));
    }
}
