//! Properties of the token parsers and the generator over generated inputs.

use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyward_bedrock::{classify, BearerToken, TokenType};
use keyward_bedrock::{generate, ExpiresIn, LongTermKey, ShortTermToken, SigningCredentials};
use keyward_bedrock::{AccountId, CredentialAlias, UserName};
use proptest::prelude::*;

use crate::support::{base64, signed_at};

/// 9999-12-31T23:59:59Z, the last second SigV4's four-digit years can write.
const LAST_SECOND: u64 = 253_402_300_799;

fn credentials() -> impl Strategy<Value = SigningCredentials> {
    (
        "(AKIA|ASIA)[A-Z0-9]{12,40}",
        "[ -~]{1,60}",
        proptest::option::of("[A-Za-z0-9+/=]{16,300}"),
    )
        .prop_map(|(akid, secret, token)| {
            let creds = SigningCredentials::new(akid, secret);
            match token {
                Some(token) => creds.with_session_token(token),
                None => creds,
            }
        })
}

fn region() -> impl Strategy<Value = String> {
    "[a-z]{2}(-gov|-iso)?-[a-z]{4,9}-[1-9]"
}

fn signing_time() -> impl Strategy<Value = SystemTime> {
    (0..=LAST_SECOND, 0..1_000_000_000u32)
        .prop_map(|(s, nanos)| UNIX_EPOCH + Duration::new(s, nanos))
}

fn expires_in() -> impl Strategy<Value = ExpiresIn> {
    (1..=43_200u64).prop_map(|s| ExpiresIn::new(s).unwrap())
}

/// A valid token's presigned URL, the raw material for near misses.
fn valid_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let creds = SigningCredentials::new("ASIAIOSFODNN7EXAMPLE", "secret")
            .with_session_token("IQoJb3JpZ2luX2Vj+/=");
        generate(&creds, "us-east-1", signed_at(), ExpiresIn::MAX)
            .unwrap()
            .expose_presigned_url()
    })
}

/// One edit of a string: delete a span, insert text, or replace a span. Positions are taken
/// modulo the length, and the string is ASCII, so every cut is on a character boundary.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop_oneof![
        "[&=%/?]",
        "[A-Za-z0-9%&=+/.-]{1,12}",
        Just("&X-Amz-Expires=0".to_owned()),
        Just("&Version=1".to_owned()),
        Just("%2F".to_owned()),
        any::<String>(),
    ];
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), text.clone()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1..8usize, text).prop_map(|(at, len, s)| Edit::Replace(at, len, s)),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> String {
    let mut s = base.to_owned();
    for edit in edits {
        // Work on chars so that inserted non-ASCII text never splits a character later.
        let mut chars: Vec<char> = s.chars().collect();
        let n = chars.len().max(1);
        match edit {
            Edit::Delete(at, len) => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                chars.drain(at.min(chars.len())..end);
            }
            Edit::Insert(at, text) => {
                let at = (at % (chars.len() + 1)).min(chars.len());
                chars.splice(at..at, text.chars());
            }
            Edit::Replace(at, len, text) => {
                let at = (at % n).min(chars.len());
                let end = (at + len).min(chars.len());
                chars.splice(at..end, text.chars());
            }
        }
        s = chars.into_iter().collect();
    }
    s
}

