//! Reading cases: a single object, an array, or JSON Lines (decided by the first non-blank
//! character), with errors that name the file, the case and the JSON path.

use std::path::Path;

use std::borrow::Cow;

use keyward_iam::{DecisionKind, Policy, PolicyMeta, PolicySet, PolicyType, Request};
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

use super::json::{as_array, as_object, context_value, kind, Fail};
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
        Some('[') => match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(items) => Ok(items
                .into_iter()
                .enumerate()
                .map(|(index, raw)| Item::Text {
                    text: Cow::Borrowed(raw.get()),
                    src: CaseSource { index, line: None },
                })
                .collect()),
            Err(e) => Err(file_error(file, format!("not valid JSON: {e}"))),
        },
        // The whole text, not the raw value: errors then give positions in the file.
        Some('{') => match serde_json::from_str::<&RawValue>(text) {
            Ok(_) => Ok(vec![Item::Text {
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
            if !text.lines().any(|l| is_json(l.trim())) {
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

fn is_json(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok()
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

/// Reads one case from its text (a JSON Lines line, or an array item).
pub(crate) fn read_case_text(file: &str, text: &str, src: CaseSource) -> Result<Case, TextError> {
    let v = serde_json::from_str::<Value>(text).map_err(TextError::NotJson)?;
    parse_case(file, &v, src).map_err(TextError::Case)
}

/// Reads one case. Errors carry the case's id when it has one, else its index.
pub(crate) fn parse_case(file: &str, v: &Value, src: CaseSource) -> Result<Case, CaseError> {
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let case_ref = match (id, src.line) {
        (Some(id), _) => id.to_string(),
        (None, Some(l)) => format!("#{} (line {l})", src.index),
        (None, None) => format!("#{}", src.index),
    };
    let err = |path: &str, message: String| CaseError {
        file: file.to_string(),
        case: Some(case_ref.clone()),
        path: path.to_string(),
        message,
    };
    let Value::Object(o) = v else {
        return Err(err(
            "$",
            format!("a case must be a JSON object, found {}", kind(v)),
        ));
    };
    for k in o.keys() {
        if !matches!(
            k.as_str(),
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
    let opt_str = |name: &str| -> Result<Option<String>, CaseError> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(err(
                &format!("$.{name}"),
                format!("must be a string, found {}", kind(other)),
            )),
        }
    };
    let source = opt_str("source")?;
    let note = opt_str("note")?;
    let provenance = match opt_str("provenance")? {
        None => None,
        Some(p) => Some(Provenance::parse(&p).ok_or_else(|| {
            err(
                "$.provenance",
                format!(
                    "unknown provenance {p:?}: expected documented, article, recorded or generated"
                ),
            )
        })?),
    };
    let policies = match o.get("policies") {
        None | Some(Value::Null) => PolicySet::default(),
        Some(p) => parse_policies(p).map_err(|f| err(&f.path, f.message))?,
    };
    let query = match (o.get("request"), o.get("scenario")) {
        (Some(r), None) => Query::Request(parse_request(r).map_err(|f| err(&f.path, f.message))?),
        (None, Some(s)) => Query::Scenario(ScenarioCase {
            scenario: super::scenario::parse_scenario(s).map_err(|f| err(&f.path, f.message))?,
            written: s.clone(),
        }),
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
        None | Some(Value::Null) => None,
        Some(e) => Some(parse_expect(e, is_request).map_err(|f| err(&f.path, f.message))?),
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
fn parse_policy(v: &Value, path: &str, t: PolicyType) -> Result<Policy, Fail> {
    let o = as_object(v, path)?;
    let (doc, doc_path, meta) = if let Some(doc) = o.get("document") {
        let mut meta = PolicyMeta::default();
        for (k, x) in o {
            let s = || {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    Fail::new(
                        format!("{path}.{k}"),
                        format!("must be a string, found {}", kind(x)),
                    )
                })
            };
            match k.as_str() {
                "document" => {}
                "name" => meta.name = Some(s()?),
                "arn" => meta.arn = Some(s()?),
                _ => {
                    return Err(Fail::new(
                        format!("{path}.{k}"),
                        format!(
                        "unknown field \"{k}\" in a policy wrapper (expected name, arn, document)"
                    ),
                    ))
                }
            }
        }
        (doc, format!("{path}.document"), meta)
    } else {
        (v, path.to_string(), PolicyMeta::default())
    };
    Policy::parse(doc, t)
        .map(|p| p.with_meta(meta))
        .map_err(|e| {
            let e = e.prefixed(&doc_path);
            let reason = e.reason();
            Fail::new(e.path, reason)
        })
}

fn parse_list(v: &Value, path: &str, t: PolicyType) -> Result<Vec<Policy>, Fail> {
    as_array(v, path, "policies")?
        .iter()
        .enumerate()
        .map(|(i, p)| parse_policy(p, &format!("{path}[{i}]"), t))
        .collect()
}

fn parse_levels(v: &Value, path: &str, t: PolicyType) -> Result<Vec<Vec<Policy>>, Fail> {
    as_array(
        v,
        path,
        "levels (one array of policies per organization level)",
    )?
    .iter()
    .enumerate()
    .map(|(i, l)| parse_list(l, &format!("{path}[{i}]"), t))
    .collect()
}

/// Reads and compiles a `policies` member (e.g. a generated one) on its own.
pub fn read_policies(v: &Value) -> Result<PolicySet, CaseError> {
    parse_policies(v).map_err(|Fail { path, message }| CaseError {
        file: "(generated)".into(),
        case: None,
        path,
        message,
    })
}

fn parse_policies(v: &Value) -> Result<PolicySet, Fail> {
    let o = as_object(v, "$.policies")?;
    let mut set = PolicySet::default();
    for (k, x) in o {
        let path = format!("$.policies.{k}");
        match k.as_str() {
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
                    path,
                    format!("unknown policy type \"{k}\" (expected identity, permissions_boundary, session, scp, rcp, resource)"),
                ))
            }
        }
    }
    Ok(set)
}

pub(crate) fn parse_request(v: &Value) -> Result<Request, Fail> {
    let o = as_object(v, "$.request")?;
    for k in o.keys() {
        if !matches!(
            k.as_str(),
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
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(Fail::new(
                format!("$.request.{name}"),
                "must be a non-empty string, found an empty string".into(),
            )),
            Some(other) => Err(Fail::new(
                format!("$.request.{name}"),
                format!("must be a non-empty string, found {}", kind(other)),
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
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
            req = req.with_resource_account(a.clone())
        }
        Some(other) => {
            return Err(Fail::new(
                "$.request.resource_account".into(),
                format!("must be a 12-digit account id string, found {other}"),
            ))
        }
    }
    if let Some(c) = o.get("context") {
        let c = as_object(c, "$.request.context")?;
        for (k, x) in c {
            let path = format!("$.request.context[{}]", Value::String(k.clone()));
            req.context.insert(k, context_value(x, &path)?);
        }
    }
    Ok(req)
}

pub(crate) fn parse_expect(v: &Value, is_request: bool) -> Result<Expect, Fail> {
    let o = as_object(v, "$.expect")?;
    let allowed: &[&str] = if is_request {
        &["decision", "by", "message"]
    } else {
        &[
            "decision",
            "by",
            "message",
            "status",
            "code",
            "body",
            "side_effects",
        ]
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
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
    let opt_string = |name: &str| -> Result<Option<String>, Fail> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Fail::new(
                format!("$.expect.{name}"),
                format!("must be a string or null, found {}", kind(other)),
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
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|s| (100..600).contains(&s)) => {
            n.as_u64().map(|s| s as u16)
        }
        Some(other) => {
            return Err(Fail::new(
                "$.expect.status".into(),
                format!("must be an HTTP status (100-599), found {other}"),
            ))
        }
    };
    let side_effects = match o.get("side_effects") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .enumerate()
                .map(|(i, x)| {
                    x.as_str().map(str::to_string).ok_or_else(|| {
                        Fail::new(
                            format!("$.expect.side_effects[{i}]"),
                            format!("must be a string, found {}", kind(x)),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => {
            return Err(Fail::new(
                "$.expect.side_effects".into(),
                format!("must be an array of strings, found {}", kind(other)),
            ))
        }
    };
    Ok(Expect {
        decision,
        by,
        message: opt_string("message")?,
        status,
        code: opt_string("code")?,
        body: opt_string("body")?,
        side_effects,
    })
}
