//! IAM service-specific credentials, the thing a long-term Bedrock API key is (docs/aws-behaviour.md §1.4–1.5).
//!
//! The types refuse the states IAM refuses: an age outside 1..=36600 days, a third credential
//! for one user and service, `Expired` set by hand. `Expired` is never stored: it is what an
//! `Active` or `Inactive` credential reads as once its expiration date has passed.

use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU16, NonZeroU32};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::dates;
use crate::redact::{echo, Secret, REDACTED};

/// The service name of Bedrock API keys.
pub const BEDROCK_SERVICE: &str = "bedrock.amazonaws.com";

/// The services IAM issues service-specific credentials for (docs/aws-behaviour.md §1.5); IAM answers
/// `NotSupportedService` for any other.
pub const SUPPORTED_SERVICES: [&str; 6] = [
    "codecommit.amazonaws.com",
    "cassandra.amazonaws.com",
    BEDROCK_SERVICE,
    "logs.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "aws-external-anthropic.amazonaws.com",
];

/// Why a credential value or operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// `CredentialAgeDays` outside 1 to 36600.
    #[error(
        "CredentialAgeDays is {value}, but must be 1 to 36600 days (leave it out for a \
         credential that never expires)"
    )]
    AgeDaysOutOfRange {
        /// The age asked for.
        value: u64,
    },

    /// Not an IAM user name.
    #[error("`{found}` is not an IAM user name: {reason}")]
    InvalidUserName {
        /// The text, shortened.
        found: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Not `<user>[+<slot>]-at-<account>`.
    #[error("`{found}` is not a service credential alias: {reason}")]
    InvalidAlias {
        /// The text, shortened.
        found: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Not 12 digits.
    #[error("`{found}` is not an AWS account id: it must be exactly 12 digits")]
    InvalidAccountId {
        /// The text, shortened.
        found: String,
    },

    /// Not a service endpoint name.
    #[error(
        "`{found}` is not a service name: it must look like `bedrock.amazonaws.com` \
         (lower-case letters, digits, `-` and `.`)"
    )]
    InvalidServiceName {
        /// The text, shortened.
        found: String,
    },

    /// Not a `ServiceSpecificCredentialId`.
    #[error(
        "`{found}` is not a service-specific credential id: it must be 20 to 128 letters, \
         digits or `_`"
    )]
    InvalidCredentialId {
        /// The text, shortened.
        found: String,
    },

    /// The user already has the most credentials allowed for the service.
    #[error(
        "user {user_name} already has {limit} service-specific credentials for {service}: \
         delete one first (inactive and expired ones count too)"
    )]
    LimitExceeded {
        /// The user.
        user_name: UserName,
        /// The service.
        service: ServiceName,
        /// How many credentials a user may hold for one service.
        limit: usize,
    },

    /// No credential in the store has this id.
    #[error("no service-specific credential has the id {id}")]
    NoSuchCredential {
        /// The id looked for.
        id: CredentialId,
    },
}

/// An IAM user name: 1 to 64 characters from `[A-Za-z0-9_+=,.@-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserName(String);

