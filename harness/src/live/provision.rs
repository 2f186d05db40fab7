//! IAM principals that carry a case's policies, their credentials, and their deletion.
//!
//! Identity policies given without an ARN become inline policies (one per policy, named `p0`,
//! `p1`, ...); those given with an ARN become managed policies attached to the principal (an AWS
//! managed one by its ARN, once its document is found to be the case's; a customer managed one
//! created under its live name); a permissions boundary becomes a managed policy set as the
//! principal's boundary, and a session policy is passed to AssumeRole. The runner creates and
//! deletes everything with its own credentials; only the recorded request is made as the case's
//! principal.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_iam::types::{StatusType, Tag};
use keyward_iam::{Policy, PolicyType};
use serde_json::Value;

use super::aws::{sdk_error, ApiFailure, Secret};
use super::journal::Resource;
use super::ledger::Ledger;
use super::names::{RunId, TAG_KEY};
pub use super::policies::{ManagedPolicy, PrincipalPolicies};
use super::{Aws, LiveError};

/// A new role can take a few seconds before it can be assumed; AssumeRole is retried on
/// AccessDenied with these waits (about a minute in all) unless the caller gives its own.
pub const ASSUME_WAITS: [u64; 7] = [1, 2, 4, 8, 10, 15, 20];

/// The run's tag, which proves a resource is the run's (nothing untagged is ever deleted).
pub(super) fn tag(run: &RunId) -> Tag {
    Tag::builder()
        .key(TAG_KEY)
        .value(run.as_str())
        .build()
        .expect("key and value are set")
}

/// A principal the runner made: where its policies go.
#[derive(Debug, Clone, Copy)]
enum Holder<'a> {
    User(&'a str),
    Role(&'a str),
}

/// Puts the identity policies inline (`p0`, `p1`, ...), attaches the managed ones and sets the
/// boundary.
async fn attach(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    holder: Holder<'_>,
    policies: &PrincipalPolicies,
) -> Result<(), LiveError> {
    for (i, p) in policies.identity.iter().enumerate() {
        let (name, doc) = (format!("p{i}"), p.to_string());
        let iam = aws.iam()?;
        match holder {
            Holder::User(u) => iam
                .put_user_policy()
                .user_name(u)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(drop)
                .map_err(sdk_error("iam:PutUserPolicy"))?,
            Holder::Role(r) => iam
                .put_role_policy()
                .role_name(r)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(drop)
                .map_err(sdk_error("iam:PutRolePolicy"))?,
        }
    }
    for m in &policies.managed {
        let arn = managed_arn(aws, ledger, run, m, PolicyType::Identity).await?;
        let iam = aws.iam()?;
        match holder {
            Holder::User(u) => iam
                .attach_user_policy()
                .user_name(u)
                .policy_arn(arn)
                .send()
                .await
                .map(drop)
                .map_err(sdk_error("iam:AttachUserPolicy"))?,
            Holder::Role(r) => iam
                .attach_role_policy()
                .role_name(r)
                .policy_arn(arn)
                .send()
                .await
                .map(drop)
                .map_err(sdk_error("iam:AttachRolePolicy"))?,
        }
    }
    if let Some(b) = &policies.boundary {
        let arn = managed_arn(aws, ledger, run, b, PolicyType::PermissionsBoundary).await?;
        let iam = aws.iam()?;
        match holder {
            Holder::User(u) => iam
                .put_user_permissions_boundary()
                .user_name(u)
                .permissions_boundary(arn)
                .send()
                .await
                .map(drop)
                .map_err(sdk_error("iam:PutUserPermissionsBoundary"))?,
            Holder::Role(r) => iam
                .put_role_permissions_boundary()
                .role_name(r)
                .permissions_boundary(arn)
                .send()
                .await
                .map(drop)
                .map_err(sdk_error("iam:PutRolePermissionsBoundary"))?,
        }
    }
    Ok(())
}

/// Creates a user carrying `policies`.
pub async fn create_user(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
    policies: &PrincipalPolicies,
) -> Result<String, LiveError> {
    let out = aws
        .iam()?
        .create_user()
        .user_name(name)
        .tags(tag(run))
        .send()
        .await
        .map_err(sdk_error("iam:CreateUser"))?;
    ledger.created(Resource::User(name.into()))?;
    attach(aws, ledger, run, Holder::User(name), policies).await?;
    Ok(out.user().map(|u| u.arn().to_string()).unwrap_or_default())
}

/// Creates a role the runner may assume (its trust policy trusts the sandbox account, see
/// [`Aws::trust_principal`]), carrying `policies`.
pub async fn create_role(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
    policies: &PrincipalPolicies,
) -> Result<String, LiveError> {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": aws.trust_principal()},
                       "Action": "sts:AssumeRole"}]
    });
    let out = aws
        .iam()?
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .max_session_duration(3600)
        .tags(tag(run))
        .send()
        .await
        .map_err(sdk_error("iam:CreateRole"))?;
    ledger.created(Resource::Role(name.into()))?;
    attach(aws, ledger, run, Holder::Role(name), policies).await?;
    Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

