//! Policy documents: parse and validate as IAM does, compile for evaluation, and serialize back.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::arn::Parts;
use crate::assumptions::Reading;
use crate::condition::{self, Condition};
use crate::error::{Loc, ParseNameError, PolicyError, PolicyErrorKind};
use crate::json::{Json, JsonObject};
use crate::pattern::Glob;
use crate::request::Request;
use crate::variables::Template;

/// The kinds of policy IAM evaluates for a request. AWS adds kinds from time to time (RCPs came
/// in 2024), hence `non_exhaustive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PolicyType {
    /// Identity-based policies attached to the user or role (managed or inline).
    Identity,
    /// The permissions boundary of the user or role.
    PermissionsBoundary,
    /// Session policies passed when the role session was created.
    Session,
    /// Service control policies of AWS Organizations, one list per level.
    Scp,
    /// Resource control policies of AWS Organizations, one list per level.
    Rcp,
    /// Resource-based policies (on the resource, or a role's trust policy).
    Resource,
}

impl PolicyType {
    /// Every type, in declaration order.
    pub const ALL: [PolicyType; 6] = [
        PolicyType::Identity,
        PolicyType::PermissionsBoundary,
        PolicyType::Session,
        PolicyType::Scp,
        PolicyType::Rcp,
        PolicyType::Resource,
    ];

    /// The name used in the case format (`by`).
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::PermissionsBoundary => "permissions_boundary",
            PolicyType::Session => "session",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Resource => "resource",
        }
    }

    /// Principal is required in resource-based policies, optional in RCPs, and prohibited in the
    /// rest.
    fn principal_rule(self) -> PrincipalRule {
        match self {
            PolicyType::Resource => PrincipalRule::Required,
            PolicyType::Rcp => PrincipalRule::Optional,
            _ => PrincipalRule::Prohibited,
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyType {
    type Err = ParseNameError;

    /// Reads the case-format name ([`PolicyType::as_str`]), case-sensitively.
    fn from_str(s: &str) -> Result<PolicyType, ParseNameError> {
        const NAMES: &[&str] = &[
            "identity",
            "permissions_boundary",
            "session",
            "scp",
            "rcp",
            "resource",
        ];
        PolicyType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParseNameError::new("policy type", s, NAMES))
    }
}

enum PrincipalRule {
    Required,
    Optional,
    Prohibited,
}

/// The policy language version (`Version`). Only 2012-10-17 substitutes policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// `2012-10-17`, the current version.
    V2012_10_17,
    /// `2008-10-17`, the original version: `${...}` is plain text.
    V2008_10_17,
}

impl Version {
    /// The version as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Version {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Version, ParseNameError> {
        const NAMES: &[&str] = &["2012-10-17", "2008-10-17"];
        [Version::V2012_10_17, Version::V2008_10_17]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseNameError::new("policy version", s, NAMES))
    }
}

/// A statement's `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// The statement allows what it matches.
    Allow,
    /// The statement denies what it matches; an applicable Deny always wins.
    Deny,
}

impl Effect {
    /// The effect as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Effect {
    type Err = ParseNameError;

    /// Case-sensitive, as IAM reads it.
    fn from_str(s: &str) -> Result<Effect, ParseNameError> {
        match s {
            "Allow" => Ok(Effect::Allow),
            "Deny" => Ok(Effect::Deny),
            _ => Err(ParseNameError::new("effect", s, &["Allow", "Deny"])),
        }
    }
}

/// Action or NotAction: lower-cased wildcard patterns (actions match case-insensitively).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionBlock {
    pub(crate) negated: bool,
    pub(crate) raw: Vec<String>,
    pub(crate) raw_is_array: bool,
    pub(crate) globs: Vec<Glob>,
}

impl ActionBlock {
    /// Whether this is `NotAction`.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// The patterns as written in the policy, in document order.
    pub fn patterns(&self) -> &[String] {
        &self.raw
    }

    /// Whether the element lets the statement apply to the request's action (for `NotAction`:
    /// no pattern matches it).
    pub fn matches(&self, req: &Request) -> bool {
        let hit = self.globs.iter().any(|g| g.is_match(req.action_lc()));
        hit != self.negated
    }

