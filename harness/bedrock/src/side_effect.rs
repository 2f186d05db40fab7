//! What a key scenario leaves behind in an account, in the words cases use for it.
//!
//! The scenario predictions and the live recorder both describe what was done with this one
//! type, so that a predicted and a recorded side effect are the same text by construction.

use std::fmt;
use std::str::FromStr;

use crate::credential::{CredentialError, ServiceName, UserName};
use crate::redact::echo;

/// One change a key scenario made to the account. Changes made before a later step failed stay
/// made, so a failed scenario can still have side effects.
///
/// `Display` writes the text cases hold in `expect.side_effects`, and [`FromStr`] reads it back:
///
/// ```
/// use keyward_bedrock::{AgeDays, ServiceName, SideEffect, UserName};
///
/// let created = SideEffect::CredentialCreated {
///     user: UserName::new("BedrockAPIKey-h42z")?,
///     service: ServiceName::bedrock(),
///     age: Some(5),
/// };
/// let text = "CreateServiceSpecificCredential BedrockAPIKey-h42z bedrock.amazonaws.com 5 days";
/// assert_eq!(created.to_string(), text);
/// assert_eq!(text.parse::<SideEffect>()?, created);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SideEffect {
    /// `iam:CreateUser` succeeded: `CreateUser <user>`.
    UserCreated {
        /// The user created.
        user: UserName,
    },
    /// `iam:AttachUserPolicy` succeeded: `AttachUserPolicy <user> <policy ARN>`.
    PolicyAttached {
        /// The user the policy was attached to.
        user: UserName,
        /// The managed policy attached.
        policy_arn: String,
    },
    /// `iam:CreateServiceSpecificCredential` succeeded:
    /// `CreateServiceSpecificCredential <user> <service> <N> days` (`1 day` for one), or
    /// `… never expires` for a credential created without an age.
    CredentialCreated {
        /// The user the credential belongs to.
        user: UserName,
        /// The service the credential is for.
        service: ServiceName,
        /// `CredentialAgeDays` as the request sent it; `None` when the credential never expires.
        /// Not an [`AgeDays`](crate::AgeDays): what AWS does with an age outside 1 to 36,600 is exactly what a live
        /// run must be able to record.
        age: Option<i64>,
    },
}

const CREATE_USER: &str = "CreateUser";
const ATTACH_USER_POLICY: &str = "AttachUserPolicy";
const CREATE_CREDENTIAL: &str = "CreateServiceSpecificCredential";
const NEVER_EXPIRES: &str = "never expires";

impl fmt::Display for SideEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SideEffect::UserCreated { user } => write!(f, "{CREATE_USER} {user}"),
            SideEffect::PolicyAttached { user, policy_arn } => {
                write!(f, "{ATTACH_USER_POLICY} {user} {policy_arn}")
            }
            SideEffect::CredentialCreated { user, service, age } => {
                write!(f, "{CREATE_CREDENTIAL} {user} {service} ")?;
                match age {
                    Some(1) => f.write_str("1 day"),
                    Some(days) => write!(f, "{days} days"),
                    None => f.write_str(NEVER_EXPIRES),
                }
            }
        }
    }
}

/// Why a text is not a side effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SideEffectError {
    /// The first word names no operation this crate records.
    #[error(
        "`{found}` is not a side effect: it must start with `{CREATE_USER}`, \
         `{ATTACH_USER_POLICY}` or `{CREATE_CREDENTIAL}`"
    )]
    UnknownOperation {
        /// The text, shortened.
        found: String,
    },
    /// The operation is known but the words after it are not what it takes.
    #[error("`{found}` is not a {operation} side effect: it must read `{operation} {expected}`")]
    WrongShape {
        /// The operation named by the first word.
        operation: &'static str,
        /// What must follow the operation.
        expected: &'static str,
        /// The text, shortened.
        found: String,
    },
    /// A user name, service name or age in the text is not valid.
    #[error(transparent)]
    Invalid(#[from] CredentialError),
}

