//! The enforcement oracle: real requests, made as a principal that carries the case's policies.
//!
//! Eventual consistency: IAM's changes are eventually consistent and take time to become visible
//! from every endpoint (IAM User Guide, troubleshooting,
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
//! with no documented bound, and a changing state may answer old and new in turn. So keyward never
//! records the first answer after a change. It waits [`Settle::settle`], then repeats the recorded
//! request (undoing its side effects in between) until [`Settle::agree`] answers in a row are the
//! same and the first and the last of them are at least [`Settle::window`] apart, and records that
//! answer: a stale state has to outlast the window, unchanged, to be taken for the truth. An
//! answer that only says AWS has not caught up yet (a new access key unknown, "Authentication
//! failed" for a long-term key younger than the window, a just-deactivated key still working)
//! breaks the run and is never recorded. A case that does not settle within [`Settle::timeout`]
//! is reported as unsettled, not recorded. A just-created role is retried until it can be assumed
//! ([`super::provision::assume_role`]). Time is tokio's, so tests run all this on paused time.

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseTokensRequest, CountTokensInput,
    InferenceConfiguration, Message,
};
use keyward_bedrock::{generate, ExpiresIn, SigningCredentials, AUTH_FAILED_MESSAGE};
use keyward_bedrock::{CredentialError, Operation, ServiceName, SideEffect, UserName};
use keyward_iam::{DecisionKind, PolicyType};
use serde_json::Value;
use tokio::time::Instant;

use super::aws::{ApiFailure, Secret};
use super::ledger::Ledger;
use super::names::RunId;
use super::plan::Planned;
use super::steps::{self, By, Holder, KeyRef, PolicyRef, Purpose, Step};
use super::{delete, provision, redact, Aws, LiveError};
use crate::case::Expect;

/// How long to wait for IAM to settle, and what counts as settled.
#[derive(Debug, Clone)]
pub struct Settle {
    /// The wait after the last IAM change, before the first recorded attempt.
    pub settle: Duration,
    /// The waits between attempts, the last repeated.
    pub waits: Vec<Duration>,
    /// The waits between AssumeRole attempts on a role that is not assumable yet.
    pub assume_waits: Vec<Duration>,
    /// How many equal answers in a row settle a case ...
    pub agree: usize,
    /// ... at least this far apart, first to last. Also how long a new long-term key's
    /// "Authentication failed", or a deactivated key's working, is taken for lag.
    pub window: Duration,
    /// How long after the first attempt a case that has not settled is given up.
    pub timeout: Duration,
}

impl Settle {
    /// The waits of a real run: three equal answers over at least 30 s, asked every 5 to 15 s.
    pub fn new(timeout: Duration) -> Settle {
        Settle {
            settle: Duration::from_secs(10),
            waits: [5, 10, 15].map(Duration::from_secs).to_vec(),
            assume_waits: provision::ASSUME_WAITS.map(Duration::from_secs).to_vec(),
            agree: 3,
            window: Duration::from_secs(30),
            timeout,
        }
    }

