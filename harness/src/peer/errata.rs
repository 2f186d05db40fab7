//! The peer's errata: documented rules `@cloud-copilot/iam-simulate` gets wrong, read from the
//! committed file `errata.json` beside the bridge (its format: docs/architecture.md, "Peer
//! errata"). Each entry names the AWS documentation that decides the rule, a fixture that proves
//! keyward's side, and how to recognise a disagreement it explains:
//!
//! - a **trigger**: the case has what the rule is about (e.g. a policy variable in a policy whose
//!   Version is not 2012-10-17);
//! - a **neutralizer**: the same case rewritten so the documented reading is spelled out in a form
//!   both evaluators read alike (e.g. the variable text written so no evaluator takes it for a
//!   variable). The disagreement is this erratum's when the trigger holds and both agree on the
//!   rewritten case. A disagreement with another cause survives the rewrite and stays unexplained.
//!
//! Triggers and neutralizers are code, named in the file; an unknown name is an error.

use std::path::Path;

use keyward_iam::DecisionKind;
use serde::Deserialize;
use serde_json::Value;

use crate::case::Case;

/// The file's name, in the bridge's folder.
pub const FILE: &str = "errata.json";

/// The documentation that decides a rule.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Documented {
    pub url: String,
    /// The page's sentence, or (when `verbatim` is false) what the page says, in other words.
    pub quote: String,
    /// Whether `quote` is the page's own wording.
    pub verbatim: bool,
}

/// How a disagreement of this erratum is recognised.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Recognise {
    /// keyward's decision in such a disagreement, when it is always the same.
    #[serde(default)]
    pub keyward: Option<String>,
    /// The peer's decision, when it is always the same.
    #[serde(default)]
    pub peer: Option<String>,
    pub trigger: String,
    pub neutralize: String,
}

/// One documented rule the peer gets wrong.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    pub id: String,
    /// What the peer does.
    pub peer_does: String,
    /// What AWS documents.
    pub aws_documents: String,
    pub documented: Documented,
    /// Fixture ids (documented provenance) whose expectation the peer contradicts.
    pub fixtures: Vec<String>,
    pub recognise: Recognise,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    peer: String,
    errata: Vec<Erratum>,
}

/// The errata of one peer.
#[derive(Debug, Clone, Default)]
pub struct Errata {
    pub entries: Vec<Erratum>,
}

impl Errata {
    /// Reads `errata.json` from the bridge's folder; an error names the file and what is wrong.
    pub fn load(dir: &Path) -> Result<Errata, String> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Errata::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads the file's text.
    pub fn parse(text: &str) -> Result<Errata, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.peer != super::PACKAGE {
            return Err(format!(
                "peer: {:?}, expected {:?}",
                file.peer,
                super::PACKAGE
            ));
        }
        for (i, e) in file.errata.iter().enumerate() {
            let at = format!("errata[{i}] ({})", e.id);
            if trigger(&e.recognise.trigger).is_none() {
                return Err(format!(
                    "{at}.recognise.trigger: unknown trigger {:?} (one of {})",
                    e.recognise.trigger,
                    TRIGGERS.map(|t| t.0).join(", ")
                ));
            }
            if neutralizer(&e.recognise.neutralize).is_none() {
                return Err(format!(
                    "{at}.recognise.neutralize: unknown neutralizer {:?} (one of {})",
                    e.recognise.neutralize,
                    NEUTRALIZERS.map(|t| t.0).join(", ")
                ));
            }
            for (field, d) in [
                ("keyward", &e.recognise.keyward),
                ("peer", &e.recognise.peer),
            ] {
                if let Some(d) = d {
                    if d.parse::<DecisionKind>().is_err() {
                        return Err(format!("{at}.recognise.{field}: unknown decision {d:?}"));
                    }
                }
            }
            if e.fixtures.is_empty() {
                return Err(format!(
                    "{at}.fixtures: at least one fixture proves keyward's side"
                ));
            }
            if !e.documented.url.starts_with("https://docs.aws.amazon.com/") {
                return Err(format!("{at}.documented.url: an AWS documentation page"));
            }
        }
        Ok(Errata {
            entries: file.errata,
        })
    }
}

