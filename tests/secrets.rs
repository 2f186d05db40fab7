//! Secret-shape scan: no file under `fixtures/` or `snapshots/` may hold anything shaped like a
//! credential (Bedrock API keys, AWS access key ids, SigV4 signatures, secret access keys, session
//! tokens) and, under `fixtures/recorded/`, real-looking request ids or account ids.
//!
//! Every file is read, whatever its type (bytes are decoded lossily: every shape is ASCII). A
//! finding names the file, the line and the shape, and shows at most the first 8 characters of
//! the match followed by "…" — never the whole value.
//!
//! The planted samples below are assembled at run time from pieces, so this file itself holds no
//! contiguous secret-shaped string (`this_file_holds_no_contiguous_secret_shape` checks that).

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::root;

mod detector {
    use std::fmt;
    use std::sync::LazyLock;

    use regex::Regex;

    /// The kinds of shape the scan looks for.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Shape {
        /// `bedrock-api-key-` followed by at least 40 base64 characters.
        BedrockShortTermKey,
        /// `ABSK` followed by at least 40 base64 characters.
        BedrockLongTermKey,
        /// `AKIA`/`ASIA` and 16 of `[A-Z0-9]`, bounded by non-alphanumerics.
        AwsAccessKeyId,
        /// `X-Amz-Signature=` (query string form) and 64 hex characters.
        SigV4QuerySignature,
        /// `Signature=` (Authorization header form) and 64 hex characters.
        SigV4HeaderSignature,
        /// A bounded 40-character `[A-Za-z0-9/+]` run on a line that mentions "secret".
        SecretAccessKey,
        /// `X-Amz-Security-Token=` and at least 20 characters.
        SecurityTokenParameter,
        /// "SessionToken" followed on its line by a base64 run of at least 100 characters.
        SessionToken,
        /// A UUID other than the all-zero one (recorded fixtures only).
        RequestId,
        /// A bounded 12-digit run other than 123456789012 (recorded fixtures only).
        AccountId,
    }

    impl Shape {
        pub fn describe(self) -> &'static str {
            match self {
                Shape::BedrockShortTermKey => "Bedrock short-term API key (bedrock-api-key-…)",
                Shape::BedrockLongTermKey => "Bedrock long-term API key (ABSK…)",
                Shape::AwsAccessKeyId => "AWS access key id (AKIA…/ASIA…)",
                Shape::SigV4QuerySignature => "SigV4 signature (X-Amz-Signature=…)",
                Shape::SigV4HeaderSignature => "SigV4 signature (Authorization header Signature=…)",
                Shape::SecretAccessKey => "AWS secret access key (40 chars on a \"secret\" line)",
                Shape::SecurityTokenParameter => "session token (X-Amz-Security-Token=…)",
                Shape::SessionToken => "session token (SessionToken + long base64)",
                Shape::RequestId => "real-looking request id (UUID) in a recorded fixture",
                Shape::AccountId => "real-looking account id (12 digits) in a recorded fixture",
            }
        }
    }

    /// One match. The matched text is private: it is only ever shown through [`Finding::preview`].
    #[derive(Clone, PartialEq, Eq)]
    pub struct Finding {
        pub shape: Shape,
        /// 1-based line number.
        pub line: usize,
        /// 1-based byte column.
        pub column: usize,
        matched: String,
    }

    impl Finding {
        /// At most the first 8 characters of the match, then "…".
        pub fn preview(&self) -> String {
            let head: String = self.matched.chars().take(8).collect();
            format!("{head}…")
        }

        /// True when the match is exactly `s` (for allowlisting by exact string).
        pub fn matches_exactly(&self, s: &str) -> bool {
            self.matched == s
        }

        pub fn matched_len(&self) -> usize {
            self.matched.len()
        }
    }

    impl fmt::Display for Finding {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "line {}, column {}: {} [{}]",
                self.line,
                self.column,
                self.shape.describe(),
                self.preview()
            )
        }
    }

    // Redacted as well, so an accidental `{:?}` never prints a whole secret.
    impl fmt::Debug for Finding {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Display::fmt(self, f)
        }
    }

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern).expect("detector regex compiles")
    }

    static SHORT_TERM_KEY: LazyLock<Regex> =
        LazyLock::new(|| re(r"bedrock-api-key-[A-Za-z0-9+/=_-]{40,}"));
    static LONG_TERM_KEY: LazyLock<Regex> = LazyLock::new(|| re(r"ABSK[A-Za-z0-9+/=_-]{40,}"));
    static ALNUM_RUN: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9]+"));
    static ACCESS_KEY_ID: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:AKIA|ASIA)[A-Z0-9]{16}$"));
    static QUERY_SIGNATURE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)x-amz-signature=[0-9a-f]{64}"));
    // Any `Signature=` + 64 hex that is not the `X-Amz-Signature=` query form (reported above):
    // covers `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=<hex>`.
    static HEADER_SIGNATURE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)signature=[0-9a-f]{64}"));
    static SECRET_KEY_RUN: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9/+]+"));
    // A token in a query string never holds raw whitespace or quotes: stop there as well as at `&`.
    static SECURITY_TOKEN_PARAM: LazyLock<Regex> =
        LazyLock::new(|| re(r#"(?i)x-amz-security-token=[^&\s"']{20,}"#));
    static SESSION_TOKEN_WORD: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)session_?token"));
    // `\` too: JSON may escape the token's slashes as `\/`.
    static BASE64_RUN_100: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9+/=\\]{100,}"));
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        re(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
    });
    static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9]+"));

    /// AWS's documented example secret access key (IAM user guide), a placeholder by construction.
    const EXAMPLE_SECRET_ACCESS_KEY: &str = concat!("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY");
    /// The redacted request id recorded fixtures use.
    const ZERO_UUID: &str = "00000000-0000-0000-0000-000000000000";
    /// AWS's documented example account id.
    const EXAMPLE_ACCOUNT_ID: &str = "123456789012";

    fn push(out: &mut Vec<Finding>, shape: Shape, line: usize, start: usize, matched: &str) {
        out.push(Finding {
            shape,
            line,
            column: start + 1,
            matched: matched.to_owned(),
        });
    }

    /// Credential shapes 1–6, anywhere.
    pub fn find_secrets(text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let n = index + 1;

            for m in SHORT_TERM_KEY.find_iter(line) {
                push(
                    &mut out,
                    Shape::BedrockShortTermKey,
                    n,
                    m.start(),
                    m.as_str(),
                );
            }
            for m in LONG_TERM_KEY.find_iter(line) {
                push(
                    &mut out,
                    Shape::BedrockLongTermKey,
                    n,
                    m.start(),
                    m.as_str(),
                );
            }
            // A maximal alphanumeric run is bounded by non-alphanumerics by construction.
            for m in ALNUM_RUN.find_iter(line) {
                let id = m.as_str();
                if ACCESS_KEY_ID.is_match(id) && !id.ends_with("EXAMPLE") {
                    push(&mut out, Shape::AwsAccessKeyId, n, m.start(), id);
                }
            }
            for m in QUERY_SIGNATURE.find_iter(line) {
                push(
                    &mut out,
                    Shape::SigV4QuerySignature,
                    n,
                    m.start(),
                    m.as_str(),
                );
            }
            for m in HEADER_SIGNATURE.find_iter(line) {
                if !line[..m.start()].ends_with('-') {
                    push(
                        &mut out,
                        Shape::SigV4HeaderSignature,
                        n,
                        m.start(),
                        m.as_str(),
                    );
                }
            }
            if line.to_ascii_lowercase().contains("secret") {
                for m in SECRET_KEY_RUN.find_iter(line) {
                    let run = m.as_str();
                    if run.len() == 40 && run != EXAMPLE_SECRET_ACCESS_KEY {
                        push(&mut out, Shape::SecretAccessKey, n, m.start(), run);
                    }
                }
            }
            for m in SECURITY_TOKEN_PARAM.find_iter(line) {
                push(
                    &mut out,
                    Shape::SecurityTokenParameter,
                    n,
                    m.start(),
                    m.as_str(),
                );
            }
            if let Some(word) = SESSION_TOKEN_WORD.find(line) {
                let after = word.end();
                for m in BASE64_RUN_100.find_iter(&line[after..]) {
                    push(
                        &mut out,
                        Shape::SessionToken,
                        n,
                        after + m.start(),
                        m.as_str(),
                    );
                }
            }
        }
        out
    }

    /// Identifier shapes 7–8, for recorded fixtures only.
    pub fn find_recorded_identifiers(text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let n = index + 1;
            let uuids: Vec<_> = UUID.find_iter(line).map(|m| m.range()).collect();
            for m in UUID.find_iter(line) {
                if m.as_str() != ZERO_UUID {
                    push(&mut out, Shape::RequestId, n, m.start(), m.as_str());
                }
            }
            // A maximal digit run is bounded by non-digits by construction. The last group of a
            // UUID can be 12 digits (the zero UUID's is): that is a request id, judged above.
            for m in DIGIT_RUN.find_iter(line) {
                let in_uuid = uuids
                    .iter()
                    .any(|u| u.start <= m.start() && m.end() <= u.end);
                if m.as_str().len() == 12 && m.as_str() != EXAMPLE_ACCOUNT_ID && !in_uuid {
                    push(&mut out, Shape::AccountId, n, m.start(), m.as_str());
                }
            }
        }
        out
    }
}