    /// No waiting (for tests against canned answers); still three equal answers in a row.
    pub fn immediate() -> Settle {
        Settle {
            settle: Duration::ZERO,
            waits: vec![Duration::ZERO],
            assume_waits: vec![Duration::ZERO; 3],
            agree: 3,
            window: Duration::ZERO,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The time now, on tokio's clock: the system time moved on by however far tokio's clock is
/// ahead of the monotonic one. The two are the same in a run; a test that pauses tokio's time
/// lets sleeps pass at once, and a key signed "now" is then signed for the test's time.
pub fn wall_clock() -> SystemTime {
    let ahead = Instant::now()
        .into_std()
        .saturating_duration_since(std::time::Instant::now());
    SystemTime::now() + ahead
}

/// Answers from a credential that is not yet usable everywhere; never taken as the answer.
fn is_transient(e: &Expect) -> bool {
    matches!(e.code.as_deref(), Some("InvalidClientTokenId"))
}

/// Repeats `attempt` until it settles (see the module docs). `not_yet` tells an answer that only
/// shows AWS has not caught up with the case's changes.
pub async fn settled<F, Fut>(
    s: &Settle,
    what: &str,
    not_yet: impl Fn(&Expect) -> bool,
    mut attempt: F,
) -> Result<Expect, LiveError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Expect, LiveError>>,
{
    tokio::time::sleep(s.settle).await;
    let start = Instant::now();
    // The answer of the current run of equal answers, when it began, and how long it is.
    let mut run: Option<(Expect, Instant, usize)> = None;
    let mut i = 0;
    loop {
        let a = attempt().await?;
        let now = Instant::now();
        if is_transient(&a) || not_yet(&a) {
            run = None;
        } else {
            match &mut run {
                Some((last, _, n)) if *last == a => *n += 1,
                _ => run = Some((a, now, 1)),
            }
            if let Some((answer, first, n)) = &run {
                if *n >= s.agree.max(1) && now.duration_since(*first) >= s.window {
                    return Ok(answer.clone());
                }
            }
        }
        if now.duration_since(start) >= s.timeout {
            return Err(LiveError::NotSettled {
                secs: s.timeout.as_secs(),
                what: what.to_string(),
            });
        }
        let w = s.waits[i.min(s.waits.len().saturating_sub(1))];
        i += 1;
        tokio::time::sleep(w).await;
    }
}

/// Whether Bedrock said it could not authenticate the key (its body's `Message`).
fn authentication_failed(e: &Expect) -> bool {
    e.body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .is_some_and(|v| {
            [v.get("Message"), v.get("message")]
                .into_iter()
                .flatten()
                .any(|m| m.as_str() == Some(AUTH_FAILED_MESSAGE))
        })
}

/// Something about the sandbox account, not about the case, that stopped a model call: the
/// model or inference profile cannot be used there. Not an answer to the case: nothing is
/// compared or recorded, and the report says what to enable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvProblem {
    /// Bedrock denies the account the model (model access not granted in the Region).
    ModelAccess {
        model: String,
        region: String,
        message: String,
    },
    /// Bedrock does not know the model or inference profile id in the Region.
    UnknownModel {
        model: String,
        region: String,
        code: String,
        message: String,
    },
}

impl std::fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvProblem::ModelAccess {
                model,
                region,
                message,
            } => write!(
                f,
                "the sandbox account has no access to model {model} in {region} (AccessDeniedException: {message})"
            ),
            EnvProblem::UnknownModel {
                model,
                region,
                code,
                message,
            } => write!(
                f,
                "Bedrock does not know model or inference profile {model} in {region} ({code}: {message})"
            ),
        }
    }
}

impl EnvProblem {
    /// The same problem with AWS's message passed through `f` (redaction: the message goes to the
    /// journal and the report).
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> EnvProblem {
        match self {
            EnvProblem::ModelAccess {
                model,
                region,
                message,
            } => EnvProblem::ModelAccess {
                model,
                region,
                message: f(&message),
            },
            EnvProblem::UnknownModel {
                model,
                region,
                code,
                message,
            } => EnvProblem::UnknownModel {
                model,
                region,
                code,
                message: f(&message),
            },
        }
    }

    /// What a maintainer does about it, in one line.
    pub fn remedy(&self) -> String {
        match self {
            EnvProblem::ModelAccess { model, region, .. } => format!(
                "grant the sandbox account access to {model} in {region} (Amazon Bedrock console, Model access), or set `model` in keyward.toml to a model it can call"
            ),
            EnvProblem::UnknownModel { model, region, .. } => format!(
                "{model} cannot be called in {region}: set `model` (and `region`) in keyward.toml to a model and Region where it exists"
            ),
        }
    }
}

