//! Generating short-term keys the way AWS's Python generator does, signed by aws-sigv4.
//!
//! The generator (`aws-bedrock-token-generator`) presigns `POST https://bedrock.amazonaws.com/`
//! with `Action=CallWithBearerToken` through botocore's `SigV4QueryAuth`, signing region = the
//! caller's Region, service `bedrock`. Two details decide byte-identity:
//!
//! * the payload hash: botocore's `SigV4QueryAuth` (unlike its S3 presigner) hashes the body, so
//!   the canonical request ends with the SHA-256 of the empty body, not `UNSIGNED-PAYLOAD`;
//! * the parameter order: aws-sigv4 hands back the signing parameters with the signature before
//!   `X-Amz-Security-Token`, botocore writes the token first, so the query is assembled here in
//!   botocore's order from the values aws-sigv4 returns.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::error::{GenerateError, Param};
use super::short_term::{
    assemble_presigned_url, encode_bearer, is_access_key_id, is_region, ExpiresIn, ShortTermToken,
    ACTION, HOST, SIGNING_SERVICE, TOKEN_VERSION,
};
use crate::redact::{KeyIdHint, Secret};

use crate::dates;

/// AWS credentials to sign with. `Debug` shows only the first four characters of the access
/// key id and redacts the secret access key and session token.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningCredentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl SigningCredentials {
    /// Long-term (`AKIA…`) credentials.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new(secret_access_key),
            session_token: None,
        }
    }

    /// Temporary (`ASIA…`) credentials carry a session token, which ends up in the key.
    pub fn with_session_token(mut self, session_token: impl Into<String>) -> Self {
        self.session_token = Some(Secret::new(session_token));
        self
    }

    /// The access key id (not a secret, but printed only shortened by this crate).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// True for temporary credentials.
    pub fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }

    fn check(&self) -> Result<(), GenerateError> {
        if !is_access_key_id(&self.access_key_id) {
            return Err(GenerateError::InvalidAccessKeyId);
        }
        if self.secret_access_key.expose().is_empty() {
            return Err(GenerateError::EmptySecretAccessKey);
        }
        if self
            .session_token
            .as_ref()
            .is_some_and(|t| t.expose().is_empty())
        {
            return Err(GenerateError::EmptySessionToken);
        }
        Ok(())
    }
}

impl fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &KeyIdHint(&self.access_key_id))
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

impl fmt::Display for SigningCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AWS credentials {} ({})",
            KeyIdHint(&self.access_key_id),
            if self.session_token.is_some() {
                "temporary"
            } else {
                "long-term"
            }
        )
    }
}

