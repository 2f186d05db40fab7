//! Why a scenario was refused for a reason other than a policy: a key rejected before any
//! authorization request, or a key creation that IAM refuses for its parameters, the user or the
//! quota. (A refusal by a policy is told by the denied request's decision.)

use std::fmt;

use crate::credential::{AgeDays, ServiceName, UserName};
use crate::dates::format_epoch;
use crate::token::{TokenError, TokenType};

/// Why a scenario was refused without a policy deciding it. `Display` gives one line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The call carries no key (no `Authorization` header).
    Absent,
    /// The value given as the key does not read as a key.
    Malformed(TokenError),
    /// The value reads as a well-formed key of this kind, but a literal key in a case stands for
    /// none AWS issued, so it is not accepted.
    NotIssued(TokenType),
    /// The key had expired when the call was made.
    Expired {
        /// When the key expired, in seconds since the epoch.
        expired_at: i64,
        /// When the call was made, in seconds since the epoch.
        at: i64,
    },
    /// A short-term key used in another Region than the one it was signed for.
    WrongRegion {
        /// The Region the key was issued (signed) for.
        issued_for: String,
        /// The Region the call went to.
        used_in: String,
    },
    /// A long-term key whose credential is inactive.
    Inactive {
        /// The ARN of the user the credential belongs to.
        user: String,
    },
    /// CreateServiceSpecificCredential asked for an age IAM does not take (checked before
    /// authorization).
    AgeOutOfRange {
        /// The age asked for, in days.
        asked: i64,
    },
    /// CreateServiceSpecificCredential for a user that does not exist.
    NoSuchUser {
        /// The user named.
        user: UserName,
    },
    /// CreateServiceSpecificCredential for a service that takes no service-specific
    /// credentials.
    UnsupportedService {
        /// The service named.
        service: ServiceName,
    },
    /// The user already holds as many credentials for the service as IAM allows.
    LimitExceeded {
        /// The user.
        user: UserName,
        /// The service.
        service: ServiceName,
        /// How many the user holds.
        held: u32,
        /// The most a user may hold per service.
        limit: usize,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Absent => f.write_str(
                "no key: the call carries no Authorization header, so it is rejected before any authorization request",
            ),
            Rejection::Malformed(e) => write!(
                f,
                "malformed key, rejected before any authorization request: {e}"
            ),
            Rejection::NotIssued(kind) => write!(
                f,
                "the value reads as a well-formed {} key, but a key written into a case is not one AWS issued: rejected before any authorization request",
                kind.noun()
            ),
            Rejection::Expired { expired_at, at } => write!(
                f,
                "the key expired at {} (the call is at {}): rejected before any authorization request",
                format_epoch(*expired_at),
                format_epoch(*at)
            ),
            Rejection::WrongRegion {
                issued_for,
                used_in,
            } => write!(
                f,
                "the key was issued for {issued_for} and used in {used_in} (a short-term key works only in the Region it was signed for): rejected before any authorization request"
            ),
            Rejection::Inactive { user } => write!(
                f,
                "the long-term key's credential (user {user}) is inactive: rejected before any authorization request"
            ),
            Rejection::AgeOutOfRange { asked } => write!(
                f,
                "CredentialAgeDays {asked} is outside {}-{}: IAM refuses the parameter before authorizing the request",
                AgeDays::MIN.get(),
                AgeDays::MAX.get()
            ),
            Rejection::NoSuchUser { user } => write!(
                f,
                "the user {user} does not exist (CreateServiceSpecificCredential by API creates no user)"
            ),
            Rejection::UnsupportedService { service } => write!(
                f,
                "the service {service} does not take service-specific credentials"
            ),
            Rejection::LimitExceeded {
                user,
                service,
                held,
                limit,
            } => write!(
                f,
                "the user {user} already holds {held} credentials for {service}, and IAM allows {limit} per user and service"
            ),
        }
    }
}
