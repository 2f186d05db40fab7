//! A Bedrock runtime call made with an API key.

use std::str::FromStr;

use keyward_iam::{evaluate, Arn, ContextValue, DecisionKind, PolicySet, Request};

use super::{authorize, denial_changes, principal_context, Rejection, Route, ScenarioResult, Step};
use crate::assumptions::ids;
use crate::outcome::{
    Outcome, AUTHORIZATION_MISSING_MESSAGE, AUTH_FAILED_MESSAGE, EXPIRED_MESSAGE,
    INVALID_FORMAT_MESSAGE, MANTLE_INVALID_KEY_CODE, MANTLE_INVALID_KEY_MESSAGE,
};
use crate::token::{classify, TokenError, TokenType};
use crate::UnknownName;

/// A Bedrock runtime operation that takes API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `Converse`.
    Converse,
    /// `ConverseStream`.
    ConverseStream,
    /// `InvokeModel`.
    InvokeModel,
    /// `InvokeModelWithResponseStream`.
    InvokeModelWithResponseStream,
    /// `CountTokens`.
    CountTokens,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 5] = [
        Operation::Converse,
        Operation::ConverseStream,
        Operation::InvokeModel,
        Operation::InvokeModelWithResponseStream,
        Operation::CountTokens,
    ];

    /// The operation's API name, e.g. `ConverseStream`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Converse => "Converse",
            Operation::ConverseStream => "ConverseStream",
            Operation::InvokeModel => "InvokeModel",
            Operation::InvokeModelWithResponseStream => "InvokeModelWithResponseStream",
            Operation::CountTokens => "CountTokens",
        }
    }

    /// The operation with this API name.
    pub fn parse(s: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == s)
    }

    /// The IAM action that authorizes the operation (Converse is authorized as InvokeModel, the
    /// stream variants as InvokeModelWithResponseStream: Bedrock's Converse API docs).
    pub fn action(self) -> &'static str {
        match self {
            Operation::Converse | Operation::InvokeModel => "bedrock:InvokeModel",
            Operation::ConverseStream | Operation::InvokeModelWithResponseStream => {
                "bedrock:InvokeModelWithResponseStream"
            }
            Operation::CountTokens => "bedrock:CountTokens",
        }
    }
}

/// Reads an operation's API name.
impl FromStr for Operation {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::parse(s).ok_or_else(|| {
            UnknownName::new(
                "an operation that takes API keys",
                "Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream or \
                 CountTokens",
                s,
            )
        })
    }
}

/// The service endpoint a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `bedrock-runtime`, authorized in the `bedrock` namespace.
    BedrockRuntime,
    /// `bedrock-mantle`, the OpenAI-compatible endpoint, authorized in `bedrock-mantle`.
    BedrockMantle,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 2] = [Endpoint::BedrockRuntime, Endpoint::BedrockMantle];

    /// The endpoint's name, as cases write it.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::BedrockRuntime => "bedrock-runtime",
            Endpoint::BedrockMantle => "bedrock-mantle",
        }
    }

    /// The IAM namespace whose CallWithBearerToken and BearerTokenType apply.
    fn namespace(self) -> &'static str {
        match self {
            Endpoint::BedrockRuntime => "bedrock",
            Endpoint::BedrockMantle => "bedrock-mantle",
        }
    }
}

/// Reads `bedrock-runtime` or `bedrock-mantle`.
impl FromStr for Endpoint {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownName::new("an endpoint", "bedrock-runtime or bedrock-mantle", s))
    }
}

/// The key a call is made with, described rather than given: fixtures never hold real tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySpec {
    /// A short-term key.
    ShortTerm {
        /// Who generated it: the role session (as AWS prints it) or an IAM user.
        principal: String,
        /// The Region it was signed for, the only one it works in.
        region: String,
        /// When it was signed, in seconds since the epoch; `None` when not modelled.
        issued_at: Option<i64>,
        /// Its lifetime in seconds (1 to 43200).
        expires_in: u32,
    },
    /// A long-term key.
    LongTerm {
        /// The ARN of the IAM user whose credential it carries.
        user: String,
        /// Whether the credential is active.
        active: bool,
        /// When the credential expires, in seconds since the epoch; `None` for never.
        expires_at: Option<i64>,
    },
    /// A literal bearer string that does not read as a key.
    Malformed(String),
    /// No key at all: the call carries no `Authorization` header.
    Absent,
}

