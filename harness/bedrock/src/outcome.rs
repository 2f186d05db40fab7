//! What a caller sees: the HTTP status, the exact body, and what was done on the way.

use std::fmt;

/// The request id printed in IAM's error bodies. Real ones are random; keyward never records
/// them (they identify a request in someone's account), so every body carries this one.
pub const REDACTED_REQUEST_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Bedrock runtime's answer to a key it could not read: wrong prefix (aws-facts §1.2, [OBS]).
pub const INVALID_FORMAT_MESSAGE: &str =
    "Invalid API Key format: Must start with pre-defined prefix";
/// Bedrock runtime's answer to an expired key or a key used in another region (aws-facts §1.2,
/// [OBS]); also used for inactive and otherwise malformed keys (assumption B-AUTH-FAILED-MESSAGE).
pub const AUTH_FAILED_MESSAGE: &str =
    "Authentication failed: Please make sure your API Key is valid.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: u16,
    /// IAM's error code (`AccessDenied`, `ValidationError`, ...); `None` for successes and for
    /// Bedrock runtime errors, whose bodies carry no code.
    pub code: Option<&'static str>,
    /// The exact response body; empty for a success (model output is not modelled).
    pub body: String,
    /// What was done, in order: resources created before a later step failed stay created.
    pub side_effects: Vec<String>,
}

impl Outcome {
    pub fn success(side_effects: Vec<String>) -> Outcome {
        Outcome {
            status: 200,
            code: None,
            body: String::new(),
            side_effects,
        }
    }

    /// A Bedrock runtime error: `{"Message":"..."}` with a capital M, as seen on the bearer-token
    /// path (aws-facts §3.3).
    pub fn bedrock_error(status: u16, message: &str) -> Outcome {
        Outcome {
            status,
            code: None,
            body: bedrock_body(message),
            side_effects: Vec::new(),
        }
    }

    /// An IAM error in IAM's XML envelope (aws-facts §3.2).
    pub fn iam_error(code: &'static str, message: &str, side_effects: Vec<String>) -> Outcome {
        Outcome {
            status: iam_status(code),
            code: Some(code),
            body: iam_body(code, message),
            side_effects,
        }
    }

    pub fn is_success(&self) -> bool {
        self.status == 200
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

pub fn bedrock_body(message: &str) -> String {
    let mut m = serde_json::Map::new();
    m.insert("Message".into(), serde_json::Value::String(message.into()));
    serde_json::Value::Object(m).to_string()
}

/// HTTP status by IAM error code (aws-facts §1.5, §3.2).
pub fn iam_status(code: &str) -> u16 {
    match code {
        "AccessDenied" => 403,
        "NoSuchEntity" | "NotSupportedService" => 404,
        "LimitExceeded" | "EntityAlreadyExists" => 409,
        _ => 400,
    }
}

pub fn iam_body(code: &str, message: &str) -> String {
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
        let o = Outcome::iam_error("LimitExceeded", "x < y & z", vec![]);
        assert_eq!(o.status, 409);
        assert!(o.body.contains("<Code>LimitExceeded</Code>"));
        assert!(o.body.contains("<Message>x &lt; y &amp; z</Message>"));
        assert!(o.body.contains(REDACTED_REQUEST_ID));
        assert_eq!(iam_status("AccessDenied"), 403);
        assert_eq!(iam_status("NotSupportedService"), 404);
        assert_eq!(iam_status("ValidationError"), 400);
    }
}
