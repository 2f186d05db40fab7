//! The state the fake keeps between requests: the IAM entities a run creates, the sessions STS
//! hands out, and what was created and deleted, in order.

use std::collections::{BTreeMap, BTreeSet};

use super::{RUNNER_KEY, RUNNER_ROLE};

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
            return Some(format!(
                "arn:aws:sts::{}:assumed-role/{RUNNER_ROLE}/ci",
                self.account
            ));
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

/// SplitMix64's finaliser: ids and request ids that look random but repeat run after run.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