/// A short-term key for `region`, signed at `signing_time` (sub-second part dropped, as SigV4
/// does), valid for `expires_in`. The same inputs give the same key as AWS's Python generator
/// 1.1.0, byte for byte (tests/vectors/bedrock-tokens.json).
pub fn generate(
    credentials: &SigningCredentials,
    region: &str,
    signing_time: SystemTime,
    expires_in: ExpiresIn,
) -> Result<ShortTermToken, GenerateError> {
    credentials.check()?;
    if !is_region(region) {
        return Err(GenerateError::InvalidRegion {
            region: region.to_owned(),
        });
    }
    // SigV4 dates have whole seconds and four-digit years, and the time crate inside aws-sigv4
    // panics outside its range, so the time is cut and checked here first.
    let signing_time = dates::whole_seconds(signing_time)
        .map(SystemTime::from)
        .ok_or(GenerateError::SigningTimeOutOfRange)?;

    let identity: Identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        None,
        "keyward-bedrock",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in.as_duration());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_SERVICE)
        .time(signing_time)
        .settings(settings)
        .build()
        .map_err(|e| GenerateError::Signing(e.to_string()))?
        .into();
    let url = format!("https://{HOST}/?Action={ACTION}");
    let request = SignableRequest::new(
        "POST",
        url,
        std::iter::once(("host", HOST)),
        // The empty body's SHA-256, as botocore's SigV4QueryAuth hashes it; `UnsignedPayload`
        // gives a different signature (the vector test fails with it).
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| GenerateError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| GenerateError::Signing(e.to_string()))?
        .into_parts();

    // aws-sigv4 returns the X-Amz-* values (signature included) but in its own order; they are
    // written here in botocore's.
    let (_headers, signed) = instructions.into_parts();
    let version = TOKEN_VERSION.to_string();
    let presigned_url = assemble_presigned_url(|param| match param {
        Param::Action => Some(ACTION),
        Param::Version => Some(&version),
        other => signed
            .iter()
            .find(|(name, _)| *name == other.as_str())
            .map(|(_, value): &(&str, Cow<'static, str>)| value.as_ref()),
    });
    // Reading the key back checks it has every part, and yields the typed token.
    ShortTermToken::parse(&encode_bearer(&presigned_url)).map_err(GenerateError::Unparseable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn generated_tokens_carry_their_inputs() {
        let creds = SigningCredentials::new(AKID, SECRET).with_session_token("tok+/=");
        let token = generate(&creds, "ap-south-2", at(1_751_328_000), ExpiresIn::MIN).unwrap();
        assert_eq!(token.region(), "ap-south-2");
        assert_eq!(token.access_key_id(), AKID);
        assert_eq!(token.signing_time(), at(1_751_328_000));
        assert_eq!(token.expires_in(), ExpiresIn::MIN);
        assert_eq!(token.expose_session_token(), Some("tok+/="));
        assert_eq!(token.scope_service(), SIGNING_SERVICE);
        assert_eq!(token.version(), TOKEN_VERSION);
        assert_eq!(
            ShortTermToken::parse(&token.expose_bearer()).unwrap(),
            token
        );
    }

    #[test]
    fn the_signature_covers_region_time_expiry_and_session_token() {
        let creds = SigningCredentials::new(AKID, SECRET);
        let base = generate(&creds, "us-east-1", at(1_751_328_000), ExpiresIn::MAX).unwrap();
        let variants = [
            generate(&creds, "us-west-2", at(1_751_328_000), ExpiresIn::MAX),
            generate(&creds, "us-east-1", at(1_751_328_001), ExpiresIn::MAX),
            generate(&creds, "us-east-1", at(1_751_328_000), ExpiresIn::MIN),
            generate(
                &creds.clone().with_session_token("t"),
                "us-east-1",
                at(1_751_328_000),
                ExpiresIn::MAX,
            ),
            generate(
                &SigningCredentials::new(AKID, "other"),
                "us-east-1",
                at(1_751_328_000),
                ExpiresIn::MAX,
            ),
        ];
        for variant in variants {
            assert_ne!(variant.unwrap().expose_signature(), base.expose_signature());
        }
    }

    #[test]
    fn refuses_inputs_that_would_not_make_a_key() {
        let good = SigningCredentials::new(AKID, SECRET);
        let t = at(1_751_328_000);
        let e = ExpiresIn::MAX;
        assert!(matches!(
            generate(&good, "US-EAST-1", t, e),
            Err(GenerateError::InvalidRegion { .. })
        ));
        assert!(matches!(
            generate(&good, "", t, e),
            Err(GenerateError::InvalidRegion { .. })
        ));
        assert!(matches!(
            generate(
                &SigningCredentials::new("AKIA/x", SECRET),
                "us-east-1",
                t,
                e
            ),
            Err(GenerateError::InvalidAccessKeyId)
        ));
        assert!(matches!(
            generate(&SigningCredentials::new(AKID, ""), "us-east-1", t, e),
            Err(GenerateError::EmptySecretAccessKey)
        ));
        assert!(matches!(
            generate(&good.clone().with_session_token(""), "us-east-1", t, e),
            Err(GenerateError::EmptySessionToken)
        ));
        let year_10000 = at(253_402_300_800);
        assert!(matches!(
            generate(&good, "us-east-1", year_10000, e),
            Err(GenerateError::SigningTimeOutOfRange)
        ));
        assert!(generate(&good, "us-east-1", year_10000 - Duration::from_secs(1), e).is_ok());
    }

    #[test]
    fn signing_times_before_1970_work() {
        let good = SigningCredentials::new(AKID, SECRET);
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        let token = generate(&good, "us-east-1", t, ExpiresIn::MAX).unwrap();
        assert_eq!(token.amz_date(), "19691231T235958Z");
    }
}
