//! Long-term keys: `ABSK` + base64(`<user>[+<slot>]-at-<account>:<secret>`).
//!
//! The layout comes from third-party decoding of real keys (docs/aws-behaviour.md §1.3), not from an AWS
//! specification, so the parser checks only what was observed.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::encoding::decode_after_prefix;
use super::error::TokenError;
use super::kind::TokenType;
use crate::credential::{AccountId, CredentialAlias, ServiceSpecificCredential, UserName};
use crate::redact::{Secret, REDACTED};

/// What every long-term key starts with.
pub const LONG_TERM_PREFIX: &str = "ABSK";

/// A parsed long-term Bedrock API key. `Debug` and `Display` redact the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct LongTermKey {
    alias: CredentialAlias,
    secret: Secret,
}

impl LongTermKey {
    /// The key for a credential's alias and secret. The secret must not be empty.
    pub fn new(alias: CredentialAlias, secret: &str) -> Result<Self, TokenError> {
        if secret.is_empty() {
            return Err(layout("the secret after `:` is empty"));
        }
        Ok(Self {
            alias,
            secret: Secret::new(secret),
        })
    }

    /// The key that carries a service-specific credential; `None` unless the credential is for
    /// Bedrock.
    pub fn for_credential(credential: &ServiceSpecificCredential) -> Option<Self> {
        if !credential.service().is_bedrock() {
            return None;
        }
        // Secrets made by the store are never empty, so this never drops a key.
        Self::new(credential.alias().clone(), credential.expose_secret()).ok()
    }

    /// Reads an `ABSK…` string.
    pub fn parse(key: &str) -> Result<Self, TokenError> {
        let text = decode_after_prefix(key, TokenType::LongTerm, LONG_TERM_PREFIX)?;
        // The first `:` separates: IAM names cannot contain one, a secret might.
        let (alias, secret) = text
            .split_once(':')
            .ok_or_else(|| layout("no `:` separates the service user name from the secret"))?;
        let alias = CredentialAlias::parse(alias).map_err(|e| layout(&e.to_string()))?;
        Self::new(alias, secret)
    }

    /// Always [`TokenType::LongTerm`].
    pub const fn token_type(&self) -> TokenType {
        TokenType::LongTerm
    }

    /// `<user>[+<slot>]-at-<account>`: the public half of the key.
    pub fn alias(&self) -> &CredentialAlias {
        &self.alias
    }

    /// The IAM user whose permissions the key carries.
    pub fn user_name(&self) -> &UserName {
        self.alias.user_name()
    }

    /// The account of the user.
    pub fn account_id(&self) -> &AccountId {
        self.alias.account_id()
    }

    /// `None` for a user's first credential, `Some(1)` for `+1`, …
    pub fn slot(&self) -> Option<NonZeroU32> {
        self.alias.slot()
    }

    /// The credential's secret.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose()
    }

    /// The key itself, `ABSK…`, as sent in `Authorization: Bearer`.
    pub fn expose_bearer(&self) -> String {
        let decoded = format!("{}:{}", self.alias, self.secret.expose());
        format!("{LONG_TERM_PREFIX}{}", STANDARD.encode(decoded))
    }
}

fn layout(reason: &str) -> TokenError {
    TokenError::BadLongTermLayout {
        reason: reason.to_owned(),
    }
}

/// Reads a key of this kind: the same as [`LongTermKey::parse`].
impl FromStr for LongTermKey {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LongTermKey")
            .field("alias", &self.alias.to_string())
            .field("secret", &self.secret)
            .finish()
    }
}

