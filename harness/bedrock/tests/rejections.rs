//! Why a scenario is refused without a policy deciding it ([`Rejection`]): each kind of rejected
//! key, and each key-creation refusal that is not an authorization denial, with its one line.
//! The outcomes themselves are tested in `scenarios`; here, that the reason matches them.

use keyward_bedrock::{
    CallScenario, CreateKeyScenario, Endpoint, Flow, KeySpec, Operation, Rejection, ServiceName,
    TokenError, TokenType, UserName,
};
use keyward_iam::{Policy, PolicySet, PolicyType};
use serde_json::json;

use crate::support::base64;

const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";
const USER: &str = "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z";

fn policies(doc: serde_json::Value) -> PolicySet {
    PolicySet {
        identity: vec![Policy::parse(&doc, PolicyType::Identity).unwrap()],
        ..PolicySet::default()
    }
}

fn allow_all() -> PolicySet {
    policies(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
    )
}

fn call(key: KeySpec) -> CallScenario {
    CallScenario {
        operation: Operation::Converse,
        key,
        model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
        region: "eu-west-1".into(),
        endpoint: Endpoint::BedrockRuntime,
        at: None,
        context: Vec::new(),
        destinations: None,
    }
}

/// The rejection of a call, checking that no request was made and that the outcome is a refusal.
#[track_caller]
fn rejection(c: &CallScenario) -> Rejection {
    let r = c.run(&allow_all());
    assert!(r.steps.is_empty() && r.decision.is_none(), "{c:?}");
    assert_ne!(r.outcome.status, 200);
    r.rejection.expect("a rejected key says why")
}

#[test]
fn no_key() {
    let r = rejection(&call(KeySpec::Absent));
    assert_eq!(r, Rejection::Absent);
    assert!(r.to_string().contains("no Authorization header"), "{r}");
}

#[test]
fn a_key_of_another_region_names_both_regions() {
    let c = call(KeySpec::ShortTerm {
        principal: SESSION.into(),
        region: "us-east-1".into(),
        issued_at: None,
        expires_in: 900,
    });
    let r = rejection(&c);
    assert_eq!(
        r,
        Rejection::WrongRegion {
            issued_for: "us-east-1".into(),
            used_in: "eu-west-1".into()
        }
    );
    assert!(
        r.to_string()
            .starts_with("the key was issued for us-east-1 and used in eu-west-1"),
        "{r}"
    );
    // On bedrock-mantle the answer differs (401), the reason does not.
    let mut m = c.clone();
    m.endpoint = Endpoint::BedrockMantle;
    assert_eq!(rejection(&m), r);
}

#[test]
fn an_expired_key_names_when_it_expired() {
    // 2026-06-01T00:00:00Z = 1780272000.
    let issued = 1_780_272_000;
    let mut c = call(KeySpec::ShortTerm {
        principal: SESSION.into(),
        region: "eu-west-1".into(),
        issued_at: Some(issued),
        expires_in: 3600,
    });
    c.at = Some(issued + 3600);
    let r = rejection(&c);
    assert_eq!(
        r,
        Rejection::Expired {
            expired_at: issued + 3600,
            at: issued + 3600
        }
    );
    assert!(
        r.to_string().starts_with(
            "the key expired at 2026-06-01T01:00:00Z (the call is at 2026-06-01T01:00:00Z)"
        ),
        "{r}"
    );
    // A second earlier it is accepted, and nothing was rejected.
    c.at = Some(issued + 3599);
    let ok = c.run(&allow_all());
    assert_eq!((ok.outcome.status, ok.rejection), (200, None));

    let mut c = call(KeySpec::LongTerm {
        user: USER.into(),
        active: true,
        expires_at: Some(issued),
    });
    c.at = Some(issued + 43_200);
    let r = rejection(&c);
    assert!(
        r.to_string().starts_with(
            "the key expired at 2026-06-01T00:00:00Z (the call is at 2026-06-01T12:00:00Z)"
        ),
        "{r}"
    );
}

#[test]
fn an_inactive_long_term_key_names_its_user() {
    let r = rejection(&call(KeySpec::LongTerm {
        user: USER.into(),
        active: false,
        expires_at: None,
    }));
    assert_eq!(r, Rejection::Inactive { user: USER.into() });
    assert!(r.to_string().contains(USER) && r.to_string().contains("inactive"));
}

