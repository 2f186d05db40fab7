//! Reading cases: a single object, an array, or JSON Lines (decided by the first non-blank
//! character), with errors that name the file, the case and the JSON path.

use std::path::Path;

use std::borrow::Cow;

use keyward_iam::json::{Json, JsonObject};
use keyward_iam::{DecisionKind, Policy, PolicyMeta, PolicySet, PolicyType, Request};
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

use super::json::{as_array, as_object, context_value_json, At, Fail};
use super::{Case, CaseError, Expect, Provenance, Query, ScenarioCase};

/// Where a case sits in its file: its position, and its line for JSON Lines.
#[derive(Debug, Clone, Copy)]
pub struct CaseSource {
    pub index: usize,
    pub line: Option<usize>,
}

/// Reads a file from disk (or standard input for `-`).
pub fn read_file(path: &Path) -> Result<String, CaseError> {
    let name = path.display().to_string();
    let text = if name == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map(|_| s)
    } else {
        std::fs::read_to_string(path)
    };
    text.map_err(|e| CaseError {
        file: name,
        case: None,
        path: "$".into(),
        message: format!("cannot read: {e}"),
    })
}

/// The text of one case before it is read, or why a part of a file holds no case.
pub(crate) enum Item<'a> {
    Text { text: Cow<'a, str>, src: CaseSource },
    Error(CaseError),
}

/// Every case of a file, each read on its own: one bad case does not hide the others. An `Err`
/// for the whole file means it is not JSON at all.
pub fn read_cases(file: &str, text: &str) -> Result<Vec<Result<Case, CaseError>>, CaseError> {
    Ok(split_text(file, text)?
        .into_par_iter()
        .map(|item| read_item(file, item))
        .collect())
}

/// Reads one item: its case, or its error.
pub(crate) fn read_item(file: &str, item: Item<'_>) -> Result<Case, CaseError> {
    match item {
        Item::Error(e) => Err(e),
        Item::Text { text, src } => read_case_text(file, &text, src).map_err(|e| match e {
            TextError::Case(e) => e,
            TextError::NotJson(e) => CaseError {
                file: file.to_string(),
                case: src.line.map(|line| format!("#{} (line {line})", src.index)),
                path: "$".into(),
                message: format!("not valid JSON: {e}"),
            },
        }),
    }
}

fn file_error(file: &str, message: String) -> CaseError {
    CaseError {
        file: file.to_string(),
        case: None,
        path: "$".into(),
        message,
    }
}

/// Where the cases of a whole text are, by the layout rule of docs/case-format.md (the first
/// non-blank character decides). Nothing is read as a case yet.
pub(crate) fn split_text<'a>(file: &str, text: &'a str) -> Result<Vec<Item<'a>>, CaseError> {
    let first = text.trim_start().chars().next();
    match first {
        None => Err(file_error(file, "the file is empty".into())),
        // Checked by a full parse first: the errors (and their positions in the file) are those
        // of a JSON reader, which a raw value's looser check does not give.
        Some('[') => {
            match check_json(text).and_then(|()| serde_json::from_str::<Vec<&RawValue>>(text)) {
                Ok(items) => Ok(items
                    .into_iter()
                    .enumerate()
                    .map(|(index, raw)| Item::Text {
                        text: Cow::Borrowed(raw.get()),
                        src: CaseSource { index, line: None },
                    })
                    .collect()),
                Err(e) => Err(file_error(file, format!("not valid JSON: {e}"))),
            }
        }
        Some('{') => match check_json(text) {
            Ok(()) => Ok(vec![Item::Text {
                text: Cow::Borrowed(text),
                src: CaseSource {
                    index: 0,
                    line: None,
                },
            }]),
            // JSON Lines only when some unindented line holds a JSON object on its own; else it
            // is one broken (e.g. pretty-printed) object: one error for the whole file, not one
            // per line.
            Err(_) if text.lines().any(is_case_line) => Ok(LineItems::new(file).split(text)),
            Err(e) => Err(file_error(file, format!("not valid JSON: {e}"))),
        },
        Some('/') => {
            if !text.lines().any(|l| line_is_json(l.as_bytes())) {
                return Err(file_error(
                    file,
                    "not JSON: no line holds a JSON case".into(),
                ));
            }
            Ok(LineItems::new(file).split(text))
        }
        Some(c) => Err(file_error(
            file,
            format!(
                "not JSON: a case file starts with '{{', '[' or a JSON Lines comment, found {c:?}"
            ),
        )),
    }
}