/// The ARN of a managed policy the principal is to carry: created for the run, or AWS's own
/// once its current document is found to be the case's.
async fn managed_arn(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    m: &ManagedPolicy,
    kind: PolicyType,
) -> Result<String, LiveError> {
    match m {
        ManagedPolicy::Create { name, document } => {
            create_policy(aws, ledger, run, name, document).await
        }
        ManagedPolicy::Aws { arn, document } => {
            check_aws_managed(aws, arn, document, kind).await?;
            Ok(arn.clone())
        }
    }
}

/// Creates a customer managed policy, tagged with the run, and journals it once IAM has.
async fn create_policy(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
    doc: &Value,
) -> Result<String, LiveError> {
    let arn = format!("arn:aws:iam::{}:policy/{name}", aws.account());
    let out = aws
        .iam()?
        .create_policy()
        .policy_name(name)
        .policy_document(doc.to_string())
        .tags(tag(run))
        .send()
        .await
        .map_err(sdk_error("iam:CreatePolicy"))?;
    let arn = out
        .policy()
        .and_then(|p| p.arn())
        .map_or(arn, str::to_string);
    ledger.created(Resource::Policy(arn.clone()))?;
    Ok(arn)
}

/// AWS enforces its own document of an AWS managed policy, not the one the case gives: the
/// policy is attached only if its current default version is the same policy (compared as
/// keyward-iam reads both), else the case fails with the reason and nothing is attached.
async fn check_aws_managed(
    aws: &Aws,
    arn: &str,
    document: &Value,
    kind: PolicyType,
) -> Result<(), LiveError> {
    let version = aws
        .iam()?
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(sdk_error("iam:GetPolicy"))?
        .policy()
        .and_then(|p| p.default_version_id())
        .map(str::to_string)
        .ok_or_else(|| LiveError::Aws {
            operation: "iam:GetPolicy",
            detail: format!("no default version for {arn}"),
        })?;
    let out = aws
        .iam()?
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(sdk_error("iam:GetPolicyVersion"))?;
    // IAM returns the document URL-encoded (RFC 3986), as the API reference says.
    let theirs = out
        .policy_version()
        .and_then(|v| v.document())
        .map(percent_decode)
        .unwrap_or_default();
    if same_policy(&theirs, document, kind) {
        Ok(())
    } else {
        Err(LiveError::Aws {
            operation: "iam:GetPolicyVersion",
            detail: format!(
                "AWS's document of {arn} ({version}) is not the one the case gives for it, and AWS enforces its own; the case is not run (give the case AWS's current document)"
            ),
        })
    }
}

