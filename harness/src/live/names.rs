//! Names of what a run creates, and the renaming between a case and AWS.
//!
//! Cases speak of account 123456789012, role `dev` and user `BedrockAPIKey-h42z`; in the sandbox
//! the account is the sandbox's and every principal needs a name no other case uses. A
//! [`Renamer`] maps whole names one way for the requests and back for the answers, so a recorded
//! fixture reads exactly like the case it came from.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Every IAM name a run creates starts with this, except console-shaped user names.
pub const NAME_PREFIX: &str = "keyward-";
/// The tag every resource the runner creates carries; its value is the run id.
pub const TAG_KEY: &str = "keyward:run";
/// The account cases and recorded fixtures use (AWS's documentation account).
pub const CASE_ACCOUNT: &str = "123456789012";

/// A run's id: 8 lowercase base-36 characters, unique enough for concurrent runs in one account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(String);

impl RunId {
    pub fn new() -> RunId {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut h = DefaultHasher::new();
        (nanos, std::process::id()).hash(&mut h);
        RunId(base36(h.finish(), 8))
    }

    /// A run id as written by [`RunId::as_str`].
    pub fn parse(s: &str) -> Option<RunId> {
        (s.len() == 8
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        .then(|| RunId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `keyward-<run>-<case>-<what>`, cut to IAM's 64-character limit for names.
    pub fn name(&self, case: u64, what: &str) -> String {
        let mut n = format!("{NAME_PREFIX}{}-{case}-{what}", self.0);
        n.truncate(64);
        n
    }

    /// `keyward-<run>-<case>-<what>` for a managed policy, cut to IAM's 128 characters for
    /// policy names.
    pub fn policy_name(&self, case: u64, what: &str) -> String {
        let mut n = format!("{NAME_PREFIX}{}-{case}-{what}", self.0);
        n.truncate(128);
        n
    }
}

/// The console's user names: `BedrockAPIKey-` and four characters.
pub const CONSOLE_PREFIX: &str = "BedrockAPIKey-";

/// A console-style user name no one can guess or already hold. With `shaped`, it has the
/// console's shape (the prefix and four characters), so that patterns such as
/// `user/BedrockAPIKey-????` match it as they match the case's name; otherwise twenty characters
/// follow the prefix. The characters are drawn afresh from the OS's randomness (through std's
/// `RandomState`), so nothing a run shows (its id, the case) gives them away. A name that is
/// taken anyway answers EntityAlreadyExists and is never touched: only what carries the run's
/// tag is ever deleted.
pub fn console_user_name(shaped: bool) -> String {
    format!(
        "{CONSOLE_PREFIX}{}",
        random_base36(if shaped { 4 } else { 20 })
    )
}

/// `len` base-36 characters from the OS's randomness.
fn random_base36(len: usize) -> String {
    use std::hash::BuildHasher;
    let mut out = String::with_capacity(len + 12);
    while out.len() < len {
        // Each RandomState has keys of its own, seeded from the OS's random source.
        let h = std::collections::hash_map::RandomState::new();
        out.push_str(&base36(h.hash_one((SystemTime::now(), out.len())), 12));
    }
    out.truncate(len);
    out
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn base36(mut n: u64, len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = Vec::with_capacity(len);
    for _ in 0..len {
        s.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    String::from_utf8(s).unwrap_or_default()
}

/// Characters that continue an IAM name or id: a name is replaced only where it stands whole.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// Replaces every whole occurrence of `from` in `s`.
pub fn replace_whole(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() || !s.contains(from) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut prev: Option<char> = None;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back().or(prev);
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_name_char) || after.is_some_and(is_name_char) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        prev = from.chars().next_back();
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Pairs of (name in the case, name in AWS), whole managed-policy ARNs, and the ARNs of live
/// policies the case has no ARN for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renamer {
    pairs: Vec<(String, String)>,
    /// (case ARN, live ARN) of managed policies. Whole ARNs are mapped before names, both ways:
    /// a case ARN may name another account or `aws` where the live one names the sandbox.
    arns: Vec<(String, String)>,
    /// Live policy ARNs with no case ARN (a boundary given as a bare document).
    unnamed: Vec<String>,
}

impl Renamer {
    pub fn new() -> Renamer {
        Renamer::default()
    }

    pub fn add(&mut self, case: impl Into<String>, live: impl Into<String>) {
        let (case, live) = (case.into(), live.into());
        if case != live && !self.pairs.iter().any(|(c, _)| *c == case) {
            self.pairs.push((case, live));
        }
    }

    /// A managed policy the case names `case` that is `live` in the sandbox.
    pub fn add_arn(&mut self, case: impl Into<String>, live: impl Into<String>) {
        let (case, live) = (case.into(), live.into());
        if case != live && !self.arns.iter().any(|(c, _)| *c == case) {
            self.arns.push((case, live));
        }
    }

    /// A live managed policy the case gives no ARN for. AWS names it after an explicit deny
    /// (`... in a permissions boundary: <ARN>`); the case, which has no ARN to name, reads as
    /// keyward-iam words a policy without one: with [`keyward_iam::ARN_NOT_GIVEN`] there.
    pub fn add_unnamed(&mut self, live_arn: impl Into<String>) {
        let a = live_arn.into();
        if !self.unnamed.contains(&a) {
            self.unnamed.push(a);
        }
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The live name of the case name `case`: the one it already has, or else the first of
    /// `make(0)`, `make(1)`, ... that no other name of the renamer is, which `case` then keeps.
    /// The renaming replaces a name wherever it stands whole, so one case name must be one
    /// live name everywhere (a user that is both a key's caller and its target is one live
    /// user), and two case names must never share one (the answers could not be mapped back).
    /// `None` when `make` gives no free name in [`Renamer::MAX_ATTEMPTS`] tries.
    pub fn live_name(&mut self, case: &str, mut make: impl FnMut(u32) -> String) -> Option<String> {
        if let Some((_, live)) = self.pairs.iter().find(|(c, _)| c == case) {
            return Some(live.clone());
        }
        (0..Self::MAX_ATTEMPTS).map(&mut make).find_map(|live| {
            let taken = live == case || self.pairs.iter().any(|(c, l)| *l == live || *c == live);
            (!taken).then(|| {
                self.pairs.push((case.to_string(), live.clone()));
                live
            })
        })
    }

    /// How many candidates [`Renamer::live_name`] tries.
    pub const MAX_ATTEMPTS: u32 = 16;

    pub fn live_of(&self, case: &str) -> String {
        self.to_live(case)
    }

    pub fn to_live(&self, s: &str) -> String {
        let s = self
            .arns
            .iter()
            .fold(s.to_string(), |acc, (c, l)| replace_whole(&acc, c, l));
        self.pairs
            .iter()
            .fold(s, |acc, (c, l)| replace_whole(&acc, c, l))
    }

    pub fn to_case(&self, s: &str) -> String {
        let s = self.unnamed.iter().fold(s.to_string(), |acc, l| {
            replace_whole(&acc, l, keyward_iam::ARN_NOT_GIVEN)
        });
        let s = self
            .arns
            .iter()
            .fold(s, |acc, (c, l)| replace_whole(&acc, l, c));
        self.pairs
            .iter()
            .rev()
            .fold(s, |acc, (c, l)| replace_whole(&acc, l, c))
    }

    /// Renames every string (keys included) of a JSON value for AWS.
    pub fn json_to_live(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.to_live(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.json_to_live(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (self.to_live(k), self.json_to_live(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_replaced_only_where_they_stand_whole() {
        assert_eq!(
            replace_whole(
                "arn:aws:iam::123456789012:role/dev",
                "dev",
                "keyward-x-1-dev"
            ),
            "arn:aws:iam::123456789012:role/keyward-x-1-dev"
        );
        assert_eq!(
            replace_whole("role/developer", "dev", "X"),
            "role/developer"
        );
        assert_eq!(
            replace_whole("us.anthropic.m", "anthropic.m", "X"),
            "us.anthropic.m"
        );
        assert_eq!(replace_whole("dev/dev", "dev", "Y"), "Y/Y");
    }

    #[test]
    fn renaming_round_trips() {
        let mut r = Renamer::new();
        r.add(CASE_ACCOUNT, "999988887777");
        r.add("dev", "keyward-abcdefgh-3-dev");
        let s = "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized";
        let live = r.to_live(s);
        assert_eq!(
            live,
            "User: arn:aws:sts::999988887777:assumed-role/keyward-abcdefgh-3-dev/alice is not authorized"
        );
        assert_eq!(r.to_case(&live), s);
    }

    #[test]
    fn a_case_name_keeps_one_live_name_and_no_two_share_one() {
        let mut r = Renamer::new();
        let first = r.live_name("alice", |n| format!("live-{n}")).unwrap();
        assert_eq!(first, "live-0");
        // The same case name again (a caller that is also the target) is the same live name.
        assert_eq!(r.live_name("alice", |_| "other".into()).unwrap(), "live-0");
        // Another case name whose first candidate is taken gets the next one.
        assert_eq!(
            r.live_name("bob", |n| format!("live-{n}")).unwrap(),
            "live-1"
        );
        // A candidate that is the name of a case is never a live name.
        assert_eq!(
            r.live_name("carol", |n| ["bob", "live-9"][n.min(1) as usize].into())
                .unwrap(),
            "live-9"
        );
        assert_eq!(r.live_name("dave", |_| "live-0".into()), None);
        assert_eq!(r.to_case("live-0 live-1 live-9"), "alice bob carol");
    }

    #[test]
    fn policy_arns_map_whole_and_unnamed_ones_read_as_not_given() {
        let mut r = Renamer::new();
        r.add(CASE_ACCOUNT, "999988887777");
        r.add("dev", "keyward-abcdefgh-3-k-dev");
        let (case, live) = (
            "arn:aws:iam::123456789012:policy/Deny",
            "arn:aws:iam::999988887777:policy/keyward-abcdefgh-3-Deny",
        );
        r.add_arn(case, live);
        let other = "arn:aws:iam::777788889999:policy/Other";
        r.add_arn(
            other,
            "arn:aws:iam::999988887777:policy/keyward-abcdefgh-3-Other",
        );
        let boundary = "arn:aws:iam::999988887777:policy/keyward-abcdefgh-3-boundary";
        r.add_unnamed(boundary);
        let m = "User: arn:aws:sts::123456789012:assumed-role/dev/a is not authorized ... in an identity-based policy: ";
        assert_eq!(
            r.to_live(&format!("{m}{case}")),
            format!("{}{live}", r.to_live(m))
        );
        assert_eq!(
            r.to_case(&r.to_live(&format!("{m}{case}"))),
            format!("{m}{case}")
        );
        // Another account's ARN is the case's again, not the case account's.
        assert_eq!(r.to_case(&r.to_live(other)), other);
        // A policy the case gives no ARN: its live ARN reads as keyward words it, not given.
        let said = format!("{{\"Message\":\"... in a permissions boundary: {boundary}\"}}");
        assert_eq!(
            r.to_case(&said),
            "{\"Message\":\"... in a permissions boundary: <policy ARN not given>\"}"
        );
        // Only where the ARN stands whole: a longer live name that starts with it is kept.
        let longer = format!("in an identity-based policy: {boundary}-x");
        assert_eq!(
            r.to_case(&longer),
            "in an identity-based policy: arn:aws:iam::123456789012:policy/keyward-abcdefgh-3-boundary-x"
        );
        // An AWS managed ARN is the same in both.
        let aws = "arn:aws:iam::aws:policy/AWSDenyAll";
        assert_eq!(r.to_case(&r.to_live(aws)), aws);
    }

    #[test]
    fn run_ids_and_names_fit_iam() {
        let r = RunId::new();
        assert!(RunId::parse(r.as_str()).is_some());
        assert!(r.name(7, &"x".repeat(100)).len() <= 64);
        let u = console_user_name(true);
        assert!(u.starts_with("BedrockAPIKey-") && u.len() == 18, "{u}");
        let long = console_user_name(false);
        assert!(
            long.starts_with("BedrockAPIKey-") && long.len() == 34,
            "{long}"
        );
        assert_ne!(long, console_user_name(false));
        assert!(RunId::parse("UPPER123").is_none());
    }
}
