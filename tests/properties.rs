//! Parser properties: on arbitrary JSON or text the policy parser and the case reader either
//! succeed (and what they read writes back to itself) or report an error located where the
//! problem is; parse -> serialize -> parse is the identity on generated policies.

use keyward::case::CaseError;
use keyward::generate::{any_json, policy, GenSettings};
use keyward_iam::{Policy, PolicyError, PolicyErrorKind, PolicyType};
use proptest::prelude::*;
use serde_json::Value;

/// The element a JSON path as the parser writes it (`$`, `.Name`, `["any name"]`, `[3]`) names
/// in `doc`, or `None` when it names nothing there.
fn resolve<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut rest = path.strip_prefix('$')?;
    let mut at = doc;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            at = at.as_object()?.get(&r[..end])?;
            rest = &r[end..];
        } else if rest.starts_with("[\"") {
            // A quoted member is a JSON string: read it as one.
            let mut de = serde_json::Deserializer::from_str(&rest[1..]).into_iter::<String>();
            let name = de.next()?.ok()?;
            let used = de.byte_offset();
            at = at.as_object()?.get(&name)?;
            rest = rest[1 + used..].strip_prefix(']')?;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            at = at.as_array()?.get(r[..end].parse::<usize>().ok()?)?;
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(at)
}

/// The JSON type of a value, as the parser's messages name it.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The last member name of a path, if it ends with one.
fn last_member(path: &str) -> Option<String> {
    if let Some(q) = path.strip_suffix("\"]") {
        let start = q.rfind("[\"")?;
        return serde_json::from_str(&path[start + 1..path.len() - 1]).ok();
    }
    let tail = &path[path.rfind(['.', '[', '$'])?..];
    tail.strip_prefix('.').map(str::to_string)
}

/// What a parse of `doc` must be: a policy that writes back to a document parsing to itself,
/// or an error at a path that names the element it is about (or, for a missing `Statement`,
/// where it belongs), whose kind fits what is there, and whose text leads with that path.
fn check_parse(doc: &Value, t: PolicyType) -> Result<(), TestCaseError> {
    match Policy::parse(doc, t) {
        Ok(p) => {
            let again = Policy::parse(&p.to_json(), t)
                .map_err(|e| TestCaseError::fail(format!("{e}: {} from {doc}", p.to_json())))?;
            prop_assert_eq!(&again, &p);
        }
        Err(e) => check_error(doc, &e)?,
    }
    Ok(())
}

fn check_error(doc: &Value, e: &PolicyError) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    prop_assert!(e.path.starts_with('$'), "{}", shown);
    prop_assert_eq!(&shown, &format!("{}: {}", e.path, e.reason()));
    prop_assert!(!e.kind.aws_message().is_empty(), "{}", shown);
    if e.kind == PolicyErrorKind::MissingStatement {
        prop_assert_eq!(e.path.as_str(), "$.Statement");
        prop_assert!(
            doc.get("Statement").is_none_or(Value::is_null),
            "{} in {}",
            shown,
            doc
        );
        return Ok(());
    }
    let at = resolve(doc, &e.path)
        .ok_or_else(|| TestCaseError::fail(format!("{shown}: the path names nothing in {doc}")))?;
    match &e.kind {
        PolicyErrorKind::NotAnObject(found) => {
            prop_assert_eq!(e.path.as_str(), "$");
            prop_assert_eq!(*found, kind(doc));
        }
        PolicyErrorKind::WrongType { found, .. } => prop_assert_eq!(*found, kind(at), "{}", shown),
        PolicyErrorKind::UnknownElement(name) => {
            prop_assert_eq!(last_member(&e.path), Some(name.clone()), "{}", shown);
        }
        PolicyErrorKind::BadVersion(_) => prop_assert_eq!(e.path.as_str(), "$.Version"),
        PolicyErrorKind::BadEffect(found) => {
            prop_assert_eq!(at.as_str(), Some(found.as_str()), "{}", shown);
        }
        PolicyErrorKind::InvalidCharacter(c) => {
            let in_value = at.as_str().is_some_and(|s| s.contains(*c));
            let in_name = last_member(&e.path).is_some_and(|n| n.contains(*c));
            prop_assert!(in_value || in_name, "{} at {}", shown, at);
        }
        PolicyErrorKind::MissingEffect => {
            prop_assert!(
                at.is_object() && at.get("Effect").is_none(),
                "{} at {}",
                shown,
                at
            );
        }
        _ => {}
    }
    Ok(())
}

