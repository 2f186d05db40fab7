//! Which cases can run against AWS, and how: a pure translation from a case to a live plan, with
//! the reason when a case cannot run faithfully. Nothing here talks to AWS, so `--dry-run` prints
//! exactly what a run would do ([`super::steps`]).
//!
//! The translation renames the case for the sandbox ([`Renamer`]) and then re-evaluates the
//! renamed case locally: if renaming changed the local verdict (a pattern that depended on a
//! name), the case is skipped rather than compared unfairly.

use std::fmt;

use keyward_bedrock::{CallScenario, CreateKeyScenario, Flow, KeySpec, Scenario};
use keyward_iam::{KeyType, Policy, PolicySet};
use serde_json::{json, Value};

use super::names::{self, Renamer, RunId, CASE_ACCOUNT};
use super::policies::{is_aws_managed, ManagedPolicy, PrincipalPolicies};
use super::steps::{self, Step};
use crate::case::{Case, Expect, Query};

/// Why a case is not run live. Each reason is a known limit of AWS's test surface, not a guess.
/// Run journals store it in its serde form (`"mantle"`, `{"principal": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// SCPs and RCPs need an AWS Organizations management account; the sandbox is a member.
    OrganizationPolicies,
    /// No longer planned: the current SimulateCustomPolicy reference says SCPs are simulated
    /// with their condition keys (docs/aws-behaviour.md §6.4). Kept so that journals written by
    /// earlier versions still read (and their runs can be swept).
    SimulatorScpGlobalKeys,
    /// RCPs are not simulated (docs/aws-behaviour.md §6.4).
    SimulatorRcp,
    /// SimulateCustomPolicy takes no session policies (API reference, PolicyInputList).
    SimulatorSession,
    /// Resource-based policies are simulated only for some services (docs/aws-behaviour.md §6.4) and Bedrock
    /// models have none to attach.
    ResourcePolicy,
    /// Empty context values are unreliable in the simulator (docs/aws-behaviour.md §6.4).
    EmptyContextValue(String),
    /// The policies read a key with operators of different types, so no one ContextKeyType fits.
    AmbiguousKeyType(String),
    /// The policies read a key AWS sets from the real request (source IP, time, ...).
    UncontrollableKey(String),
    /// Extra context keys on a call cannot be set on a real request.
    CallContext,
    /// The bedrock-mantle endpoint is not reachable through aws-sdk-bedrockruntime.
    Mantle,
    /// A principal AWS cannot be made to be (federated users, services, other accounts).
    Principal(String),
    /// A session policy on a user: sessions policies apply to role sessions only here.
    SessionPolicyOnUser,
    /// A long-term key that had expired when the call was made cannot be created.
    ExpiredLongTermKey,
    /// A key issued after the call was made.
    FutureKey,
    /// A call without a key: the SDK always sends an `Authorization` header.
    NoKey,
    /// More existing keys than IAM allows a user to hold.
    TooManyExistingKeys,
    /// Renaming for the sandbox changed the local verdict.
    RenamingChangesVerdict,
    /// The model id a call would send (the run's model, as a profile when the case used one) is
    /// not one CountTokens is documented for: Amazon Bedrock documents it for some Anthropic
    /// Claude foundation models only, so AWS would answer a ValidationException whatever the
    /// policies say.
    CountTokensModel(String),
    /// The inference profile a call would send (the run's model in the case's geography) is
    /// not one Amazon Bedrock documents, so the call would fail for the id alone.
    NoSuchProfile(String),
    /// A principal's policies are over one of IAM's size quotas (counted as IAM counts, white
    /// space not counted), so IAM would refuse to store them: `quota` names which.
    PolicyTooLarge {
        quota: String,
        chars: usize,
        limit: usize,
    },
    /// SimulateCustomPolicy requires `PolicyInputList`, so a request case with no identity
    /// policy cannot be simulated.
    SimulatorNoIdentityPolicy,
    /// The caller is the user the key is for, and the case has that user not exist yet (the
    /// API flow with `user_exists: false`, or the console flow, which creates it): a user that
    /// calls IAM exists.
    CallerIsNewUser,
    /// More managed policies (identity policies given with an ARN) than IAM lets a user or role
    /// have attached by default (IAM and AWS STS quotas).
    TooManyManagedPolicies { count: usize, limit: usize },
    /// A session policy given with an ARN is a managed session policy (AssumeRole's
    /// `PolicyArns`), which live mode does not pass: sent inline, AWS would not name it.
    ManagedSessionPolicy(String),
    /// A policy ARN live mode cannot stand in for: not an IAM managed policy's.
    NotAManagedPolicyArn(String),
    /// Found at run time: AWS's current document of an AWS managed policy the case gives is not
    /// the case's, and AWS enforces its own, so the case cannot be run for its policies.
    AwsManagedPolicyDiffers { arn: String, version: String },
    /// The same policy ARN given for more than one of the principal's policies.
    RepeatedPolicyArn(String),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::OrganizationPolicies => write!(f, "SCPs and RCPs need an Organizations management account"),
            Skip::SimulatorScpGlobalKeys => write!(f, "the simulator ignores SCPs with global condition keys (docs/aws-behaviour.md §6.4)"),
            Skip::SimulatorRcp => write!(f, "the simulator does not evaluate RCPs (docs/aws-behaviour.md §6.4)"),
            Skip::SimulatorSession => write!(f, "SimulateCustomPolicy takes no session policies"),
            Skip::ResourcePolicy => write!(f, "resource-based policies cannot be attached to Bedrock models or simulated for them"),
            Skip::EmptyContextValue(k) => write!(f, "context key {k} has no value, which the simulator does not handle reliably (docs/aws-behaviour.md §6.4)"),
            Skip::AmbiguousKeyType(k) => write!(f, "context key {k} is read with operators of different types"),
            Skip::UncontrollableKey(k) => write!(f, "the policies read {k}, which AWS sets from the real request"),
            Skip::CallContext => write!(f, "a call's extra context keys cannot be set on a real request"),
            Skip::Mantle => write!(f, "the bedrock-mantle endpoint is not reachable through aws-sdk-bedrockruntime"),
            Skip::Principal(p) => write!(f, "principal {p} cannot be created in the sandbox"),
            Skip::SessionPolicyOnUser => write!(f, "session policies apply to role sessions, and the principal is a user"),
            Skip::ExpiredLongTermKey => write!(f, "a long-term key that is already expired cannot be created"),
            Skip::FutureKey => write!(f, "the key was issued after the call"),
            Skip::NoKey => write!(f, "a call without a key cannot be made through the SDK, which always sends an Authorization header"),
            Skip::TooManyExistingKeys => write!(f, "IAM allows at most 2 keys per user and service"),
            Skip::RenamingChangesVerdict => write!(f, "renaming for the sandbox changes the local verdict"),
            Skip::CountTokensModel(m) => write!(f, "CountTokens is documented for some Anthropic Claude foundation models only, not for {m}"),
            Skip::NoSuchProfile(p) => write!(f, "Amazon Bedrock documents no inference profile {p} (the run's model in the case's geography)"),
            Skip::PolicyTooLarge { quota, chars, limit } => write!(f, "{quota} would hold {chars} characters, over IAM's quota of {limit}"),
            Skip::SimulatorNoIdentityPolicy => write!(f, "SimulateCustomPolicy requires at least one identity policy (PolicyInputList)"),
            Skip::CallerIsNewUser => write!(f, "the caller is the user the key is for, which the case says does not exist yet"),
            Skip::TooManyManagedPolicies { count, limit } => write!(f, "{count} managed policies would be attached to one principal, over IAM's default quota of {limit}"),
            Skip::ManagedSessionPolicy(arn) => write!(f, "session policy {arn} is a managed session policy, which live mode does not pass to AssumeRole"),
            Skip::AwsManagedPolicyDiffers { arn, version } => write!(f, "AWS's current document of {arn} ({version}) is not the one the case gives, and AWS enforces its own (give the case AWS's document to run it)"),
            Skip::NotAManagedPolicyArn(arn) => write!(f, "policy ARN {arn} is not an IAM managed policy's, so no sandbox policy can stand in for it"),
            Skip::RepeatedPolicyArn(arn) => write!(f, "policy ARN {arn} is given for more than one policy of the principal"),
        }
    }
}

