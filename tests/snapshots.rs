//! insta snapshots (under snapshots/): `explain` output for representative fixtures and every
//! access-denied message form. Review changes with `cargo insta review`; CI never writes them.

use keyward::commands::explain::render;
use keyward::inputs::{expand, load, Loaded};

use crate::support::{fixture as case, root};

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn explain_outputs() {
    for (name, id) in [
        (
            "explain_bedrock_age_denied",
            "documented/bedrock/deny-create-age-age-30-denied",
        ),
        (
            "explain_bedrock_age_omitted",
            "documented/bedrock/deny-create-age-age-omitted-not-denied",
        ),
        (
            "explain_bearer_token_explicit",
            "documented/messages/identity-explicit-bearer-token",
        ),
        (
            "explain_t4_forallvalues",
            "documented/doc-tables/t18-deny-foranyvalue-key-missing",
        ),
        (
            "explain_variables_missing",
            "documented/variables/no-version-variable-is-literal",
        ),
        (
            "explain_cross_account",
            "documented/evaluation/cross-account-account-principal",
        ),
        ("explain_scp_levels", "documented/messages/scp-implicit"),
        ("explain_boundary", "documented/messages/boundary-implicit"),
        (
            "explain_article_short_term_denied",
            "article/deny-short-term/short-term-key-denied",
        ),
        (
            "explain_article_console_leftover_user",
            "article/max-5-days/console-leaves-user-behind",
        ),
        (
            "explain_mantle_not_covered",
            "documented/bedrock-scenarios/mantle/deny-bedrock-only/mantle-call-allowed",
        ),
    ] {
        snap!(name, render(&case(id)));
    }
}

#[test]
fn every_message_form() {
    // Every case of messages.json, then, from the other documented fixtures, the first case of
    // each service form and decision not seen yet (S3's two forms, EC2's).
    let dir = root().join("fixtures/documented");
    let messages = dir.join("messages.json");
    let mut files = vec![messages.clone()];
    files.extend(
        expand(&[dir])
            .unwrap()
            .into_iter()
            .filter(|f| *f != messages),
    );
    let mut out = String::new();
    let mut seen = std::collections::HashSet::new();
    for l in load(&files) {
        let Loaded::Case { case, file } = l else {
            panic!("unreadable")
        };
        let v = case.verdict();
        let form = v.message_form.map_or("no", |f| f.as_str());
        let first_of_kind = seen.insert((form, v.decision));
        if !file.ends_with("messages.json") && !first_of_kind {
            continue;
        }
        out.push_str(&format!(
            "{} [{}{}, {form} form{}]\n  {}\n",
            case.id,
            v.decision.map_or("no decision", |d| d.as_str()),
            v.by.map(|b| format!(" by {b}")).unwrap_or_default(),
            if v.message_complete {
                ""
            } else {
                ", incomplete"
            },
            v.message.as_deref().unwrap_or("(allow: no message)")
        ));
    }
    snap!("message_forms", out);
}

