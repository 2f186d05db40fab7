//! The two kinds of key, as the condition key `bedrock:BearerTokenType` names them.

use std::fmt;
use std::str::FromStr;

use crate::UnknownName;

/// The kind of a key: the value of the condition key `bedrock:BearerTokenType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// A `bedrock-api-key-…` presigned token, valid up to 12 hours.
    ShortTerm,
    /// An `ABSK…` key carrying a service-specific credential.
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

/// Reads `SHORT_TERM` or `LONG_TERM`, exactly as written in a policy or a case.
impl FromStr for TokenType {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SHORT_TERM" => Ok(TokenType::ShortTerm),
            "LONG_TERM" => Ok(TokenType::LongTerm),
            _ => Err(UnknownName::new("a key type", "SHORT_TERM or LONG_TERM", s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for t in [TokenType::ShortTerm, TokenType::LongTerm] {
            assert_eq!(t.as_str().parse::<TokenType>(), Ok(t));
        }
        let err = "short_term".parse::<TokenType>().unwrap_err();
        assert_eq!(err.found(), "short_term");
        assert!(err.to_string().contains("SHORT_TERM or LONG_TERM"));
    }
}
