//! IAM principals that carry a case's policies, their credentials, and their deletion.
//!
//! Identity policies given without an ARN become inline policies (one per policy, named `p0`,
//! `p1`, ...); those given with an ARN become managed policies attached to the principal (an AWS
//! managed one by its ARN, once its document is found to be the case's; a customer managed one
//! created under its live name); a permissions boundary becomes a managed policy set as the
//! principal's boundary, and a session policy is passed to AssumeRole. The runner creates and
//! deletes everything with its own credentials; only the recorded request is made as the case's
//! principal.
//!
//! Each of these requests is one [`Step`] of a plan's step list ([`super::steps`]): [`execute`]
//! makes one step, so what runs is what `--dry-run` lists.

use std::collections::HashMap;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_iam::types::{StatusType, Tag};
use keyward_iam::{Policy, PolicyType};
use serde_json::Value;
use tokio::time::Instant;

use super::aws::{sdk_error, ApiFailure, Secret};
use super::journal::Resource;
use super::ledger::Ledger;
use super::names::{RunId, TAG_KEY};
pub use super::policies::{ManagedPolicy, PrincipalPolicies};
use super::steps::{self, By, Holder, PolicyRef, Purpose, Step};
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

/// What the steps made so far that later steps need: ARNs IAM answered, an AWS managed
/// policy's default version, the case principal's credentials, the call's long-term key.
#[derive(Debug, Default)]
pub struct Made {
    role_arns: HashMap<String, String>,
    policy_arns: HashMap<String, String>,
    versions: HashMap<String, String>,
    /// The case principal's SigV4 credentials (AssumeRole or CreateAccessKey).
    pub credentials: Option<Credentials>,
    /// The long-term key a call is made with.
    pub long_term: Option<LongTermKey>,
}

/// A Bedrock long-term key the runner made for a call, and when it changed (lag is judged by
/// how long ago).
#[derive(Debug)]
pub struct LongTermKey {
    pub secret: Secret,
    pub id: String,
    pub created: Instant,
    pub deactivated: Option<Instant>,
}

impl Made {
    /// The ARN of a managed policy a step attaches.
    fn policy_arn(&self, p: &PolicyRef) -> Result<String, LiveError> {
        match p {
            PolicyRef::Aws(arn) => Ok(arn.clone()),
            PolicyRef::Created(name) => self.policy_arns.get(name).cloned().ok_or_else(|| {
                out_of_order("iam:CreatePolicy", format!("policy {name} was not created"))
            }),
        }
    }
}

/// A step whose input an earlier step should have made: a step list out of order.
fn out_of_order(operation: &'static str, detail: String) -> LiveError {
    LiveError::Aws { operation, detail }
}

/// Makes one step that is made once, before the recorded request, as the runner (see
/// [`super::steps`]); what it made goes into `made`, and everything it created into `ledger`
/// once IAM has answered that it did. The recorded steps are made by [`super::enforce`].
pub async fn execute(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    step: &Step,
    made: &mut Made,
    assume_waits: &[Duration],
) -> Result<(), LiveError> {
    match step {
        Step::CreateUser {
            user,
            by: By::Runner,
        } => {
            new_user(aws, ledger, run, user).await?;
        }
        Step::CreateRole { role } => {
            let arn = new_role(aws, ledger, run, role).await?;
            made.role_arns.insert(role.clone(), arn);
        }
        Step::PutPolicy {
            holder,
            name,
            document,
        } => put_policy(aws, holder, name, document).await?,
        Step::CreatePolicy { name, document } => {
            let arn = create_policy(aws, ledger, run, name, document).await?;
            made.policy_arns.insert(name.clone(), arn);
        }
        Step::GetPolicy { arn } => {
            let v = default_version(aws, arn).await?;
            made.versions.insert(arn.clone(), v);
        }
        Step::GetPolicyVersion {
            arn,
            document,
            kind,
        } => {
            let v = made.versions.get(arn).ok_or_else(|| {
                out_of_order(
                    "iam:GetPolicy",
                    format!("no default version read for {arn}"),
                )
            })?;
            check_version(aws, arn, v, document, *kind).await?;
        }
        Step::AttachPolicy {
            holder,
            policy,
            by: By::Runner,
        } => attach_policy(aws, holder, &made.policy_arn(policy)?).await?,
        Step::PutPermissionsBoundary { holder, policy } => {
            put_boundary(aws, holder, &made.policy_arn(policy)?).await?
        }
        Step::CreateAccessKey { user } => {
            made.credentials = Some(create_access_key(aws, user).await?);
        }
        Step::AssumeRole {
            role,
            session,
            session_policy,
        } => {
            let arn = made.role_arns.get(role).ok_or_else(|| {
                out_of_order("iam:CreateRole", format!("role {role} was not created"))
            })?;
            let c = assume_role(aws, arn, session, session_policy.as_ref(), assume_waits).await?;
            made.credentials = Some(c);
        }
        Step::CreateServiceSpecificCredential {
            user,
            service,
            age_days,
            purpose: Purpose::CallKey,
        } => {
            let age = age_days.map(|d| i32::try_from(d).unwrap_or(i32::MAX));
            let (secret, id) = create_credential(aws, user, service, age).await?;
            made.long_term = Some(LongTermKey {
                secret,
                id,
                created: Instant::now(),
                deactivated: None,
            });
        }
        Step::CreateServiceSpecificCredential {
            user,
            service,
            purpose: Purpose::Existing,
            ..
        } => {
            create_credential(aws, user, service, None).await?;
        }
        Step::UpdateServiceSpecificCredential { user } => {
            let key = made.long_term.as_mut().ok_or_else(|| {
                out_of_order(
                    "iam:CreateServiceSpecificCredential",
                    format!("no key was created for user {user}"),
                )
            })?;
            deactivate_credential(aws, user, &key.id).await?;
            key.deactivated = Some(Instant::now());
        }
        other => {
            return Err(out_of_order(
                other.operation(),
                "a step of the recorded request, made only as part of an attempt".into(),
            ))
        }
    }
    Ok(())
}

