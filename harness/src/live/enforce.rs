//! The enforcement oracle: real requests, made as a principal that carries the case's policies.
//!
//! Eventual consistency: IAM changes reach enforcement after a delay (AWS: "changes ... take
//! time to become visible"), so keyward never records the first answer after a change. It waits
//! [`Settle::settle`], then repeats the recorded request (undoing its side effects in between)
//! with growing waits until two answers in a row are the same, and records that answer. A case
//! that does not settle within [`Settle::timeout`] is reported as unsettled, not recorded. A
//! just-created role is retried until it can be assumed ([`super::provision::assume_role`]).

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseTokensRequest, CountTokensInput,
    InferenceConfiguration, Message,
};
use keyward_bedrock::{generate, ExpiresIn, SigningCredentials};
use keyward_bedrock::{
    CredentialError, Flow, Operation, ServiceName, SideEffect, UserName, LIMITED_ACCESS_POLICY,
};
use keyward_iam::{DecisionKind, PolicyType};
use serde_json::Value;

use super::aws::{ApiFailure, Secret};
use super::ledger::Ledger;
use super::names::RunId;
use super::plan::{KeyPlan, LivePlan, Planned, Principal};
use super::{delete, provision, redact, Aws, LiveError};
use crate::case::Expect;

/// How long to wait for IAM to settle.
#[derive(Debug, Clone)]
pub struct Settle {
    /// The wait after the last IAM change, before the first recorded attempt.
    pub settle: Duration,
    /// The waits between attempts, the last repeated.
    pub waits: Vec<Duration>,
    /// The waits between AssumeRole attempts on a role that is not assumable yet.
    pub assume_waits: Vec<Duration>,
    pub timeout: Duration,
}

impl Settle {
    pub fn new(timeout: Duration) -> Settle {
        Settle {
            settle: Duration::from_secs(10),
            waits: [2, 4, 8, 16].map(Duration::from_secs).to_vec(),
            assume_waits: provision::ASSUME_WAITS.map(Duration::from_secs).to_vec(),
            timeout,
        }
    }

    /// No waiting (for tests against canned answers).
    pub fn immediate() -> Settle {
        Settle {
            settle: Duration::ZERO,
            waits: vec![Duration::ZERO],
            assume_waits: vec![Duration::ZERO; 3],
            timeout: Duration::from_secs(5),
        }
    }
}

/// Answers from a credential that is not yet usable everywhere; never taken as the answer.
fn is_transient(e: &Expect) -> bool {
    matches!(e.code.as_deref(), Some("InvalidClientTokenId"))
}