use detector::{find_recorded_identifiers, find_secrets, Finding, Shape};

/// Values that match a shape but are not secrets by construction: (file, exact match, why).
/// Keep every entry exact and scoped to one file.
const ALLOWLIST: &[(&str, &str, &str)] = &[];

/// The directories scanned, relative to the manifest dir.
const SCANNED: &[&str] = &["fixtures", "snapshots"];

fn is_recorded(rel: &Path) -> bool {
    rel.starts_with(Path::new("fixtures").join("recorded"))
}

/// Every finding for one file, by its path relative to the manifest dir.
fn scan_text(rel: &Path, text: &str) -> Vec<Finding> {
    let mut findings = find_secrets(text);
    if is_recorded(rel) {
        findings.extend(find_recorded_identifiers(text));
    }
    findings.retain(|f| {
        !ALLOWLIST
            .iter()
            .any(|(file, exact, _)| Path::new(file) == rel && f.matches_exactly(exact))
    });
    findings
}

struct ScanReport {
    /// Files read, relative to the manifest dir.
    files: Vec<PathBuf>,
    bytes: usize,
    findings: Vec<(PathBuf, Finding)>,
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn scan_repository() -> ScanReport {
    let root = root();
    let mut report = ScanReport {
        files: Vec::new(),
        bytes: 0,
        findings: Vec::new(),
    };
    for dir in SCANNED {
        let mut paths = Vec::new();
        collect_files(&root.join(dir), &mut paths);
        for path in paths {
            let bytes =
                fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let rel = path
                .strip_prefix(root)
                .expect("under the manifest dir")
                .to_path_buf();
            report.bytes += bytes.len();
            // Every shape is ASCII, so a lossy decode loses nothing for binary files.
            let text = String::from_utf8_lossy(&bytes);
            for finding in scan_text(&rel, &text) {
                report.findings.push((rel.clone(), finding));
            }
            report.files.push(rel);
        }
    }
    report
}

fn shapes(findings: &[Finding]) -> Vec<Shape> {
    findings.iter().map(|f| f.shape).collect()
}

// ---------------------------------------------------------------------------------------------
// The real scan.

#[test]
fn fixtures_and_snapshots_hold_no_secret_shapes() {
    let report = scan_repository();
    if !report.findings.is_empty() {
        let lines: Vec<String> = report
            .findings
            .iter()
            .map(|(file, f)| {
                let (shape, preview) = (f.shape.describe(), f.preview());
                format!(
                    "  {}:{}:{}: {shape} [{preview}]",
                    file.display(),
                    f.line,
                    f.column
                )
            })
            .collect();
        panic!(
            "{} secret-shaped value(s) in {} scanned files:\n{}\n\
             Redact them (or, only for values that are not secrets by construction, add an exact \
             ALLOWLIST entry in tests/secrets.rs with the reason).",
            report.findings.len(),
            report.files.len(),
            lines.join("\n")
        );
    }
}

#[test]
fn scan_visits_fixtures_and_snapshots() {
    let report = scan_repository();
    for dir in SCANNED {
        assert!(
            report.files.iter().any(|f| f.starts_with(dir)),
            "the scan read no file under {dir}/"
        );
    }
    assert!(report.bytes > 0, "the scan read no bytes");
}

#[test]
fn allowlist_entries_are_exact_and_still_needed() {
    let root = root();
    for (file, exact, why) in ALLOWLIST {
        assert!(
            !why.trim().is_empty(),
            "allowlist entry for {file} has no reason"
        );
        let text = fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("allowlisted {file}: {e}"));
        assert!(
            text.contains(exact),
            "allowlist entry for {file} no longer matches anything: remove it"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The detector finds every shape (planted samples, assembled at run time) ...

fn b64(len: usize) -> String {
    "Qm9+/x7Z".chars().cycle().take(len).collect()
}

fn hex64() -> String {
    "0a1b2c3d4e5f6789".repeat(4)
}

fn found(text: &str, shape: Shape) -> bool {
    shapes(&find_secrets(text)).contains(&shape)
}

#[test]
fn finds_bedrock_short_term_key() {
    let key = format!("{}{}", "bedrock-api-key-", b64(40));
    assert!(found(
        &format!("\"token\": \"{key}\""),
        Shape::BedrockShortTermKey
    ));
    let long = format!("{}{}==", "bedrock-api-key-", b64(600));
    assert!(found(&long, Shape::BedrockShortTermKey));
}

#[test]
fn finds_bedrock_long_term_key() {
    let key = format!("{}{}", "ABSK", "Q".repeat(60));
    assert!(found(
        &format!("AWS_BEARER_TOKEN_BEDROCK={key}"),
        Shape::BedrockLongTermKey
    ));
}

#[test]
fn finds_access_key_ids() {
    for prefix in ["AK", "AS"] {
        let id = format!("{prefix}{}{}", "IA", "Z3Q7X2M4N8P1R5T6");
        assert!(
            found(&format!("\"{id}\""), Shape::AwsAccessKeyId),
            "{prefix}IA id"
        );
        assert!(
            found(&id, Shape::AwsAccessKeyId),
            "{prefix}IA id alone on its line"
        );
        assert!(found(
            &format!("Credential={id}/20250101/us-east-1"),
            Shape::AwsAccessKeyId
        ));
    }
}

#[test]
fn finds_sigv4_signatures() {
    let query = format!(
        "https://bedrock.amazonaws.com/?Action=CallWithBearerToken&{}={}",
        "X-Amz-Signature",
        hex64()
    );
    let f = find_secrets(&query);
    assert_eq!(
        shapes(&f),
        vec![Shape::SigV4QuerySignature],
        "reported once, as the query form"
    );
    let lower = format!("{}={}", "x-amz-signature", hex64());
    assert!(found(&lower, Shape::SigV4QuerySignature));

    let header = format!(
        "Authorization: AWS4-HMAC-SHA256 Credential=KEY/20250101/us-east-1/bedrock/aws4_request, \
         SignedHeaders=host;x-amz-date, {}={}",
        "Signature",
        hex64()
    );
    assert_eq!(
        shapes(&find_secrets(&header)),
        vec![Shape::SigV4HeaderSignature]
    );
}

#[test]
fn finds_secret_access_keys() {
    let key = "aB3/".repeat(10);
    assert_eq!(key.len(), 40);
    assert!(found(
        &format!("aws_secret_access_key = {key}"),
        Shape::SecretAccessKey
    ));
    assert!(found(
        &format!("\"SecretAccessKey\": \"{key}\","),
        Shape::SecretAccessKey
    ));
}

#[test]
fn finds_session_tokens() {
    let param = format!(
        "&{}={}&X-Amz-Date=x",
        "X-Amz-Security-Token",
        "IQoJb3JpZ2luX2VjE%2F".repeat(2)
    );
    assert!(found(&param, Shape::SecurityTokenParameter));
    let json = format!("\"SessionToken\": \"{}\"", b64(120));
    assert!(found(&json, Shape::SessionToken));
    let escaped = format!("\"SessionToken\": \"{}\"", b64(120).replace('/', "\\/"));
    assert!(found(&escaped, Shape::SessionToken), "JSON-escaped slashes");
    let env = format!("AWS_SESSION_TOKEN={}", b64(400));
    assert!(found(&env, Shape::SessionToken));
}

#[test]
fn finds_request_and_account_ids_in_recorded_fixtures_only() {
    let uuid = format!(
        "{}-{}-4{}-8{}-{}",
        "3f2a9c1e", "7b4d", "e2f", "a6c", "0123456789ab"
    );
    let account = format!("{}{}", "210987", "654321");
    let line = format!("\"requestId\": \"{uuid}\", \"role\": \"arn:aws:iam::{account}:role/dev\"");

    let recorded = Path::new("fixtures/recorded/bedrock/x.json");
    let f = scan_text(recorded, &line);
    assert!(shapes(&f).contains(&Shape::RequestId));
    assert!(shapes(&f).contains(&Shape::AccountId));

    // A UUID whose last group is all digits is reported once, as a request id.
    let digits_uuid = format!(
        "{}-{}-{}-{}-{}",
        "12345678", "1234", "1234", "1234", "987654321098"
    );
    assert_eq!(
        shapes(&scan_text(recorded, &digits_uuid)),
        vec![Shape::RequestId]
    );

    let documented = Path::new("fixtures/documented/x.json");
    assert!(
        scan_text(documented, &line).is_empty(),
        "ids are only checked under fixtures/recorded/"
    );
}

#[test]
fn findings_name_the_line_and_never_print_the_whole_value() {
    let key = format!("{}{}", "ABSK", b64(60));
    let text = format!("{{\n  \"a\": 1,\n  \"key\": \"{key}\"\n}}\n");
    let f = find_secrets(&text);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].line, f[0].column), (3, 11));
    let shown = f[0].to_string();
    let debug = format!("{:?}", f[0]);
    for s in [&shown, &debug] {
        assert!(!s.contains(&key), "the whole key is printed: {s}");
        assert!(
            s.contains(&format!("{}…", &key[..8])),
            "no 8-character preview: {s}"
        );
        assert!(s.contains("line 3"), "no line number: {s}");
        assert!(s.contains("long-term"), "no shape: {s}");
    }
    assert_eq!(f[0].matched_len(), key.len());
}