/// A file-level error of the case reader: it names the file, no case, and `$`.
fn check_file_error(e: &CaseError) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.file.as_str(), "arbitrary.json");
    prop_assert_eq!(&e.case, &None);
    prop_assert_eq!(e.path.as_str(), "$");
    prop_assert!(!e.message.is_empty());
    prop_assert!(e.to_string().starts_with("arbitrary.json: $: "), "{}", e);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_parser_reads_or_locates_the_problem_of_arbitrary_json(v in any_json()) {
        for t in PolicyType::ALL {
            check_parse(&v, t)?;
        }
        // A case file of one JSON value: an object is one case, an array one case per item,
        // anything else no case file at all. None of the generator's member names is a case's,
        // so each case is refused at its first member (or at `$.id` when it has none).
        match keyward::case::read_cases("arbitrary.json", &v.to_string()) {
            Ok(cases) => {
                let items: Vec<&Value> = match &v {
                    Value::Array(a) => a.iter().collect(),
                    Value::Object(_) => vec![&v],
                    other => return Err(TestCaseError::fail(format!("{other} read as cases"))),
                };
                prop_assert_eq!(cases.len(), items.len());
                for (i, (c, item)) in cases.iter().zip(items).enumerate() {
                    let e = c.as_ref().err().ok_or_else(|| TestCaseError::fail(format!("{item} read as a case")))?;
                    prop_assert_eq!(e.file.as_str(), "arbitrary.json");
                    prop_assert_eq!(e.case.clone(), Some(format!("#{i}")));
                    let want = match item {
                        Value::Object(o) => match o.keys().next() {
                            Some(k) => format!("$.{k}"),
                            None => "$.id".to_string(),
                        },
                        _ => "$".to_string(),
                    };
                    prop_assert_eq!(&e.path, &want, "{}", e);
                    prop_assert!(!e.message.is_empty());
                }
            }
            Err(e) => {
                prop_assert!(!v.is_object() && !v.is_array(), "{} for {}", e, v);
                check_file_error(&e)?;
            }
        }
    }

    #[test]
    fn the_parser_reads_or_locates_the_problem_of_arbitrary_text(s in "\\PC{0,64}") {
        match serde_json::from_str::<Value>(&s) {
            Ok(v) => check_parse(&v, PolicyType::Identity)?,
            Err(_) => {
                let e = Policy::parse_str(&s, PolicyType::Identity)
                    .expect_err("text that is not JSON is not a policy");
                prop_assert!(matches!(e.kind, PolicyErrorKind::InvalidJson(_)), "{}", e);
                prop_assert_eq!(e.path.as_str(), "$");
                prop_assert!(e.to_string().starts_with("$: MalformedPolicyDocument: This policy contains invalid Json ("), "{}", e);
            }
        }
        let first = s.trim_start().chars().next();
        match keyward::case::read_cases("arbitrary.json", &s) {
            Ok(cases) => {
                // Only a text that starts like JSON or a JSON Lines comment is read as cases,
                // and every case it holds is refused or read, in the file's name.
                prop_assert!(matches!(first, Some('{' | '[' | '/')), "{:?}", s);
                for c in &cases {
                    if let Err(e) = c {
                        prop_assert_eq!(e.file.as_str(), "arbitrary.json");
                        prop_assert!(e.case.is_some(), "{}", e);
                        prop_assert!(e.path.starts_with('$'), "{}", e);
                    }
                }
            }
            Err(e) => check_file_error(&e)?,
        }
    }

    #[test]
    fn parse_serialize_parse_is_identity(
        (t, doc) in prop::sample::select(PolicyType::ALL.to_vec())
            .prop_flat_map(|t| (Just(t), policy(&GenSettings::default(), t)))
    ) {
        let p = Policy::parse(&doc, t).map_err(|e| TestCaseError::fail(format!("{e} in {doc}")))?;
        let again = Policy::parse(&p.to_json(), t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &p);
        prop_assert_eq!(again.to_json(), p.to_json());
    }
}
