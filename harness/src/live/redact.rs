//! What may be stored of an AWS answer: the sandbox account becomes 123456789012, live names
//! become the case's, and request ids, keys, access key ids and signatures are removed.

use super::names::{Renamer, CASE_ACCOUNT};
use keyward_bedrock::REDACTED_REQUEST_ID;

pub const REDACTED: &str = "<redacted>";

/// Redacts one text for storage. `renamer` maps case names to live names (it is applied in
/// reverse); `account` is the sandbox account.
pub fn for_storage(text: &str, renamer: &Renamer, account: &str) -> String {
    let s = renamer.to_case(text);
    let s = super::names::replace_whole(&s, account, CASE_ACCOUNT);
    let s = request_ids(&s);
    let s = prefixed_runs(&s, "bedrock-api-key-", 8);
    let s = prefixed_runs(&s, "ABSK", 16);
    let s = access_key_ids(&s);
    hex_signatures(&s)
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-' | b'%')
}

/// `prefix` followed by at least `min` base64 characters becomes `<redacted>`.
fn prefixed_runs(s: &str, prefix: &str, min: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        let tail = &rest.as_bytes()[i + prefix.len()..];
        let n = tail.iter().take_while(|&&c| is_b64(c)).count();
        out.push_str(&rest[..i]);
        if n >= min {
            out.push_str(REDACTED);
            rest = &rest[i + prefix.len() + n..];
        } else {
            out.push_str(prefix);
            rest = &rest[i + prefix.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// Any 8-4-4-4-12 hex id becomes the zero id.
fn request_ids(s: &str) -> String {
    let b = s.as_bytes();
    let shape = [8usize, 4, 4, 4, 12];
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    while i + 36 <= b.len() {
        let mut j = i;
        let ok = (i == 0 || !b[i - 1].is_ascii_hexdigit())
            && shape.iter().enumerate().all(|(k, &n)| {
                let run = b[j..j + n].iter().all(u8::is_ascii_hexdigit);
                j += n;
                let sep = k == 4 || b[j] == b'-';
                if k < 4 {
                    j += 1;
                }
                run && sep
            })
            && b.get(i + 36).is_none_or(|c| !c.is_ascii_hexdigit());
        if ok {
            out.push_str(&s[last..i]);
            out.push_str(REDACTED_REQUEST_ID);
            i += 36;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

fn access_key_ids(s: &str) -> String {
    let mut out = s.to_string();
    for p in ["AKIA", "ASIA"] {
        let mut res = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(p) {
            let tail = &rest.as_bytes()[i + 4..];
            let n = tail
                .iter()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                .count();
            res.push_str(&rest[..i]);
            if n == 16 {
                res.push_str(REDACTED);
            } else {
                res.push_str(&rest[i..i + 4 + n]);
            }
            rest = &rest[i + 4 + n..];
        }
        res.push_str(rest);
        out = res;
    }
    out
}

/// Runs of 64 hex characters (SigV4 signatures and payload hashes) become `<redacted>`.
fn hex_signatures(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i].is_ascii_hexdigit() && (i == 0 || !b[i - 1].is_ascii_hexdigit()) {
            let n = b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if n == 64 {
                out.push_str(&s[last..i]);
                out.push_str(REDACTED);
                last = i + n;
            }
            i += n;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_names_ids_keys_and_signatures_are_removed() {
        let mut r = Renamer::new();
        r.add("dev", "keyward-abcdefgh-1-dev");
        let sig = "a".repeat(64);
        let key = format!("ABSK{}", "Q".repeat(40));
        let text = format!(
            "arn:aws:sts::999988887777:assumed-role/keyward-abcdefgh-1-dev/alice \
             <RequestId>4b0e8f4c-1a2b-4c3d-9e8f-0123456789ab</RequestId> \
             AKIA{} X-Amz-Signature={sig} {key} bedrock-api-key-{}",
            "ABCDEFGHIJKLMNOP",
            "Z".repeat(30)
        );
        let s = for_storage(&text, &r, "999988887777");
        assert!(
            s.contains("arn:aws:sts::123456789012:assumed-role/dev/alice"),
            "{s}"
        );
        assert!(s.contains(REDACTED_REQUEST_ID), "{s}");
        assert!(!s.contains("4b0e8f4c") && !s.contains("AKIAABCD") && !s.contains(&sig));
        assert!(!s.contains("QQQQ") && !s.contains("ZZZZ"), "{s}");
        assert_eq!(s.matches(REDACTED).count(), 4, "{s}");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let r = Renamer::new();
        let t = "User: arn:aws:iam::123456789012:user/alice is not authorized (ABSK short)";
        assert_eq!(for_storage(t, &r, "999988887777"), t);
    }
}