impl Erratum {
    /// Whether the decisions fit the entry's pattern and the case has what the rule is about.
    pub fn triggered(&self, case: &Value, keyward: DecisionKind, peer: DecisionKind) -> bool {
        let fits = |want: &Option<String>, got: DecisionKind| {
            want.as_deref().is_none_or(|w| w == got.as_str())
        };
        fits(&self.recognise.keyward, keyward)
            && fits(&self.recognise.peer, peer)
            && trigger(&self.recognise.trigger).is_some_and(|t| t(case))
    }

    /// The case rewritten so that the documented reading is explicit.
    pub fn neutralized(&self, case: &Value) -> Option<Case> {
        let mut v = case.clone();
        neutralizer(&self.recognise.neutralize)?(&mut v);
        Case::from_json(&v).ok()
    }
}

type Trigger = fn(&Value) -> bool;
type Neutralizer = fn(&mut Value);

const TRIGGERS: [(&str, Trigger); 6] = [
    ("variable-outside-2012-10-17", variable_outside_2012),
    ("dollar-escape", dollar_escape),
    ("variable-in-untyped-resource", variable_in_untyped_resource),
    ("session-arn-named-by-resource-policy", session_arn_named),
    (
        "negated-operator-on-missing-variable",
        negated_on_missing_variable,
    ),
    (
        "not-resource-with-missing-variable",
        not_resource_with_missing_variable,
    ),
];

const NEUTRALIZERS: [(&str, Neutralizer); 6] = [
    ("write-variables-as-plain-text", variables_as_plain_text),
    ("write-dollar-escape-as-dollar", dollar_escape_as_dollar),
    (
        "substitute-variables-in-untyped-resources",
        substitute_in_untyped_resources,
    ),
    ("drop-session-policies", drop_session_policies),
    (
        "drop-missing-variable-values-of-negated-operators",
        drop_missing_variable_values,
    ),
    (
        "write-not-resource-entries-with-missing-variables-as-no-resource",
        not_resource_entries_as_no_resource,
    ),
];

fn trigger(name: &str) -> Option<Trigger> {
    TRIGGERS.iter().find(|t| t.0 == name).map(|t| t.1)
}

fn neutralizer(name: &str) -> Option<Neutralizer> {
    NEUTRALIZERS.iter().find(|t| t.0 == name).map(|t| t.1)
}

// ---------------------------------------------------------------- the case's documents

/// Every policy document of a case (its JSON), whatever its type.
fn documents(case: &Value) -> Vec<&Value> {
    let p = &case["policies"];
    let mut out = Vec::new();
    for t in ["identity", "session", "resource"] {
        out.extend(p[t].as_array().into_iter().flatten());
    }
    out.extend(p.get("permissions_boundary"));
    for t in ["scp", "rcp"] {
        for level in p[t].as_array().into_iter().flatten() {
            out.extend(level.as_array().into_iter().flatten());
        }
    }
    out
}

fn documents_mut(case: &mut Value) -> Vec<&mut Value> {
    let Some(p) = case.get_mut("policies").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (t, v) in p.iter_mut() {
        match t.as_str() {
            "identity" | "session" | "resource" => {
                out.extend(v.as_array_mut().into_iter().flatten());
            }
            "permissions_boundary" => out.push(v),
            "scp" | "rcp" => {
                for level in v.as_array_mut().into_iter().flatten() {
                    out.extend(level.as_array_mut().into_iter().flatten());
                }
            }
            _ => {}
        }
    }
    out
}

/// Every statement of the case's documents that substitute variables, to rewrite in place.
fn variable_statements_mut(case: &mut Value) -> Vec<&mut Value> {
    documents_mut(case)
        .into_iter()
        .filter(|d| substitutes_variables(d))
        .flat_map(|d| match d.get_mut("Statement") {
            Some(Value::Array(a)) => a.iter_mut().collect(),
            Some(s @ Value::Object(_)) => vec![s],
            _ => Vec::new(),
        })
        .collect()
}

fn statements(doc: &Value) -> Vec<&Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![&doc["Statement"]],
        _ => Vec::new(),
    }
}

fn substitutes_variables(doc: &Value) -> bool {
    doc["Version"].as_str() == Some("2012-10-17")
}

fn any_string(v: &Value, f: &dyn Fn(&str) -> bool) -> bool {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().any(|x| any_string(x, f)),
        Value::Object(m) => m.values().any(|x| any_string(x, f)),
        _ => false,
    }
}

fn map_strings(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = f(s),
        Value::Array(a) => a.iter_mut().for_each(|x| map_strings(x, f)),
        Value::Object(m) => m.values_mut().for_each(|x| map_strings(x, f)),
        _ => {}
    }
}

