//! IAM: the users, roles, policies and keys a run creates and deletes, the listings cleanup and
//! sweep read, and SimulateCustomPolicy. One function per operation; operations that exist for
//! users and for roles alike share one, told which by an [`Entity`].

use std::collections::BTreeMap;

use super::response::{query_error, query_ok, xml_escape, Resp};
use super::sts::aws_principals;
use super::{Principal, Req, ServiceCred, World};

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Answers an IAM request by its `Action`.
pub fn answer(r: &Req, w: &mut World) -> Resp {
    let c = Call { r, id: w.uuid() };
    use Entity::{Role, User};
    match r.op.as_str() {
        "CreateUser" => create_user(&c, w),
        "CreateRole" => create_role(&c, w),
        "UpdateAssumeRolePolicy" => update_assume_role_policy(&c, w),
        "CreatePolicy" => create_policy(&c, w),
        "PutUserPolicy" => put_inline_policy(&c, w, User),
        "PutRolePolicy" => put_inline_policy(&c, w, Role),
        "PutUserPermissionsBoundary" => put_permissions_boundary(&c, w, User),
        "PutRolePermissionsBoundary" => put_permissions_boundary(&c, w, Role),
        "AttachUserPolicy" => attach_policy(&c, w, User),
        "AttachRolePolicy" => attach_policy(&c, w, Role),
        "GetPolicy" => get_policy(&c, w),
        "GetPolicyVersion" => get_policy_version(&c, w),
        "CreateAccessKey" => create_access_key(&c, w),
        "ListAccessKeys" => list_access_keys(&c, w),
        "DeleteAccessKey" => delete_access_key(&c, w),
        "CreateServiceSpecificCredential" => create_service_specific_credential(&c, w),
        "UpdateServiceSpecificCredential" => update_service_specific_credential(&c, w),
        "ListServiceSpecificCredentials" => list_service_specific_credentials(&c, w),
        "DeleteServiceSpecificCredential" => delete_service_specific_credential(&c, w),
        "ListUserPolicies" => list_inline_policies(&c, w, User),
        "ListRolePolicies" => list_inline_policies(&c, w, Role),
        "DeleteUserPolicy" => delete_inline_policy(&c, w, User),
        "DeleteRolePolicy" => delete_inline_policy(&c, w, Role),
        "ListAttachedUserPolicies" => list_attached_policies(&c, w, User),
        "ListAttachedRolePolicies" => list_attached_policies(&c, w, Role),
        "DetachUserPolicy" => detach_policy(&c, w, User),
        "DetachRolePolicy" => detach_policy(&c, w, Role),
        "DeleteLoginProfile" => delete_login_profile(&c, w),
        "DeleteUser" => delete_user(&c, w),
        "DeleteRole" => delete_role(&c, w),
        "ListPolicyVersions" => list_policy_versions(&c, w),
        "DeletePolicy" => delete_policy(&c, w),
        "SimulateCustomPolicy" => simulate_custom_policy(&c, w),
        "ListUsers" => list_entities(&c, w, User),
        "ListRoles" => list_entities(&c, w, Role),
        "ListPolicies" => list_policies(&c, w),
        "TagUser" => tag_user(&c, w),
        "ListUserTags" => {
            let tags = w.users.get(&c.p("UserName")).map(|u| u.tags.clone());
            list_tags(&c, w, tags)
        }
        "ListRoleTags" => {
            let tags = w.roles.get(&c.p("RoleName")).map(|u| u.tags.clone());
            list_tags(&c, w, tags)
        }
        "ListPolicyTags" => {
            let tags = w.policy_tags.get(&c.p("PolicyArn")).cloned();
            list_tags(&c, w, tags)
        }
        other => iam_error(
            w,
            400,
            "InvalidAction",
            &format!("Could not find operation {other} for version 2010-05-08"),
        ),
    }
}

/// An IAM request being answered, with the request id of its success: drawn before the
/// operation runs, so every answer moves the fake's sequence the same way.
struct Call<'a> {
    r: &'a Req,
    id: String,
}

