//! `keyward runner-policy --account ID`: the identity policy the live runner needs, for one
//! account. Every statement that acts on a principal or a policy names that account and the
//! names a run creates (`keyward-*`, and console-shaped `BedrockAPIKey-*` users); only the
//! simulator and the listings sweep reads, which have no resource to name, use `*`. Attaching a
//! managed policy names the principal as its resource (Service Authorization Reference), so the
//! policy attached is fenced by the `iam:PolicyARN` condition key: the run's own `keyward-*`
//! policies and AWS managed policies (which the runner only reads and attaches, never changes).
//!
//! What it allows is, in effect, administrator access to the account: the runner creates roles
//! with any inline policy (the cases' policies can be anything) and assumes them. The policy keeps
//! the runner to the names it creates; it cannot keep those principals from doing anything.
//! The sandbox must therefore hold nothing else (README, "Running against a sandbox account").

use std::io::Write;

use serde_json::{json, Value};

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::live::names::NAME_PREFIX;

/// An account id that is not 12 digits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the account must be 12 digits, not {0:?}")]
pub struct BadAccount(pub String);

/// An AWS account id: 12 decimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<AccountId, BadAccount> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(BadAccount(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Console-shaped user names: the runner creates them as the target of an API-flow key
/// creation and as a case principal named like a console key's user, and deletes the ones a
/// console-flow case principal creates.
const CONSOLE_USER_PREFIX: &str = "BedrockAPIKey-";

/// What the runner does to the users it creates (provision, enforce, delete, sweep).
const USER_ACTIONS: &[&str] = &[
    "iam:CreateUser",
    "iam:DeleteUser",
    "iam:TagUser",
    "iam:ListUserTags",
    "iam:PutUserPolicy",
    "iam:DeleteUserPolicy",
    "iam:ListUserPolicies",
    "iam:ListAttachedUserPolicies",
    "iam:DetachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteLoginProfile",
    "iam:CreateAccessKey",
    "iam:DeleteAccessKey",
    "iam:ListAccessKeys",
    "iam:CreateServiceSpecificCredential",
    "iam:UpdateServiceSpecificCredential",
    "iam:DeleteServiceSpecificCredential",
    "iam:ListServiceSpecificCredentials",
];

/// What the runner does to the roles it creates.
const ROLE_ACTIONS: &[&str] = &[
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
];

/// Attaching a managed policy to a user or role the runner created; which policy is fenced by
/// `iam:PolicyARN` ([`ATTACHABLE`]).
const ATTACH_ACTIONS: &[&str] = &["iam:AttachUserPolicy", "iam:AttachRolePolicy"];

/// Reading an AWS managed policy's current document, to attach it only if it is the case's.
const AWS_MANAGED_READ_ACTIONS: &[&str] = &["iam:GetPolicy", "iam:GetPolicyVersion"];

/// The AWS managed policies: the same ARNs in every account.
const AWS_MANAGED_POLICIES: &str = "arn:aws:iam::aws:policy/*";

/// What the runner does to the managed policies (attached policies, boundaries) it creates.
const POLICY_ACTIONS: &[&str] = &[
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:TagPolicy",
    "iam:ListPolicyTags",
    "iam:ListPolicyVersions",
    "iam:DeletePolicyVersion",
];

/// Actions with no resource type to name (the Service Authorization Reference lists none for
/// them, so only `*` grants them): the simulator, and the listings sweep reads. None of them
/// changes anything. `sts:GetCallerIdentity` needs no permission at all.
const UNSCOPED_ACTIONS: &[&str] = &[
    "iam:SimulateCustomPolicy",
    "iam:ListUsers",
    "iam:ListRoles",
    "iam:ListPolicies",
];

/// The runner's policy for `account`.
pub fn policy(account: &AccountId) -> Value {
    let a = account.as_str();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SimulateAndList",
                "Effect": "Allow",
                "Action": UNSCOPED_ACTIONS,
                "Resource": "*"
            },
            {
                "Sid": "CaseUsers",
                "Effect": "Allow",
                "Action": USER_ACTIONS,
                "Resource": [
                    format!("arn:aws:iam::{a}:user/{NAME_PREFIX}*"),
                    format!("arn:aws:iam::{a}:user/{CONSOLE_USER_PREFIX}*")
                ]
            },
            {
                "Sid": "CaseRoles",
                "Effect": "Allow",
                "Action": ROLE_ACTIONS,
                "Resource": format!("arn:aws:iam::{a}:role/{NAME_PREFIX}*")
            },
            {
                "Sid": "AssumeCaseRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": format!("arn:aws:iam::{a}:role/{NAME_PREFIX}*")
            },
            {
                "Sid": "CasePolicies",
                "Effect": "Allow",
                "Action": POLICY_ACTIONS,
                "Resource": format!("arn:aws:iam::{a}:policy/{NAME_PREFIX}*")
            },
            {
                "Sid": "AttachCasePolicies",
                "Effect": "Allow",
                "Action": ATTACH_ACTIONS,
                "Resource": [
                    format!("arn:aws:iam::{a}:user/{NAME_PREFIX}*"),
                    format!("arn:aws:iam::{a}:user/{CONSOLE_USER_PREFIX}*"),
                    format!("arn:aws:iam::{a}:role/{NAME_PREFIX}*")
                ],
                "Condition": {"ArnLike": {"iam:PolicyARN": [
                    format!("arn:aws:iam::{a}:policy/{NAME_PREFIX}*"),
                    AWS_MANAGED_POLICIES
                ]}}
            },
            {
                "Sid": "ReadAwsManagedPolicies",
                "Effect": "Allow",
                "Action": AWS_MANAGED_READ_ACTIONS,
                "Resource": AWS_MANAGED_POLICIES
            }
        ]
    })
}