/// Keys a live request carries with values the case chose: the bearer-token type, the
/// credential's service and age, the principal, the region, TLS and the attached policy.
const CONTROLLABLE_KEYS: &[&str] = &[
    "bedrock:bearertokentype",
    "bedrock-mantle:bearertokentype",
    "iam:servicespecificcredentialservicename",
    "iam:servicespecificcredentialagedays",
    "iam:policyarn",
    "aws:requestedregion",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:username",
    "aws:securetransport",
    "aws:tagkeys",
];

/// The foundation models CountTokens is documented for (Amazon Bedrock User Guide, "Monitor your
/// token usage by counting tokens before running inference", supported models,
/// https://docs.aws.amazon.com/bedrock/latest/userguide/count-tokens.html): Anthropic
/// Claude 3.5 Haiku, 3.5 Sonnet and 3.5 Sonnet v2, 3.7 Sonnet, Opus 4 and Sonnet 4, as
/// prefixes of their model ids. The API reference takes "the unique identifier or ARN of the
/// foundation model", so an inference profile id is not among them.
const COUNT_TOKENS_MODELS: &[&str] = &[
    "anthropic.claude-3-5-haiku-",
    "anthropic.claude-3-5-sonnet-",
    "anthropic.claude-3-7-sonnet-",
    "anthropic.claude-opus-4-2",
    "anthropic.claude-sonnet-4-2",
];

/// The system (cross-Region) inference profiles Amazon Bedrock documents for the models a run
/// may use, by geography prefix. Nova Micro's are US, EU and APAC ("Supported Regions and models
/// for inference profiles",
/// https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html, and the
/// Regions supporting its inference profile in "Supported Regions and models for batch
/// inference", https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-supported.html):
/// no `global.`, `jp.` or `au.` profile. A model not listed here is taken at its word, and a call
/// to a profile it lacks is reported as an environment problem of the run.
const DOCUMENTED_PROFILES: &[(&str, &[&str])] =
    &[("amazon.nova-micro-v1:0", &["us", "eu", "apac"])];

/// Whether Amazon Bedrock documents the profile `geo.model`; `None` when keyward does not know
/// the model's profiles.
pub fn profile_documented(geo: &str, model: &str) -> Option<bool> {
    DOCUMENTED_PROFILES
        .iter()
        .find(|(m, _)| *m == model)
        .map(|(_, geos)| geos.contains(&geo))
}

/// Whether CountTokens is documented for the model id a call sends.
pub fn counts_tokens(model: &str) -> bool {
    COUNT_TOKENS_MODELS.iter().any(|m| model.starts_with(m))
}

