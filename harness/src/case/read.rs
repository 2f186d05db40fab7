//! Reading cases: a single object, an array, or JSON Lines (decided by the first non-blank
//! character), with errors that name the file, the case and the JSON path.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use keyward_iam::json::{Json, JsonObject};
use keyward_iam::{DecisionKind, Policy, PolicyMeta, PolicySet, PolicyType, Request, Source};
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

use super::json::{as_array, as_object, context_value_json, At, Fail};
use super::{Case, CaseError, CasePlace, Expect, Provenance, Query, ScenarioCase};

/// Where a case sits in its file: its position, and its line for JSON Lines.
#[derive(Debug, Clone, Copy)]
pub struct CaseSource {
    pub index: usize,
    pub line: Option<usize>,
    /// An element of the array the file holds (else the whole file, or a JSON Lines line).
    pub array: bool,
}

impl CaseSource {
    /// The item's place: its line, and its JSON path from that line's or the file's root.
    pub fn place(&self) -> CasePlace {
        CasePlace {
            line: self.line,
            path: if self.array {
                format!("$[{}]", self.index)
            } else {
                "$".into()
            },
        }
    }
}

/// What reading needs beyond a case's text, shared by every case of a run: the policy files
/// that `{"file": ...}` references name (each read from disk once), and the policies
/// `--policies` puts in place of the ones the cases give.
#[derive(Default)]
pub struct Reader {
    /// Policy files by the path they were read from: their text, or why it cannot be read.
    files: Mutex<HashMap<PathBuf, Result<Arc<str>, String>>>,
    /// `--policies`: in place of a suite's shared policies, and of a bare case's own.
    policies: Option<Arc<PolicySet>>,
}

impl Reader {
    /// A reader that gives every suite, and every case outside a suite, `policies` in place of
    /// its own (`--policies FILE`).
    pub fn with_policies(policies: Arc<PolicySet>) -> Reader {
        Reader {
            files: Mutex::default(),
            policies: Some(policies),
        }
    }

    /// The text of the policy file at `path`, read once per run.
    fn policy_file(&self, path: &Path) -> Result<Arc<str>, String> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                std::fs::read_to_string(path)
                    .map(Arc::from)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            })
            .clone()
    }
}

/// Where `{"file": ...}` references of the cases of `file` are resolved: the directory of the
/// case file (the current directory for standard input and generated cases).
fn base_dir(file: &str) -> &Path {
    match file {
        "-" | "(generated)" => Path::new(""),
        f => Path::new(f).parent().unwrap_or(Path::new("")),
    }
}

/// How one case file's policies are read: where its file references are resolved, and the run's
/// [`Reader`].
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'r> {
    file: &'r str,
    base: &'r Path,
    reader: &'r Reader,
    /// The line of a JSON Lines item being read.
    line: Option<usize>,
    /// The item's path from the root of its text (`$`, `$[3]`): where error paths start.
    item: &'r str,
    /// The path of the case (or suite) being read from the same root (`$[3].cases[1]`):
    /// where the policies' paths start.
    root: &'r str,
}