    /// Which listed pattern matched (for explanations).
    pub fn matching_entry(&self, req: &Request) -> Option<&str> {
        self.globs
            .iter()
            .position(|g| g.is_match(req.action_lc()))
            .map(|i| self.raw[i].as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResourceMatcher {
    Glob(Glob),
    Tpl(Template),
}

/// Resource or NotResource: case-sensitive wildcard patterns, possibly with variables.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceBlock {
    pub(crate) negated: bool,
    pub(crate) raw: Vec<String>,
    pub(crate) raw_is_array: bool,
    pub(crate) matchers: Vec<ResourceMatcher>,
}

impl ResourceBlock {
    /// Entries without policy variables (`${...}` is matched as text).
    pub(crate) fn literal(negated: bool, raw: Vec<String>, raw_is_array: bool) -> ResourceBlock {
        let matchers = raw
            .iter()
            .map(|r| ResourceMatcher::Glob(Glob::new(r)))
            .collect();
        ResourceBlock {
            negated,
            raw,
            raw_is_array,
            matchers,
        }
    }

    /// The entries that hold policy variables.
    pub(crate) fn templates(&self) -> impl Iterator<Item = &Template> {
        self.matchers.iter().filter_map(|m| match m {
            ResourceMatcher::Tpl(t) => Some(t),
            ResourceMatcher::Glob(_) => None,
        })
    }

    /// Whether this is `NotResource`.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// The patterns as written in the policy, in document order.
    pub fn patterns(&self) -> &[String] {
        &self.raw
    }

    /// Whether the element lets the statement apply to the request's resource (for
    /// `NotResource`: no pattern matches it).
    pub fn matches(&self, req: &Request) -> bool {
        self.matches_under(req, &Reading::keyward())
    }

    pub(crate) fn matches_under(&self, req: &Request, reading: &Reading) -> bool {
        self.entry_under(req, reading).is_some() != self.negated
    }

    /// Which listed pattern matched the request's resource (for explanations).
    pub fn matching_entry(&self, req: &Request) -> Option<&str> {
        self.entry_under(req, &Reading::keyward())
    }

    fn entry_under(&self, req: &Request, reading: &Reading) -> Option<&str> {
        let r = req.resource();
        self.matchers
            .iter()
            .position(|m| match m {
                ResourceMatcher::Glob(g) => g.is_match(r),
                // A variable missing from the context makes this entry match no resource.
                ResourceMatcher::Tpl(t) => t
                    .resolve_glob(&req.context, reading)
                    .is_some_and(|g| g.is_match(r)),
            })
            .map(|i| self.raw[i].as_str())
    }
}

/// How a resource-based policy's Principal names the caller; it decides which other policies
/// still have a say (same-account rules in reference_policies_evaluation-logic.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PrincipalMatch {
    /// The account (`123456789012` or `arn:aws:iam::123456789012:root`): the account delegates
    /// to its identity-based policies.
    Account,
    /// The role whose session is calling: boundary and session policies still limit.
    Role,
    /// The user or role-session ARN itself, or `*` (assumption A-STAR-PRINCIPAL-DIRECT).
    Direct,
}

/// The kinds of principal a `Principal` map names (the map's keys, case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// `AWS`: accounts, users, roles and role sessions.
    Aws,
    /// `Service`: AWS service principals.
    Service,
    /// `Federated`: web identity and SAML providers.
    Federated,
    /// `CanonicalUser`: S3 canonical user IDs.
    CanonicalUser,
}

impl PrincipalKind {
    const ALL: [PrincipalKind; 4] = [
        PrincipalKind::Aws,
        PrincipalKind::Service,
        PrincipalKind::Federated,
        PrincipalKind::CanonicalUser,
    ];

    /// The key as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrincipalKind {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<PrincipalKind, ParseNameError> {
        const NAMES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];
        PrincipalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseNameError::new("principal type", s, NAMES))
    }
}

/// One member of a `Principal` map: a kind and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub(crate) kind: PrincipalKind,
    pub(crate) values: Vec<String>,
    /// Whether the values were written as an array (a single value may be either).
    pub(crate) raw_is_array: bool,
}

impl PrincipalEntry {
    /// The principal kind (the map key).
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The values as written, in document order.
    pub fn values(&self) -> &[String] {
        &self.values
    }
}

/// Principal or NotPrincipal of a resource-based policy (or RCP) statement.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalBlock {
    pub(crate) negated: bool,
    /// `None` is `"*"`; otherwise the map's members in document order.
    pub(crate) entries: Option<Vec<PrincipalEntry>>,
}

impl PrincipalBlock {
    /// Whether this is `NotPrincipal`.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// The map's members in document order; `None` for `"*"`.
    pub fn entries(&self) -> Option<&[PrincipalEntry]> {
        self.entries.as_deref()
    }

