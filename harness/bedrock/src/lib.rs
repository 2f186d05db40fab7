//! Amazon Bedrock API keys.
//!
//! * Keys: the two kinds of bearer key, parsed from the strings callers send
//!   (`bedrock-api-key-…` short-term tokens, [`ShortTermToken`], and `ABSK…` long-term keys,
//!   [`LongTermKey`]), told apart by [`classify`] into the values of the condition key
//!   `bedrock:BearerTokenType` ([`TokenType`]), and short-term tokens made by [`generate`] the
//!   way AWS's own generator makes them.
//! * Credentials: the IAM service-specific credentials that long-term keys are
//!   ([`ServiceSpecificCredential`], kept by a [`CredentialStore`]), with IAM's rules on them:
//!   an age of 1 to 36600 days ([`AgeDays`]) and two credentials per user and service.
//! * Scenarios: calls and key creations ([`Scenario`]), expanded into the authorization requests
//!   AWS makes and evaluated against a `keyward_iam::PolicySet`, with the [`Outcome`] a caller
//!   sees: status, IAM error code ([`IamErrorCode`]), body and [`SideEffect`]s.
//!
//! No type in this crate prints a secret: signatures, session tokens, secret access keys and
//! key secrets are redacted in `Debug` and `Display`, and reachable only through methods whose
//! names start with `expose_`.
//!
//! # Example
//!
//! Read a short-term key, then ask whether a policy that denies short-term keys stops a
//! Converse call made with one:
//!
//! ```
//! use keyward_bedrock::{classify, CallScenario, Endpoint, KeySpec, Operation, TokenType};
//! use keyward_iam::{Policy, PolicySet, PolicyType};
//!
//! let key = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbiZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSUFJT1NGT0ROTjdFWEFNUExFJTJGMjAyNTEyMzElMkZ1cy1lYXN0LTElMkZiZWRyb2NrJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNTEyMzFUMjM1OTU5WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3QmWC1BbXotU2lnbmF0dXJlPWI4OTc4YWJmYmYxNWNhNGUzNWUxZjc3MDVkZmIwYmQzYmUwMjBiOTMzYmI0N2FlMGJkMmM1NDQ3OTAxMDA5MjEmVmVyc2lvbj0x";
//! let token = classify(key)?;
//! assert_eq!(token.token_type(), TokenType::ShortTerm);
//! // Printing a key never shows its signature.
//! println!("{token}");
//! assert!(!token.to_string().contains("b8978abf"));
//!
//! let policy = serde_json::json!({
//!     "Version": "2012-10-17",
//!     "Statement": [
//!         {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"},
//!         {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
//!          "Condition": {"StringEquals": {"bedrock:BearerTokenType": "SHORT_TERM"}}}
//!     ]
//! });
//! let policies = PolicySet {
//!     identity: vec![Policy::parse(&policy, PolicyType::Identity)?],
//!     ..PolicySet::default()
//! };
//! let call = CallScenario {
//!     operation: Operation::Converse,
//!     key: KeySpec::ShortTerm {
//!         principal: "arn:aws:sts::123456789012:assumed-role/dev/alice".into(),
//!         region: "us-east-1".into(),
//!         issued_at: None,
//!         expires_in: 900,
//!     },
//!     model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
//!     region: "us-east-1".into(),
//!     endpoint: Endpoint::BedrockRuntime,
//!     at: None,
//!     context: Vec::new(),
//!     destinations: None,
//! };
//! let result = call.run(&policies);
//! println!("{}", result.outcome);
//! assert_eq!(result.outcome.status, 403);
//! assert!(result.outcome.body.contains("with an explicit deny in an identity-based policy"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod assumptions;
mod credential;
mod dates;
pub mod guardrail;
mod outcome;
mod redact;
mod scenario;
mod side_effect;
mod token;
mod unknown_name;

pub use assumptions::{Assumption, ASSUMPTIONS, WORDING_ONLY};
pub use credential::{
    AccountId, AgeDays, CredentialAlias, CredentialError, CredentialId, CredentialStatus,
    CredentialStore, ServiceName, ServiceSpecificCredential, SettableStatus, UserName,
    BEDROCK_SERVICE, SUPPORTED_SERVICES,
};
pub use outcome::{
    IamErrorCode, Outcome, AUTHORIZATION_MISSING_MESSAGE, AUTH_FAILED_MESSAGE, EXPIRED_MESSAGE,
    INVALID_FORMAT_MESSAGE, MANTLE_INVALID_KEY_CODE, MANTLE_INVALID_KEY_MESSAGE,
    REDACTED_REQUEST_ID,
};
pub use scenario::{
    parse_time, CallScenario, ContextEntry, CreateKeyScenario, Endpoint, Flow, KeySpec, Operation,
    Rejection, Route, Scenario, ScenarioResult, Step, LIMITED_ACCESS_POLICY,
};
pub use side_effect::{SideEffect, SideEffectError};
pub use token::{
    classify, generate, BearerToken, ExpiresIn, GenerateError, LongTermKey, Param, ShortTermToken,
    SigningCredentials, TokenError, TokenType, LONG_TERM_PREFIX, SHORT_TERM_PREFIX,
};
pub use unknown_name::UnknownName;

/// The date-time crate this crate's public API uses (credential scope dates), re-exported so that
/// callers need not depend on it themselves.
pub use time;
