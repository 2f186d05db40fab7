//! Bedrock API keys as sent in `Authorization: Bearer <key>`.
//!
//! [`classify`] tells the two kinds apart and parses them; [`generate`] makes short-term keys.

mod error;
mod generate;
mod long_term;
pub(crate) mod redact;
mod short_term;

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

pub use error::{GenerateError, Param, TokenError};
pub use generate::{generate, SigningCredentials};
pub use long_term::{LongTermKey, LONG_TERM_PREFIX};
pub use short_term::{
    ExpiresIn, ShortTermToken, ACTION, ALGORITHM, HOST, SHORT_TERM_PREFIX, SIGNED_HEADERS,
    SIGNING_SERVICE, TOKEN_VERSION,
};

/// The kind of a key: the value of the condition key `bedrock:BearerTokenType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    ShortTerm,
    LongTerm,
}

impl TokenType {
    /// `SHORT_TERM` or `LONG_TERM`, the value IAM sees in `bedrock:BearerTokenType`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::ShortTerm => "SHORT_TERM",
            TokenType::LongTerm => "LONG_TERM",
        }
    }

    /// `short-term` or `long-term`, for prose.
    pub const fn noun(self) -> &'static str {
        match self {
            TokenType::ShortTerm => "short-term",
            TokenType::LongTerm => "long-term",
        }
    }
}

/// The condition-key value, `SHORT_TERM` or `LONG_TERM`.
impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed Bedrock API key of either kind. `Debug` and `Display` redact its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerToken {
    ShortTerm(ShortTermToken),
    LongTerm(LongTermKey),
}

impl BearerToken {
    pub const fn token_type(&self) -> TokenType {
        match self {
            BearerToken::ShortTerm(_) => TokenType::ShortTerm,
            BearerToken::LongTerm(_) => TokenType::LongTerm,
        }
    }

    /// The key itself, as sent in `Authorization: Bearer`.
    pub fn expose_bearer(&self) -> String {
        match self {
            BearerToken::ShortTerm(token) => token.expose_bearer(),
            BearerToken::LongTerm(key) => key.expose_bearer(),
        }
    }
}

impl fmt::Display for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BearerToken::ShortTerm(token) => token.fmt(f),
            BearerToken::LongTerm(key) => key.fmt(f),
        }
    }
}