    /// How the element names the calling principal (an ARN); `None` when it does not.
    pub fn match_principal(&self, principal: &str) -> Option<PrincipalMatch> {
        let m = match &self.entries {
            None => Some(PrincipalMatch::Direct),
            Some(entries) => entries
                .iter()
                .flat_map(|e| e.values.iter().map(move |v| (e.kind, v)))
                .filter_map(|(kind, v)| principal_value_match(kind, v, principal))
                .max(),
        };
        if self.negated {
            match m {
                Some(_) => None,
                None => Some(PrincipalMatch::Direct),
            }
        } else {
            m
        }
    }
}

/// Runs for every resource-based statement evaluated, so it reads ARNs in place (no
/// allocation).
fn principal_value_match(kind: PrincipalKind, v: &str, principal: &str) -> Option<PrincipalMatch> {
    if v == "*" || v == principal {
        return Some(PrincipalMatch::Direct);
    }
    if kind != PrincipalKind::Aws {
        return None;
    }
    let caller = Parts::get(principal)?;
    let acct = caller.account_id()?;
    let named = Parts::get(v);
    // An account is named by its ID or by arn:aws:iam::ACCOUNT:root.
    let names_root = |p: &Parts| {
        (p.partition, p.service, p.region, p.account, p.resource)
            == ("aws", "iam", "", acct, "root")
    };
    if v == acct || named.as_ref().is_some_and(names_root) {
        return Some(PrincipalMatch::Account);
    }
    // arn:aws:iam::ACCT:role/path/NAME names the sessions arn:aws:sts::ACCT:assumed-role/NAME/*
    let in_aws =
        |p: &Parts, service| p.partition == "aws" && p.service == service && p.region.is_empty();
    if !in_aws(&caller, "sts") {
        return None;
    }
    let (role_name, _) = caller.assumed_role()?;
    let role = named.filter(|p| in_aws(p, "iam"))?;
    let r_name = role.role_name()?;
    (caller.account == role.account && role_name == r_name).then_some(PrincipalMatch::Role)
}

/// One statement of a policy, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) action: ActionBlock,
    pub(crate) resource: Option<ResourceBlock>,
    pub(crate) principal: Option<PrincipalBlock>,
    /// One per (operator, key) pair, in document order.
    pub(crate) conditions: Vec<Condition>,
    /// Whether the document had a Condition element (it may be `{}`).
    pub(crate) has_condition_block: bool,
}

impl Statement {
    /// The `Sid`, when the statement has one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Allow` or `Deny`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// `Action` or `NotAction`.
    pub fn action(&self) -> &ActionBlock {
        &self.action
    }

    /// `Resource` or `NotResource`; `None` only in a trust policy without one.
    pub fn resource(&self) -> Option<&ResourceBlock> {
        self.resource.as_ref()
    }

    /// `Principal` or `NotPrincipal` (resource-based policies and RCPs only).
    pub fn principal(&self) -> Option<&PrincipalBlock> {
        self.principal.as_ref()
    }

    /// The conditions, one per (operator, key) pair in document order; all must hold.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Whether this resource-based statement denies every caller that has a permissions
    /// boundary, whatever it names: a Deny with `NotPrincipal` does (IAM User Guide,
    /// reference_policies_elements_notprincipal.html and access_policies_boundaries.html: "The
    /// NotPrincipal element with a Deny effect will always deny any IAM principal that has a
    /// permissions boundary policy attached, regardless of the values specified in the
    /// NotPrincipal element").
    pub fn denies_every_bounded_principal(&self) -> bool {
        self.effect == Effect::Deny
            && self
                .principal
                .as_ref()
                .is_some_and(PrincipalBlock::is_negated)
    }

    /// How a resource-based statement names the caller (`None`: it does not), for a caller with
    /// or without a permissions boundary.
    pub fn names_caller(&self, principal: &str, has_boundary: bool) -> Option<PrincipalMatch> {
        if has_boundary && self.denies_every_bounded_principal() {
            return Some(PrincipalMatch::Direct);
        }
        match &self.principal {
            Some(pb) => pb.match_principal(principal),
            None => Some(PrincipalMatch::Direct),
        }
    }

    /// Action, resource and every condition match (the principal is checked by the caller, for
    /// resource-based policies only).
    #[inline]
    pub fn applies(&self, req: &Request) -> bool {
        self.applies_under(req, &Reading::keyward())
    }

    /// [`Statement::applies`] under a reading of the assumed choices it meets.
    #[inline]
    pub(crate) fn applies_under(&self, req: &Request, reading: &Reading) -> bool {
        self.action.matches(req)
            && self
                .resource
                .as_ref()
                .is_none_or(|r| r.matches_under(req, reading))
            && self
                .conditions
                .iter()
                .all(|c| c.eval_under(&req.context, reading))
    }