/// Executes `steps` in order.
async fn execute_all(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    steps: &[Step],
    made: &mut Made,
) -> Result<(), LiveError> {
    for s in steps {
        execute(aws, ledger, run, s, made, &[]).await?;
    }
    Ok(())
}

/// Creates a user carrying `policies` (the steps [`steps::provision`] lists).
pub async fn create_user(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
    policies: &PrincipalPolicies,
) -> Result<String, LiveError> {
    let arn = new_user(aws, ledger, run, name).await?;
    let h = Holder::User(name.to_string());
    execute_all(
        aws,
        ledger,
        run,
        &steps::provision(&h, policies),
        &mut Made::default(),
    )
    .await?;
    Ok(arn)
}

/// Creates a role the runner may assume, carrying `policies` (the steps [`steps::provision`]
/// lists).
pub async fn create_role(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
    policies: &PrincipalPolicies,
) -> Result<String, LiveError> {
    let arn = new_role(aws, ledger, run, name).await?;
    let h = Holder::Role(name.to_string());
    execute_all(
        aws,
        ledger,
        run,
        &steps::provision(&h, policies),
        &mut Made::default(),
    )
    .await?;
    Ok(arn)
}

/// A user, tagged with the run, journaled once IAM has created it.
async fn new_user(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
) -> Result<String, LiveError> {
    let out = aws
        .iam()
        .create_user()
        .user_name(name)
        .tags(tag(run))
        .send()
        .await
        .map_err(sdk_error("iam:CreateUser"))?;
    ledger.created(Resource::User(name.into()))?;
    Ok(out.user().map_or_else(
        || format!("arn:aws:iam::{}:user/{name}", aws.account()),
        |u| u.arn().to_string(),
    ))
}

/// A role whose trust policy trusts the sandbox account (see [`Aws::trust_principal`]), tagged
/// with the run, journaled once IAM has created it.
async fn new_role(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    name: &str,
) -> Result<String, LiveError> {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": aws.trust_principal()},
                       "Action": "sts:AssumeRole"}]
    });
    let out = aws
        .iam()
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .max_session_duration(3600)
        .tags(tag(run))
        .send()
        .await
        .map_err(sdk_error("iam:CreateRole"))?;
    ledger.created(Resource::Role(name.into()))?;
    Ok(out.role().map_or_else(
        || format!("arn:aws:iam::{}:role/{name}", aws.account()),
        |r| r.arn().to_string(),
    ))
}

async fn put_policy(aws: &Aws, h: &Holder, name: &str, doc: &Value) -> Result<(), LiveError> {
    let iam = aws.iam();
    match h {
        Holder::User(u) => iam
            .put_user_policy()
            .user_name(u)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .map(drop)
            .map_err(sdk_error("iam:PutUserPolicy")),
        Holder::Role(r) => iam
            .put_role_policy()
            .role_name(r)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .map(drop)
            .map_err(sdk_error("iam:PutRolePolicy")),
    }
}

async fn attach_policy(aws: &Aws, h: &Holder, arn: &str) -> Result<(), LiveError> {
    let iam = aws.iam();
    match h {
        Holder::User(u) => iam
            .attach_user_policy()
            .user_name(u)
            .policy_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(sdk_error("iam:AttachUserPolicy")),
        Holder::Role(r) => iam
            .attach_role_policy()
            .role_name(r)
            .policy_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(sdk_error("iam:AttachRolePolicy")),
    }
}

async fn put_boundary(aws: &Aws, h: &Holder, arn: &str) -> Result<(), LiveError> {
    let iam = aws.iam();
    match h {
        Holder::User(u) => iam
            .put_user_permissions_boundary()
            .user_name(u)
            .permissions_boundary(arn)
            .send()
            .await
            .map(drop)
            .map_err(sdk_error("iam:PutUserPermissionsBoundary")),
        Holder::Role(r) => iam
            .put_role_permissions_boundary()
            .role_name(r)
            .permissions_boundary(arn)
            .send()
            .await
            .map(drop)
            .map_err(sdk_error("iam:PutRolePermissionsBoundary")),
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
        .iam()
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

/// The default version of an AWS managed policy.
async fn default_version(aws: &Aws, arn: &str) -> Result<String, LiveError> {
    aws.iam()
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
        })
}

/// AWS enforces its own document of an AWS managed policy, not the one the case gives: the
/// policy is attached only if its current default version is the same policy (compared as
/// keyward-iam reads both), else the case is skipped with the reason and nothing is attached.
async fn check_version(
    aws: &Aws,
    arn: &str,
    version: &str,
    document: &Value,
    kind: PolicyType,
) -> Result<(), LiveError> {
    let out = aws
        .iam()
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
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
        Err(LiveError::Skip(
            super::plan::Skip::AwsManagedPolicyDiffers {
                arn: arn.to_string(),
                version: version.to_string(),
            },
        ))
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
        .iam()
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
            .sts()
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

/// A service-specific credential for `user`, made by the runner. Returns the secret (memory
/// only) and the credential id.
async fn create_credential(
    aws: &Aws,
    user: &str,
    service: &str,
    age_days: Option<i32>,
) -> Result<(Secret, String), LiveError> {
    let mut req = aws
        .iam()
        .create_service_specific_credential()
        .user_name(user)
        .service_name(service);
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

async fn deactivate_credential(aws: &Aws, user: &str, id: &str) -> Result<(), LiveError> {
    aws.iam()
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