/// Whether a text is JSON, by a full parse (into the borrowed tree: few allocations).
fn check_json(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<Json>(text).map(drop)
}

fn is_json(line: &str) -> bool {
    check_json(line).is_ok()
}

/// Whether a JSON Lines line, trimmed, is JSON (the rule for a file that starts with a comment).
pub(crate) fn line_is_json(line: &[u8]) -> bool {
    std::str::from_utf8(line).is_ok_and(|t| is_json(t.trim()))
}

/// Whether a line (untrimmed) starts in column one and holds a JSON object on its own.
pub(crate) fn is_case_line(line: &str) -> bool {
    line.starts_with('{') && is_json(line)
}

/// Numbers the lines of a JSON Lines file as they come, across the blocks of a streamed file.
pub(crate) struct LineItems<'f> {
    file: &'f str,
    /// Lines seen so far.
    line: usize,
    /// Cases (lines that are neither blank nor comments) seen so far.
    index: usize,
}

impl<'f> LineItems<'f> {
    pub(crate) fn new(file: &'f str) -> LineItems<'f> {
        LineItems {
            file,
            line: 0,
            index: 0,
        }
    }

    /// The item of the next line, `None` for a blank line or a comment. Lines are trimmed as
    /// `str::trim` trims them (a line that is not UTF-8 is an error for that line only).
    pub(crate) fn next_line<'a>(&mut self, bytes: &'a [u8]) -> Option<Item<'a>> {
        self.line += 1;
        let line = self.line;
        let text = std::str::from_utf8(bytes).map(str::trim);
        let t = match &text {
            Ok(t) => t.as_bytes(),
            Err(_) => bytes.trim_ascii(),
        };
        if t.is_empty() || t.starts_with(b"//") {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let src = CaseSource {
            index,
            line: Some(line),
        };
        Some(match text {
            Ok(text) => Item::Text {
                text: Cow::Borrowed(text),
                src,
            },
            Err(e) => Item::Error(CaseError {
                file: self.file.to_string(),
                case: Some(format!("#{index} (line {line})")),
                path: "$".into(),
                message: format!("not valid UTF-8: {e}"),
            }),
        })
    }

    fn split<'a>(mut self, text: &'a str) -> Vec<Item<'a>> {
        text.lines()
            .filter_map(|l| self.next_line(l.as_bytes()))
            .collect()
    }
}

/// Why the text of one case could not be read.
pub(crate) enum TextError {
    /// The text is not JSON at all.
    NotJson(serde_json::Error),
    /// The text is JSON but not a valid case.
    Case(CaseError),
}

/// Reads one case from its text (a JSON Lines line, or an array item). The JSON tree borrows
/// every string without an escape from the text: nothing is copied but what the case keeps.
pub(crate) fn read_case_text(file: &str, text: &str, src: CaseSource) -> Result<Case, TextError> {
    let v: Json<'_> = serde_json::from_str(text).map_err(TextError::NotJson)?;
    parse_case(file, &v, src).map_err(TextError::Case)
}

