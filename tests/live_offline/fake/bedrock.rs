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
        "CountTokens" => count_tokens(r, w),
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

/// The foundation models AWS documents CountTokens for (Amazon Bedrock User Guide, "Monitor your
/// token usage by counting tokens before running inference", supported models): Anthropic
/// Claude 3.5 Haiku, 3.5 Sonnet (and v2), 3.7 Sonnet, Opus 4 and Sonnet 4, named by their
/// foundation-model ids. The API reference takes "the unique identifier or ARN of the foundation
/// model", so an inference profile id is not one of them.
const COUNT_TOKENS_MODELS: &[&str] = &[
    "anthropic.claude-3-5-haiku-",
    "anthropic.claude-3-5-sonnet-",
    "anthropic.claude-3-7-sonnet-",
    "anthropic.claude-opus-4-2",
    "anthropic.claude-sonnet-4-2",
];

/// The model id of a `/model/{modelId}/...` request, decoded.
fn model_id(r: &Req) -> String {
    let path = r.uri.split("/model/").nth(1).unwrap_or_default();
    super::request::pct_decode(path.split('/').next().unwrap_or_default())
}

/// CountTokens on a model it is not documented for is a `ValidationException` (400, the error
/// CountTokens documents for input that fails Bedrock's constraints). The text is not in AWS's
/// documentation; this is the one public reports show.
fn count_tokens(r: &Req, w: &mut World) -> Resp {
    let model = model_id(r);
    if !COUNT_TOKENS_MODELS.iter().any(|m| model.starts_with(m)) {
        return bedrock_error(
            w,
            400,
            "ValidationException",
            "The provided model doesn't support counting tokens.",
        );
    }
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
