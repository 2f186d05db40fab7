//! The state the fake keeps between requests: the IAM entities a run creates, the sessions STS
//! hands out, what was created and deleted, in order, and how far each change has propagated.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::sts::Runner;
use super::{Req, RUNNER_KEY};

/// A user or a role: its inline policy names (with each document's size as IAM counts it, and
/// the document), attached policy ARNs, boundary and tags.
#[derive(Debug, Default)]
pub struct Principal {
    pub inline: BTreeSet<String>,
    pub inline_chars: BTreeMap<String, usize>,
    pub inline_docs: BTreeMap<String, String>,
    pub attached: BTreeSet<String>,
    pub boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A service-specific credential (a long-term Bedrock API key); `seq` dates it.
#[derive(Debug, Clone)]
pub struct ServiceCred {
    pub id: String,
    pub user: String,
    pub service: String,
    pub secret: String,
    pub active: bool,
    pub seq: u64,
}

/// How one kind of change reaches the services that enforce it: not at all for `delay`, then
/// the old and the new state answer in turn for `flap`, then the new state only. IAM documents
/// that its changes are eventually consistent and "take time to become visible"
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency);
/// it documents no delay and no order, so tests choose both. Zero (the default) is today's
/// instant fake.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lag {
    pub delay: Duration,
    pub flap: Duration,
}

/// The lag of each kind of change the fake models.
#[derive(Debug, Clone, Copy, Default)]
pub struct Propagation {
    /// A principal's policies put, attached, detached or deleted: until seen, Bedrock takes the
    /// principal to have no policies (a fresh principal's previous state). Only model calls are
    /// subject to it; IAM answers the case principal's own requests at once.
    pub policies: Lag,
    /// A Bedrock long-term key created: until seen, Bedrock does not know the key.
    pub key_created: Lag,
    /// A Bedrock long-term key activated or deactivated: until seen, its old status holds.
    pub key_status: Lag,
}

/// The fake's IAM and STS state.
#[derive(Debug, Default)]
pub struct World {
    /// The account STS reports for the runner.
    pub account: String,
    pub seq: u64,
    pub users: BTreeMap<String, Principal>,
    pub roles: BTreeMap<String, Principal>,
    /// Managed policies by ARN.
    pub policies: BTreeSet<String>,
    /// Managed policy documents by ARN: those CreatePolicy made, and the AWS managed policies a
    /// test gives the fake (it does not hold AWS's catalogue).
    pub policy_docs: BTreeMap<String, String>,
    pub policy_tags: BTreeMap<String, Vec<(String, String)>>,
    /// Access key id -> (user, secret).
    pub access_keys: BTreeMap<String, (String, String)>,
    /// Access key id -> (role, session, session token).
    pub sessions: BTreeMap<String, (String, String, String)>,
    pub creds: Vec<ServiceCred>,
    /// Every ServiceCredentialSecret handed out.
    pub issued: Vec<String>,
    /// `user N`, `role N`, `policy ARN`, in the order the fake created them.
    pub created: Vec<String>,
    pub deleted: Vec<String>,
    /// Whose credentials the runner's are (GetCallerIdentity's answer).
    pub runner: Runner,
    /// Role name -> its trust policy, as last set.
    pub trust: BTreeMap<String, String>,
    /// How changes propagate (instantly unless a test says otherwise).
    pub propagation: Propagation,
    /// When each principal's policies last changed, by `user NAME` or `role NAME`.
    pub policies_changed: BTreeMap<String, Instant>,
    /// When each long-term key was created, by credential id.
    pub key_created: BTreeMap<String, Instant>,
    /// When each long-term key's status last changed, and whether it was active before.
    pub key_status_changed: BTreeMap<String, (Instant, bool)>,
    /// Foundation model ids the account has no access to (model access not granted).
    pub models_without_access: BTreeSet<String>,
    /// Answers given while some change was flapping, so that old and new alternate.
    pub flips: u64,
}

impl World {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A random-looking UUID (a request id).
    pub fn uuid(&mut self) -> String {
        let a = mix(self.next());
        let b = mix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// `len` uppercase letters and digits, random-looking.
    pub fn id(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut n = mix(self.next());
        (0..len)
            .map(|_| {
                n = mix(n);
                A[(n % 32) as usize] as char
            })
            .collect()
    }

    pub fn date(&self) -> String {
        format!(
            "2025-06-01T12:{:02}:{:02}Z",
            (self.seq / 60) % 60,
            self.seq % 60
        )
    }

    pub fn user_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:user/{name}", self.account)
    }

