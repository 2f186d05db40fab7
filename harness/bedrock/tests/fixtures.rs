//! The repository's scenario fixtures (documented, article, observed), run by this crate alone:
//! each call or key creation gets the outcome its fixture gives (decision, the policy type named,
//! status, IAM error code, body, message and side effects, where given). The scenarios are read
//! here by a reader of this crate's tests (the case format's validating reader is the harness's);
//! anything it does not expect fails the test.

use keyward_bedrock::{
    parse_time, CallScenario, ContextEntry, CreateKeyScenario, Endpoint, Flow, KeySpec, Operation,
    Scenario, ServiceName, UserName,
};
use keyward_iam::ContextValue;
use serde_json::Value;

use crate::iam_support::policy_set;

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn time(v: &Value, k: &str) -> Option<i64> {
    match v.get(k)? {
        Value::String(s) => Some(parse_time(s).expect(s)),
        n => Some(n.as_i64().unwrap()),
    }
}

fn key(v: &Value) -> KeySpec {
    if v == "none" {
        return KeySpec::Absent;
    }
    if let Some(t) = text(v, "token") {
        return KeySpec::Malformed(t);
    }
    match v["type"].as_str().unwrap() {
        "SHORT_TERM" => KeySpec::ShortTerm {
            principal: text(v, "principal").unwrap(),
            region: text(v, "region").unwrap(),
            issued_at: time(v, "issued_at"),
            expires_in: v
                .get("expires_in")
                .map_or(43200, |n| n.as_u64().unwrap() as u32),
        },
        "LONG_TERM" => KeySpec::LongTerm {
            user: text(v, "user").unwrap(),
            active: text(v, "status").is_none_or(|s| s == "Active"),
            expires_at: time(v, "expires_at"),
        },
        t => panic!("key type {t}"),
    }
}

fn scenario(v: &Value) -> Scenario {
    if let Some(c) = v.get("call") {
        let context = c
            .get("context")
            .and_then(Value::as_object)
            .into_iter()
            .flatten();
        return Scenario::Call(CallScenario {
            operation: Operation::parse(c["operation"].as_str().unwrap()).unwrap(),
            key: key(&c["key"]),
            model: text(c, "model").unwrap(),
            region: text(c, "region").unwrap(),
            endpoint: match c["endpoint"].as_str() {
                None | Some("bedrock-runtime") => Endpoint::BedrockRuntime,
                Some("bedrock-mantle") => Endpoint::BedrockMantle,
                Some(e) => panic!("endpoint {e}"),
            },
            at: time(c, "at"),
            context: context
                .map(|(k, x)| ContextEntry {
                    key: k.clone(),
                    value: match x {
                        Value::Array(a) => {
                            ContextValue::multi(a.iter().map(|s| s.as_str().unwrap()))
                        }
                        Value::String(s) => ContextValue::single(s.as_str()),
                        other => ContextValue::single(other.to_string()),
                    },
                })
                .collect(),
            destinations: c
                .get("destinations")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect()),
        });
    }
    let c = &v["create_key"];
    Scenario::CreateKey(CreateKeyScenario {
        caller: text(c, "caller").unwrap(),
        user: UserName::new(c["user"].as_str().unwrap()).unwrap(),
        service: text(c, "service")
            .map_or_else(ServiceName::bedrock, |s| ServiceName::new(&s).unwrap()),
        age_days: c.get("age_days").and_then(Value::as_i64),
        flow: match c["flow"].as_str() {
            None | Some("api") => Flow::Api,
            Some("console") => Flow::Console,
            Some(f) => panic!("flow {f}"),
        },
        existing_keys: c
            .get("existing_keys")
            .map_or(0, |n| n.as_u64().unwrap() as u32),
        user_exists: c.get("user_exists").is_none_or(|b| b.as_bool().unwrap()),
    })
}

#[test]
fn every_scenario_fixture_gets_its_outcome() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    let (mut seen, mut wrong) = (0, Vec::new());
    for file in files {
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in cases.iter().filter(|c| c.get("scenario").is_some()) {
            seen += 1;
            let place = format!("{}: {}", file.display(), case["id"].as_str().unwrap());
            let set = policy_set(&case["policies"]);
            let res = scenario(&case["scenario"]).run(&set);
            let want = &case["expect"];
            let o = &res.outcome;
            let got = serde_json::json!({
                "decision": res.decision.as_ref().map(|d| d.kind.as_str()),
                "by": res.decision.as_ref().and_then(|d| d.by).map(|b| b.as_str()),
                "message": res.message,
                "status": o.status,
                "code": o.code.map(|c| c.as_str()),
                "body": o.body,
                "side_effects": o.side_effect_texts(),
            });
            // The assumptions a fixture names must be ones the outcome rests on (that it names
            // every one the fields it expects rest on is the harness's `check`).
            let rests_on: Vec<&str> = res
                .iam_assumptions(&set)
                .iter()
                .map(|a| a.as_str())
                .chain(res.assumptions.iter().copied())
                .collect();
            for named in want["assumptions"].as_array().into_iter().flatten() {
                let named = named.as_str().unwrap();
                if !rests_on.contains(&named) {
                    wrong.push(format!("{place}: names {named}, which it does not rest on"));
                }
            }
            for (k, w) in want.as_object().unwrap() {
                // Messages and bodies may hold placeholders that stand for any value.
                let agree = match (k.as_str(), w.as_str(), got.get(k).and_then(Value::as_str)) {
                    ("message" | "body", Some(w), Some(g)) => keyward_iam::messages_agree(w, g),
                    _ => got.get(k) == Some(w),
                };
                if k != "assumptions" && !w.is_null() && !agree {
                    wrong.push(format!("{place}: expected {k} {w}, got {}", got[k]));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(seen >= 30, "only {seen} scenario fixtures");
}