    /// When only a `"*"` makes this statement's Principal name the caller directly (the choice
    /// of assumption A-STAR-PRINCIPAL-DIRECT): how the other entries name the caller, if at
    /// all. `None` when the `"*"` does not decide.
    pub(crate) fn star_only_direct(&self, principal: &str) -> Option<Option<PrincipalMatch>> {
        let pb = self.principal.as_ref().filter(|pb| !pb.negated)?;
        // `"Principal": "*"`.
        let Some(entries) = &pb.entries else {
            return Some(None);
        };
        let values = || {
            entries
                .iter()
                .flat_map(|e| e.values.iter().map(move |v| (e.kind, v)))
        };
        if !values().any(|(_, v)| v == "*") {
            return None;
        }
        let rest = values()
            .filter(|(_, v)| *v != "*")
            .filter_map(|(kind, v)| principal_value_match(kind, v, principal))
            .max();
        (rest != Some(PrincipalMatch::Direct)).then_some(rest)
    }
}

/// Where a policy came from; AWS names a managed policy by its ARN in explicit-deny messages.
/// Two metas are equal when their name and ARN are: where a document was read from
/// ([`PolicyMeta::source`]) is not part of what the policy is, so a policy written out and read
/// back from another file is the same policy.
#[derive(Debug, Clone, Default)]
pub struct PolicyMeta {
    /// The policy's name, for explanations.
    pub name: Option<String>,
    /// The managed policy's ARN; an inline policy has none.
    pub arn: Option<String>,
    /// Where the document was read from, for reports that point at its statements; `None` for
    /// a policy built in memory.
    pub source: Option<Source>,
}

impl PartialEq for PolicyMeta {
    fn eq(&self, other: &PolicyMeta) -> bool {
        self.name == other.name && self.arn == other.arn
    }
}

impl Eq for PolicyMeta {}

/// Where a policy document sits in the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, as the reader was given it.
    pub file: std::sync::Arc<str>,
    /// For a JSON Lines file, the line holding the document's case; `None` when `path` starts
    /// at the file's root.
    pub line: Option<usize>,
    /// The document's JSON path from that root (`$.policies.scp[0][1]`, `$[3].policies...`,
    /// `$` for a policy file).
    pub path: String,
}

/// A validated, compiled policy document. It is built only by parsing, so it always agrees
/// with the document [`Policy::to_json`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) meta: PolicyMeta,
    pub(crate) version: Option<Version>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
    /// Whether `Statement` was an array (a single statement may be either).
    pub(crate) statement_is_array: bool,
}

impl Policy {
    /// Parses a policy given as JSON text, reporting invalid JSON as IAM does.
    pub fn parse_str(text: &str, kind: PolicyType) -> Result<Policy, PolicyError> {
        let doc: Json<'_> = serde_json::from_str(text)
            .map_err(|e| PolicyError::new("$", PolicyErrorKind::InvalidJson(e.to_string())))?;
        Policy::parse_json(&doc, kind)
    }

    /// Parses and validates a policy document. The first error IAM would report wins; the JSON
    /// path in it is relative to the document (`$`).
    pub fn parse(doc: &Value, kind: PolicyType) -> Result<Policy, PolicyError> {
        Policy::parse_json(&Json::from_value(doc), kind)
    }

    /// [`Policy::parse`] of a document read as a [`Json`] tree, e.g. one borrowed from the text
    /// of a case.
    pub fn parse_json(doc: &Json<'_>, kind: PolicyType) -> Result<Policy, PolicyError> {
        let mut errors = Vec::new();
        let policy = parse_document(doc, kind, &mut errors);
        match errors.into_iter().min_by_key(PolicyError::phase) {
            Some(e) => Err(e),
            None => policy
                .ok_or_else(|| PolicyError::new("$", PolicyErrorKind::NotAnObject(doc.kind()))),
        }
    }

    /// A policy of the given statements, written as a statement array, with no Id and no meta.
    pub(crate) fn from_statements(version: Option<Version>, statements: Vec<Statement>) -> Policy {
        Policy {
            meta: PolicyMeta::default(),
            version,
            id: None,
            statements,
            statement_is_array: true,
        }
    }

    /// The same policy with its name and ARN set.
    pub fn with_meta(mut self, meta: PolicyMeta) -> Policy {
        self.meta = meta;
        self
    }

    /// The policy's name and ARN.
    pub fn meta(&self) -> &PolicyMeta {
        &self.meta
    }

    /// The `Version`; `None` when the document has none (variables are then plain text).
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The `Id`, when the document has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Whether the document's `Statement` is an array (a single statement may be written as
    /// the object alone): a statement's JSON path is `Statement[i]` or `Statement`.
    pub fn statement_is_array(&self) -> bool {
        self.statement_is_array
    }