impl UserName {
    /// Checks and wraps a user name.
    pub fn new(name: &str) -> Result<Self, CredentialError> {
        let invalid = |reason| CredentialError::InvalidUserName {
            found: echo(name),
            reason,
        };
        if name.is_empty() || name.len() > 64 {
            return Err(invalid("it must be 1 to 64 characters long"));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b);
        if !name.bytes().all(allowed) {
            return Err(invalid(
                "it may hold only ASCII letters, digits and the characters _+=,.@-",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UserName {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// Checks and wraps an account id.
    pub fn new(id: &str) -> Result<Self, CredentialError> {
        if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(id.to_owned()))
        } else {
            Err(CredentialError::InvalidAccountId { found: echo(id) })
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AccountId {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The service a credential is asked for, e.g. `bedrock.amazonaws.com`. IAM's API sets no pattern
/// on `ServiceName`, and which services it accepts changes over time (docs/aws-behaviour.md
/// §1.5): any name is taken, and [`ServiceName::is_supported`] says whether IAM issues
/// credentials for it (otherwise the request fails with `NotSupportedService`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceName(String);

impl ServiceName {
    /// Wraps a service name: any non-empty text, supported or not.
    pub fn new(name: &str) -> Result<Self, CredentialError> {
        if !name.is_empty() {
            Ok(Self(name.to_owned()))
        } else {
            Err(CredentialError::InvalidServiceName { found: echo(name) })
        }
    }

    /// `bedrock.amazonaws.com`, the service of Bedrock API keys.
    pub fn bedrock() -> Self {
        Self(BEDROCK_SERVICE.to_owned())
    }

    /// Whether this is `bedrock.amazonaws.com`.
    pub fn is_bedrock(&self) -> bool {
        self.0 == BEDROCK_SERVICE
    }

    /// Whether IAM issues credentials for this service today ([`SUPPORTED_SERVICES`]).
    pub fn is_supported(&self) -> bool {
        SUPPORTED_SERVICES.contains(&self.0.as_str())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ServiceName {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// `CredentialAgeDays`: 1 to 36600. A credential created without one never expires, which is
/// `Option<AgeDays>::None`, not a sentinel value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgeDays(NonZeroU16);

impl AgeDays {
    /// One day, the shortest age.
    pub const MIN: AgeDays = AgeDays(NonZeroU16::MIN);
    /// 36600 days, the longest age.
    pub const MAX: AgeDays = match NonZeroU16::new(36_600) {
        Some(days) => AgeDays(days),
        None => unreachable!(),
    };

    /// Checks that `days` is in 1 to 36600.
    pub fn new(days: u64) -> Result<Self, CredentialError> {
        u16::try_from(days)
            .ok()
            .and_then(NonZeroU16::new)
            .filter(|d| *d <= Self::MAX.0)
            .map(Self)
            .ok_or(CredentialError::AgeDaysOutOfRange { value: days })
    }

    /// The number of days.
    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// Days of 86400 seconds. How AWS turns days into an `ExpirationDate` is not documented; this
    /// is the plain reading.
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.0.get() as u64 * 86_400)
    }
}

impl fmt::Display for AgeDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

/// `ServiceSpecificCredentialId`: 20 to 128 word characters, e.g. `ACCA1234EXAMPLE1234`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CredentialId(String);

impl CredentialId {
    /// Checks and wraps a credential id.
    pub fn new(id: &str) -> Result<Self, CredentialError> {
        let well_formed = (20..=128).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if well_formed {
            Ok(Self(id.to_owned()))
        } else {
            Err(CredentialError::InvalidCredentialId { found: echo(id) })
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CredentialId {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// `ServiceCredentialAlias`, the public half of a long-term key:
/// `<user>[+<slot>]-at-<account>`, e.g. `BedrockAPIKey-h42z+1-at-123456789012`.
///
/// The `+<slot>` suffix was seen on a user's second credential for a service (docs/aws-behaviour.md §1.3,
/// third-party observation). Because IAM user names may themselves end in `+<digits>`, a
/// trailing `+N` (N a positive number without leading zeros) is always read as the slot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CredentialAlias {
    user_name: UserName,
    slot: Option<NonZeroU32>,
    account_id: AccountId,
}

impl CredentialAlias {
    /// The alias of a user's credential in the given slot (`None` for the first).
    pub fn new(user_name: UserName, slot: Option<NonZeroU32>, account_id: AccountId) -> Self {
        Self {
            user_name,
            slot,
            account_id,
        }
    }

    /// Reads `<user>[+<slot>]-at-<account>`.
    pub fn parse(alias: &str) -> Result<Self, CredentialError> {
        // The last `-at-` separates, because user names may contain `-at-` themselves.
        let (user_part, account) =
            alias
                .rsplit_once("-at-")
                .ok_or_else(|| CredentialError::InvalidAlias {
                    found: echo(alias),
                    reason: "it has no `-at-<account id>`",
                })?;
        let account_id = AccountId::new(account)?;
        // A `+<n>` suffix is a slot only when a user name is left before it: `+1` alone is the
        // user name `+1` (names may hold `+`, and may not be empty).
        let (user, slot) = match user_part.rsplit_once('+').filter(|(u, _)| !u.is_empty()) {
            Some((user, digits)) => match canonical_slot(digits) {
                Some(slot) => (user, Some(slot)),
                None => (user_part, None),
            },
            None => (user_part, None),
        };
        let user_name = UserName::new(user)?;
        Ok(Self {
            user_name,
            slot,
            account_id,
        })
    }

    /// The user the credential belongs to.
    pub fn user_name(&self) -> &UserName {
        &self.user_name
    }

    /// `None` for the alias without a `+N` suffix (a user's first credential).
    pub fn slot(&self) -> Option<NonZeroU32> {
        self.slot
    }

    /// The account of the user.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }
}

fn canonical_slot(digits: &str) -> Option<NonZeroU32> {
    let canonical = !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    if canonical {
        digits.parse().ok()
    } else {
        None
    }
}

impl fmt::Display for CredentialAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.user_name.as_str())?;
        if let Some(slot) = self.slot {
            write!(f, "+{slot}")?;
        }
        write!(f, "-at-{}", self.account_id)
    }
}

impl FromStr for CredentialAlias {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The status IAM stores and `UpdateServiceSpecificCredential` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettableStatus {
    /// Usable.
    Active,
    /// Kept but refused.
    Inactive,
}

/// The status IAM reports: the stored one, or `Expired` once the expiration date has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Set inactive: kept but refused.
    Inactive,
    /// Past its expiration date.
    Expired,
}

impl CredentialStatus {
    /// The `StatusType` value in the IAM API.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "Active",
            CredentialStatus::Inactive => "Inactive",
            CredentialStatus::Expired => "Expired",
        }
    }
}

impl From<SettableStatus> for CredentialStatus {
    fn from(status: SettableStatus) -> Self {
        match status {
            SettableStatus::Active => CredentialStatus::Active,
            SettableStatus::Inactive => CredentialStatus::Inactive,
        }
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One service-specific credential. `Debug` and `Display` redact the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceSpecificCredential {
    id: CredentialId,
    service: ServiceName,
    alias: CredentialAlias,
    create_date: SystemTime,
    age: Option<AgeDays>,
    status: SettableStatus,
    secret: Secret,
}

impl ServiceSpecificCredential {
    /// `ServiceSpecificCredentialId`.
    pub fn id(&self) -> &CredentialId {
        &self.id
    }

    /// The user the credential belongs to.
    pub fn user_name(&self) -> &UserName {
        self.alias.user_name()
    }

    /// `ServiceName`.
    pub fn service(&self) -> &ServiceName {
        &self.service
    }

    /// `ServiceCredentialAlias` (for Bedrock); its user part is also the `ServiceUserName`.
    pub fn alias(&self) -> &CredentialAlias {
        &self.alias
    }

    /// `CreateDate`.
    pub fn create_date(&self) -> SystemTime {
        self.create_date
    }

    /// The `CredentialAgeDays` it was created with; `None` means it never expires.
    pub fn credential_age_days(&self) -> Option<AgeDays> {
        self.age
    }

    /// `ExpirationDate`: present exactly when an age was given.
    pub fn expiration_date(&self) -> Option<SystemTime> {
        self.age
            .and_then(|age| self.create_date.checked_add(age.as_duration()))
    }

    /// The status IAM reports at `now`. Expiry wins over `Inactive`: an assumption, since AWS
    /// does not say which an inactive, expired credential reports.
    pub fn status_at(&self, now: SystemTime) -> CredentialStatus {
        match self.expiration_date() {
            Some(expiry) if now >= expiry => CredentialStatus::Expired,
            _ => self.status.into(),
        }
    }

    /// Whether a key made from this credential authenticates at `now`.
    pub fn is_usable_at(&self, now: SystemTime) -> bool {
        self.status_at(now) == CredentialStatus::Active
    }

    /// `ServiceCredentialSecret`, which IAM returns only at creation.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose()
    }
}

impl fmt::Debug for ServiceSpecificCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceSpecificCredential")
            .field("id", &self.id.as_str())
            .field("service", &self.service.as_str())
            .field("alias", &self.alias.to_string())
            .field("create_date", &dates::format_rfc3339(self.create_date))
            .field("credential_age_days", &self.age.map(AgeDays::get))
            .field("status", &self.status)
            .field("secret", &self.secret)
            .finish()
    }
}

impl fmt::Display for ServiceSpecificCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} credential {} ({}), created {}, ",
            self.service,
            self.id,
            self.alias,
            dates::format_rfc3339(self.create_date)
        )?;
        match self.expiration_date() {
            Some(expiry) => write!(f, "expires {}", dates::format_rfc3339(expiry))?,
            None => f.write_str("never expires")?,
        }
        write!(f, ", stored status {:?}, secret {REDACTED}", self.status)
    }
}

/// The service-specific credentials of every user, with IAM's limit of two per user and service.
///
/// Ids and secrets are made up from a counter, so a run is reproducible; they are fakes for a
/// model, never real credentials.
#[derive(Debug, Default, Clone)]
pub struct CredentialStore {
    by_user_and_service: BTreeMap<(UserName, ServiceName), Vec<ServiceSpecificCredential>>,
    serial: u64,
}

impl CredentialStore {
    /// At most this many credentials per user per service. Inactive and expired ones count
    /// until deleted (assumed, as for access keys; docs/aws-behaviour.md §1.5).
    pub const LIMIT_PER_USER_AND_SERVICE: usize = 2;

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// `CreateServiceSpecificCredential`.
    pub fn create(
        &mut self,
        user_name: &UserName,
        account_id: &AccountId,
        service: &ServiceName,
        age: Option<AgeDays>,
        now: SystemTime,
    ) -> Result<&ServiceSpecificCredential, CredentialError> {
        let key = (user_name.clone(), service.clone());
        let existing = self
            .by_user_and_service
            .get(&key)
            .map_or(&[][..], Vec::as_slice);
        if existing.len() >= Self::LIMIT_PER_USER_AND_SERVICE {
            return Err(CredentialError::LimitExceeded {
                user_name: user_name.clone(),
                service: service.clone(),
                limit: Self::LIMIT_PER_USER_AND_SERVICE,
            });
        }
        // The first free slot: no suffix, then +1, +2, … (observed: the second key is `+1`).
        let slot = std::iter::once(None)
            .chain((1..).map(NonZeroU32::new))
            .find(|slot| existing.iter().all(|c| c.alias.slot != *slot))
            .flatten();

        self.serial += 1;
        let credential = ServiceSpecificCredential {
            id: CredentialId(format!("ACCAKEYWARD{:09}", self.serial)),
            service: service.clone(),
            alias: CredentialAlias::new(user_name.clone(), slot, account_id.clone()),
            create_date: now,
            age,
            status: SettableStatus::Active,
            secret: Secret::new(format!("keywardFakeSecret{:015}", self.serial)),
        };
        let list = self.by_user_and_service.entry(key).or_default();
        list.push(credential);
        Ok(&list[list.len() - 1])
    }