// IAM's size quotas on the policies a principal holds (IAM and AWS STS quotas,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
/// All inline policies of one user together.
pub const USER_INLINE_CHARS: usize = 2_048;
/// All inline policies of one role together.
pub const ROLE_INLINE_CHARS: usize = 10_240;
/// One managed policy (a permissions boundary, or an identity policy given with an ARN).
pub const MANAGED_POLICY_CHARS: usize = 6_144;
/// Managed policies attached to one user or role (the default quota; the boundary is not one).
pub const ATTACHED_MANAGED_POLICIES: usize = 10;

/// A document's size as IAM counts it against those quotas: its characters as sent, white space
/// not counted (IAM and AWS STS quotas).
pub fn policy_chars(doc: &Value) -> usize {
    doc.to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// Refuses a principal whose policies IAM would not store: the case would otherwise fail half
/// provisioned instead of being answered.
fn check_sizes(p: &Principal) -> Result<(), Skip> {
    let (policies, quota, limit) = match p {
        Principal::Role { policies, .. } => {
            (policies, "the inline policies of a role", ROLE_INLINE_CHARS)
        }
        Principal::User { policies, .. } => {
            (policies, "the inline policies of a user", USER_INLINE_CHARS)
        }
    };
    let inline: usize = policies.identity.iter().map(policy_chars).sum();
    if inline > limit {
        return Err(Skip::PolicyTooLarge {
            quota: quota.into(),
            chars: inline,
            limit,
        });
    }
    if policies.managed.len() > ATTACHED_MANAGED_POLICIES {
        return Err(Skip::TooManyManagedPolicies {
            count: policies.managed.len(),
            limit: ATTACHED_MANAGED_POLICIES,
        });
    }
    // Only the policies the run creates: an AWS managed policy is AWS's, whatever its size.
    let created = policies
        .managed
        .iter()
        .map(|m| (m, "a managed policy"))
        .chain(
            policies
                .boundary
                .iter()
                .map(|b| (b, "the permissions boundary (a managed policy)")),
        );
    for (m, quota) in created {
        if let ManagedPolicy::Create { document, .. } = m {
            let chars = policy_chars(document);
            if chars > MANAGED_POLICY_CHARS {
                return Err(Skip::PolicyTooLarge {
                    quota: quota.into(),
                    chars,
                    limit: MANAGED_POLICY_CHARS,
                });
            }
        }
    }
    Ok(())
}

/// A principal the run creates, carrying the case's policies.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    Role {
        live_name: String,
        session: String,
        policies: PrincipalPoliciesJson,
        session_policy: Option<Value>,
    },
    User {
        live_name: String,
        policies: PrincipalPoliciesJson,
    },
}

impl Principal {
    /// The live name of a user principal.
    pub fn user_name(&self) -> Option<&str> {
        match self {
            Principal::User { live_name, .. } => Some(live_name),
            Principal::Role { .. } => None,
        }
    }
}

/// Policy documents as sent (already renamed), with the live names of the managed ones.
pub type PrincipalPoliciesJson = PrincipalPolicies;

/// One SimulateCustomPolicy question.
#[derive(Debug, Clone, PartialEq)]
pub struct SimPlan {
    pub identity: Vec<String>,
    pub boundary: Option<String>,
    /// SCP documents per level, root first.
    pub scp_levels: Vec<Vec<String>>,
    pub action: String,
    pub resource: String,
    pub context: Vec<ContextEntry>,
}

impl SimPlan {
    /// Simulations that share everything but the action and the resource go in one call.
    pub fn batch_key(&self) -> String {
        json!([
            self.identity,
            self.boundary,
            self.scp_levels,
            self.context
                .iter()
                .map(|c| json!([c.name, c.kind, c.values]))
                .collect::<Vec<_>>()
        ])
        .to_string()
    }
}

/// A typed context entry: IAM's ContextKeyType names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    pub name: String,
    pub kind: &'static str,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum KeyPlan {
    /// Signed by `principal`'s credentials, `age_secs` before the call.
    ShortTerm {
        principal: Principal,
        region: String,
        age_secs: i64,
        expires_in: u32,
    },
    LongTerm {
        user: Principal,
        age_days: Option<i32>,
        active: bool,
    },
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LivePlan {
    Simulate(SimPlan),
    CreateKey {
        caller: Principal,
        /// The target user's live name.
        user: String,
        service: String,
        age_days: Option<i64>,
        flow: Flow,
        existing_keys: u32,
        user_exists: bool,
    },
    Call {
        key: KeyPlan,
        operation: keyward_bedrock::Operation,
        region: String,
        /// The model id sent (the live model, as a profile id when the case used a profile).
        model: String,
    },
}

impl LivePlan {
    /// The AWS requests a run makes for the plan, in order: what `--dry-run` prints and what
    /// [`super::enforce`] executes ([`super::steps`]).
    pub fn steps(&self) -> Vec<Step> {
        steps::steps(self)
    }

    /// The IAM resources (and Bedrock key) the plan creates, by live name: those of its steps.
    pub fn resources(&self) -> Vec<String> {
        self.steps().iter().filter_map(Step::creates).collect()
    }
}

/// A case ready to run live.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The case as given: what is recorded.
    pub case: Case,
    pub renamer: Renamer,
    pub plan: LivePlan,
    /// The local evaluator's answer for the case.
    pub local: Expect,
}

