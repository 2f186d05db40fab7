//! A Bedrock runtime call made with an API key.

use std::str::FromStr;

use keyward_iam::{evaluate, Arn, ContextValue, DecisionKind, PolicySet, Request};

use super::{authorize, denial_changes, principal_context, Rejection, ScenarioResult, Step};
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

    /// The resources of the model action: an inference profile and then its foundation model
    /// (in the call's region: assumption B-CRIS-SOURCE-REGION), or the foundation model alone.
    pub fn model_resources(&self, account: &str) -> Vec<String> {
        let m = &self.model;
        let r = &self.region;
        if m.starts_with("arn:") {
            return vec![m.clone()];
        }
        match PROFILE_PREFIXES.iter().find_map(|p| m.strip_prefix(p)) {
            Some(base) => vec![
                format!("arn:aws:bedrock:{r}:{account}:inference-profile/{m}"),
                format!("arn:aws:bedrock:{r}::foundation-model/{base}"),
            ],
            None => vec![format!("arn:aws:bedrock:{r}::foundation-model/{m}")],
        }
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
            for r in self.model_resources(account) {
                out.push(self.base_request(out[0].principal(), self.operation.action().into(), r));
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
        let denied = authorize(set, requests.clone(), &mut steps);
        let assumptions = self.assumptions(set, &requests, &steps, denied);
        match denied {
            None => ScenarioResult {
                decision: steps.last().map(|s| s.decision.clone()),
                steps,
                message: None,
                outcome: Outcome::success(Vec::new()),
                assumptions,
                rejection: None,
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
                }
            }
        }
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
                // The foundation model is authorized in the call's region only; through a
                // system inference profile AWS may route elsewhere.
                let through_profile = requests.len() > 2;
                if through_profile && denied.is_none_or(|i| i == requests.len() - 1) {
                    out.push(ids::CRIS_SOURCE_REGION);
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
}

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