impl FromStr for SideEffect {
    type Err = SideEffectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let words: Vec<&str> = s.split(' ').collect();
        let shape = |operation, expected| SideEffectError::WrongShape {
            operation,
            expected,
            found: echo(s),
        };
        match words[..] {
            [CREATE_USER, user] => Ok(SideEffect::UserCreated {
                user: UserName::new(user)?,
            }),
            [CREATE_USER, ..] => Err(shape(CREATE_USER, "<user>")),
            [ATTACH_USER_POLICY, user, policy_arn] if !policy_arn.is_empty() => {
                Ok(SideEffect::PolicyAttached {
                    user: UserName::new(user)?,
                    policy_arn: policy_arn.to_owned(),
                })
            }
            [ATTACH_USER_POLICY, ..] => Err(shape(ATTACH_USER_POLICY, "<user> <policy ARN>")),
            [CREATE_CREDENTIAL, user, service, count, unit] => {
                let age = match (count, unit) {
                    ("never", "expires") => None,
                    // `1 day` as written; `1 days` as journals written before read it back.
                    (days @ "1", "day") | (days, "days") => {
                        // Digits only: `str::parse` would also take a sign.
                        let days = Some(days)
                            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                            .and_then(|d| d.parse().ok())
                            .ok_or_else(|| shape(CREATE_CREDENTIAL, "<user> <service> <N> days"))?;
                        Some(days)
                    }
                    _ => {
                        return Err(shape(
                            CREATE_CREDENTIAL,
                            "<user> <service> <N> days` or `… never expires",
                        ))
                    }
                };
                Ok(SideEffect::CredentialCreated {
                    user: UserName::new(user)?,
                    service: ServiceName::new(service)?,
                    age,
                })
            }
            [CREATE_CREDENTIAL, ..] => Err(shape(
                CREATE_CREDENTIAL,
                "<user> <service> <N> days` or `… never expires",
            )),
            _ => Err(SideEffectError::UnknownOperation { found: echo(s) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserName {
        UserName::new("BedrockAPIKey-h42z").unwrap()
    }

    /// The exact texts the shipped fixtures and the case format document hold.
    #[test]
    fn display_is_the_case_format_text_and_reads_back() {
        let cases = [
            (
                SideEffect::UserCreated { user: user() },
                "CreateUser BedrockAPIKey-h42z",
            ),
            (
                SideEffect::PolicyAttached {
                    user: user(),
                    policy_arn: "arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess".into(),
                },
                "AttachUserPolicy BedrockAPIKey-h42z arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess",
            ),
            (
                SideEffect::CredentialCreated {
                    user: user(),
                    service: ServiceName::bedrock(),
                    age: Some(5),
                },
                "CreateServiceSpecificCredential BedrockAPIKey-h42z bedrock.amazonaws.com 5 days",
            ),
            (
                SideEffect::CredentialCreated {
                    user: user(),
                    service: ServiceName::bedrock(),
                    age: Some(1),
                },
                "CreateServiceSpecificCredential BedrockAPIKey-h42z bedrock.amazonaws.com 1 day",
            ),
            (
                SideEffect::CredentialCreated {
                    user: user(),
                    service: ServiceName::new("codecommit.amazonaws.com").unwrap(),
                    age: None,
                },
                "CreateServiceSpecificCredential BedrockAPIKey-h42z codecommit.amazonaws.com never expires",
            ),
        ];
        for (effect, text) in cases {
            assert_eq!(effect.to_string(), text);
            assert_eq!(text.parse::<SideEffect>().unwrap(), effect, "{text}");
        }
        // What journals written before `1 day` hold still reads back.
        let old = "CreateServiceSpecificCredential BedrockAPIKey-h42z bedrock.amazonaws.com 1 days";
        assert_eq!(
            old.parse::<SideEffect>().unwrap().to_string(),
            old.replace("1 days", "1 day")
        );
    }

    #[test]
    fn bad_texts_are_refused() {
        // Not an operation at all: named as such.
        for bad in ["", "DeleteUser bob", "createuser bob"] {
            assert!(
                matches!(
                    bad.parse::<SideEffect>(),
                    Err(SideEffectError::UnknownOperation { .. })
                ),
                "{bad:?}"
            );
        }
        // A known operation in the wrong shape: the error says which, and what it must read.
        for (bad, operation) in [
            ("CreateUser", CREATE_USER),
            ("CreateUser bob alice", CREATE_USER),
            ("CreateUser  bob", CREATE_USER),
            ("AttachUserPolicy bob", ATTACH_USER_POLICY),
            ("AttachUserPolicy bob ", ATTACH_USER_POLICY),
            (
                "CreateServiceSpecificCredential bob bedrock.amazonaws.com",
                CREATE_CREDENTIAL,
            ),
            (
                "CreateServiceSpecificCredential bob bedrock.amazonaws.com 5 weeks",
                CREATE_CREDENTIAL,
            ),
            (
                "CreateServiceSpecificCredential bob bedrock.amazonaws.com +5 days",
                CREATE_CREDENTIAL,
            ),
            (
                "CreateServiceSpecificCredential bob bedrock.amazonaws.com never ends",
                CREATE_CREDENTIAL,
            ),
            (
                "CreateServiceSpecificCredential bob bedrock.amazonaws.com 5 day",
                CREATE_CREDENTIAL,
            ),
        ] {
            match bad.parse::<SideEffect>() {
                Err(e @ SideEffectError::WrongShape { operation: op, .. }) => {
                    assert_eq!(op, operation, "{bad:?}");
                    assert!(
                        e.to_string()
                            .contains(&format!("is not a {operation} side effect")),
                        "{e}"
                    );
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        // An age as sent, in range or not: a live run records what IAM did with it.
        let zero = "CreateServiceSpecificCredential bob bedrock.amazonaws.com 0 days";
        let parsed = zero.parse::<SideEffect>().unwrap();
        assert!(matches!(
            parsed,
            SideEffect::CredentialCreated { age: Some(0), .. }
        ));
        assert_eq!(parsed.to_string(), zero);
        assert!(matches!(
            "CreateUser bob/alice".parse::<SideEffect>(),
            Err(SideEffectError::Invalid(
                CredentialError::InvalidUserName { .. }
            ))
        ));
    }
}
