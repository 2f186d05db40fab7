//! Short-term keys: a SigV4-presigned `CallWithBearerToken` request, base64-encoded.
//!
//! Layout (docs/aws-behaviour.md §1.2, from AWS's generators):
//!
//! ```text
//! bedrock-api-key-<base64 (standard, padded) of>
//!   bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256
//!   &X-Amz-Credential=<akid>%2F<yyyymmdd>%2F<region>%2Fbedrock%2Faws4_request
//!   &X-Amz-Date=<yyyymmddThhmmssZ>&X-Amz-Expires=<1..=43200>&X-Amz-SignedHeaders=host
//!   [&X-Amz-Security-Token=<token>]&X-Amz-Signature=<64 hex>&Version=1
//! ```
//!
//! The parser accepts the parameters in any order (the service checks the signature, which
//! covers the sorted query, not the order), but writes them back in the order of AWS's Python
//! generator, so a token from that generator round-trips byte for byte.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use time::{Date, OffsetDateTime};

use crate::dates;

use super::encoding::decode_after_prefix;
use super::error::{Param, TokenError};
use super::kind::TokenType;
use crate::redact::{echo, KeyIdHint, Secret, REDACTED};

/// What every short-term key starts with.
pub const SHORT_TERM_PREFIX: &str = "bedrock-api-key-";
/// The host every short-term key is signed for, whatever its Region.
pub const HOST: &str = "bedrock.amazonaws.com";
/// The action a short-term key presigns.
pub const ACTION: &str = "CallWithBearerToken";
/// The only signing algorithm AWS's generators use.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service name in the credential scope of keys from AWS's generators.
pub const SIGNING_SERVICE: &str = "bedrock";
/// The only header a bearer token can sign: nothing else travels with it.
pub const SIGNED_HEADERS: &str = "host";
/// The `Version` AWS's generators append (after signing, so it is not covered by the signature).
pub const TOKEN_VERSION: u32 = 1;

const SCOPE_TERMINATOR: &str = "aws4_request";

/// botocore's `percent_encode`: everything but ASCII letters, digits and `-._~`, upper-case hex.
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How long a short-term key stays valid after its signing time: 1 to 43200 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpiresIn(u16);

impl ExpiresIn {
    /// The shortest expiry the generators accept.
    pub const MIN: ExpiresIn = ExpiresIn(1);
    /// Twelve hours: the longest expiry, and the generators' default.
    pub const MAX: ExpiresIn = ExpiresIn(43_200);

    /// Checks that `seconds` is in 1 to 43200.
    pub fn new(seconds: u64) -> Result<Self, TokenError> {
        match u16::try_from(seconds) {
            Ok(s) if (Self::MIN.0..=Self::MAX.0).contains(&s) => Ok(Self(s)),
            _ => Err(TokenError::ExpiryOutOfRange { value: seconds }),
        }
    }

    /// In seconds.
    pub const fn as_secs(self) -> u64 {
        self.0 as u64
    }

    /// As a duration.
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.0 as u64)
    }
}

impl Default for ExpiresIn {
    fn default() -> Self {
        Self::MAX
    }
}

impl fmt::Display for ExpiresIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// A parsed short-term Bedrock API key.
///
/// `Debug` and `Display` redact the signature and session token and shorten the access key id;
/// [`ShortTermToken::expose_bearer`] gives the key itself back.
#[derive(Clone, PartialEq, Eq)]
pub struct ShortTermToken {
    access_key_id: String,
    scope_date: Date,
    region: String,
    scope_service: String,
    signing_time: OffsetDateTime,
    expires_at: SystemTime,
    expires_in: ExpiresIn,
    session_token: Option<Secret>,
    signature: Secret,
    version: u32,
}

