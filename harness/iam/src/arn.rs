//! Amazon Resource Names: `arn:partition:service:region:account:resource`.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>
//!
//! The resource is everything after the fifth colon, so it may hold colons itself
//! (`foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0`). Region and account are empty
//! for global resources (`arn:aws:s3:::bucket`, `arn:aws:iam::aws:policy/...` has no region).
//! Beyond the `arn:` prefix and the six components nothing is checked: the evaluator compares
//! ARNs as text, and a stricter reading here would reject strings IAM's own matching accepts.

use std::fmt;
use std::str::FromStr;

/// Why text is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArnError {
    /// The text does not start with `arn:`.
    #[error("{0:?} is not an ARN: it does not start with \"arn:\"")]
    MissingPrefix(String),
    /// Fewer than six colon-separated components.
    #[error("{text:?} is not an ARN: it has {found} of the six components arn:partition:service:region:account:resource")]
    TooFewComponents {
        /// The text that was read.
        text: String,
        /// How many colon-separated components it has.
        found: usize,
    },
}

/// The components of an ARN as slices of the text: the one parser behind [`Arn`], used directly
/// where the evaluator must not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub(crate) partition: &'a str,
    pub(crate) service: &'a str,
    pub(crate) region: &'a str,
    pub(crate) account: &'a str,
    pub(crate) resource: &'a str,
}

impl<'a> Parts<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Parts<'a>, ArnError> {
        Parts::split(text).map_err(|found| match found {
            0 => ArnError::MissingPrefix(text.to_string()),
            found => ArnError::TooFewComponents {
                text: text.to_string(),
                found,
            },
        })
    }

    /// `Some` only for well-formed ARNs: the evaluator's check, which must not allocate (an
    /// error would copy the text).
    pub(crate) fn get(text: &'a str) -> Option<Parts<'a>> {
        Parts::split(text).ok()
    }

    /// The components, or how many were found (0 when the `arn:` prefix is missing).
    fn split(text: &'a str) -> Result<Parts<'a>, usize> {
        let rest = text.strip_prefix("arn:").ok_or(0usize)?;
        let mut it = rest.splitn(5, ':');
        // Each call passes how many components precede the one it fetches (`arn` is one).
        let mut next = |found: usize| it.next().ok_or(found);
        Ok(Parts {
            partition: next(1)?,
            service: next(2)?,
            region: next(3)?,
            account: next(4)?,
            resource: next(5)?,
        })
    }

    /// The account, or `None` when the ARN has none (`arn:aws:s3:::bucket`).
    pub(crate) fn account_id(&self) -> Option<&'a str> {
        (!self.account.is_empty()).then_some(self.account)
    }

    fn resource_type(&self) -> Option<&'a str> {
        self.resource.split_once('/').map(|(t, _)| t)
    }

    /// The last `/`-separated segment of a `TYPE/path/NAME` resource of the given type.
    fn named(&self, kind: &str) -> Option<&'a str> {
        let rest = self.resource.strip_prefix(kind)?.strip_prefix('/')?;
        rest.rsplit('/').next()
    }

    pub(crate) fn assumed_role(&self) -> Option<(&'a str, Option<&'a str>)> {
        let rest = self.resource.strip_prefix("assumed-role/")?;
        Some(match rest.split_once('/') {
            Some((role, session)) => (role, Some(session)),
            None => (rest, None),
        })
    }

    pub(crate) fn role_name(&self) -> Option<&'a str> {
        self.named("role")
    }

    pub(crate) fn user_name(&self) -> Option<&'a str> {
        self.named("user")
    }
}

/// An Amazon Resource Name, kept exactly as written: [`Display`](fmt::Display) gives back the
/// text it was parsed from.
///
/// ```
/// use keyward_iam::Arn;
///
/// let arn: Arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"
///     .parse()
///     .unwrap();
/// assert_eq!(arn.service(), "bedrock");
/// assert_eq!(arn.account(), "");
/// assert_eq!(arn.resource(), "foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0");
/// assert_eq!(arn.resource_type(), Some("foundation-model"));
///
/// let session: Arn = "arn:aws:sts::123456789012:assumed-role/dev/alice".parse().unwrap();
/// assert_eq!(session.assumed_role_name(), Some("dev"));
/// assert_eq!(session.session_name(), Some("alice"));
/// assert!("not-an-arn".parse::<Arn>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    text: String,
    /// Byte offsets of the five colons that end partition, service, region, account and `arn`.
    colons: [usize; 5],
}

