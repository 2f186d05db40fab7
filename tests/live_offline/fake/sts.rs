//! STS: the runner's identity (GetCallerIdentity) and the sessions of case roles (AssumeRole).

use super::response::{query_error, query_ok, Resp};
use super::{Req, World, RUNNER_KEY};

pub const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

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
        "    <Arn>{arn}</Arn>\n    <UserId>AROAEXAMPLERUNNERID:ci</UserId>\n    <Account>{}</Account>",
        w.account
    );
    query_ok(STS_NS, "GetCallerIdentity", Some(&inner), id)
}

/// Only the runner may assume a role, and only one that exists.
fn assume_role(r: &Req, w: &mut World, id: &str) -> Resp {
    let role_arn = r.param("RoleArn").unwrap_or_default().to_string();
    let session = r.param("RoleSessionName").unwrap_or_default().to_string();
    let role = role_arn.rsplit('/').next().unwrap_or_default().to_string();
    if !r.by_runner || !w.roles.contains_key(&role) {
        let caller = r.caller_arn.clone().unwrap_or_default();
        return query_error(
            STS_NS,
            403,
            "AccessDenied",
            &format!("User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
            id,
        );
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
