//! Reading and writing scenario cases (docs/case-format.md): `scenario.call` and
//! `scenario.create_key`.

use keyward_bedrock::{
    CallScenario, CreateKeyScenario, Endpoint, Flow, KeySpec, Operation, Scenario,
};
use keyward_bedrock::{ContextEntry, ServiceName, UserName};
use keyward_iam::Arn;
use serde_json::{Map, Value};

use super::json::{context_value, kind, Fail};

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Fail> {
    v.as_object().ok_or_else(|| {
        Fail::new(
            path.to_string(),
            format!("must be an object, found {}", kind(v)),
        )
    })
}

fn only(o: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), Fail> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Fail::new(
            format!("{path}.{k}"),
            format!(
                "unknown field \"{k}\" (expected one of: {})",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn string(o: &Map<String, Value>, path: &str, name: &str) -> Result<Option<String>, Fail> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(other) => Err(Fail::new(
            format!("{path}.{name}"),
            format!("must be a non-empty string, found {}", kind(other)),
        )),
    }
}

fn required(o: &Map<String, Value>, path: &str, name: &str) -> Result<String, Fail> {
    string(o, path, name)?.ok_or_else(|| {
        Fail::new(
            format!("{path}.{name}"),
            format!("missing required field \"{name}\""),
        )
    })
}

fn integer(o: &Map<String, Value>, path: &str, name: &str) -> Result<Option<i64>, Fail> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(other) => Err(Fail::new(
            format!("{path}.{name}"),
            format!("must be an integer, found {other}"),
        )),
    }
}

fn time(o: &Map<String, Value>, path: &str, name: &str) -> Result<Option<i64>, Fail> {
    let text = match o.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(Fail::new(
                format!("{path}.{name}"),
                format!(
                    "must be an ISO 8601 time or epoch seconds, found {}",
                    kind(other)
                ),
            ))
        }
    };
    keyward_bedrock::parse_time(&text).map(Some).ok_or_else(|| {
        Fail::new(
            format!("{path}.{name}"),
            format!("{text:?} is not an ISO 8601 time or epoch seconds"),
        )
    })
}

fn is_arn(s: &str) -> bool {
    s.parse::<Arn>().is_ok_and(|a| a.account_id().is_some())
}

pub(crate) fn parse_scenario(v: &Value) -> Result<Scenario, Fail> {
    let o = obj(v, "$.scenario")?;
    match (o.get("call"), o.get("create_key"), o.len()) {
        (Some(c), None, 1) => parse_call(c).map(Scenario::Call),
        (None, Some(c), 1) => parse_create(c).map(Scenario::CreateKey),
        _ => Err(Fail::new(
            "$.scenario".into(),
            "must hold exactly one of \"call\" or \"create_key\"".into(),
        )),
    }
}

fn parse_key(v: &Value) -> Result<KeySpec, Fail> {
    let p = "$.scenario.call.key";
    // The string "none": the call sends no Authorization header at all.
    match v {
        Value::String(s) if s == "none" => return Ok(KeySpec::Absent),
        Value::String(s) => {
            return Err(Fail::new(
                p.into(),
                format!("{s:?} is not a key: give an object, or \"none\" for a call without a key"),
            ))
        }
        _ => {}
    }
    let o = obj(v, p)?;
    if let Some(t) = o.get("token") {
        only(o, p, &["token"])?;
        let Value::String(t) = t else {
            return Err(Fail::new(
                format!("{p}.token"),
                format!("must be a string, found {}", kind(t)),
            ));
        };
        // Fixtures never hold a real token: a literal key is for malformed keys only.
        if keyward_bedrock::classify(t).is_ok() {
            return Err(Fail::new(
                format!("{p}.token"),
                "this token reads as a valid key: describe a valid key by its type (SHORT_TERM or LONG_TERM) instead of writing a real token".into(),
            ));
        }
        return Ok(KeySpec::Malformed(t.clone()));
    }
    match required(o, p, "type")?.as_str() {
        "SHORT_TERM" => {
            only(
                o,
                p,
                &["type", "principal", "region", "issued_at", "expires_in"],
            )?;
            let principal = required(o, p, "principal")?;
            if !is_arn(&principal) {
                return Err(Fail::new(
                    format!("{p}.principal"),
                    format!("{principal:?} is not a principal ARN"),
                ));
            }
            let expires_in = integer(o, p, "expires_in")?.unwrap_or(43200);
            if !(1..=43200).contains(&expires_in) {
                return Err(Fail::new(
                    format!("{p}.expires_in"),
                    format!(
                        "{expires_in} is out of range: a short-term key lives 1 to 43200 seconds"
                    ),
                ));
            }
            Ok(KeySpec::ShortTerm {
                principal,
                region: required(o, p, "region")?,
                issued_at: time(o, p, "issued_at")?,
                expires_in: expires_in as u32,
            })
        }
        "LONG_TERM" => {
            only(o, p, &["type", "user", "status", "expires_at"])?;
            let user = required(o, p, "user")?;
            if !user.parse::<Arn>().is_ok_and(|a| a.user_name().is_some()) {
                return Err(Fail::new(
                    format!("{p}.user"),
                    format!("{user:?} is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME)"),
                ));
            }
            let active = match string(o, p, "status")?.as_deref() {
                None | Some("Active") => true,
                Some("Inactive") => false,
                Some(s) => {
                    return Err(Fail::new(
                        format!("{p}.status"),
                        format!("unknown status {s:?}: expected Active or Inactive"),
                    ))
                }
            };
            Ok(KeySpec::LongTerm {
                user,
                active,
                expires_at: time(o, p, "expires_at")?,
            })
        }
        t => Err(Fail::new(
            format!("{p}.type"),
            format!("unknown key type {t:?}: expected SHORT_TERM or LONG_TERM (or give \"token\")"),
        )),
    }
}

