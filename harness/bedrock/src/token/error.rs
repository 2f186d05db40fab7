//! Why a string is not a usable Bedrock API key, and why a token could not be generated.
//!
//! Messages name the part that is wrong and what it should look like, and never echo a secret:
//! signatures, session tokens and key secrets are described, not quoted, and other echoed input
//! is cut short.

use std::fmt;

use super::TokenType;

/// A query parameter of a short-term key, named as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    Action,
    Algorithm,
    Credential,
    Date,
    Expires,
    SignedHeaders,
    SecurityToken,
    Signature,
    Version,
}

impl Param {
    /// Every parameter, in the order AWS's Python generator writes them.
    pub const ALL: [Param; 9] = [
        Param::Action,
        Param::Algorithm,
        Param::Credential,
        Param::Date,
        Param::Expires,
        Param::SignedHeaders,
        Param::SecurityToken,
        Param::Signature,
        Param::Version,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Param::Action => "Action",
            Param::Algorithm => "X-Amz-Algorithm",
            Param::Credential => "X-Amz-Credential",
            Param::Date => "X-Amz-Date",
            Param::Expires => "X-Amz-Expires",
            Param::SignedHeaders => "X-Amz-SignedHeaders",
            Param::SecurityToken => "X-Amz-Security-Token",
            Param::Signature => "X-Amz-Signature",
            Param::Version => "Version",
        }
    }

    /// Parameter names are matched exactly: SigV4 canonicalisation is case-sensitive, so
    /// `x-amz-date` is a different (and unknown) parameter.
    pub fn from_wire(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a Bedrock API key this crate can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("the bearer token is empty: set it to a `bedrock-api-key-…` or `ABSK…` key")]
    Empty,

    #[error(
        "the bearer token has whitespace at its start or end (often a trailing newline from a \
         file or a copy and paste): remove it"
    )]
    SurroundingWhitespace,

    #[error(
        "not a Bedrock API key: it starts with neither `bedrock-api-key-` (short-term key) nor \
         `ABSK` (long-term key){hint}"
    )]
    UnknownPrefix {
        /// Empty, or a sentence (starting with `; `) guessing what was passed instead.
        hint: &'static str,
    },

    #[error("a {} key must start with `{expected}`", .kind.noun())]
    WrongPrefix {
        kind: TokenType,
        expected: &'static str,
    },

    #[error("the key is only the prefix `{prefix}`, with nothing after it: it was cut off")]
    NothingAfterPrefix { prefix: &'static str },

    #[error(
        "the {} key after `{prefix}` is not standard base64 with `=` padding ({cause}): \
         the key was probably cut short or altered",
        .kind.noun()
    )]
    BadBase64 {
        kind: TokenType,
        prefix: &'static str,
        cause: base64::DecodeError,
    },

    #[error(
        "the {} key decodes to bytes that are not UTF-8 text (bad byte at offset \
         {valid_up_to}): the key was probably altered",
        .kind.noun()
    )]
    NotUtf8 { kind: TokenType, valid_up_to: usize },

    #[error(
        "a short-term key must be signed for host `bedrock.amazonaws.com` (the same in every \
         Region), but this one names `{found}`"
    )]
    WrongHost { found: String },

    #[error("a short-term key must be signed for path `/`, but this one has `{found}`")]
    WrongPath { found: String },

    #[error(
        "the short-term key has no query string after `bedrock.amazonaws.com/`: it was \
         probably cut short"
    )]
    MissingQuery,

    #[error("the short-term key's query string is malformed: {reason}")]
    MalformedQuery { reason: String },

    #[error(
        "a short-term key must be for `Action=CallWithBearerToken`, but this one is for \
         `{found}`"
    )]
    WrongAction { found: String },

    #[error(
        "the short-term key lacks the `{0}` parameter: generate a new key with an official \
         generator"
    )]
    MissingParameter(Param),

    #[error("the short-term key has the `{0}` parameter more than once")]
    DuplicateParameter(Param),

    #[error(
        "the short-term key has a parameter `{name}` that AWS's generators never write: remove \
         it or generate a new key"
    )]
    UnexpectedParameter { name: String },

    #[error("the short-term key's `{param}` {reason}")]
    MalformedParameter { param: Param, reason: String },

    #[error(
        "the short-term key is valid for {value} s, but X-Amz-Expires must be 1 to 43200 \
         seconds (12 hours)"
    )]
    ExpiryOutOfRange { value: u64 },

    #[error(
        "the short-term key's credential scope (X-Amz-Credential) {reason}; it must read \
         `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`"
    )]
    BadCredentialScope { reason: String },

    #[error(
        "the long-term key does not decode to `<user>-at-<12-digit account id>:<secret>`: \
         {reason}"
    )]
    BadLongTermLayout { reason: String },
}

/// Why a short-term token could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    #[error(
        "cannot sign for Region `{region}`: a Region is lower-case letters, digits and `-`, \
         like `us-east-1`"
    )]
    InvalidRegion { region: String },

    #[error(
        "the access key id is not 16 to 128 ASCII letters and digits (like \
         `AKIAIOSFODNN7EXAMPLE`)"
    )]
    InvalidAccessKeyId,

    #[error("the secret access key is empty")]
    EmptySecretAccessKey,

    #[error("the session token is empty: leave it out for long-term (AKIA…) credentials")]
    EmptySessionToken,

    #[error("the signing time must fall in the years 0000 to 9999 (UTC)")]
    SigningTimeOutOfRange,

    #[error("aws-sigv4 could not sign the token request: {0}")]
    Signing(String),

    #[error("the generated token does not parse back ({0}): this is a bug in keyward-bedrock")]
    Unparseable(TokenError),
}