/// What Bedrock says about the account's use of the model, rather than about the case: a
/// model-access denial (an AccessDeniedException like a policy's deny, told apart by its exact
/// text, AWS re:Post https://repost.aws/knowledge-center/bedrock-invokemodel-api-error), any
/// ResourceNotFoundException (a model or profile not found, or retired, in the Region), and the
/// ValidationExceptions for an id Bedrock does not know or cannot call on demand (texts of public
/// reports; AWS documents none).
fn environment_problem(f: &ApiFailure, model: &str, region: &str) -> Option<EnvProblem> {
    const NO_ACCESS: [&str; 2] = [
        "You don't have access to the model with the specified model ID.",
        "Your account is not authorized to invoke this API operation.",
    ];
    const UNKNOWN_ID: &str = "The provided model identifier is invalid.";
    let message = bedrock_message(f).unwrap_or_default();
    let problem_model = model.to_string();
    match f.code.as_deref()? {
        "AccessDeniedException" if NO_ACCESS.contains(&message.as_str()) => {
            Some(EnvProblem::ModelAccess {
                model: problem_model,
                region: region.to_string(),
                message,
            })
        }
        code @ "ResourceNotFoundException" => Some(EnvProblem::UnknownModel {
            model: problem_model,
            region: region.to_string(),
            code: code.to_string(),
            message,
        }),
        code @ "ValidationException"
            if message == UNKNOWN_ID
                || (message.starts_with("Invocation of model ID ")
                    && message.contains("with on-demand throughput")) =>
        {
            Some(EnvProblem::UnknownModel {
                model: problem_model,
                region: region.to_string(),
                code: code.to_string(),
                message,
            })
        }
        _ => None,
    }
}