// ---------------------------------------------------------------- E: variables outside 2012-10-17

fn variable_outside_2012(case: &Value) -> bool {
    documents(case)
        .into_iter()
        .any(|d| !substitutes_variables(d) && any_string(&d["Statement"], &|s| s.contains("${")))
}

/// `${` becomes `$-{` in the policies that do not substitute variables: the same kind of literal
/// text, which no evaluator takes for a variable.
fn variables_as_plain_text(case: &mut Value) {
    for d in documents_mut(case) {
        if !substitutes_variables(d) {
            if let Some(st) = d.get_mut("Statement") {
                map_strings(st, &|s| s.replace("${", "$-{"));
            }
        }
    }
}

// ---------------------------------------------------------------- E: the ${$} escape

fn dollar_escape(case: &Value) -> bool {
    documents(case)
        .into_iter()
        .any(|d| substitutes_variables(d) && any_string(&d["Statement"], &|s| s.contains("${$}")))
}

/// `${$}` becomes the `$` it stands for (a `$` not followed by `{` is plain text).
fn dollar_escape_as_dollar(case: &mut Value) {
    for d in documents_mut(case) {
        if substitutes_variables(d) {
            if let Some(st) = d.get_mut("Statement") {
                map_strings(st, &|s| s.replace("${$}", "$"));
            }
        }
    }
}

// ---------------------------------------------------------------- E: variables in an untyped resource id

/// The resource part of an ARN (after the fifth colon), when `entry` is an ARN.
fn resource_part(entry: &str) -> Option<&str> {
    let mut n = 0;
    for (i, c) in entry.char_indices() {
        if c == ':' {
            n += 1;
            if n == 5 {
                return entry.starts_with("arn:").then(|| &entry[i + 1..]);
            }
        }
    }
    None
}

/// A `Resource` entry whose resource part has a variable and no resource type (no `/` or `:`
/// before the variable), e.g. an SNS topic name `${aws:PrincipalTag/project}-*`.
fn untyped_with_variable(entry: &str) -> bool {
    resource_part(entry).is_some_and(|r| {
        r.find("${").is_some_and(|at| {
            !r[..at].contains(['/', ':']) && variable_keys(r).len() == r.matches("${").count()
        })
    })
}