impl Call<'_> {
    /// A parameter, empty when absent.
    fn p(&self, name: &str) -> String {
        self.r.param(name).unwrap_or_default().to_string()
    }

    fn ok(&self, inner: Option<String>) -> Resp {
        query_ok(IAM_NS, &self.r.op, inner.as_deref(), &self.id)
    }
}

/// Whether a user or a role operation is answered.
#[derive(Clone, Copy)]
enum Entity {
    User,
    Role,
}

impl Entity {
    /// The entity's name, from `UserName` or `RoleName`.
    fn name(self, c: &Call) -> String {
        c.p(match self {
            Entity::User => "UserName",
            Entity::Role => "RoleName",
        })
    }

    fn map(self, w: &World) -> &BTreeMap<String, Principal> {
        match self {
            Entity::User => &w.users,
            Entity::Role => &w.roles,
        }
    }

    fn map_mut(self, w: &mut World) -> &mut BTreeMap<String, Principal> {
        match self {
            Entity::User => &mut w.users,
            Entity::Role => &mut w.roles,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Role => "role",
        }
    }
}

pub fn iam_error(w: &mut World, status: u16, code: &str, message: &str) -> Resp {
    let id = w.uuid();
    query_error(IAM_NS, status, code, message, &id)
}

fn no_such(w: &mut World, what: &str) -> Resp {
    iam_error(
        w,
        404,
        "NoSuchEntity",
        &format!("The {what} cannot be found."),
    )
}

fn members_xml(tag: &str, items: &[String]) -> String {
    let ms: String = items
        .iter()
        .map(|i| format!("<member>{i}</member>"))
        .collect();
    format!("<{tag}>{ms}</{tag}>")
}

/// A listing's result: the members under `tag`, never truncated.
fn listing(tag: &str, items: &[String]) -> Option<String> {
    Some(format!(
        "    {}\n    <IsTruncated>false</IsTruncated>",
        members_xml(tag, items)
    ))
}

fn create_user(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    if w.users.contains_key(&name) {
        return iam_error(
            w,
            409,
            "EntityAlreadyExists",
            &format!("User with name {name} already exists."),
        );
    }
    w.users.insert(
        name.clone(),
        Principal {
            tags: c.r.tags(),
            ..Principal::default()
        },
    );
    w.created.push(format!("user {name}"));
    let uid = w.id(17);
    let inner = format!(
        "    <User>\n      <Path>/</Path>\n      <UserName>{name}</UserName>\n      <UserId>AIDA{uid}</UserId>\n      <Arn>{}</Arn>\n      <CreateDate>{}</CreateDate>\n    </User>",
        w.user_arn(&name),
        w.date()
    );
    c.ok(Some(inner))
}

/// Whether `arn` names a role or user of the fake's account that does not exist. The fake makes
/// every role and user at path `/`; the runner's own role or user exists with its path. ARNs of
/// other accounts, the account itself and role sessions are not entities the fake knows, and
/// pass.
fn names_missing_entity(arn: &str, w: &World) -> bool {
    let Some(rest) = arn.strip_prefix(&format!("arn:aws:iam::{}:", w.account)) else {
        return false;
    };
    if w.runner.entity_arn(&w.account).as_deref() == Some(arn) {
        return false;
    }
    let exists = |prefix: &str, map: &BTreeMap<String, Principal>| {
        rest.strip_prefix(prefix)
            .map(|name| !name.contains('/') && map.contains_key(name))
    };
    match (exists("role/", &w.roles), exists("user/", &w.users)) {
        (Some(found), _) | (_, Some(found)) => !found,
        (None, None) => false,
    }
}

/// IAM refuses a trust policy whose `AWS` principal is a role or user ARN of no existing
/// entity: it stores such a principal as the entity's unique id (AWS JSON policy elements:
/// Principal, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html),
/// so one that does not exist cannot be saved. CreateRole and UpdateAssumeRolePolicy document
/// MalformedPolicyDocument (400) without its text; the message is the form public reports of
/// real answers show: `Invalid principal in policy: "AWS":"<arn>"`.
fn invalid_principal(doc: &str, w: &mut World) -> Option<Resp> {
    let bad = aws_principals(doc)
        .into_iter()
        .find(|p| names_missing_entity(p, w))?;
    Some(iam_error(
        w,
        400,
        "MalformedPolicyDocument",
        &format!("Invalid principal in policy: \"AWS\":\"{bad}\""),
    ))
}

