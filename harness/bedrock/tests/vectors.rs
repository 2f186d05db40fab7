//! The generator against AWS's own: every vector in tests/vectors/bedrock-tokens.json, made by
//! aws-bedrock-token-generator 1.1.0 (see tests/vectors/generate_bedrock_tokens.py), must come
//! out byte for byte, and must parse to the inputs it was made from.

use std::time::{Duration, UNIX_EPOCH};

use keyward_bedrock::{classify, BearerToken, TokenType};
use keyward_bedrock::{generate, ExpiresIn, ShortTermToken, SigningCredentials};
use serde::Deserialize;

const VECTORS: &str = include_str!("../../../tests/vectors/bedrock-tokens.json");

#[derive(Deserialize)]
struct File {
    generator: Generator,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Generator {
    package: String,
    version: String,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
    signing_time: String,
    signing_time_unix: u64,
    expires_in: u64,
    token: String,
    decoded: String,
}

fn vectors() -> File {
    serde_json::from_str(VECTORS).expect("tests/vectors/bedrock-tokens.json is valid JSON")
}

fn credentials(v: &Vector) -> SigningCredentials {
    let creds = SigningCredentials::new(&v.access_key_id, &v.secret_access_key);
    match &v.session_token {
        Some(token) => creds.with_session_token(token),
        None => creds,
    }
}

#[test]
fn vectors_come_from_the_pinned_generator() {
    let file = vectors();
    assert_eq!(file.generator.package, "aws-bedrock-token-generator");
    assert_eq!(file.generator.version, "1.1.0");
    assert!(file.vectors.len() >= 40, "expected the full vector set");
    assert!(file.vectors.iter().any(|v| v.session_token.is_some()));
    assert!(file.vectors.iter().any(|v| v.session_token.is_none()));
}

#[test]
fn generator_matches_aws_byte_for_byte() {
    for v in vectors().vectors {
        let signing_time = UNIX_EPOCH + Duration::from_secs(v.signing_time_unix);
        let expires_in = ExpiresIn::new(v.expires_in).expect("vector expiry is in range");
        let token = generate(&credentials(&v), &v.region, signing_time, expires_in)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(token.expose_presigned_url(), v.decoded, "{}", v.name);
        assert_eq!(token.expose_bearer(), v.token, "{}", v.name);
    }
}

#[test]
fn sub_second_signing_times_are_truncated_like_botocore() {
    let v = &vectors().vectors[0];
    let signing_time = UNIX_EPOCH + Duration::from_millis(v.signing_time_unix * 1000 + 999);
    let token = generate(
        &credentials(v),
        &v.region,
        signing_time,
        ExpiresIn::new(v.expires_in).unwrap(),
    )
    .unwrap();
    assert_eq!(token.expose_bearer(), v.token);
}

#[test]
fn vectors_parse_to_their_inputs_and_round_trip() {
    for v in vectors().vectors {
        let token = ShortTermToken::parse(&v.token).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(token.access_key_id(), v.access_key_id, "{}", v.name);
        assert_eq!(token.region(), v.region, "{}", v.name);
        assert_eq!(token.scope_service(), "bedrock", "{}", v.name);
        assert_eq!(token.expires_in().as_secs(), v.expires_in, "{}", v.name);
        assert_eq!(token.version(), 1, "{}", v.name);
        assert_eq!(token.has_session_token(), v.session_token.is_some());
        assert_eq!(token.expose_session_token(), v.session_token.as_deref());
        let signed = UNIX_EPOCH + Duration::from_secs(v.signing_time_unix);
        assert_eq!(token.signing_time(), signed, "{}", v.name);
        assert_eq!(
            token.expires_at(),
            signed + Duration::from_secs(v.expires_in),
            "{}",
            v.name
        );
        let iso_date: String = v.signing_time[..10].split('-').collect();
        let scope_date = token.scope_date();
        assert_eq!(
            format!(
                "{:04}{:02}{:02}",
                scope_date.year(),
                u8::from(scope_date.month()),
                scope_date.day()
            ),
            iso_date
        );
        assert_eq!(token.expose_bearer(), v.token, "{}", v.name);

        let classified = classify(&v.token).unwrap();
        assert_eq!(classified.token_type(), TokenType::ShortTerm);
        assert_eq!(classified.token_type().to_string(), "SHORT_TERM");
        assert_eq!(classified, BearerToken::ShortTerm(token));
    }
}

#[test]
fn formatting_a_vector_token_leaks_nothing() {
    for v in vectors().vectors {
        let token = classify(&v.token).unwrap();
        let creds = credentials(&v);
        let signature = match &token {
            BearerToken::ShortTerm(t) => t.expose_signature().to_owned(),
            BearerToken::LongTerm(_) => unreachable!("vectors are short-term"),
        };
        let printed = [
            format!("{token}"),
            format!("{token:?}"),
            format!("{token:#?}"),
            format!("{creds}"),
            format!("{creds:?}"),
        ];
        let mut secrets = vec![
            signature,
            v.secret_access_key.clone(),
            v.access_key_id.clone(),
            v.token[16..40].to_owned(),
        ];
        secrets.extend(v.session_token.clone());
        for text in &printed {
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{}: leaked in {text}",
                    v.name
                );
            }
        }
    }
}