/// Reads one case. Errors carry the case's id when it has one, else its index.
pub(crate) fn parse_case(file: &str, v: &Json<'_>, src: CaseSource) -> Result<Case, CaseError> {
    let id = v.get("id").and_then(Json::as_str).filter(|s| !s.is_empty());
    // Written only for an error: reading a good case builds no text but what the case keeps.
    let case_ref = || match (id, src.line) {
        (Some(id), _) => id.to_string(),
        (None, Some(l)) => format!("#{} (line {l})", src.index),
        (None, None) => format!("#{}", src.index),
    };
    let err = |path: &str, message: String| CaseError {
        file: file.to_string(),
        case: Some(case_ref()),
        path: path.to_string(),
        message,
    };
    let Json::Object(o) = v else {
        return Err(err(
            "$",
            format!("a case must be a JSON object, found {}", v.kind()),
        ));
    };
    for k in o.keys() {
        if !matches!(
            k,
            "id" | "source"
                | "provenance"
                | "note"
                | "policies"
                | "request"
                | "scenario"
                | "expect"
        ) {
            return Err(err(&format!("$.{k}"), format!("unknown field \"{k}\"")));
        }
    }
    let Some(id) = id else {
        return Err(err(
            "$.id",
            "missing required field \"id\" (a non-empty string)".into(),
        ));
    };
    let opt_str = |name: &str| -> Result<Option<&str>, CaseError> {
        match o.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s)),
            Some(other) => Err(err(
                &format!("$.{name}"),
                format!("must be a string, found {}", other.kind()),
            )),
        }
    };
    let source = opt_str("source")?.map(str::to_string);
    let note = opt_str("note")?.map(str::to_string);
    let provenance = match opt_str("provenance")? {
        None => None,
        Some(p) => Some(Provenance::parse(p).ok_or_else(|| {
            err(
                "$.provenance",
                format!(
                    "unknown provenance {p:?}: expected documented, article, recorded, observed or generated"
                ),
            )
        })?),
    };
    let policies = match o.get("policies") {
        None | Some(Json::Null) => PolicySet::default(),
        Some(p) => parse_policies(p).map_err(|f| err(&f.path, f.message))?,
    };
    let query = match (o.get("request"), o.get("scenario")) {
        (Some(r), None) => {
            Query::Request(parse_request_json(r).map_err(|f| err(&f.path, f.message))?)
        }
        (None, Some(s)) => {
            // Scenarios are few and keep their member as written: read from a `Value`.
            let written = s.to_value();
            Query::Scenario(ScenarioCase {
                scenario: super::scenario::parse_scenario(&written)
                    .map_err(|f| err(&f.path, f.message))?,
                written,
            })
        }
        (Some(_), Some(_)) => {
            return Err(err(
                "$",
                "a case holds a \"request\" or a \"scenario\", not both".into(),
            ))
        }
        (None, None) => {
            return Err(err(
                "$.request",
                "missing required field \"request\" (or \"scenario\")".into(),
            ))
        }
    };
    let is_request = matches!(query, Query::Request(_));
    let expect = match o.get("expect") {
        None | Some(Json::Null) => None,
        Some(e) => Some(parse_expect_json(e, is_request).map_err(|f| err(&f.path, f.message))?),
    };
    Ok(Case {
        id: id.to_string(),
        source,
        provenance,
        note,
        policies: std::sync::Arc::new(policies),
        query,
        expect,
    })
}

/// A policy document, or the wrapper `{"name", "arn", "document"}`.
fn parse_policy(v: &Json<'_>, at: &At<'_>, t: PolicyType) -> Result<Policy, Fail> {
    let o = as_object(v, at)?;
    let (doc, wrapped, meta) = if let Some(doc) = o.get("document") {
        let mut meta = PolicyMeta::default();
        for (k, x) in o.iter() {
            let s = || {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    Fail::new(
                        at.member(k).to_string(),
                        format!("must be a string, found {}", x.kind()),
                    )
                })
            };
            match k {
                "document" => {}
                "name" => meta.name = Some(s()?),
                "arn" => meta.arn = Some(s()?),
                _ => {
                    return Err(Fail::new(
                        at.member(k).to_string(),
                        format!(
                        "unknown field \"{k}\" in a policy wrapper (expected name, arn, document)"
                    ),
                    ))
                }
            }
        }
        (doc, true, meta)
    } else {
        (v, false, PolicyMeta::default())
    };
    Policy::parse_json(doc, t)
        .map(|p| p.with_meta(meta))
        .map_err(|e| {
            let doc_at = if wrapped { at.member("document") } else { *at };
            let e = e.prefixed(&doc_at.to_string());
            let reason = e.reason();
            Fail::new(e.path, reason)
        })
}

