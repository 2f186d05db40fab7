//! The bad-policy corpus of the repository (tests/malformed/policy-*.jsonl), parsed by this crate
//! alone: each bad policy is rejected at the JSON path its `// expect: error` line names, with a
//! reason holding every fragment of that line (IAM's words, then keyward's detail), and each good
//! case the corpus mixes in parses and gets its decision. The corpus's own format is described in
//! tests/malformed.rs at the root; errors of the case format itself (not of a policy) are the
//! harness's, and are left to that test.

use keyward_iam::{evaluate, DecisionKind, Policy, PolicyError, PolicyType};
use serde_json::Value;

use crate::support::{policy_set, request};

/// Every policy of a `policies` member with the JSON path of its document, in document order;
/// `None` when the member's shape is itself wrong (a case-format error).
fn documents(policies: &Value) -> Option<Vec<(String, PolicyType, Value)>> {
    // A policy is an object; a wrapper (`{name, arn, document}`) holds the document one level
    // down and strings beside it. Anything else is the case format's error.
    let one = |at: String, t: PolicyType, v: &Value| {
        let o = v.as_object()?;
        match o.get("document") {
            Some(doc) => o
                .iter()
                .all(|(k, x)| {
                    k == "document" || (matches!(k.as_str(), "name" | "arn") && x.is_string())
                })
                .then(|| (format!("{at}.document"), t, doc.clone())),
            None => Some((at, t, v.clone())),
        }
    };
    let mut found = Vec::new();
    for (k, v) in policies.as_object()? {
        let at = format!("$.policies.{k}");
        let t: PolicyType = k.parse().ok()?;
        match t {
            PolicyType::PermissionsBoundary => found.push(one(at, t, v)?),
            PolicyType::Scp | PolicyType::Rcp => {
                for (l, level) in v.as_array()?.iter().enumerate() {
                    for (i, p) in level.as_array()?.iter().enumerate() {
                        found.push(one(format!("{at}[{l}][{i}]"), t, p)?);
                    }
                }
            }
            _ => {
                for (i, p) in v.as_array()?.iter().enumerate() {
                    found.push(one(format!("{at}[{i}]"), t, p)?);
                }
            }
        }
    }
    Some(found)
}

/// The first policy error of a case, with the path prefixed as the case file places it.
fn first_error(policies: &Value) -> Option<Result<PolicyError, ()>> {
    let Some(docs) = documents(policies) else {
        return Some(Err(()));
    };
    docs.into_iter()
        .find_map(|(at, t, doc)| Policy::parse(&doc, t).err().map(|e| Ok(e.prefixed(&at))))
}

#[test]
fn every_bad_policy_is_rejected_where_and_as_the_corpus_says() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("policy-") && name.ends_with(".jsonl")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "policy corpus files: {files:?}");
    let (mut errors, mut decisions, mut wrong) = (0, 0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut want: Option<&str> = None;
        for line in text.lines() {
            if let Some(w) = line.strip_prefix("// expect: ") {
                want = Some(w);
                continue;
            }
            if line.starts_with("//") || line.trim().is_empty() {
                continue;
            }
            let case: Value = serde_json::from_str(line).unwrap();
            let id = case["id"].as_str().unwrap_or("?").to_string();
            let place = format!("{}: {id}", file.display());
            let want = want
                .take()
                .unwrap_or_else(|| panic!("{place}: no expect line"));
            let got = first_error(&case["policies"]);
            if let Some(rest) = want.strip_prefix("error ") {
                let (path, fragments) = rest.split_once(": ").unwrap();
                match got {
                    Some(Ok(e)) => {
                        errors += 1;
                        let reason = e.reason();
                        if e.path != path {
                            wrong.push(format!("{place}: path {} instead of {path}", e.path));
                        }
                        for f in fragments.split(" … ") {
                            if !reason.contains(f) {
                                wrong.push(format!("{place}: {reason:?} lacks {f:?}"));
                            }
                        }
                    }
                    Some(Err(())) => {}
                    None if path.starts_with("$.policies") => {
                        wrong.push(format!("{place}: no policy error, expected {rest}"))
                    }
                    None => {}
                }
            } else if let Some(rest) = want.strip_prefix("decision ") {
                if let Some(Ok(e)) = got {
                    wrong.push(format!("{place}: rejected ({e}), expected a decision"));
                    continue;
                }
                decisions += 1;
                let decision: DecisionKind = rest.split(',').next().unwrap().parse().unwrap();
                let d = evaluate(&policy_set(&case["policies"]), &request(&case["request"]));
                if d.kind != decision {
                    wrong.push(format!("{place}: {} instead of {decision}", d.kind));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        errors >= 80 && decisions >= 5,
        "{errors} errors, {decisions} decisions checked"
    );
}