    pub fn role_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.account)
    }

    /// The ARN of the principal an access key id belongs to.
    pub fn principal_of_key(&self, akid: &str) -> Option<String> {
        if akid == RUNNER_KEY {
            return Some(self.runner.arn(&self.account));
        }
        if let Some((user, _)) = self.access_keys.get(akid) {
            return Some(self.user_arn(user));
        }
        self.sessions.get(akid).map(|(role, session, _)| {
            format!(
                "arn:aws:sts::{}:assumed-role/{role}/{session}",
                self.account
            )
        })
    }
}

impl World {
    /// Whether a change made at `since` is seen now (no change recorded: it always was).
    /// While it flaps, each question gets the other answer than the one before.
    pub fn seen(&mut self, lag: Lag, since: Option<Instant>) -> bool {
        let Some(t) = since else {
            return true;
        };
        let age = Instant::now().saturating_duration_since(t);
        if age < lag.delay {
            false
        } else if age < lag.delay + lag.flap {
            self.flips += 1;
            self.flips.is_multiple_of(2)
        } else {
            true
        }
    }

    /// Whether the principal of `caller_arn` (a user, or a role's session) has its policies as
    /// they are now, or acts still with none.
    pub fn policies_seen(&mut self, caller_arn: &str) -> bool {
        let key = if let Some(rest) = caller_arn.split(":assumed-role/").nth(1) {
            format!("role {}", rest.split('/').next().unwrap_or_default())
        } else if let Some(user) = caller_arn.split(":user/").nth(1) {
            format!("user {}", user.rsplit('/').next().unwrap_or_default())
        } else {
            return true;
        };
        let since = self.policies_changed.get(&key).copied();
        self.seen(self.propagation.policies, since)
    }

    /// Whether Bedrock knows the long-term key `id`, and whether it is active, as Bedrock sees it.
    pub fn key_seen(&mut self, id: &str, active_now: bool) -> (bool, bool) {
        let created = self.key_created.get(id).copied();
        let known = self.seen(self.propagation.key_created, created);
        let active = match self.key_status_changed.get(id).copied() {
            Some((t, before)) if !self.seen(self.propagation.key_status, Some(t)) => before,
            _ => active_now,
        };
        (known, active)
    }

    /// Notes the time of a change IAM made (the request succeeded), for [`World::seen`].
    pub fn note_change(&mut self, r: &Req, status: u16) {
        if r.service != "iam" || status >= 300 {
            return;
        }
        let now = Instant::now();
        let principal = match r.op.as_str() {
            "PutUserPolicy"
            | "DeleteUserPolicy"
            | "AttachUserPolicy"
            | "DetachUserPolicy"
            | "PutUserPermissionsBoundary"
            | "DeleteUserPermissionsBoundary" => r.param("UserName").map(|u| format!("user {u}")),
            "PutRolePolicy"
            | "DeleteRolePolicy"
            | "AttachRolePolicy"
            | "DetachRolePolicy"
            | "PutRolePermissionsBoundary"
            | "DeleteRolePermissionsBoundary" => r.param("RoleName").map(|n| format!("role {n}")),
            _ => None,
        };
        if let Some(p) = principal {
            self.policies_changed.insert(p, now);
        }
        match r.op.as_str() {
            "CreateServiceSpecificCredential" => {
                if let Some(c) = self.creds.last() {
                    self.key_created.insert(c.id.clone(), now);
                }
            }
            "UpdateServiceSpecificCredential" => {
                if let Some(id) = r.param("ServiceSpecificCredentialId") {
                    let active_now = r.param("Status") == Some("Active");
                    self.key_status_changed
                        .insert(id.to_string(), (now, !active_now));
                }
            }
            _ => {}
        }
    }
}

/// The time now as AWS would see it while tokio's clock is paused: the system time moved on by
/// however far tokio's clock is ahead of the monotonic one (the same as keyward's own signing
/// clock, so a key signed "now" is not expired to the fake).
pub fn wall_now() -> SystemTime {
    let ahead = Instant::now()
        .into_std()
        .saturating_duration_since(std::time::Instant::now());
    SystemTime::now() + ahead
}

/// SplitMix64's finaliser: ids and request ids that look random but repeat run after run.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
