//! `guardrail::analyze` on hand-written guardrails: the answers the issue fixes, each lint
//! raised by the mistake it names and silent on the fixed policy.

use keyward_bedrock::guardrail::{analyze, lints, Analysis, CreateRow, LintId, Subject};
use keyward_bedrock::{Endpoint, TokenType, BEDROCK_SERVICE};
use keyward_iam::{DecisionKind, Policy, PolicySet, PolicyType};
use serde_json::{json, Value};

fn identity(docs: &[Value]) -> PolicySet {
    PolicySet {
        identity: docs
            .iter()
            .map(|d| Policy::parse(d, PolicyType::Identity).unwrap())
            .collect(),
        ..PolicySet::default()
    }
}

fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

fn deny(action: Value, condition: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": action, "Resource": "*", "Condition": condition}]})
}

/// The article's two guardrails: no short-term keys; no Bedrock keys older than 5 days.
pub fn article() -> PolicySet {
    identity(&[
        allow_all(),
        deny(
            json!("bedrock:CallWithBearerToken"),
            json!({"StringEquals": {"bedrock:bearerTokenType": "SHORT_TERM"}}),
        ),
        deny(
            json!("iam:CreateServiceSpecificCredential"),
            json!({"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"},
                   "NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "5"}}),
        ),
    ])
}

fn decision(a: &Analysis, t: TokenType, e: Endpoint) -> DecisionKind {
    a.uses
        .iter()
        .find(|r| r.token_type == t && r.endpoint == e)
        .unwrap()
        .answer
        .decision
}

fn rows<'a>(a: &'a Analysis, service: &str) -> Vec<&'a CreateRow> {
    a.creates
        .iter()
        .filter(|r| r.service.as_str() == service)
        .collect()
}

/// `(min, max, decision)` per row, `(0, 0, ...)` for the key that never expires.
fn shape(a: &Analysis, service: &str) -> Vec<(u32, u32, DecisionKind)> {
    rows(a, service)
        .iter()
        .map(|r| {
            let (lo, hi) = r.ages.clone().map_or((0, 0), |x| x.into_inner());
            (lo, hi, r.answer.decision)
        })
        .collect()
}

fn ids(a: &Analysis) -> Vec<LintId> {
    a.lints.iter().map(|l| l.id).collect()
}

#[test]
fn the_articles_guardrails_answer_as_the_issue_says() {
    let a = analyze(&article(), &Subject::default());
    use DecisionKind::*;
    assert_eq!(
        decision(&a, TokenType::ShortTerm, Endpoint::BedrockRuntime),
        ExplicitDeny
    );
    assert_eq!(
        decision(&a, TokenType::LongTerm, Endpoint::BedrockRuntime),
        Allow
    );
    assert_eq!(
        shape(&a, BEDROCK_SERVICE),
        [(1, 5, Allow), (6, 36_600, ExplicitDeny), (0, 0, Allow)]
    );
    // Other services are untouched.
    assert_eq!(
        shape(&a, "codecommit.amazonaws.com"),
        [(1, 36_600, Allow), (0, 0, Allow)]
    );
    let denied = &rows(&a, BEDROCK_SERVICE)[1].answer;
    let at = denied
        .statement
        .as_ref()
        .expect("a deny names its statement");
    assert_eq!(
        (at.policy_type, at.policy, at.statement),
        (PolicyType::Identity, 2, 0)
    );
    assert_eq!(
        denied.message.as_deref(),
        Some(
            "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: \
             iam:CreateServiceSpecificCredential on resource: user BedrockAPIKey-example with an \
             explicit deny in an identity-based policy"
        )
    );
    // The loophole: never-expiring keys pass; and the short-term deny misses mantle.
    assert_eq!(
        ids(&a),
        [LintId::NeverExpiringKeysPass, LintId::MantleNotCovered]
    );
    let lint = &a.lints[0];
    assert!(
        lint.message.contains("bedrock.amazonaws.com"),
        "{}",
        lint.message
    );
    assert!(lint.message.contains("6-36600"), "{}", lint.message);
    assert!(lint.fix.contains("\"Null\""), "{}", lint.fix);
    assert_eq!(lint.at.as_ref().map(|s| s.policy), Some(2));
    assert!(a.depends_on.is_empty());
}

