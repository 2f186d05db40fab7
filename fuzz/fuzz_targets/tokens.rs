//! The key parsers: `classify` (both kinds by prefix), `ShortTermToken::parse` and
//! `from_presigned_url`, `LongTermKey::parse`. The first byte of the input picks what the rest
//! is: 0 a whole key; 1 the decoded body of a short-term key (it is base64-encoded after the
//! `bedrock-api-key-` prefix, so that the fuzzer mutates the presigned URL itself); 2 the decoded
//! body of a long-term key (`ABSK` + base64); 3 a presigned URL given to `from_presigned_url`.
//! No parser panics; a key that reads is written back (`expose_bearer`) into a key that reads
//! to the same token; printing a token never shows its signature or secret.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keyward_bedrock::{
    classify, BearerToken, LongTermKey, ShortTermToken, LONG_TERM_PREFIX, SHORT_TERM_PREFIX,
};
use libfuzzer_sys::fuzz_target;

fn check_short(t: &ShortTermToken) {
    let again = ShortTermToken::parse(&t.expose_bearer())
        .unwrap_or_else(|e| panic!("written-back short-term key does not read: {e}"));
    assert!(again == *t, "written-back short-term key reads differently");
    let shown = format!("{t} {t:?}");
    let signature = t.expose_signature();
    assert!(
        !shown.contains(signature),
        "a short-term key prints its signature"
    );
    if let Some(s) = t.expose_session_token().filter(|s| s.len() >= 16) {
        assert!(
            !shown.contains(s),
            "a short-term key prints its session token"
        );
    }
    let _ = t.is_expired_at(std::time::SystemTime::UNIX_EPOCH);
    let _ = t.amz_date();
}

fn check_long(k: &LongTermKey) {
    let again = LongTermKey::parse(&k.expose_bearer())
        .unwrap_or_else(|e| panic!("written-back long-term key does not read: {e}"));
    assert!(again == *k, "written-back long-term key reads differently");
    // What a key prints does not change with its secret.
    let other = LongTermKey::new(k.alias().clone(), &"#".repeat(k.expose_secret().len()))
        .expect("a non-empty secret");
    assert_eq!(
        format!("{k} {k:?}"),
        format!("{other} {other:?}"),
        "a long-term key prints its secret"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match mode % 4 {
        0 => match classify(text) {
            Ok(BearerToken::ShortTerm(t)) => check_short(&t),
            Ok(BearerToken::LongTerm(k)) => check_long(&k),
            Err(e) => {
                let _ = e.to_string();
            }
        },
        1 => {
            let key = format!("{SHORT_TERM_PREFIX}{}", STANDARD.encode(text));
            match ShortTermToken::parse(&key) {
                Ok(t) => check_short(&t),
                Err(e) => {
                    let _ = e.to_string();
                }
            }
            let _ = classify(&key);
        }
        2 => {
            let key = format!("{LONG_TERM_PREFIX}{}", STANDARD.encode(text));
            match LongTermKey::parse(&key) {
                Ok(k) => check_long(&k),
                Err(e) => {
                    let _ = e.to_string();
                }
            }
            let _ = classify(&key);
        }
        _ => match ShortTermToken::from_presigned_url(text) {
            Ok(t) => check_short(&t),
            Err(e) => {
                let _ = e.to_string();
            }
        },
    }
});