/// A Bedrock runtime call made with an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallScenario {
    /// The operation called.
    pub operation: Operation,
    /// The key it is made with.
    pub key: KeySpec,
    /// A model id, an inference profile id (`us.…`) or an ARN.
    pub model: String,
    /// The Region called.
    pub region: String,
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// When the call is made, in seconds since the epoch.
    pub at: Option<i64>,
    /// Extra context keys for every request, set after (and so over) the ones the call sets.
    pub context: Vec<ContextEntry>,
    /// The destination Regions of a call through a system inference profile, in the order a
    /// case gives them; `None` takes the profile geography's default
    /// ([`CallScenario::destination_regions`], assumption B-CRIS-DESTINATIONS). Ignored for a
    /// model that is not a system inference profile.
    pub destinations: Option<Vec<String>>,
}

/// A context key a scenario adds to its requests, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// The condition key, e.g. `aws:SourceIp`.
    pub key: String,
    /// Its value.
    pub value: ContextValue,
}

/// System inference profiles are named by a geography prefix on the model id.
const PROFILE_PREFIXES: [&str; 7] = ["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au."];

/// The destination Regions taken for a geography when a case gives none (assumption
/// B-CRIS-DESTINATIONS). The Bedrock User Guide lists destinations per profile, and they vary by
/// model and by source Region ("Supported Regions and models for inference profiles",
/// https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html). For
/// `us.` it gives us-east-1, us-east-2 and us-west-2 in its worked IAM example
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html)
/// and for Claude 3 Haiku called from us-east-2
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/cross-region-inference.html). No other
/// geography has a list keyward carries: they default to the call's Region alone.
const DEFAULT_DESTINATIONS: &[(&str, &[&str])] =
    &[("us.", &["us-east-1", "us-east-2", "us-west-2"])];

/// A model action's resource and the Region its request is made in.
struct ModelRequest {
    resource: String,
    region: String,
}

impl CallScenario {
    /// Authentication first: a missing key, or a key that cannot be read, has expired, was made
    /// for another region or is inactive, never reaches authorization. The error carries why.
    fn authenticate(&self) -> Result<(&str, TokenType), (Outcome, Rejection)> {
        let runtime = self.authenticate_runtime();
        match (self.endpoint, runtime) {
            // bedrock-mantle answers in its own OpenAI-style envelope: 401 invalid_api_key for
            // every key it does not accept (assumption B-MANTLE-AUTH-401).
            (Endpoint::BedrockMantle, Err((_, why))) => Err((
                Outcome::mantle_error(401, MANTLE_INVALID_KEY_CODE, MANTLE_INVALID_KEY_MESSAGE),
                why,
            )),
            (_, r) => r,
        }
    }

    /// What bedrock-runtime answers a key it does not accept, and why it does not.
    fn authenticate_runtime(&self) -> Result<(&str, TokenType), (Outcome, Rejection)> {
        let failed = || Outcome::bedrock_error(403, AUTH_FAILED_MESSAGE);
        let expired = || Outcome::bedrock_error(403, EXPIRED_MESSAGE);
        match &self.key {
            KeySpec::Absent => Err((
                Outcome::bedrock_error(403, AUTHORIZATION_MISSING_MESSAGE),
                Rejection::Absent,
            )),
            KeySpec::Malformed(t) => Err(match classify(t) {
                Err(
                    e @ (TokenError::UnknownPrefix { .. }
                    | TokenError::WrongPrefix { .. }
                    | TokenError::Empty
                    | TokenError::SurroundingWhitespace),
                ) => (
                    Outcome::bedrock_error(403, INVALID_FORMAT_MESSAGE),
                    Rejection::Malformed(e),
                ),
                Err(e) => (failed(), Rejection::Malformed(e)),
                Ok(k) => (failed(), Rejection::NotIssued(k.token_type())),
            }),
            KeySpec::ShortTerm {
                principal,
                region,
                issued_at,
                expires_in,
            } => {
                // Expiry is judged before the region (assumption B-EXPIRED-MESSAGE).
                if let (Some(i), Some(now)) = (issued_at, self.at) {
                    let expired_at = i + i64::from(*expires_in);
                    if now >= expired_at {
                        return Err((
                            expired(),
                            Rejection::Expired {
                                expired_at,
                                at: now,
                            },
                        ));
                    }
                }
                if *region != self.region {
                    return Err((
                        failed(),
                        Rejection::WrongRegion {
                            issued_for: region.clone(),
                            used_in: self.region.clone(),
                        },
                    ));
                }
                Ok((principal, TokenType::ShortTerm))
            }
            KeySpec::LongTerm {
                user,
                active,
                expires_at,
            } => {
                // A lapsed long-term key answers as an expired short-term one does (observed;
                // assumption B-EXPIRED-MESSAGE for the order against the other checks).
                if let (Some(e), Some(now)) = (expires_at, self.at) {
                    if now >= *e {
                        return Err((
                            expired(),
                            Rejection::Expired {
                                expired_at: *e,
                                at: now,
                            },
                        ));
                    }
                }
                if !active {
                    return Err((failed(), Rejection::Inactive { user: user.clone() }));
                }
                Ok((user, TokenType::LongTerm))
            }
        }
    }