impl ShortTermToken {
    /// Reads a `bedrock-api-key-…` string.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        let url = decode_after_prefix(token, TokenType::ShortTerm, SHORT_TERM_PREFIX)?;
        Self::from_presigned_url(&url)
    }

    /// Reads the decoded body of a key: the presigned URL without its scheme, `&Version=` included.
    /// Each parameter is checked in the order of the URL's query, so that the first problem a
    /// reader of the key would see is the one reported.
    pub fn from_presigned_url(url: &str) -> Result<Self, TokenError> {
        let query = split_host_and_path(url)?;
        let mut params = collect_params(query)?;
        let session_token = params[Param::SecurityToken as usize].take();
        let mut require = |p: Param| {
            params[p as usize]
                .take()
                .ok_or(TokenError::MissingParameter(p))
        };

        check_action(&require(Param::Action)?)?;
        check_algorithm(&require(Param::Algorithm)?)?;
        let scope = CredentialScope::parse(&require(Param::Credential)?)?;
        let signing_time = parse_signing_time(&require(Param::Date)?, &scope)?;
        let expires_in = parse_expires(&require(Param::Expires)?)?;
        check_signed_headers(&require(Param::SignedHeaders)?)?;
        let session_token = session_token.map(check_session_token).transpose()?;
        let signature = check_signature(require(Param::Signature)?)?;
        let version = parse_version(&require(Param::Version)?)?;
        let expires_at = SystemTime::from(signing_time)
            .checked_add(expires_in.as_duration())
            .ok_or_else(|| {
                malformed(
                    Param::Date,
                    "is so late that the expiry time cannot be represented".into(),
                )
            })?;

        Ok(Self {
            access_key_id: scope.access_key_id,
            scope_date: scope.date,
            region: scope.region,
            scope_service: scope.service,
            signing_time,
            expires_at,
            expires_in,
            session_token,
            signature,
            version,
        })
    }

    /// Always [`TokenType::ShortTerm`].
    pub const fn token_type(&self) -> TokenType {
        TokenType::ShortTerm
    }

    /// The Region the key was signed for (from the credential scope): the only Region it works in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The access key id of the credentials that signed the key. Not a secret, but printed only
    /// shortened by this crate.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// X-Amz-Date.
    pub fn signing_time(&self) -> SystemTime {
        SystemTime::from(self.signing_time)
    }

    /// X-Amz-Date as written in the key, e.g. `20250701T000000Z`.
    pub fn amz_date(&self) -> String {
        dates::format_basic_date_time(self.signing_time)
    }

    /// X-Amz-Expires.
    pub const fn expires_in(&self) -> ExpiresIn {
        self.expires_in
    }

    /// Signing time plus X-Amz-Expires. The key may stop working earlier: it also dies with the
    /// session of temporary credentials that signed it (docs/aws-behaviour.md §1.2).
    pub const fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Whether the key's own lifetime is over at `now`. A key is taken to be valid for exactly
    /// `expires_in` seconds, so it is expired from `expires_at` on; AWS does not document the
    /// boundary second.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now >= self.expires_at
    }

    /// True when temporary credentials (with a session token) signed the key.
    pub const fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }

    /// The `Version` parameter (`1` from every known generator).
    pub const fn version(&self) -> u32 {
        self.version
    }

    /// The date in the credential scope (always the UTC day of [`Self::signing_time`]).
    pub const fn scope_date(&self) -> Date {
        self.scope_date
    }

    /// The service in the credential scope: `bedrock` for keys from AWS's generators.
    pub fn scope_service(&self) -> &str {
        &self.scope_service
    }

    /// The session token, for callers that must send or compare it.
    pub fn expose_session_token(&self) -> Option<&str> {
        self.session_token.as_ref().map(Secret::expose)
    }

    /// The SigV4 signature (64 lower-case hex digits).
    pub fn expose_signature(&self) -> &str {
        self.signature.expose()
    }

    /// The presigned URL the key encodes (scheme-less, `&Version=` included), parameters in the
    /// order AWS's Python generator writes them.
    pub fn expose_presigned_url(&self) -> String {
        let credential = format!(
            "{}/{}/{}/{}/{SCOPE_TERMINATOR}",
            self.access_key_id,
            dates::format_basic_date(self.scope_date),
            self.region,
            self.scope_service
        );
        let amz_date = self.amz_date();
        let expires = self.expires_in.as_secs().to_string();
        let version = self.version.to_string();
        assemble_presigned_url(|p| match p {
            Param::Action => Some(ACTION),
            Param::Algorithm => Some(ALGORITHM),
            Param::Credential => Some(&credential),
            Param::Date => Some(&amz_date),
            Param::Expires => Some(&expires),
            Param::SignedHeaders => Some(SIGNED_HEADERS),
            Param::SecurityToken => self.expose_session_token(),
            Param::Signature => Some(self.expose_signature()),
            Param::Version => Some(&version),
        })
    }

    /// The key itself, `bedrock-api-key-…`, as sent in `Authorization: Bearer`.
    pub fn expose_bearer(&self) -> String {
        encode_bearer(&self.expose_presigned_url())
    }
}