fn user_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+=,.@-]{1,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn classify_never_panics_on_any_string(s in any::<String>()) {
        let _ = classify(&s);
    }

    #[test]
    fn classify_never_panics_on_base64_of_any_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        long_term in any::<bool>(),
    ) {
        let prefix = if long_term { "ABSK" } else { "bedrock-api-key-" };
        let token = format!("{prefix}{}", base64(&bytes));
        if let Ok(parsed) = classify(&token) {
            prop_assert_eq!(parsed.token_type() == TokenType::LongTerm, long_term);
        }
    }

    #[test]
    fn classify_never_panics_on_near_miss_urls(
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let url = apply(valid_url(), &edits);
        let token = format!("bedrock-api-key-{}", base64(&url));
        // Whatever parses must write back to something that parses to the same token.
        if let Ok(BearerToken::ShortTerm(parsed)) = classify(&token) {
            prop_assert_eq!(ShortTermToken::parse(&parsed.expose_bearer()).unwrap(), parsed);
        }
    }

    #[test]
    fn classify_never_panics_on_near_miss_tokens(
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let token = format!("bedrock-api-key-{}", base64(valid_url()));
        let _ = classify(&apply(&token, &edits));
    }

    #[test]
    fn generated_short_term_tokens_round_trip(
        creds in credentials(),
        region in region(),
        at in signing_time(),
        expires in expires_in(),
    ) {
        let token = generate(&creds, &region, at, expires).unwrap();
        let bearer = token.expose_bearer();
        let parsed = ShortTermToken::parse(&bearer).unwrap();
        prop_assert_eq!(parsed.expose_bearer(), bearer.clone());
        prop_assert_eq!(&parsed, &token);
        prop_assert_eq!(parsed.region(), region.as_str());
        prop_assert_eq!(parsed.access_key_id(), creds.access_key_id());
        prop_assert_eq!(parsed.has_session_token(), creds.has_session_token());
        prop_assert_eq!(parsed.expires_in(), expires);
        let whole = UNIX_EPOCH
            + Duration::from_secs(at.duration_since(UNIX_EPOCH).unwrap().as_secs());
        prop_assert_eq!(parsed.signing_time(), whole);
        prop_assert!(!parsed.is_expired_at(whole));
        prop_assert!(parsed.is_expired_at(whole + expires.as_duration()));
        prop_assert_eq!(classify(&bearer).unwrap(), BearerToken::ShortTerm(token));
    }

    #[test]
    fn generated_short_term_tokens_print_no_secret(
        creds in credentials(),
        region in region(),
        at in signing_time(),
        expires in expires_in(),
    ) {
        let token = generate(&creds, &region, at, expires).unwrap();
        let signature = token.expose_signature().to_owned();
        let session = token.expose_session_token().map(str::to_owned);
        for text in [format!("{token}"), format!("{token:?}"), format!("{token:#?}")] {
            prop_assert!(!text.contains(&signature[..16]));
            prop_assert!(!text.contains(creds.access_key_id()));
            if let Some(session) = &session {
                prop_assert!(!text.contains(session.as_str()));
            }
        }
    }

    #[test]
    fn generate_never_panics(
        akid in any::<String>(),
        secret in any::<String>(),
        token in proptest::option::of(any::<String>()),
        region in any::<String>(),
        seconds in any::<u64>(),
        expires in expires_in(),
    ) {
        let mut creds = SigningCredentials::new(akid, secret);
        if let Some(token) = token {
            creds = creds.with_session_token(token);
        }
        let at = UNIX_EPOCH.checked_add(Duration::from_secs(seconds)).unwrap_or(UNIX_EPOCH);
        if let Ok(token) = generate(&creds, &region, at, expires) {
            prop_assert_eq!(ShortTermToken::parse(&token.expose_bearer()).unwrap(), token);
        }
    }

    #[test]
    fn long_term_keys_round_trip(
        user in user_name(),
        slot in proptest::option::of(1..=u32::MAX),
        account in "[0-9]{12}",
        secret in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ) {
        let alias = CredentialAlias::new(
            UserName::new(&user).unwrap(),
            slot.and_then(NonZeroU32::new),
            AccountId::new(&account).unwrap(),
        );
        let key = LongTermKey::new(alias, &secret).unwrap();
        let bearer = key.expose_bearer();
        let parsed = LongTermKey::parse(&bearer).unwrap();
        prop_assert_eq!(parsed.expose_bearer(), bearer.clone());
        prop_assert_eq!(parsed.account_id().as_str(), account.as_str());
        prop_assert_eq!(parsed.expose_secret(), secret.as_str());
        // A user name that itself ends in `+<n>` without a slot reads back as that slot:
        // the layout cannot tell them apart, so only the alias text is sure to survive.
        prop_assert_eq!(parsed.alias().to_string(), key.alias().to_string());
        prop_assert_eq!(classify(&bearer).unwrap().token_type(), TokenType::LongTerm);
    }
}
