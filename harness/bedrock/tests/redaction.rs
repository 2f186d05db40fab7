//! No public type prints a secret: every type is formatted with `{}`, `{:?}` and `{:#?}` and the
//! output is searched for each secret it holds.

use keyward_bedrock::{classify, BearerToken};
use keyward_bedrock::{
    generate, ExpiresIn, GenerateError, LongTermKey, ShortTermToken, SigningCredentials,
};
use keyward_bedrock::{AccountId, CredentialStore, ServiceName, UserName};

use crate::support::{base64, signed_at};

const AKID: &str = "ASIAIOSFODNN7EXAMPLE";
const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN+/=";

fn signing_credentials() -> SigningCredentials {
    SigningCredentials::new(AKID, SECRET_ACCESS_KEY).with_session_token(SESSION_TOKEN)
}

fn short_term() -> ShortTermToken {
    generate(
        &signing_credentials(),
        "us-east-1",
        signed_at(),
        ExpiresIn::MAX,
    )
    .unwrap()
}

/// Every way the value can be formatted.
fn printed(value: &(impl std::fmt::Debug + std::fmt::Display)) -> [String; 3] {
    [
        format!("{value}"),
        format!("{value:?}"),
        format!("{value:#?}"),
    ]
}

fn assert_hidden(texts: &[String], secrets: &[&str]) {
    for text in texts {
        for secret in secrets {
            assert!(!text.contains(secret), "`{secret}` leaked in:\n{text}");
        }
    }
}

/// The secrets a short-term token holds, and pieces of them long enough to be telling.
fn short_term_secrets(token: &ShortTermToken) -> Vec<String> {
    let signature = token.expose_signature().to_owned();
    let bearer = token.expose_bearer();
    vec![
        signature[..16].to_owned(),
        signature[48..].to_owned(),
        SESSION_TOKEN.to_owned(),
        SESSION_TOKEN[..12].to_owned(),
        "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN%2B%2F%3D".to_owned(),
        AKID.to_owned(),
        AKID[..8].to_owned(),
        // The encoded key as a whole, and its tail, where the signature sits.
        bearer.clone(),
        bearer[bearer.len() - 40..].to_owned(),
    ]
}

#[test]
fn short_term_token_is_redacted() {
    let token = short_term();
    let secrets = short_term_secrets(&token);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_hidden(&printed(&token), &secrets);
    assert_hidden(&printed(&BearerToken::ShortTerm(token.clone())), &secrets);
    let text = token.to_string();
    assert!(text.contains("ASIA…"), "{text}");
    assert!(text.contains("us-east-1"), "{text}");
    assert!(format!("{token:?}").contains("\"ASIA…\""));
}

#[test]
fn signing_credentials_are_redacted() {
    let creds = signing_credentials();
    assert_hidden(
        &printed(&creds),
        &[
            SECRET_ACCESS_KEY,
            "wJalrXUtnFEMI",
            SESSION_TOKEN,
            AKID,
            "IOSFODNN",
        ],
    );
    assert!(format!("{creds:?}").contains("ASIA…"));
}

#[test]
fn long_term_key_is_redacted() {
    let secret = "bG9uZy10ZXJtLXNlY3JldC12YWx1ZQEXAMPLE";
    let raw = format!(
        "ABSK{}",
        base64(format!("BedrockAPIKey-h42z+1-at-123456789012:{secret}"))
    );
    let key = LongTermKey::parse(&raw).unwrap();
    let secrets = [secret, &secret[..12], raw.as_str(), &raw[raw.len() - 20..]];
    assert_hidden(&printed(&key), &secrets);
    let bearer = classify(&raw).unwrap();
    assert_hidden(&printed(&bearer), &secrets);
    assert!(key
        .to_string()
        .contains("BedrockAPIKey-h42z+1-at-123456789012"));
}

#[test]
fn service_specific_credentials_and_store_are_redacted() {
    let mut store = CredentialStore::new();
    let user = UserName::new("BedrockAPIKey-h42z").unwrap();
    let account = AccountId::new("123456789012").unwrap();
    let credential = store
        .create(&user, &account, &ServiceName::bedrock(), None, signed_at())
        .unwrap()
        .clone();
    let secret = credential.expose_secret().to_owned();
    let key = LongTermKey::for_credential(&credential)
        .unwrap()
        .expose_bearer();
    let secrets = [secret.as_str(), &secret[secret.len() - 10..], key.as_str()];
    assert_hidden(&printed(&credential), &secrets);
    assert_hidden(
        &printed(&LongTermKey::for_credential(&credential).unwrap()),
        &secrets,
    );
    assert_hidden(&[format!("{store:?}"), format!("{store:#?}")], &secrets);
}

#[test]
fn errors_do_not_quote_secrets() {
    let token = short_term();
    let url = token.expose_presigned_url();
    let signature = token.expose_signature();
    // Break the token in ways that each make an error about a part near a secret.
    let broken = [
        url.replace(signature, &signature.to_uppercase()),
        url.replace("&X-Amz-Security-Token=", "&X-Amz-Security-Token=%G"),
        url.replace("&X-Amz-SignedHeaders=host", ""),
        url.replace("&Version=1", "&Version=1&X-Amz-Signature=00"),
        url.replace("bedrock.amazonaws.com/?", "bedrock.amazonaws.com?"),
        url.replace("bedrock.amazonaws.com/", ""),
    ];
    let mut secrets = short_term_secrets(&token);
    secrets.push(signature.to_uppercase()[..16].to_owned());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    for url in broken {
        let err = ShortTermToken::parse(&format!("bedrock-api-key-{}", base64(&url))).unwrap_err();
        assert_hidden(&[err.to_string(), format!("{err:?}")], &secrets);
    }
    let err = generate(
        &signing_credentials(),
        "Not A Region",
        signed_at(),
        ExpiresIn::MAX,
    )
    .unwrap_err();
    assert!(matches!(err, GenerateError::InvalidRegion { .. }));
    assert_hidden(&[err.to_string(), format!("{err:?}")], &secrets);
}