#[test]
fn the_fix_the_lint_gives_closes_the_loophole() {
    let mut docs = vec![
        allow_all(),
        deny(
            json!(["bedrock:CallWithBearerToken"]),
            json!({"StringEquals": {"bedrock:bearerTokenType": "SHORT_TERM"}}),
        ),
        deny(
            json!("bedrock-mantle:CallWithBearerToken"),
            json!({"StringEquals": {"bedrock-mantle:BearerTokenType": "SHORT_TERM"}}),
        ),
        deny(
            json!("iam:CreateServiceSpecificCredential"),
            json!({"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"},
                   "NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "5"}}),
        ),
    ];
    docs.push(deny(
        json!("iam:CreateServiceSpecificCredential"),
        json!({"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"},
               "Null": {"iam:ServiceSpecificCredentialAgeDays": "true"}}),
    ));
    let a = analyze(&identity(&docs), &Subject::default());
    assert!(a.lints.is_empty(), "{:#?}", a.lints);
    assert_eq!(
        decision(&a, TokenType::ShortTerm, Endpoint::BedrockMantle),
        DecisionKind::ExplicitDeny
    );
    assert_eq!(
        shape(&a, BEDROCK_SERVICE).last(),
        Some(&(0, 0, DecisionKind::ExplicitDeny))
    );
}

#[test]
fn each_value_and_key_lint_names_its_mistake() {
    let a = analyze(
        &identity(&[
            allow_all(),
            deny(
                json!("bedrock:CallWithBearerToken"),
                json!({"StringEquals": {"bedrock:bearerTokenType": ["short_term", "SHORT-TERM", "LONG_TERM"]}}),
            ),
            deny(
                json!("bedrock:CallWithBearerToken"),
                json!({"StringEquals": {"bedrock:bearerTokenTypes": "SHORT_TERM"}}),
            ),
            deny(
                json!("bedrock:CallWithBearerToken"),
                json!({"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "5"}}),
            ),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"StringEquals": {"iam:ServiceSpecificCredentialServiceName": ["bedrock", "codecommit.amazonaws.com"]}}),
            ),
        ]),
        &Subject::default(),
    );
    // (The LONG_TERM deny misses mantle too: mantle-not-covered, tested above.)
    let found: Vec<(LintId, usize, &str)> = a
        .lints
        .iter()
        .filter(|l| l.id != LintId::MantleNotCovered)
        .map(|l| (l.id, l.at.as_ref().unwrap().policy, l.fix.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (LintId::TokenTypeValueNeverMatches, 1, "write \"SHORT_TERM\""),
            (LintId::TokenTypeValueNeverMatches, 1, "write \"SHORT_TERM\""),
            (LintId::ConditionKeyNeverPresent, 2, "write bedrock:BearerTokenType"),
            (
                LintId::ConditionKeyNeverPresent,
                3,
                "move the condition to a statement on iam:CreateServiceSpecificCredential, whose requests carry it"
            ),
            (
                LintId::ServiceNameNeverMatches,
                4,
                "write \"bedrock.amazonaws.com\" (the service's full name)"
            ),
        ]
    );
    assert!(a.lints[1].message.contains("\"short_term\""));
    assert!(a.lints[2].message.contains("\"SHORT-TERM\""));
}

#[test]
fn values_that_match_under_their_operator_are_not_reported() {
    let a = analyze(
        &identity(&[
            allow_all(),
            deny(
                json!([
                    "bedrock:CallWithBearerToken",
                    "bedrock-mantle:CallWithBearerToken"
                ]),
                json!({"StringEqualsIgnoreCase": {"bedrock:bearerTokenType": "short_term"},
                       "StringLike": {"bedrock-mantle:BearerTokenType": "SHORT*"}}),
            ),
            deny(
                json!("iam:*"),
                json!({"StringLike": {"iam:ServiceSpecificCredentialServiceName": "bedrock.*"},
                       "StringEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/x"}}),
            ),
        ]),
        &Subject::default(),
    );
    assert!(a.lints.is_empty(), "{:#?}", a.lints);
}

