//! The AWS clients of a verified run, the call budget every request they send spends from, and how AWS's
//! errors are read back (status, code, message and the raw body).

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use keyward_bedrock::IamErrorCode;

use super::LiveError;

/// A bearer token or secret key held in memory only; never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The most AWS requests a run may make. Every request a client of [`Aws`] sends is charged
/// here, once, by the [`Charge`] interceptor those clients carry, before it is sent: the SDK's
/// own retries of it are not charged again. Cleanup is counted but never refused: a run that hit
/// its cap must still delete what it created.
#[derive(Debug)]
pub struct Budget {
    cap: u32,
    used: AtomicU32,
}

impl Budget {
    pub fn new(cap: u32) -> Budget {
        Budget {
            cap,
            used: AtomicU32::new(0),
        }
    }

    pub fn spend(&self) -> Result<(), LiveError> {
        let before = self.used.fetch_add(1, Ordering::SeqCst);
        if before >= self.cap {
            self.used.fetch_sub(1, Ordering::SeqCst);
            return Err(LiveError::CallCapReached { cap: self.cap });
        }
        Ok(())
    }

    pub fn spend_cleanup(&self) {
        self.used.fetch_add(1, Ordering::SeqCst);
    }

    pub fn used(&self) -> u32 {
        self.used.load(Ordering::SeqCst)
    }
}

/// Why the budget stopped a request before it was sent; found again in the SDK's error by
/// [`ApiFailure::from_sdk`], so that the run stops as capped rather than failing a case.
#[derive(Debug, thiserror::Error)]
#[error("the run reached its cap of {cap} AWS calls")]
struct CapReached {
    cap: u32,
}

/// The one place a request is charged: an SDK interceptor on every client [`Aws`] hands out.
/// `read_before_execution` runs once per operation, whatever the retry strategy does after it.
#[derive(Debug, Clone)]
struct Charge {
    budget: Arc<Budget>,
    cleanup: bool,
}

impl Intercept for Charge {
    fn name(&self) -> &'static str {
        "keyward call budget"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.cleanup {
            self.budget.spend_cleanup();
            return Ok(());
        }
        self.budget.spend().map_err(|_| {
            Box::new(CapReached {
                cap: self.budget.cap,
            }) as BoxError
        })
    }
}

/// The cap that refused the request `e` failed as, if the budget refused it.
fn refused_by_budget(e: &(dyn std::error::Error + 'static)) -> Option<u32> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(c) = err.downcast_ref::<CapReached>() {
            return Some(c.cap);
        }
        cur = err.source();
    }
    None
}

/// A verified connection to the sandbox account. Built only by [`super::guard::verify`], so
/// holding one proves the account check passed. Every client it hands out charges the run's
/// [`Budget`] for each request it sends.
#[derive(Clone)]
pub struct Aws {
    account: String,
    runner_arn: String,
    sdk: SdkConfig,
    iam: aws_sdk_iam::Client,
    iam_cleanup: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    budget: Arc<Budget>,
}

impl fmt::Debug for Aws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aws")
            .field("account", &self.account)
            .field("runner_arn", &self.runner_arn)
            .finish_non_exhaustive()
    }
}

