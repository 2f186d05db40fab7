//! What a caller sees: the HTTP status, the exact body, and what was done on the way.

use std::fmt;
use std::str::FromStr;

use crate::{SideEffect, UnknownName};

/// The request id printed in IAM's error bodies. Real ones are random; keyward never records
/// them (they identify a request in someone's account), so every body carries this one.
pub const REDACTED_REQUEST_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Bedrock runtime's answer to a key it could not read: wrong prefix (docs/aws-behaviour.md §1.2, observed).
pub const INVALID_FORMAT_MESSAGE: &str =
    "Invalid API Key format: Must start with pre-defined prefix";
/// Bedrock runtime's answer to a key used in another region (docs/aws-behaviour.md §8, observed);
/// also used for inactive and otherwise malformed keys (assumption
/// B-AUTH-FAILED-MESSAGE).
pub const AUTH_FAILED_MESSAGE: &str =
    "Authentication failed: Please make sure your API Key is valid.";
/// Bedrock runtime's answer to an expired short-term key (docs/aws-behaviour.md §8, observed; which
/// kind of key, and the order against the region check, are assumption B-EXPIRED-MESSAGE).
pub const EXPIRED_MESSAGE: &str = "Bearer Token has expired";
/// Bedrock runtime's answer to a call without an `Authorization` header (docs/aws-behaviour.md §8,
/// observed).
pub const AUTHORIZATION_MISSING_MESSAGE: &str = "Authorization header is missing";
/// bedrock-mantle's error `code` for a bearer value it does not accept (docs/aws-behaviour.md §8,
/// observed).
pub const MANTLE_INVALID_KEY_CODE: &str = "invalid_api_key";
/// bedrock-mantle's error `message` for a bearer value it does not accept (docs/aws-behaviour.md §8,
/// observed).
pub const MANTLE_INVALID_KEY_MESSAGE: &str = "Invalid bearer token";

/// An IAM error code, as IAM writes it in `<Code>` and cases write it in `expect.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IamErrorCode {
    /// The caller's policies do not allow the request (403).
    AccessDenied,
    /// A parameter breaks a constraint, such as `CredentialAgeDays` outside 1 to 36600 (400).
    ValidationError,
    /// The user does not exist (404).
    NoSuchEntity,
    /// The service takes no service-specific credentials (404).
    NotSupportedService,
    /// The user already has the most credentials allowed for the service (409).
    LimitExceeded,
    /// The entity to be created exists already (409).
    EntityAlreadyExists,
}

impl IamErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [IamErrorCode; 6] = [
        IamErrorCode::AccessDenied,
        IamErrorCode::ValidationError,
        IamErrorCode::NoSuchEntity,
        IamErrorCode::NotSupportedService,
        IamErrorCode::LimitExceeded,
        IamErrorCode::EntityAlreadyExists,
    ];

    /// The code as IAM writes it, e.g. `AccessDenied`.
    pub const fn as_str(self) -> &'static str {
        match self {
            IamErrorCode::AccessDenied => "AccessDenied",
            IamErrorCode::ValidationError => "ValidationError",
            IamErrorCode::NoSuchEntity => "NoSuchEntity",
            IamErrorCode::NotSupportedService => "NotSupportedService",
            IamErrorCode::LimitExceeded => "LimitExceeded",
            IamErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
        }
    }

    /// The HTTP status IAM answers with (docs/aws-behaviour.md §1.5, §3.2).
    pub const fn status(self) -> u16 {
        match self {
            IamErrorCode::AccessDenied => 403,
            IamErrorCode::NoSuchEntity | IamErrorCode::NotSupportedService => 404,
            IamErrorCode::LimitExceeded | IamErrorCode::EntityAlreadyExists => 409,
            IamErrorCode::ValidationError => 400,
        }
    }
}

impl fmt::Display for IamErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a code exactly as IAM writes it.
impl FromStr for IamErrorCode {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IamErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                UnknownName::new(
                    "an IAM error code this crate models",
                    "AccessDenied, ValidationError, NoSuchEntity, NotSupportedService, \
                     LimitExceeded or EntityAlreadyExists",
                    s,
                )
            })
    }
}

