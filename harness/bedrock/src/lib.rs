//! Amazon Bedrock API keys.
//!
//! * [`token`]: the two kinds of bearer key, parsed from the strings callers send
//!   (`bedrock-api-key-…` short-term tokens and `ABSK…` long-term keys), classified into the
//!   values of the condition key `bedrock:BearerTokenType`, and short-term tokens generated the
//!   way AWS's own generator does.
//! * [`credential`]: the IAM service-specific credentials that long-term keys are.
//! * [`scenario`]: calls and key creations, expanded into the authorization requests AWS makes,
//!   with the [`outcome`] a caller sees.
//!
//! No type in this crate prints a secret: signatures, session tokens, secret access keys and
//! key secrets are redacted in `Debug` and `Display`, and reachable only through methods whose
//! names start with `expose_`.

pub mod assumptions;
pub mod credential;
mod dates;
pub mod outcome;
pub mod scenario;
pub mod token;

pub use token::{classify, BearerToken, TokenError, TokenType};

/// The date-time crate this crate's public API uses (credential scope dates), re-exported so that
/// callers need not depend on it themselves.
pub use time;