impl<'r> Ctx<'r> {
    pub(crate) fn new(file: &'r str, reader: &'r Reader) -> Ctx<'r> {
        Ctx {
            file,
            base: base_dir(file),
            reader,
            line: None,
            item: "$",
            root: "$",
        }
    }

    /// The context of the item at `item` (on `line` of a JSON Lines file).
    fn at_item(self, item: &'r str, line: Option<usize>) -> Ctx<'r> {
        Ctx {
            line,
            item,
            root: item,
            ..self
        }
    }

    /// The context of a suite's case at `root`.
    fn at_case(self, root: &'r str) -> Ctx<'r> {
        Ctx { root, ..self }
    }

    /// Where the item sits, for errors.
    fn place(&self) -> CasePlace {
        CasePlace {
            line: self.line,
            path: self.item.to_string(),
        }
    }

    /// Where a document at `at` (a path from the case's root) sits.
    fn source(&self, at: &At<'_>) -> Source {
        let at = at.to_string();
        Source {
            file: self.file.into(),
            line: self.line,
            path: format!("{}{}", self.root, &at[1..]),
        }
    }
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
        place: None,
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
    read_cases_with(file, text, &Reader::default())
}

/// [`read_cases`] with a run's [`Reader`] (`--policies`, policy files read once).
pub fn read_cases_with(
    file: &str,
    text: &str,
    reader: &Reader,
) -> Result<Vec<Result<Case, CaseError>>, CaseError> {
    Ok(split_text(file, text)?
        .into_par_iter()
        .flat_map_iter(|item| read_item(file, item, reader))
        .collect())
}

/// Reads one item: its case (or a suite's cases), or its error.
pub(crate) fn read_item(
    file: &str,
    item: Item<'_>,
    reader: &Reader,
) -> Vec<Result<Case, CaseError>> {
    match item {
        Item::Error(e) => vec![Err(e)],
        Item::Text { text, src } => match read_case_text(file, &text, src, reader) {
            Ok(cases) => cases,
            Err(e) => vec![Err(CaseError {
                place: Some(Box::new(src.place())),
                file: file.to_string(),
                case: src.line.map(|line| format!("#{} (line {line})", src.index)),
                path: "$".into(),
                message: format!("not valid JSON: {e}"),
            })],
        },
    }
}

fn file_error(file: &str, message: String) -> CaseError {
    CaseError {
        place: None,
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
                        src: CaseSource {
                            index,
                            line: None,
                            array: true,
                        },
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
                    array: false,
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
            array: false,
        };
        Some(match text {
            Ok(text) => Item::Text {
                text: Cow::Borrowed(text),
                src,
            },
            Err(e) => Item::Error(CaseError {
                place: Some(Box::new(src.place())),
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

/// Reads one case (or a suite's cases) from its text (a JSON Lines line, an array item, a whole
/// file); an `Err` when the text is not JSON. The JSON tree borrows every string without an escape from the text: nothing is copied
/// but what the case keeps.
pub(crate) fn read_case_text(
    file: &str,
    text: &str,
    src: CaseSource,
    reader: &Reader,
) -> Result<Vec<Result<Case, CaseError>>, serde_json::Error> {
    let v: Json<'_> = serde_json::from_str(text)?;
    let item = src.place().path;
    let ctx = Ctx::new(file, reader).at_item(&item, src.line);
    match &v {
        Json::Object(o) if o.get("cases").is_some() => Ok(parse_suite(file, o, src, ctx)),
        _ => Ok(vec![parse_case(file, &v, src, None, ctx)]),
    }
}

/// What a suite gives each of its cases: the shared policies and the defaults of `source`,
/// `provenance` and `note`.
pub(crate) struct Suite<'a> {
    policies: Arc<PolicySet>,
    source: Option<&'a str>,
    provenance: Option<Provenance>,
    note: Option<&'a str>,
}

/// The members a suite may hold.
const SUITE_FIELDS: [&str; 5] = ["policies", "cases", "source", "provenance", "note"];

/// Reads a suite, `{"policies": {...}, "cases": [...]}`: its policies once (one error for the
/// whole suite when they cannot be read), then each case on its own. Errors inside a case carry
/// its path from the suite's root (`$.cases[3].request...`).
fn parse_suite(
    file: &str,
    o: &JsonObject<'_>,
    src: CaseSource,
    ctx: Ctx<'_>,
) -> Vec<Result<Case, CaseError>> {
    let suite_ref = match (src.line, src.index) {
        (Some(l), i) => Some(format!("#{i} (line {l})")),
        (None, 0) => None,
        (None, i) => Some(format!("#{i}")),
    };
    let err = |path: &str, message: String| {
        vec![Err(CaseError {
            place: Some(Box::new(ctx.place())),
            file: file.to_string(),
            case: suite_ref.clone(),
            path: path.to_string(),
            message,
        })]
    };
    if let Some(k) = o.keys().find(|k| !SUITE_FIELDS.contains(k)) {
        let hint = if o.get("request").is_some() || o.get("scenario").is_some() {
            " (a suite's cases go in its \"cases\" array)"
        } else {
            ""
        };
        return err(
            &format!("$.{k}"),
            format!(
                "unknown field \"{k}\" in a suite (expected policies, cases, source, provenance, note){hint}"
            ),
        );
    }
    let opt = |name: &str| match o.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => Ok(Some(&**s)),
        Some(other) => Err(err(
            &format!("$.{name}"),
            format!("must be a string, found {}", other.kind()),
        )),
    };
    let (source, note) = match (opt("source"), opt("note")) {
        (Ok(s), Ok(n)) => (s, n),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let provenance = match opt("provenance") {
        Err(e) => return e,
        Ok(None) => None,
        Ok(Some(p)) => match Provenance::parse(p) {
            Some(p) => Some(p),
            None => return err("$.provenance", unknown_provenance(p)),
        },
    };
    let policies = match (&ctx.reader.policies, o.get("policies")) {
        (Some(given), _) => given.clone(),
        (None, None | Some(Json::Null)) => Arc::new(PolicySet::default()),
        (None, Some(p)) => match parse_policies(p, ctx) {
            Ok(set) => Arc::new(set),
            Err(f) => return err(&f.path, f.message),
        },
    };
    let Some(Json::Array(cases)) = o.get("cases") else {
        let found = o.get("cases").map_or("nothing", Json::kind);
        return err(
            "$.cases",
            format!("must be an array of cases, found {found}"),
        );
    };
    let suite = Suite {
        policies,
        source,
        provenance,
        note,
    };
    cases
        .par_iter()
        .enumerate()
        .map(|(index, c)| {
            let src = CaseSource {
                index,
                line: None,
                array: false,
            };
            let root = format!("{}.cases[{index}]", ctx.root);
            parse_case(file, c, src, Some(&suite), ctx.at_case(&root)).map_err(|mut e| {
                e.path = format!("$.cases[{index}]{}", &e.path[1..]);
                e
            })
        })
        .collect()
}

fn unknown_provenance(p: &str) -> String {
    format!(
        "unknown provenance {p:?}: expected documented, article, recorded, observed, generated or authored"
    )
}

/// Reads one case. Errors carry the case's id when it has one, else its index.
pub(crate) fn parse_case(
    file: &str,
    v: &Json<'_>,
    src: CaseSource,
    suite: Option<&Suite<'_>>,
    ctx: Ctx<'_>,
) -> Result<Case, CaseError> {
    let id = v.get("id").and_then(Json::as_str).filter(|s| !s.is_empty());
    // Written only for an error: reading a good case builds no text but what the case keeps.
    let case_ref = || match (id, src.line) {
        (Some(id), _) => id.to_string(),
        (None, Some(l)) => format!("#{} (line {l})", src.index),
        (None, None) => format!("#{}", src.index),
    };
    let err = |path: &str, message: String| CaseError {
        place: Some(Box::new(ctx.place())),
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
            let hint = match k {
                "description" | "comment" | "name" | "title" => {
                    " (a case's free text goes in \"note\")"
                }
                "cases" if suite.is_some() => " (a suite's case cannot hold cases)",
                _ => "",
            };
            return Err(err(
                &format!("$.{k}"),
                format!("unknown field \"{k}\"{hint}"),
            ));
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
    let source = opt_str("source")?
        .or(suite.and_then(|s| s.source))
        .map(str::to_string);
    let note = opt_str("note")?
        .or(suite.and_then(|s| s.note))
        .map(str::to_string);
    let provenance = match opt_str("provenance")? {
        None => suite.and_then(|s| s.provenance),
        Some(p) => {
            Some(Provenance::parse(p).ok_or_else(|| err("$.provenance", unknown_provenance(p)))?)
        }
    };
    let own = || match o.get("policies") {
        None | Some(Json::Null) => Ok(None),
        Some(p) => parse_policies(p, ctx)
            .map(Some)
            .map_err(|f| err(&f.path, f.message)),
    };
    let policies = match (suite, &ctx.reader.policies) {
        // A case of a suite adds its own policies to the suite's.
        (Some(s), _) => match own()? {
            None => s.policies.clone(),
            Some(mine) => {
                Arc::new(add_policies(&s.policies, mine).map_err(|f| err(&f.path, f.message))?)
            }
        },
        (None, Some(given)) => given.clone(),
        (None, None) => Arc::new(own()?.unwrap_or_default()),
    };
    let query = match (o.get("request"), o.get("scenario")) {
        (Some(r), None) => Query::Request(
            parse_request_json(r, suite.is_some()).map_err(|f| err(&f.path, f.message))?,
        ),
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
        policies,
        query,
        expect,
        in_suite: suite.is_some(),
        place: Some(CasePlace {
            line: ctx.line,
            path: ctx.root.to_string(),
        }),
    })
}

/// A suite's policies with a case's own added: each list and each organization level extended
/// by the case's policies of that type. A permissions boundary is one policy: a case may give
/// one only when the suite does not.
fn add_policies(shared: &PolicySet, mine: PolicySet) -> Result<PolicySet, Fail> {
    let mut set = shared.clone();
    set.identity.extend(mine.identity);
    set.resource.extend(mine.resource);
    if let Some(b) = mine.permissions_boundary {
        if set.permissions_boundary.is_some() {
            return Err(Fail::new(
                "$.policies.permissions_boundary".into(),
                "the suite already gives a permissions boundary, and a principal has at most one: give it in each case instead of in the suite".into(),
            ));
        }
        set.permissions_boundary = Some(b);
    }
    if let Some(session) = mine.session {
        set.session.get_or_insert_with(Vec::new).extend(session);
    }
    for (theirs, mine) in [(&mut set.scp, mine.scp), (&mut set.rcp, mine.rcp)] {
        let Some(mine) = mine else { continue };
        let levels = theirs.get_or_insert_with(Vec::new);
        for (i, level) in mine.into_iter().enumerate() {
            match levels.get_mut(i) {
                Some(l) => l.extend(level),
                None => levels.push(level),
            }
        }
    }
    Ok(set)
}

/// A policy document, the wrapper `{"name", "arn", "document"}`, or a reference to a file
/// holding either, `{"file": "policies/scp.json"}` (with an optional `name` and `arn`), resolved
/// against the case file's directory.
fn parse_policy(v: &Json<'_>, at: &At<'_>, t: PolicyType, ctx: Ctx<'_>) -> Result<Policy, Fail> {
    let o = as_object(v, at)?;
    if let Some(file) = o.get("file") {
        return parse_policy_file(o, file, at, t, ctx);
    }
    let policy = parse_document(v, at, t)?;
    let meta = PolicyMeta {
        source: Some(ctx.source(at)),
        ..policy.meta().clone()
    };
    Ok(policy.with_meta(meta))
}

/// A policy given inline: a document, or the wrapper `{"name", "arn", "document"}`.
fn parse_document(v: &Json<'_>, at: &At<'_>, t: PolicyType) -> Result<Policy, Fail> {
    let o = as_object(v, at)?;
    let (doc, wrapped, meta) = if let Some(doc) = o.get("document") {
        let meta = policy_meta(o, at, "document")?;
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

/// The `name` and `arn` of a wrapper whose content member is `content` (`document` or `file`).
fn policy_meta(o: &JsonObject<'_>, at: &At<'_>, content: &str) -> Result<PolicyMeta, Fail> {
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
            "name" => meta.name = Some(s()?),
            "arn" => meta.arn = Some(s()?),
            k if k == content => {}
            _ => {
                return Err(Fail::new(
                    at.member(k).to_string(),
                    format!(
                        "unknown field \"{k}\" in a policy wrapper (expected name, arn, {content})"
                    ),
                ))
            }
        }
    }
    Ok(meta)
}

/// A policy read from the file a `{"file": ...}` reference names. The file holds a document or a
/// `{"name", "arn", "document"}` wrapper; the policy is named by the reference's `name`, else the
/// wrapper's, else the path as written. An error names the file and the JSON path inside it.
fn parse_policy_file(
    o: &JsonObject<'_>,
    file: &Json<'_>,
    at: &At<'_>,
    t: PolicyType,
    ctx: Ctx<'_>,
) -> Result<Policy, Fail> {
    let file_at = at.member("file");
    let Some(rel) = file.as_str().filter(|f| !f.is_empty()) else {
        return Err(Fail::new(
            file_at.to_string(),
            format!(
                "must be a non-empty string (a policy file's path, relative to the case file), found {}",
                if file.as_str().is_some() { "an empty string" } else { file.kind() }
            ),
        ));
    };
    let meta = policy_meta(o, at, "file")?;
    let path = ctx.base.join(rel);
    let text = ctx
        .reader
        .policy_file(&path)
        .map_err(|why| Fail::new(file_at.to_string(), why))?;
    let in_file = |f: Fail| {
        Fail::new(
            at.to_string(),
            format!("{}: {}: {}", path.display(), f.path, f.message),
        )
    };
    let v: Json<'_> = serde_json::from_str(&text)
        .map_err(|e| in_file(Fail::new("$".into(), format!("not valid JSON: {e}"))))?;
    if let Json::Object(inner) = &v {
        if inner.get("file").is_some() {
            return Err(in_file(Fail::new(
                "$.file".into(),
                "a policy file holds a policy document (or a {\"name\", \"arn\", \"document\"} wrapper), not another file reference".into(),
            )));
        }
    }
    let policy = parse_document(&v, &At::Path("$"), t).map_err(in_file)?;
    let mut merged = policy.meta().clone();
    merged.name = meta.name.or(merged.name).or_else(|| Some(rel.to_string()));
    merged.arn = meta.arn.or(merged.arn);
    merged.source = Some(Source {
        file: path.display().to_string().into(),
        line: None,
        path: "$".into(),
    });
    Ok(policy.with_meta(merged))
}

fn parse_list(v: &Json<'_>, at: &At<'_>, t: PolicyType, ctx: Ctx<'_>) -> Result<Vec<Policy>, Fail> {
    as_array(v, at, "policies")?
        .iter()
        .enumerate()
        .map(|(i, p)| parse_policy(p, &at.index(i), t, ctx))
        .collect()
}

fn parse_levels(
    v: &Json<'_>,
    at: &At<'_>,
    t: PolicyType,
    ctx: Ctx<'_>,
) -> Result<Vec<Vec<Policy>>, Fail> {
    as_array(
        v,
        at,
        "levels (one array of policies per organization level)",
    )?
    .iter()
    .enumerate()
    .map(|(i, l)| parse_list(l, &at.index(i), t, ctx))
    .collect()
}

/// Reads and compiles a `policies` member (e.g. a generated one) on its own.
pub fn read_policies(v: &Value) -> Result<PolicySet, CaseError> {
    let reader = Reader::default();
    parse_policies(&Json::from_value(v), Ctx::new("(generated)", &reader)).map_err(
        |Fail { path, message }| CaseError {
            place: None,
            file: "(generated)".into(),
            case: None,
            path,
            message,
        },
    )
}

/// Reads the `policies` member of a file holding one JSON object: a case, or the minimal
/// `{"policies": {...}}`. Its other members are not read.
pub fn read_policies_file(file: &str, text: &str) -> Result<PolicySet, CaseError> {
    let error = |path: &str, message: String| CaseError {
        place: None,
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
    let reader = Reader::default();
    parse_policies(&Json::from_value(policies), Ctx::new(file, &reader))
        .map_err(|Fail { path, message }| error(&path, message))
}

fn parse_policies(v: &Json<'_>, ctx: Ctx<'_>) -> Result<PolicySet, Fail> {
    let root = At::Path("$.policies");
    let o = as_object(v, &root)?;
    let mut set = PolicySet::default();
    for (k, x) in o.iter() {
        let path = root.member(k);
        match k {
            "identity" => set.identity = parse_list(x, &path, PolicyType::Identity, ctx)?,
            "permissions_boundary" if !x.is_null() => {
                set.permissions_boundary = Some(parse_policy(x, &path, PolicyType::PermissionsBoundary, ctx)?)
            }
            "session" if !x.is_null() => set.session = Some(parse_list(x, &path, PolicyType::Session, ctx)?),
            "scp" if !x.is_null() => set.scp = Some(parse_levels(x, &path, PolicyType::Scp, ctx)?),
            "rcp" if !x.is_null() => set.rcp = Some(parse_levels(x, &path, PolicyType::Rcp, ctx)?),
            "resource" => set.resource = parse_list(x, &path, PolicyType::Resource, ctx)?,
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
    parse_request_json(&Json::from_value(v), false)
}

/// Reads a request. With `fill` (a suite's case), the keys AWS sets on every request of the
/// principal ([`keyward_iam::principal_context`]) are added unless the context sets them, or
/// keeps one out with `null`; without it the context is taken literally.
fn parse_request_json(v: &Json<'_>, fill: bool) -> Result<Request, Fail> {
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
    let mut kept_out = Vec::new();
    if let Some(c) = o.get("context") {
        let at = At::Path("$.request.context");
        let c = as_object(c, &at)?;
        for (k, x) in c.iter() {
            if x.is_null() {
                if !fill {
                    return Err(Fail::new(
                        at.quoted(k).to_string(),
                        "null keeps a key AWS sets out of a suite case's request; outside a suite the context is literal: leave the key out".into(),
                    ));
                }
                kept_out.push(k);
                continue;
            }
            req.context.insert(k, context_value_json(x, &at.quoted(k))?);
        }
    }
    if fill {
        for (k, v) in keyward_iam::principal_context(req.principal()) {
            let kept = kept_out.iter().any(|o| o.eq_ignore_ascii_case(k));
            if !kept && req.context.get(k).is_none() {
                req.context.insert(k, v);
            }
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