    /// Whether `${...}` is substituted (only under Version 2012-10-17).
    pub fn substitutes_variables(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }

    /// The document as IAM would store it (element order: Version, Id, Statement; statement
    /// elements in grammar order). Parsing the result gives back an equal policy, but for the
    /// name and ARN, which are not part of the document ([`PolicySet::to_json`](crate::PolicySet::to_json) writes them).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(v) = self.version {
            m.insert("Version".into(), Value::String(v.as_str().into()));
        }
        if let Some(id) = &self.id {
            m.insert("Id".into(), Value::String(id.clone()));
        }
        let stmts: Vec<Value> = self.statements.iter().map(statement_json).collect();
        let s = if self.statement_is_array || stmts.len() != 1 {
            Value::Array(stmts)
        } else {
            stmts.into_iter().next().unwrap_or(Value::Null)
        };
        m.insert("Statement".into(), s);
        Value::Object(m)
    }
}

fn string_or_array(raw: &[String], is_array: bool) -> Value {
    if is_array || raw.len() != 1 {
        Value::Array(raw.iter().cloned().map(Value::String).collect())
    } else {
        Value::String(raw[0].clone())
    }
}

fn statement_json(s: &Statement) -> Value {
    let mut m = Map::new();
    if let Some(sid) = &s.sid {
        m.insert("Sid".into(), Value::String(sid.clone()));
    }
    m.insert("Effect".into(), Value::String(s.effect.as_str().into()));
    if let Some(p) = &s.principal {
        let v = match &p.entries {
            None => Value::String("*".into()),
            Some(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| {
                        (
                            e.kind.as_str().to_string(),
                            string_or_array(&e.values, e.raw_is_array),
                        )
                    })
                    .collect(),
            ),
        };
        m.insert(
            if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            }
            .into(),
            v,
        );
    }
    let a = &s.action;
    m.insert(
        if a.negated { "NotAction" } else { "Action" }.into(),
        string_or_array(&a.raw, a.raw_is_array),
    );
    if let Some(r) = &s.resource {
        m.insert(
            if r.negated { "NotResource" } else { "Resource" }.into(),
            string_or_array(&r.raw, r.raw_is_array),
        );
    }
    if s.has_condition_block {
        m.insert("Condition".into(), condition::to_block(&s.conditions));
    }
    Value::Object(m)
}

/// IAM accepts tab, newline, carriage return and U+0020 to U+00FF in a policy.
fn bad_char(s: &str) -> Option<char> {
    // Nearly every policy is ASCII: a scan of the bytes, which the compiler vectorizes, clears
    // it without decoding a character.
    if s.bytes()
        .all(|b| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7f))
    {
        return None;
    }
    s.chars()
        .find(|&c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
}

fn has_bad_char(v: &Json<'_>) -> bool {
    match v {
        Json::Str(s) => bad_char(s).is_some(),
        Json::Array(a) => a.iter().any(has_bad_char),
        Json::Object(o) => o
            .iter()
            .any(|(k, x)| bad_char(k).is_some() || has_bad_char(x)),
        _ => false,
    }
}

/// Reports every character IAM refuses, with its path. The scan that finds none allocates
/// nothing.
fn check_chars(v: &Json<'_>, at: &Loc<'_>, errors: &mut Vec<PolicyError>) {
    if !has_bad_char(v) {
        return;
    }
    match v {
        Json::Str(s) => {
            if let Some(c) = bad_char(s) {
                errors.push(PolicyError::new(at, PolicyErrorKind::InvalidCharacter(c)));
            }
        }
        Json::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| check_chars(x, &at.index(i), errors)),
        Json::Object(o) => {
            for (k, x) in o.iter() {
                let p = at.member(k);
                if let Some(c) = bad_char(k) {
                    errors.push(PolicyError::new(p, PolicyErrorKind::InvalidCharacter(c)));
                }
                check_chars(x, &p, errors);
            }
        }
        _ => {}
    }
}