#[test]
fn a_malformed_value_says_what_is_wrong_with_it() {
    let malformed = |s: &str| rejection(&call(KeySpec::Malformed(s.into())));
    // Without a known prefix, and the guess at what was passed instead.
    let r = malformed("Bearer bedrock-api-key-abc");
    assert!(
        matches!(r, Rejection::Malformed(TokenError::UnknownPrefix { .. })),
        "{r:?}"
    );
    assert!(r.to_string().contains("starts with neither"), "{r}");
    assert!(r.to_string().contains("`Bearer `"), "{r}");
    // A prefix in the wrong case.
    let r = malformed("absk-whatever");
    assert!(r.to_string().contains("case-sensitive"), "{r}");
    // The right prefix, and what follows does not parse.
    let r = malformed("ABSK%%%%");
    assert!(
        matches!(r, Rejection::Malformed(TokenError::BadBase64 { .. })),
        "{r:?}"
    );
    assert!(r.to_string().contains("not standard base64"), "{r}");
    let r = malformed("");
    assert_eq!(r, Rejection::Malformed(TokenError::Empty));
}

#[test]
fn a_well_formed_literal_key_is_not_one_aws_issued_and_its_secret_is_not_printed() {
    let secret = "bG9uZy10ZXJtLXNlY3JldC12YWx1ZQEXAMPLE";
    let raw = format!(
        "ABSK{}",
        base64(format!("BedrockAPIKey-h42z+1-at-123456789012:{secret}"))
    );
    let r = rejection(&call(KeySpec::Malformed(raw.clone())));
    assert_eq!(r, Rejection::NotIssued(TokenType::LongTerm));
    let text = r.to_string();
    assert!(
        !text.contains(secret) && !text.contains(&raw[4..20]),
        "{text}"
    );
}

#[test]
fn a_call_decided_by_a_policy_has_no_rejection() {
    let deny = policies(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}),
    );
    let r = call(KeySpec::ShortTerm {
        principal: SESSION.into(),
        region: "eu-west-1".into(),
        issued_at: None,
        expires_in: 900,
    })
    .run(&deny);
    assert_eq!(r.outcome.status, 403);
    assert_eq!(r.rejection, None);
    assert!(!r.steps.is_empty());
}

fn create() -> CreateKeyScenario {
    CreateKeyScenario {
        caller: SESSION.into(),
        user: UserName::new("bob").unwrap(),
        service: ServiceName::bedrock(),
        age_days: Some(30),
        flow: Flow::Api,
        existing_keys: 0,
        user_exists: true,
    }
}

#[test]
fn key_creation_refusals_that_no_policy_decides() {
    let set = allow_all();
    let why = |c: &CreateKeyScenario| c.run(&set).rejection;
    assert_eq!(why(&create()), None, "created");

    let mut c = create();
    c.age_days = Some(36_601);
    let r = why(&c).unwrap();
    assert_eq!(r, Rejection::AgeOutOfRange { asked: 36_601 });
    assert!(r.to_string().contains("36601 is outside 1-36600"), "{r}");
    assert!(c.run(&set).steps.is_empty(), "refused before authorization");

    let mut c = create();
    c.user_exists = false;
    let r = why(&c).unwrap();
    assert_eq!(
        r,
        Rejection::NoSuchUser {
            user: UserName::new("bob").unwrap()
        }
    );
    assert!(r.to_string().contains("bob does not exist"), "{r}");

    let mut c = create();
    c.service = ServiceName::new("example.amazonaws.com").unwrap();
    let r = why(&c).unwrap();
    assert!(matches!(r, Rejection::UnsupportedService { .. }), "{r:?}");
    assert!(r.to_string().contains("example.amazonaws.com"), "{r}");

    let mut c = create();
    c.existing_keys = 2;
    let r = why(&c).unwrap();
    assert!(
        matches!(
            r,
            Rejection::LimitExceeded {
                held: 2,
                limit: 2,
                ..
            }
        ),
        "{r:?}"
    );
    assert!(
        r.to_string()
            .contains("already holds 2 credentials for bedrock.amazonaws.com"),
        "{r}"
    );

    // Denied by a policy: the decision says why, not a rejection.
    let deny = policies(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}}),
    );
    let mut c = create();
    c.existing_keys = 2;
    assert_eq!(c.run(&deny).rejection, None);
}