/// What a translation needs to know about the run.
#[derive(Debug, Clone)]
pub struct PlanContext {
    pub run: RunId,
    pub index: u64,
    /// The sandbox account (a placeholder in a dry run).
    pub account: String,
    pub model: String,
    /// The time of the run, seconds since the epoch (for keys whose expiry is absolute).
    pub now: i64,
}

/// Refuses policies that read keys a real request sets for itself: the keys their conditions
/// test and the keys their policy variables read (as the compiled policies report them).
fn check_keys(policies: &PolicySet) -> Result<(), Skip> {
    let tested = policies.conditions().map(|c| c.key());
    for k in tested.chain(policies.variables()) {
        if !CONTROLLABLE_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(Skip::UncontrollableKey(k.to_string()));
        }
    }
    Ok(())
}

/// Plans one case. The local answer is computed here, once.
pub fn plan(case: &Case, ctx: &PlanContext) -> Result<Planned, Skip> {
    let policies = &case.policies;
    let local = case.verdict().answer();
    match &case.query {
        Query::Request(req) => {
            let plan = simulate_plan(req, policies)?;
            Ok(Planned {
                case: case.clone(),
                renamer: Renamer::new(),
                plan: LivePlan::Simulate(plan),
                local,
            })
        }
        Query::Scenario(s) => {
            if policies.scp.is_some() || policies.rcp.is_some() {
                return Err(Skip::OrganizationPolicies);
            }
            if !policies.resource.is_empty() {
                return Err(Skip::ResourcePolicy);
            }
            check_keys(policies)?;
            let mut renamer = Renamer::new();
            renamer.add(CASE_ACCOUNT, ctx.account.clone());
            let plan = match &s.scenario {
                Scenario::CreateKey(c) => create_key_plan(c, policies, ctx, &mut renamer)?,
                Scenario::Call(c) => call_plan(c, policies, ctx, &mut renamer)?,
            };
            // The same case with live names must get the same answer locally, names aside.
            let renamed = rename_case(case, &renamer).ok_or(Skip::RenamingChangesVerdict)?;
            let mut live_local = renamed.verdict().answer();
            unrename(&mut live_local, &renamer);
            if live_local != local {
                return Err(Skip::RenamingChangesVerdict);
            }
            Ok(Planned {
                case: case.clone(),
                renamer,
                plan,
                local,
            })
        }
    }
}

/// The case with every name renamed for the sandbox, re-read.
fn rename_case(case: &Case, r: &Renamer) -> Option<Case> {
    let mut v = case.to_json();
    let obj = v.as_object_mut()?;
    obj.remove("expect");
    for k in ["policies", "request", "scenario"] {
        if let Some(x) = obj.get(k).cloned() {
            obj.insert(k.into(), r.json_to_live(&x));
        }
    }
    Case::from_json(&v).ok()
}

fn unrename(e: &mut Expect, r: &Renamer) {
    for s in [&mut e.message, &mut e.body].into_iter().flatten() {
        *s = r.to_case(s);
    }
    if let Some(se) = &mut e.side_effects {
        for s in se {
            *s = r.to_case(s);
        }
    }
}

/// The policies sent to AWS: each compiled policy written back, with live names. A policy the
/// case gives with an ARN becomes a managed policy: an AWS managed one is attached by its ARN, a
/// customer managed one is created as `keyward-<run>-<case>-<Name>` and its live ARN maps back
/// to the case's. The boundary is a managed policy even without an ARN; the ARN AWS names it by
/// then reads as keyward-iam's placeholder in the answers ([`Renamer::add_unnamed`]).
fn principal_policies(
    policies: &PolicySet,
    ctx: &PlanContext,
    r: &mut Renamer,
) -> Result<PrincipalPoliciesJson, Skip> {
    if let Some(arn) = session_policies(policies)
        .iter()
        .find_map(|p| p.meta().arn.clone())
    {
        return Err(Skip::ManagedSessionPolicy(arn));
    }
    // Where each policy goes, and its ARN mapped, before any document is renamed, so that every
    // document is renamed with every ARN.
    let mut names = Vec::new();
    let mut seen = Vec::new();
    let identity = policies
        .identity
        .iter()
        .map(|p| place(p, ctx, r, &mut names, &mut seen))
        .collect::<Result<Vec<_>, _>>()?;
    let boundary = match &policies.permissions_boundary {
        None => None,
        Some(b) => Some(match place(b, ctx, r, &mut names, &mut seen)? {
            Some(held) => held,
            None => {
                let n = unique_name(ctx, "boundary", &mut names);
                r.add_unnamed(live_arn(ctx, &n));
                Held::Create(n)
            }
        }),
    };
    let doc = |p: &Policy| r.json_to_live(&p.to_json());
    let mut out = PrincipalPoliciesJson::default();
    for (p, held) in policies.identity.iter().zip(identity) {
        match held {
            None => out.identity.push(doc(p)),
            Some(h) => out.managed.push(h.with(doc(p))),
        }
    }
    out.boundary = policies
        .permissions_boundary
        .as_ref()
        .zip(boundary)
        .map(|(b, h)| h.with(doc(b)));
    Ok(out)
}

/// Where a case policy given with an ARN is held in the sandbox.
enum Held {
    /// Created under this live name.
    Create(String),
    /// AWS's, attached by this ARN.
    Aws(String),
}

impl Held {
    fn with(self, document: Value) -> ManagedPolicy {
        match self {
            Held::Create(name) => ManagedPolicy::Create { name, document },
            Held::Aws(arn) => ManagedPolicy::Aws { arn, document },
        }
    }
}