/// What a caller sees for a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The HTTP status: 200 for a success.
    pub status: u16,
    /// IAM's error code; `None` for successes and for Bedrock runtime errors, whose bodies carry
    /// no code, and for bedrock-mantle errors, whose code is inside their body.
    pub code: Option<IamErrorCode>,
    /// The exact response body; empty for a success (model output is not modelled).
    pub body: String,
    /// What was done, in order: resources created before a later step failed stay created.
    pub side_effects: Vec<SideEffect>,
}

impl Outcome {
    pub(crate) fn success(side_effects: Vec<SideEffect>) -> Outcome {
        Outcome {
            status: 200,
            code: None,
            body: String::new(),
            side_effects,
        }
    }

    /// A Bedrock runtime error: `{"Message":"..."}` with a capital M, as seen on the bearer-token
    /// path (docs/aws-behaviour.md §3.3).
    pub(crate) fn bedrock_error(status: u16, message: &str) -> Outcome {
        Outcome {
            status,
            code: None,
            body: bedrock_body(message),
            side_effects: Vec::new(),
        }
    }

    /// A bedrock-mantle error in its OpenAI-style envelope, `{"error":{"code":...,"message":...}}`:
    /// the members the public report shows, and no others (assumption B-MANTLE-ENVELOPE).
    pub(crate) fn mantle_error(status: u16, code: &str, message: &str) -> Outcome {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), serde_json::Value::String(code.into()));
        error.insert("message".into(), serde_json::Value::String(message.into()));
        let mut m = serde_json::Map::new();
        m.insert("error".into(), serde_json::Value::Object(error));
        Outcome {
            status,
            code: None,
            body: serde_json::Value::Object(m).to_string(),
            side_effects: Vec::new(),
        }
    }

    /// An IAM error in IAM's XML envelope (docs/aws-behaviour.md §3.2).
    pub(crate) fn iam_error(
        code: IamErrorCode,
        message: &str,
        side_effects: Vec<SideEffect>,
    ) -> Outcome {
        Outcome {
            status: code.status(),
            code: Some(code),
            body: iam_body(code, message),
            side_effects,
        }
    }

    /// Whether the call or creation succeeded (HTTP 200).
    pub fn is_success(&self) -> bool {
        self.status == 200
    }

    /// The side effects as the text cases hold in `expect.side_effects`.
    pub fn side_effect_texts(&self) -> Vec<String> {
        self.side_effects.iter().map(ToString::to_string).collect()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(c) = self.code {
            write!(f, " {c}")?;
        }
        if !self.body.is_empty() {
            write!(f, "\n{}", self.body.trim_end())?;
        }
        for s in &self.side_effects {
            write!(f, "\nside effect: {s}")?;
        }
        Ok(())
    }
}

fn bedrock_body(message: &str) -> String {
    let mut m = serde_json::Map::new();
    m.insert("Message".into(), serde_json::Value::String(message.into()));
    serde_json::Value::Object(m).to_string()
}

fn iam_body(code: IamErrorCode, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{REDACTED_REQUEST_ID}</RequestId>\n</ErrorResponse>\n",
        xml_escape(message)
    )
}

/// Text-node escaping: `&`, `<` and `>` only; quotes need no escape in element text.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrock_body_has_a_capital_message_key_and_escapes() {
        assert_eq!(bedrock_body("a \"b\""), r#"{"Message":"a \"b\""}"#);
    }

    #[test]
    fn iam_body_is_the_xml_envelope_with_status_by_code() {
        let o = Outcome::iam_error(IamErrorCode::LimitExceeded, "x < y & z", vec![]);
        assert_eq!(o.status, 409);
        assert!(o.body.contains("<Code>LimitExceeded</Code>"));
        assert!(o.body.contains("<Message>x &lt; y &amp; z</Message>"));
        assert!(o.body.contains(REDACTED_REQUEST_ID));
        assert_eq!(IamErrorCode::AccessDenied.status(), 403);
        assert_eq!(IamErrorCode::NotSupportedService.status(), 404);
        assert_eq!(IamErrorCode::ValidationError.status(), 400);
    }

    #[test]
    fn iam_error_codes_read_back_from_their_names() {
        for code in IamErrorCode::ALL {
            assert_eq!(code.as_str().parse::<IamErrorCode>(), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
        }
        assert!("accessdenied".parse::<IamErrorCode>().is_err());
    }
}