fn parse_list(v: &Json<'_>, at: &At<'_>, t: PolicyType) -> Result<Vec<Policy>, Fail> {
    as_array(v, at, "policies")?
        .iter()
        .enumerate()
        .map(|(i, p)| parse_policy(p, &at.index(i), t))
        .collect()
}

fn parse_levels(v: &Json<'_>, at: &At<'_>, t: PolicyType) -> Result<Vec<Vec<Policy>>, Fail> {
    as_array(
        v,
        at,
        "levels (one array of policies per organization level)",
    )?
    .iter()
    .enumerate()
    .map(|(i, l)| parse_list(l, &at.index(i), t))
    .collect()
}

/// Reads and compiles a `policies` member (e.g. a generated one) on its own.
pub fn read_policies(v: &Value) -> Result<PolicySet, CaseError> {
    parse_policies(&Json::from_value(v)).map_err(|Fail { path, message }| CaseError {
        file: "(generated)".into(),
        case: None,
        path,
        message,
    })
}

/// Reads the `policies` member of a file holding one JSON object: a case, or the minimal
/// `{"policies": {...}}`. Its other members are not read.
pub fn read_policies_file(file: &str, text: &str) -> Result<PolicySet, CaseError> {
    let error = |path: &str, message: String| CaseError {
        file: file.into(),
        case: None,
        path: path.into(),
        message,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| error("$", format!("not JSON: {e}")))?;
    let Value::Object(o) = &v else {
        return Err(error(
            "$",
            format!(
                "must be one JSON object with a `policies` member, found {}",
                super::json::kind(&v)
            ),
        ));
    };
    let Some(policies) = o.get("policies") else {
        return Err(error(
            "$",
            "no `policies` member: a guardrail file is a case, or {\"policies\": {...}}".into(),
        ));
    };
    parse_policies(&Json::from_value(policies))
        .map_err(|Fail { path, message }| error(&path, message))
}

fn parse_policies(v: &Json<'_>) -> Result<PolicySet, Fail> {
    let root = At::Path("$.policies");
    let o = as_object(v, &root)?;
    let mut set = PolicySet::default();
    for (k, x) in o.iter() {
        let path = root.member(k);
        match k {
            "identity" => set.identity = parse_list(x, &path, PolicyType::Identity)?,
            "permissions_boundary" if !x.is_null() => {
                set.permissions_boundary = Some(parse_policy(x, &path, PolicyType::PermissionsBoundary)?)
            }
            "session" if !x.is_null() => set.session = Some(parse_list(x, &path, PolicyType::Session)?),
            "scp" if !x.is_null() => set.scp = Some(parse_levels(x, &path, PolicyType::Scp)?),
            "rcp" if !x.is_null() => set.rcp = Some(parse_levels(x, &path, PolicyType::Rcp)?),
            "resource" => set.resource = parse_list(x, &path, PolicyType::Resource)?,
            "permissions_boundary" | "session" | "scp" | "rcp" => {}
            _ => {
                return Err(Fail::new(
                    path.to_string(),
                    format!("unknown policy type \"{k}\" (expected identity, permissions_boundary, session, scp, rcp, resource)"),
                ))
            }
        }
    }
    Ok(set)
}

/// [`parse_request_json`] of a `Value` (a request built by a generator).
pub(crate) fn parse_request(v: &Value) -> Result<Request, Fail> {
    parse_request_json(&Json::from_value(v))
}