#[test]
fn a_value_its_operator_cannot_read_is_reported_for_any_key() {
    let a = analyze(
        &identity(&[
            allow_all(),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30days"}}),
            ),
            deny(
                json!("s3:*"),
                json!({"DateLessThan": {"aws:CurrentTime": "next tuesday"},
                       "Bool": {"aws:SecureTransport": "yes"},
                       "NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "office"]},
                       "NumericLessThan": {"s3:max-keys": ["10", "1e3"]}}),
            ),
        ]),
        &Subject::default(),
    );
    let found: Vec<(usize, &str, &str, Vec<&str>)> = a
        .lints
        .iter()
        .filter(|l| l.id == LintId::ValueNeverMatchesOperator)
        .map(|l| {
            let at = l.at.as_ref().unwrap();
            (
                at.policy,
                l.message.as_str(),
                l.fix.as_str(),
                l.assumptions.clone(),
            )
        })
        .collect();
    assert_eq!(found.len(), 5, "{found:#?}");
    // The user's example: the age compared with "30days" as AWS documents numbers never matches.
    assert_eq!(found[0].0, 1);
    assert!(
        found[0].1.starts_with(
            "NumericGreaterThan on iam:ServiceSpecificCredentialAgeDays compares with \"30days\", which is not a number"
        ),
        "{}",
        found[0].1
    );
    assert_eq!(found[0].2, "write \"30\" (digits only, no unit)");
    assert_eq!(found[0].3, ["A-NUMERIC-SYNTAX"]);
    let messages: Vec<&str> = found[1..].iter().map(|f| f.1).collect();
    assert!(
        messages[0].contains("\"next tuesday\", which is not a date"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("\"yes\", which is not a boolean"),
        "{messages:?}"
    );
    // A negated operator holds instead of never matching; "203.0.113.0/24" is fine.
    assert!(
        messages[2].contains("\"office\", which is not an IP address")
            && messages[2]
                .ends_with("so NotIpAddress holds for every request that carries the key"),
        "{messages:?}"
    );
    assert_eq!(found[3].3, ["A-NEGATED-UNPARSEABLE"]);
    // "1e3" is no number to keyward either, and not "1" with a unit.
    assert!(messages[3].contains("\"1e3\""), "{messages:?}");
    assert_eq!(found[4].2, "write an integer or a decimal, e.g. \"30\"");
    // The cheap entry point finds the same lints as the whole analysis.
    assert_eq!(
        lints(&identity(&[allow_all()]), &Subject::default()),
        Vec::new()
    );
}

#[test]
fn the_lints_alone_are_the_analysis_lints() {
    for set in [
        article(),
        identity(&[
            allow_all(),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30days"}, "StringEquals": {"bedrock:BearerTokenTyp": "short_term"}}),
            ),
        ]),
    ] {
        let subject = Subject::default();
        let whole = analyze(&set, &subject);
        assert!(!whole.lints.is_empty());
        assert_eq!(lints(&set, &subject), whole.lints);
    }
}

#[test]
fn other_keys_that_change_an_answer_are_listed_with_their_values() {
    let mut docs = vec![allow_all()];
    docs.push(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}},
        {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": 3600}}},
        // Only whether the key is there matters: no value is listed, absence is.
        {"Effect": "Deny", "Action": "bedrock-mantle:CallWithBearerToken", "Resource": "*",
         "Condition": {"Null": {"aws:MultiFactorAuthPresent": "true"}}},
        // Tested, but it changes nothing: the statement's action is never requested.
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ml"}}}]}));
    let a = analyze(&identity(&docs), &Subject::default());
    let deps: Vec<(&str, Vec<&str>)> = a
        .depends_on
        .iter()
        .map(|d| {
            (
                d.key.as_str(),
                d.values.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            (
                "aws:RequestedRegion",
                vec!["us-east-1", "us-west-2", "other"]
            ),
            ("aws:MultiFactorAuthAge", vec!["3600", "other"]),
            ("aws:MultiFactorAuthPresent", vec!["other", "absent"]),
        ]
    );
    // The default region is allowed; another one would be denied.
    let eu = analyze(
        &identity(&docs),
        &Subject {
            region: "eu-west-1".into(),
            ..Subject::default()
        },
    );
    assert_eq!(
        decision(&eu, TokenType::ShortTerm, Endpoint::BedrockRuntime),
        DecisionKind::ExplicitDeny
    );
}

#[test]
fn a_long_term_key_is_used_by_its_user() {
    // Only the role may use keys: the user's long-term key is denied, the role's short-term
    // key is not.
    let set = identity(&[
        allow_all(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
             "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/dev"}}}]}),
    ]);
    let a = analyze(&set, &Subject::default());
    assert_eq!(
        decision(&a, TokenType::ShortTerm, Endpoint::BedrockRuntime),
        DecisionKind::Allow
    );
    let long = a
        .uses
        .iter()
        .find(|r| r.token_type == TokenType::LongTerm && r.endpoint == Endpoint::BedrockRuntime)
        .unwrap();
    assert_eq!(long.answer.decision, DecisionKind::ExplicitDeny);
    assert!(long
        .answer
        .message
        .as_deref()
        .unwrap()
        .starts_with("User: arn:aws:iam::123456789012:user/BedrockAPIKey-example "));
}