    /// The foundation model's id when `model` names a system (cross-Region) inference profile
    /// by its geography prefix, e.g. `anthropic.claude-3-5-haiku-20241022-v1:0` for
    /// `us.anthropic.claude-3-5-haiku-20241022-v1:0`; `None` for a foundation model or an ARN.
    pub fn system_profile_model(model: &str) -> Option<&str> {
        PROFILE_PREFIXES.iter().find_map(|p| model.strip_prefix(p))
    }

    /// The destination Regions of a call through a system inference profile, in order: the
    /// case's `destinations`, or the geography's default (assumption B-CRIS-DESTINATIONS: us-east-1,
    /// us-east-2 and us-west-2 for `us.`, the call's Region for the others). Empty when the model
    /// is not a system inference profile.
    pub fn destination_regions(&self) -> Vec<String> {
        let m = &self.model;
        let Some(prefix) = PROFILE_PREFIXES.iter().find(|p| m.starts_with(**p)) else {
            return Vec::new();
        };
        if let Some(d) = &self.destinations {
            return d.clone();
        }
        match DEFAULT_DESTINATIONS.iter().find(|(p, _)| p == prefix) {
            Some((_, regions)) => regions.iter().map(|r| r.to_string()).collect(),
            None => vec![self.region.clone()],
        }
    }

    /// The model action's requests: through a system inference profile, the profile in the
    /// call's Region, then the foundation model in the call's Region and in each destination
    /// Region not already named (the IAM requirements of "Geographic cross-Region inference",
    /// https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html,
    /// and "Prerequisites for inference profiles",
    /// https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html);
    /// otherwise the foundation model (or the ARN given) in the call's Region.
    fn model_requests(&self, account: &str) -> Vec<ModelRequest> {
        let m = &self.model;
        let r = &self.region;
        let at = |resource: String, region: &str| ModelRequest {
            resource,
            region: region.to_string(),
        };
        if m.starts_with("arn:") {
            return vec![at(m.clone(), r)];
        }
        let Some(base) = Self::system_profile_model(m) else {
            return vec![at(format!("arn:aws:bedrock:{r}::foundation-model/{m}"), r)];
        };
        let mut out = vec![
            at(
                format!("arn:aws:bedrock:{r}:{account}:inference-profile/{m}"),
                r,
            ),
            at(format!("arn:aws:bedrock:{r}::foundation-model/{base}"), r),
        ];
        let mut seen = vec![r.clone()];
        for d in self.destination_regions() {
            if !seen.contains(&d) {
                out.push(at(
                    format!("arn:aws:bedrock:{d}::foundation-model/{base}"),
                    &d,
                ));
                seen.push(d);
            }
        }
        out
    }

    /// The resources of the model action, in order: an inference profile, then its foundation
    /// model in the call's Region and in each further destination Region; or the foundation
    /// model alone.
    pub fn model_resources(&self, account: &str) -> Vec<String> {
        self.model_requests(account)
            .into_iter()
            .map(|m| m.resource)
            .collect()
    }