fn parse_document(
    doc: &Json<'_>,
    kind: PolicyType,
    errors: &mut Vec<PolicyError>,
) -> Option<Policy> {
    let root = Loc::Root;
    let Json::Object(top) = doc else {
        errors.push(PolicyError::new(
            root,
            PolicyErrorKind::NotAnObject(doc.kind()),
        ));
        return None;
    };
    check_chars(doc, &root, errors);
    for k in top.keys() {
        if !matches!(k, "Version" | "Id" | "Statement") {
            errors.push(PolicyError::new(
                root.member(k),
                PolicyErrorKind::UnknownElement(k.to_string()),
            ));
        }
    }
    let version = parse_version(top.get("Version"), errors);
    let id = parse_id(top.get("Id"), kind, errors);
    let vars = version == Some(Version::V2012_10_17);
    let at = root.member("Statement");
    let (stmt_values, statement_is_array): (&[Json<'_>], bool) = match top.get("Statement") {
        None | Some(Json::Null) => {
            errors.push(PolicyError::new(at, PolicyErrorKind::MissingStatement));
            (&[], false)
        }
        Some(Json::Array(a)) => {
            if a.is_empty() {
                errors.push(PolicyError::new(at, PolicyErrorKind::EmptyStatement));
            }
            (a.as_slice(), true)
        }
        Some(s @ Json::Object(_)) => (std::slice::from_ref(s), false),
        Some(v) => {
            errors.push(wrong_type(&at, "Statement", "an object or an array", v));
            (&[], false)
        }
    };
    let mut statements = Vec::with_capacity(stmt_values.len());
    let mut sids: Vec<&str> = Vec::new();
    for (i, sv) in stmt_values.iter().enumerate() {
        let here = if statement_is_array { at.index(i) } else { at };
        if let Some(st) = parse_statement(sv, &here, kind, vars, errors) {
            statements.push(st);
        }
        if let Some(Json::Str(sid)) = sv.get("Sid") {
            if !sid.is_empty() {
                if sids.contains(&sid.as_ref()) {
                    errors.push(PolicyError::new(
                        here.member("Sid"),
                        PolicyErrorKind::DuplicateSid(sid.to_string()),
                    ));
                }
                sids.push(sid);
            }
        }
    }
    Some(Policy {
        meta: PolicyMeta::default(),
        version,
        id,
        statements,
        statement_is_array,
    })
}

fn parse_version(v: Option<&Json<'_>>, errors: &mut Vec<PolicyError>) -> Option<Version> {
    match v {
        None => None,
        Some(Json::Str(s)) if s == "2012-10-17" => Some(Version::V2012_10_17),
        Some(Json::Str(s)) if s == "2008-10-17" => Some(Version::V2008_10_17),
        Some(v) => {
            let shown = match v {
                Json::Str(s) => s.to_string(),
                other => other.to_string(),
            };
            errors.push(PolicyError::new(
                "$.Version",
                PolicyErrorKind::BadVersion(shown),
            ));
            None
        }
    }
}

fn parse_id(
    v: Option<&Json<'_>>,
    kind: PolicyType,
    errors: &mut Vec<PolicyError>,
) -> Option<String> {
    match v {
        None => None,
        // reference_policies_elements_id.html: "ID is allowed in resource-based policies, but
        // not in identity-based policies."
        Some(Json::Str(_))
            if matches!(
                kind,
                PolicyType::Identity | PolicyType::PermissionsBoundary | PolicyType::Session
            ) =>
        {
            errors.push(PolicyError::new("$.Id", PolicyErrorKind::IdNotAllowed));
            None
        }
        Some(Json::Str(s)) => Some(s.to_string()),
        Some(v) => {
            errors.push(wrong_type(&Loc::Root.member("Id"), "Id", "a string", v));
            None
        }
    }
}

fn wrong_type(at: &Loc<'_>, element: &str, expected: &'static str, v: &Json<'_>) -> PolicyError {
    PolicyError::new(
        at,
        PolicyErrorKind::WrongType {
            element: element.to_string(),
            expected,
            found: v.kind(),
        },
    )
}

/// A string or an array of strings; `None` (with an error pushed) for anything else.
fn strings(
    v: &Json<'_>,
    at: &Loc<'_>,
    element: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<(Vec<String>, bool)> {
    match v {
        Json::Str(s) => Some((vec![s.to_string()], false)),
        Json::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, x) in a.iter().enumerate() {
                match x {
                    Json::Str(s) => out.push(s.to_string()),
                    other => {
                        errors.push(wrong_type(&at.index(i), element, "a string", other));
                        return None;
                    }
                }
            }
            Some((out, true))
        }
        other => {
            errors.push(wrong_type(
                at,
                element,
                "a string or an array of strings",
                other,
            ));
            None
        }
    }
}

/// `X` or `NotX` of a statement: the value, whether it is the Not form, and its element name.
struct Element<'a> {
    value: &'a Json<'a>,
    negated: bool,
    name: &'static str,
}

/// What a statement has of `X` and `NotX`.
enum Pick<'a> {
    /// One of them.
    One(Element<'a>),
    /// Neither.
    Neither,
    /// Both, which is already reported.
    Both,
}