impl fmt::Display for LongTermKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "long-term Bedrock API key {} (secret {REDACTED})",
            self.alias
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(decoded: &str) -> String {
        format!("{LONG_TERM_PREFIX}{}", STANDARD.encode(decoded))
    }

    fn layout_error(decoded: &str) -> String {
        match LongTermKey::parse(&key_of(decoded)) {
            Err(TokenError::BadLongTermLayout { reason }) => reason,
            other => panic!("{decoded}: expected BadLongTermLayout, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_first_slot_key() {
        let key =
            LongTermKey::parse(&key_of("BedrockAPIKey-h42z-at-123456789012:c2VjcmV0")).unwrap();
        assert_eq!(key.token_type(), TokenType::LongTerm);
        assert_eq!(key.user_name().as_str(), "BedrockAPIKey-h42z");
        assert_eq!(key.account_id().as_str(), "123456789012");
        assert_eq!(key.slot(), None);
        assert_eq!(key.expose_secret(), "c2VjcmV0");
        assert_eq!(
            key.alias().to_string(),
            "BedrockAPIKey-h42z-at-123456789012"
        );
    }

    #[test]
    fn parses_a_second_slot_key() {
        let encoded = key_of("BedrockAPIKey-h42z+1-at-123456789012:s3cr3t:with:colons");
        let key = LongTermKey::parse(&encoded).unwrap();
        assert_eq!(key.user_name().as_str(), "BedrockAPIKey-h42z");
        assert_eq!(key.slot(), NonZeroU32::new(1));
        assert_eq!(key.expose_secret(), "s3cr3t:with:colons");
        assert_eq!(key.expose_bearer(), encoded);
    }

    #[test]
    fn user_names_keep_what_is_not_a_slot() {
        for (alias, user, slot) in [
            ("cat-at-home-at-123456789012", "cat-at-home", None),
            ("a+b-at-123456789012", "a+b", None),
            ("a+01-at-123456789012", "a+01", None),
            ("a+0-at-123456789012", "a+0", None),
            ("a+-at-123456789012", "a+", None),
            ("a+b+12-at-123456789012", "a+b", NonZeroU32::new(12)),
        ] {
            let encoded = key_of(&format!("{alias}:x"));
            let key = LongTermKey::parse(&encoded).unwrap();
            assert_eq!(key.user_name().as_str(), user, "{alias}");
            assert_eq!(key.slot(), slot, "{alias}");
            assert_eq!(key.expose_bearer(), encoded, "{alias}");
        }
    }

    #[test]
    fn wrong_prefix_base64_and_utf8() {
        assert_eq!(
            LongTermKey::parse("bedrock-api-key-x"),
            Err(TokenError::WrongPrefix {
                kind: TokenType::LongTerm,
                expected: LONG_TERM_PREFIX
            })
        );
        assert!(matches!(
            LongTermKey::parse("ABSK!!!!"),
            Err(TokenError::BadBase64 {
                kind: TokenType::LongTerm,
                ..
            })
        ));
        assert!(matches!(
            LongTermKey::parse(&format!("ABSK{}", STANDARD.encode([0xc3, 0x28]))),
            Err(TokenError::NotUtf8 {
                kind: TokenType::LongTerm,
                valid_up_to: 0
            })
        ));
    }

    #[test]
    fn bad_layouts() {
        assert!(layout_error("BedrockAPIKey-h42z-at-123456789012").contains("no `:`"));
        assert!(layout_error("BedrockAPIKey-h42z-at-123456789012:").contains("empty"));
        assert!(layout_error("BedrockAPIKey-h42z:secret").contains("-at-"));
        assert!(layout_error("BedrockAPIKey-h42z-at-12345678901:secret").contains("12 digits"));
        assert!(layout_error("BedrockAPIKey-h42z-at-1234567890123:secret").contains("12 digits"));
        assert!(layout_error("-at-123456789012:secret").contains("1 to 64"));
        assert!(layout_error(&format!("{}-at-123456789012:s", "u".repeat(65))).contains("1 to 64"));
        assert!(layout_error("bad/user-at-123456789012:s").contains("ASCII letters"));
    }

    #[test]
    fn layout_errors_never_echo_the_secret() {
        let secret = "TOPSECRETVALUE";
        for decoded in [
            format!("user-at-1234:{secret}"),
            format!("us/er-at-123456789012:{secret}"),
            format!("user:{secret}"),
        ] {
            let message = LongTermKey::parse(&key_of(&decoded))
                .unwrap_err()
                .to_string();
            assert!(!message.contains(secret), "{message}");
        }
    }
}
