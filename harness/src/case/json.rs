//! Reading JSON members with located errors: the shared ground of the case reader and the
//! scenario reader (both depend on it; neither depends on the other's internals).

use keyward_iam::json::{Json, JsonObject};
use keyward_iam::ContextValue;
use serde_json::Value;

/// What is wrong with a member of a case, and where: the JSON path inside the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn new(path: String, message: String) -> Fail {
        Fail { path, message }
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn as_object<'a, 'j>(v: &'a Json<'j>, path: &str) -> Result<&'a JsonObject<'j>, Fail> {
    v.as_object().ok_or_else(|| {
        Fail::new(
            path.to_string(),
            format!("must be an object, found {}", v.kind()),
        )
    })
}

pub(crate) fn as_array<'a, 'j>(
    v: &'a Json<'j>,
    path: &str,
    what: &str,
) -> Result<&'a [Json<'j>], Fail> {
    v.as_array().ok_or_else(|| {
        Fail::new(
            path.to_string(),
            format!("must be an array of {what}, found {}", v.kind()),
        )
    })
}

/// [`context_value_json`] of a `Value` (the scenario reader reads `Value`s).
pub(crate) fn context_value(v: &Value, path: &str) -> Result<ContextValue, Fail> {
    context_value_json(&Json::from_value(v), path)
}

pub(crate) fn context_value_json(v: &Json<'_>, path: &str) -> Result<ContextValue, Fail> {
    let scalar = |x: &Json<'_>, p: &str| match x {
        Json::Str(s) => Ok(s.to_string()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(Fail::new(
            p.to_string(),
            format!(
                "a context value must be a string, number or boolean, found {}",
                other.kind()
            ),
        )),
    };
    match v {
        Json::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| scalar(x, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(ContextValue::Multi),
        x => scalar(x, path).map(ContextValue::Single),
    }
}