/// Where `p` is held: `None` for a policy with no ARN (inline, or the run's own boundary).
fn place(
    p: &Policy,
    ctx: &PlanContext,
    r: &mut Renamer,
    names: &mut Vec<String>,
    seen: &mut Vec<String>,
) -> Result<Option<Held>, Skip> {
    let Some(arn) = p.meta().arn.as_deref() else {
        return Ok(None);
    };
    if seen.iter().any(|s| s == arn) {
        return Err(Skip::RepeatedPolicyArn(arn.into()));
    }
    seen.push(arn.to_string());
    if is_aws_managed(arn) {
        return Ok(Some(Held::Aws(arn.to_string())));
    }
    // `arn:aws:iam::<account>:policy/<path>/<Name>`: the live policy keeps the name.
    let name = match arn.parse::<keyward_iam::Arn>() {
        Ok(a) if a.service() == "iam" && a.account_id().is_some() => a
            .resource()
            .strip_prefix("policy/")
            .and_then(|p| p.rsplit('/').next())
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        _ => None,
    }
    .ok_or_else(|| Skip::NotAManagedPolicyArn(arn.into()))?;
    let live = unique_name(ctx, &name, names);
    r.add_arn(arn, live_arn(ctx, &live));
    Ok(Some(Held::Create(live)))
}

/// `keyward-<run>-<case>-<name>`, or `keyward-<run>-<case>-<k>-<name>` when the case already
/// has a policy of that live name.
fn unique_name(ctx: &PlanContext, name: &str, taken: &mut Vec<String>) -> String {
    let mut n = ctx.run.policy_name(ctx.index, name);
    let mut k = 1;
    while taken.contains(&n) {
        n = ctx.run.policy_name(ctx.index, &format!("{k}-{name}"));
        k += 1;
    }
    taken.push(n.clone());
    n
}

fn live_arn(ctx: &PlanContext, name: &str) -> String {
    format!("arn:aws:iam::{}:policy/{name}", ctx.account)
}

fn session_policies(policies: &PolicySet) -> &[Policy] {
    policies.session.as_deref().unwrap_or_default()
}

fn session_policy(policies: &PolicySet, r: &Renamer) -> Result<Option<Value>, Skip> {
    match session_policies(policies) {
        [] => Ok(None),
        // AssumeRole takes one inline session policy.
        [one] => Ok(Some(r.json_to_live(&one.to_json()))),
        _ => Err(Skip::Principal("with more than one session policy".into())),
    }
}

/// The live principal for a case ARN: role sessions become roles, users become users.
fn principal_for(
    arn: &str,
    policies: &PolicySet,
    ctx: &PlanContext,
    tag: &str,
    r: &mut Renamer,
) -> Result<Principal, Skip> {
    let parsed = match arn.parse::<keyward_iam::Arn>() {
        Ok(a) if a.account_id() == Some(CASE_ACCOUNT) => a,
        _ => return Err(Skip::Principal(arn.into())),
    };
    if let Some(role) = parsed.assumed_role_name() {
        let session = parsed.session_name().unwrap_or_default();
        if role.is_empty() || session.is_empty() || session.contains('/') {
            return Err(Skip::Principal(arn.into()));
        }
        let live = r
            .live_name(role, |n| {
                ctx.run
                    .name(ctx.index, &format!("{}-{role}", attempt_tag(tag, n)))
            })
            .ok_or_else(|| Skip::Principal(arn.into()))?;
        let p = Principal::Role {
            live_name: live,
            // The policies are renamed wherever a name stands whole, the session's included
            // (a session named like the key's target user): the real session must match them.
            session: r.to_live(session),
            policies: principal_policies(policies, ctx, r)?,
            session_policy: session_policy(policies, r)?,
        };
        check_sizes(&p)?;
        Ok(p)
    } else if let Some(path) = parsed.resource().strip_prefix("user/") {
        if path.contains('/') {
            return Err(Skip::Principal(arn.into()));
        }
        if !session_policies(policies).is_empty() {
            return Err(Skip::SessionPolicyOnUser);
        }
        let live = live_user_name(path, ctx, tag, policies, r)
            .ok_or_else(|| Skip::Principal(arn.into()))?;
        let p = Principal::User {
            live_name: live,
            policies: principal_policies(policies, ctx, r)?,
        };
        check_sizes(&p)?;
        Ok(p)
    } else {
        Err(Skip::Principal(arn.into()))
    }
}

/// `tag`, then the attempt's number after the first: a name another case name holds is drawn
/// again with another tag.
fn attempt_tag(tag: &str, attempt: u32) -> String {
    if attempt == 0 {
        tag.to_string()
    } else {
        format!("{tag}{attempt}")
    }
}

/// The live name of a case user, kept in `r` (see [`Renamer::live_name`]): the same case user
/// (a caller creating its own key) is the same sandbox user. A console-style name becomes an
/// unguessable console-style name: console-shaped (four characters) only when a policy of the
/// case holds a `?` wildcard, the one thing that can tell four characters from more (the
/// renamed case is evaluated again, so a policy that still tells them apart skips the case
/// rather than skewing it).
fn live_user_name(
    case_name: &str,
    ctx: &PlanContext,
    tag: &str,
    policies: &PolicySet,
    r: &mut Renamer,
) -> Option<String> {
    let console = case_name.len() == 18 && case_name.starts_with(names::CONSOLE_PREFIX);
    let shaped = console && policies.to_json().to_string().contains('?');
    r.live_name(case_name, |n| {
        if console {
            names::console_user_name(shaped)
        } else {
            ctx.run
                .name(ctx.index, &format!("{}-{case_name}", attempt_tag(tag, n)))
        }
    })
}