    /// `ListServiceSpecificCredentials` for one user, optionally narrowed to one service.
    pub fn list<'a>(
        &'a self,
        user_name: &'a UserName,
        service: Option<&'a ServiceName>,
    ) -> impl Iterator<Item = &'a ServiceSpecificCredential> + 'a {
        self.by_user_and_service
            .iter()
            .filter(move |((user, svc), _)| {
                user == user_name && service.is_none_or(|wanted| svc == wanted)
            })
            .flat_map(|(_, credentials)| credentials)
    }

    /// The credential with this id, if any.
    pub fn get(&self, id: &CredentialId) -> Option<&ServiceSpecificCredential> {
        self.by_user_and_service
            .values()
            .flatten()
            .find(|c| &c.id == id)
    }

    /// `UpdateServiceSpecificCredential`: only `Active` and `Inactive` can be set.
    pub fn update_status(
        &mut self,
        id: &CredentialId,
        status: SettableStatus,
    ) -> Result<(), CredentialError> {
        let credential = self
            .by_user_and_service
            .values_mut()
            .flatten()
            .find(|c| &c.id == id)
            .ok_or_else(|| CredentialError::NoSuchCredential { id: id.clone() })?;
        credential.status = status;
        Ok(())
    }

    /// `DeleteServiceSpecificCredential`; frees the slot for a new credential.
    pub fn delete(
        &mut self,
        id: &CredentialId,
    ) -> Result<ServiceSpecificCredential, CredentialError> {
        for credentials in self.by_user_and_service.values_mut() {
            if let Some(index) = credentials.iter().position(|c| &c.id == id) {
                return Ok(credentials.remove(index));
            }
        }
        Err(CredentialError::NoSuchCredential { id: id.clone() })
    }

