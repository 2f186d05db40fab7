//! The account guard: the first and, until it passes, the only AWS call of a live run.

use aws_config::{BehaviorVersion, SdkConfig};

use super::aws::{ApiFailure, Aws};
use super::{LiveConfig, LiveError};

/// The SDK configuration from aws-config's default chain (environment, profiles, SSO, web
/// identity, container and instance credentials), with adaptive retry: the client slows down
/// on throttling instead of only retrying.
pub async fn load_sdk_config(config: &LiveConfig) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(config.region.clone()))
        .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(6))
        .load()
        .await
}

/// Confirms that `sdk`'s credentials belong to the configured sandbox account. Refuses without
/// any call when no account is configured, and without any further call when STS names another
/// account or no credentials can be found.
pub async fn verify(sdk: SdkConfig, config: &LiveConfig) -> Result<Aws, LiveError> {
    let expected = config
        .sandbox_account
        .clone()
        .ok_or(LiveError::MissingSandboxAccount)?;
    if sdk.credentials_provider().is_none() {
        return Err(LiveError::NoCredentials {
            detail: "no credentials provider".into(),
        });
    }
    let sts = aws_sdk_sts::Client::new(&sdk);
    let who = match sts.get_caller_identity().send().await {
        Ok(w) => w,
        Err(e) => {
            let f = ApiFailure::from_sdk(&e);
            let lower = f.detail.to_ascii_lowercase();
            return Err(if !f.is_service_answer() && lower.contains("credential") {
                LiveError::NoCredentials { detail: f.detail }
            } else {
                LiveError::CannotVerify { detail: f.detail }
            });
        }
    };
    let actual = who.account().unwrap_or_default().to_string();
    if actual != expected {
        return Err(LiveError::WrongAccount { actual, expected });
    }
    let arn = who.arn().unwrap_or_default().to_string();
    usable_runner(&arn)?;
    Ok(Aws::verified(sdk, actual, arn, config.max_calls))
}

/// Refuses credentials that cannot do a run's work, before anything is changed: otherwise
/// every case would fail on its own, after AssumeRole's retries.
fn usable_runner(arn: &str) -> Result<(), LiveError> {
    let Ok(a) = arn.parse::<keyward_iam::Arn>() else {
        return Ok(());
    };
    match (a.service(), a.resource()) {
        // STS refuses the root user's AssumeRole (the API reference: "You must use IAM user
        // credentials or role credentials"; public reports show the answer "Roles may not be
        // assumed by root accounts."), and every role-based case assumes a role.
        ("iam", "root") => Err(LiveError::UnusableRunner {
            what: "the account's root user",
            why: "cannot assume a role (STS refuses the root user), as every role-based case must",
        }),
        // GetFederationToken's API reference: its credentials cannot call any IAM operation
        // through the API, nor any STS operation but GetCallerIdentity.
        ("sts", r) if r.starts_with("federated-user/") => Err(LiveError::UnusableRunner {
            what: "a federated user's session (sts:GetFederationToken)",
            why: "cannot call IAM's API nor assume a role",
        }),
        _ => own_name_outside_scope(&a),
    }
}

/// The runner policy lets keyward change and delete the IAM users and roles named like what it
/// creates (`keyward-*`, and `BedrockAPIKey-*` for console-style users): a runner named so
/// could be changed by its own run, or deleted by a sweep of it were it ever tagged.
fn own_name_outside_scope(runner: &keyward_iam::Arn) -> Result<(), LiveError> {
    let name = runner
        .assumed_role_name()
        .or_else(|| {
            runner
                .resource()
                .strip_prefix("user/")
                .map(|p| p.rsplit('/').next().unwrap_or(p))
        })
        .unwrap_or_default();
    if name.starts_with(super::names::NAME_PREFIX) || name.starts_with(super::names::CONSOLE_PREFIX)
    {
        return Err(LiveError::UnusableRunner {
            what: "named like the users and roles keyward creates (keyward-* or BedrockAPIKey-*)",
            why: "the runner policy lets a run change and delete",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_users_may_run_root_and_federated_users_may_not() {
        for ok in [
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
            "arn:aws:sts::111122223333:assumed-role/KeywardRunner/ci",
            "arn:aws:iam::111122223333:user/ops/runner",
        ] {
            assert!(usable_runner(ok).is_ok(), "{ok}");
        }
        for bad in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:sts::111122223333:federated-user/bob",
            "arn:aws:sts::111122223333:assumed-role/keyward-ci/GitHubActions",
            "arn:aws:iam::111122223333:user/ops/keyward-runner",
            "arn:aws:iam::111122223333:user/BedrockAPIKey-ab12",
        ] {
            let e = usable_runner(bad).unwrap_err();
            assert!(e.is_bad_input(), "{e}");
            assert!(e.to_string().contains("nothing was changed in AWS"), "{e}");
        }
    }
}