fn create_key_plan(
    c: &CreateKeyScenario,
    policies: &PolicySet,
    ctx: &PlanContext,
    r: &mut Renamer,
) -> Result<LivePlan, Skip> {
    if c.existing_keys > 2 {
        return Err(Skip::TooManyExistingKeys);
    }
    let target = c.user.as_str();
    let caller_arn = c.caller.parse::<keyward_iam::Arn>().ok();
    if caller_arn.as_ref().and_then(|a| a.assumed_role_name()) == Some(target) {
        // One case name, two entities: renaming cannot tell the role from the user.
        return Err(Skip::Principal(format!(
            "{}, a role named like the key's user",
            c.caller
        )));
    }
    let caller_is_target = caller_arn
        .as_ref()
        .and_then(|a| a.resource().strip_prefix("user/"))
        == Some(target);
    if caller_is_target && (c.flow == Flow::Console || !c.user_exists) {
        return Err(Skip::CallerIsNewUser);
    }
    // Every name is mapped before any policy is renamed: the target first, so that the
    // caller's policies name its live name; a caller that is the target gets the same name.
    let user = live_user_name(target, ctx, "t", policies, r)
        .ok_or_else(|| Skip::Principal(c.user.to_string()))?;
    let caller = principal_for(&c.caller, policies, ctx, "c", r)?;
    Ok(LivePlan::CreateKey {
        caller,
        user,
        service: c.service.to_string(),
        age_days: c.age_days,
        flow: c.flow,
        existing_keys: c.existing_keys,
        user_exists: c.user_exists,
    })
}

fn call_plan(
    c: &CallScenario,
    policies: &PolicySet,
    ctx: &PlanContext,
    r: &mut Renamer,
) -> Result<LivePlan, Skip> {
    if c.endpoint == keyward_bedrock::Endpoint::BedrockMantle {
        return Err(Skip::Mantle);
    }
    if !c.context.is_empty() {
        return Err(Skip::CallContext);
    }
    // The case's model becomes the run's (cheapest) model, profile for profile.
    let model = match c.model.split_once('.') {
        Some((geo, base))
            if ["us", "eu", "apac", "global", "jp", "au"].contains(&geo) && base.contains('.') =>
        {
            if profile_documented(geo, &ctx.model) == Some(false) {
                return Err(Skip::NoSuchProfile(format!("{geo}.{}", ctx.model)));
            }
            r.add(c.model.clone(), format!("{geo}.{}", ctx.model));
            r.add(base, ctx.model.clone());
            format!("{geo}.{}", ctx.model)
        }
        _ => {
            r.add(c.model.clone(), ctx.model.clone());
            ctx.model.clone()
        }
    };
    // AWS would refuse the call for the model alone, whatever the policies say.
    if c.operation == keyward_bedrock::Operation::CountTokens && !counts_tokens(&model) {
        return Err(Skip::CountTokensModel(model));
    }
    let key = match &c.key {
        KeySpec::Absent => return Err(Skip::NoKey),
        KeySpec::Malformed(t) => KeyPlan::Malformed(t.clone()),
        KeySpec::ShortTerm {
            principal,
            region,
            issued_at,
            expires_in,
        } => {
            let age = match (issued_at, c.at) {
                (Some(i), Some(at)) => at - i,
                _ => 0,
            };
            if age < 0 {
                return Err(Skip::FutureKey);
            }
            KeyPlan::ShortTerm {
                principal: principal_for(principal, policies, ctx, "k", r)?,
                region: region.clone(),
                age_secs: age,
                expires_in: *expires_in,
            }
        }
        KeySpec::LongTerm {
            user,
            active,
            expires_at,
        } => {
            let at = c.at.unwrap_or(ctx.now);
            let age_days = match expires_at {
                None => None,
                Some(e) if *e <= at => return Err(Skip::ExpiredLongTermKey),
                Some(e) => Some(((e - at + 86_399) / 86_400).clamp(1, 36_600) as i32),
            };
            let arn = if user.starts_with("arn:") {
                user.clone()
            } else {
                format!("arn:aws:iam::{CASE_ACCOUNT}:user/{user}")
            };
            KeyPlan::LongTerm {
                user: principal_for(&arn, policies, ctx, "u", r)?,
                age_days,
                active: *active,
            }
        }
    };
    Ok(LivePlan::Call {
        key,
        operation: c.operation,
        region: c.region.clone(),
        model,
    })
}