/// Reads a key of this kind: the same as [`ShortTermToken::parse`].
impl FromStr for ShortTermToken {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for ShortTermToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShortTermToken")
            .field("access_key_id", &KeyIdHint(&self.access_key_id))
            .field("region", &self.region)
            .field("scope_date", &dates::format_basic_date(self.scope_date))
            .field("scope_service", &self.scope_service)
            .field("signing_time", &self.amz_date())
            .field("expires_in", &self.expires_in.as_secs())
            .field("session_token", &self.session_token)
            .field("signature", &self.signature)
            .field("version", &self.version)
            .finish()
    }
}

impl fmt::Display for ShortTermToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "short-term Bedrock API key for {} (access key {}, signed {}, valid {}, {}, \
             signature {REDACTED})",
            self.region,
            KeyIdHint(&self.access_key_id),
            self.amz_date(),
            self.expires_in,
            if self.session_token.is_some() {
                "session token [redacted]"
            } else {
                "no session token"
            },
        )
    }
}

fn check_action(action: &str) -> Result<(), TokenError> {
    if action == ACTION {
        Ok(())
    } else {
        Err(TokenError::WrongAction {
            found: echo(action),
        })
    }
}

fn check_algorithm(algorithm: &str) -> Result<(), TokenError> {
    if algorithm == ALGORITHM {
        return Ok(());
    }
    Err(malformed(
        Param::Algorithm,
        format!(
            "is `{}`, but Bedrock API keys are signed with `{ALGORITHM}`",
            echo(algorithm)
        ),
    ))
}

/// `X-Amz-Date`, which must fall on the credential scope's day.
fn parse_signing_time(date: &str, scope: &CredentialScope) -> Result<OffsetDateTime, TokenError> {
    let signing_time = dates::parse_basic_date_time(date).ok_or_else(|| {
        malformed(
            Param::Date,
            format!(
                "is `{}`, not a UTC time written yyyymmddThhmmssZ",
                echo(date)
            ),
        )
    })?;
    if scope.date != signing_time.date() {
        return Err(TokenError::BadCredentialScope {
            reason: format!(
                "is dated {} but X-Amz-Date is {date}: both must be the same UTC day",
                dates::format_basic_date(scope.date)
            ),
        });
    }
    Ok(signing_time)
}

fn parse_expires(expires: &str) -> Result<ExpiresIn, TokenError> {
    canonical_decimal(expires)
        .ok_or_else(|| {
            malformed(
                Param::Expires,
                format!(
                    "is `{}`, not a number of seconds written without sign or leading zeros",
                    echo(expires)
                ),
            )
        })
        .and_then(ExpiresIn::new)
}