/// Picks `X` or `NotX`, rejecting both at once.
fn one_of<'a>(
    o: &'a JsonObject<'a>,
    name: &'static str,
    not_name: &'static str,
    at: &Loc<'_>,
    errors: &mut Vec<PolicyError>,
) -> Pick<'a> {
    match (o.get(name), o.get(not_name)) {
        (Some(_), Some(_)) => {
            errors.push(PolicyError::new(at, PolicyErrorKind::BothForms(name)));
            Pick::Both
        }
        (Some(value), None) => Pick::One(Element {
            value,
            negated: false,
            name,
        }),
        (None, Some(value)) => Pick::One(Element {
            value,
            negated: true,
            name: not_name,
        }),
        (None, None) => Pick::Neither,
    }
}

fn check_action(a: &str, at: &Loc<'_>, errors: &mut Vec<PolicyError>) {
    if a == "*" {
        return;
    }
    let kind = match a.split(':').count() {
        1 => Some(PolicyErrorKind::ActionNoVendor(a.into())),
        2 => {
            let vendor = a.split(':').next().unwrap_or_default();
            if vendor.contains(['*', '?']) {
                Some(PolicyErrorKind::ActionVendorWildcard(a.into()))
            } else if vendor.is_empty()
                || !vendor
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                Some(PolicyErrorKind::ActionBadVendor(a.into()))
            } else {
                None
            }
        }
        _ => Some(PolicyErrorKind::TooManyColons(a.into())),
    };
    if let Some(k) = kind {
        errors.push(PolicyError::new(at, k));
    }
}

/// One statement, element by element; every error is reported, and the statement is built only
/// when there is none.
fn parse_statement(
    v: &Json<'_>,
    at: &Loc<'_>,
    kind: PolicyType,
    vars: bool,
    errors: &mut Vec<PolicyError>,
) -> Option<Statement> {
    let Json::Object(o) = v else {
        errors.push(wrong_type(at, "a statement", "an object", v));
        return None;
    };
    let before = errors.len();
    check_statement_elements(o, at, errors);
    let sid = parse_sid(o.get("Sid"), at, errors);
    let effect = parse_effect(o.get("Effect"), at, errors);
    let action = parse_action(o, at, errors);
    let resource = parse_resource(o, at, kind, vars, errors);
    let principal = parse_principal_element(o, at, kind, errors);
    let (conditions, has_condition_block) = match o.get("Condition") {
        Some(c) => (
            condition::parse_block(c, &at.member("Condition"), vars, errors),
            true,
        ),
        None => (Vec::new(), false),
    };
    if errors.len() > before {
        return None;
    }
    Some(Statement {
        sid,
        effect: effect?,
        action: action?,
        resource,
        principal,
        conditions,
        has_condition_block,
    })
}

fn check_statement_elements(o: &JsonObject<'_>, at: &Loc<'_>, errors: &mut Vec<PolicyError>) {
    for k in o.keys() {
        if !matches!(
            k,
            "Sid"
                | "Effect"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Principal"
                | "NotPrincipal"
                | "Condition"
        ) {
            errors.push(PolicyError::new(
                at.member(k),
                PolicyErrorKind::UnknownElement(k.to_string()),
            ));
        }
    }
}

fn parse_sid(v: Option<&Json<'_>>, at: &Loc<'_>, errors: &mut Vec<PolicyError>) -> Option<String> {
    match v {
        None => None,
        Some(Json::Str(s)) => {
            if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                errors.push(PolicyError::new(
                    at.member("Sid"),
                    PolicyErrorKind::BadSid(s.to_string()),
                ));
            }
            Some(s.to_string())
        }
        Some(other) => {
            errors.push(wrong_type(&at.member("Sid"), "Sid", "a string", other));
            None
        }
    }
}

fn parse_effect(
    v: Option<&Json<'_>>,
    at: &Loc<'_>,
    errors: &mut Vec<PolicyError>,
) -> Option<Effect> {
    match v {
        Some(Json::Str(s)) if s == "Allow" => Some(Effect::Allow),
        Some(Json::Str(s)) if s == "Deny" => Some(Effect::Deny),
        Some(Json::Str(s)) => {
            errors.push(PolicyError::new(
                at.member("Effect"),
                PolicyErrorKind::BadEffect(s.to_string()),
            ));
            None
        }
        Some(other) => {
            errors.push(wrong_type(
                &at.member("Effect"),
                "Effect",
                "a string",
                other,
            ));
            None
        }
        None => {
            errors.push(PolicyError::new(at, PolicyErrorKind::MissingEffect));
            None
        }
    }
}

