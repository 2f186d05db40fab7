//! Why a string is not a usable Bedrock API key, and why a token could not be generated.
//!
//! Messages name the part that is wrong and what it should look like, and never echo a secret:
//! signatures, session tokens and key secrets are described, not quoted, and other echoed input
//! is cut short.

use std::fmt;

use super::kind::TokenType;

/// A query parameter of a short-term key, named as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// `Action`.
    Action,
    /// `X-Amz-Algorithm`.
    Algorithm,
    /// `X-Amz-Credential`, the credential scope.
    Credential,
    /// `X-Amz-Date`, the signing time.
    Date,
    /// `X-Amz-Expires`, the lifetime in seconds.
    Expires,
    /// `X-Amz-SignedHeaders`.
    SignedHeaders,
    /// `X-Amz-Security-Token`, present for temporary credentials.
    SecurityToken,
    /// `X-Amz-Signature`.
    Signature,
    /// `Version`.
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

    /// The name on the wire, e.g. `X-Amz-Date`.
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
    /// The string is empty.
    #[error("the bearer token is empty: set it to a `bedrock-api-key-…` or `ABSK…` key")]
    Empty,

    /// Whitespace before or after the key.
    #[error(
        "the bearer token has whitespace at its start or end (often a trailing newline from a \
         file or a copy and paste): remove it"
    )]
    SurroundingWhitespace,

    /// Neither `bedrock-api-key-` nor `ABSK` starts the string.
    #[error(
        "not a Bedrock API key: it starts with neither `bedrock-api-key-` (short-term key) nor \
         `ABSK` (long-term key){hint}"
    )]
    UnknownPrefix {
        /// Empty, or a sentence (starting with `; `) guessing what was passed instead.
        hint: &'static str,
    },

    /// A parser for one kind was given a string without that kind's prefix.
    #[error("a {} key must start with `{expected}`", .kind.noun())]
    WrongPrefix {
        /// The kind the parser reads.
        kind: TokenType,
        /// Its prefix.
        expected: &'static str,
    },

    /// Nothing follows the prefix.
    #[error("the key is only the prefix `{prefix}`, with nothing after it: it was cut off")]
    NothingAfterPrefix {
        /// The prefix found.
        prefix: &'static str,
    },

    /// What follows the prefix is not standard padded base64.
    #[error(
        "the {} key after `{prefix}` is not standard base64 with `=` padding ({cause}): \
         the key was probably cut short or altered",
        .kind.noun()
    )]
    BadBase64 {
        /// The kind of key.
        kind: TokenType,
        /// Its prefix.
        prefix: &'static str,
        /// What the decoder found.
        cause: base64::DecodeError,
    },

    /// The base64 decodes to bytes that are not UTF-8.
    #[error(
        "the {} key decodes to bytes that are not UTF-8 text (bad byte at offset \
         {valid_up_to}): the key was probably altered",
        .kind.noun()
    )]
    NotUtf8 {
        /// The kind of key.
        kind: TokenType,
        /// The offset of the first byte that is not UTF-8.
        valid_up_to: usize,
    },

    /// A short-term key signed for another host.
    #[error(
        "a short-term key must be signed for host `bedrock.amazonaws.com` (the same in every \
         Region), but this one names `{found}`"
    )]
    WrongHost {
        /// The host, shortened.
        found: String,
    },

    /// A short-term key signed for another path.
    #[error("a short-term key must be signed for path `/`, but this one has `{found}`")]
    WrongPath {
        /// The path, shortened.
        found: String,
    },

    /// A short-term key without a query string.
    #[error(
        "the short-term key has no query string after `bedrock.amazonaws.com/`: it was \
         probably cut short"
    )]
    MissingQuery,

    /// A query string that does not split into `name=value` pairs.
    #[error("the short-term key's query string is malformed: {reason}")]
    MalformedQuery {
        /// What is wrong.
        reason: String,
    },

    /// A presigned request for another action.
    #[error(
        "a short-term key must be for `Action=CallWithBearerToken`, but this one is for \
         `{found}`"
    )]
    WrongAction {
        /// The action, shortened.
        found: String,
    },

    /// A required parameter is missing.
    #[error(
        "the short-term key lacks the `{0}` parameter: generate a new key with an official \
         generator"
    )]
    MissingParameter(Param),

    /// A parameter appears twice.
    #[error("the short-term key has the `{0}` parameter more than once")]
    DuplicateParameter(Param),

    /// A parameter no AWS generator writes.
    #[error(
        "the short-term key has a parameter `{name}` that AWS's generators never write: remove \
         it or generate a new key"
    )]
    UnexpectedParameter {
        /// The parameter's name, shortened.
        name: String,
    },

    /// A parameter's value is not what it must be.
    #[error("the short-term key's `{param}` {reason}")]
    MalformedParameter {
        /// The parameter.
        param: Param,
        /// What is wrong with its value.
        reason: String,
    },

    /// `X-Amz-Expires` outside 1 to 43200 seconds.
    #[error(
        "the short-term key is valid for {value} s, but X-Amz-Expires must be 1 to 43200 \
         seconds (12 hours)"
    )]
    ExpiryOutOfRange {
        /// The lifetime asked for, in seconds.
        value: u64,
    },

    /// `X-Amz-Credential` is not a credential scope.
    #[error(
        "the short-term key's credential scope (X-Amz-Credential) {reason}; it must read \
         `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`"
    )]
    BadCredentialScope {
        /// What is wrong.
        reason: String,
    },

    /// A long-term key whose decoded text is not `<alias>:<secret>`.
    #[error(
        "the long-term key does not decode to `<user>-at-<12-digit account id>:<secret>`: \
         {reason}"
    )]
    BadLongTermLayout {
        /// What is wrong.
        reason: String,
    },
}

/// Why a short-term token could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// Not a Region name.
    #[error(
        "cannot sign for Region `{region}`: a Region is lower-case letters, digits and `-`, \
         like `us-east-1`"
    )]
    InvalidRegion {
        /// The Region asked for.
        region: String,
    },

    /// Not an access key id.
    #[error(
        "the access key id is not 16 to 128 ASCII letters and digits (like \
         `AKIAIOSFODNN7EXAMPLE`)"
    )]
    InvalidAccessKeyId,

    /// An empty secret access key.
    #[error("the secret access key is empty")]
    EmptySecretAccessKey,

    /// An empty session token.
    #[error("the session token is empty: leave it out for long-term (AKIA…) credentials")]
    EmptySessionToken,

    /// A signing time outside the years SigV4 can write.
    #[error("the signing time must fall in the years 0000 to 9999 (UTC)")]
    SigningTimeOutOfRange,

    /// The signer refused.
    #[error("aws-sigv4 could not sign the token request: {0}")]
    Signing(String),

    /// The token made does not read back: a bug in this crate.
    #[error("the generated token does not parse back ({0}): this is a bug in keyward-bedrock")]
    Unparseable(TokenError),
}