fn check_signed_headers(signed_headers: &str) -> Result<(), TokenError> {
    if signed_headers == SIGNED_HEADERS {
        return Ok(());
    }
    Err(malformed(
        Param::SignedHeaders,
        format!(
            "is `{}`, but a bearer token carries no headers and signs only `host`",
            echo(signed_headers)
        ),
    ))
}

fn check_session_token(token: String) -> Result<Secret, TokenError> {
    if token.is_empty() {
        return Err(malformed(
            Param::SecurityToken,
            "is empty: it is left out, not empty, when the signing credentials are not temporary"
                .into(),
        ));
    }
    Ok(Secret::new(token))
}

fn check_signature(signature: String) -> Result<Secret, TokenError> {
    if is_lower_hex_signature(&signature) {
        return Ok(Secret::new(signature));
    }
    Err(malformed(
        Param::Signature,
        "is not 64 lower-case hexadecimal digits (a SigV4 HMAC-SHA256): the key was probably \
         cut short or altered"
            .into(),
    ))
}

fn parse_version(version: &str) -> Result<u32, TokenError> {
    canonical_decimal(version)
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| *v >= 1)
        .ok_or_else(|| {
            malformed(
                Param::Version,
                format!(
                    "is `{}`, not a positive whole number such as `{TOKEN_VERSION}`",
                    echo(version)
                ),
            )
        })
}

/// Writes a presigned URL with the parameters `value_of` gives, in the order of AWS's Python
/// generator (botocore's `SigV4QueryAuth`: operation parameters, then the X-Amz-* parameters in
/// insertion order, the signature appended after signing, and `Version` after that).
pub(crate) fn assemble_presigned_url<'a>(value_of: impl Fn(Param) -> Option<&'a str>) -> String {
    let mut url = format!("{HOST}/?");
    let mut first = true;
    for param in Param::ALL {
        if let Some(value) = value_of(param) {
            if !first {
                url.push('&');
            }
            first = false;
            url.push_str(param.as_str());
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY_ENCODE));
        }
    }
    url
}

pub(crate) fn encode_bearer(presigned_url: &str) -> String {
    format!("{SHORT_TERM_PREFIX}{}", STANDARD.encode(presigned_url))
}

/// Checks the scheme-less URL up to the query and returns the query.
fn split_host_and_path(url: &str) -> Result<&str, TokenError> {
    let host_end = url.find(['/', '?']).unwrap_or(url.len());
    let (host, rest) = url.split_at(host_end);
    if host != HOST {
        return Err(TokenError::WrongHost { found: echo(host) });
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path != "/" {
        return Err(TokenError::WrongPath { found: echo(path) });
    }
    match query {
        Some(query) if !query.is_empty() => Ok(query),
        _ => Err(TokenError::MissingQuery),
    }
}

/// Splits the query into the known parameters, indexed by `Param as usize`.
fn collect_params(query: &str) -> Result<[Option<String>; Param::ALL.len()], TokenError> {
    let mut params: [Option<String>; Param::ALL.len()] = Default::default();
    for pair in query.split('&') {
        if pair.is_empty() {
            return Err(TokenError::MalformedQuery {
                reason: "it has an empty parameter (`&&`, or `&` at an end)".into(),
            });
        }
        let (raw_name, raw_value) =
            pair.split_once('=')
                .ok_or_else(|| TokenError::MalformedQuery {
                    reason: format!("parameter `{}` has no `=`", echo(pair)),
                })?;
        let name = percent_decode(raw_name).ok_or_else(|| TokenError::MalformedQuery {
            reason: format!(
                "parameter name `{}` is not valid percent-encoded UTF-8",
                echo(raw_name)
            ),
        })?;
        let param = Param::from_wire(&name)
            .ok_or_else(|| TokenError::UnexpectedParameter { name: echo(&name) })?;
        let value = percent_decode(raw_value).ok_or_else(|| {
            malformed(
                param,
                "is not valid percent-encoded UTF-8 (a `%` must start `%XX` with two hex digits)"
                    .into(),
            )
        })?;
        let slot = &mut params[param as usize];
        if slot.is_some() {
            return Err(TokenError::DuplicateParameter(param));
        }
        *slot = Some(value);
    }
    Ok(params)
}

/// Strict percent-decoding: a `%` not followed by two hex digits is an error rather than a
/// literal `%`, so that a corrupted escape is reported instead of silently kept.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()
            )
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