    /// What every request of the call carries: the principal's global keys, the Region, the
    /// transport, the time, and the scenario's own context last.
    fn base_request(&self, principal: &str, action: String, resource: String) -> Request {
        let mut req = Request::new(principal, action, resource);
        for (k, v) in principal_context(principal) {
            req.context.insert(k, v);
        }
        req.context
            .insert("aws:RequestedRegion", ContextValue::single(&self.region));
        req.context
            .insert("aws:SecureTransport", ContextValue::single("true"));
        if let Some(t) = self.at {
            req.context
                .insert("aws:EpochTime", ContextValue::single(t.to_string()));
            if let Some(iso) = iso8601(t) {
                req.context
                    .insert("aws:CurrentTime", ContextValue::single(iso));
            }
        }
        for entry in &self.context {
            req.context.insert(&entry.key, entry.value.clone());
        }
        req
    }

    /// Whether the scenario's own context sets aws:RequestedRegion (over the call's).
    fn sets_requested_region(&self) -> bool {
        self.context
            .iter()
            .any(|e| e.key.eq_ignore_ascii_case("aws:RequestedRegion"))
    }

    /// The key's own authorization, the first request of the call: `CallWithBearerToken` of
    /// the endpoint's namespace on `*`, carrying the token type.
    pub fn bearer_request(&self, principal: &str, token_type: TokenType) -> Request {
        let ns = self.endpoint.namespace();
        let mut call =
            self.base_request(principal, format!("{ns}:CallWithBearerToken"), "*".into());
        // The token-type key exists on this request only (assumption B-BEARER-TYPE-ONLY-FIRST).
        call.context.insert(
            &format!("{ns}:BearerTokenType"),
            ContextValue::single(token_type.as_str()),
        );
        call
    }

    /// The requests AWS authorizes, in order (assumption B-CALL-ORDER).
    pub fn requests(&self, principal: &str, token_type: TokenType) -> Vec<Request> {
        let mut out = vec![self.bearer_request(principal, token_type)];
        // Mantle's own model-level actions are not modelled (assumption B-MANTLE-ONE-REQUEST).
        if self.endpoint == Endpoint::BedrockRuntime {
            let principal = principal.parse::<Arn>().ok();
            let account = principal
                .as_ref()
                .and_then(Arn::account_id)
                .unwrap_or("123456789012");
            for m in self.model_requests(account) {
                let mut req = self.base_request(
                    out[0].principal(),
                    self.operation.action().into(),
                    m.resource,
                );
                // The request made in a destination Region carries that Region (assumption
                // B-CRIS-REQUESTED-REGION), unless the scenario's own context sets the key.
                if m.region != self.region && !self.sets_requested_region() {
                    req.context
                        .insert("aws:RequestedRegion", ContextValue::single(&m.region));
                }
                out.push(req);
            }
        }
        out
    }

    /// Authenticates the key, then authorizes the requests in order against `set`.
    pub fn run(&self, set: &PolicySet) -> ScenarioResult {
        let (principal, token_type) = match self.authenticate() {
            Ok(p) => p,
            Err((o, why)) => {
                let mut r = ScenarioResult::rejected(o, why);
                r.assumptions = self.rejection_assumptions();
                return r;
            }
        };
        let mut steps = Vec::new();
        let requests = self.requests(principal, token_type);
        let routes = self.routes(set, &requests);
        let denied = authorize(set, requests.clone(), &mut steps);
        let assumptions = self.assumptions(set, &requests, &steps, denied, &routes);
        match denied {
            None => ScenarioResult {
                decision: steps.last().map(|s| s.decision.clone()),
                steps,
                message: None,
                outcome: Outcome::success(Vec::new()),
                assumptions,
                rejection: None,
                routes,
            },
            Some(i) => {
                let s = &steps[i];
                let message = s.decision.message(&s.request, set);
                // Denials on the bearer path answer 403 with {"Message": ...}
                // (assumption B-DENY-STATUS-403; observed for CallWithBearerToken by the article).
                let outcome = Outcome::bedrock_error(403, message.as_deref().unwrap_or_default());
                ScenarioResult {
                    decision: Some(s.decision.clone()),
                    steps,
                    message,
                    outcome,
                    assumptions,
                    rejection: None,
                    routes,
                }
            }
        }
    }