fn parse_request_json(v: &Json<'_>) -> Result<Request, Fail> {
    let o = as_object(v, &At::Path("$.request"))?;
    for k in o.keys() {
        if !matches!(
            k,
            "principal" | "action" | "resource" | "resource_account" | "context"
        ) {
            return Err(Fail::new(
                format!("$.request.{k}"),
                format!("unknown field \"{k}\""),
            ));
        }
    }
    let req_str = |name: &str| -> Result<String, Fail> {
        match o.get(name) {
            Some(Json::Str(s)) if !s.is_empty() => Ok(s.to_string()),
            Some(Json::Str(_)) => Err(Fail::new(
                format!("$.request.{name}"),
                "must be a non-empty string, found an empty string".into(),
            )),
            Some(other) => Err(Fail::new(
                format!("$.request.{name}"),
                format!("must be a non-empty string, found {}", other.kind()),
            )),
            None => Err(Fail::new(
                format!("$.request.{name}"),
                format!("missing required field \"{name}\""),
            )),
        }
    };
    let principal = req_str("principal")?;
    let action = req_str("action")?;
    if action.split(':').count() != 2 || action.contains(['*', '?']) {
        return Err(Fail::new(
            "$.request.action".into(),
            format!("{action:?} is not an action: expected service:Action with no wildcards"),
        ));
    }
    let resource = req_str("resource")?;
    let mut req = Request::new(principal, action, resource);
    match o.get("resource_account") {
        None | Some(Json::Null) => {}
        Some(Json::Str(a)) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
            req = req.with_resource_account(a.to_string())
        }
        Some(other) => {
            return Err(Fail::new(
                "$.request.resource_account".into(),
                format!("must be a 12-digit account id string, found {other}"),
            ))
        }
    }
    if let Some(c) = o.get("context") {
        let at = At::Path("$.request.context");
        let c = as_object(c, &at)?;
        for (k, x) in c.iter() {
            req.context.insert(k, context_value_json(x, &at.quoted(k))?);
        }
    }
    Ok(req)
}

/// The `expect` member `name` as an array of strings, each accepted by `check`; `None` when absent
/// or null. `what` names the items in the error for a value that is not an array.
fn string_array(
    o: &JsonObject<'_>,
    name: &str,
    what: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Option<Vec<String>>, Fail> {
    match o.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let at = || format!("$.expect.{name}[{i}]");
                let s = x.as_str().ok_or_else(|| {
                    Fail::new(at(), format!("must be a string, found {}", x.kind()))
                })?;
                check(s).map_err(|why| Fail::new(at(), why))?;
                Ok(s.to_string())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(Fail::new(
            format!("$.expect.{name}"),
            format!("must be an array of {what}, found {}", other.kind()),
        )),
    }
}

/// Whether `id` is one of keyward-iam's or keyward-bedrock's registered assumptions.
fn is_registered_assumption(id: &str) -> bool {
    keyward_iam::ASSUMPTIONS.iter().any(|a| a.id == id)
        || keyward_bedrock::ASSUMPTIONS.iter().any(|a| a.id == id)
}

/// [`parse_expect_json`] of a `Value` (an answer in a journal).
pub(crate) fn parse_expect(v: &Value, is_request: bool) -> Result<Expect, Fail> {
    parse_expect_json(&Json::from_value(v), is_request)
}

