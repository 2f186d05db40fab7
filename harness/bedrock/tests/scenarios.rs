//! Scenario expansion and outcomes: the requests a call or a key creation makes, in order, with
//! their context keys, and what the caller sees.

use keyward_bedrock::{
    Assumption, CallScenario, CreateKeyScenario, Endpoint, Flow, KeySpec, Operation, Scenario,
    ScenarioResult,
};
use keyward_bedrock::{IamErrorCode, ServiceName, UserName};
use keyward_iam::{DecisionKind, Policy, PolicySet, PolicyType, Request};
use serde_json::json;

const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";
const USER: &str = "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z";

fn identity(doc: serde_json::Value) -> PolicySet {
    PolicySet {
        identity: vec![Policy::parse(&doc, PolicyType::Identity).unwrap()],
        ..PolicySet::default()
    }
}

fn allow_all() -> PolicySet {
    identity(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
    )
}

fn call(key: KeySpec) -> CallScenario {
    CallScenario {
        operation: Operation::Converse,
        key,
        model: "us.anthropic.claude-3-5-haiku-20241022-v1:0".into(),
        region: "us-east-1".into(),
        endpoint: Endpoint::BedrockRuntime,
        at: None,
        context: Vec::new(),
        destinations: None,
    }
}

fn short(issued_at: Option<i64>, expires_in: u32) -> KeySpec {
    KeySpec::ShortTerm {
        principal: SESSION.into(),
        region: "us-east-1".into(),
        issued_at,
        expires_in,
    }
}

fn value(r: &Request, key: &str) -> Option<String> {
    r.context.get(key).map(|v| v.values().join(","))
}

/// The outcome `r` is a modelling choice, not a documented fact: it rests on the registered
/// assumption `id` (keyward-bedrock's register), and the result says so.
#[track_caller]
fn assert_rests_on(r: &ScenarioResult, id: &str) {
    assert!(
        Assumption::find(id).is_some(),
        "{id} is not a registered assumption"
    );
    assert!(
        r.assumptions.contains(&id),
        "the outcome rests on assumption {id}, but the result names {:?}",
        r.assumptions
    );
}

/// `r` rests on no Bedrock-key assumption: what it shows is documented or observed.
#[track_caller]
fn assert_rests_on_nothing(r: &ScenarioResult) {
    assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
}

/// The requests' order is keyward's model, not documented: assumption B-CALL-ORDER (the order)
/// and B-BEARER-TYPE-ONLY-FIRST (the token type on the first request only). Which resources are
/// authorized is documented: the profile in the call's Region, the foundation model there and in
/// each destination (B-CRIS-DESTINATIONS for the default US list, B-CRIS-REQUESTED-REGION for
/// the Region a destination's request carries).
#[test]
fn a_profile_call_is_bearer_then_profile_then_foundation_model_by_assumption_b_call_order() {
    let c = call(short(None, 43200));
    let reqs = c.requests(SESSION, keyward_bedrock::TokenType::ShortTerm);
    let shape: Vec<(&str, &str)> = reqs.iter().map(|r| (r.action(), r.resource())).collect();
    assert_eq!(
        shape,
        [
            ("bedrock:CallWithBearerToken", "*"),
            ("bedrock:InvokeModel", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"),
            ("bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"),
            ("bedrock:InvokeModel", "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"),
            ("bedrock:InvokeModel", "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"),
        ]
    );
    assert_eq!(
        value(&reqs[0], "bedrock:BearerTokenType").as_deref(),
        Some("SHORT_TERM")
    );
    assert_eq!(
        value(&reqs[1], "bedrock:BearerTokenType"),
        None,
        "assumption B-BEARER-TYPE-ONLY-FIRST: the token type is on CallWithBearerToken only"
    );
    let regions: Vec<Option<String>> = reqs
        .iter()
        .map(|r| value(r, "aws:RequestedRegion"))
        .collect();
    assert_eq!(
        regions,
        [
            "us-east-1",
            "us-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-2"
        ]
        .map(|r| Some(r.into())),
        "a destination's request carries its Region (B-CRIS-REQUESTED-REGION)"
    );
    for r in &reqs {
        assert_eq!(
            value(r, "aws:PrincipalArn").as_deref(),
            Some("arn:aws:iam::123456789012:role/dev")
        );
        assert_eq!(
            value(r, "aws:PrincipalType").as_deref(),
            Some("AssumedRole")
        );
        assert_eq!(value(r, "aws:username"), None);
        assert_eq!(r.principal(), SESSION);
    }
    // What a caller sees follows from that order: a denied model request rests on it. A call
    // allowed in every Region rests on no destination list.
    let deny_model = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*"}
    ]}));
    assert_rests_on(&c.run(&deny_model), "B-CALL-ORDER");
    assert_rests_on_nothing(&c.run(&allow_all()));
}