    /// Where each destination Region's foundation-model request is among `requests`, in the
    /// order of [`CallScenario::destination_regions`]: empty unless the call goes through a
    /// system inference profile on bedrock-runtime. `requests` is [`CallScenario::requests`]:
    /// the key's request, the profile, the foundation model in the call's Region, then the
    /// further destinations.
    fn destination_indices(&self, requests: &[Request]) -> Vec<(String, usize)> {
        let through_profile = self.endpoint == Endpoint::BedrockRuntime
            && !self.model.starts_with("arn:")
            && Self::system_profile_model(&self.model).is_some();
        if !through_profile {
            return Vec::new();
        }
        let mut out: Vec<(String, usize)> = Vec::new();
        let mut next = 3;
        for d in self.destination_regions() {
            if out.iter().any(|(r, _)| *r == d) {
                continue;
            }
            let i = if d == self.region {
                2
            } else {
                next += 1;
                next - 1
            };
            if i < requests.len() {
                out.push((d, i));
            }
        }
        out
    }

    /// What the call would meet if routed to each destination Region: the first request not
    /// allowed among the key's, the profile's, the foundation model's in the call's Region and
    /// the foundation model's in that destination.
    fn routes(&self, set: &PolicySet, requests: &[Request]) -> Vec<Route> {
        let indices = self.destination_indices(requests);
        if indices.is_empty() {
            return Vec::new();
        }
        let decisions: Vec<_> = requests.iter().map(|r| evaluate(set, r)).collect();
        indices
            .into_iter()
            .map(|(region, i)| {
                let first_denial = [0, 1, 2, i]
                    .into_iter()
                    .map(|j| &decisions[j])
                    .find(|d| d.kind != DecisionKind::Allow);
                Route {
                    region,
                    decision: first_denial.map_or(DecisionKind::Allow, |d| d.kind),
                    by: first_denial.and_then(|d| d.by),
                }
            })
            .collect()
    }