/// The policy as printed: pretty JSON and a newline.
pub fn render(account: &AccountId) -> String {
    let mut s = serde_json::to_string_pretty(&policy(account)).unwrap_or_default();
    s.push('\n');
    s
}

/// Prints the policy for `account`; a bad account id exits 2.
pub fn run(account: &str, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match AccountId::parse(account) {
        Ok(a) => {
            let _ = out.write_all(render(&a).as_bytes());
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_iam::{
        evaluate, ContextValue, DecisionKind, Policy, PolicySet, PolicyType, Request,
    };

    fn allows(p: &Value, action: &str, resource: &str) -> bool {
        let set = PolicySet {
            identity: vec![Policy::parse(p, PolicyType::Identity).expect("a valid policy")],
            ..PolicySet::default()
        };
        let req = Request::new(
            "arn:aws:iam::111122223333:role/KeywardRunner",
            action,
            resource,
        );
        evaluate(&set, &req).kind == DecisionKind::Allow
    }

    #[test]
    fn it_allows_the_runner_its_own_names_in_its_own_account_only() {
        let p = policy(&AccountId::parse("111122223333").unwrap());
        let acct = "arn:aws:iam::111122223333";
        assert!(allows(
            &p,
            "iam:PutRolePolicy",
            &format!("{acct}:role/keyward-ab-1-k-dev")
        ));
        assert!(allows(
            &p,
            "sts:AssumeRole",
            &format!("{acct}:role/keyward-ab-1-k-dev")
        ));
        assert!(allows(
            &p,
            "iam:DeleteUser",
            &format!("{acct}:user/BedrockAPIKey-h42z")
        ));
        assert!(allows(
            &p,
            "iam:CreatePolicy",
            &format!("{acct}:policy/keyward-ab-b-x")
        ));
        // Another account, another name, another kind of change: refused.
        assert!(!allows(
            &p,
            "iam:PutRolePolicy",
            "arn:aws:iam::444455556666:role/keyward-x"
        ));
        assert!(!allows(&p, "iam:DeleteRole", &format!("{acct}:role/Admin")));
        assert!(!allows(&p, "iam:DeleteUser", &format!("{acct}:user/alice")));
        assert!(!allows(
            &p,
            "iam:AttachRolePolicy",
            &format!("{acct}:role/keyward-x")
        ));
        // With the policy it attaches named: the run's own and AWS managed ones only.
        let attach = |role: &str, policy: &str| {
            let set = PolicySet {
                identity: vec![Policy::parse(&p, PolicyType::Identity).unwrap()],
                ..PolicySet::default()
            };
            let req = Request::new(
                "arn:aws:iam::111122223333:role/KeywardRunner",
                "iam:AttachRolePolicy",
                format!("{acct}:role/{role}"),
            )
            .with_context("iam:PolicyARN", ContextValue::single(policy));
            evaluate(&set, &req).kind == DecisionKind::Allow
        };
        assert!(attach(
            "keyward-x",
            &format!("{acct}:policy/keyward-ab-1-Deny")
        ));
        assert!(attach("keyward-x", "arn:aws:iam::aws:policy/AWSDenyAll"));
        assert!(!attach("keyward-x", &format!("{acct}:policy/Admin")));
        assert!(!attach(
            "keyward-x",
            "arn:aws:iam::444455556666:policy/keyward-x"
        ));
        assert!(!attach("Admin", "arn:aws:iam::aws:policy/AWSDenyAll"));
        assert!(allows(
            &p,
            "iam:GetPolicyVersion",
            "arn:aws:iam::aws:policy/AWSDenyAll"
        ));
        assert!(!allows(
            &p,
            "iam:GetPolicyVersion",
            &format!("{acct}:policy/Admin")
        ));
        assert!(!allows(
            &p,
            "iam:CreatePolicyVersion",
            &format!("{acct}:policy/keyward-x")
        ));
        assert!(!allows(&p, "sts:AssumeRole", &format!("{acct}:role/Admin")));
    }

    #[test]
    fn an_account_id_is_twelve_digits() {
        assert!(AccountId::parse("111122223333").is_ok());
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "11112222333x",
            "*",
            "11112222333 ",
        ] {
            assert_eq!(AccountId::parse(bad), Err(BadAccount(bad.into())));
        }
    }
}