#[test]
fn models_operations_and_endpoints() {
    let mut c = call(short(None, 43200));
    c.model = "anthropic.claude-3-5-haiku-20241022-v1:0".into();
    c.operation = Operation::ConverseStream;
    let reqs = c.requests(USER, keyward_bedrock::TokenType::LongTerm);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].action(), "bedrock:InvokeModelWithResponseStream");
    assert_eq!(
        value(&reqs[0], "aws:username").as_deref(),
        Some("BedrockAPIKey-h42z")
    );
    c.model = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/my-profile".into();
    assert_eq!(
        c.requests(USER, keyward_bedrock::TokenType::LongTerm)[1].resource(),
        c.model
    );
    // One request through bedrock-mantle is keyward's model (assumption B-MANTLE-ONE-REQUEST).
    c.endpoint = Endpoint::BedrockMantle;
    let reqs = c.requests(USER, keyward_bedrock::TokenType::LongTerm);
    assert_eq!(
        reqs.len(),
        1,
        "assumption B-MANTLE-ONE-REQUEST: mantle authorizes bedrock-mantle:CallWithBearerToken only"
    );
    assert_eq!(reqs[0].action(), "bedrock-mantle:CallWithBearerToken");
    assert_eq!(
        value(&reqs[0], "bedrock-mantle:BearerTokenType").as_deref(),
        Some("LONG_TERM")
    );
    // A bedrock: deny that this one request escapes: the call's success rests on it.
    let deny_bedrock = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}
    ]}));
    let r = c.run(&deny_bedrock);
    assert!(r.outcome.is_success());
    assert_rests_on(&r, "B-MANTLE-ONE-REQUEST");
}

