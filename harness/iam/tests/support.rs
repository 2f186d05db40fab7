//! What the test modules share: the repository's request fixtures, read by a reader of this
//! crate's own (the case format's full reader, with its located errors, lives in the harness
//! crate above this one; this one panics on anything it does not expect, which is a failed test).

use std::path::{Path, PathBuf};

use keyward_iam::{ContextValue, DecisionKind, Policy, PolicyMeta, PolicySet, PolicyType, Request};
use serde_json::Value;

/// One request fixture: its policies, its request and what AWS answers.
pub struct Fixture {
    pub place: String,
    pub policies: PolicySet,
    pub request: Request,
    pub decision: DecisionKind,
    pub by: Option<PolicyType>,
    pub message: Option<String>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Every request case under fixtures/ (scenario cases are the Bedrock crate's), in file order.
pub fn request_fixtures() -> Vec<Fixture> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
        for case in cases.iter().filter(|c| c.get("request").is_some()) {
            let place = format!("{}: {}", file.display(), case["id"].as_str().unwrap());
            out.push(fixture(place, case));
        }
    }
    out
}

fn fixture(place: String, case: &Value) -> Fixture {
    let expect = &case["expect"];
    let name = |v: &Value| v.as_str().map(|s| s.parse().expect(&place));
    Fixture {
        policies: policy_set(&case["policies"]),
        request: request(&case["request"]),
        decision: name(&expect["decision"]).unwrap(),
        by: expect["by"].as_str().map(|s| s.parse().expect(&place)),
        message: expect["message"].as_str().map(str::to_string),
        place,
    }
}

fn policy(v: &Value, t: PolicyType) -> Policy {
    match v.get("document") {
        Some(doc) => Policy::parse(doc, t).unwrap().with_meta(PolicyMeta {
            name: v["name"].as_str().map(str::to_string),
            arn: v["arn"].as_str().map(str::to_string),
            source: None,
        }),
        None => Policy::parse(v, t).unwrap(),
    }
}

fn list(v: &Value, t: PolicyType) -> Vec<Policy> {
    v.as_array().unwrap().iter().map(|p| policy(p, t)).collect()
}

fn levels(v: &Value, t: PolicyType) -> Option<Vec<Vec<Policy>>> {
    v.as_array()
        .map(|ls| ls.iter().map(|l| list(l, t)).collect())
}

/// A `policies` member: absent or null types are not in play.
pub fn policy_set(v: &Value) -> PolicySet {
    let present = |k: &str| v.get(k).filter(|x| !x.is_null());
    PolicySet {
        identity: present("identity").map_or_else(Vec::new, |x| list(x, PolicyType::Identity)),
        permissions_boundary: present("permissions_boundary")
            .map(|x| policy(x, PolicyType::PermissionsBoundary)),
        session: present("session").map(|x| list(x, PolicyType::Session)),
        scp: present("scp").and_then(|x| levels(x, PolicyType::Scp)),
        rcp: present("rcp").and_then(|x| levels(x, PolicyType::Rcp)),
        resource: present("resource").map_or_else(Vec::new, |x| list(x, PolicyType::Resource)),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `request` member.
pub fn request(v: &Value) -> Request {
    let s = |k: &str| v[k].as_str().unwrap();
    let mut req = Request::new(s("principal"), s("action"), s("resource"));
    if let Some(a) = v["resource_account"].as_str() {
        req = req.with_resource_account(a);
    }
    for (k, x) in v["context"].as_object().into_iter().flatten() {
        let value = match x {
            Value::Array(a) => ContextValue::multi(a.iter().map(scalar)),
            x => ContextValue::single(scalar(x)),
        };
        req = req.with_context(k, value);
    }
    req
}

/// The context keys of a request, as a test table writes them.
pub type ContextRow<'a> = Vec<(&'a str, ContextValue)>;

/// Every `.rs` file of a `tests/` directory is declared as a module in its `main.rs` (Cargo's
/// discovery of test targets is off, so an undeclared file would never run).
pub fn assert_every_test_file_is_declared(tests: &Path) {
    let main = std::fs::read_to_string(tests.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(tests).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "main" {
            assert!(
                main.lines().any(|l| l == format!("mod {stem};")),
                "{}: {stem}.rs is not declared in main.rs, so it never runs",
                tests.display()
            );
        }
    }
}