#[test]
fn a_token_type_key_of_the_other_namespace_or_under_a_wildcard_is_reported() {
    let a = analyze(
        &identity(&[
            allow_all(),
            deny(
                json!("bedrock-mantle:CallWithBearerToken"),
                json!({"StringEquals": {"bedrock:BearerTokenType": "SHORT_TERM"}}),
            ),
            deny(
                json!("bedrock-mantle:*"),
                json!({"StringEquals": {"bedrock:BearerTokenType": "LONG_TERM"}}),
            ),
            deny(
                json!("iam:*ServiceSpecificCredential"),
                json!({"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30"},
                       "StringEquals": {"bedrock-mantle:BearerTokenType": "LONG_TERM"}}),
            ),
            deny(
                json!("bedrock:CallWithBearerToken"),
                json!({"NumericNotEquals": {"bedrock:BearerTokenType": "1"}}),
            ),
        ]),
        &Subject::default(),
    );
    let found: Vec<(LintId, usize, &str)> = a
        .lints
        .iter()
        .filter(|l| {
            !matches!(
                l.id,
                LintId::MantleNotCovered | LintId::NeverExpiringKeysPass
            )
        })
        .map(|l| (l.id, l.at.as_ref().unwrap().policy, l.fix.as_str()))
        .collect();
    let other_namespace = "write bedrock-mantle:BearerTokenType: each endpoint's \
                           CallWithBearerToken carries the token type under its own namespace";
    assert_eq!(
        found,
        [
            (LintId::TokenTypeValueNeverMatches, 4, "compare with a string operator (StringEquals, StringNotEquals, ...): NumericNotEquals reads the token type as numeric"),
            (LintId::ConditionKeyNeverPresent, 1, other_namespace),
            (LintId::ConditionKeyNeverPresent, 2, other_namespace),
            (
                LintId::ConditionKeyNeverPresent,
                3,
                "move the condition to a statement on bedrock-mantle:CallWithBearerToken, whose requests carry it"
            ),
        ]
    );
}

#[test]
fn mantle_allowed_where_runtime_lacks_an_allow_is_reported_without_a_statement() {
    let a = analyze(
        &identity(&[json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["bedrock-mantle:*", "iam:*"], "Resource": "*"}]})]),
        &Subject::default(),
    );
    let lints: Vec<_> = a
        .lints
        .iter()
        .filter(|l| l.id == LintId::MantleNotCovered)
        .collect();
    assert_eq!(lints.len(), 2, "{lints:#?}");
    assert!(lints.iter().all(|l| l.at.is_none()));
    assert!(
        lints[0]
            .fix
            .starts_with("bedrock-runtime is denied because no identity policy allows it"),
        "{}",
        lints[0].fix
    );
}

