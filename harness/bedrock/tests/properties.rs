//! Properties of the token parsers and the generator over generated inputs.

use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keyward_bedrock::{classify, BearerToken, GenerateError, Param, TokenError, TokenType};
use keyward_bedrock::{generate, ExpiresIn, LongTermKey, ShortTermToken, SigningCredentials};
use keyward_bedrock::{AccountId, CredentialAlias, UserName};
use keyward_bedrock::{LONG_TERM_PREFIX, SHORT_TERM_PREFIX};
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

/// Either key prefix, or none.
fn prefix() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![SHORT_TERM_PREFIX, LONG_TERM_PREFIX, ""])
}

/// What `classify` must answer for `token`, layer by layer as a key is built
/// (docs/aws-behaviour.md §1.2: a prefix, then standard padded base64 of UTF-8 text), each layer
/// decided here with the base64 crate and the standard library rather than the crate's own
/// decoder. Past the outer layers: a short-term key whose decoded host is not
/// `bedrock.amazonaws.com` is `WrongHost`, a long-term key that is not `<alias>:<secret>` is
/// `BadLongTermLayout`, and whatever is accepted has the prefix's kind and reads back to itself
/// from the key it writes.
fn check_classification(token: &str) -> Result<Result<BearerToken, TokenError>, TestCaseError> {
    let got = classify(token);
    if token.is_empty() {
        prop_assert_eq!(&got, &Err(TokenError::Empty));
        return Ok(got);
    }
    if token.trim() != token {
        prop_assert_eq!(&got, &Err(TokenError::SurroundingWhitespace));
        return Ok(got);
    }
    let (kind, prefix, body) = if let Some(b) = token.strip_prefix(SHORT_TERM_PREFIX) {
        (TokenType::ShortTerm, SHORT_TERM_PREFIX, b)
    } else if let Some(b) = token.strip_prefix(LONG_TERM_PREFIX) {
        (TokenType::LongTerm, LONG_TERM_PREFIX, b)
    } else {
        prop_assert!(
            matches!(got, Err(TokenError::UnknownPrefix { .. })),
            "{:?}: {:?}",
            token,
            got
        );
        return Ok(got);
    };
    if body.is_empty() {
        prop_assert_eq!(&got, &Err(TokenError::NothingAfterPrefix { prefix }));
        return Ok(got);
    }
    let bytes = match STANDARD.decode(body) {
        Ok(bytes) => bytes,
        Err(cause) => {
            let want = Err(TokenError::BadBase64 {
                kind,
                prefix,
                cause,
            });
            prop_assert_eq!(&got, &want);
            return Ok(got);
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let want = Err(TokenError::NotUtf8 {
                kind,
                valid_up_to: e.utf8_error().valid_up_to(),
            });
            prop_assert_eq!(&got, &want);
            return Ok(got);
        }
    };
    match &got {
        Ok(parsed) => {
            prop_assert_eq!(parsed.token_type(), kind);
            prop_assert_eq!(&classify(&parsed.expose_bearer()), &got);
            if let BearerToken::LongTerm(key) = parsed {
                // The first `:` ends the alias; the rest is the secret, as it was written.
                let secret = text.split_once(':').map(|(_, s)| s);
                prop_assert_eq!(Some(key.expose_secret()), secret);
            }
        }
        Err(e) if kind == TokenType::LongTerm => {
            prop_assert!(
                matches!(e, TokenError::BadLongTermLayout { .. }),
                "{:?}: {:?}",
                text,
                e
            );
        }
        Err(e) => {
            let host = text.split(['/', '?']).next().unwrap_or_default();
            if host == "bedrock.amazonaws.com" {
                // An error inside the presigned URL, never one of the outer layers'.
                prop_assert!(
                    !matches!(
                        e,
                        TokenError::Empty
                            | TokenError::SurroundingWhitespace
                            | TokenError::UnknownPrefix { .. }
                            | TokenError::WrongPrefix { .. }
                            | TokenError::NothingAfterPrefix { .. }
                            | TokenError::BadBase64 { .. }
                            | TokenError::NotUtf8 { .. }
                            | TokenError::WrongHost { .. }
                            | TokenError::BadLongTermLayout { .. }
                    ),
                    "{:?}: {:?}",
                    text,
                    e
                );
            } else {
                prop_assert!(
                    matches!(e, TokenError::WrongHost { .. }),
                    "{:?}: {:?}",
                    text,
                    e
                );
            }
        }
    }
    Ok(got)
}