impl Arn {
    /// The ARN as text, exactly as parsed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn parts(&self) -> Parts<'_> {
        let [a, p, s, r, c] = self.colons;
        let t = &self.text;
        Parts {
            partition: &t[a + 1..p],
            service: &t[p + 1..s],
            region: &t[s + 1..r],
            account: &t[r + 1..c],
            resource: &t[c + 1..],
        }
    }

    /// The partition: `aws`, `aws-cn`, `aws-us-gov`, ...
    pub fn partition(&self) -> &str {
        self.parts().partition
    }

    /// The service namespace: `iam`, `sts`, `bedrock`, ...
    pub fn service(&self) -> &str {
        self.parts().service
    }

    /// The region; empty for global resources such as IAM users and roles.
    pub fn region(&self) -> &str {
        self.parts().region
    }

    /// The account ID; empty for resources no account owns (S3 buckets, foundation models).
    pub fn account(&self) -> &str {
        self.parts().account
    }

    /// The account ID, or `None` when the ARN has none.
    pub fn account_id(&self) -> Option<&str> {
        self.parts().account_id()
    }

    /// Everything after the fifth colon (it may contain colons itself).
    pub fn resource(&self) -> &str {
        self.parts().resource
    }

    /// The resource type of a `TYPE/...` resource: `user`, `role`, `assumed-role`,
    /// `foundation-model`, ...; `None` when the resource has no `/` (`root`, a bucket name).
    pub fn resource_type(&self) -> Option<&str> {
        self.parts().resource_type()
    }

    /// The user name of an IAM user ARN (`user/path/NAME`): the last segment of the resource.
    /// Only the resource is read, not the service.
    pub fn user_name(&self) -> Option<&str> {
        self.parts().user_name()
    }

    /// The role name of an IAM role ARN (`role/path/NAME`): the last segment of the resource.
    /// Only the resource is read, not the service.
    pub fn role_name(&self) -> Option<&str> {
        self.parts().role_name()
    }

    /// The role of a role-session ARN (`assumed-role/ROLE/SESSION`).
    pub fn assumed_role_name(&self) -> Option<&str> {
        self.parts().assumed_role().map(|(role, _)| role)
    }

    /// The session name of a role-session ARN (`assumed-role/ROLE/SESSION`): everything after
    /// the role; `None` when there is no `/` after the role.
    pub fn session_name(&self) -> Option<&str> {
        self.parts().assumed_role().and_then(|(_, session)| session)
    }
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(s: &str) -> Result<Arn, ArnError> {
        let p = Parts::parse(s)?;
        // Each component is a slice of `s`, so its position gives the colon before it.
        let start = |c: &str| c.as_ptr() as usize - s.as_ptr() as usize;
        Ok(Arn {
            text: s.to_string(),
            colons: [
                start(p.partition) - 1,
                start(p.service) - 1,
                start(p.region) - 1,
                start(p.account) - 1,
                start(p.resource) - 1,
            ],
        })
    }
}

impl TryFrom<String> for Arn {
    type Error = ArnError;