fn malformed(param: Param, reason: String) -> TokenError {
    TokenError::MalformedParameter { param, reason }
}

/// `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`.
struct CredentialScope {
    access_key_id: String,
    date: Date,
    region: String,
    service: String,
}

impl CredentialScope {
    fn parse(credential: &str) -> Result<Self, TokenError> {
        let bad = |reason: String| TokenError::BadCredentialScope { reason };
        let parts: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = parts[..] else {
            return Err(bad(format!(
                "has {} `/`-separated parts instead of 5",
                parts.len()
            )));
        };
        if !is_access_key_id(access_key_id) {
            return Err(bad(
                "does not start with an access key id (16 to 128 ASCII letters and digits)".into(),
            ));
        }
        let date = dates::parse_basic_date(date)
            .ok_or_else(|| bad(format!("has date `{}`, not yyyymmdd", echo(date))))?;
        if !is_region(region) {
            return Err(bad(format!(
                "has Region `{}`, not lower-case letters, digits and `-`",
                echo(region)
            )));
        }
        if !is_region(service) {
            return Err(bad(format!(
                "has service `{}`, not lower-case letters, digits and `-`",
                echo(service)
            )));
        }
        if terminator != SCOPE_TERMINATOR {
            return Err(bad(format!(
                "ends in `{}` instead of `{SCOPE_TERMINATOR}`",
                echo(terminator)
            )));
        }
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            date,
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }
}

