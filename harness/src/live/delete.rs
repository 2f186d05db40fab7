//! Deleting what a run created: a user or role with everything hanging off it, or a managed
//! policy. Used by a case's cleanup ([`super::ledger`]), by `keyward sweep` and by the undo step
//! between enforcement attempts. Deleting what does not exist succeeds.
//!
//! Nothing is deleted unless it carries the run's tag (`keyward:run=<run>`): a name alone proves
//! nothing, since another principal of the account (a real console key user, another run, the
//! same name in another account) may hold it. The runner tags everything it creates, and the
//! users the console flow creates as soon as IAM has created them. An AWS managed policy is never
//! deleted, whatever a journal says: the run only attaches it, and deleting a principal detaches
//! every managed policy before the principal goes.

use aws_sdk_iam::types::Tag;
use keyward_bedrock::IamErrorCode;

use super::aws::ApiFailure;
use super::journal::Resource;
use super::names::TAG_KEY;
use super::policies::is_aws_managed;
use super::{Aws, LiveError};

macro_rules! call {
    ($e:expr) => {
        $e.send().await.map_err(|e| ApiFailure::from_sdk(&e))
    };
}

fn gone(f: &ApiFailure) -> bool {
    f.iam_code() == Some(IamErrorCode::NoSuchEntity)
}

/// The tags of `r`, or `None` if it does not exist.
async fn tags_of(aws: &Aws, r: &Resource) -> Result<Option<Vec<Tag>>, LiveError> {
    let iam = aws.iam_cleanup().clone();
    Ok(match r {
        Resource::User(n) => {
            ok_if_gone(call!(iam.list_user_tags().user_name(n)), "iam:ListUserTags")?
                .map(|o| o.tags().to_vec())
        }
        Resource::Role(n) => {
            ok_if_gone(call!(iam.list_role_tags().role_name(n)), "iam:ListRoleTags")?
                .map(|o| o.tags().to_vec())
        }
        Resource::Policy(a) => ok_if_gone(
            call!(iam.list_policy_tags().policy_arn(a)),
            "iam:ListPolicyTags",
        )?
        .map(|o| o.tags().to_vec()),
    })
}

/// Deletes `r` and everything hanging off it, if it carries the tag of `run`; refuses
/// ([`LiveError::NotOurs`]) if it does not. Deleting what does not exist succeeds.
pub async fn delete(aws: &Aws, r: &Resource, run: &str) -> Result<(), LiveError> {
    // AWS's, not the run's: not even asked about.
    if matches!(r, Resource::Policy(a) if is_aws_managed(a)) {
        return Err(LiveError::NotOurs {
            resource: r.to_string(),
            run: run.to_string(),
        });
    }
    let Some(tags) = tags_of(aws, r).await? else {
        return Ok(());
    };
    if !tags.iter().any(|t| t.key() == TAG_KEY && t.value() == run) {
        return Err(LiveError::NotOurs {
            resource: r.to_string(),
            run: run.to_string(),
        });
    }
    match r {
        Resource::User(n) => delete_user(aws, n).await,
        Resource::Role(n) => delete_role(aws, n).await,
        Resource::Policy(a) => delete_policy(aws, a).await,
    }
}

/// Turns "already gone" into success.
fn ok_if_gone<T>(r: Result<T, ApiFailure>, op: &'static str) -> Result<Option<T>, LiveError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(f) if gone(&f) => Ok(None),
        Err(f) => Err(f.into_error(op)),
    }
}

async fn delete_user(aws: &Aws, name: &str) -> Result<(), LiveError> {
    let iam = aws.iam_cleanup().clone();
    let Some(keys) = ok_if_gone(
        call!(iam.list_access_keys().user_name(name)),
        "iam:ListAccessKeys",
    )?
    else {
        return Ok(());
    };
    for k in keys.access_key_metadata() {
        if let Some(id) = k.access_key_id() {
            ok_if_gone(
                call!(iam.delete_access_key().user_name(name).access_key_id(id)),
                "iam:DeleteAccessKey",
            )?;
        }
    }
    // Services without service-specific credentials (and emulators) may not answer this call;
    // DeleteUser below then reports any credential that is left.
    if let Ok(creds) = call!(iam.list_service_specific_credentials().user_name(name)) {
        for c in creds.service_specific_credentials() {
            ok_if_gone(
                call!(iam
                    .delete_service_specific_credential()
                    .user_name(name)
                    .service_specific_credential_id(c.service_specific_credential_id())),
                "iam:DeleteServiceSpecificCredential",
            )?;
        }
    }
    if let Some(ps) = ok_if_gone(
        call!(iam.list_user_policies().user_name(name)),
        "iam:ListUserPolicies",
    )? {
        for p in ps.policy_names() {
            ok_if_gone(
                call!(iam.delete_user_policy().user_name(name).policy_name(p)),
                "iam:DeleteUserPolicy",
            )?;
        }
    }
    if let Some(ps) = ok_if_gone(
        call!(iam.list_attached_user_policies().user_name(name)),
        "iam:ListAttachedUserPolicies",
    )? {
        for p in ps.attached_policies() {
            if let Some(arn) = p.policy_arn() {
                ok_if_gone(
                    call!(iam.detach_user_policy().user_name(name).policy_arn(arn)),
                    "iam:DetachUserPolicy",
                )?;
            }
        }
    }
    // The console flow never sets a password, but a case principal with iam:* might have.
    let _ = call!(iam.delete_login_profile().user_name(name));
    ok_if_gone(call!(iam.delete_user().user_name(name)), "iam:DeleteUser")?;
    Ok(())
}

async fn delete_role(aws: &Aws, name: &str) -> Result<(), LiveError> {
    let iam = aws.iam_cleanup().clone();
    let Some(ps) = ok_if_gone(
        call!(iam.list_role_policies().role_name(name)),
        "iam:ListRolePolicies",
    )?
    else {
        return Ok(());
    };
    for p in ps.policy_names() {
        ok_if_gone(
            call!(iam.delete_role_policy().role_name(name).policy_name(p)),
            "iam:DeleteRolePolicy",
        )?;
    }
    if let Some(ps) = ok_if_gone(
        call!(iam.list_attached_role_policies().role_name(name)),
        "iam:ListAttachedRolePolicies",
    )? {
        for p in ps.attached_policies() {
            if let Some(arn) = p.policy_arn() {
                ok_if_gone(
                    call!(iam.detach_role_policy().role_name(name).policy_arn(arn)),
                    "iam:DetachRolePolicy",
                )?;
            }
        }
    }
    ok_if_gone(call!(iam.delete_role().role_name(name)), "iam:DeleteRole")?;
    Ok(())
}

/// A managed policy the run created (an attached policy or a boundary) is deleted after its
/// principal, whose deletion detached it (IAM refuses to delete an attached policy).
async fn delete_policy(aws: &Aws, arn: &str) -> Result<(), LiveError> {
    let iam = aws.iam_cleanup().clone();
    let Some(vs) = ok_if_gone(
        call!(iam.list_policy_versions().policy_arn(arn)),
        "iam:ListPolicyVersions",
    )?
    else {
        return Ok(());
    };
    for v in vs.versions() {
        if let (false, Some(id)) = (v.is_default_version(), v.version_id()) {
            ok_if_gone(
                call!(iam.delete_policy_version().policy_arn(arn).version_id(id)),
                "iam:DeletePolicyVersion",
            )?;
        }
    }
    ok_if_gone(
        call!(iam.delete_policy().policy_arn(arn)),
        "iam:DeletePolicy",
    )?;
    Ok(())
}