    fn try_from(s: String) -> Result<Arn, ArnError> {
        s.parse()
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for Arn {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(s: &str) -> Arn {
        s.parse().unwrap()
    }

    #[test]
    fn components() {
        let a = arn("arn:aws:iam::123456789012:user/division/alice");
        assert_eq!(
            (
                a.partition(),
                a.service(),
                a.region(),
                a.account(),
                a.resource()
            ),
            ("aws", "iam", "", "123456789012", "user/division/alice")
        );
        assert_eq!(a.account_id(), Some("123456789012"));
        assert_eq!(a.resource_type(), Some("user"));
        assert_eq!(a.user_name(), Some("alice"));
        assert_eq!(a.role_name(), None);
        assert_eq!(a.assumed_role_name(), None);
        let a = arn("arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:inference-profile/x");
        assert_eq!(a.partition(), "aws-us-gov");
        assert_eq!(a.region(), "us-gov-west-1");
    }

    #[test]
    fn resource_keeps_its_colons() {
        let s =
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0";
        let a = arn(s);
        assert_eq!(a.account(), "");
        assert_eq!(a.account_id(), None);
        assert_eq!(
            a.resource(),
            "foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"
        );
        assert_eq!(a.resource_type(), Some("foundation-model"));
        assert_eq!(a.to_string(), s);
        let a = arn("arn:aws:s3:::bucket/a:b:c");
        assert_eq!(a.resource(), "bucket/a:b:c");
    }

    #[test]
    fn empty_components() {
        let a = arn("arn:aws:s3:::bucket");
        assert_eq!((a.region(), a.account(), a.resource()), ("", "", "bucket"));
        assert_eq!(a.resource_type(), None);
        let a = arn("arn:::::");
        assert_eq!(
            (
                a.partition(),
                a.service(),
                a.region(),
                a.account(),
                a.resource()
            ),
            ("", "", "", "", "")
        );
        assert_eq!(a.to_string(), "arn:::::");
    }

    #[test]
    fn roles_and_sessions() {
        let a = arn("arn:aws:iam::123456789012:role/service-role/builder");
        assert_eq!(a.role_name(), Some("builder"));
        assert_eq!(a.user_name(), None);
        let a = arn("arn:aws:sts::123456789012:assumed-role/dev/alice");
        assert_eq!(a.resource_type(), Some("assumed-role"));
        assert_eq!(a.assumed_role_name(), Some("dev"));
        assert_eq!(a.session_name(), Some("alice"));
        assert_eq!(a.role_name(), None);
        let a = arn("arn:aws:sts::123456789012:assumed-role/dev");
        assert_eq!(a.assumed_role_name(), Some("dev"));
        assert_eq!(a.session_name(), None);
        let a = arn("arn:aws:sts::123456789012:assumed-role/dev/a/b");
        assert_eq!(a.session_name(), Some("a/b"));
        // The type must be the whole first segment.
        assert_eq!(arn("arn:aws:iam::1:users/x").user_name(), None);
        assert_eq!(arn("arn:aws:iam::1:user").user_name(), None);
        assert_eq!(arn("arn:aws:iam::1:user/").user_name(), Some(""));
    }

    #[test]
    fn malformed_is_an_error() {
        for (s, want) in [
            ("", ArnError::MissingPrefix(String::new())),
            ("not-an-arn", ArnError::MissingPrefix("not-an-arn".into())),
            (
                "ARN:aws:s3:::b",
                ArnError::MissingPrefix("ARN:aws:s3:::b".into()),
            ),
            ("arn", ArnError::MissingPrefix("arn".into())),
        ] {
            assert_eq!(s.parse::<Arn>(), Err(want), "{s:?}");
        }
        for (s, found) in [
            ("arn:", 2),
            ("arn:aws", 2),
            ("arn:aws:iam", 3),
            ("arn:aws:iam:", 4),
            ("arn:aws:iam::123456789012", 5),
        ] {
            assert_eq!(
                s.parse::<Arn>(),
                Err(ArnError::TooFewComponents {
                    text: s.into(),
                    found
                }),
                "{s:?}"
            );
        }
        let e = "arn:aws:iam::1".parse::<Arn>().unwrap_err();
        assert!(e.to_string().contains("six components"), "{e}");
    }

    #[test]
    fn display_round_trips_and_non_ascii_is_kept() {
        for s in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:s3:::b/é:ü",
            "arn:aws:sts::123456789012:assumed-role/r/s",
        ] {
            let a = arn(s);
            assert_eq!(a.to_string(), s);
            assert_eq!(a.as_str(), s);
            assert_eq!(Arn::try_from(s.to_string()).unwrap(), a);
            assert_eq!(a.to_string().parse::<Arn>().unwrap(), a);
        }
        assert_eq!(arn("arn:aws:s3:::b/é:ü").resource(), "b/é:ü");
    }

    #[test]
    fn parts_agree_with_arn() {
        let s = "arn:aws:sts::123456789012:assumed-role/dev/alice";
        let p = Parts::get(s).unwrap();
        assert_eq!(p.account_id(), Some("123456789012"));
        assert_eq!(p.assumed_role(), Some(("dev", Some("alice"))));
        assert!(Parts::get("arn:aws").is_none());
    }
}
