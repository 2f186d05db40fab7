//! Keeping secrets out of `Debug`, `Display` and error messages.

use std::fmt;

/// What a redacted value prints as.
pub(crate) const REDACTED: &str = "[redacted]";

/// A string that must never be formatted. Comparison is allowed because tests and the
/// credential store need it; nothing here needs constant-time comparison because no secret is
/// ever checked against attacker input.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// An access key id shortened to its first four characters: enough to tell `AKIA` (long-term)
/// from `ASIA` (temporary) credentials in a log, not enough to look the key up.
pub(crate) struct KeyIdHint<'a>(pub(crate) &'a str);

impl fmt::Display for KeyIdHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.0.chars().take(4).collect();
        write!(f, "{head}…")
    }
}

impl fmt::Debug for KeyIdHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Input echoed in an error message, cut short so that a pasted blob (which may hold a secret
/// further along) does not end up in a log whole.
pub(crate) fn echo(input: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut chars = input.chars();
    let head: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        format!("{}…", head.escape_debug())
    } else {
        head.escape_debug().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{secret:#?}"), REDACTED);
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn key_id_hint_keeps_four_characters() {
        assert_eq!(KeyIdHint("AKIAIOSFODNN7EXAMPLE").to_string(), "AKIA…");
        assert_eq!(KeyIdHint("AK").to_string(), "AK…");
    }

    #[test]
    fn echo_truncates_and_escapes() {
        assert_eq!(echo("short"), "short");
        assert_eq!(echo("a\nb"), "a\\nb");
        let long = "x".repeat(100);
        assert_eq!(echo(&long), format!("{}…", "x".repeat(40)));
    }
}
