//! bedrock-runtime: model calls with a bearer key, answered in JSON (errors carry
//! `x-amzn-ErrorType`).

use serde_json::json;

use keyward_bedrock::{ShortTermToken, EXPIRED_MESSAGE};

use super::response::Resp;
use super::world::wall_now;
use super::{Req, World};

/// What Bedrock answers a key it cannot authenticate.
pub const AUTH_FAILED: &str = "Authentication failed: Please make sure your API Key is valid.";
const CORAL: &str = ":http://internal.amazon.com/coral/com.amazon.coral.service/";

/// What Bedrock answers a model the account has not been given access to: an
/// AccessDeniedException like a policy's deny, told apart only by its text (AWS re:Post,
/// https://repost.aws/knowledge-center/bedrock-invokemodel-api-error).
pub const NO_MODEL_ACCESS: &str = "You don't have access to the model with the specified model ID.";
/// What Bedrock answers a model or inference profile id it does not know: a ValidationException.
/// The text is not in AWS's documentation; it is the one public reports show (for example
/// https://github.com/langchain-ai/open_deep_research/issues/224).
pub const INVALID_MODEL_ID: &str = "The provided model identifier is invalid.";

/// The system inference profiles Amazon Bedrock documents for the models the fake knows, by
/// geography prefix: Nova Micro's are the US, EU and APAC ones ("Supported Regions and models
/// for inference profiles" and, for the Regions of each, "Supported Regions and models for batch
/// inference", https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-supported.html).
/// Profiles of other models are taken as they come.
const DOCUMENTED_PROFILES: &[(&str, &[&str])] =
    &[("amazon.nova-micro-v1:0", &["us", "eu", "apac"])];
/// The geography prefixes Bedrock names system inference profiles with.
const GEOGRAPHIES: &[&str] = &["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"];

/// Answers a model call. Authentication first: a key the fake does not know, an inactive or
/// expired one fails (a long-term key as Bedrock sees it: its creation and its status reach
/// Bedrock after [`super::Propagation`]'s lag). Then authorization: a caller whose policies have
/// not reached Bedrock yet has none. Then the model, then the operation.
pub fn answer(r: &Req, w: &mut World) -> Resp {
    let auth = r.header("authorization").unwrap_or_default();
    let token = auth.strip_prefix("Bearer ").unwrap_or_default();
    if let Some(c) = w.creds.iter().find(|c| c.secret == token).cloned() {
        let (known, active) = w.key_seen(&c.id, c.active);
        if !known || !active {
            return bedrock_error(w, 403, "AccessDeniedException", AUTH_FAILED);
        }
    }
    let expired = token.starts_with("bedrock-api-key-")
        && ShortTermToken::parse(token).is_ok_and(|t| t.is_expired_at(wall_now()));
    if expired {
        // keyward's model (assumption B-EXPIRED-MESSAGE).
        return bedrock_error(w, 403, "AccessDeniedException", EXPIRED_MESSAGE);
    }
    let Some(caller) = r.caller_arn.clone() else {
        return bedrock_error(w, 403, "AccessDeniedException", AUTH_FAILED);
    };
    if !w.policies_seen(&caller) {
        // AWS's sentence for it, as reports show it (docs/aws-behaviour.md §3.3); the caller is
        // the live principal, put in from the request.
        let message = "User: {CALLER} is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action"
            .replace("{CALLER}", &caller);
        return bedrock_error(w, 403, "AccessDeniedException", &message);
    }
    let model = model_id(r);
    let (geo, base) = match model.split_once('.') {
        Some((g, b)) if GEOGRAPHIES.contains(&g) => (Some(g), b),
        _ => (None, model.as_str()),
    };
    let undocumented = geo.is_some_and(|g| {
        DOCUMENTED_PROFILES
            .iter()
            .any(|(m, geos)| *m == base && !geos.contains(&g))
    });
    if undocumented {
        return bedrock_error(w, 400, "ValidationException", INVALID_MODEL_ID);
    }
    if w.models_without_access.contains(base) {
        return bedrock_error(w, 403, "AccessDeniedException", NO_MODEL_ACCESS);
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