    /// Every credential in the store, for the key scenarios and tests.
    pub fn iter(&self) -> impl Iterator<Item = &ServiceSpecificCredential> {
        self.by_user_and_service.values().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_751_328_000)
    }

    fn user() -> UserName {
        UserName::new("BedrockAPIKey-h42z").unwrap()
    }

    fn account() -> AccountId {
        AccountId::new("123456789012").unwrap()
    }

    #[test]
    fn age_days_holds_only_1_to_36600() {
        assert_eq!(AgeDays::new(1).unwrap(), AgeDays::MIN);
        assert_eq!(AgeDays::new(36_600).unwrap(), AgeDays::MAX);
        assert_eq!(AgeDays::MAX.get(), 36_600);
        for bad in [0, 36_601, 65_536, u64::MAX] {
            assert_eq!(
                AgeDays::new(bad),
                Err(CredentialError::AgeDaysOutOfRange { value: bad })
            );
        }
        assert_eq!(AgeDays::new(5).unwrap().as_duration(), 5 * DAY);
    }

    #[test]
    fn names_and_ids_are_checked() {
        assert!(UserName::new("jane.doe+ops@example,team=x_1-2").is_ok());
        assert!(UserName::new("").is_err());
        assert!(UserName::new(&"u".repeat(65)).is_err());
        assert!(UserName::new("jane doe").is_err());
        assert!(AccountId::new("12345678901a").is_err());
        assert!(ServiceName::new("bedrock.amazonaws.com")
            .unwrap()
            .is_bedrock());
        assert!(!ServiceName::new("codecommit.amazonaws.com")
            .unwrap()
            .is_bedrock());
        assert!(ServiceName::new("").is_err());
        // IAM's API sets no pattern on ServiceName: any name is asked for, and only the
        // supported ones get a credential.
        for asked in ["bedrock", "Bedrock.amazonaws.com", ".amazonaws.com", "a.b."] {
            let s = ServiceName::new(asked).unwrap();
            assert!(!s.is_supported() && !s.is_bedrock(), "{asked}");
            assert_eq!(s.as_str(), asked);
        }
        assert!(CredentialId::new("ACCA1234EXAMPLE1234X").is_ok());
        assert!(CredentialId::new("ACCA1234EXAMPLE").is_err());
        assert!(CredentialId::new("ACCA1234EXAMPLE1234-").is_err());
    }

    #[test]
    fn alias_round_trips() {
        for alias in [
            "BedrockAPIKey-h42z-at-123456789012",
            "BedrockAPIKey-h42z+1-at-123456789012",
        ] {
            assert_eq!(CredentialAlias::parse(alias).unwrap().to_string(), alias);
        }
        assert!(matches!(
            CredentialAlias::parse("nobody"),
            Err(CredentialError::InvalidAlias { .. })
        ));
        // Found by the long-term round-trip property: the user `+1` without a slot. A `+<n>`
        // with nothing before it is the user name, not a slot.
        let plus = CredentialAlias::parse("+1-at-000000000000").unwrap();
        assert_eq!(plus.user_name().as_str(), "+1");
        assert_eq!(plus.slot(), None);
        assert_eq!(plus.to_string(), "+1-at-000000000000");
        let slotted = CredentialAlias::parse("+1+2-at-000000000000").unwrap();
        assert_eq!(
            (
                slotted.user_name().as_str(),
                slotted.slot().map(|n| n.get())
            ),
            ("+1", Some(2))
        );
    }

    #[test]
    fn expiring_credential_reports_expired_from_its_expiration_date() {
        let mut store = CredentialStore::new();
        let age = AgeDays::new(5).unwrap();
        let c = store
            .create(
                &user(),
                &account(),
                &ServiceName::bedrock(),
                Some(age),
                t0(),
            )
            .unwrap()
            .clone();
        assert_eq!(c.create_date(), t0());
        assert_eq!(c.credential_age_days(), Some(age));
        assert_eq!(c.expiration_date(), Some(t0() + 5 * DAY));
        assert_eq!(c.status_at(t0()), CredentialStatus::Active);
        assert!(c.is_usable_at(t0() + 5 * DAY - Duration::from_secs(1)));
        assert_eq!(c.status_at(t0() + 5 * DAY), CredentialStatus::Expired);
        assert!(!c.is_usable_at(t0() + 5 * DAY));

        store
            .update_status(c.id(), SettableStatus::Inactive)
            .unwrap();
        let c = store.get(c.id()).unwrap();
        assert_eq!(c.status_at(t0()), CredentialStatus::Inactive);
        assert_eq!(c.status_at(t0() + 6 * DAY), CredentialStatus::Expired);
    }

    #[test]
    fn credential_without_age_never_expires() {
        let mut store = CredentialStore::new();
        let c = store
            .create(&user(), &account(), &ServiceName::bedrock(), None, t0())
            .unwrap();
        assert_eq!(c.credential_age_days(), None);
        assert_eq!(c.expiration_date(), None);
        let far = t0() + 36_600 * DAY * 2;
        assert_eq!(c.status_at(far), CredentialStatus::Active);
    }

    #[test]
    fn at_most_two_per_user_and_service() {
        let mut store = CredentialStore::new();
        let bedrock = ServiceName::bedrock();
        let first = store
            .create(&user(), &account(), &bedrock, None, t0())
            .unwrap()
            .clone();
        let second = store
            .create(&user(), &account(), &bedrock, None, t0())
            .unwrap()
            .clone();
        assert_eq!(first.alias().slot(), None);
        assert_eq!(second.alias().slot(), NonZeroU32::new(1));
        assert_ne!(first.id(), second.id());

        // Inactive credentials still count.
        store
            .update_status(first.id(), SettableStatus::Inactive)
            .unwrap();
        let err = store
            .create(&user(), &account(), &bedrock, None, t0())
            .unwrap_err();
        assert!(matches!(
            err,
            CredentialError::LimitExceeded { limit: 2, .. }
        ));
        assert!(err.to_string().contains("delete one first"));

        // Another service, or another user, has its own two.
        let codecommit = ServiceName::new("codecommit.amazonaws.com").unwrap();
        assert!(store
            .create(&user(), &account(), &codecommit, None, t0())
            .is_ok());
        let other = UserName::new("alice").unwrap();
        assert!(store
            .create(&other, &account(), &bedrock, None, t0())
            .is_ok());

        assert_eq!(store.list(&user(), Some(&bedrock)).count(), 2);
        assert_eq!(store.list(&user(), None).count(), 3);
        assert_eq!(store.iter().count(), 4);

        // Deleting frees the slot it held.
        store.delete(first.id()).unwrap();
        let third = store
            .create(&user(), &account(), &bedrock, None, t0())
            .unwrap();
        assert_eq!(third.alias().slot(), None);
        assert!(matches!(
            store.delete(first.id()),
            Err(CredentialError::NoSuchCredential { .. })
        ));
        assert!(matches!(
            store.update_status(first.id(), SettableStatus::Active),
            Err(CredentialError::NoSuchCredential { .. })
        ));
    }
}