/// Every kind of outcome a scenario can have: Bedrock JSON errors, token rejections (on
/// bedrock-runtime and on bedrock-mantle), IAM XML errors and the console flow's side effects.
#[test]
fn every_outcome_kind() {
    let allow_all =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    let call_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"bedrock:CallWithBearerToken","Resource":"*"}}"#;
    let deny_create = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:CreateServiceSpecificCredential","Resource":"*"}]}"#;
    let deny_attach = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*"}]}"#;
    let session = "arn:aws:sts::123456789012:assumed-role/dev/alice";
    let user = "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z";
    let call = |name: &str, policy: &str, key: String, extra: &str| {
        format!(
            r#"{{"id":"{name}","policies":{{"identity":[{policy}]}},"scenario":{{"call":{{"operation":"Converse","key":{key},"model":"us.anthropic.claude-3-5-haiku-20241022-v1:0","region":"us-east-1"{extra}}}}}}}"#
        )
    };
    let create = |name: &str, policy: &str, fields: &str| {
        format!(
            r#"{{"id":"{name}","policies":{{"identity":[{policy}]}},"scenario":{{"create_key":{{"caller":"{session}","user":"BedrockAPIKey-h42z"{fields}}}}}}}"#
        )
    };
    let short = |extra: &str| {
        format!(r#"{{"type":"SHORT_TERM","principal":"{session}","region":"us-east-1"{extra}}}"#)
    };
    let long = |extra: &str| format!(r#"{{"type":"LONG_TERM","user":"{user}"{extra}}}"#);
    let cases = [
        call("call/success", allow_all, short(""), ""),
        call(
            "call/no-allow-for-CallWithBearerToken",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
            long(""),
            "",
        ),
        call(
            "call/model-action-denied-after-bearer-allowed",
            call_only,
            long(""),
            "",
        ),
        call(
            "token/wrong-prefix",
            allow_all,
            r#"{"token":"not-a-bedrock-key"}"#.into(),
            "",
        ),
        call(
            "token/right-prefix-broken-body",
            allow_all,
            r#"{"token":"bedrock-api-key-%%%"}"#.into(),
            "",
        ),
        call(
            "token/expired-short-term",
            allow_all,
            short(r#","issued_at":"2025-10-01T00:00:00Z","expires_in":3600"#),
            r#","at":"2025-10-01T01:00:00Z""#,
        ),
        call("token/other-region", allow_all, short(""), "")
            .replace(r#""region":"us-east-1"}}}"#, r#""region":"us-west-2"}}}"#),
        call(
            "token/inactive-long-term",
            allow_all,
            long(r#","status":"Inactive""#),
            "",
        ),
        call("token/no-key", allow_all, r#""none""#.into(), ""),
        call(
            "mantle/wrong-prefix",
            allow_all,
            r#"{"token":"not-a-bedrock-key"}"#.into(),
            r#","endpoint":"bedrock-mantle""#,
        ),
        call(
            "mantle/expired-short-term",
            allow_all,
            short(r#","issued_at":"2025-10-01T00:00:00Z","expires_in":3600"#),
            r#","endpoint":"bedrock-mantle","at":"2025-10-01T01:00:00Z""#,
        ),
        call(
            "mantle/no-allow-for-CallWithBearerToken",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
            long(""),
            r#","endpoint":"bedrock-mantle""#,
        ),
        create("iam/access-denied", deny_create, r#","age_days":30"#),
        create("iam/age-0", allow_all, r#","age_days":0"#),
        create("iam/age-36601", allow_all, r#","age_days":36601"#),
        create("iam/no-such-user", allow_all, r#","user_exists":false"#),
        create(
            "iam/unsupported-service",
            allow_all,
            r#","service":"s3.amazonaws.com""#,
        ),
        create("iam/limit-of-two", allow_all, r#","existing_keys":2"#),
        create("iam/never-expires", allow_all, ""),
        create(
            "console/all-steps",
            allow_all,
            r#","flow":"console","age_days":5"#,
        ),
        create(
            "console/denied-at-attach",
            deny_attach,
            r#","flow":"console","age_days":5"#,
        ),
        create(
            "console/denied-at-key",
            deny_create,
            r#","flow":"console","age_days":30"#,
        ),
    ];
    let mut out = String::new();
    for text in cases {
        let case = keyward::case::read_cases("outcomes.json", &text)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .remove(0)
            .unwrap_or_else(|e| panic!("{e}: {text}"));
        let v = case.verdict();
        out.push_str(&format!(
            "== {} [{}{}]\n{}\n",
            case.id,
            v.decision.map_or("no authorization", |d| d.as_str()),
            v.by.map(|b| format!(" by {b}")).unwrap_or_default(),
            v.outcome.expect("a scenario has an outcome")
        ));
    }
    snap!("outcome_kinds", out);
}

/// How every kind of unreadable bearer key is explained (the token layer's own errors).
#[test]
fn token_validation_errors() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let url = "bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250701%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Date=20250701T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=0000000000000000000000000000000000000000000000000000000000000000&Version=1";
    let tokens = [
        ("empty", String::new()),
        ("whitespace", " bedrock-api-key-abc".to_string()),
        ("bearer prefix", "Bearer bedrock-api-key-abc".to_string()),
        ("unknown prefix", "sk-abc".to_string()),
        ("prefix only", "bedrock-api-key-".to_string()),
        ("bad base64", "bedrock-api-key-%%%".to_string()),
        (
            "wrong host",
            format!(
                "bedrock-api-key-{}",
                b64(&url.replace("bedrock.amazonaws.com", "example.com"))
            ),
        ),
        ("no expiry", format!("bedrock-api-key-{}", b64(url))),
        (
            "expiry too long",
            format!(
                "bedrock-api-key-{}",
                b64(&url.replace(
                    "&X-Amz-SignedHeaders",
                    "&X-Amz-Expires=43201&X-Amz-SignedHeaders"
                ))
            ),
        ),
        (
            "long-term without secret",
            format!("ABSK{}", b64("bob-at-123456789012")),
        ),
        (
            "long-term bad account",
            format!("ABSK{}", b64("bob-at-12345:secret")),
        ),
    ];
    let mut out = String::new();
    for (name, t) in tokens {
        let e = keyward_bedrock::classify(&t).expect_err(name);
        out.push_str(&format!("{name}: {e}\n"));
    }
    snap!("token_validation_errors", out);
}

/// `keyward guardrail --json` and its table on the shipped guardrails (tests/guardrails/): the
/// article's, each aws-samples Bedrock SCP of fixtures/documented/, and the leaky one.
#[test]
fn guardrail_analyses() {
    for name in [
        "article",
        "aws-samples-deny-bedrock-api-keys",
        "aws-samples-deny-bedrock-long-term-api-keys",
        "aws-samples-deny-bedrock-api-keys-longer-than-30-days",
        "leaky",
    ] {
        let file = format!("tests/guardrails/{name}.json");
        let json = crate::support::keyward(&["guardrail", &file, "--json"]);
        assert_eq!(
            json.status.code(),
            Some(0),
            "{}",
            crate::support::stderr(&json)
        );
        snap!(format!("guardrail_{name}"), crate::support::stdout(&json));
        let table = crate::support::keyward(&["guardrail", &file]);
        snap!(
            format!("guardrail_{name}_table"),
            crate::support::stdout(&table)
        );
    }
}
