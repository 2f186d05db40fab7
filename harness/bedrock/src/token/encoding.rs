//! The outer layer both kinds of key share: a prefix, then standard padded base64 of UTF-8 text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::error::TokenError;
use super::kind::TokenType;

/// The text a key carries: both kinds are `<prefix>` + standard padded base64 of UTF-8 text.
pub(super) fn decode_after_prefix(
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
