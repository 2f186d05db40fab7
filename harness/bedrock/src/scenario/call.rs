//! A Bedrock runtime call made with an API key.

use std::str::FromStr;

use keyward_iam::{Arn, ContextValue, PolicySet, Request};

use super::{authorize, principal_context, ScenarioResult};
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
    /// for another region or is inactive, never reaches authorization.
    fn authenticate(&self) -> Result<(&str, TokenType), Outcome> {
        let runtime = self.authenticate_runtime();
        match (self.endpoint, runtime) {
            // bedrock-mantle answers in its own OpenAI-style envelope: 401 invalid_api_key for
            // every key it does not accept (assumption B-MANTLE-AUTH-401).
            (Endpoint::BedrockMantle, Err(_)) => Err(Outcome::mantle_error(
                401,
                MANTLE_INVALID_KEY_CODE,
                MANTLE_INVALID_KEY_MESSAGE,
            )),
            (_, r) => r,
        }
    }

    /// What bedrock-runtime answers a key it does not accept.
    fn authenticate_runtime(&self) -> Result<(&str, TokenType), Outcome> {
        let failed = || Outcome::bedrock_error(403, AUTH_FAILED_MESSAGE);
        match &self.key {
            KeySpec::Absent => Err(Outcome::bedrock_error(403, AUTHORIZATION_MISSING_MESSAGE)),
            KeySpec::Malformed(t) => Err(match classify(t) {
                Err(
                    TokenError::UnknownPrefix { .. }
                    | TokenError::WrongPrefix { .. }
                    | TokenError::Empty
                    | TokenError::SurroundingWhitespace,
                ) => Outcome::bedrock_error(403, INVALID_FORMAT_MESSAGE),
                _ => failed(),
            }),
            KeySpec::ShortTerm {
                principal,
                region,
                issued_at,
                expires_in,
            } => {
                let expired = matches!((issued_at, self.at), (Some(i), Some(now)) if now >= i + i64::from(*expires_in));
                // Expiry is judged before the region (assumption B-EXPIRED-MESSAGE).
                if expired {
                    return Err(Outcome::bedrock_error(403, EXPIRED_MESSAGE));
                }
                if *region != self.region {
                    return Err(failed());
                }
                Ok((principal, TokenType::ShortTerm))
            }
            KeySpec::LongTerm {
                user,
                active,
                expires_at,
            } => {
                let expired = matches!((expires_at, self.at), (Some(e), Some(now)) if now >= *e);
                if expired || !active {
                    return Err(failed());
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

    /// The requests AWS authorizes, in order (assumption B-CALL-ORDER).
    pub fn requests(&self, principal: &str, token_type: TokenType) -> Vec<Request> {
        let base = |action: String, resource: String| {
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
        };
        let ns = self.endpoint.namespace();
        // The token-type key exists on the CallWithBearerToken request only
        // (assumption B-BEARER-TYPE-ONLY-FIRST).
        let mut call = base(format!("{ns}:CallWithBearerToken"), "*".into());
        call.context.insert(
            &format!("{ns}:BearerTokenType"),
            ContextValue::single(token_type.as_str()),
        );
        let mut out = vec![call];
        // Mantle's own model-level actions are not modelled (assumption B-MANTLE-ONE-REQUEST).
        if self.endpoint == Endpoint::BedrockRuntime {
            let principal = principal.parse::<Arn>().ok();
            let account = principal
                .as_ref()
                .and_then(Arn::account_id)
                .unwrap_or("123456789012");
            for r in self.model_resources(account) {
                out.push(base(self.operation.action().into(), r));
            }
        }
        out
    }

    /// Authenticates the key, then authorizes the requests in order against `set`.
    pub fn run(&self, set: &PolicySet) -> ScenarioResult {
        let (principal, token_type) = match self.authenticate() {
            Ok(p) => p,
            Err(o) => return ScenarioResult::rejected(o),
        };
        let mut steps = Vec::new();
        let denied = authorize(set, self.requests(principal, token_type), &mut steps);
        match denied {
            None => ScenarioResult {
                decision: steps.last().map(|s| s.decision.clone()),
                steps,
                message: None,
                outcome: Outcome::success(Vec::new()),
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
                }
            }
        }
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
