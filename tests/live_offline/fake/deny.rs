//! Explicit denies from the policies a principal really carries, worded as AWS documents them
//! (IAM User Guide, "Troubleshoot access denied error messages",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html, and
//! "enhanced access denied error messages with policy ARNs",
//! https://aws.amazon.com/blogs/security/enhanced-access-denied-error-messages-with-policy-arns/):
//! `... with an explicit deny in an identity-based policy: <policy ARN>` for a managed policy,
//! and the same for a permissions boundary. AWS does not show what an inline policy gets; the
//! fake gives it no suffix, as keyward assumes (A-INLINE-NO-ARN).
//!
//! A test installs [`explicit_deny`] as a hook. It reads the documents the run stored (inline
//! policies, attached managed policies, the boundary) and applies their unconditional Deny
//! statements only: it is a check of how denies are worded, not an evaluator.

use serde_json::Value;

use super::bedrock::bedrock_error;
use super::iam::iam_error;
use super::response::Resp;
use super::{Principal, Req, World};

/// A hook: a bedrock-runtime call (action `bedrock:CallWithBearerToken`, resource `*`) or a
/// case principal's CreateServiceSpecificCredential (resource `user <name>`) that a Deny
/// statement of the caller's policies covers is refused with AWS's message for it.
pub fn explicit_deny(r: &Req, w: &mut World) -> Option<Resp> {
    let caller = r.caller_arn.clone()?;
    let (action, resource, arn) = match (r.service, r.op.as_str()) {
        ("bedrock", _) => ("bedrock:CallWithBearerToken", "*".to_string(), None),
        ("iam", "CreateServiceSpecificCredential") if !r.by_runner => {
            let user = r.param("UserName")?.to_string();
            let arn = w.user_arn(&user);
            (
                "iam:CreateServiceSpecificCredential",
                format!("user {user}"),
                Some(arn),
            )
        }
        _ => return None,
    };
    let (phrase, policy_arn) = denying(w, &caller, action, arn.as_deref().unwrap_or("*"))?;
    let mut m = format!(
        "User: {caller} is not authorized to perform: {action} on resource: {resource} with an explicit deny in {phrase}"
    );
    if let Some(a) = policy_arn {
        m.push_str(": ");
        m.push_str(&a);
    }
    Some(if r.service == "bedrock" {
        bedrock_error(w, 403, "AccessDeniedException", &m)
    } else {
        iam_error(w, 403, "AccessDenied", &m)
    })
}

/// The user or role behind a caller ARN (`user/N` or `assumed-role/R/S`).
fn principal<'a>(w: &'a World, caller: &str) -> Option<&'a Principal> {
    let resource = caller.splitn(6, ':').nth(5)?;
    if let Some(u) = resource.strip_prefix("user/") {
        return w.users.get(u);
    }
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    w.roles.get(role)
}

/// The type phrase (with its article) and the ARN, if managed, of the first policy whose Deny
/// covers the request: identity-based policies first, then the boundary (keyward's
/// A-DENY-PRECEDENCE order; AWS names one type without saying which).
fn denying(
    w: &World,
    caller: &str,
    action: &str,
    resource: &str,
) -> Option<(&'static str, Option<String>)> {
    let p = principal(w, caller)?;
    let denies = |doc: &str| statement_denies(doc, action, resource);
    if p.inline_docs.values().any(|d| denies(d)) {
        return Some(("an identity-based policy", None));
    }
    for arn in &p.attached {
        if w.policy_docs.get(arn).is_some_and(|d| denies(d)) {
            return Some(("an identity-based policy", Some(arn.clone())));
        }
    }
    let b = p.boundary.as_ref()?;
    w.policy_docs
        .get(b)
        .filter(|d| denies(d))
        .map(|_| ("a permissions boundary", Some(b.clone())))
}

/// Whether an unconditional Deny statement of `doc` names the action and the resource.
fn statement_denies(doc: &str, action: &str, resource: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(doc) else {
        return false;
    };
    let statements = match &v["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        s["Effect"] == "Deny"
            && s.get("Condition").is_none()
            && texts(&s["Action"])
                .any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            && texts(&s["Resource"]).any(|p| glob(&p, resource))
    })
}

fn texts(v: &Value) -> impl Iterator<Item = String> + '_ {
    let one = v.as_str().map(str::to_string);
    let many = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string));
    one.into_iter().chain(many)
}

/// IAM's `*` and `?` wildcards.
fn glob(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