/// The text a key carries: both kinds are `<prefix>` + standard padded base64 of UTF-8 text.
fn decode_after_prefix(
    key: &str,
    kind: TokenType,
    prefix: &'static str,
) -> Result<String, TokenError> {
    let body = key.strip_prefix(prefix).ok_or(TokenError::WrongPrefix {
        kind,
        expected: prefix,
    })?;
    if body.is_empty() {
        return Err(TokenError::NothingAfterPrefix { prefix });
    }
    // The STANDARD engine insists on canonical padding and trailing bits, so a key that decodes
    // also re-encodes to itself.
    let bytes = STANDARD
        .decode(body)
        .map_err(|cause| TokenError::BadBase64 {
            kind,
            prefix,
            cause,
        })?;
    String::from_utf8(bytes).map_err(|e| TokenError::NotUtf8 {
        kind,
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

/// Tells which kind of key `token` is by its prefix, and parses it as that kind.
///
/// Never panics. The input is taken as the whole credential: no `Bearer ` scheme and no
/// surrounding whitespace, which are reported rather than stripped so that a caller's
/// misconfiguration shows.
pub fn classify(token: &str) -> Result<BearerToken, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.trim() != token {
        return Err(TokenError::SurroundingWhitespace);
    }
    if token.starts_with(SHORT_TERM_PREFIX) {
        ShortTermToken::parse(token).map(BearerToken::ShortTerm)
    } else if token.starts_with(LONG_TERM_PREFIX) {
        LongTermKey::parse(token).map(BearerToken::LongTerm)
    } else {
        Err(TokenError::UnknownPrefix {
            hint: prefix_hint(token),
        })
    }
}

/// A guess at what was passed instead of a key, for the error message.
fn prefix_hint(token: &str) -> &'static str {
    let starts_with_ignoring_case = |prefix: &str| {
        token
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts_with_ignoring_case("Bearer ") {
        "; it starts with `Bearer `: pass only the key, without the authorization scheme"
    } else if starts_with_ignoring_case(SHORT_TERM_PREFIX)
        || starts_with_ignoring_case(LONG_TERM_PREFIX)
    {
        "; the prefixes are case-sensitive"
    } else if starts_with_ignoring_case("AKIA") || starts_with_ignoring_case("ASIA") {
        "; it looks like an AWS access key id, which signs requests but is not a bearer key"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: &str = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbiZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSUFJT1NGT0ROTjdFWEFNUExFJTJGMjAyNTEyMzElMkZ1cy1lYXN0LTElMkZiZWRyb2NrJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNTEyMzFUMjM1OTU5WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3QmWC1BbXotU2lnbmF0dXJlPWI4OTc4YWJmYmYxNWNhNGUzNWUxZjc3MDVkZmIwYmQzYmUwMjBiOTMzYmI0N2FlMGJkMmM1NDQ3OTAxMDA5MjEmVmVyc2lvbj0x";

    fn long() -> String {
        format!(
            "ABSK{}",
            STANDARD.encode("BedrockAPIKey-h42z+1-at-123456789012:secret")
        )
    }

    #[test]
    fn classifies_both_kinds() {
        let short = classify(SHORT).unwrap();
        assert_eq!(short.token_type(), TokenType::ShortTerm);
        assert_eq!(short.token_type().as_str(), "SHORT_TERM");
        assert_eq!(short.expose_bearer(), SHORT);
        let key = classify(&long()).unwrap();
        assert_eq!(key.token_type(), TokenType::LongTerm);
        assert_eq!(key.token_type().to_string(), "LONG_TERM");
        assert_eq!(key.expose_bearer(), long());
    }

    #[test]
    fn rejects_what_is_not_a_key() {
        assert_eq!(classify(""), Err(TokenError::Empty));
        assert_eq!(
            classify(&format!("{SHORT}\n")),
            Err(TokenError::SurroundingWhitespace)
        );
        assert_eq!(
            classify(&format!(" {}", long())),
            Err(TokenError::SurroundingWhitespace)
        );
        assert_eq!(
            classify("sk-ant-api03-xyz"),
            Err(TokenError::UnknownPrefix { hint: "" })
        );
    }

    #[test]
    fn unknown_prefixes_get_a_hint() {
        for (input, needle) in [
            (
                format!("Bearer {SHORT}"),
                "without the authorization scheme",
            ),
            (
                SHORT.replacen("bedrock-api-key-", "Bedrock-API-Key-", 1),
                "case-sensitive",
            ),
            (long().replacen("ABSK", "absk", 1), "case-sensitive"),
            ("AKIAIOSFODNN7EXAMPLE".to_owned(), "access key id"),
        ] {
            let message = classify(&input).unwrap_err().to_string();
            assert!(message.contains(needle), "{input}: {message}");
            assert!(message.starts_with("not a Bedrock API key"), "{message}");
        }
    }

    #[test]
    fn errors_of_each_kind_come_through() {
        assert!(matches!(
            classify("bedrock-api-key-%%%"),
            Err(TokenError::BadBase64 {
                kind: TokenType::ShortTerm,
                ..
            })
        ));
        assert!(matches!(
            classify("ABSK%%%"),
            Err(TokenError::BadBase64 {
                kind: TokenType::LongTerm,
                ..
            })
        ));
        assert_eq!(
            classify("bedrock-api-key-").unwrap_err(),
            TokenError::NothingAfterPrefix {
                prefix: SHORT_TERM_PREFIX
            }
        );
        assert_eq!(
            classify("ABSK").unwrap_err(),
            TokenError::NothingAfterPrefix {
                prefix: LONG_TERM_PREFIX
            }
        );
    }
}