/// Repeats `attempt` until two answers in a row agree (see the module docs).
pub async fn settled<F, Fut>(s: &Settle, what: &str, mut attempt: F) -> Result<Expect, LiveError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Expect, LiveError>>,
{
    tokio::time::sleep(s.settle).await;
    let start = Instant::now();
    let mut last: Option<Expect> = None;
    let mut i = 0;
    loop {
        let a = attempt().await?;
        if !is_transient(&a) {
            if last.as_ref() == Some(&a) {
                return Ok(a);
            }
            last = Some(a);
        }
        if start.elapsed() >= s.timeout {
            return Err(LiveError::NotSettled {
                secs: s.timeout.as_secs(),
                what: what.to_string(),
            });
        }
        let w = s.waits[i.min(s.waits.len() - 1)];
        i += 1;
        tokio::time::sleep(w).await;
    }
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
    let message = f.message.clone().or_else(|| {
        f.body.as_deref().and_then(|b| {
            let v: Value = serde_json::from_str(b).ok()?;
            v.get("Message")
                .or_else(|| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    });
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

async fn credentials_for(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    p: &Principal,
    settle: &Settle,
) -> Result<Credentials, LiveError> {
    match p {
        Principal::Role {
            live_name,
            session,
            policies,
            session_policy,
        } => {
            let arn = provision::create_role(aws, ledger, run, live_name, &policies.to_provision())
                .await?;
            let policy = session_policy.as_ref();
            provision::assume_role(aws, &arn, session, policy, &settle.assume_waits).await
        }
        Principal::User {
            live_name,
            policies,
        } => {
            provision::create_user(aws, ledger, run, live_name, &policies.to_provision()).await?;
            provision::create_access_key(aws, live_name).await
        }
    }
}

/// Runs a create_key or call plan and returns AWS's answer, redacted, in the case's names.
/// Everything created goes into `ledger`; the caller cleans it up.
pub async fn enforce(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    planned: &Planned,
    settle: &Settle,
) -> Result<Expect, LiveError> {
    let answer = match &planned.plan {
        LivePlan::Simulate(_) => {
            return Err(LiveError::Aws {
                operation: "enforce",
                detail: "a request case is answered by the simulator".into(),
            })
        }
        LivePlan::CreateKey {
            caller,
            user,
            service,
            age_days,
            flow,
            existing_keys,
            user_exists,
        } => {
            let creds = credentials_for(aws, ledger, run, caller, settle).await?;
            if *flow == Flow::Api && *user_exists {
                // A user creating its own key is the caller, made above.
                if caller.user_name() != Some(user.as_str()) {
                    provision::create_user(aws, ledger, run, user, &Default::default()).await?;
                }
                for _ in 0..*existing_keys {
                    existing_key(aws, user, service).await?;
                }
            }
            let flow = *flow;
            // Answers are compared redacted: IAM's bodies carry a new request id every time.
            settled(settle, &planned.case.id, || async {
                let mut made = Attempt::default();
                let a = create_key_once(
                    aws,
                    (ledger, run, &mut made),
                    &creds,
                    user,
                    service,
                    *age_days,
                    flow,
                )
                .await;
                undo_create_key(aws, run, user, flow, &made).await?;
                a.map(|e| redacted(e, planned, aws.account()))
            })
            .await?
        }
        LivePlan::Call {
            key,
            operation,
            region,
            model,
        } => {
            let key = key_for(aws, ledger, run, key, settle).await?;
            settled(settle, &planned.case.id, || async {
                call_once(aws, region, &key, *operation, model)
                    .await
                    .map(|e| redacted(e, planned, aws.account()))
            })
            .await?
        }
    };
    Ok(answer)
}

/// A credential the case says the user already holds.
async fn existing_key(aws: &Aws, user: &str, service: &str) -> Result<(), LiveError> {
    // IAM makes no credential for a service that takes none: such existing keys are Bedrock's.
    let service = ServiceName::new(service)
        .ok()
        .filter(ServiceName::is_supported)
        .unwrap_or_else(ServiceName::bedrock);
    aws.iam()?
        .create_service_specific_credential()
        .user_name(user)
        .service_name(service.as_str())
        .send()
        .await
        .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:CreateServiceSpecificCredential"))?;
    Ok(())
}

/// What one attempt at a key creation made, so that the undo removes exactly that.
#[derive(Debug, Default)]
struct Attempt {
    /// The console flow's user was created by this attempt.
    user_created: bool,
    /// The id of the credential this attempt created.
    credential: Option<String>,
}

/// Where the console flow's user goes once IAM has created it: the case's ledger, the run (for
/// its tag), and what this attempt made.
type Made<'a> = (&'a Ledger, &'a RunId, &'a mut Attempt);

/// The recorded request of a create_key scenario, made as the case's principal.
async fn create_key_once(
    aws: &Aws,
    (ledger, run, made): Made<'_>,
    creds: &Credentials,
    user: &str,
    service: &str,
    age_days: Option<i64>,
    flow: Flow,
) -> Result<Expect, LiveError> {
    let iam = aws.iam_as(creds)?;
    // The names the side effects are told in; the case reader and the planner made them.
    let user_name = UserName::new(user).map_err(not_recordable)?;
    let mut effects = Vec::new();
    if flow == Flow::Console {
        // A name already in use (EntityAlreadyExists) is someone else's user: it is recorded as
        // the answer and never journaled, tagged or deleted.
        if let Err(e) = iam.create_user().user_name(user).send().await {
            return service_answer(&ApiFailure::from_sdk(&e), true, &effects);
        }
        made.user_created = true;
        // The case's principal creates the user as the console does, without tags; the runner
        // tags it at once, since only the run's tag lets cleanup and sweep delete it (a crash
        // before the journal line leaves a tagged user sweep finds).
        aws.iam()?
            .tag_user()
            .user_name(user)
            .tags(super::provision::tag(run))
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:TagUser"))?;
        ledger.created(super::journal::Resource::User(user.to_string()))?;
        effects.push(SideEffect::UserCreated {
            user: user_name.clone(),
        });
        aws.budget().spend()?;
        if let Err(e) = iam
            .attach_user_policy()
            .user_name(user)
            .policy_arn(LIMITED_ACCESS_POLICY)
            .send()
            .await
        {
            return service_answer(&ApiFailure::from_sdk(&e), true, &effects);
        }
        effects.push(SideEffect::PolicyAttached {
            user: user_name.clone(),
            policy_arn: LIMITED_ACCESS_POLICY.to_string(),
        });
        aws.budget().spend()?;
    }
    let mut req = iam
        .create_service_specific_credential()
        .user_name(user)
        .service_name(service);
    if let Some(d) = age_days {
        // Out-of-range ages are sent as asked: IAM's validation is part of what is recorded.
        req = req.credential_age_days(i32::try_from(d).unwrap_or(i32::MAX));
    }
    match req.send().await {
        Ok(out) => {
            made.credential = out
                .service_specific_credential()
                .map(|c| c.service_specific_credential_id().to_string());
            effects.push(SideEffect::CredentialCreated {
                user: user_name,
                service: ServiceName::new(service).map_err(not_recordable)?,
                age: age_days,
            });
            Ok(success(&effects))
        }
        Err(e) => service_answer(&ApiFailure::from_sdk(&e), true, &effects),
    }
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
/// user) and, for the console flow, the user it created removed.
async fn undo_create_key(
    aws: &Aws,
    run: &RunId,
    user: &str,
    flow: Flow,
    made: &Attempt,
) -> Result<(), LiveError> {
    if flow == Flow::Console && made.user_created {
        // Its credential goes with it; the user carries the run's tag.
        let user = super::journal::Resource::User(user.to_string());
        return delete::delete(aws, &user, run.as_str()).await;
    }
    let Some(id) = &made.credential else {
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

/// The key of a call: generated from the principal's credentials, created for the user, or
/// the malformed literal.
async fn key_for(
    aws: &Aws,
    ledger: &Ledger,
    run: &RunId,
    key: &KeyPlan,
    settle: &Settle,
) -> Result<Secret, LiveError> {
    match key {
        KeyPlan::Malformed(t) => Ok(Secret::new(t.clone())),
        KeyPlan::ShortTerm {
            principal,
            region,
            age_secs,
            expires_in,
        } => {
            let c = credentials_for(aws, ledger, run, principal, settle).await?;
            let mut sc = SigningCredentials::new(c.access_key_id(), c.secret_access_key());
            if let Some(t) = c.session_token() {
                sc = sc.with_session_token(t);
            }
            let signed_at = SystemTime::now() - Duration::from_secs(*age_secs as u64);
            let expires = ExpiresIn::new(u64::from(*expires_in)).map_err(|e| LiveError::Aws {
                operation: "generate short-term key",
                detail: e.to_string(),
            })?;
            let token = generate(&sc, region, signed_at, expires).map_err(|e| LiveError::Aws {
                operation: "generate short-term key",
                detail: e.to_string(),
            })?;
            Ok(Secret::new(token.expose_bearer()))
        }
        KeyPlan::LongTerm {
            user,
            age_days,
            active,
        } => {
            let Principal::User {
                live_name,
                policies,
            } = user
            else {
                return Err(LiveError::Aws {
                    operation: "long-term key",
                    detail: "long-term keys belong to IAM users".into(),
                });
            };
            provision::create_user(aws, ledger, run, live_name, &policies.to_provision()).await?;
            let (secret, id) = provision::create_bedrock_key(aws, live_name, *age_days).await?;
            if !active {
                provision::deactivate_bedrock_key(aws, live_name, &id).await?;
            }
            Ok(secret)
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
    let client = aws.bedrock_with_key(region, key)?;
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
        Some(f) => service_answer(&f, false, &[]),
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

    #[tokio::test]
    async fn settling_takes_the_first_answer_seen_twice() {
        let answers = std::sync::Mutex::new(vec![
            Expect {
                status: Some(200),
                ..Expect::default()
            },
            Expect {
                status: Some(200),
                ..Expect::default()
            },
            Expect {
                status: Some(403),
                ..Expect::default()
            },
            Expect {
                code: Some("InvalidClientTokenId".into()),
                ..Expect::default()
            },
        ]);
        let got = settled(&Settle::immediate(), "t", || async {
            Ok(answers.lock().unwrap().pop().unwrap())
        })
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
        let e = settled(&s, "flapping", || async {
            Ok(Expect {
                status: Some(n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)),
                ..Expect::default()
            })
        })
        .await
        .unwrap_err();
        assert!(matches!(e, LiveError::NotSettled { .. }), "{e}");
    }
}