fn update_assume_role_policy(c: &Call, w: &mut World) -> Resp {
    let name = c.p("RoleName");
    if !w.roles.contains_key(&name) {
        return no_such(w, &format!("role with name {name}"));
    }
    let doc = c.p("PolicyDocument");
    if let Some(refused) = invalid_principal(&doc, w) {
        return refused;
    }
    w.trust.insert(name, doc);
    c.ok(None)
}

fn create_role(c: &Call, w: &mut World) -> Resp {
    let name = c.p("RoleName");
    if w.roles.contains_key(&name) {
        return iam_error(
            w,
            409,
            "EntityAlreadyExists",
            &format!("Role with name {name} already exists."),
        );
    }
    let trust = c.p("AssumeRolePolicyDocument");
    if let Some(refused) = invalid_principal(&trust, w) {
        return refused;
    }
    w.trust.insert(name.clone(), trust);
    w.roles.insert(
        name.clone(),
        Principal {
            tags: c.r.tags(),
            ..Principal::default()
        },
    );
    w.created.push(format!("role {name}"));
    let rid = w.id(17);
    let inner = format!(
        "    <Role>\n      <Path>/</Path>\n      <RoleName>{name}</RoleName>\n      <RoleId>AROA{rid}</RoleId>\n      <Arn>{}</Arn>\n      <CreateDate>{}</CreateDate>\n      <AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>\n      <MaxSessionDuration>3600</MaxSessionDuration>\n    </Role>",
        w.role_arn(&name),
        w.date(),
        xml_escape(&c.p("AssumeRolePolicyDocument"))
    );
    c.ok(Some(inner))
}