// ... and ignores the near misses.

fn assert_clean(text: &str) {
    let f = find_secrets(text);
    assert!(f.is_empty(), "unexpected findings in a near miss: {f:?}");
}

#[test]
fn ignores_short_or_bare_bedrock_prefixes() {
    assert_clean(&format!("{}{}", "bedrock-api-key-", b64(10)));
    assert_clean(&format!("{}{}", "bedrock-api-key-", b64(39)));
    assert_clean("it starts with neither `bedrock-api-key-` nor `ABSK`");
    assert_clean(&format!("{}{}", "ABSK", "Q".repeat(39)));
}

#[test]
fn ignores_example_and_malformed_access_key_ids() {
    assert_clean(&format!("\"key\": \"{}{}\"", "AKIAIOSFODNN7", "EXAMPLE"));
    assert_clean(&format!("\"key\": \"{}{}\"", "ASIAIOSFODNN7", "EXAMPLE"));
    assert_clean(&format!("{}{}", "AKIA", "Z3Q7X2M4N8P1R5T")); // 15 after the prefix
    assert_clean(&format!("{}{}", "AKIA", "Z3Q7X2M4N8P1R5T6A")); // 17 after the prefix
    assert_clean(&format!("x{}{}", "AKIA", "Z3Q7X2M4N8P1R5T6")); // not bounded on the left
    assert_clean(&format!("{}{}", "AKIA", "z3q7x2m4n8p1r5t6")); // lower case
    assert_clean(&format!("{}{}", "AIDA", "Z3Q7X2M4N8P1R5T6")); // a user id, not an access key
}

