//! STS: the runner's identity (GetCallerIdentity) and the sessions of case roles (AssumeRole).

use super::response::{query_error, query_ok, Resp};
use super::{Req, World, RUNNER_KEY, RUNNER_ROLE};

pub const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Who the runner's credentials ([`RUNNER_KEY`]) belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// A session of a role of the account, which exists with its path (`/`, or for example
    /// IAM Identity Center's `/aws-reserved/sso.amazonaws.com/us-east-1/`).
    Role {
        path: String,
        name: String,
        session: String,
    },
    /// An IAM user of the account, with its path.
    User { path: String, name: String },
    /// The account's root user.
    Root,
    /// A federated user session (GetFederationToken) named so.
    FederatedUser(String),
}

impl Default for Runner {
    /// The CI role at path `/`, session `ci`.
    fn default() -> Runner {
        Runner::Role {
            path: "/".into(),
            name: RUNNER_ROLE.into(),
            session: "ci".into(),
        }
    }
}

impl Runner {
    /// A permission set's role as IAM Identity Center makes it (a reserved path; the role name
    /// is the permission set's with a suffix) and a signed-in user's session.
    pub fn sso() -> Runner {
        Runner::Role {
            path: "/aws-reserved/sso.amazonaws.com/us-east-1/".into(),
            name: "AWSReservedSSO_KeywardRunner_0123456789abcdef".into(),
            session: "alice@example.com".into(),
        }
    }

    /// The ARN GetCallerIdentity answers. A role session's ARN names the role without its
    /// path (IAM identifiers, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html).
    pub fn arn(&self, account: &str) -> String {
        match self {
            Runner::Role { name, session, .. } => {
                format!("arn:aws:sts::{account}:assumed-role/{name}/{session}")
            }
            Runner::User { path, name } => format!("arn:aws:iam::{account}:user{path}{name}"),
            Runner::Root => format!("arn:aws:iam::{account}:root"),
            Runner::FederatedUser(n) => format!("arn:aws:sts::{account}:federated-user/{n}"),
        }
    }

    /// The IAM role or user behind the credentials, by its full ARN (path included).
    pub fn entity_arn(&self, account: &str) -> Option<String> {
        match self {
            Runner::Role { path, name, .. } => {
                Some(format!("arn:aws:iam::{account}:role{path}{name}"))
            }
            Runner::User { path, name } => Some(format!("arn:aws:iam::{account}:user{path}{name}")),
            Runner::Root | Runner::FederatedUser(_) => None,
        }
    }

    /// GetCallerIdentity's `UserId`: the role id and session, the user id, the account id for
    /// the root user, `account:name` for a federated user.
    fn user_id(&self, account: &str) -> String {
        match self {
            Runner::Role { session, .. } => format!("AROAEXAMPLERUNNERID:{session}"),
            Runner::User { .. } => "AIDAEXAMPLERUNNERID".into(),
            Runner::Root => account.into(),
            Runner::FederatedUser(n) => format!("{account}:{n}"),
        }
    }
}

/// Answers an STS request by its `Action`.
pub fn answer(r: &Req, w: &mut World) -> Resp {
    // Drawn before the operation runs, as for IAM: the ids and dates that follow depend on it.
    let id = w.uuid();
    match r.op.as_str() {
        "GetCallerIdentity" => get_caller_identity(w, &id),
        "AssumeRole" => assume_role(r, w, &id),
        other => query_error(
            STS_NS,
            400,
            "InvalidAction",
            &format!("Could not find operation {other}"),
            &id,
        ),
    }
}

fn get_caller_identity(w: &mut World, id: &str) -> Resp {
    let arn = w.principal_of_key(RUNNER_KEY).unwrap_or_default();
    let inner = format!(
        "    <Arn>{arn}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>",
        w.runner.user_id(&w.account),
        w.account
    );
    query_ok(STS_NS, "GetCallerIdentity", Some(&inner), id)
}

/// A policy element that holds a string or a list of strings, as its strings.
fn strings(x: &serde_json::Value) -> Vec<String> {
    match x {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (one statement or a list of them).
fn statements(doc: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
    match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s => vec![s.clone()],
    }
}

/// Every `AWS` principal a trust policy names, in any statement.
pub fn aws_principals(doc: &str) -> Vec<String> {
    statements(doc)
        .iter()
        .flat_map(|s| strings(&s["Principal"]["AWS"]))
        .collect()
}

/// The `AWS` principals of a trust policy's statements that allow `sts:AssumeRole`.
fn trusted(doc: &str) -> Vec<String> {
    statements(doc)
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .filter(|s| {
            strings(&s["Action"])
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
        })
        .flat_map(|s| strings(&s["Principal"]["AWS"]))
        .collect()
}

/// Only the runner may assume a role, only one that exists, and only as the role's trust
/// policy allows: a policy that names the runner's role or user (by its full ARN), or that
/// trusts the account, for which the runner's own policy grants `sts:AssumeRole` on the
/// run's roles (the AssumeRole API reference: a user of the same account may assume a role
/// whose trust policy trusts the account if a policy of the user allows AssumeRole).
fn assume_role(r: &Req, w: &mut World, id: &str) -> Resp {
    let role_arn = r.param("RoleArn").unwrap_or_default().to_string();
    let session = r.param("RoleSessionName").unwrap_or_default().to_string();
    let role = role_arn.rsplit('/').next().unwrap_or_default().to_string();
    let caller = r.caller_arn.clone().unwrap_or_default();
    let denied = |message: &str| query_error(STS_NS, 403, "AccessDenied", message, id);
    if r.by_runner && w.runner == Runner::Root {
        // The answer public reports show for a root user's AssumeRole.
        return denied("Roles may not be assumed by root accounts.");
    }
    let account = w.account.clone();
    let allowed = r.by_runner
        && w.roles.contains_key(&role)
        && w.trust.get(&role).is_some_and(|doc| {
            trusted(doc).iter().any(|p| {
                *p == format!("arn:aws:iam::{account}:root")
                    || *p == account
                    || Some(p) == w.runner.entity_arn(&account).as_ref()
            })
        });
    if !allowed {
        return denied(&format!(
            "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        ));
    }
    let akid = format!("ASIA{}", w.id(16));
    let secret = format!("fakeSessionSecret{}", w.id(23));
    let token = format!("FwoGZXIvYXdzEFAKESESSIONTOKEN{}", w.id(40));
    w.sessions
        .insert(akid.clone(), (role.clone(), session.clone(), token.clone()));
    let inner = format!(
        "    <AssumedRoleUser>\n      <AssumedRoleId>AROAEXAMPLEROLEID:{session}</AssumedRoleId>\n      <Arn>arn:aws:sts::{}:assumed-role/{role}/{session}</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{akid}</AccessKeyId>\n      <SecretAccessKey>{secret}</SecretAccessKey>\n      <SessionToken>{token}</SessionToken>\n      <Expiration>2099-01-01T00:00:00Z</Expiration>\n    </Credentials>",
        w.account
    );
    query_ok(STS_NS, "AssumeRole", Some(&inner), id)
}