#[test]
fn short_term_keys_expire_at_issue_plus_lifetime_and_are_bound_to_a_region() {
    let set = allow_all();
    let mut c = call(short(Some(1_000), 3600));
    c.at = Some(1_000 + 3599);
    assert_eq!(c.run(&set).outcome.status, 200);
    c.at = Some(1_000 + 3600);
    let r = c.run(&set);
    assert_eq!(r.outcome.status, 403);
    assert!(r.steps.is_empty() && r.decision.is_none());
    // An expired short-term key: the text is observed for long-term keys only (assumption
    // B-EXPIRED-MESSAGE).
    assert_eq!(r.outcome.body, r#"{"Message":"Bearer Token has expired"}"#);
    assert_rests_on(&r, "B-EXPIRED-MESSAGE");
    let mut c = call(short(None, 43200));
    c.region = "eu-west-1".into();
    let r = c.run(&set);
    assert_eq!(r.outcome.status, 403);
    assert_eq!(
        r.outcome.body,
        r#"{"Message":"Authentication failed: Please make sure your API Key is valid."}"#
    );
    // Observed for another region's key (docs/aws-behaviour.md §8): nothing assumed.
    assert_rests_on_nothing(&r);
    // Expired and in another region: expiry is what is reported, because keyward judges
    // expiry first (assumption B-EXPIRED-MESSAGE).
    let mut c = call(short(Some(1_000), 60));
    c.region = "eu-west-1".into();
    c.at = Some(2_000);
    let r = c.run(&set);
    assert_eq!(
        r.outcome.body, r#"{"Message":"Bearer Token has expired"}"#,
        "assumption B-EXPIRED-MESSAGE: expiry is judged before the key's region"
    );
    assert_rests_on(&r, "B-EXPIRED-MESSAGE");
}

/// The call's time, when given, is the request's aws:CurrentTime and aws:EpochTime.
#[test]
fn the_calls_time_is_in_every_request() {
    let mut c = call(short(Some(1_751_328_000), 43200));
    c.at = Some(1_751_328_061);
    let r = c.run(&allow_all());
    assert!(r.outcome.is_success());
    for s in &r.steps {
        assert_eq!(
            value(&s.request, "aws:CurrentTime").as_deref(),
            Some("2025-07-01T00:01:01Z")
        );
        assert_eq!(
            value(&s.request, "aws:EpochTime").as_deref(),
            Some("1751328061")
        );
    }
}

#[test]
fn a_call_without_a_key_is_refused_before_authorization() {
    let r = call(KeySpec::Absent).run(&allow_all());
    assert_eq!(r.outcome.status, 403);
    assert!(r.steps.is_empty() && r.decision.is_none());
    assert_eq!(
        r.outcome.body,
        r#"{"Message":"Authorization header is missing"}"#
    );
}

/// Observed for a value without a known prefix only; every other refused key answers the same by
/// assumption B-MANTLE-AUTH-401, the body's members are B-MANTLE-ENVELOPE, and an accepted key's
/// denial keeps bedrock-runtime's 403 by B-DENY-STATUS-403.
#[test]
fn bedrock_mantle_rejects_keys_with_401_in_its_own_envelope_by_assumptions_b_mantle_auth_401_and_envelope(
) {
    let set = allow_all();
    let mantle = |key| CallScenario {
        endpoint: Endpoint::BedrockMantle,
        ..call(key)
    };
    let invalid = r#"{"error":{"code":"invalid_api_key","message":"Invalid bearer token"}}"#;
    let mut expired = mantle(short(Some(1_000), 60));
    expired.at = Some(2_000);
    let mut other_region = mantle(short(None, 43200));
    other_region.region = "eu-west-1".into();
    for c in [
        mantle(KeySpec::Malformed("no-key-required".into())),
        mantle(KeySpec::Malformed("bedrock-api-key-%%%".into())),
        mantle(KeySpec::Absent),
        expired,
        other_region,
        mantle(KeySpec::LongTerm {
            user: USER.into(),
            active: false,
            expires_at: None,
        }),
    ] {
        let r = c.run(&set);
        assert_eq!(r.outcome.status, 401, "{:?}", c.key);
        assert_eq!(r.outcome.body, invalid, "{:?}", c.key);
        assert!(r.outcome.code.is_none() && r.steps.is_empty() && r.decision.is_none());
        assert_rests_on(&r, "B-MANTLE-ENVELOPE");
        let observed = matches!(&c.key, KeySpec::Malformed(v) if v == "no-key-required");
        if !observed {
            assert_rests_on(&r, "B-MANTLE-AUTH-401");
        }
    }
    // A key mantle accepts still goes to authorization: a denial there keeps its 403.
    let r = mantle(short(None, 43200)).run(&identity(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
    ));
    assert_eq!(
        r.outcome.status, 403,
        "assumption B-DENY-STATUS-403, kept for bedrock-mantle"
    );
    assert_rests_on(&r, "B-DENY-STATUS-403");
    assert!(r
        .outcome
        .body
        .contains("not authorized to perform: bedrock-mantle:CallWithBearerToken"));
    // The same malformed value on bedrock-runtime keeps bedrock-runtime's answer.
    let r = call(KeySpec::Malformed("no-key-required".into())).run(&set);
    assert_eq!(
        (r.outcome.status, r.outcome.body.as_str()),
        (
            403,
            r#"{"Message":"Invalid API Key format: Must start with pre-defined prefix"}"#
        )
    );
}

#[test]
fn long_term_keys_inactive_or_expired_are_rejected() {
    let set = allow_all();
    let key = |active, expires_at| KeySpec::LongTerm {
        user: USER.into(),
        active,
        expires_at,
    };
    assert_eq!(call(key(true, None)).run(&set).outcome.status, 200);
    // An inactive key's answer is not observed (assumption B-AUTH-FAILED-MESSAGE).
    let r = call(key(false, None)).run(&set);
    assert_eq!(r.outcome.status, 403);
    assert_rests_on(&r, "B-AUTH-FAILED-MESSAGE");
    let mut c = call(key(true, Some(5_000)));
    c.at = Some(4_999);
    assert_eq!(c.run(&set).outcome.status, 200);
    c.at = Some(5_000);
    // An expired long-term key: 403 is observed, its order against the other checks is not
    // (assumption B-EXPIRED-MESSAGE).
    let r = c.run(&set);
    assert_eq!(r.outcome.status, 403);
    assert_rests_on(&r, "B-EXPIRED-MESSAGE");
}

/// That the model action is authorized after the key's request, that the first denial is what
/// the caller sees, and that it is a 403, are keyward's model: assumptions B-CALL-ORDER and
/// B-DENY-STATUS-403.
#[test]
fn the_first_denied_request_stops_the_call_by_assumptions_b_call_order_and_b_deny_status_403() {
    let set = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:*:*:inference-profile/*"}
    ]}));
    let r = call(short(None, 43200)).run(&set);
    assert_eq!(r.steps.len(), 2, "assumption B-CALL-ORDER");
    assert_eq!(
        r.decision.as_ref().map(|d| d.kind),
        Some(DecisionKind::ExplicitDeny)
    );
    assert_eq!(r.outcome.status, 403, "assumption B-DENY-STATUS-403");
    assert_rests_on(&r, "B-CALL-ORDER");
    assert_rests_on(&r, "B-DENY-STATUS-403");
    assert!(r.outcome.body.starts_with("{\"Message\":\"User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/"));
}

fn create(age_days: Option<i64>) -> CreateKeyScenario {
    CreateKeyScenario {
        caller: SESSION.into(),
        user: UserName::new("bob").unwrap(),
        service: ServiceName::bedrock(),
        age_days,
        flow: Flow::Api,
        existing_keys: 0,
        user_exists: true,
    }
}

/// That a key asked for without an age carries no `iam:ServiceSpecificCredentialAgeDays` is not
/// documented: it is assumption B-AGEDAYS-ABSENT (docs/aws-behaviour.md §2.3, open question 1).
#[test]
fn the_age_key_is_present_only_when_an_age_is_asked_for_by_assumption_b_agedays_absent() {
    let with = create(Some(30)).create_request();
    assert_eq!(with.action(), "iam:CreateServiceSpecificCredential");
    assert_eq!(with.resource(), "arn:aws:iam::123456789012:user/bob");
    assert_eq!(
        value(&with, "iam:ServiceSpecificCredentialAgeDays").as_deref(),
        Some("30")
    );
    assert_eq!(
        value(&with, "iam:ServiceSpecificCredentialServiceName").as_deref(),
        Some("bedrock.amazonaws.com")
    );
    let without = create(None).create_request();
    assert_eq!(
        value(&without, "iam:ServiceSpecificCredentialAgeDays"),
        None,
        "assumption B-AGEDAYS-ABSENT: a never-expiring key's request has no age key"
    );
    // Where a policy reads the key, the outcome of an age-less request rests on it.
    let null_guard = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
         "Condition": {"Null": {"iam:ServiceSpecificCredentialAgeDays": "true"}}}
    ]}));
    assert_rests_on(&create(None).run(&null_guard), "B-AGEDAYS-ABSENT");
}

/// The gap docs/aws-behaviour.md §2.3 infers: a NumericGreaterThan guard does not stop a
/// never-expiring key; a Null guard does. Both rest on assumption B-AGEDAYS-ABSENT (the age key
/// is absent, not present with some value, for a key without an age); a key with an age is
/// judged by the documented condition alone.
#[test]
fn a_numeric_guard_lets_a_never_expiring_key_through_and_a_null_guard_does_not_by_assumption_b_agedays_absent(
) {
    let numeric = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "5"}}}
    ]}));
    let r = create(Some(30)).run(&numeric);
    assert_eq!(r.outcome.status, 403);
    assert!(
        !r.assumptions.contains(&"B-AGEDAYS-ABSENT"),
        "{:?}",
        r.assumptions
    );
    let r = create(None).run(&numeric);
    assert_eq!(r.outcome.status, 200, "assumption B-AGEDAYS-ABSENT");
    assert_rests_on(&r, "B-AGEDAYS-ABSENT");
    let null = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
         "Condition": {"Null": {"iam:ServiceSpecificCredentialAgeDays": "true"}}}
    ]}));
    let r = create(None).run(&null);
    assert_eq!(r.outcome.status, 403, "assumption B-AGEDAYS-ABSENT");
    assert_rests_on(&r, "B-AGEDAYS-ABSENT");
    let r = create(Some(30)).run(&null);
    assert_eq!(r.outcome.status, 200);
    assert_rests_on_nothing(&r);
}

/// The range of ages is documented; the rest is keyward's model: the validation text
/// (B-AGE-VALIDATION-MESSAGE), constraints checked before authorization (B-CREATE-ORDER), the
/// limit's text (B-LIMIT-MESSAGE) and the unsupported service's (B-NOT-SUPPORTED-MESSAGE).
#[test]
fn validation_limits_and_entities_by_the_create_assumptions() {
    let set = allow_all();
    for (age, status) in [
        (Some(0), 400),
        (Some(1), 200),
        (Some(36600), 200),
        (Some(36601), 400),
        (Some(-3), 400),
    ] {
        let r = create(age).run(&set);
        assert_eq!(r.outcome.status, status, "{age:?}");
        if status == 400 {
            assert_eq!(r.outcome.code, Some(IamErrorCode::ValidationError));
            assert_rests_on(&r, "B-AGE-VALIDATION-MESSAGE");
            assert!(
                r.steps.is_empty(),
                "assumption B-CREATE-ORDER: constraints are checked before authorization"
            );
        }
    }
    // A bad age that authorization would deny too: the ValidationError the caller sees rests
    // on the order.
    let deny = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*"}
    ]}));
    let r = create(Some(0)).run(&deny);
    assert_eq!(r.outcome.code, Some(IamErrorCode::ValidationError));
    assert!(r.steps.is_empty(), "assumption B-CREATE-ORDER");
    assert_rests_on(&r, "B-CREATE-ORDER");
    let mut c = create(Some(5));
    c.existing_keys = 1;
    assert_eq!(c.run(&set).outcome.status, 200);
    c.existing_keys = 2;
    let r = c.run(&set);
    assert_eq!(r.outcome.code, Some(IamErrorCode::LimitExceeded));
    assert_rests_on(&r, "B-LIMIT-MESSAGE");
    for service in ["s3.amazonaws.com", "s3", "Bedrock.amazonaws.com"] {
        let mut c = create(Some(5));
        c.service = ServiceName::new(service).unwrap();
        let r = c.run(&set);
        assert_eq!(
            r.outcome.code,
            Some(IamErrorCode::NotSupportedService),
            "{service}"
        );
        assert_rests_on(&r, "B-NOT-SUPPORTED-MESSAGE");
    }
    let mut c = create(Some(5));
    c.user_exists = false;
    assert_eq!(c.run(&set).outcome.code, Some(IamErrorCode::NoSuchEntity));
}

/// The console's steps are documented; that they are authorized as the caller, first, and not
/// undone is assumption B-CONSOLE-STEPS.
#[test]
fn the_console_creates_the_user_and_attaches_the_policy_first_by_assumption_b_console_steps() {
    let mut c = create(Some(5));
    c.flow = Flow::Console;
    let reqs = c.requests();
    let actions: Vec<&str> = reqs.iter().map(|r| r.action()).collect();
    assert_eq!(
        actions,
        [
            "iam:CreateUser",
            "iam:AttachUserPolicy",
            "iam:CreateServiceSpecificCredential"
        ]
    );
    assert_eq!(
        value(&reqs[1], "iam:PolicyARN").as_deref(),
        Some("arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess")
    );
    let deny_user = identity(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}
    ]}));
    let r = Scenario::CreateKey(c).run(&deny_user);
    assert_eq!(r.outcome.code, Some(IamErrorCode::AccessDenied));
    assert!(r.outcome.side_effects.is_empty());
    assert_eq!(r.steps.len(), 1, "assumption B-CONSOLE-STEPS");
    assert_rests_on(&r, "B-CONSOLE-STEPS");
}

#[test]
fn side_effects_read_as_the_case_format_writes_them() {
    let set = allow_all();
    let mut c = create(Some(5));
    c.flow = Flow::Console;
    assert_eq!(
        c.run(&set).outcome.side_effect_texts(),
        [
            "CreateUser bob",
            "AttachUserPolicy bob arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess",
            "CreateServiceSpecificCredential bob bedrock.amazonaws.com 5 days",
        ]
    );
    let mut c = create(None);
    c.existing_keys = 1;
    assert_eq!(
        c.run(&set).outcome.side_effect_texts(),
        ["CreateServiceSpecificCredential bob bedrock.amazonaws.com never expires"]
    );
    // What was done before a later refusal stays done.
    c.flow = Flow::Console;
    c.existing_keys = 2;
    let r = c.run(&set);
    assert_eq!(r.outcome.code, Some(IamErrorCode::LimitExceeded));
    assert_eq!(r.outcome.side_effects.len(), 2);
    assert!(r
        .outcome
        .body
        .contains("ServiceSpecificCredentialsPerUser: 2"));
}

/// What a scenario's outcome rests on: forms of the answer, orders, and the assumptions whose
/// other reading changes which request is denied.
mod rests_on {
    use super::*;

    fn policies(statements: serde_json::Value) -> PolicySet {
        identity(json!({"Version": "2012-10-17", "Statement": statements}))
    }

    const ALLOW_ALL: fn() -> serde_json::Value =
        || json!({"Effect": "Allow", "Action": "*", "Resource": "*"});

    #[test]
    fn a_call_allowed_by_documented_rules_rests_on_nothing_of_the_key_model() {
        let c = call(short(None, 43200));
        let mut c = c;
        c.model = "anthropic.claude-3-5-haiku-20241022-v1:0".into();
        let r = c.run(&allow_all());
        assert!(r.outcome.is_success());
        assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
    }

    /// The IAM side: every request's decision and the denied one's message. An inline policy's
    /// explicit deny carries no ARN (A-INLINE-NO-ARN); a documented allow rests on nothing.
    #[test]
    fn the_iam_assumptions_are_those_of_the_requests_and_the_message() {
        use keyward_iam::AssumptionId;
        let deny_bearer = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}]));
        let r = call(short(None, 43200)).run(&deny_bearer);
        assert_eq!(
            r.iam_assumptions(&deny_bearer).iter().collect::<Vec<_>>(),
            [AssumptionId::InlineNoArn]
        );
        let r = call(short(None, 43200)).run(&allow_all());
        assert!(r.iam_assumptions(&allow_all()).is_empty());
        // A plain operator on the multivalued tag keys, deciding the model request's Allow.
        let tags = policies(json!([
            {"Effect": "Allow", "Action": "bedrock:CallWithBearerToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:TagKeys": "team"}}}]));
        let mut c = call(short(None, 43200));
        c.context.push(keyward_bedrock::ContextEntry {
            key: "aws:TagKeys".into(),
            value: keyward_iam::ContextValue::multi(["team", "cost"]),
        });
        let r = c.run(&tags);
        assert!(r.outcome.is_success());
        assert!(r.iam_assumptions(&tags).contains(AssumptionId::PlainMulti));
    }

    #[test]
    fn a_denied_call_rests_on_the_403_form_and_on_the_order_when_the_model_action_denies() {
        let deny_bearer = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}]));
        let r = call(short(None, 43200)).run(&deny_bearer);
        assert_eq!(r.assumptions, ["B-DENY-STATUS-403"]);

        let deny_model = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*"}]));
        let r = call(short(None, 43200)).run(&deny_model);
        assert!(
            r.assumptions.contains(&"B-CALL-ORDER"),
            "{:?}",
            r.assumptions
        );
        assert!(r.assumptions.contains(&"B-DENY-STATUS-403"));
    }

    /// The order decides what is seen when the model request is the one denied, or when the
    /// key's own request is denied and a later one would be too; not when only the key's is.
    #[test]
    fn the_call_order_counts_past_the_first_request_or_with_a_later_denial() {
        let fm = |mut c: CallScenario| {
            c.model = "anthropic.claude-3-5-haiku-20241022-v1:0".into();
            c
        };
        let deny = |action: &str| {
            policies(json!([ALLOW_ALL(), {"Effect": "Deny", "Action": action, "Resource": "*"}]))
        };
        let r = fm(call(short(None, 43200))).run(&deny("bedrock:InvokeModel"));
        assert_eq!(r.steps.len(), 2);
        assert_eq!(r.assumptions, ["B-DENY-STATUS-403", "B-CALL-ORDER"]);
        let r = fm(call(short(None, 43200))).run(&deny("bedrock:*"));
        assert_eq!(r.steps.len(), 1, "the first denial stops the call");
        assert_eq!(r.assumptions, ["B-DENY-STATUS-403", "B-CALL-ORDER"]);
        let r = fm(call(short(None, 43200))).run(&deny("bedrock:CallWithBearerToken"));
        assert_eq!(r.assumptions, ["B-DENY-STATUS-403"]);
    }

    /// Without `destinations` a profile call rests on the default list (B-CRIS-DESTINATIONS)
    /// when the destinations' requests are reached and a Region on no list would decide
    /// otherwise, or a destination's denial is what is seen; not when every Region is allowed,
    /// nor when an earlier request is denied.
    #[test]
    fn a_profile_call_rests_on_the_default_destinations_when_they_decide() {
        let profile = call(short(None, 43200));
        let r = profile.run(&allow_all());
        assert_eq!(r.steps.len(), 5);
        assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
        let two_regions = policies(json!([
            {"Effect": "Allow", "Action": "bedrock:CallWithBearerToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [
                "arn:aws:bedrock:*:*:inference-profile/*",
                "arn:aws:bedrock:us-east-1::foundation-model/*",
                "arn:aws:bedrock:us-east-2::foundation-model/*",
                "arn:aws:bedrock:us-west-2::foundation-model/*"]}]));
        let r = profile.run(&two_regions);
        assert!(r.outcome.is_success());
        assert_eq!(r.assumptions, ["B-CRIS-DESTINATIONS"]);
        let deny_fm = policies(
            json!([ALLOW_ALL(), {"Effect": "Deny", "Action": "bedrock:InvokeModel",
            "Resource": "arn:aws:bedrock:us-west-2::foundation-model/*"}]),
        );
        let r = profile.run(&deny_fm);
        assert_eq!(r.steps.len(), 5);
        assert!(
            r.assumptions.contains(&"B-CRIS-DESTINATIONS"),
            "{:?}",
            r.assumptions
        );
        let deny_bearer = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}]));
        let r = profile.run(&deny_bearer);
        assert_eq!(r.assumptions, ["B-DENY-STATUS-403"]);
        // A case that states its destinations rests on no default.
        let mut stated = call(short(None, 43200));
        stated.destinations = Some(vec!["us-east-1".into(), "us-east-2".into()]);
        let r = stated.run(&two_regions);
        assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
    }

    /// A policy reading aws:RequestedRegion decides a destination's request by the Region it
    /// carries (B-CRIS-REQUESTED-REGION); one that does not read it does not rest on it.
    #[test]
    fn a_region_condition_rests_on_the_destination_requested_region() {
        let mut c = call(short(None, 43200));
        c.destinations = Some(vec!["us-east-1".into(), "us-east-2".into()]);
        let home_only = policies(json!([
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]));
        let r = c.run(&home_only);
        assert_eq!(
            r.decision.as_ref().map(|d| d.kind),
            Some(DecisionKind::ImplicitDeny)
        );
        assert_eq!(
            r.routes_text().as_deref(),
            Some("allowed when routed to us-east-1, denied when routed to us-east-2")
        );
        assert!(
            r.assumptions.contains(&"B-CRIS-REQUESTED-REGION"),
            "{:?}",
            r.assumptions
        );
        let r = c.run(&allow_all());
        assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
    }

    /// IAM's answers: a refusal by policy rests on the resource form, and on the order when
    /// another check would fail too; unsupported services and the limit on their messages.
    #[test]
    fn key_creation_refusals_rest_on_their_forms() {
        let deny = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*"}]));
        assert_eq!(
            create(Some(5)).run(&deny).assumptions,
            ["B-IAM-RESOURCE-FORM"]
        );
        let mut c = create(Some(5));
        c.user_exists = false;
        assert_eq!(
            c.run(&deny).assumptions,
            ["B-IAM-RESOURCE-FORM", "B-CREATE-ORDER"]
        );
        let mut c = create(Some(5));
        c.service = ServiceName::new("example.amazonaws.com").unwrap();
        let r = c.run(&allow_all());
        assert_eq!(r.outcome.code, Some(IamErrorCode::NotSupportedService));
        assert_eq!(r.assumptions, ["B-NOT-SUPPORTED-MESSAGE"]);
        let mut c = create(Some(5));
        c.existing_keys = 2;
        let r = c.run(&allow_all());
        assert_eq!(r.outcome.code, Some(IamErrorCode::LimitExceeded));
        assert_eq!(r.assumptions, ["B-LIMIT-MESSAGE"]);
        // An age outside IAM's range: its constraint, in AWS's generic wording.
        for (age, bound) in [
            (0, "greater than or equal to 1"),
            (36601, "less than or equal to 36600"),
        ] {
            let r = create(Some(age)).run(&allow_all());
            assert_eq!(r.outcome.code, Some(IamErrorCode::ValidationError));
            assert!(r.outcome.body.contains(&format!("Value '{age}' at 'credentialAgeDays' failed to satisfy constraint: Member must have value {bound}")), "{}", r.outcome.body);
        }
    }

    /// A key created with an age is judged on that age: the missing-age reading is moot.
    #[test]
    fn a_key_with_an_age_does_not_rest_on_the_missing_age() {
        let set = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
             "Condition": {"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30"}}}]));
        let r = create(Some(5)).run(&set);
        assert!(r.outcome.is_success());
        assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
    }

    #[test]
    fn a_token_type_condition_on_the_model_action_rests_on_where_the_key_is_set() {
        // Never true as keyward reads it (the key is only on CallWithBearerToken), so the call
        // is allowed; were the key on the model action too, it would be denied.
        let set = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*",
             "Condition": {"StringEquals": {"bedrock:BearerTokenType": "SHORT_TERM"}}}]));
        let r = call(short(None, 43200)).run(&set);
        assert!(r.outcome.is_success());
        assert!(
            r.assumptions.contains(&"B-BEARER-TYPE-ONLY-FIRST"),
            "{:?}",
            r.assumptions
        );
    }

    #[test]
    fn a_mantle_call_past_a_bedrock_only_deny_rests_on_one_request() {
        let set = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*"}]));
        let mut c = call(short(None, 43200));
        c.endpoint = Endpoint::BedrockMantle;
        let r = c.run(&set);
        assert!(r.outcome.is_success());
        assert_eq!(r.assumptions, ["B-MANTLE-ONE-REQUEST"]);
        // Nothing bedrock: denies: the same call rests on nothing.
        assert!(c.run(&allow_all()).assumptions.is_empty());
    }

    #[test]
    fn a_never_expiring_key_past_an_age_guard_rests_on_the_missing_age() {
        let set = policies(json!([ALLOW_ALL(),
            {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
             "Condition": {"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30"}}}]));
        let r = create(None).run(&set);
        assert!(r.outcome.is_success());
        assert_eq!(r.assumptions, ["B-AGEDAYS-ABSENT"]);
        // With an age, the documented condition decides.
        assert!(create(Some(90))
            .run(&set)
            .assumptions
            .contains(&"B-IAM-RESOURCE-FORM"));
        assert!(!create(Some(90))
            .run(&set)
            .assumptions
            .contains(&"B-AGEDAYS-ABSENT"));
    }

    #[test]
    fn a_region_condition_on_key_creation_rests_on_iams_region() {
        let set = policies(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]));
        let r = create(Some(5)).run(&set);
        assert!(r.outcome.is_success());
        assert_eq!(r.assumptions, ["B-IAM-REGION"]);
    }

    #[test]
    fn several_failures_rest_on_the_order_they_are_checked_in() {
        let mut c = create(Some(5));
        c.user_exists = false;
        c.existing_keys = 2;
        let r = c.run(&allow_all());
        assert_eq!(r.outcome.code, Some(IamErrorCode::NoSuchEntity));
        assert_eq!(r.assumptions, ["B-CREATE-ORDER"]);
        c.existing_keys = 0;
        assert!(c.run(&allow_all()).assumptions.is_empty());
    }

    #[test]
    fn a_rejected_key_rests_only_on_what_no_report_shows() {
        let set = allow_all();
        let mut expired = call(short(Some(0), 900));
        expired.at = Some(1000);
        assert_eq!(expired.run(&set).assumptions, ["B-EXPIRED-MESSAGE"]);
        // Another region's key: observed, so nothing assumed.
        let mut elsewhere = call(short(None, 900));
        elsewhere.region = "eu-west-1".into();
        assert!(elsewhere.run(&set).assumptions.is_empty());
        let mut mantle = expired.clone();
        mantle.endpoint = Endpoint::BedrockMantle;
        assert_eq!(
            mantle.run(&set).assumptions,
            ["B-MANTLE-AUTH-401", "B-MANTLE-ENVELOPE"]
        );
        mantle.key = KeySpec::Malformed("no-key-required".into());
        assert_eq!(mantle.run(&set).assumptions, ["B-MANTLE-ENVELOPE"]);
    }

    #[test]
    fn a_bad_age_beside_a_later_failure_rests_on_the_order() {
        let mut c = create(Some(0));
        assert_eq!(
            c.run(&allow_all()).assumptions,
            ["B-AGE-VALIDATION-MESSAGE"]
        );
        c.user_exists = false;
        assert_eq!(
            c.run(&allow_all()).assumptions,
            ["B-AGE-VALIDATION-MESSAGE", "B-CREATE-ORDER"]
        );
    }

    #[test]
    fn only_a_value_without_a_known_prefix_is_an_observed_rejection() {
        let mut c = call(short(None, 900));
        c.key = KeySpec::Malformed("no-key-required".into());
        assert!(c.run(&allow_all()).assumptions.is_empty());
        c.key = KeySpec::Malformed(String::new());
        assert_eq!(c.run(&allow_all()).assumptions, ["B-AUTH-FAILED-MESSAGE"]);
    }
}

/// Cross-Region inference: AWS authorizes the foundation model in each destination Region of a
/// system inference profile ("Geographic cross-Region inference", IAM policy requirements), so a
/// call is allowed only when every route is, and otherwise meets the first route's denial.
mod cross_region {
    use super::*;

    const FM: &str = "anthropic.claude-3-5-sonnet-20241022-v2:0";

    fn sonnet(destinations: Option<&[&str]>) -> CallScenario {
        let mut c = call(short(None, 43200));
        c.model = format!("us.{FM}");
        c.destinations = destinations.map(|d| d.iter().map(|r| r.to_string()).collect());
        c
    }

    /// The user's policy: the profile anywhere, the foundation model in two US Regions only.
    fn two_regions() -> PolicySet {
        identity(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "bedrock:CallWithBearerToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [
                format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{FM}"),
                format!("arn:aws:bedrock:us-east-1::foundation-model/{FM}"),
                format!("arn:aws:bedrock:us-west-2::foundation-model/{FM}")]}]}))
    }

    #[test]
    fn a_us_profile_routed_to_a_region_the_policy_leaves_out_is_denied_there() {
        let r = sonnet(Some(&["us-east-1", "us-east-2", "us-west-2"])).run(&two_regions());
        assert!(!r.outcome.is_success(), "{}", r.outcome);
        assert_eq!(r.outcome.status, 403);
        assert_eq!(
            r.decision.as_ref().map(|d| d.kind),
            Some(DecisionKind::ImplicitDeny)
        );
        let m = r.message.as_deref().unwrap();
        assert!(
            m.contains(&format!(
                "on resource: arn:aws:bedrock:us-east-2::foundation-model/{FM}"
            )),
            "{m}"
        );
        assert_eq!(
            r.routes_text().as_deref(),
            Some(
                "allowed when routed to us-east-1, denied when routed to us-east-2, \
                 allowed when routed to us-west-2"
            )
        );
        let kinds: Vec<(&str, DecisionKind)> = r
            .routes
            .iter()
            .map(|x| (x.region.as_str(), x.decision))
            .collect();
        assert_eq!(
            kinds,
            [
                ("us-east-1", DecisionKind::Allow),
                ("us-east-2", DecisionKind::ImplicitDeny),
                ("us-west-2", DecisionKind::Allow)
            ]
        );
        // The destinations were stated: the outcome rests on no default list.
        assert!(
            !r.assumptions.contains(&"B-CRIS-DESTINATIONS"),
            "{:?}",
            r.assumptions
        );
    }

    #[test]
    fn a_region_wildcard_on_the_foundation_model_allows_every_route() {
        let set = identity(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "bedrock:CallWithBearerToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/*",
                format!("arn:aws:bedrock:*::foundation-model/{FM}")]}]}));
        for c in [
            sonnet(Some(&["us-east-1", "us-east-2", "us-west-2"])),
            sonnet(None),
        ] {
            let r = c.run(&set);
            assert!(r.outcome.is_success(), "{}", r.outcome);
            assert!(r.routes.iter().all(|x| x.decision == DecisionKind::Allow));
            assert_eq!(r.routes.len(), 3);
            assert!(r.assumptions.is_empty(), "{:?}", r.assumptions);
        }
    }

    /// Without `destinations` a `us.` profile takes the documented US list (B-CRIS-DESTINATIONS):
    /// the user's policy is denied in us-east-2 as with the list stated.
    #[test]
    fn the_default_us_list_is_used_when_the_case_gives_none() {
        let c = sonnet(None);
        assert_eq!(
            c.destination_regions(),
            ["us-east-1", "us-east-2", "us-west-2"]
        );
        let r = c.run(&two_regions());
        assert_eq!(r.outcome.status, 403);
        assert!(r
            .routes_text()
            .unwrap()
            .contains("denied when routed to us-east-2"));
        assert_rests_on(&r, "B-CRIS-DESTINATIONS");
        // Other geographies have no list keyward carries: the call's Region alone.
        let mut eu = sonnet(None);
        eu.model = format!("eu.{FM}");
        eu.region = "eu-west-1".into();
        assert_eq!(eu.destination_regions(), ["eu-west-1"]);
        let mut plain = sonnet(None);
        plain.model = FM.into();
        assert!(plain.destination_regions().is_empty());
    }

    /// The outcome is the denial of the first route denied, in the list's order, with its kind
    /// and policy type; every route is reported.
    #[test]
    fn the_first_denied_destination_in_list_order_is_what_the_caller_sees() {
        let set = identity(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": [
                "*"]},
            {"Effect": "Deny", "Action": "bedrock:InvokeModel",
             "Resource": format!("arn:aws:bedrock:us-west-2::foundation-model/{FM}")},
            {"Effect": "Deny", "Action": "bedrock:InvokeModel",
             "Resource": format!("arn:aws:bedrock:us-east-2::foundation-model/{FM}")}]}));
        let a = sonnet(Some(&["us-east-1", "us-west-2", "us-east-2"])).run(&set);
        assert!(
            a.message.as_deref().unwrap().contains("us-west-2::"),
            "{:?}",
            a.message
        );
        let b = sonnet(Some(&["us-east-1", "us-east-2", "us-west-2"])).run(&set);
        assert!(
            b.message.as_deref().unwrap().contains("us-east-2::"),
            "{:?}",
            b.message
        );
        assert_eq!(
            b.decision.as_ref().map(|d| d.kind),
            Some(DecisionKind::ExplicitDeny)
        );
        let denied: Vec<_> = b
            .routes
            .iter()
            .filter(|x| x.decision == DecisionKind::ExplicitDeny)
            .map(|x| (x.region.as_str(), x.by))
            .collect();
        assert_eq!(
            denied,
            [
                ("us-east-2", Some(PolicyType::Identity)),
                ("us-west-2", Some(PolicyType::Identity))
            ]
        );
        assert!(
            b.assumptions.contains(&"B-CALL-ORDER"),
            "{:?}",
            b.assumptions
        );
    }

    /// A destination's request carries its own Region: a Region-restricting SCP denies the
    /// route that leaves the allowed Regions (the documented SCP behaviour).
    #[test]
    fn a_region_deny_scp_blocks_the_route_to_a_denied_region() {
        let scp = |doc: serde_json::Value| Policy::parse(&doc, PolicyType::Scp).unwrap();
        let set = PolicySet {
            scp: Some(vec![vec![
                scp(json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})),
                scp(json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Action": "*", "Resource": "*",
                     "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}}]})),
            ]]),
            ..allow_all()
        };
        let r = sonnet(Some(&["us-east-1", "us-east-2", "us-west-2"])).run(&set);
        assert_eq!(r.outcome.status, 403);
        let m = r.message.as_deref().unwrap();
        assert!(m.contains("us-east-2::foundation-model"), "{m}");
        assert!(m.contains("service control policy"), "{m}");
        let route = &r.routes[1];
        assert_eq!(
            (route.region.as_str(), route.decision, route.by),
            (
                "us-east-2",
                DecisionKind::ExplicitDeny,
                Some(PolicyType::Scp)
            )
        );
        assert_rests_on(&r, "B-CRIS-REQUESTED-REGION");
    }

    /// Only calls through a system inference profile on bedrock-runtime have routes.
    #[test]
    fn other_calls_have_no_routes() {
        let mut plain = sonnet(None);
        plain.model = FM.into();
        let r = plain.run(&allow_all());
        assert!(r.routes.is_empty());
        assert_eq!(r.routes_text(), None);
        let mantle = CallScenario {
            endpoint: Endpoint::BedrockMantle,
            ..sonnet(Some(&["us-east-1", "us-east-2"]))
        };
        assert!(mantle.run(&allow_all()).routes.is_empty());
        let arn = CallScenario {
            model: format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{FM}"),
            ..sonnet(None)
        };
        assert!(arn.run(&allow_all()).routes.is_empty());
    }
}
