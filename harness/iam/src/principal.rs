//! The global condition keys AWS puts in the context of every request a principal makes, from the
//! principal alone: the one place scenarios and suite cases take them from.
//!
//! Sources: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
//! (aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalType are "always included in the
//! request context"; aws:username "for IAM users") and the principal table of
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html> (a role
//! session's aws:PrincipalArn is its role's ARN, not the session's).

use crate::{Arn, ContextValue};

/// The keys [`principal_context`] can set, lower-cased: AWS sets them on every request of a
/// principal of the matching kind.
pub const PRINCIPAL_KEYS: [&str; 4] = [
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principaltype",
    "aws:username",
];

/// The global context keys AWS sets for a request made by `principal` (an IAM or STS ARN as AWS
/// prints it in messages): aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalType and, for
/// an IAM user, aws:username. A principal that is not an ARN gets aws:PrincipalArn only.
///
/// ```
/// let keys = keyward_iam::principal_context("arn:aws:sts::123456789012:assumed-role/dev/alice");
/// let arn = keys.iter().find(|(k, _)| *k == "aws:PrincipalArn").unwrap();
/// assert_eq!(arn.1.values(), ["arn:aws:iam::123456789012:role/dev"]);
/// ```
pub fn principal_context(principal: &str) -> Vec<(&'static str, ContextValue)> {
    let mut out = Vec::new();
    let arn = principal.parse::<Arn>().ok();
    let account = arn.as_ref().and_then(Arn::account_id);
    if let Some(a) = account {
        out.push(("aws:PrincipalAccount", ContextValue::single(a)));
    }
    let role = arn.as_ref().and_then(Arn::assumed_role_name);
    let user = arn.as_ref().and_then(Arn::user_name);
    if let (Some(a), Some(role)) = (account, role) {
        out.push((
            "aws:PrincipalArn",
            ContextValue::single(format!("arn:aws:iam::{a}:role/{role}")),
        ));
        out.push(("aws:PrincipalType", ContextValue::single("AssumedRole")));
    } else if let Some(name) = user {
        out.push(("aws:PrincipalArn", ContextValue::single(principal)));
        out.push(("aws:PrincipalType", ContextValue::single("User")));
        out.push(("aws:username", ContextValue::single(name)));
    } else {
        out.push(("aws:PrincipalArn", ContextValue::single(principal)));
    }
    out
}
