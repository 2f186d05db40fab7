//! What credentials, statuses and outcomes print: the parts a person needs (ids, services,
//! aliases, dates, statuses, HTTP status, code, body, side effects), beside the secrets that
//! redaction.rs checks are hidden.

use std::time::Duration;

use keyward_bedrock::{
    AccountId, AgeDays, CreateKeyScenario, CredentialId, CredentialStatus, CredentialStore, Flow,
    ServiceName, SettableStatus, UserName,
};
use keyward_iam::PolicySet;

use crate::support::signed_at;

#[test]
fn a_credential_prints_its_id_service_alias_dates_and_status() {
    let mut store = CredentialStore::new();
    let user = UserName::new("BedrockAPIKey-h42z").unwrap();
    let account = AccountId::new("123456789012").unwrap();
    let age = AgeDays::new(5).unwrap();
    assert_eq!(age.to_string(), "5 days");
    let c = store
        .create(
            &user,
            &account,
            &ServiceName::bedrock(),
            Some(age),
            signed_at(),
        )
        .unwrap()
        .clone();
    let id = c.id().as_str().to_string();
    assert_eq!(c.id().to_string(), id);
    assert_eq!(id.parse::<CredentialId>().unwrap(), *c.id());
    assert!(id.len() >= 20, "{id}");
    let alias = c.alias().to_string();
    assert!(alias.starts_with("BedrockAPIKey-h42z"), "{alias}");
    let shown = c.to_string();
    assert_eq!(
        shown,
        format!(
            "bedrock.amazonaws.com credential {id} ({alias}), created 2025-07-01T00:00:00Z, \
             expires 2025-07-06T00:00:00Z, stored status Active, secret [redacted]"
        )
    );
    let debug = format!("{c:?}");
    for part in [
        "ServiceSpecificCredential",
        id.as_str(),
        "bedrock.amazonaws.com",
        alias.as_str(),
        "2025-07-01T00:00:00Z",
        "Some(5)",
        "Active",
    ] {
        assert!(debug.contains(part), "{debug} lacks {part}");
    }
    // A credential without an age never expires.
    let forever = store
        .create(&user, &account, &ServiceName::bedrock(), None, signed_at())
        .unwrap();
    assert!(
        forever.to_string().contains(", never expires, "),
        "{forever}"
    );
    // Statuses print as IAM's StatusType values.
    for (s, name) in [
        (CredentialStatus::Active, "Active"),
        (CredentialStatus::Inactive, "Inactive"),
        (CredentialStatus::Expired, "Expired"),
    ] {
        assert_eq!((s.as_str(), s.to_string()), (name, name.to_string()));
    }
    assert_eq!(
        c.status_at(signed_at() + Duration::from_secs(6 * 86_400)),
        CredentialStatus::Expired
    );
    let id = c.id().clone();
    store.update_status(&id, SettableStatus::Inactive).unwrap();
    assert_eq!(
        store.get(&id).unwrap().status_at(signed_at()),
        CredentialStatus::Inactive
    );
}

#[test]
fn an_outcome_prints_status_code_body_and_side_effects() {
    let create = CreateKeyScenario {
        caller: "arn:aws:iam::123456789012:user/admin".into(),
        user: UserName::new("bob").unwrap(),
        service: ServiceName::bedrock(),
        age_days: Some(5),
        flow: Flow::Console,
        existing_keys: 0,
        user_exists: true,
    };
    // No policy allows: IAM refuses, and the console's first step is all that happens.
    let denied = create.run(&PolicySet::default()).outcome;
    assert!(!denied.is_success());
    let text = denied.to_string();
    assert!(
        text.starts_with(&format!(
            "HTTP {} AccessDenied\n<ErrorResponse",
            denied.status
        )),
        "{text}"
    );
    assert!(
        text.ends_with("</ErrorResponse>"),
        "the body without its trailing newline: {text}"
    );
    let allow_all = PolicySet {
        identity: vec![keyward_iam::Policy::parse(
            &serde_json::json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
            keyward_iam::PolicyType::Identity,
        )
        .unwrap()],
        ..PolicySet::default()
    };
    let done = create.run(&allow_all).outcome;
    assert!(done.is_success());
    // A success has no body: the side effects follow the status line.
    assert_eq!(
        done.to_string(),
        "HTTP 200\n\
         side effect: CreateUser bob\n\
         side effect: AttachUserPolicy bob arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess\n\
         side effect: CreateServiceSpecificCredential bob bedrock.amazonaws.com 5 days"
    );
}

