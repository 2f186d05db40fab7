//! bedrock-runtime: model calls with a bearer key, answered in JSON (errors carry
//! `x-amzn-ErrorType`).

use serde_json::json;

use super::response::Resp;
use super::{Req, World};

/// What Bedrock answers a key it cannot authenticate.
pub const AUTH_FAILED: &str = "Authentication failed: Please make sure your API Key is valid.";
const CORAL: &str = ":http://internal.amazon.com/coral/com.amazon.coral.service/";

/// Answers a model call: a key the fake does not know, or an inactive one, fails
/// authentication; the operation decides the rest.
pub fn answer(r: &Req, w: &mut World) -> Resp {
    let auth = r.header("authorization").unwrap_or_default();
    let token = auth.strip_prefix("Bearer ").unwrap_or_default();
    let inactive = w.creds.iter().any(|c| c.secret == token && !c.active);
    if r.caller_arn.is_none() || inactive {
        return bedrock_error(w, 403, "AccessDeniedException", AUTH_FAILED);
    }
    match r.op.as_str() {
        "Converse" => converse(w),
        "CountTokens" => count_tokens(),
        "InvokeModel" => invoke_model(),
        _ => bedrock_error(w, 400, "ValidationException", "The fake does not stream."),
    }
}

pub fn bedrock_error(w: &mut World, status: u16, kind: &str, message: &str) -> Resp {
    Resp {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-requestid".into(), w.uuid()),
            ("x-amzn-errortype".into(), format!("{kind}{CORAL}")),
        ],
        body: json!({ "Message": message }).to_string(),
    }
}

fn converse(w: &mut World) -> Resp {
    Resp {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-requestid".into(), w.uuid()),
        ],
        body: r#"{"metrics":{"latencyMs":187},"output":{"message":{"content":[{"text":"Hello"}],"role":"assistant"}},"stopReason":"max_tokens","usage":{"inputTokens":2,"outputTokens":1,"totalTokens":3}}"#.into(),
    }
}

fn count_tokens() -> Resp {
    Resp {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"inputTokens":2}"#.into(),
    }
}

fn invoke_model() -> Resp {
    Resp {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"output":{"message":{"content":[{"text":"Hi"}],"role":"assistant"}},"stopReason":"max_tokens","usage":{"inputTokens":2,"outputTokens":1,"totalTokens":3}}"#.into(),
    }
}