fn resource_entries(st: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    for k in ["Resource", "NotResource"] {
        match &st[k] {
            Value::String(s) => out.push(s.as_str()),
            Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    out
}

fn variable_in_untyped_resource(case: &Value) -> bool {
    documents(case)
        .into_iter()
        .filter(|d| substitutes_variables(d))
        .flat_map(statements)
        .any(|s| resource_entries(s).into_iter().any(untyped_with_variable))
}

/// The variables of such entries replaced by their (single) values from the request's context:
/// the documented substitution, written out.
fn substitute_in_untyped_resources(case: &mut Value) {
    let context: Vec<(String, String)> = case["request"]["context"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let substitute = |s: &str| -> String {
        if !untyped_with_variable(s) {
            return s.to_string();
        }
        let mut out = s.to_string();
        for key in variable_keys(s) {
            if let Some((_, v)) = context.iter().find(|(k, _)| *k == key) {
                // The key as written may differ in case: replace every spelling of it.
                while let Some(at) = out.to_ascii_lowercase().find(&format!("${{{key}}}")) {
                    out.replace_range(at..at + key.len() + 3, v);
                }
            }
        }
        out
    };
    for st in variable_statements_mut(case) {
        for k in ["Resource", "NotResource"] {
            if let Some(v) = st.get_mut(k) {
                map_strings(v, &substitute);
            }
        }
    }
}

// ---------------------------------------------------------------- E: the session ARN in a resource policy

fn account_of(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() >= 6 && parts[0] == "arn").then(|| parts[4])
}

fn session_arn_named(case: &Value) -> bool {
    let req = &case["request"];
    let Some(principal) = req["principal"].as_str() else {
        return false;
    };
    // The principal a same-account resource-based policy grants directly: a role session or an
    // IAM user, named by its own ARN.
    let is_session = (principal.starts_with("arn:aws:sts::")
        && (principal.contains(":assumed-role/") || principal.contains(":federated-user/")))
        || (principal.starts_with("arn:aws:iam::") && principal.contains(":user/"));
    let account = account_of(principal);
    let same_account = req["resource_account"]
        .as_str()
        .is_none_or(|a| Some(a) == account);
    let has_session_policy = case["policies"]["session"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    let names_session = case["policies"]["resource"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(statements)
        .any(|s| s["Effect"] == "Allow" && any_string(&s["Principal"]["AWS"], &|p| p == principal));
    is_session && same_account && has_session_policy && names_session
}

fn drop_session_policies(case: &mut Value) {
    if let Some(p) = case.get_mut("policies").and_then(Value::as_object_mut) {
        p.remove("session");
    }
}

// ---------------------------------------------------------------- E: negated operators and missing variables

fn is_negated(op: &str) -> bool {
    let base = op.rsplit(':').next().unwrap_or(op);
    base.starts_with("StringNot") || base.starts_with("ArnNot")
}

/// The keys of the `${key}` variables (without a default) in `text`.
fn variable_keys(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        if !matches!(inner, "*" | "?" | "$") && !inner.contains(',') {
            out.push(inner.trim().to_ascii_lowercase());
        }
        rest = &after[end + 1..];
    }
    out
}

fn context_keys(case: &Value) -> Vec<String> {
    case["request"]["context"]
        .as_object()
        .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

fn names_missing(value: &str, present: &[String]) -> bool {
    variable_keys(value).iter().any(|k| !present.contains(k))
}

fn negated_on_missing_variable(case: &Value) -> bool {
    let present = context_keys(case);
    documents(case)
        .into_iter()
        .filter(|d| substitutes_variables(d))
        .flat_map(statements)
        .filter_map(|s| s["Condition"].as_object())
        .flat_map(|block| block.iter())
        .filter(|(op, _)| is_negated(op))
        .filter_map(|(_, keys)| keys.as_object())
        .flat_map(|keys| keys.values())
        .any(|v| any_string(v, &|s| names_missing(s, &present)))
}

/// Drops, from negated operators, the values whose variable has no value: a value that resolves
/// to nothing matches nothing, so the NOR over the values does not change without it; a key left
/// with no value holds (the documented reading), so it goes too.
fn drop_missing_variable_values(case: &mut Value) {
    let present = context_keys(case);
    for s in variable_statements_mut(case) {
        let Some(obj) = s.as_object_mut() else {
            continue;
        };
        let Some(block) = obj.get_mut("Condition").and_then(Value::as_object_mut) else {
            continue;
        };
        for (op, keys) in block.iter_mut() {
            if !is_negated(op) {
                continue;
            }
            let Some(keys) = keys.as_object_mut() else {
                continue;
            };
            keys.retain(|_, v| match v {
                Value::String(s) => !names_missing(s, &present),
                Value::Array(a) => {
                    a.retain(|x| !x.as_str().is_some_and(|s| names_missing(s, &present)));
                    !a.is_empty()
                }
                _ => true,
            });
        }
        block.retain(|_, keys| keys.as_object().is_none_or(|k| !k.is_empty()));
        if block.is_empty() {
            obj.remove("Condition");
        }
    }
}

// ---------------------------------------------------------------- E: NotResource with a variable without a value

/// The NotResource entries of a statement.
fn not_resource_entries(st: &Value) -> Vec<&str> {
    match &st["NotResource"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn not_resource_with_missing_variable(case: &Value) -> bool {
    let present = context_keys(case);
    documents(case)
        .into_iter()
        .filter(|d| substitutes_variables(d))
        .flat_map(statements)
        .any(|s| {
            not_resource_entries(s)
                .into_iter()
                .any(|e| names_missing(e, &present))
        })
}

/// Such entries written as an ARN of no resource: the documented reading (an entry with a
/// variable that has no value matches no resource), written out.
fn not_resource_entries_as_no_resource(case: &mut Value) {
    const NO_RESOURCE: &str = "arn:aws:keyward:::no-resource-a-variable-without-value-matches";
    let present = context_keys(case);
    let rewrite = |s: &str| {
        if names_missing(s, &present) {
            NO_RESOURCE.to_string()
        } else {
            s.to_string()
        }
    };
    for st in variable_statements_mut(case) {
        if let Some(v) = st.get_mut("NotResource") {
            map_strings(v, &rewrite);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_found_only_outside_2012() {
        let case = |version: Option<&str>| {
            let mut p = json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}});
            if let Some(v) = version {
                p["Version"] = json!(v);
            }
            json!({"id": "x", "policies": {"identity": [p]}, "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": "*"}})
        };
        assert!(variable_outside_2012(&case(None)));
        assert!(variable_outside_2012(&case(Some("2008-10-17"))));
        assert!(!variable_outside_2012(&case(Some("2012-10-17"))));
        let mut c = case(None);
        variables_as_plain_text(&mut c);
        assert!(!variable_outside_2012(&c), "{c}");
        assert!(c.to_string().contains("$-{aws:username}"));
    }

    #[test]
    fn missing_variable_values_are_dropped_from_negated_operators_only() {
        let mut c = json!({"id": "x", "policies": {"identity": [{"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:PrincipalArn": ["a", "${aws:username}"], "aws:SourceVpc": "${aws:PrincipalTag/x}"},
                "StringEquals": {"aws:RequestedRegion": "${aws:username}"}
            }}]}]},
            "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": "*", "context": {"aws:PrincipalTag/x": "v"}}});
        assert!(negated_on_missing_variable(&c));
        drop_missing_variable_values(&mut c);
        let cond = &c["policies"]["identity"][0]["Statement"][0]["Condition"];
        assert_eq!(cond["StringNotEquals"]["aws:PrincipalArn"], json!(["a"]));
        assert_eq!(
            cond["StringNotEquals"]["aws:SourceVpc"],
            json!("${aws:PrincipalTag/x}")
        );
        assert_eq!(
            cond["StringEquals"]["aws:RequestedRegion"],
            json!("${aws:username}")
        );
        assert!(!negated_on_missing_variable(&c));
    }

    #[test]
    fn the_session_arn_must_be_named_exactly_in_the_same_account() {
        let principal = "arn:aws:sts::123456789012:assumed-role/dev/alice";
        let case = |named: &str, account: Option<&str>| {
            let mut req = json!({"principal": principal, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"});
            if let Some(a) = account {
                req["resource_account"] = json!(a);
            }
            json!({"id": "x", "policies": {
                "identity": [],
                "session": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}],
                "resource": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": named}, "Action": "s3:GetObject", "Resource": "*"}}]},
                "request": req})
        };
        assert!(session_arn_named(&case(principal, None)));
        assert!(session_arn_named(&case(principal, Some("123456789012"))));
        assert!(!session_arn_named(&case(principal, Some("444455556666"))));
        assert!(!session_arn_named(&case("*", None)));
        assert!(!session_arn_named(&case(
            "arn:aws:iam::123456789012:role/dev",
            None
        )));
        let mut c = case(principal, None);
        drop_session_policies(&mut c);
        assert!(!session_arn_named(&c));
    }

    #[test]
    fn variables_in_untyped_resource_ids_are_recognised_and_written_out() {
        assert!(untyped_with_variable(
            "arn:aws:sns:*:*:${aws:PrincipalTag/p}-${aws:PrincipalTag/a}-*"
        ));
        assert!(!untyped_with_variable(
            "arn:aws:iam::123456789012:user/${aws:username}"
        ));
        assert!(!untyped_with_variable("arn:aws:sns:*:*:orders"));
        let mut c = json!({"id": "x", "policies": {"identity": [{"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "sns:CreateTopic",
            "Resource": ["arn:aws:sns:*:*:${aws:PrincipalTag/p}-${AWS:principaltag/a}-*"]}}]},
            "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "sns:CreateTopic",
                        "resource": "arn:aws:sns:us-east-1:123456789012:alpha-web-x",
                        "context": {"aws:PrincipalTag/p": "alpha", "aws:PrincipalTag/a": "web"}}});
        assert!(variable_in_untyped_resource(&c));
        substitute_in_untyped_resources(&mut c);
        assert_eq!(
            c["policies"]["identity"][0]["Statement"]["Resource"][0],
            json!("arn:aws:sns:*:*:alpha-web-*")
        );
    }

    #[test]
    fn unknown_names_in_the_file_are_refused() {
        let file = |trigger: &str| {
            json!({"peer": "@cloud-copilot/iam-simulate", "errata": [{
                "id": "E-X", "peer_does": "p", "aws_documents": "a",
                "documented": {"url": "https://docs.aws.amazon.com/x", "quote": "q", "verbatim": true},
                "fixtures": ["f"],
                "recognise": {"trigger": trigger, "neutralize": "drop-session-policies"}}]})
            .to_string()
        };
        assert!(Errata::parse(&file("session-arn-named-by-resource-policy")).is_ok());
        let e = Errata::parse(&file("nope")).unwrap_err();
        assert!(e.contains("unknown trigger \"nope\""), "{e}");
    }
}