/// Operations and endpoints read back from the names cases and reports write, and a name they
/// do not know is refused with the list.
#[test]
fn operations_and_endpoints_read_back_their_names() {
    use keyward_bedrock::{Endpoint, Operation};
    let names: Vec<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "Converse",
            "ConverseStream",
            "InvokeModel",
            "InvokeModelWithResponseStream",
            "CountTokens"
        ]
    );
    for o in Operation::ALL {
        assert_eq!(Operation::parse(o.name()), Some(o));
        assert_eq!(o.name().parse::<Operation>().unwrap(), o);
    }
    assert_eq!(Operation::parse("converse"), None);
    let e = "InvokeModelWithBidirectionalStream"
        .parse::<Operation>()
        .unwrap_err();
    assert!(e.to_string().contains("CountTokens"), "{e}");
    for (e, name) in [
        (Endpoint::BedrockRuntime, "bedrock-runtime"),
        (Endpoint::BedrockMantle, "bedrock-mantle"),
    ] {
        assert_eq!(e.name(), name);
        assert_eq!(name.parse::<Endpoint>().unwrap(), e);
    }
    let e = "bedrock".parse::<Endpoint>().unwrap_err();
    assert!(
        e.to_string().contains("bedrock-runtime or bedrock-mantle"),
        "{e}"
    );
}

/// Keys and credentials print what identifies them, never what signs.
#[test]
fn keys_print_what_identifies_them() {
    use keyward_bedrock::{
        classify, generate, CredentialAlias, ExpiresIn, LongTermKey, SigningCredentials, TokenType,
    };
    let alias = CredentialAlias::new(
        UserName::new("BedrockAPIKey-h42z").unwrap(),
        None,
        AccountId::new("123456789012").unwrap(),
    );
    let key = LongTermKey::new(alias, "not-a-real-secret-0123456789").unwrap();
    let shown = "long-term Bedrock API key BedrockAPIKey-h42z-at-123456789012 (secret [redacted])";
    assert_eq!(key.to_string(), shown);
    let bearer = classify(&key.expose_bearer()).unwrap();
    assert_eq!(
        bearer.to_string(),
        shown,
        "a bearer token prints as the key it holds"
    );
    let debug = format!("{key:?}");
    assert!(
        debug.starts_with("LongTermKey") && debug.contains("BedrockAPIKey-h42z-at-123456789012"),
        "{debug}"
    );
    let creds = SigningCredentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    assert!(
        creds.to_string().starts_with("AWS credentials AKIA"),
        "{creds}"
    );
    assert!(creds.to_string().ends_with("(long-term)"), "{creds}");
    let temporary = creds.clone().with_session_token("FQoGZXIvYXdzEXAMPLE");
    assert!(
        temporary.to_string().ends_with("(temporary)"),
        "{temporary}"
    );
    let expires = ExpiresIn::new(900).unwrap();
    assert_eq!(expires.to_string(), "900 s");
    let token = generate(&creds, "us-east-1", signed_at(), expires).unwrap();
    let bearer = classify(&token.expose_bearer()).unwrap();
    assert_eq!(bearer.to_string(), token.to_string());
    assert!(bearer.to_string().contains("us-east-1"), "{bearer}");
    assert_eq!(
        (TokenType::ShortTerm.noun(), TokenType::LongTerm.noun()),
        ("short-term", "long-term")
    );
}

#[test]
fn flows_read_back_their_names() {
    for (f, name) in [(Flow::Api, "api"), (Flow::Console, "console")] {
        assert_eq!(f.name(), name);
        assert_eq!(name.parse::<Flow>().unwrap(), f);
    }
    let e = "cli".parse::<Flow>().unwrap_err();
    assert!(e.to_string().contains("api or console"), "{e}");
}
