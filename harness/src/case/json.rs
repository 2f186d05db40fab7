//! Reading JSON members with located errors: the shared ground of the case reader and the
//! scenario reader (both depend on it; neither depends on the other's internals).

use std::borrow::Cow;
use std::fmt;

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

/// Where a member sits in a case, as a chain of borrowed steps: the JSON path text is written
/// only when an error reports it, so reading a case that has none builds no path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At<'a> {
    /// A path written out, e.g. `$.policies`.
    Path(&'a str),
    /// A member, written `.name` as it is.
    Member(&'a At<'a>, &'a str),
    /// A member, written `["name"]` (JSON-quoted).
    Quoted(&'a At<'a>, &'a str),
    /// An element of an array, written `[i]`.
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    pub(crate) fn member(&'a self, name: &'a str) -> At<'a> {
        At::Member(self, name)
    }

    pub(crate) fn quoted(&'a self, name: &'a str) -> At<'a> {
        At::Quoted(self, name)
    }

    pub(crate) fn index(&'a self, i: usize) -> At<'a> {
        At::Index(self, i)
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Path(p) => f.write_str(p),
            At::Member(parent, name) => write!(f, "{parent}.{name}"),
            At::Quoted(parent, name) => {
                write!(f, "{parent}[{}]", Json::Str(Cow::Borrowed(name)))
            }
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

pub(crate) fn as_object<'a, 'j>(v: &'a Json<'j>, at: &At<'_>) -> Result<&'a JsonObject<'j>, Fail> {
    v.as_object().ok_or_else(|| {
        Fail::new(
            at.to_string(),
            format!("must be an object, found {}", v.kind()),
        )
    })
}

pub(crate) fn as_array<'a, 'j>(
    v: &'a Json<'j>,
    at: &At<'_>,
    what: &str,
) -> Result<&'a [Json<'j>], Fail> {
    v.as_array().ok_or_else(|| {
        Fail::new(
            at.to_string(),
            format!("must be an array of {what}, found {}", v.kind()),
        )
    })
}

/// [`context_value_json`] of a `Value` (the scenario reader reads `Value`s).
pub(crate) fn context_value(v: &Value, path: &str) -> Result<ContextValue, Fail> {
    context_value_json(&Json::from_value(v), &At::Path(path))
}

pub(crate) fn context_value_json(v: &Json<'_>, at: &At<'_>) -> Result<ContextValue, Fail> {
    let scalar = |x: &Json<'_>, p: &At<'_>| match x {
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
            .map(|(i, x)| scalar(x, &at.index(i)))
            .collect::<Result<Vec<_>, _>>()
            .map(ContextValue::Multi),
        x => scalar(x, at).map(ContextValue::Single),
    }
}