fn parse_call(v: &Value) -> Result<CallScenario, Fail> {
    let p = "$.scenario.call";
    let o = obj(v, p)?;
    only(
        o,
        p,
        &[
            "operation",
            "key",
            "model",
            "region",
            "endpoint",
            "at",
            "context",
            "destinations",
        ],
    )?;
    let op = required(o, p, "operation")?;
    let operation = Operation::parse(&op).ok_or_else(|| {
        let why = if op == "InvokeModelWithBidirectionalStream" {
            "API keys cannot be used with InvokeModelWithBidirectionalStream (documented exclusion)".to_string()
        } else {
            format!("unknown operation {op:?}: expected Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream or CountTokens")
        };
        Fail::new(format!("{p}.operation"), why)
    })?;
    let key = parse_key(o.get("key").ok_or_else(|| {
        Fail::new(
            format!("{p}.key"),
            "missing required field \"key\"".to_string(),
        )
    })?)?;
    let endpoint = match string(o, p, "endpoint")?.as_deref() {
        None | Some("bedrock-runtime") => Endpoint::BedrockRuntime,
        Some("bedrock-mantle") => Endpoint::BedrockMantle,
        Some(e) => {
            return Err(Fail::new(
                format!("{p}.endpoint"),
                format!("unknown endpoint {e:?}: expected bedrock-runtime or bedrock-mantle"),
            ))
        }
    };
    let mut context = Vec::new();
    if let Some(c) = o.get("context") {
        for (k, x) in obj(c, &format!("{p}.context"))? {
            let path = format!("{p}.context[{}]", Value::String(k.clone()));
            context.push(ContextEntry {
                key: k.clone(),
                value: context_value(x, &path)?,
            });
        }
    }
    let model = required(o, p, "model")?;
    let destinations = destinations(o, p, &model)?;
    Ok(CallScenario {
        operation,
        key,
        model,
        region: required(o, p, "region")?,
        endpoint,
        at: time(o, p, "at")?,
        context,
        destinations,
    })
}

/// A Region name as AWS writes them: lowercase words joined by `-`, ending in a number
/// (`us-east-1`, `us-gov-west-1`, `ap-southeast-7`).
fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((last, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// `destinations`: the Regions a system inference profile routes to, only for a model id with
/// a geography prefix; a non-empty array of distinct Region names.
fn destinations(o: &Map<String, Value>, p: &str, model: &str) -> Result<Option<Vec<String>>, Fail> {
    let path = format!("{p}.destinations");
    let v = match o.get("destinations") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    if CallScenario::system_profile_model(model).is_none() {
        return Err(Fail::new(
            path,
            format!("only a call through a system inference profile (a model id with a geography prefix such as \"us.\") has destinations; {model:?} is not one"),
        ));
    }
    let Value::Array(items) = v else {
        return Err(Fail::new(
            path,
            format!("must be an array of Region names, found {}", kind(v)),
        ));
    };
    if items.is_empty() {
        return Err(Fail::new(
            path,
            "must name at least one destination Region".into(),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Value::String(r) = item else {
            return Err(Fail::new(
                at,
                format!("must be a Region name, found {}", kind(item)),
            ));
        };
        if !is_region_name(r) {
            return Err(Fail::new(
                at,
                format!("{r:?} is not a Region name (such as \"us-east-2\")"),
            ));
        }
        if out.contains(r) {
            return Err(Fail::new(at, format!("{r:?} is named twice")));
        }
        out.push(r.clone());
    }
    Ok(Some(out))
}

fn parse_create(v: &Value) -> Result<CreateKeyScenario, Fail> {
    let p = "$.scenario.create_key";
    let o = obj(v, p)?;
    only(
        o,
        p,
        &[
            "caller",
            "user",
            "service",
            "age_days",
            "flow",
            "existing_keys",
            "user_exists",
        ],
    )?;
    let caller = required(o, p, "caller")?;
    if !is_arn(&caller) {
        return Err(Fail::new(
            format!("{p}.caller"),
            format!("{caller:?} is not a principal ARN"),
        ));
    }
    let flow = match string(o, p, "flow")?.as_deref() {
        None | Some("api") => Flow::Api,
        Some("console") => Flow::Console,
        Some(f) => {
            return Err(Fail::new(
                format!("{p}.flow"),
                format!("unknown flow {f:?}: expected api or console"),
            ))
        }
    };
    let existing_keys = integer(o, p, "existing_keys")?.unwrap_or(0);
    if !(0..=1000).contains(&existing_keys) {
        return Err(Fail::new(
            format!("{p}.existing_keys"),
            format!("{existing_keys} is not a count of credentials"),
        ));
    }
    let user_exists = match o.get("user_exists") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(Fail::new(
                format!("{p}.user_exists"),
                format!("must be a boolean, found {}", kind(other)),
            ))
        }
    };
    let user = required(o, p, "user")?;
    let user = UserName::new(&user).map_err(|e| Fail::new(format!("{p}.user"), e.to_string()))?;
    let service = match string(o, p, "service")? {
        Some(s) => {
            ServiceName::new(&s).map_err(|e| Fail::new(format!("{p}.service"), e.to_string()))?
        }
        None => ServiceName::bedrock(),
    };
    Ok(CreateKeyScenario {
        caller,
        user,
        service,
        age_days: integer(o, p, "age_days")?,
        flow,
        existing_keys: existing_keys as u32,
        user_exists,
    })
}
