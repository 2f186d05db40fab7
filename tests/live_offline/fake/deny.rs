//! Explicit denies from the policies a principal really carries, worded as AWS documents them
//! (IAM User Guide, "Troubleshoot access denied error messages",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html, and
//! "enhanced access denied error messages with policy ARNs",
//! https://aws.amazon.com/blogs/security/enhanced-access-denied-error-messages-with-policy-arns/):
//! `... with an explicit deny in an identity-based policy: <policy ARN>` for a managed policy,
//! and the same for a permissions boundary. AWS does not show what an inline policy gets; the
//! fake gives it no suffix, as keyward assumes (A-INLINE-NO-ARN).
//!
//! A test installs [`explicit_deny`] as a hook, with a table of AWS's literal answers. The hook
//! reads the documents the run stored (inline policies, attached managed policies, the boundary)
//! and finds the one whose unconditional Deny statement covers the request: it is a check of
//! what the run provisioned, not an evaluator. It then answers with the table's text for that
//! action and that policy ARN (`""` for an inline policy), written out whole by the test; the
//! fake composes no message. A live name the run draws at random stands as `{CALLER}` or
//! `{TARGET}` in a text and is put in from the request.

use serde_json::Value;

use super::bedrock::bedrock_error;
use super::iam::iam_error;
use super::response::Resp;
use super::{Principal, Req, World};

/// AWS's literal answers: (action, ARN of the denying policy or `""` for an inline one, text).
pub type DenyTable = &'static [(&'static str, &'static str, &'static str)];

/// A hook: a bedrock-runtime call (action `bedrock:CallWithBearerToken`, resource `*`) or a
/// case principal's CreateServiceSpecificCredential that a Deny statement of the caller's
/// policies covers is refused with the text `table` gives for that action and policy. A deny
/// the table has no text for is answered with an error that says so, which no case reads as
/// AWS's answer.
pub fn explicit_deny(r: &Req, w: &mut World, table: DenyTable) -> Option<Resp> {
    let caller = r.caller_arn.clone()?;
    let (action, target, arn) = match (r.service, r.op.as_str()) {
        ("bedrock", _) => ("bedrock:CallWithBearerToken", String::new(), None),
        ("iam", "CreateServiceSpecificCredential") if !r.by_runner => {
            let user = r.param("UserName")?.to_string();
            let arn = w.user_arn(&user);
            ("iam:CreateServiceSpecificCredential", user, Some(arn))
        }
        _ => return None,
    };
    let policy_arn = denying(w, &caller, action, arn.as_deref().unwrap_or("*"))?;
    let policy_arn = policy_arn.unwrap_or_default();
    let Some((_, _, text)) = table
        .iter()
        .find(|(a, p, _)| *a == action && *p == policy_arn)
    else {
        let m = format!("the test has no literal answer for {action} denied by {policy_arn:?}");
        return Some(bedrock_error(w, 599, "NoLiteralAnswer", &m));
    };
    let m = text
        .replace("{CALLER}", &caller)
        .replace("{TARGET}", &target);
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

/// The first policy whose Deny covers the request: `Some(None)` for an inline policy, else its
/// ARN. Identity-based policies first, then the boundary (keyward's A-DENY-PRECEDENCE order;
/// AWS names one type without saying which).
fn denying(w: &World, caller: &str, action: &str, resource: &str) -> Option<Option<String>> {
    let p = principal(w, caller)?;
    let denies = |doc: &str| statement_denies(doc, action, resource);
    if p.inline_docs.values().any(|d| denies(d)) {
        return Some(None);
    }
    for arn in &p.attached {
        if w.policy_docs.get(arn).is_some_and(|d| denies(d)) {
            return Some(Some(arn.clone()));
        }
    }
    let b = p.boundary.as_ref()?;
    w.policy_docs
        .get(b)
        .filter(|d| denies(d))
        .map(|_| Some(b.clone()))
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