#[test]
fn ignores_short_signatures() {
    let short = &hex64()[..63];
    assert_clean(&format!("{}={short}", "X-Amz-Signature"));
    assert_clean(&format!("{}={short}", "Signature"));
    assert_clean(&format!("{}={}", "Signature", "g".repeat(64)));
}

#[test]
fn ignores_non_secret_runs() {
    let key39 = "aB3/".repeat(10)[..39].to_owned();
    let key41 = format!("{}x", "aB3/".repeat(10));
    assert_clean(&format!("aws_secret_access_key = {key39}"));
    assert_clean(&format!("aws_secret_access_key = {key41}"));
    assert_clean(&format!("not the other key = {}", "aB3/".repeat(10)));
    assert_clean(&format!(
        "aws_secret_access_key = {}{}",
        "wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY"
    ));
    assert_clean(
        "\"resource\": \"arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-a1b2c3\"",
    );
}

#[test]
fn ignores_short_session_tokens() {
    assert_clean(&format!(
        "{}={}&b=c",
        "X-Amz-Security-Token",
        "x".repeat(19)
    ));
    assert_clean("the X-Amz-Security-Token= parameter");
    assert_clean(&format!("\"SessionToken\": \"{}\"", b64(99)));
    assert_clean(&format!("{} \"SessionToken\"", b64(120))); // the run comes before the word
}

#[test]
fn ignores_redacted_ids_in_recorded_fixtures() {
    let recorded = Path::new("fixtures/recorded/bedrock/x.json");
    let line = "\"requestId\": \"00000000-0000-0000-0000-000000000000\", \
                \"principal\": \"arn:aws:iam::123456789012:user/alice\", \
                \"time\": 1735689600, \"ms\": 1735689600000, \"n\": 12345678901";
    let f = scan_text(recorded, line);
    assert!(f.is_empty(), "unexpected findings: {f:?}");
}

#[test]
fn this_file_holds_no_contiguous_secret_shape() {
    let path = root().join("tests").join("secrets.rs");
    let text = fs::read_to_string(&path).expect("read tests/secrets.rs");
    let f = find_secrets(&text);
    assert!(
        f.is_empty(),
        "tests/secrets.rs holds secret-shaped strings: {f:?}"
    );
}