impl Aws {
    pub(super) fn verified(sdk: SdkConfig, account: String, runner_arn: String, cap: u32) -> Aws {
        let budget = Arc::new(Budget::new(cap));
        let charge = |cleanup| Charge {
            budget: budget.clone(),
            cleanup,
        };
        let iam = |cleanup| {
            aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&sdk)
                    .interceptor(charge(cleanup))
                    .build(),
            )
        };
        Aws {
            account,
            runner_arn,
            iam: iam(false),
            iam_cleanup: iam(true),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&sdk)
                    .interceptor(charge(false))
                    .build(),
            ),
            sdk,
            budget,
        }
    }

    fn charge(&self) -> Charge {
        Charge {
            budget: self.budget.clone(),
            cleanup: false,
        }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The runner's own principal, as STS reported it.
    pub fn runner_arn(&self) -> &str {
        &self.runner_arn
    }

    /// The principal every case role's trust policy names: the sandbox account itself
    /// (`arn:aws:iam::ACCOUNT:root`), so that the runner assumes the roles by its own policy's
    /// `sts:AssumeRole` on the run's roles. The AssumeRole API reference documents this for a
    /// principal of the same account: a policy that allows it to call AssumeRole, "as long as
    /// the role's trust policy trusts the account"
    /// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
    ///
    /// Not the runner's own role: STS names a role session `assumed-role/ROLE/SESSION`, without
    /// the role's path (IAM identifiers,
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html), and IAM
    /// Identity Center's roles live under `/aws-reserved/sso.amazonaws.com/`, so the role ARN
    /// cannot be derived; a trust policy naming a role ARN that does not exist is refused
    /// (`MalformedPolicyDocument: Invalid principal in policy`). Looking the ARN up with
    /// iam:GetRole would cost a call and a permission on a role outside the run's `keyward-*`
    /// names. Trusting the account works for every principal that can call AssumeRole at all
    /// (an IAM user, any role, pathed or not), and also for a resumed run or a sweep made with
    /// other credentials of the sandbox. What it opens: any principal of the sandbox whose own
    /// policies allow sts:AssumeRole on a run's roles may assume them while they exist, which is
    /// why the sandbox must hold nothing else (README).
    pub fn trust_principal(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account)
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The runner's IAM client; a request the cap refuses fails as
    /// [`LiveError::CallCapReached`] (through [`ApiFailure::from_sdk`]) without being sent.
    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    /// The runner's IAM client for cleanup: its requests are counted, never refused.
    pub fn iam_cleanup(&self) -> &aws_sdk_iam::Client {
        &self.iam_cleanup
    }

    /// The runner's STS client.
    pub fn sts(&self) -> &aws_sdk_sts::Client {
        &self.sts
    }

    /// An IAM client acting as a case principal.
    pub fn iam_as(&self, creds: &Credentials) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.sdk)
            .credentials_provider(creds.clone())
            .interceptor(self.charge())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// A bedrock-runtime client that authenticates with `Authorization: Bearer <key>` only.
    pub fn bedrock_with_key(&self, region: &str, key: &Secret) -> aws_sdk_bedrockruntime::Client {
        let conf = aws_sdk_bedrockruntime::config::Builder::from(&self.sdk)
            .region(aws_config::Region::new(region.to_string()))
            .bearer_token(aws_sdk_bedrockruntime::config::Token::new(
                key.expose().to_string(),
                None,
            ))
            .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
            .interceptor(self.charge())
            .build();
        aws_sdk_bedrockruntime::Client::from_conf(conf)
    }
}

/// An AWS error read back: what the caller saw (status, code, message, body) and a line for
/// logs. Bodies are kept raw here and redacted before they are stored ([`super::redact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub body: Option<String>,
    pub detail: String,
    /// The cap, when the run's budget refused the request before it was sent.
    pub capped: Option<u32>,
}

impl ApiFailure {
    pub fn from_sdk<E>(e: &SdkError<E, HttpResponse>) -> ApiFailure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let raw = e.raw_response();
        let (code, message) = match e.as_service_error() {
            Some(se) => (
                se.code().map(str::to_string),
                se.message().map(str::to_string),
            ),
            None => (None, None),
        };
        ApiFailure {
            status: raw.map(|r| r.status().as_u16()),
            code,
            message,
            body: raw
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            detail: DisplayErrorContext(e).to_string(),
            capped: refused_by_budget(e),
        }
    }

    /// An answer from the service, as opposed to a failure to reach it.
    pub fn is_service_answer(&self) -> bool {
        self.status.is_some()
    }

    /// The error code as one IAM answers and keyward-bedrock models. Other codes (STS's,
    /// Bedrock's, throttling) are only in `code`, as text: an answer is recorded as AWS gave it.
    pub fn iam_code(&self) -> Option<IamErrorCode> {
        self.code.as_deref()?.parse().ok()
    }

    /// STS's and IAM's `AccessDenied`, Bedrock's `AccessDeniedException`, or a bare 403.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("AccessDenied" | "AccessDeniedException")
        ) || self.status == Some(403)
    }

    pub fn into_error(self, operation: &'static str) -> LiveError {
        if let Some(cap) = self.capped {
            return LiveError::CallCapReached { cap };
        }
        LiveError::Aws {
            operation,
            detail: self.detail,
        }
    }
}

/// Maps an SDK error to a [`LiveError`] naming the operation.
pub fn sdk_error<E>(operation: &'static str) -> impl Fn(SdkError<E, HttpResponse>) -> LiveError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| ApiFailure::from_sdk(&e).into_error(operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_past_its_cap_but_never_cleanup() {
        let b = Budget::new(2);
        assert!(b.spend().is_ok());
        assert!(b.spend().is_ok());
        assert!(matches!(
            b.spend(),
            Err(LiveError::CallCapReached { cap: 2 })
        ));
        b.spend_cleanup();
        assert_eq!(b.used(), 3);
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("ABSKsupersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
    }
}
