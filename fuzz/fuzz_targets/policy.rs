//! The policy parser on arbitrary text: every policy type reads it without panicking; an error
//! names a JSON path; a policy it accepts is written back (`to_json`) into a document that reads
//! again to the same policy, and is evaluated and explained against a fixed request.
#![no_main]

use keyward_iam::{evaluate, explain, ContextValue, Policy, PolicySet, PolicyType, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let request = Request::new(
        "arn:aws:iam::123456789012:user/alice",
        "bedrock:CallWithBearerToken",
        "arn:aws:bedrock:us-east-1:123456789012:foundation-model/m",
    )
    .with_context(
        "bedrock:BearerTokenType",
        ContextValue::single("SHORT_TERM"),
    )
    .with_context("aws:SourceIp", ContextValue::single("192.0.2.1"))
    .with_context(
        "aws:CurrentTime",
        ContextValue::single("2025-01-01T00:00:00Z"),
    )
    .with_context("aws:TagKeys", ContextValue::multi(["a", "b"]));
    for t in PolicyType::ALL {
        let policy = match Policy::parse_str(text, t) {
            Ok(p) => p,
            Err(e) => {
                assert!(e.path.starts_with('$'), "error without a JSON path: {e}");
                continue;
            }
        };
        let written = policy.to_json();
        let again = Policy::parse(&written, t)
            .unwrap_or_else(|e| panic!("written-back policy does not read: {e}\n{written}"));
        assert_eq!(again.to_json(), written, "writing back is not stable");
        let set = match t {
            PolicyType::Identity => PolicySet {
                identity: vec![policy],
                ..PolicySet::default()
            },
            PolicyType::PermissionsBoundary => PolicySet {
                permissions_boundary: Some(policy),
                ..PolicySet::default()
            },
            PolicyType::Session => PolicySet {
                session: Some(vec![policy]),
                ..PolicySet::default()
            },
            PolicyType::Scp => PolicySet {
                scp: Some(vec![vec![policy]]),
                ..PolicySet::default()
            },
            PolicyType::Rcp => PolicySet {
                rcp: Some(vec![vec![policy]]),
                ..PolicySet::default()
            },
            PolicyType::Resource => PolicySet {
                resource: vec![policy],
                ..PolicySet::default()
            },
            _ => continue,
        };
        let decision = evaluate(&set, &request);
        let _ = decision.message(&request, &set);
        let explanation = explain(&set, &request);
        let _ = format!("{explanation:?}");
    }
});