/// IAM documents access key ids as 16 to 128 word characters; real ones are upper-case
/// alphanumerics, and anything else (such as `/`) would corrupt the credential scope.
pub(crate) fn is_access_key_id(s: &str) -> bool {
    (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Region and service names in a credential scope: `us-east-1`, `us-gov-west-1`, `bedrock`.
pub(crate) fn is_region(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_lower_hex_signature(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A non-negative integer in its one canonical spelling, so that writing it back reproduces the
/// input.
fn canonical_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From tests/vectors/bedrock-tokens.json (`permanent-us-east-1-900s-20251231T235959Z`).
    const URL: &str = "bedrock.amazonaws.com/?Action=CallWithBearerToken\
        &X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20251231%2Fus-east-1%2Fbedrock%2Faws4_request\
        &X-Amz-Date=20251231T235959Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
        &X-Amz-Signature=b8978abfbf15ca4e35e1f7705dfb0bd3be020b933bb47ae0bd2c544790100921\
        &Version=1";
    const SIGNATURE: &str = "b8978abfbf15ca4e35e1f7705dfb0bd3be020b933bb47ae0bd2c544790100921";

    fn parse_url(url: &str) -> Result<ShortTermToken, TokenError> {
        ShortTermToken::parse(&encode_bearer(url))
    }

    /// The example URL with one piece of text replaced; panics if the piece is not there, so a
    /// test cannot silently test the unmodified token.
    fn edited(from: &str, to: &str) -> String {
        assert!(URL.contains(from), "{from} not in the example URL");
        URL.replacen(from, to, 1)
    }

    fn malformed_param(err: TokenError) -> Param {
        match err {
            TokenError::MalformedParameter { param, .. } => param,
            other => panic!("expected MalformedParameter, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_field() {
        let token = parse_url(URL).unwrap();
        assert_eq!(token.token_type(), TokenType::ShortTerm);
        assert_eq!(token.region(), "us-east-1");
        assert_eq!(token.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(token.amz_date(), "20251231T235959Z");
        let signed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(token.signing_time(), signed);
        assert_eq!(token.expires_in().as_secs(), 900);
        assert_eq!(token.expires_at(), signed + Duration::from_secs(900));
        assert!(!token.has_session_token());
        assert_eq!(token.expose_session_token(), None);
        assert_eq!(token.version(), 1);
        assert_eq!(
            token.scope_date(),
            Date::from_calendar_date(2025, time::Month::December, 31).unwrap()
        );
        assert_eq!(token.scope_service(), "bedrock");
        assert_eq!(token.expose_signature(), SIGNATURE);
        assert_eq!(token.expose_presigned_url(), URL);
    }

    #[test]
    fn expiry_boundary() {
        let token = parse_url(URL).unwrap();
        let at = token.expires_at();
        assert!(!token.is_expired_at(token.signing_time()));
        assert!(!token.is_expired_at(at - Duration::from_secs(1)));
        assert!(token.is_expired_at(at));
        assert!(token.is_expired_at(at + Duration::from_secs(1)));
    }

    #[test]
    fn session_token_is_decoded_and_reencoded() {
        let url = edited(
            "&X-Amz-Signature=",
            "&X-Amz-Security-Token=IQoJ%2Bab%2Fcd%3D%3D&X-Amz-Signature=",
        );
        let token = parse_url(&url).unwrap();
        assert!(token.has_session_token());
        assert_eq!(token.expose_session_token(), Some("IQoJ+ab/cd=="));
        assert_eq!(token.expose_presigned_url(), url);
    }

    #[test]
    fn any_parameter_order_parses_and_is_written_back_in_botocore_order() {
        let (head, query) = URL.split_once('?').unwrap();
        let mut pairs: Vec<&str> = query.split('&').collect();
        pairs.reverse();
        let shuffled = format!("{head}?{}", pairs.join("&"));
        let token = parse_url(&shuffled).unwrap();
        assert_eq!(token.expose_presigned_url(), URL);
    }

    #[test]
    fn other_versions_and_scope_services_are_read_not_judged() {
        let token = parse_url(&edited("&Version=1", "&Version=2")).unwrap();
        assert_eq!(token.version(), 2);
        let token = parse_url(&edited("%2Fbedrock%2F", "%2Fbedrock-mantle%2F")).unwrap();
        assert_eq!(token.scope_service(), "bedrock-mantle");
    }

    #[test]
    fn expires_in_bounds() {
        assert_eq!(ExpiresIn::new(1).unwrap(), ExpiresIn::MIN);
        assert_eq!(ExpiresIn::new(43_200).unwrap(), ExpiresIn::MAX);
        assert_eq!(ExpiresIn::default(), ExpiresIn::MAX);
        for bad in [0, 43_201, 65_536, u64::MAX] {
            assert_eq!(
                ExpiresIn::new(bad),
                Err(TokenError::ExpiryOutOfRange { value: bad })
            );
        }
    }

    #[test]
    fn wrong_prefix() {
        let err = ShortTermToken::parse("ABSKxyz").unwrap_err();
        assert_eq!(
            err,
            TokenError::WrongPrefix {
                kind: TokenType::ShortTerm,
                expected: SHORT_TERM_PREFIX
            }
        );
    }

    #[test]
    fn bad_base64() {
        // Version 12 makes the length leave a remainder, so the encoding ends in `==`.
        let token = encode_bearer(&edited("&Version=1", "&Version=12"));
        assert!(token.ends_with("=="));
        assert!(ShortTermToken::parse(&token).is_ok());
        for bad in [
            format!("{token}="),                       // extra padding
            token.trim_end_matches('=').to_owned(),    // padding removed
            format!("{}-", &token[..token.len() - 4]), // url-safe alphabet
            format!("{} ", &token[..token.len() - 1]), // space inside
        ] {
            assert!(
                matches!(
                    ShortTermToken::parse(&bad),
                    Err(TokenError::BadBase64 {
                        kind: TokenType::ShortTerm,
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn not_utf8() {
        let token = format!("{SHORT_TERM_PREFIX}{}", STANDARD.encode([b'b', 0xff, 0xfe]));
        assert_eq!(
            ShortTermToken::parse(&token),
            Err(TokenError::NotUtf8 {
                kind: TokenType::ShortTerm,
                valid_up_to: 1
            })
        );
    }

    #[test]
    fn wrong_host_path_and_missing_query() {
        assert!(matches!(
            parse_url(&URL.replacen("bedrock.amazonaws.com", "bedrock-runtime.us-east-1.amazonaws.com", 1)),
            Err(TokenError::WrongHost { found }) if found == "bedrock-runtime.us-east-1.amazonaws.com"
        ));
        assert!(matches!(
            parse_url(&format!("https://{URL}")),
            Err(TokenError::WrongHost { found }) if found == "https:"
        ));
        assert!(matches!(
            parse_url(&edited("/?", "/model?")),
            Err(TokenError::WrongPath { found }) if found == "/model"
        ));
        assert!(matches!(
            parse_url(&edited("/?", "?")),
            Err(TokenError::WrongPath { found }) if found.is_empty()
        ));
        assert_eq!(
            parse_url(HOST),
            Err(TokenError::WrongPath {
                found: String::new()
            })
        );
        assert_eq!(
            parse_url(&format!("{HOST}/")),
            Err(TokenError::MissingQuery)
        );
        assert_eq!(
            parse_url(&format!("{HOST}/?")),
            Err(TokenError::MissingQuery)
        );
    }

    #[test]
    fn malformed_query() {
        for bad in [
            edited("&Version=1", "&Version=1&"),
            edited("&X-Amz-Date", "&&X-Amz-Date"),
        ] {
            assert!(
                matches!(parse_url(&bad), Err(TokenError::MalformedQuery { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_url(&edited("&Version=1", "&Version")),
            Err(TokenError::MalformedQuery { reason }) if reason.contains("`Version`")
        ));
        assert!(matches!(
            parse_url(&edited("&Version=1", "&Vers%ZZion=1")),
            Err(TokenError::MalformedQuery { .. })
        ));
    }

    #[test]
    fn wrong_action() {
        assert_eq!(
            parse_url(&edited("Action=CallWithBearerToken", "Action=InvokeModel")),
            Err(TokenError::WrongAction {
                found: "InvokeModel".into()
            })
        );
    }

    #[test]
    fn missing_parameters() {
        let (head, query) = URL.split_once('?').unwrap();
        for param in Param::ALL {
            if param == Param::SecurityToken {
                continue;
            }
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.starts_with(&format!("{}=", param.as_str())))
                .collect();
            let url = format!("{head}?{}", kept.join("&"));
            assert_eq!(parse_url(&url), Err(TokenError::MissingParameter(param)));
        }
    }

    #[test]
    fn duplicate_and_unexpected_parameters() {
        assert_eq!(
            parse_url(&edited("&Version=1", "&Version=1&Version=1")),
            Err(TokenError::DuplicateParameter(Param::Version))
        );
        assert_eq!(
            parse_url(&edited(
                "&Version=1",
                "&Version=1&x-amz-date=20251231T235959Z"
            )),
            Err(TokenError::UnexpectedParameter {
                name: "x-amz-date".into()
            })
        );
    }

    #[test]
    fn malformed_parameters() {
        let cases = [
            (
                edited("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
                Param::Algorithm,
            ),
            (
                edited("20251231T235959Z", "2025-12-31T23:59:59Z"),
                Param::Date,
            ),
            (edited("20251231T235959Z", "20251231T245959Z"), Param::Date),
            (edited("20251231T235959Z", "20250230T000000Z"), Param::Date),
            (edited("Expires=900", "Expires=0900"), Param::Expires),
            (edited("Expires=900", "Expires=+900"), Param::Expires),
            (edited("Expires=900", "Expires=9e2"), Param::Expires),
            (
                edited("Expires=900", "Expires=99999999999999999999999"),
                Param::Expires,
            ),
            (
                edited("SignedHeaders=host", "SignedHeaders=host%3Bx-amz-date"),
                Param::SignedHeaders,
            ),
            (
                edited(SIGNATURE, &SIGNATURE.to_uppercase()),
                Param::Signature,
            ),
            (edited(SIGNATURE, &SIGNATURE[..63]), Param::Signature),
            (edited("&Version=1", "&Version=0"), Param::Version),
            (edited("&Version=1", "&Version=v1"), Param::Version),
            (edited("&Version=1", "&Version="), Param::Version),
            (edited("&Version=1", "&Version=%FF"), Param::Version),
            (edited("&Version=1", "&Version=%4"), Param::Version),
            (
                edited(
                    "&X-Amz-Signature=",
                    "&X-Amz-Security-Token=&X-Amz-Signature=",
                ),
                Param::SecurityToken,
            ),
        ];
        for (url, param) in cases {
            assert_eq!(
                malformed_param(parse_url(&url).unwrap_err()),
                param,
                "{url}"
            );
        }
    }

    #[test]
    fn malformed_signature_message_does_not_echo_it() {
        let bad = SIGNATURE.to_uppercase();
        let err = parse_url(&edited(SIGNATURE, &bad)).unwrap_err().to_string();
        assert!(!err.contains(&bad[..16]), "{err}");
    }

    #[test]
    fn expiry_out_of_range() {
        for (from, value) in [("Expires=900", 0), ("Expires=900", 43_201)] {
            assert_eq!(
                parse_url(&edited(from, &format!("Expires={value}"))),
                Err(TokenError::ExpiryOutOfRange { value })
            );
        }
    }

    #[test]
    fn bad_credential_scope() {
        let cases = [
            "AKIAIOSFODNN7EXAMPLE%2F20251231%2Fus-east-1%2Fbedrock",
            "AKIAIOSFODNN7EXAMPLE%2F20251231%2Fus-east-1%2Fbedrock%2Faws4_request%2Fx",
            "AKIA%2F20251231%2Fus-east-1%2Fbedrock%2Faws4_request",
            "AKIAIOSFODNN7EXAMPLE%2F2025-12-31%2Fus-east-1%2Fbedrock%2Faws4_request",
            "AKIAIOSFODNN7EXAMPLE%2F20251231%2FUS_EAST_1%2Fbedrock%2Faws4_request",
            "AKIAIOSFODNN7EXAMPLE%2F20251231%2F%2Fbedrock%2Faws4_request",
            "AKIAIOSFODNN7EXAMPLE%2F20251231%2Fus-east-1%2FBedrock%2Faws4_request",
            "AKIAIOSFODNN7EXAMPLE%2F20251231%2Fus-east-1%2Fbedrock%2Faws4_requesT",
            // The scope's day must be X-Amz-Date's day.
            "AKIAIOSFODNN7EXAMPLE%2F20251230%2Fus-east-1%2Fbedrock%2Faws4_request",
        ];
        let good = "AKIAIOSFODNN7EXAMPLE%2F20251231%2Fus-east-1%2Fbedrock%2Faws4_request";
        for scope in cases {
            assert!(
                matches!(
                    parse_url(&edited(good, scope)),
                    Err(TokenError::BadCredentialScope { .. })
                ),
                "{scope}"
            );
        }
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let err = parse_url(&edited("Expires=900", "Expires=50000")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the short-term key is valid for 50000 s, but X-Amz-Expires must be 1 to 43200 \
             seconds (12 hours)"
        );
        let err = parse_url(&edited("&Version=1", "")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the short-term key lacks the `Version` parameter: generate a new key with an \
             official generator"
        );
    }
}