/// The size IAM counts a policy document at: its characters, white space not counted (IAM and
/// AWS STS quotas, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
fn policy_chars(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// A managed policy document may hold at most this many characters (IAM and AWS STS quotas).
const MANAGED_POLICY_CHARS: usize = 6_144;

/// IAM's answer to a document over a size quota: `LimitExceeded` (409), as PutUserPolicy,
/// PutRolePolicy and CreatePolicy document it. The API reference does not give the message
/// text; this one is the form public reports show.
fn too_large(w: &mut World, message: &str) -> Resp {
    iam_error(w, 409, "LimitExceeded", message)
}

fn create_policy(c: &Call, w: &mut World) -> Resp {
    let name = c.p("PolicyName");
    if policy_chars(&c.p("PolicyDocument")) > MANAGED_POLICY_CHARS {
        return too_large(
            w,
            &format!("Cannot exceed quota for PolicySize: {MANAGED_POLICY_CHARS}"),
        );
    }
    let arn = format!("arn:aws:iam::{}:policy/{name}", w.account);
    w.policies.insert(arn.clone());
    w.policy_docs.insert(arn.clone(), c.p("PolicyDocument"));
    w.policy_tags.insert(arn.clone(), c.r.tags());
    w.created.push(format!("policy {arn}"));
    let pid = w.id(17);
    let inner = format!(
        "    <Policy>\n      <PolicyName>{name}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n      <PolicyId>ANPA{pid}</PolicyId>\n      <Path>/</Path>\n      <Arn>{arn}</Arn>\n      <AttachmentCount>0</AttachmentCount>\n      <PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>\n      <IsAttachable>true</IsAttachable>\n      <CreateDate>{d}</CreateDate>\n      <UpdateDate>{d}</UpdateDate>\n    </Policy>",
        d = w.date()
    );
    c.ok(Some(inner))
}

/// As IAM: the inline policies of one principal together may hold at most 2,048 characters
/// for a user and 10,240 for a role (IAM and AWS STS quotas); a document that would take the
/// total over is refused and nothing changes.
fn put_inline_policy(c: &Call, w: &mut World, e: Entity) -> Resp {
    let name = e.name(c);
    let policy = c.p("PolicyName");
    let chars = policy_chars(&c.p("PolicyDocument"));
    let limit = match e {
        Entity::User => 2_048,
        Entity::Role => 10_240,
    };
    let Some(pr) = e.map_mut(w).get_mut(&name) else {
        return no_such(w, &format!("{} with name {name}", e.what()));
    };
    // A policy put again under its name replaces the old document.
    let others: usize = pr
        .inline_chars
        .iter()
        .filter(|(n, _)| **n != policy)
        .map(|(_, n)| n)
        .sum();
    if others + chars > limit {
        return too_large(
            w,
            &format!(
                "Maximum policy size of {limit} bytes exceeded for {} {name}",
                e.what()
            ),
        );
    }
    pr.inline.insert(policy.clone());
    pr.inline_chars.insert(policy.clone(), chars);
    pr.inline_docs.insert(policy, c.p("PolicyDocument"));
    c.ok(None)
}

fn put_permissions_boundary(c: &Call, w: &mut World, e: Entity) -> Resp {
    let arn = c.p("PermissionsBoundary");
    if !policy_exists(w, &arn) {
        return no_such(w, &format!("policy {arn}"));
    }
    let name = e.name(c);
    match e.map_mut(w).get_mut(&name) {
        Some(pr) => {
            pr.boundary = Some(arn);
            c.ok(None)
        }
        None => no_such(w, &format!("entity {name}")),
    }
}

/// An AWS managed policy's ARN (`arn:aws:iam::aws:policy/...`).
pub fn is_aws_managed(arn: &str) -> bool {
    arn.starts_with("arn:aws:iam::aws:policy/")
}

/// A customer managed policy exists once CreatePolicy made it; the fake does not hold AWS's
/// catalogue of AWS managed policies, so it takes every AWS managed ARN as existing.
fn policy_exists(w: &World, arn: &str) -> bool {
    w.policies.contains(arn) || is_aws_managed(arn)
}

/// Managed policies one user or role may have attached (IAM and AWS STS quotas, default; the
/// boundary is not one of them).
pub const ATTACHED_POLICIES: usize = 10;

/// AttachUserPolicy / AttachRolePolicy. As the API reference documents: NoSuchEntity (404) for
/// an entity or policy that does not exist, LimitExceeded (409) past the quota of attached
/// managed policies. The reference gives no message texts; these follow IAM's quota wording
/// (`Cannot exceed quota for ...`).
fn attach_policy(c: &Call, w: &mut World, e: Entity) -> Resp {
    let name = e.name(c);
    let arn = c.p("PolicyArn");
    if !policy_exists(w, &arn) {
        return no_such(w, &format!("policy {arn}"));
    }
    let Some(pr) = e.map_mut(w).get_mut(&name) else {
        return no_such(w, &format!("{} with name {name}", e.what()));
    };
    if !pr.attached.contains(&arn) && pr.attached.len() >= ATTACHED_POLICIES {
        let quota = match e {
            Entity::User => "PoliciesPerUser",
            Entity::Role => "PoliciesPerRole",
        };
        return iam_error(
            w,
            409,
            "LimitExceeded",
            &format!("Cannot exceed quota for {quota}: {ATTACHED_POLICIES}"),
        );
    }
    pr.attached.insert(arn);
    c.ok(None)
}

/// GetPolicy: the default version is `v1` (the fake keeps one version of each policy).
fn get_policy(c: &Call, w: &mut World) -> Resp {
    let arn = c.p("PolicyArn");
    if !w.policy_docs.contains_key(&arn) {
        return no_such(w, &format!("Policy {arn}"));
    }
    let name = arn.rsplit('/').next().unwrap_or_default().to_string();
    let d = w.date();
    c.ok(Some(format!(
        "    <Policy>\n      <PolicyName>{name}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n      <PolicyId>ANPAEXAMPLE{}</PolicyId>\n      <Path>/</Path>\n      <Arn>{arn}</Arn>\n      <AttachmentCount>0</AttachmentCount>\n      <IsAttachable>true</IsAttachable>\n      <CreateDate>{d}</CreateDate>\n      <UpdateDate>{d}</UpdateDate>\n    </Policy>",
        name.len()
    )))
}

/// GetPolicyVersion: the document URL-encoded, as the API reference says IAM returns it
/// (RFC 3986).
fn get_policy_version(c: &Call, w: &mut World) -> Resp {
    let arn = c.p("PolicyArn");
    let v = c.p("VersionId");
    let Some(doc) = w.policy_docs.get(&arn).filter(|_| v == "v1") else {
        return no_such(w, &format!("Policy {arn} version {v}"));
    };
    let doc = url_encode(doc);
    let d = w.date();
    c.ok(Some(format!(
        "    <PolicyVersion>\n      <Document>{doc}</Document>\n      <VersionId>v1</VersionId>\n      <IsDefaultVersion>true</IsDefaultVersion>\n      <CreateDate>{d}</CreateDate>\n    </PolicyVersion>"
    )))
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn create_access_key(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    if !w.users.contains_key(&name) {
        return no_such(w, &format!("user with name {name}"));
    }
    let akid = format!("AKIA{}", w.id(16));
    let secret = format!("fakeUserSecret{}", w.id(26));
    w.access_keys
        .insert(akid.clone(), (name.clone(), secret.clone()));
    let inner = format!(
        "    <AccessKey>\n      <UserName>{name}</UserName>\n      <AccessKeyId>{akid}</AccessKeyId>\n      <Status>Active</Status>\n      <SecretAccessKey>{secret}</SecretAccessKey>\n      <CreateDate>{}</CreateDate>\n    </AccessKey>",
        w.date()
    );
    c.ok(Some(inner))
}

fn list_access_keys(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    if !w.users.contains_key(&name) {
        return no_such(w, &format!("user with name {name}"));
    }
    let d = w.date();
    let items: Vec<String> = w
        .access_keys
        .iter()
        .filter(|(_, (u, _))| *u == name)
        .map(|(k, _)| format!("<UserName>{name}</UserName><AccessKeyId>{k}</AccessKeyId><Status>Active</Status><CreateDate>{d}</CreateDate>"))
        .collect();
    c.ok(listing("AccessKeyMetadata", &items))
}

fn delete_access_key(c: &Call, w: &mut World) -> Resp {
    let k = c.p("AccessKeyId");
    if w.access_keys.remove(&k).is_none() {
        return no_such(w, &format!("Access Key with id {k}"));
    }
    c.ok(None)
}

/// A long-term Bedrock API key: at most two per user and service, as IAM's quota says.
fn create_service_specific_credential(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    if !w.users.contains_key(&name) {
        return no_such(w, &format!("user with name {name}"));
    }
    let service = c.p("ServiceName");
    let held = w
        .creds
        .iter()
        .filter(|cr| cr.user == name && cr.service == service)
        .count();
    if held >= 2 {
        return iam_error(
            w,
            409,
            "LimitExceeded",
            "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2",
        );
    }
    let cid = format!("ACCA{}", w.id(17));
    let alias = format!("{name}-at-{}", w.account);
    use base64::Engine as _;
    let secret = format!(
        "ABSK{}",
        base64::engine::general_purpose::STANDARD.encode(format!("{alias}:fakeSecret{}", w.id(40)))
    );
    let seq = w.seq;
    w.issued.push(secret.clone());
    w.creds.push(ServiceCred {
        id: cid.clone(),
        user: name.clone(),
        service: service.clone(),
        secret: secret.clone(),
        active: true,
        seq,
    });
    let expiry =
        c.r.param("CredentialAgeDays")
            .map(|_| "      <ExpirationDate>2025-07-01T12:00:00Z</ExpirationDate>\n".to_string())
            .unwrap_or_default();
    let inner = format!(
        "    <ServiceSpecificCredential>\n      <CreateDate>{}</CreateDate>\n{expiry}      <ServiceName>{service}</ServiceName>\n      <ServiceCredentialAlias>{alias}</ServiceCredentialAlias>\n      <ServiceCredentialSecret>{secret}</ServiceCredentialSecret>\n      <ServiceSpecificCredentialId>{cid}</ServiceSpecificCredentialId>\n      <UserName>{name}</UserName>\n      <Status>Active</Status>\n    </ServiceSpecificCredential>",
        w.date()
    );
    c.ok(Some(inner))
}

fn update_service_specific_credential(c: &Call, w: &mut World) -> Resp {
    let cid = c.p("ServiceSpecificCredentialId");
    let status = c.p("Status");
    match w.creds.iter_mut().find(|cr| cr.id == cid) {
        Some(cr) => {
            cr.active = status == "Active";
            c.ok(None)
        }
        None => no_such(w, &format!("credential {cid}")),
    }
}

fn list_service_specific_credentials(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    if !w.users.contains_key(&name) {
        return no_such(w, &format!("user with name {name}"));
    }
    let items: Vec<String> = w
        .creds
        .iter()
        .filter(|cr| cr.user == name)
        .map(|cr| {
            format!(
                "<UserName>{name}</UserName><Status>{}</Status><ServiceCredentialAlias>{name}-at-{}</ServiceCredentialAlias><CreateDate>2025-06-01T12:{:02}:{:02}Z</CreateDate><ServiceSpecificCredentialId>{}</ServiceSpecificCredentialId><ServiceName>{}</ServiceName>",
                if cr.active { "Active" } else { "Inactive" },
                w.account,
                (cr.seq / 60) % 60,
                cr.seq % 60,
                cr.id,
                cr.service
            )
        })
        .collect();
    c.ok(listing("ServiceSpecificCredentials", &items))
}

fn delete_service_specific_credential(c: &Call, w: &mut World) -> Resp {
    let cid = c.p("ServiceSpecificCredentialId");
    let before = w.creds.len();
    w.creds.retain(|cr| cr.id != cid);
    if w.creds.len() == before {
        return no_such(w, &format!("credential {cid}"));
    }
    c.ok(None)
}

fn list_inline_policies(c: &Call, w: &mut World, e: Entity) -> Resp {
    let name = e.name(c);
    match e.map(w).get(&name) {
        Some(pr) => {
            let names: Vec<String> = pr.inline.iter().cloned().collect();
            c.ok(listing("PolicyNames", &names))
        }
        None => no_such(w, &format!("entity with name {name}")),
    }
}

fn delete_inline_policy(c: &Call, w: &mut World, e: Entity) -> Resp {
    let name = e.name(c);
    let pn = c.p("PolicyName");
    if e.map_mut(w).get_mut(&name).is_some_and(|pr| {
        pr.inline_chars.remove(&pn);
        pr.inline_docs.remove(&pn);
        pr.inline.remove(&pn)
    }) {
        c.ok(None)
    } else {
        no_such(w, &format!("policy with name {pn}"))
    }
}

fn list_attached_policies(c: &Call, w: &mut World, e: Entity) -> Resp {
    let name = e.name(c);
    match e.map(w).get(&name) {
        Some(pr) => {
            let items: Vec<String> = pr
                .attached
                .iter()
                .map(|a| {
                    format!(
                        "<PolicyName>{}</PolicyName><PolicyArn>{a}</PolicyArn>",
                        a.rsplit('/').next().unwrap_or_default()
                    )
                })
                .collect();
            c.ok(listing("AttachedPolicies", &items))
        }
        None => no_such(w, &format!("entity with name {name}")),
    }
}

fn detach_policy(c: &Call, w: &mut World, e: Entity) -> Resp {
    let name = e.name(c);
    let arn = c.p("PolicyArn");
    if e.map_mut(w)
        .get_mut(&name)
        .is_some_and(|pr| pr.attached.remove(&arn))
    {
        c.ok(None)
    } else {
        no_such(w, &format!("policy {arn}"))
    }
}

/// Users the runner creates have no console password.
fn delete_login_profile(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    no_such(w, &format!("Login Profile for User {name}"))
}

/// As IAM: a user that still has policies, access keys or credentials is not deleted.
fn delete_user(c: &Call, w: &mut World) -> Resp {
    let name = c.p("UserName");
    let Some(u) = w.users.get(&name) else {
        return no_such(w, &format!("user with name {name}"));
    };
    let busy = !u.inline.is_empty()
        || !u.attached.is_empty()
        || w.access_keys.values().any(|(n, _)| *n == name)
        || w.creds.iter().any(|cr| cr.user == name);
    if busy {
        return iam_error(
            w,
            409,
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        );
    }
    w.users.remove(&name);
    w.deleted.push(format!("user {name}"));
    c.ok(None)
}

fn delete_role(c: &Call, w: &mut World) -> Resp {
    let name = c.p("RoleName");
    let Some(rl) = w.roles.get(&name) else {
        return no_such(w, &format!("role with name {name}"));
    };
    if !rl.inline.is_empty() || !rl.attached.is_empty() {
        return iam_error(
            w,
            409,
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        );
    }
    w.roles.remove(&name);
    w.deleted.push(format!("role {name}"));
    c.ok(None)
}

fn list_policy_versions(c: &Call, w: &mut World) -> Resp {
    let arn = c.p("PolicyArn");
    if !w.policies.contains(&arn) {
        return no_such(w, &format!("Policy {arn}"));
    }
    let d = w.date();
    c.ok(Some(format!(
        "    <Versions><member><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>{d}</CreateDate></member></Versions>\n    <IsTruncated>false</IsTruncated>"
    )))
}

/// As IAM: a policy still attached, or still a boundary, is not deleted.
fn delete_policy(c: &Call, w: &mut World) -> Resp {
    let arn = c.p("PolicyArn");
    if !w.policies.contains(&arn) {
        return no_such(w, &format!("Policy {arn}"));
    }
    let in_use = w
        .users
        .values()
        .chain(w.roles.values())
        .any(|pr| pr.boundary.as_deref() == Some(arn.as_str()) || pr.attached.contains(&arn));
    if in_use {
        return iam_error(
            w,
            409,
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
        );
    }
    w.policies.remove(&arn);
    w.policy_docs.remove(&arn);
    w.policy_tags.remove(&arn);
    w.deleted.push(format!("policy {arn}"));
    c.ok(None)
}

/// Without a hook, the simulator allows everything it is asked about. `PolicyInputList` is a
/// required parameter (API reference, SimulateCustomPolicy), so a request without an identity
/// policy is refused. The reference does not say with which code and text; the fake answers
/// with the common error for a missing required parameter (IAM API reference, Common Errors:
/// `MissingParameter`, 400).
fn simulate_custom_policy(c: &Call, w: &mut World) -> Resp {
    if c.r.members("PolicyInputList").is_empty() {
        return iam_error(
            w,
            400,
            "MissingParameter",
            "A required parameter for the specified action is not supplied.",
        );
    }
    let results: Vec<SimResult> = sim_pairs(c.r)
        .into_iter()
        .map(|(a, res)| SimResult {
            allowed_by_organizations: c
                .r
                .form
                .iter()
                .any(|(k, _)| k.starts_with("OrderedOrganizationPolicyInputList."))
                .then_some(true),
            allowed_by_boundary: (!c.r.members("PermissionsBoundaryPolicyInputList").is_empty())
                .then_some(true),
            ..(a, res, "allowed", None).into()
        })
        .collect();
    simulate_answer(&results, None, &c.id)
}

fn list_entities(c: &Call, w: &mut World, e: Entity) -> Resp {
    let (kind, prefix, list) = match e {
        Entity::User => ("User", "AIDA", "Users"),
        Entity::Role => ("Role", "AROA", "Roles"),
    };
    let d = w.date();
    let items: Vec<String> = e
        .map(w)
        .keys()
        .map(|n| {
            let arn = match e {
                Entity::User => w.user_arn(n),
                Entity::Role => w.role_arn(n),
            };
            format!("<Path>/</Path><{kind}Name>{n}</{kind}Name><{kind}Id>{prefix}EXAMPLE{}</{kind}Id><Arn>{arn}</Arn><CreateDate>{d}</CreateDate>", n.len())
        })
        .collect();
    c.ok(listing(list, &items))
}

fn list_policies(c: &Call, w: &mut World) -> Resp {
    let d = w.date();
    let items: Vec<String> = w
        .policies
        .iter()
        .map(|arn| {
            let name = arn.rsplit('/').next().unwrap_or_default();
            format!("<PolicyName>{name}</PolicyName><DefaultVersionId>v1</DefaultVersionId><PolicyId>ANPAEXAMPLE{}</PolicyId><Path>/</Path><Arn>{arn}</Arn><AttachmentCount>0</AttachmentCount><IsAttachable>true</IsAttachable><CreateDate>{d}</CreateDate><UpdateDate>{d}</UpdateDate>", name.len())
        })
        .collect();
    c.ok(listing("Policies", &items))
}

/// The tags of a user, role or policy (`None`: no such entity).
/// TagUser: adds the tags to the user (a key it already has takes the new value), or
/// NoSuchEntity (404) for a user that does not exist, as the IAM API reference documents.
fn tag_user(c: &Call, w: &mut World) -> Resp {
    let Some(u) = w.users.get_mut(&c.p("UserName")) else {
        return no_such(w, "user");
    };
    for (k, v) in c.r.tags() {
        u.tags.retain(|(key, _)| *key != k);
        u.tags.push((k, v));
    }
    c.ok(None)
}

fn list_tags(c: &Call, w: &mut World, tags: Option<Vec<(String, String)>>) -> Resp {
    let Some(tags) = tags else {
        return no_such(w, "entity");
    };
    let items: Vec<String> = tags
        .iter()
        .map(|(k, v)| format!("<Key>{k}</Key><Value>{v}</Value>"))
        .collect();
    c.ok(listing("Tags", &items))
}

/// Every (action, resource) a SimulateCustomPolicy request asks about, actions outermost.
pub fn sim_pairs(r: &Req) -> Vec<(String, String)> {
    let actions = r.members("ActionNames");
    let mut resources = r.members("ResourceArns");
    if resources.is_empty() {
        resources.push("*".into());
    }
    actions
        .iter()
        .flat_map(|a| resources.iter().map(move |res| (a.clone(), res.clone())))
        .collect()
}

/// One result of a SimulateCustomPolicy answer. The two details are in the answer only when
/// set: the API reference documents both fields (`OrganizationsDecisionDetail`,
/// `PermissionsBoundaryDecisionDetail`) but not when they are left out, so a test says.
pub struct SimResult<'a> {
    pub action: String,
    pub resource: String,
    pub decision: &'a str,
    /// The matched statement's `SourcePolicyId` (`PolicyInputList.1`, ...).
    pub matched: Option<&'a str>,
    pub allowed_by_organizations: Option<bool>,
    pub allowed_by_boundary: Option<bool>,
}

impl<'a> From<(String, String, &'a str, Option<&'a str>)> for SimResult<'a> {
    fn from(
        (action, resource, decision, matched): (String, String, &'a str, Option<&'a str>),
    ) -> Self {
        SimResult {
            action,
            resource,
            decision,
            matched,
            allowed_by_organizations: None,
            allowed_by_boundary: None,
        }
    }
}

/// A SimulateCustomPolicy answer in the API's XML shape.
pub fn simulate_answer(results: &[SimResult], marker: Option<&str>, request_id: &str) -> Resp {
    let members: String = results
        .iter()
        .map(|r| {
            let matched = r
                .matched
                .map(|s| {
                    format!(
                        "<member><SourcePolicyId>{s}</SourcePolicyId><SourcePolicyType>IAM Policy</SourcePolicyType><StartPosition><Line>1</Line><Column>39</Column></StartPosition><EndPosition><Line>1</Line><Column>120</Column></EndPosition></member>"
                    )
                })
                .unwrap_or_default();
            let orgs = r
                .allowed_by_organizations
                .map(|b| format!("        <OrganizationsDecisionDetail><AllowedByOrganizations>{b}</AllowedByOrganizations></OrganizationsDecisionDetail>\n"))
                .unwrap_or_default();
            let boundary = r
                .allowed_by_boundary
                .map(|b| format!("        <PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>{b}</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail>\n"))
                .unwrap_or_default();
            format!(
                "      <member>\n        <EvalActionName>{}</EvalActionName>\n        <EvalResourceName>{}</EvalResourceName>\n        <EvalDecision>{}</EvalDecision>\n        <MatchedStatements>{matched}</MatchedStatements>\n        <MissingContextValues/>\n{orgs}{boundary}      </member>\n",
                r.action, r.resource, r.decision
            )
        })
        .collect();
    let trunc = match marker {
        Some(m) => format!("    <IsTruncated>true</IsTruncated>\n    <Marker>{m}</Marker>"),
        None => "    <IsTruncated>false</IsTruncated>".into(),
    };
    query_ok(
        IAM_NS,
        "SimulateCustomPolicy",
        Some(&format!(
            "    <EvaluationResults>\n{members}    </EvaluationResults>\n{trunc}"
        )),
        request_id,
    )
}