/// The message of a Bedrock error, from the SDK or from the body (`Message` or `message`).
fn bedrock_message(f: &ApiFailure) -> Option<String> {
    f.message.clone().or_else(|| {
        f.body.as_deref().and_then(|b| {
            let v: Value = serde_json::from_str(b).ok()?;
            v.get("Message")
                .or_else(|| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    })
}

/// The decision and deciding policy type an access-denied message states.
pub fn infer_decision(message: &str) -> (Option<DecisionKind>, Option<PolicyType>) {
    if !message.contains("is not authorized to perform") {
        return (None, None);
    }
    for t in PolicyType::ALL {
        let phrase = t.aws_phrase();
        if message.contains(&format!("explicit deny in an {phrase}"))
            || message.contains(&format!("explicit deny in a {phrase}"))
        {
            return (Some(DecisionKind::ExplicitDeny), Some(t));
        }
        if message.contains(&format!("because no {phrase} allows")) {
            return (Some(DecisionKind::ImplicitDeny), Some(t));
        }
    }
    if message.contains("explicit deny") {
        (Some(DecisionKind::ExplicitDeny), None)
    } else {
        (Some(DecisionKind::ImplicitDeny), None)
    }
}

/// An answer, as the case format's `expect`, before redaction.
fn answer_from_failure(f: &ApiFailure, iam: bool, side_effects: &[SideEffect]) -> Expect {
    let message = bedrock_message(f);
    let (decision, by) = message.as_deref().map_or((None, None), infer_decision);
    Expect {
        decision,
        by,
        // The case format gives `message` for access-denied answers only.
        message: message.filter(|_| decision.is_some()),
        status: f.status,
        // Bedrock's bodies carry no code; IAM's do.
        code: if iam { f.code.clone() } else { None },
        body: f.body.clone(),
        side_effects: Some(texts(side_effects)),
        assumptions: None,
    }
}

fn success(side_effects: &[SideEffect]) -> Expect {
    Expect {
        decision: Some(DecisionKind::Allow),
        status: Some(200),
        body: Some(String::new()),
        side_effects: Some(texts(side_effects)),
        ..Expect::default()
    }
}

/// Side effects as a case's `expect` holds them: the same text the scenario predictions give,
/// since both are [`SideEffect`]s.
fn texts(side_effects: &[SideEffect]) -> Vec<String> {
    side_effects.iter().map(SideEffect::to_string).collect()
}

/// Every string of an answer, made safe to store and put in the case's names.
pub fn redacted(mut e: Expect, planned: &Planned, account: &str) -> Expect {
    let r = |s: &mut String| *s = redact::for_storage(s, &planned.renamer, account);
    e.message.as_mut().map(r);
    e.body.as_mut().map(r);
    if let Some(se) = &mut e.side_effects {
        se.iter_mut().for_each(r);
    }
    e
}

/// Runs a create_key or call plan and returns AWS's answer, redacted, in the case's names.
/// Everything created goes into `ledger`; the caller cleans it up.
///
/// The plan's [`steps`] are what runs: the steps made once, in order ([`provision::execute`]),
/// then the steps of one attempt at the recorded request, repeated until the answers settle
/// ([`settled`]), with what each attempt made undone before the next.
pub async fn enforce(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    planned: &Planned,
    settle: &Settle,
) -> Result<Expect, LiveError> {
    let all = steps::steps(&planned.plan);
    let (once, attempt) = steps::split(&all);
    if attempt.is_empty() {
        return Err(LiveError::Aws {
            operation: "enforce",
            detail: "a request case is answered by the simulator".into(),
        });
    }
    let mut made = provision::Made::default();
    for step in once {
        provision::execute(aws, ledger, run, step, &mut made, &settle.assume_waits).await?;
    }
    let call_key = match attempt.last() {
        Some(Step::Call { key, .. }) => Some(CallKey::of(key, &mut made)?),
        _ => None,
    };
    let made = &made;
    let call_key = call_key.as_ref();
    let not_yet = |e: &Expect| call_key.is_some_and(|k| k.not_yet(e, settle.window));
    // Answers are compared redacted: IAM's bodies carry a new request id every time.
    settled(settle, &planned.case.id, not_yet, || async move {
        let mut tried = Attempt::default();
        let a = attempt_once(aws, ledger, run, attempt, made, call_key, &mut tried).await;
        undo(aws, run, &tried).await?;
        a.map(|e| redacted(e, planned, aws.account()))
    })
    .await
}

/// What one attempt made, so that the undo removes exactly that.
#[derive(Debug, Default)]
struct Attempt {
    /// The console flow's user, once this attempt created it.
    user_created: Option<String>,
    /// The user and id of the credential this attempt created.
    credential: Option<(String, String)>,
}

/// One attempt at the recorded request: its steps in order, as the case principal (the run's
/// tag on a user it created aside). A step AWS refuses ends the attempt: the refusal is the
/// answer, with the side effects of the steps before it.
async fn attempt_once(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    steps: &[Step],
    made: &provision::Made,
    call_key: Option<&CallKey>,
    tried: &mut Attempt,
) -> Result<Expect, LiveError> {
    let iam = || {
        made.credentials
            .as_ref()
            .map(|c| aws.iam_as(c))
            .ok_or_else(|| LiveError::Aws {
                operation: "iam",
                detail: "the case principal has no credentials: no AssumeRole or CreateAccessKey step before".into(),
            })
    };
    let mut effects = Vec::new();
    for step in steps {
        match step {
            Step::CreateUser { user, by: By::Case } => {
                // A name already in use (EntityAlreadyExists) is someone else's user: it is
                // recorded as the answer and never journaled, tagged or deleted.
                if let Err(e) = iam()?.create_user().user_name(user).send().await {
                    return service_answer(&ApiFailure::from_sdk(&e), true, &effects);
                }
                tried.user_created = Some(user.clone());
                effects.push(SideEffect::UserCreated {
                    user: user_name(user)?,
                });
            }
            Step::TagUser { user } => {
                // The case's principal creates the user as the console does, without tags; the
                // runner tags it at once, since only the run's tag lets cleanup and sweep delete
                // it (a crash before the journal line leaves a tagged user sweep finds).
                aws.iam()
                    .tag_user()
                    .user_name(user)
                    .tags(provision::tag(run))
                    .send()
                    .await
                    .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:TagUser"))?;
                ledger.created(super::journal::Resource::User(user.clone()))?;
            }
            Step::AttachPolicy {
                holder: Holder::User(user),
                policy: PolicyRef::Aws(arn),
                by: By::Case,
            } => {
                let sent = iam()?
                    .attach_user_policy()
                    .user_name(user)
                    .policy_arn(arn)
                    .send()
                    .await;
                if let Err(e) = sent {
                    return service_answer(&ApiFailure::from_sdk(&e), true, &effects);
                }
                effects.push(SideEffect::PolicyAttached {
                    user: user_name(user)?,
                    policy_arn: arn.clone(),
                });
            }
            Step::CreateServiceSpecificCredential {
                user,
                service,
                age_days,
                purpose: Purpose::Recorded,
            } => {
                let mut req = iam()?
                    .create_service_specific_credential()
                    .user_name(user)
                    .service_name(service);
                if let Some(d) = age_days {
                    // Out-of-range ages are sent as asked: IAM's validation is part of what is
                    // recorded.
                    req = req.credential_age_days(i32::try_from(*d).unwrap_or(i32::MAX));
                }
                return match req.send().await {
                    Ok(out) => {
                        tried.credential = out.service_specific_credential().map(|c| {
                            (user.clone(), c.service_specific_credential_id().to_string())
                        });
                        effects.push(SideEffect::CredentialCreated {
                            user: user_name(user)?,
                            service: ServiceName::new(service).map_err(not_recordable)?,
                            age: *age_days,
                        });
                        Ok(success(&effects))
                    }
                    Err(e) => service_answer(&ApiFailure::from_sdk(&e), true, &effects),
                };
            }
            Step::Call {
                operation,
                model,
                region,
                ..
            } => {
                let key = call_key.ok_or_else(|| LiveError::Aws {
                    operation: step.operation(),
                    detail: "no key for the call".into(),
                })?;
                // Signed for this attempt: a key signed before the waits may not outlive them.
                let secret = key.secret()?;
                return call_once(aws, region, &secret, *operation, model).await;
            }
            other => {
                return Err(LiveError::Aws {
                    operation: other.operation(),
                    detail: "not a step of an attempt at the recorded request".into(),
                })
            }
        }
    }
    Err(LiveError::Aws {
        operation: "enforce",
        detail: "the attempt's steps end before the recorded request".into(),
    })
}

/// The name a side effect is told in; the case reader and the planner made it.
fn user_name(user: &str) -> Result<UserName, LiveError> {
    UserName::new(user).map_err(not_recordable)
}

/// A side effect AWS made that keyward-bedrock's model cannot state (a name or age it holds
/// invalid): a disagreement with the model, but not one the case format can record.
fn not_recordable(e: CredentialError) -> LiveError {
    LiveError::Aws {
        operation: "record side effect",
        detail: e.to_string(),
    }
}

fn service_answer(f: &ApiFailure, iam: bool, effects: &[SideEffect]) -> Result<Expect, LiveError> {
    // A 5xx or a throttle left over after the SDK's retries says the service could not answer:
    // an error, never an answer to record.
    let unavailable = f.status.is_some_and(|s| s >= 500 || s == 429)
        || matches!(
            f.code.as_deref(),
            Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded")
        );
    if !f.is_service_answer() || unavailable {
        return Err(f
            .clone()
            .into_error(if iam { "iam" } else { "bedrock-runtime" }));
    }
    Ok(answer_from_failure(f, iam, effects))
}

/// Back to the state before the recorded request: the credential this attempt created deleted
/// (nothing else: the user may hold keys that are not the run's, and may not even be the run's
/// user) or, for the console flow, the user it created removed. Cleanup, not a step.
async fn undo(aws: &Aws, run: &RunId, tried: &Attempt) -> Result<(), LiveError> {
    if let Some(user) = &tried.user_created {
        // Its credential goes with it; the user carries the run's tag.
        let user = super::journal::Resource::User(user.clone());
        return delete::delete(aws, &user, run.as_str()).await;
    }
    let Some((user, id)) = &tried.credential else {
        return Ok(());
    };
    match aws
        .iam_cleanup()
        .delete_service_specific_credential()
        .user_name(user)
        .service_specific_credential_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let f = ApiFailure::from_sdk(&e);
            if f.iam_code() == Some(keyward_bedrock::IamErrorCode::NoSuchEntity) {
                Ok(())
            } else {
                Err(f.into_error("iam:DeleteServiceSpecificCredential"))
            }
        }
    }
}

/// The key of a call, as made before the attempts: a short-term key's credentials (the key
/// itself is signed for each attempt), a long-term key with the times of its changes, or the
/// malformed literal.
enum CallKey {
    Literal(Secret),
    ShortTerm {
        credentials: SigningCredentials,
        region: String,
        age: Duration,
        expires: ExpiresIn,
    },
    LongTerm {
        secret: Secret,
        created: Instant,
        deactivated: Option<Instant>,
    },
}

impl CallKey {
    /// The bearer key to send now.
    fn secret(&self) -> Result<Secret, LiveError> {
        match self {
            CallKey::Literal(s) | CallKey::LongTerm { secret: s, .. } => Ok(s.clone()),
            CallKey::ShortTerm {
                credentials,
                region,
                age,
                expires,
            } => {
                // The case's age: a key issued `age` before the call, made now.
                let signed_at = wall_clock() - *age;
                let token = generate(credentials, region, signed_at, *expires).map_err(|e| {
                    LiveError::Aws {
                        operation: "generate short-term key",
                        detail: e.to_string(),
                    }
                })?;
                Ok(Secret::new(token.expose_bearer()))
            }
        }
    }

    /// Whether `e` only shows that Bedrock has not caught up with the key yet: "Authentication
    /// failed" for a long-term key younger than `window`; for a deactivated key, a call that
    /// worked, however long ago it was deactivated (a deactivated key must be seen inactive
    /// before anything is recorded: one that keeps working ends as not settled, with the
    /// reason, rather than recorded), and any other answer less than `window` after it.
    fn not_yet(&self, e: &Expect, window: Duration) -> bool {
        let CallKey::LongTerm {
            created,
            deactivated,
            ..
        } = self
        else {
            return false;
        };
        let young = |t: &Instant| t.elapsed() < window;
        if authentication_failed(e) {
            young(created)
        } else if let Some(d) = deactivated {
            e.status == Some(200) || young(d)
        } else {
            false
        }
    }
}

impl CallKey {
    /// The key a call step sends, from what the steps before it made.
    fn of(key: &KeyRef, made: &mut provision::Made) -> Result<CallKey, LiveError> {
        let missing = |what: &str| LiveError::Aws {
            operation: "bearer key",
            detail: format!("no {what} was made for the call's key"),
        };
        match key {
            KeyRef::Malformed(t) => Ok(CallKey::Literal(Secret::new(t.clone()))),
            KeyRef::ShortTerm {
                region,
                age_secs,
                expires_in,
                ..
            } => {
                let c = made
                    .credentials
                    .as_ref()
                    .ok_or_else(|| missing("principal credentials"))?;
                let mut credentials =
                    SigningCredentials::new(c.access_key_id(), c.secret_access_key());
                if let Some(t) = c.session_token() {
                    credentials = credentials.with_session_token(t);
                }
                let expires =
                    ExpiresIn::new(u64::from(*expires_in)).map_err(|e| LiveError::Aws {
                        operation: "generate short-term key",
                        detail: e.to_string(),
                    })?;
                Ok(CallKey::ShortTerm {
                    credentials,
                    region: region.clone(),
                    age: Duration::from_secs(u64::try_from(*age_secs).unwrap_or(0)),
                    expires,
                })
            }
            KeyRef::LongTerm { .. } => {
                let k = made
                    .long_term
                    .take()
                    .ok_or_else(|| missing("long-term key"))?;
                Ok(CallKey::LongTerm {
                    secret: k.secret,
                    created: k.created,
                    deactivated: k.deactivated,
                })
            }
        }
    }
}

/// The smallest request of each operation: one short user message, at most one output token.
pub const PROMPT: &str = "Hi";
/// InvokeModel's body in the Amazon Nova format (the default model's).
pub const INVOKE_BODY: &str =
    r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":1}}"#;

/// One bearer-token call; AWS's answer as status and body (a success's output is not kept).
pub async fn call_once(
    aws: &Aws,
    region: &str,
    key: &Secret,
    op: Operation,
    model: &str,
) -> Result<Expect, LiveError> {
    let client = aws.bedrock_with_key(region, key);
    let message = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(PROMPT.into()))
        .build()
        .map_err(|e| LiveError::Aws {
            operation: "bedrock-runtime",
            detail: e.to_string(),
        })?;
    let cfg = InferenceConfiguration::builder().max_tokens(1).build();
    let failure = match op {
        Operation::Converse => client
            .converse()
            .model_id(model)
            .messages(message)
            .inference_config(cfg)
            .send()
            .await
            .err()
            .map(|e| ApiFailure::from_sdk(&e)),
        Operation::ConverseStream => client
            .converse_stream()
            .model_id(model)
            .messages(message)
            .inference_config(cfg)
            .send()
            .await
            .err()
            .map(|e| ApiFailure::from_sdk(&e)),
        Operation::InvokeModel => client
            .invoke_model()
            .model_id(model)
            .content_type("application/json")
            .body(Blob::new(INVOKE_BODY))
            .send()
            .await
            .err()
            .map(|e| ApiFailure::from_sdk(&e)),
        Operation::InvokeModelWithResponseStream => client
            .invoke_model_with_response_stream()
            .model_id(model)
            .content_type("application/json")
            .body(Blob::new(INVOKE_BODY))
            .send()
            .await
            .err()
            .map(|e| ApiFailure::from_sdk(&e)),
        Operation::CountTokens => client
            .count_tokens()
            .model_id(model)
            .input(CountTokensInput::Converse(
                ConverseTokensRequest::builder().messages(message).build(),
            ))
            .send()
            .await
            .err()
            .map(|e| ApiFailure::from_sdk(&e)),
    };
    match failure {
        None => Ok(success(&[])),
        Some(f) => match environment_problem(&f, model, region) {
            Some(p) => Err(LiveError::Environment(p)),
            None => service_answer(&f, false, &[]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_their_decision() {
        let m = "User: arn:aws:iam::123456789012:user/u is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in a service control policy";
        assert_eq!(
            infer_decision(m),
            (Some(DecisionKind::ExplicitDeny), Some(PolicyType::Scp))
        );
        let m = "User: x is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user u because no identity-based policy allows the iam:CreateServiceSpecificCredential action";
        assert_eq!(
            infer_decision(m),
            (Some(DecisionKind::ImplicitDeny), Some(PolicyType::Identity))
        );
        assert_eq!(infer_decision("Authentication failed"), (None, None));
    }

    fn status(n: u16) -> Expect {
        Expect {
            status: Some(n),
            ..Expect::default()
        }
    }

    #[tokio::test]
    async fn settling_takes_the_first_answer_seen_three_times_in_a_row() {
        let answers = std::sync::Mutex::new(vec![
            status(200),
            status(200),
            status(200),
            status(403),
            Expect {
                code: Some("InvalidClientTokenId".into()),
                ..Expect::default()
            },
        ]);
        let got = settled(
            &Settle::immediate(),
            "t",
            |_| false,
            || async { Ok(answers.lock().unwrap().pop().unwrap()) },
        )
        .await
        .unwrap();
        assert_eq!(got.status, Some(200));
        assert!(answers.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_answer_that_keeps_changing_is_not_settled() {
        let n = std::sync::atomic::AtomicU16::new(0);
        let s = Settle {
            timeout: Duration::ZERO,
            ..Settle::immediate()
        };
        let e = settled(
            &s,
            "flapping",
            |_| false,
            || async { Ok(status(n.fetch_add(1, std::sync::atomic::Ordering::SeqCst))) },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, LiveError::NotSettled { .. }), "{e}");
    }

    /// Asks `answer(seconds since the start)` under a real run's settling, on paused time;
    /// returns what settled and when each attempt was made.
    async fn settle_on(
        answer: impl Fn(u64) -> Expect,
        not_yet: impl Fn(&Expect) -> bool,
    ) -> (Result<Expect, LiveError>, Vec<u64>) {
        let t0 = Instant::now();
        let asked = std::sync::Mutex::new(Vec::new());
        let got = settled(
            &Settle::new(Duration::from_secs(300)),
            "t",
            not_yet,
            || async {
                let t = t0.elapsed().as_secs();
                asked.lock().unwrap().push(t);
                Ok(answer(t))
            },
        )
        .await;
        (got, asked.into_inner().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_state_of_a_few_seconds_is_not_taken_for_the_answer() {
        // Denied from 10 to 14 s, allowed from then on: two equal answers 2 s apart were enough
        // to record the denial.
        let (got, asked) = settle_on(|t| status(if t < 15 { 403 } else { 200 }), |_| false).await;
        assert_eq!(got.unwrap().status, Some(200), "{asked:?}");
        let allowed: Vec<u64> = asked.iter().copied().filter(|t| *t >= 15).collect();
        assert!(allowed.len() >= 3, "{asked:?}");
        assert!(allowed.last().unwrap() - allowed[0] >= 30, "{asked:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_flaps_settles_only_once_it_stops() {
        // The old and the new state answer in turn until 100 s.
        let n = std::sync::atomic::AtomicU16::new(0);
        let (got, asked) = settle_on(
            |t| {
                let flip = n
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                    .is_multiple_of(2);
                status(if t < 100 && flip { 403 } else { 200 })
            },
            |_| false,
        )
        .await;
        assert_eq!(got.unwrap().status, Some(200));
        assert!(*asked.last().unwrap() >= 130, "{asked:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn answers_that_only_show_lag_never_settle_and_break_a_run() {
        // A lagging answer between equal ones starts the count again.
        let (got, asked) = settle_on(
            |t| status(if (24..27).contains(&t) { 401 } else { 200 }),
            |e| e.status == Some(401),
        )
        .await;
        assert_eq!(got.unwrap().status, Some(200));
        let after: Vec<u64> = asked.iter().copied().filter(|t| *t > 26).collect();
        assert!(after.last().unwrap() - after[0] >= 30, "{asked:?}");
        // Lag that never ends is never recorded.
        let (got, _) = settle_on(|_| status(401), |e| e.status == Some(401)).await;
        assert!(matches!(got, Err(LiveError::NotSettled { .. })), "{got:?}");
    }

    fn auth_failed() -> Expect {
        Expect {
            status: Some(403),
            body: Some(serde_json::json!({ "Message": AUTH_FAILED_MESSAGE }).to_string()),
            ..Expect::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_young_long_term_key_is_given_the_window_to_become_known_and_inactive() {
        let window = Duration::from_secs(30);
        let created = Instant::now();
        let active = CallKey::LongTerm {
            secret: Secret::new("ABSKx"),
            created,
            deactivated: None,
        };
        let inactive = CallKey::LongTerm {
            secret: Secret::new("ABSKx"),
            created,
            deactivated: Some(created),
        };
        assert!(authentication_failed(&auth_failed()));
        assert!(!authentication_failed(&status(200)));
        // Young: "Authentication failed" is lag; a deactivated key still working is lag.
        assert!(active.not_yet(&auth_failed(), window));
        assert!(!active.not_yet(&status(200), window));
        assert!(inactive.not_yet(&status(200), window));
        assert!(inactive.not_yet(&auth_failed(), window));
        tokio::time::sleep(window).await;
        // Older than the window, every answer counts but a deactivated key working.
        assert!(!active.not_yet(&auth_failed(), window));
        // A deactivated key that still works is never taken for an answer, however old.
        assert!(inactive.not_yet(&status(200), window));
        assert!(!inactive.not_yet(&status(403), window));
        assert!(!inactive.not_yet(&auth_failed(), window));
        let literal = CallKey::Literal(Secret::new("x"));
        assert!(!literal.not_yet(&auth_failed(), window));
    }

    fn failure(code: &str, status: u16, message: &str) -> ApiFailure {
        ApiFailure {
            status: Some(status),
            code: Some(code.into()),
            message: None,
            body: Some(serde_json::json!({ "Message": message }).to_string()),
            detail: String::new(),
            capped: None,
        }
    }

    #[test]
    fn model_access_and_unknown_ids_are_the_environment_and_a_policy_deny_is_not() {
        let m = "us.amazon.nova-micro-v1:0";
        let no_access = failure(
            "AccessDeniedException",
            403,
            "You don't have access to the model with the specified model ID.",
        );
        assert!(matches!(
            environment_problem(&no_access, m, "us-east-1"),
            Some(EnvProblem::ModelAccess { .. })
        ));
        let deny = failure("AccessDeniedException", 403, "User: arn:aws:iam::111122223333:user/u is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action");
        assert_eq!(environment_problem(&deny, m, "us-east-1"), None);
        let auth = failure("AccessDeniedException", 403, AUTH_FAILED_MESSAGE);
        assert_eq!(environment_problem(&auth, m, "us-east-1"), None);
        for f in [
            failure(
                "ValidationException",
                400,
                "The provided model identifier is invalid.",
            ),
            failure("ResourceNotFoundException", 404, "Could not resolve the foundation model from the provided model identifier."),
            failure("ValidationException", 400, "Invocation of model ID amazon.nova-micro-v1:0 with on-demand throughput isn\u{2019}t supported."),
        ] {
            let p = environment_problem(&f, m, "us-east-1").unwrap();
            assert!(matches!(p, EnvProblem::UnknownModel { .. }), "{p:?}");
            assert!(p.remedy().contains(m) && p.to_string().contains("us-east-1"));
        }
        let other = failure(
            "ValidationException",
            400,
            "The provided model doesn't support counting tokens.",
        );
        assert_eq!(environment_problem(&other, m, "us-east-1"), None);
        let p = environment_problem(&no_access, m, "us-east-1").unwrap();
        assert!(p.remedy().contains("Model access"), "{}", p.remedy());
    }
}
