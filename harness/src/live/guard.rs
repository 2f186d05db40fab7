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
    Ok(Aws::verified(sdk, actual, arn, config.max_calls))
}