/// The text a long-term key carries: arbitrary bytes, or a well-formed `<user>-at-<account>:<secret>`.
#[derive(Debug, Clone)]
enum Content {
    Bytes(Vec<u8>),
    Layout {
        user: String,
        account: String,
        secret: String,
    },
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400).prop_map(Content::Bytes),
        (user_name(), "[0-9]{12}", "[ -~]{1,40}").prop_map(|(user, account, secret)| {
            Content::Layout {
                user,
                account,
                secret,
            }
        }),
    ]
}

/// The parameters of the presigned URL of [`valid_url`], in its order.
fn valid_params() -> Vec<(String, String)> {
    let (_, query) = valid_url().split_once('?').unwrap();
    query
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// One defect planted in a valid presigned URL, and what the parser must say of it.
#[derive(Debug, Clone)]
enum Defect {
    /// The parameter is left out.
    Drop(Param),
    /// The parameter appears twice.
    Repeat(Param),
    /// A parameter AWS's generators never write.
    Unknown(String),
    /// The parameters in another order (the order is not signed).
    Shuffle(Vec<usize>),
    /// Another host.
    Host(String),
    /// Another path.
    Path(String),
    /// Another action.
    Action(String),
    /// Another lifetime, in seconds.
    Expires(u64),
}

fn defect() -> impl Strategy<Value = Defect> {
    let param = prop::sample::select(Param::ALL.to_vec());
    let n = valid_params().len();
    prop_oneof![
        param.clone().prop_map(Defect::Drop),
        param.prop_map(Defect::Repeat),
        "[A-Za-z][A-Za-z0-9-]{0,15}"
            .prop_filter("not a parameter", |s| Param::from_wire(s).is_none())
            .prop_map(Defect::Unknown),
        Just((0..n).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_map(Defect::Shuffle),
        "[a-z0-9.-]{1,30}"
            .prop_filter("another host", |h| h != "bedrock.amazonaws.com")
            .prop_map(Defect::Host),
        "/[A-Za-z0-9._-]{1,12}".prop_map(Defect::Path),
        "[A-Za-z]{1,20}"
            .prop_filter("another action", |a| a != "CallWithBearerToken")
            .prop_map(Defect::Action),
        prop_oneof![0..=100_000u64, Just(u64::MAX)].prop_map(Defect::Expires),
    ]
}

/// What the key of a URL with one defect must read as.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    /// The valid token itself.
    Same,
    /// The valid token without its session token.
    WithoutSessionToken,
    /// The valid token with another lifetime.
    Lifetime(u64),
    /// This error.
    Error(TokenError),
}

/// The URL with the defect planted, and what its key must read as.
fn plant(d: &Defect) -> (String, Reading) {
    let params = valid_params();
    let url = |host: &str, path: &str, ps: &[(String, String)]| {
        let query: Vec<String> = ps.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{host}{path}?{}", query.join("&"))
    };
    let host = "bedrock.amazonaws.com";
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        params
            .iter()
            .map(|(k, v)| {
                let v = if k == name { value } else { v.as_str() };
                (k.clone(), v.to_owned())
            })
            .collect()
    };
    match d {
        Defect::Drop(p) => {
            let kept: Vec<_> = params
                .iter()
                .filter(|(k, _)| k != p.as_str())
                .cloned()
                .collect();
            let want = if *p == Param::SecurityToken {
                Reading::WithoutSessionToken
            } else {
                Reading::Error(TokenError::MissingParameter(*p))
            };
            (url(host, "/", &kept), want)
        }
        Defect::Repeat(p) => {
            let mut ps = params.clone();
            let again = ps.iter().find(|(k, _)| k == p.as_str()).unwrap().clone();
            ps.push(again);
            let want = Reading::Error(TokenError::DuplicateParameter(*p));
            (url(host, "/", &ps), want)
        }
        Defect::Unknown(name) => {
            let mut ps = params.clone();
            ps.insert(1, (name.clone(), "1".into()));
            let want = Reading::Error(TokenError::UnexpectedParameter { name: name.clone() });
            (url(host, "/", &ps), want)
        }
        Defect::Shuffle(order) => {
            let ps: Vec<_> = order.iter().map(|i| params[*i].clone()).collect();
            (url(host, "/", &ps), Reading::Same)
        }
        Defect::Host(h) => {
            let want = Reading::Error(TokenError::WrongHost { found: h.clone() });
            (url(h, "/", &params), want)
        }
        Defect::Path(p) => {
            let want = Reading::Error(TokenError::WrongPath { found: p.clone() });
            (url(host, p, &params), want)
        }
        Defect::Action(a) => {
            let want = Reading::Error(TokenError::WrongAction { found: a.clone() });
            (url(host, "/", &with("Action", a)), want)
        }
        Defect::Expires(n) => {
            let want = if (1..=43_200).contains(n) {
                Reading::Lifetime(*n)
            } else {
                Reading::Error(TokenError::ExpiryOutOfRange { value: *n })
            };
            (url(host, "/", &with("X-Amz-Expires", &n.to_string())), want)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn classify_answers_any_string_by_the_layers_of_a_key(
        s in prop_oneof![
            any::<String>(),
            (prefix(), any::<String>()).prop_map(|(p, s)| format!("{p}{s}")),
            (prefix(), "[A-Za-z0-9+/]{0,40}={0,3}").prop_map(|(p, s)| format!("{p}{s}")),
        ],
    ) {
        check_classification(&s).map(drop)?;
    }

    #[test]
    fn classify_answers_base64_of_any_bytes_by_what_they_decode_to(
        content in content(),
        long_term in any::<bool>(),
    ) {
        let prefix = if long_term { LONG_TERM_PREFIX } else { SHORT_TERM_PREFIX };
        let bytes = match &content {
            Content::Bytes(b) => b.clone(),
            Content::Layout { user, account, secret } => {
                format!("{user}-at-{account}:{secret}").into_bytes()
            }
        };
        let token = format!("{prefix}{}", base64(&bytes));
        let got = check_classification(&token)?;
        // A well-formed long-term layout is a key, with the account and secret it was made of.
        if let (true, Content::Layout { account, secret, .. }) = (long_term, &content) {
            match got {
                Ok(BearerToken::LongTerm(key)) => {
                    prop_assert_eq!(key.account_id().as_str(), account.as_str());
                    prop_assert_eq!(key.expose_secret(), secret.as_str());
                }
                other => {
                    return Err(TestCaseError::fail(format!("{bytes:?} is a long-term key, got {other:?}")));
                }
            }
        }
    }

    #[test]
    fn classify_answers_near_miss_urls_by_the_layers_of_a_key(
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let url = apply(valid_url(), &edits);
        let token = format!("bedrock-api-key-{}", base64(&url));
        let got = check_classification(&token)?;
        if url == valid_url() {
            prop_assert!(got.is_ok(), "{:?}", got);
        }
    }

    #[test]
    fn classify_reports_the_one_defect_of_a_near_miss_url(d in defect()) {
        let (url, want) = plant(&d);
        let token = format!("bedrock-api-key-{}", base64(&url));
        let valid = ShortTermToken::parse(&format!("bedrock-api-key-{}", base64(valid_url())))
            .expect("the valid URL reads");
        let got = match classify(&token) {
            Ok(BearerToken::ShortTerm(t)) if t == valid => Reading::Same,
            Ok(BearerToken::ShortTerm(t)) if !t.has_session_token() => {
                prop_assert_eq!(t.access_key_id(), valid.access_key_id());
                prop_assert_eq!(t.signing_time(), valid.signing_time());
                Reading::WithoutSessionToken
            }
            Ok(BearerToken::ShortTerm(t)) => {
                prop_assert_eq!(t.signing_time(), valid.signing_time());
                prop_assert_eq!(t.region(), valid.region());
                Reading::Lifetime(t.expires_in().as_secs())
            }
            Ok(other) => {
                return Err(TestCaseError::fail(format!("{d:?}: not a short-term key: {other:?}")));
            }
            Err(e) => Reading::Error(e),
        };
        prop_assert_eq!(got, want, "{:?}: {}", d, url);
    }

    #[test]
    fn classify_answers_near_miss_tokens_by_the_layers_of_a_key(
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let token = format!("bedrock-api-key-{}", base64(valid_url()));
        check_classification(&apply(&token, &edits)).map(drop)?;
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

    /// Each input either meets what `generate` documents for it (an access key id of 16 to 128
    /// ASCII letters and digits, a non-empty secret, a non-empty session token when there is one,
    /// a Region of lower-case letters, digits and `-`, a time in the years SigV4 can write) or
    /// not: valid inputs make a token that reads back, and an error names a defect the inputs
    /// have.
    #[test]
    fn generate_makes_a_token_or_names_a_defect_of_its_inputs(
        akid in prop_oneof![any::<String>(), "[A-Z0-9]{16,128}"],
        secret in prop_oneof![Just(String::new()), any::<String>()],
        token in proptest::option::of(prop_oneof![Just(String::new()), any::<String>()]),
        region in prop_oneof![any::<String>(), region()],
        seconds in prop_oneof![0..=LAST_SECOND, any::<u64>()],
        expires in expires_in(),
    ) {
        let mut creds = SigningCredentials::new(akid.clone(), secret.clone());
        if let Some(token) = &token {
            creds = creds.with_session_token(token.clone());
        }
        // A time past what SystemTime holds is the epoch.
        let at = UNIX_EPOCH.checked_add(Duration::from_secs(seconds));
        let time_ok = at.is_none() || seconds <= LAST_SECOND;
        let at = at.unwrap_or(UNIX_EPOCH);
        let mut defects = Vec::new();
        if !((16..=128).contains(&akid.len()) && akid.bytes().all(|b| b.is_ascii_alphanumeric())) {
            defects.push("access key id");
        }
        if secret.is_empty() {
            defects.push("secret");
        }
        if token.as_deref() == Some("") {
            defects.push("session token");
        }
        let region_ok = (1..=64).contains(&region.len())
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            defects.push("region");
        }
        if !time_ok {
            defects.push("time");
        }
        match generate(&creds, &region, at, expires) {
            Ok(made) => {
                prop_assert!(defects.is_empty(), "made a token despite {:?}", defects);
                prop_assert_eq!(ShortTermToken::parse(&made.expose_bearer()).unwrap(), made.clone());
                prop_assert_eq!(made.region(), region.as_str());
                prop_assert_eq!(made.access_key_id(), akid.as_str());
                prop_assert_eq!(made.expires_in(), expires);
            }
            Err(e) => {
                let named = match &e {
                    GenerateError::InvalidAccessKeyId => "access key id",
                    GenerateError::EmptySecretAccessKey => "secret",
                    GenerateError::EmptySessionToken => "session token",
                    GenerateError::InvalidRegion { region: r } => {
                        prop_assert_eq!(r, &region);
                        "region"
                    }
                    GenerateError::SigningTimeOutOfRange => "time",
                    other => {
                        return Err(TestCaseError::fail(format!("not a defect of the inputs: {other}")));
                    }
                };
                prop_assert!(defects.contains(&named), "{} but the defects are {:?}", e, defects);
            }
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