fn simulate_plan(req: &keyward_iam::Request, policies: &PolicySet) -> Result<SimPlan, Skip> {
    if !session_policies(policies).is_empty() {
        return Err(Skip::SimulatorSession);
    }
    // PolicyInputList is required (API reference, SimulateCustomPolicy): with no identity
    // policy there is nothing to send, and the simulator's answer cannot be had.
    if policies.identity.is_empty() {
        return Err(Skip::SimulatorNoIdentityPolicy);
    }
    if policies.rcp.is_some() {
        return Err(Skip::SimulatorRcp);
    }
    if !policies.resource.is_empty() || req.is_cross_account() {
        return Err(Skip::ResourcePolicy);
    }
    let mut scp_levels = Vec::new();
    // SCPs go in with their conditions, global keys included: the current API reference says
    // the simulator evaluates SCPs "including their condition keys and resource scoping"; an
    // older user-guide text said SCPs with global keys were left out (docs/aws-behaviour.md §6.4).
    // A first real run settles it: were the guide right, such cases would disagree on the SCP.
    for level in policies.scp.iter().flatten() {
        scp_levels.push(level.iter().map(|p| p.to_json().to_string()).collect());
    }
    // Each key's type from the operators that read it.
    let uses = policies
        .key_uses()
        .map_err(|e| Skip::AmbiguousKeyType(e.key))?;
    let mut context = Vec::new();
    for (k, v) in req.context.iter() {
        let values = v.values().to_vec();
        if values.is_empty() {
            return Err(Skip::EmptyContextValue(k.to_string()));
        }
        let (t, set) = uses
            .get(&k.to_ascii_lowercase())
            .map_or((KeyType::String, false), |u| (u.key_type, u.as_set));
        context.push(ContextEntry {
            name: k.to_string(),
            kind: t.simulator_name(set || values.len() > 1),
            values,
        });
    }
    Ok(SimPlan {
        identity: policies
            .identity
            .iter()
            .map(|p| p.to_json().to_string())
            .collect(),
        boundary: policies
            .permissions_boundary
            .as_ref()
            .map(|b| b.to_json().to_string()),
        scp_levels,
        action: req.action().to_string(),
        resource: req.resource().to_string(),
        context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";

    fn ctx() -> PlanContext {
        PlanContext {
            run: RunId::parse("abcdefgh").unwrap(),
            index: 3,
            account: "111122223333".into(),
            model: "amazon.nova-micro-v1:0".into(),
            now: 1_800_000_000,
        }
    }

    fn allow(action: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    }

    fn scenario(policies: Value, scenario: Value) -> Case {
        Case::from_json(&json!({"id": "t", "policies": policies, "scenario": scenario})).unwrap()
    }

    fn create(flow: &str) -> Value {
        json!({"create_key": {"caller": ROLE, "user": "BedrockAPIKey-h42z", "service": "bedrock.amazonaws.com", "flow": flow}})
    }

    fn call(extra: Value) -> Value {
        let mut c = json!({"operation": "Converse", "key": {"type": "SHORT_TERM", "principal": ROLE, "region": "us-east-1"},
                           "model": "us.anthropic.claude-3-5-haiku-20241022-v1:0", "region": "us-east-1"});
        if let (Some(m), Value::Object(x)) = (c.as_object_mut(), extra) {
            m.extend(x);
        }
        json!({ "call": c })
    }

    #[test]
    fn a_console_key_creation_becomes_a_role_and_a_console_shaped_user() {
        let pols = json!({"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:*", "Resource": "arn:aws:iam::123456789012:user/BedrockAPIKey-????"}]}]});
        let p = plan(&scenario(pols, create("console")), &ctx()).unwrap();
        let LivePlan::CreateKey { caller, user, .. } = &p.plan else {
            panic!("{:?}", p.plan)
        };
        assert!(
            user.starts_with("BedrockAPIKey-") && user.len() == 18 && user != "BedrockAPIKey-h42z"
        );
        let Principal::Role {
            live_name,
            session,
            policies,
            ..
        } = caller
        else {
            panic!()
        };
        assert_eq!(live_name, "keyward-abcdefgh-3-c-dev");
        assert_eq!(session, "alice");
        // The account in the policy is the sandbox's; the name pattern is kept.
        let text = policies.identity[0].to_string();
        assert!(
            text.contains("arn:aws:iam::111122223333:user/BedrockAPIKey-????"),
            "{text}"
        );
        assert!(p
            .plan
            .steps()
            .iter()
            .any(|c| c.operation() == "iam:AttachUserPolicy"));
        assert_eq!(
            p.renamer.to_case(&format!("user {user}")),
            "user BedrockAPIKey-h42z"
        );
    }

    #[test]
    fn what_a_sandbox_cannot_hold_is_skipped_with_its_reason() {
        let base = json!({"identity": [allow("*")]});
        let mut scp = base.clone();
        scp["scp"] = json!([[allow("*")]]);
        assert_eq!(
            plan(&scenario(scp, create("api")), &ctx()).unwrap_err(),
            Skip::OrganizationPolicies
        );
        let ip = json!({"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
            "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}]});
        assert_eq!(
            plan(&scenario(ip, create("api")), &ctx()).unwrap_err(),
            Skip::UncontrollableKey("aws:SourceIp".into())
        );
        let mantle = call(json!({"endpoint": "bedrock-mantle"}));
        assert_eq!(
            plan(&scenario(base.clone(), mantle), &ctx()).unwrap_err(),
            Skip::Mantle
        );
        let no_key = call(json!({"key": "none"}));
        assert_eq!(
            plan(&scenario(base.clone(), no_key), &ctx()).unwrap_err(),
            Skip::NoKey
        );
        // A pattern that only the case's short role name matches: renaming would change the answer.
        let by_name = json!({"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
            "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/de?"}}}]}]});
        assert_eq!(
            plan(&scenario(by_name, call(json!({}))), &ctx()).unwrap_err(),
            Skip::RenamingChangesVerdict
        );
    }

    #[test]
    fn a_call_uses_the_run_model_in_the_same_profile() {
        let p = plan(
            &scenario(json!({"identity": [allow("bedrock:*")]}), call(json!({}))),
            &ctx(),
        )
        .unwrap();
        let LivePlan::Call { model, key, .. } = &p.plan else {
            panic!()
        };
        assert_eq!(model, "us.amazon.nova-micro-v1:0");
        assert!(matches!(key, KeyPlan::ShortTerm { age_secs: 0, .. }));
        assert_eq!(
            p.plan.steps().last().unwrap().operation(),
            "bedrock-runtime:Converse"
        );
    }

    #[test]
    fn a_profile_bedrock_does_not_document_for_the_run_model_is_a_skip() {
        let pols = json!({"identity": [allow("bedrock:*")]});
        for geo in ["global", "jp", "au"] {
            let c =
                call(json!({"model": format!("{geo}.anthropic.claude-sonnet-4-5-20250929-v1:0")}));
            assert_eq!(
                plan(&scenario(pols.clone(), c), &ctx()).unwrap_err(),
                Skip::NoSuchProfile(format!("{geo}.amazon.nova-micro-v1:0"))
            );
        }
        for geo in ["us", "eu", "apac"] {
            let c =
                call(json!({"model": format!("{geo}.anthropic.claude-3-5-haiku-20241022-v1:0")}));
            let p = plan(&scenario(pols.clone(), c), &ctx()).unwrap();
            assert!(
                matches!(&p.plan, LivePlan::Call { model, .. } if *model == format!("{geo}.amazon.nova-micro-v1:0"))
            );
        }
        // A model whose profiles keyward does not know is sent as asked.
        let mut other = ctx();
        other.model = "amazon.nova-lite-v1:0".into();
        let c = call(json!({"model": "global.anthropic.claude-sonnet-4-5-20250929-v1:0"}));
        assert!(plan(&scenario(pols, c), &other).is_ok());
        assert!(Skip::NoSuchProfile("global.amazon.nova-micro-v1:0".into())
            .to_string()
            .contains("global.amazon.nova-micro-v1:0"));
    }

    #[test]
    fn policy_size_is_counted_without_white_space() {
        let compact = json!({"Version": "2012-10-17", "Statement": []});
        let spaced = json!({"Version": "2012 10 17", "Statement": []});
        assert_eq!(policy_chars(&compact), compact.to_string().len());
        assert_eq!(policy_chars(&spaced), compact.to_string().len() - 2);
    }

    #[test]
    fn count_tokens_is_planned_only_for_the_documented_claude_models() {
        let mut c = call(json!({"operation": "CountTokens"}));
        let pols = json!({"identity": [allow("bedrock:*")]});
        assert_eq!(
            plan(&scenario(pols.clone(), c.clone()), &ctx()).unwrap_err(),
            Skip::CountTokensModel("us.amazon.nova-micro-v1:0".into())
        );
        let claude = "anthropic.claude-3-5-haiku-20241022-v1:0";
        c["call"]["model"] = json!(claude);
        let mut claude_ctx = ctx();
        claude_ctx.model = claude.into();
        let p = plan(&scenario(pols, c), &claude_ctx).unwrap();
        assert!(matches!(&p.plan, LivePlan::Call { model, .. } if model == claude));
        assert!(!counts_tokens(
            "us.anthropic.claude-3-5-haiku-20241022-v1:0"
        ));
        assert!(!counts_tokens("amazon.nova-micro-v1:0"));
    }

    #[test]
    fn simulator_entries_are_typed_by_the_operators_that_read_them() {
        let pols = json!({"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"NumericLessThan": {"iam:ServiceSpecificCredentialAgeDays": "5"},
                          "ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}}]}]});
        let case = Case::from_json(&json!({"id": "s", "policies": pols, "request": {
            "principal": "arn:aws:iam::123456789012:user/a", "action": "iam:CreateServiceSpecificCredential", "resource": "*",
            "context": {"iam:ServiceSpecificCredentialAgeDays": 3, "aws:TagKeys": ["a", "b"], "aws:RequestedRegion": "us-east-1"}}}))
        .unwrap();
        let p = plan(&case, &ctx()).unwrap();
        let LivePlan::Simulate(s) = &p.plan else {
            panic!()
        };
        let kind = |k: &str| {
            s.context
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(k))
                .unwrap()
                .kind
        };
        assert_eq!(kind("iam:ServiceSpecificCredentialAgeDays"), "numeric");
        assert_eq!(kind("aws:TagKeys"), "stringList");
        assert_eq!(kind("aws:RequestedRegion"), "string");
        let mut with_session = case.to_json();
        with_session["policies"]["session"] = json!([allow("*")]);
        let c = Case::from_json(&with_session).unwrap();
        assert_eq!(plan(&c, &ctx()).unwrap_err(), Skip::SimulatorSession);
        let mut scp = case.to_json();
        scp["policies"]["scp"] = json!([[{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}]]);
        let c = Case::from_json(&scp).unwrap();
        let LivePlan::Simulate(sim) = plan(&c, &ctx()).unwrap().plan else {
            panic!("an SCP with a global key is simulated");
        };
        assert_eq!(sim.scp_levels.len(), 1);
        assert!(sim.scp_levels[0][0].contains("aws:RequestedRegion"));
        let mut ambiguous = case.to_json();
        ambiguous["policies"]["identity"][0]["Statement"][0]["Condition"]["StringEquals"] =
            json!({"iam:ServiceSpecificCredentialAgeDays": "x"});
        let c = Case::from_json(&ambiguous).unwrap();
        assert!(matches!(
            plan(&c, &ctx()).unwrap_err(),
            Skip::AmbiguousKeyType(_)
        ));
    }
}
