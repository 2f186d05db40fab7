//! Either kind of key, told apart by its prefix.

use std::fmt;
use std::str::FromStr;

use super::error::TokenError;
use super::kind::TokenType;
use super::long_term::{LongTermKey, LONG_TERM_PREFIX};
use super::short_term::{ShortTermToken, SHORT_TERM_PREFIX};

/// A parsed Bedrock API key of either kind. `Debug` and `Display` redact its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerToken {
    /// A `bedrock-api-key-…` token.
    ShortTerm(ShortTermToken),
    /// An `ABSK…` key.
    LongTerm(LongTermKey),
}

impl BearerToken {
    /// Which kind it is.
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

/// Reads either kind of key: the same as [`classify`].
impl FromStr for BearerToken {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        classify(s)
    }
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
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use std::num::NonZeroU32;

    use super::*;
    use crate::credential::{AccountId, CredentialStore, ServiceName, UserName};

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

    fn t0() -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_751_328_000)
    }

    fn user() -> UserName {
        UserName::new("BedrockAPIKey-h42z").unwrap()
    }

    fn account() -> AccountId {
        AccountId::new("123456789012").unwrap()
    }

    #[test]
    fn bedrock_credentials_make_long_term_keys() {
        let mut store = CredentialStore::new();
        store
            .create(&user(), &account(), &ServiceName::bedrock(), None, t0())
            .unwrap();
        let c = store
            .create(&user(), &account(), &ServiceName::bedrock(), None, t0())
            .unwrap();
        let key = LongTermKey::for_credential(c).unwrap();
        match classify(&key.expose_bearer()).unwrap() {
            BearerToken::LongTerm(parsed) => {
                assert_eq!(parsed.alias(), c.alias());
                assert_eq!(parsed.slot(), NonZeroU32::new(1));
                assert_eq!(parsed.expose_secret(), c.expose_secret());
            }
            other => panic!("expected a long-term key, got {other:?}"),
        }
        let codecommit = ServiceName::new("codecommit.amazonaws.com").unwrap();
        let c = store
            .create(&user(), &account(), &codecommit, None, t0())
            .unwrap();
        assert!(LongTermKey::for_credential(c).is_none());
    }
}
