//! Scenario expansion: a scenario case (JSON text) is read (`keyward::case::Case::from_json`),
//! expanded into its authorization requests and run against its policies, without a panic; an
//! error names a JSON path under `$`. The outcome is printed (its `Display`) and the requests of
//! a call are expanded for both kinds of key.
#![no_main]

use keyward::case::{Case, Query};
use keyward_bedrock::{Scenario, TokenType};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if v.get("scenario").is_none() {
        return;
    }
    let case = match Case::from_json(&v) {
        Ok(case) => case,
        Err(e) => {
            assert!(e.path.starts_with('$'), "an error names a JSON path: {e}");
            return;
        }
    };
    let Query::Scenario(s) = &case.query else {
        panic!("a case with a scenario read as a request");
    };
    let result = s.run(&case.policies);
    let _ = result.outcome.to_string();
    match &s.scenario {
        Scenario::Call(call) => {
            for t in [TokenType::ShortTerm, TokenType::LongTerm] {
                let _ = call.requests("arn:aws:iam::123456789012:user/alice", t);
            }
            let _ = call.model_resources("123456789012");
        }
        Scenario::CreateKey(create) => {
            let _ = create.requests();
        }
    }
    let verdict = case.verdict();
    assert_eq!(verdict.outcome.as_ref(), Some(&result.outcome));
});