fn parse_expect_json(v: &Json<'_>, is_request: bool) -> Result<Expect, Fail> {
    let o = as_object(v, &At::Path("$.expect"))?;
    let allowed: &[&str] = if is_request {
        &["decision", "by", "message", "assumptions"]
    } else {
        &[
            "decision",
            "by",
            "message",
            "assumptions",
            "status",
            "code",
            "body",
            "side_effects",
        ]
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(k)) {
        let hint = if is_request {
            " (status, code, body and side_effects are for scenario cases)"
        } else {
            ""
        };
        return Err(Fail::new(
            format!("$.expect.{k}"),
            format!("unknown field \"{k}\"{hint}"),
        ));
    }
    let opt_string = |name: &str| -> Result<Option<&str>, Fail> {
        match o.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s)),
            Some(other) => Err(Fail::new(
                format!("$.expect.{name}"),
                format!("must be a string or null, found {}", other.kind()),
            )),
        }
    };
    let decision = match opt_string("decision")? {
        Some(s) => Some(s.parse::<DecisionKind>().map_err(|_| {
            Fail::new(
                "$.expect.decision".to_string(),
                format!("unknown decision {s:?}: expected allow, explicit_deny or implicit_deny"),
            )
        })?),
        None if is_request => {
            return Err(Fail::new(
                "$.expect.decision".into(),
                "missing required field \"decision\"".into(),
            ))
        }
        None => None,
    };
    let by = match opt_string("by")? {
        Some(s) => Some(s.parse::<PolicyType>().map_err(|_| {
            Fail::new("$.expect.by".to_string(), format!("unknown policy type {s:?}: expected identity, permissions_boundary, session, scp, rcp or resource"))
        })?),
        None => None,
    };
    let status = match o.get("status") {
        None | Some(Json::Null) => None,
        Some(Json::Number(n)) if n.as_u64().is_some_and(|s| (100..600).contains(&s)) => {
            n.as_u64().map(|s| s as u16)
        }
        Some(other) => {
            return Err(Fail::new(
                "$.expect.status".into(),
                format!("must be an HTTP status (100-599), found {other}"),
            ))
        }
    };
    let side_effects = string_array(o, "side_effects", "strings", |_| Ok(()))?;
    let assumptions = string_array(o, "assumptions", "assumption ids", |id| {
        if is_registered_assumption(id) {
            Ok(())
        } else {
            Err(format!(
                "{id:?} is not a registered assumption (README.md lists them under \"Assumptions\")"
            ))
        }
    })?;
    Ok(Expect {
        decision,
        by,
        assumptions,
        message: opt_string("message")?.map(str::to_string),
        status,
        code: opt_string("code")?.map(str::to_string),
        body: opt_string("body")?.map(str::to_string),
        side_effects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Malformed cases, one per line, each with the error the reader gave when it read cases
    /// into `serde_json::Value` (captured before the borrowed reader replaced it): paths through
    /// wrappers, levels, quoted context keys and condition keys, numbers and escapes in
    /// messages, a repeated key, a case without an id.
    const CASES: &[(&str, &str)] = &[
        (
            r#"{"id":"ctx-key","request":{"principal":"arn:aws:iam::123456789012:user/a","action":"s3:GetObject","resource":"*","context":{"a\"b\u00e9":{"x":1}}}}"#,
            r#"cases.jsonl: case ctx-key: $.request.context["a\"bé"]: a context value must be a string, number or boolean, found an object"#,
        ),
        (
            r#"{"id":"ctx-elem","request":{"principal":"arn:aws:iam::123456789012:user/a","action":"s3:GetObject","resource":"*","context":{"k":["v",[1]]}}}"#,
            r#"cases.jsonl: case ctx-elem: $.request.context["k"][1]: a context value must be a string, number or boolean, found an array"#,
        ),
        (
            r#"{"id":"acct","request":{"principal":"arn:aws:iam::123456789012:user/a","action":"s3:GetObject","resource":"*","resource_account":1.0}}"#,
            r#"cases.jsonl: case acct: $.request.resource_account: must be a 12-digit account id string, found 1.0"#,
        ),
        (
            r#"{"id":"version","policies":{"identity":[{"Version":1e3,"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case version: $.policies.identity[0].Version: MalformedPolicyDocument: The policy failed legacy parsing (Version must be "2012-10-17" or "2008-10-17", found "1000.0")"#,
        ),
        (
            r#"{"id":"wrapper","policies":{"identity":[{"document":{},"x":1}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case wrapper: $.policies.identity[0].x: unknown field "x" in a policy wrapper (expected name, arn, document)"#,
        ),
        (
            r#"{"id":"wrapped-doc","policies":{"identity":[{"name":"n","document":{"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case wrapped-doc: $.policies.identity[0].document.Statement.Effect: MalformedPolicyDocument: Syntax errors in policy. (Effect must be "Allow" or "Deny" (case-sensitive), found "allow")"#,
        ),
        (
            r#"{"id":"levels","policies":{"scp":[[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],[{"Version":"2012-10-17","Statement":[]}]]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case levels: $.policies.scp[1][0].Statement: MalformedPolicyDocument: Syntax errors in policy. (Statement is an empty array)"#,
        ),
        (
            r#"{"id":"first","id":"last","policies":{"identity":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Action":"s3"}}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case last: $.policies.identity[0].Statement.Action: MalformedPolicyDocument: Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."#,
        ),
        (
            r#"{"policies":{"identity":[{"Version":2012,"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case #8 (line 9): $.id: missing required field "id" (a non-empty string)"#,
        ),
        (
            r#"{"id":"cond-value","policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:user\/name":["a",{"b":-0}]}}}]}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case cond-value: $.policies.identity[0].Statement[0].Condition.StringEquals["aws:user/name"][1]: MalformedPolicyDocument: Syntax errors in policy. (a condition value must be a string, number or boolean, found an object)"#,
        ),
        (
            r#"{"id":"kind","policies":{"foo":[]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case kind: $.policies.foo: unknown policy type "foo" (expected identity, permissions_boundary, session, scp, rcp, resource)"#,
        ),
        (
            r#"{"id":"escaped-effect","policies":{"identity":[{"Statement":[{"Effect":"Allow\u00e9","Action":"s3:*","Resource":"*"}]}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case escaped-effect: $.policies.identity[0].Statement[0].Effect: MalformedPolicyDocument: Syntax errors in policy. (Effect must be "Allow" or "Deny" (case-sensitive), found "Allowé")"#,
        ),
        (
            r#"{"id":"bad-char","policies":{"resource":[{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b\u0100","Condition":{"Null":{"k\u2028":"true"}}}]}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case bad-char: $.policies.resource[0].Statement[0].Resource: ValidationError: 1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+ (the character 'Ā' is outside what IAM accepts (tab, LF, CR, U+0020-U+00FF))"#,
        ),
        (
            r#"{"id":"principal","policies":{"resource":[{"Statement":[{"Effect":"Allow","Principal":{"AWS":["a",18446744073709551615]},"Action":"s3:*","Resource":"*"}]}]},"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case principal: $.policies.resource[0].Statement[0].Principal.AWS[1]: MalformedPolicyDocument: Syntax errors in policy. (AWS must be a string, found a number)"#,
        ),
        (
            r#"{"id":"expect","request":{"principal":"p","action":"s3:GetObject","resource":"*"},"expect":{"decision":"allow","side_effects":["a",true]}}"#,
            r#"cases.jsonl: case expect: $.expect.side_effects: unknown field "side_effects" (status, code, body and side_effects are for scenario cases)"#,
        ),
        (
            r#"{"id":"note","note":["x"],"request":{"principal":"p","action":"s3:GetObject","resource":"*"}}"#,
            r#"cases.jsonl: case note: $.note: must be a string, found an array"#,
        ),
        (
            r#"{"id":"decision","request":{"principal":"p","action":"s3:GetObject","resource":"*"},"expect":{"decision":"Allow"}}"#,
            r#"cases.jsonl: case decision: $.expect.decision: unknown decision "Allow": expected allow, explicit_deny or implicit_deny"#,
        ),
    ];

    #[test]
    fn errors_are_those_of_the_value_reader() {
        let text: String = CASES.iter().map(|(l, _)| format!("{l}\n")).collect();
        let read = read_cases("cases.jsonl", &text).expect("JSON Lines");
        assert_eq!(read.len(), CASES.len());
        for (got, (line, want)) in read.iter().zip(CASES) {
            let got = got.as_ref().expect_err(line);
            assert_eq!(got.to_string(), *want, "{line}");
            // Read from a `Value` (as generators and live mode do): the same path and message.
            let v: Value = serde_json::from_str(line).expect(line);
            let from_value = super::super::Case::from_json(&v).expect_err(line);
            assert_eq!(
                (&from_value.path, &from_value.message),
                (&got.path, &got.message)
            );
        }
    }
}