    /// The assumptions a rejected key's outcome rests on. Observed answers rest on none: a
    /// missing header, a wrong prefix, a short-term key of another region, and on bedrock-mantle
    /// a value without a known prefix (docs/aws-behaviour.md §8).
    fn rejection_assumptions(&self) -> Vec<&'static str> {
        // Reports show only a value without a known prefix.
        let prefix_error = |t: &str| matches!(classify(t), Err(TokenError::UnknownPrefix { .. }));
        if self.endpoint == Endpoint::BedrockMantle {
            let observed = matches!(&self.key, KeySpec::Malformed(t) if prefix_error(t));
            let mut out = vec![ids::MANTLE_ENVELOPE];
            if !observed {
                out.insert(0, ids::MANTLE_AUTH_401);
            }
            return out;
        }
        match &self.key {
            KeySpec::Absent => Vec::new(),
            KeySpec::Malformed(t) if prefix_error(t) => Vec::new(),
            KeySpec::Malformed(_) => vec![ids::AUTH_FAILED_MESSAGE],
            KeySpec::LongTerm { expires_at, .. } => {
                let expired = matches!((expires_at, self.at), (Some(e), Some(now)) if now >= *e);
                vec![if expired {
                    ids::EXPIRED_MESSAGE
                } else {
                    ids::AUTH_FAILED_MESSAGE
                }]
            }
            KeySpec::ShortTerm {
                issued_at,
                expires_in,
                ..
            } => {
                let expired = matches!((issued_at, self.at), (Some(i), Some(now)) if now >= i + i64::from(*expires_in));
                if expired {
                    vec![ids::EXPIRED_MESSAGE]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// The Bedrock-key assumptions an authorized call's outcome rests on, each checked by
    /// authorizing the call again under the assumption's other reading where it has one.
    fn assumptions(
        &self,
        set: &PolicySet,
        requests: &[Request],
        steps: &[Step],
        denied: Option<usize>,
        routes: &[Route],
    ) -> Vec<&'static str> {
        let mut out = Vec::new();
        if let Some(i) = denied {
            out.push(ids::DENY_STATUS_403);
            // Denied by the model action, or denied by the first request while a later one
            // would be too: the order (and that both are authorized) decides what is seen.
            let later_denies = || {
                requests[i + 1..]
                    .iter()
                    .any(|r| evaluate(set, r).kind != DecisionKind::Allow)
            };
            if i > 0 || later_denies() {
                out.push(ids::CALL_ORDER);
            }
        }
        let ns = self.endpoint.namespace();
        let type_key = format!("{ns}:BearerTokenType");
        match self.endpoint {
            Endpoint::BedrockRuntime => {
                // The other reading of B-BEARER-TYPE-ONLY-FIRST: the model action carries the
                // token type too.
                let token_type = requests[0].context.get(&type_key).cloned();
                if let Some(t) = token_type {
                    let other = requests
                        .iter()
                        .map(|r| {
                            let mut r = r.clone();
                            r.context.insert(&type_key, t.clone());
                            r
                        })
                        .collect();
                    if denial_changes(set, steps, denied, other) {
                        out.push(ids::BEARER_TYPE_ONLY_FIRST);
                    }
                }
                if !routes.is_empty() {
                    out.extend(self.cris_assumptions(set, requests, steps, denied, routes));
                }
            }
            Endpoint::BedrockMantle => {
                // The other reading of B-MANTLE-ONE-REQUEST: bedrock: statements apply to mantle
                // calls too (bedrock:CallWithBearerToken is authorized as well).
                let mut other = requests.to_vec();
                let first = &requests[0];
                let mut bedrock =
                    Request::new(first.principal(), "bedrock:CallWithBearerToken", "*");
                bedrock.context = first.context.clone();
                if let Some(t) = requests[0].context.get(&type_key).cloned() {
                    bedrock.context.insert("bedrock:BearerTokenType", t);
                }
                other.push(bedrock);
                if denial_changes(set, steps, denied, other) {
                    out.push(ids::MANTLE_ONE_REQUEST);
                }
            }
        }
        out
    }

    /// The assumptions of a call through a system inference profile.
    fn cris_assumptions(
        &self,
        set: &PolicySet,
        requests: &[Request],
        steps: &[Step],
        denied: Option<usize>,
        routes: &[Route],
    ) -> Vec<&'static str> {
        let mut out = Vec::new();
        // The destination requests come after the key's, the profile's and the source
        // Region's foundation model: a denial before them does not depend on the destinations.
        let reached = denied.is_none_or(|i| i >= 3);
        if self.destinations.is_none() && reached {
            // The default list decides the outcome unless any other list would decide the same:
            // a denial in a destination names that Region; an allowed call stays allowed with
            // other Regions only if a Region on no list is allowed as well.
            let unlisted = {
                let fm = &requests[2];
                let resource = fm.resource().replacen(
                    &format!(":{}::", self.region),
                    &format!(":{UNLISTED_REGION}::"),
                    1,
                );
                let mut r = Request::new(fm.principal(), fm.action(), resource);
                r.context = fm.context.clone();
                if !self.sets_requested_region() {
                    r.context
                        .insert("aws:RequestedRegion", ContextValue::single(UNLISTED_REGION));
                }
                r
            };
            let unlisted_allowed = evaluate(set, &unlisted).kind == DecisionKind::Allow;
            if denied.is_some() || !unlisted_allowed {
                out.push(ids::CRIS_DESTINATIONS);
            }
        }
        // The other reading of B-CRIS-REQUESTED-REGION: every request carries the call's Region.
        let moved = routes.iter().any(|r| r.region != self.region);
        if moved && !self.sets_requested_region() {
            let source: Vec<Request> = requests
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.context
                        .insert("aws:RequestedRegion", ContextValue::single(&self.region));
                    r
                })
                .collect();
            if self.routes(set, &source) != routes || denial_changes(set, steps, denied, source) {
                out.push(ids::CRIS_REQUESTED_REGION);
            }
        }
        out
    }
}

/// A Region named on no destination list, to ask whether the policies decide the foundation
/// model the same outside the listed Regions.
const UNLISTED_REGION: &str = "keyward-unlisted-1";

/// `YYYY-MM-DDThh:mm:ssZ` for a time in seconds since the epoch.
fn iso8601(t: i64) -> Option<String> {
    let dt = time::OffsetDateTime::from_unix_timestamp(t).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    ))
}