fn parse_action(
    o: &JsonObject<'_>,
    at: &Loc<'_>,
    errors: &mut Vec<PolicyError>,
) -> Option<ActionBlock> {
    let e = match one_of(o, "Action", "NotAction", at, errors) {
        Pick::One(e) => e,
        Pick::Neither => {
            errors.push(PolicyError::new(at, PolicyErrorKind::MissingAction));
            return None;
        }
        Pick::Both => return None,
    };
    let p = at.member(e.name);
    let (raw, arr) = strings(e.value, &p, e.name, errors)?;
    if raw.is_empty() {
        errors.push(PolicyError::new(p, PolicyErrorKind::MissingAction));
        return None;
    }
    for (i, a) in raw.iter().enumerate() {
        check_action(a, &if arr { p.index(i) } else { p }, errors);
    }
    let globs = raw
        .iter()
        .map(|a| Glob::new(&a.to_ascii_lowercase()))
        .collect();
    Some(ActionBlock {
        negated: e.negated,
        raw,
        raw_is_array: arr,
        globs,
    })
}

fn parse_resource(
    o: &JsonObject<'_>,
    at: &Loc<'_>,
    kind: PolicyType,
    vars: bool,
    errors: &mut Vec<PolicyError>,
) -> Option<ResourceBlock> {
    let e = match one_of(o, "Resource", "NotResource", at, errors) {
        Pick::One(e) => e,
        // Trust policies (resource-based policies on roles) have no Resource; every other
        // kind must name one.
        Pick::Neither if kind != PolicyType::Resource => {
            errors.push(PolicyError::new(at, PolicyErrorKind::MissingResource));
            return None;
        }
        Pick::Neither | Pick::Both => return None,
    };
    let p = at.member(e.name);
    let (raw, arr) = strings(e.value, &p, e.name, errors)?;
    if raw.is_empty() {
        errors.push(PolicyError::new(p, PolicyErrorKind::MissingResource));
        return None;
    }
    let mut matchers = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        if r != "*" && !r.contains(':') {
            let ep = if arr { p.index(i) } else { p };
            errors.push(PolicyError::new(
                ep,
                PolicyErrorKind::ResourceNotArn(r.clone()),
            ));
        }
        let tpl = if vars { Template::parse(r) } else { None };
        matchers.push(match tpl {
            Some(t) => ResourceMatcher::Tpl(t),
            None => ResourceMatcher::Glob(Glob::new(r)),
        });
    }
    Some(ResourceBlock {
        negated: e.negated,
        raw,
        raw_is_array: arr,
        matchers,
    })
}

fn parse_principal_element(
    o: &JsonObject<'_>,
    at: &Loc<'_>,
    kind: PolicyType,
    errors: &mut Vec<PolicyError>,
) -> Option<PrincipalBlock> {
    let e = match one_of(o, "Principal", "NotPrincipal", at, errors) {
        Pick::One(e) => e,
        Pick::Neither if matches!(kind.principal_rule(), PrincipalRule::Required) => {
            errors.push(PolicyError::new(at, PolicyErrorKind::MissingPrincipal));
            return None;
        }
        Pick::Neither | Pick::Both => return None,
    };
    let p = at.member(e.name);
    if matches!(kind.principal_rule(), PrincipalRule::Prohibited) {
        errors.push(PolicyError::new(
            p,
            PolicyErrorKind::PrincipalNotAllowed(e.name),
        ));
        return None;
    }
    parse_principal(e.value, &p, e.negated, errors)
}

fn parse_principal(
    v: &Json<'_>,
    at: &Loc<'_>,
    negated: bool,
    errors: &mut Vec<PolicyError>,
) -> Option<PrincipalBlock> {
    match v {
        Json::Str(s) if s == "*" => Some(PrincipalBlock {
            negated,
            entries: None,
        }),
        Json::Object(m) if !m.is_empty() => {
            let mut entries = Vec::with_capacity(m.len());
            for (k, vals) in m.iter() {
                let p = at.member(k);
                let Ok(kind) = k.parse::<PrincipalKind>() else {
                    errors.push(PolicyError::new(
                        p,
                        PolicyErrorKind::BadPrincipal(format!("unknown principal type \"{k}\"")),
                    ));
                    return None;
                };
                let (values, raw_is_array) = strings(vals, &p, k, errors)?;
                entries.push(PrincipalEntry {
                    kind,
                    values,
                    raw_is_array,
                });
            }
            Some(PrincipalBlock {
                negated,
                entries: Some(entries),
            })
        }
        other => {
            errors.push(PolicyError::new(
                at,
                PolicyErrorKind::BadPrincipal(format!(
                    "expected \"*\" or a map of AWS/Service/Federated/CanonicalUser, found {}",
                    other.kind()
                )),
            ));
            None
        }
    }
}
