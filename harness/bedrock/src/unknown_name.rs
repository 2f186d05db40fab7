//! The error of every `FromStr` that reads one of a fixed set of names.

use crate::redact::echo;

/// A text that names none of the values of a type, such as `MEDIUM_TERM` for a
/// [`TokenType`](crate::TokenType).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{found}` is not {what}: expected {expected}")]
pub struct UnknownName {
    what: &'static str,
    expected: &'static str,
    found: String,
}

impl UnknownName {
    /// `what` reads as a noun with its article ("a key type"), `expected` lists the names.
    pub(crate) fn new(what: &'static str, expected: &'static str, found: &str) -> Self {
        Self {
            what,
            expected,
            found: echo(found),
        }
    }

    /// The text that was read, shortened if long.
    pub fn found(&self) -> &str {
        &self.found
    }
}