/// Whether two policy texts are the same policy as keyward-iam reads them (white space, and
/// the order of an object's members, aside).
pub fn same_policy(theirs: &str, ours: &Value, kind: PolicyType) -> bool {
    let read = |v: &Value| Policy::parse(v, kind).map(|p| p.to_json()).ok();
    let Ok(theirs) = serde_json::from_str::<Value>(theirs) else {
        return false;
    };
    match (read(&theirs), read(ours)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Undoes RFC 3986 percent-encoding; a `%` not followed by two hex digits stays as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Long-term SigV4 credentials for a user (for users that sign a short-term key).
pub async fn create_access_key(aws: &Aws, user: &str) -> Result<Credentials, LiveError> {
    let out = aws
        .iam()?
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(sdk_error("iam:CreateAccessKey"))?;
    let k = out.access_key().ok_or_else(|| LiveError::Aws {
        operation: "iam:CreateAccessKey",
        detail: "no key in the answer".into(),
    })?;
    Ok(Credentials::new(
        k.access_key_id(),
        k.secret_access_key(),
        None,
        None,
        "keyward-case-user",
    ))
}

/// Assumes a case role as session `session`, with an optional session policy. Retries the
/// AccessDenied a just-created role answers until it can be assumed.
pub async fn assume_role(
    aws: &Aws,
    role_arn: &str,
    session: &str,
    session_policy: Option<&Value>,
    waits: &[Duration],
) -> Result<Credentials, LiveError> {
    let mut waits = waits.iter();
    loop {
        let mut req = aws
            .sts()?
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .duration_seconds(900);
        if let Some(p) = session_policy {
            req = req.policy(p.to_string());
        }
        match req.send().await {
            Ok(out) => {
                let c = out.credentials().ok_or_else(|| LiveError::Aws {
                    operation: "sts:AssumeRole",
                    detail: "no credentials in the answer".into(),
                })?;
                return Ok(Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    None,
                    "keyward-case-role",
                ));
            }
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                match waits.next() {
                    Some(&w) if f.is_access_denied() => tokio::time::sleep(w).await,
                    _ => return Err(f.into_error("sts:AssumeRole")),
                }
            }
        }
    }
}

/// A Bedrock long-term key for `user`, made by the runner. Returns the key (memory only) and
/// the credential id.
pub async fn create_bedrock_key(
    aws: &Aws,
    user: &str,
    age_days: Option<i32>,
) -> Result<(Secret, String), LiveError> {
    let mut req = aws
        .iam()?
        .create_service_specific_credential()
        .user_name(user)
        .service_name("bedrock.amazonaws.com");
    if let Some(d) = age_days {
        req = req.credential_age_days(d);
    }
    let out = req
        .send()
        .await
        .map_err(sdk_error("iam:CreateServiceSpecificCredential"))?;
    let c = out
        .service_specific_credential()
        .ok_or_else(|| LiveError::Aws {
            operation: "iam:CreateServiceSpecificCredential",
            detail: "no credential in the answer".into(),
        })?;
    // Bedrock keys come back as ServiceCredentialSecret; other services use ServicePassword.
    let secret = c
        .service_credential_secret()
        .unwrap_or(c.service_password())
        .to_string();
    Ok((
        Secret::new(secret),
        c.service_specific_credential_id().to_string(),
    ))
}

pub async fn deactivate_bedrock_key(aws: &Aws, user: &str, id: &str) -> Result<(), LiveError> {
    aws.iam()?
        .update_service_specific_credential()
        .user_name(user)
        .service_specific_credential_id(id)
        .status(StatusType::Inactive)
        .send()
        .await
        .map_err(sdk_error("iam:UpdateServiceSpecificCredential"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_aws_managed_document_is_compared_as_a_policy_once_decoded() {
        // As GetPolicyVersion returns it: RFC 3986 encoded, laid out as AWS keeps it.
        let theirs = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Deny%22%2C%20%22Action%22%3A%20%22%2A%22%2C%20%22Resource%22%3A%20%22%2A%22%7D%5D%0A%7D";
        let ours = json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        let decoded = percent_decode(theirs);
        assert!(decoded.contains("\n  \"Version\""), "{decoded}");
        assert!(same_policy(&decoded, &ours, PolicyType::Identity));
        let narrower = json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]});
        assert!(!same_policy(&decoded, &narrower, PolicyType::Identity));
        assert!(!same_policy("not json", &ours, PolicyType::Identity));
        // A `%` that starts no escape is kept.
        assert_eq!(percent_decode("100%25 %zz %4"), "100% %zz %4");
    }
}