#[test]
fn never_expiring_keys_are_reported_with_each_services_own_ages() {
    let a = analyze(
        &identity(&[
            allow_all(),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"},
                       "NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "5"}}),
            ),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30"}}),
            ),
        ]),
        &Subject::default(),
    );
    let messages: Vec<&str> = a
        .lints
        .iter()
        .filter(|l| l.id == LintId::NeverExpiringKeysPass)
        .map(|l| l.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    // Services in their order: codecommit (31-36600, with four others), then bedrock (6-36600).
    assert!(
        messages[0].contains("codecommit.amazonaws.com") && messages[0].contains("ages 31-36600"),
        "{}",
        messages[0]
    );
    assert!(
        !messages[0].contains("bedrock.amazonaws.com"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("for bedrock.amazonaws.com, though ages 6-36600"),
        "{}",
        messages[1]
    );
    // The never-expiring rows say what they rest on.
    let never = rows(&a, BEDROCK_SERVICE).last().unwrap().answer.clone();
    assert_eq!(never.assumptions, ["B-AGEDAYS-ABSENT"]);
}

#[test]
fn an_age_value_outside_the_numeric_syntax_splits_rows_by_what_they_rest_on() {
    // "30days" is no number to keyward; under the other reading of A-NUMERIC-SYNTAX it is 30.
    let a = analyze(
        &identity(&[
            allow_all(),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"NumericGreaterThan": {"iam:ServiceSpecificCredentialAgeDays": "30days"}}),
            ),
        ]),
        &Subject::default(),
    );
    let bedrock = rows(&a, BEDROCK_SERVICE);
    type Row<'a> = (
        Option<std::ops::RangeInclusive<u32>>,
        DecisionKind,
        Vec<&'a str>,
    );
    let shape: Vec<Row> = bedrock
        .iter()
        .map(|r| {
            (
                r.ages.clone(),
                r.answer.decision,
                r.answer.assumptions.clone(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (Some(1..=30), DecisionKind::Allow, vec![]),
            (
                Some(31..=36_600),
                DecisionKind::Allow,
                vec!["A-NUMERIC-SYNTAX"]
            ),
            // Under keyward's reading no age is denied, so the missing age changes nothing.
            (None, DecisionKind::Allow, vec![]),
        ]
    );
}

#[test]
fn keys_read_through_variables_count_and_iam_requests_keep_their_region() {
    let keys = |statements: Value| -> Vec<String> {
        let set = identity(&[
            allow_all(),
            json!({"Version": "2012-10-17", "Statement": statements}),
        ]);
        analyze(&set, &Subject::default())
            .depends_on
            .into_iter()
            .map(|d| d.key)
            .collect()
    };
    // A key read only through a variable (with a default) is varied too.
    assert_eq!(
        keys(
            json!([{"Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "${aws:PrincipalTag/home, 'us-east-1'}"}}}])
        ),
        ["aws:RequestedRegion", "aws:principaltag/home"]
    );
    // IAM requests carry us-east-1 whatever Region keys are used in: nothing to vary.
    assert_eq!(
        keys(
            json!([{"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}])
        ),
        Vec::<String>::new()
    );
    // Another key read as two types elsewhere does not hide this one's threshold.
    assert_eq!(
        keys(json!([
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/x": "a"}, "NumericEquals": {"aws:principaltag/X": "1"}}},
            {"Effect": "Deny", "Action": "bedrock-mantle:CallWithBearerToken", "Resource": "*",
             "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}}])),
        ["aws:MultiFactorAuthAge"]
    );
}

mod brute_force {
    //! The symbolic answer against enumeration: every age of every supported service, every
    //! token type and endpoint, through the scenarios themselves.

    use super::*;
    use keyward_bedrock::guardrail::Answer;
    use keyward_bedrock::{
        CallScenario, ContextEntry, CreateKeyScenario, Flow, KeySpec, Operation, ServiceName,
        SUPPORTED_SERVICES,
    };
    use keyward_iam::{evaluate, ContextValue, Effect, StatementRef};
    use proptest::prelude::*;

    const AGE_KEY: &str = "iam:ServiceSpecificCredentialAgeDays";

    fn string_op() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
            "ForAnyValue:StringEquals",
            "StringEqualsIfExists",
        ])
    }

    fn age_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            (-3i32..=40).prop_map(|n| json!(n.to_string())),
            (36_590u32..=36_601).prop_map(|n| json!(n)),
            (0u32..=36_601).prop_map(|n| json!(n.to_string())),
            (0u32..=100).prop_map(|n| json!(format!("{n}.5"))),
            // Outside keyward's numeric syntax: what the other reading of A-NUMERIC-SYNTAX reads.
            (0u32..=40).prop_map(|n| json!(format!(" {n}"))),
            (1u32..=4).prop_map(|n| json!(format!("{n}e1"))),
            (1u32..=40).prop_map(|n| json!(format!("{n}days"))),
        ]
    }

    /// The age key, sometimes in another letter case.
    fn age_key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![AGE_KEY, "IAM:serviceSpecificCredentialAgeDAYS"])
            .prop_map(str::to_string)
    }

    /// One condition on a key the analysis splits or varies.
    fn condition() -> impl Strategy<Value = (String, String, Value)> {
        let token = (
            string_op(),
            prop::sample::select(vec![
                "bedrock:BearerTokenType",
                "bedrock-mantle:bearerTokenType",
            ]),
            prop::sample::subsequence(
                vec!["SHORT_TERM", "LONG_TERM", "short_term", "LONG*"],
                1..=2,
            ),
        )
            .prop_map(|(op, k, v)| (op.to_string(), k.to_string(), json!(v)));
        let service = (
            string_op(),
            prop::sample::subsequence(
                vec![
                    "bedrock.amazonaws.com",
                    "codecommit.amazonaws.com",
                    "bedrock",
                    "*.amazonaws.com",
                ],
                1..=2,
            ),
        )
            .prop_map(|(op, v)| {
                (
                    op.to_string(),
                    "iam:ServiceSpecificCredentialServiceName".to_string(),
                    json!(v),
                )
            });
        let numeric = (
            prop::sample::select(vec!["", "", "ForAnyValue:", "ForAllValues:"]),
            prop::sample::select(vec![
                "NumericEquals",
                "NumericNotEquals",
                "NumericLessThan",
                "NumericLessThanEquals",
                "NumericGreaterThan",
                "NumericGreaterThanEquals",
            ]),
            any::<bool>(),
            age_key(),
            prop::collection::vec(age_value(), 1..=2),
        )
            .prop_map(|(set, op, if_exists, key, v)| {
                let suffix = if if_exists { "IfExists" } else { "" };
                (format!("{set}{op}{suffix}"), key, json!(v))
            });
        // The age under every other family: dates read four digits as a year and other
        // digits as epoch seconds, base64 decodes four digits, a short ARN pattern matches the
        // text; a wildcard or a variable leaves the analysis to ask each age of the condition.
        let age_text = (
            prop::sample::select(vec![
                "StringEquals",
                "StringNotEquals",
                "StringLike",
                "StringNotLikeIfExists",
                "DateLessThan",
                "DateEquals",
                "DateGreaterThanEquals",
                "BinaryEquals",
                "ArnLike",
                "ArnNotEquals",
                "Bool",
                "NotIpAddress",
            ]),
            prop::sample::select(vec![
                "5",
                "30",
                "05",
                "1*",
                "?5",
                "${aws:username}",
                "2020",
                "1999-06-01",
                "1970-01-01T00:00:10Z",
                "1234",
                "true",
                "10.0.0.0/8",
            ]),
        )
            .prop_map(|(op, v)| (op.to_string(), AGE_KEY.to_string(), json!(v)));
        let null = any::<bool>().prop_map(|b| {
            (
                "Null".to_string(),
                AGE_KEY.to_string(),
                json!(b.to_string()),
            )
        });
        let region = prop::sample::select(vec!["us-east-1", "eu-west-1"]).prop_map(|r| {
            (
                "StringEquals".to_string(),
                "aws:RequestedRegion".to_string(),
                json!(r),
            )
        });
        prop_oneof![3 => token, 2 => service, 4 => numeric, 1 => age_text, 1 => null, 1 => region]
    }

    fn statement() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(vec!["Allow", "Deny"]),
            prop::sample::subsequence(
                vec![
                    "*",
                    "bedrock:CallWithBearerToken",
                    "bedrock-mantle:CallWithBearerToken",
                    "iam:CreateServiceSpecificCredential",
                    "iam:*",
                    "bedrock:Call*",
                ],
                1..=2,
            ),
            prop::collection::vec(condition(), 0..=3),
        )
            .prop_map(|(effect, actions, conditions)| {
                let mut block = serde_json::Map::new();
                for (op, key, value) in conditions {
                    let ops = block.entry(op).or_insert_with(|| json!({}));
                    // IAM refuses one key twice in a block, in any letter case.
                    let Some(keys) = ops.as_object_mut() else {
                        continue;
                    };
                    if !keys.keys().any(|k| k.eq_ignore_ascii_case(&key)) {
                        keys.insert(key, value);
                    }
                }
                let mut s = json!({"Effect": effect, "Action": actions, "Resource": "*"});
                if !block.is_empty() {
                    s["Condition"] = Value::Object(block);
                }
                s
            })
    }

    fn policy_set() -> impl Strategy<Value = PolicySet> {
        (
            prop::collection::vec(statement(), 1..=4),
            prop::option::of(prop::collection::vec(statement(), 1..=2)),
        )
            .prop_map(|(identity, scp)| {
                let doc = |ss: Vec<Value>| json!({"Version": "2012-10-17", "Statement": ss});
                let mut set = PolicySet {
                    identity: vec![Policy::parse(&allow_all(), PolicyType::Identity).unwrap()],
                    ..PolicySet::default()
                };
                set.identity
                    .push(Policy::parse(&doc(identity), PolicyType::Identity).unwrap());
                if let Some(scp) = scp {
                    let mut level = vec![Policy::parse(&allow_all(), PolicyType::Scp).unwrap()];
                    level.push(Policy::parse(&doc(scp), PolicyType::Scp).unwrap());
                    set.scp = Some(vec![level]);
                }
                set
            })
    }

    /// What the rows compare by, besides the message: the verdict, and the evaluator's
    /// assumptions it rests on.
    type Key = (
        DecisionKind,
        Option<PolicyType>,
        Option<StatementRef>,
        Vec<&'static str>,
    );

    fn key(
        kind: DecisionKind,
        by: Option<PolicyType>,
        statement: Option<StatementRef>,
        assumptions: Vec<&'static str>,
    ) -> Key {
        (kind, by, statement, assumptions)
    }

    /// The `A-` assumptions of a decision and, for a deny, of its message.
    fn iam_assumptions(
        set: &PolicySet,
        request: &keyward_iam::Request,
        d: &keyward_iam::Decision,
    ) -> Vec<&'static str> {
        let mut a = d.assumptions();
        if d.kind != DecisionKind::Allow {
            a = a.union(d.message_assumptions(request, set));
        }
        a.iter().map(|x| x.as_str()).collect()
    }

    fn deciding(d: &keyward_iam::Decision) -> Option<StatementRef> {
        (d.kind == DecisionKind::ExplicitDeny)
            .then(|| {
                d.matched()
                    .iter()
                    .find(|s| Some(s.policy_type) == d.by && s.effect == Effect::Deny)
                    .cloned()
            })
            .flatten()
    }

    fn answer_key(a: &Answer) -> Key {
        let iam = a
            .assumptions
            .iter()
            .copied()
            .filter(|x| x.starts_with("A-"))
            .collect();
        key(a.decision, a.by, a.statement.clone(), iam)
    }

    fn create(subject: &Subject, service: &str, age_days: Option<i64>) -> CreateKeyScenario {
        CreateKeyScenario {
            caller: subject.principal.clone(),
            user: subject.user.clone(),
            service: ServiceName::new(service).unwrap(),
            age_days,
            flow: Flow::Api,
            existing_keys: 0,
            user_exists: true,
        }
    }

    /// Every age of `service`, evaluated one by one and grouped into maximal ranges.
    fn enumerate_ages(set: &PolicySet, subject: &Subject, service: &str) -> Vec<(u32, u32, Key)> {
        let mut request = create(subject, service, Some(1)).create_request();
        let mut out: Vec<(u32, u32, Key)> = Vec::new();
        for age in 1..=36_600u32 {
            request
                .context
                .insert(AGE_KEY, ContextValue::single(age.to_string()));
            let d = evaluate(set, &request);
            let k = key(
                d.kind,
                d.by,
                deciding(&d),
                iam_assumptions(set, &request, &d),
            );
            match out.last_mut() {
                Some(last) if last.2 == k => last.1 = age,
                _ => out.push((age, age, k)),
            }
        }
        out
    }

    fn check(set: &PolicySet, subject: &Subject) -> Result<(), TestCaseError> {
        let a = analyze(set, subject);
        // Using a key: the first request of the call scenario, and its message when it denies.
        for row in &a.uses {
            let key = if row.token_type == TokenType::ShortTerm {
                KeySpec::ShortTerm {
                    principal: subject.principal.clone(),
                    region: subject.region.clone(),
                    issued_at: None,
                    expires_in: 900,
                }
            } else {
                KeySpec::LongTerm {
                    user: subject.user_arn(),
                    active: true,
                    expires_at: None,
                }
            };
            let call = CallScenario {
                operation: Operation::Converse,
                key,
                model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
                region: subject.region.clone(),
                endpoint: row.endpoint,
                at: None,
                context: Vec::<ContextEntry>::new(),
                destinations: None,
            };
            let run = call.run(set);
            let first = &run.steps[0].decision;
            prop_assert_eq!(
                answer_key(&row.answer),
                key_of(set, &run.steps[0].request, first),
                "{} on {}",
                row.token_type,
                row.endpoint.name()
            );
            if first.kind != DecisionKind::Allow {
                prop_assert_eq!(&row.answer.message, &run.message);
            }
        }
        // Creating one: every age.
        for service in SUPPORTED_SERVICES {
            let rows = rows(&a, service);
            let symbolic: Vec<(u32, u32, Key)> = rows
                .iter()
                .filter_map(|r| {
                    let ages = r.ages.clone()?;
                    Some((*ages.start(), *ages.end(), answer_key(&r.answer)))
                })
                .collect();
            prop_assert_eq!(
                &symbolic,
                &enumerate_ages(set, subject, service),
                "{}",
                service
            );
            let never = rows.last().expect("a never-expiring row");
            prop_assert!(never.ages.is_none());
            // Each row's message is the scenario's, at both ends of its range.
            for r in &rows {
                let ends = match &r.ages {
                    Some(ages) => {
                        vec![Some(i64::from(*ages.start())), Some(i64::from(*ages.end()))]
                    }
                    None => vec![None],
                };
                for age in ends {
                    let run = create(subject, service, age).run(set);
                    prop_assert_eq!(
                        answer_key(&r.answer),
                        key_of(set, &run.steps[0].request, &run.steps[0].decision),
                        "{} {:?}",
                        service,
                        age
                    );
                    prop_assert_eq!(&r.answer.message, &run.message, "{} {:?}", service, age);
                    if age.is_none() {
                        prop_assert_eq!(
                            r.answer.assumptions.contains(&"B-AGEDAYS-ABSENT"),
                            run.assumptions.contains(&"B-AGEDAYS-ABSENT"),
                            "{}",
                            service
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn key_of(set: &PolicySet, request: &keyward_iam::Request, d: &keyward_iam::Decision) -> Key {
        key(d.kind, d.by, deciding(d), iam_assumptions(set, request, d))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn the_symbolic_answer_is_the_enumerated_one(set in policy_set(), eu in any::<bool>()) {
            let subject = Subject {
                region: if eu { "eu-west-1".into() } else { "us-east-1".into() },
                ..Subject::default()
            };
            check(&set, &subject)?;
        }
    }

    #[test]
    fn a_wildcard_on_the_age_is_enumerated_exactly() {
        // "1*" matches 1, 10-19, 100-199, ...: no partition at constants holds, so the analysis
        // asks each age of the condition and evaluates each run of ages that it tells apart.
        let set = identity(&[
            allow_all(),
            deny(
                json!("iam:CreateServiceSpecificCredential"),
                json!({"StringLike": {AGE_KEY: "1*"}}),
            ),
        ]);
        check(&set, &Subject::default()).unwrap();
        let a = analyze(&set, &Subject::default());
        let shape = shape(&a, BEDROCK_SERVICE);
        assert_eq!(
            &shape[..4],
            [
                (1, 1, DecisionKind::ExplicitDeny),
                (2, 9, DecisionKind::Allow),
                (10, 19, DecisionKind::ExplicitDeny),
                (20, 99, DecisionKind::Allow),
            ]
        );
    }
}
