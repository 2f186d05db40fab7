//! Bedrock API keys as sent in `Authorization: Bearer <key>`.
//!
//! Layers, each using only those below it: `kind` and `error`; `encoding`, the prefix and
//! base64 both kinds share; the two parsers `short_term` and `long_term`; `bearer`, which tells
//! them apart; and `generate`, which makes short-term keys.

mod bearer;
mod encoding;
mod error;
mod generate;
mod kind;
mod long_term;
mod short_term;

pub use bearer::{classify, BearerToken};
pub use error::{GenerateError, Param, TokenError};
pub use generate::{generate, SigningCredentials};
pub use kind::TokenType;
pub use long_term::{LongTermKey, LONG_TERM_PREFIX};
pub use short_term::{ExpiresIn, ShortTermToken, SHORT_TERM_PREFIX};
