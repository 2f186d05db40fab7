//! Live mode, offline: `keyward check --live` / `keyward record` against a fake AWS ([`fake`]),
//! whose hooks let a test answer particular requests differently.
//!
//! No test here touches the network: every SDK client gets the fake (or a StaticReplayClient).

mod arns;
mod aws_limits;
mod fake;
mod one_oracle;
mod runner_policy;
mod settle;
mod simulator;
mod smoke;
mod steps;
mod trust;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use aws_smithy_http_client::test_util::{infallible_client_fn, ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use keyward::case::{Case, Expect};
use keyward::commands::live::{run as live_run, LiveArgs, LiveCommand, Setup};
use keyward::live::enforce::Settle;
use keyward::live::names::RunId;
use keyward::live::plan::{plan, LivePlan, PlanContext, SimPlan};
use keyward::live::runner::{run_cases, LiveOptions, LiveReport, Status};
use keyward::live::simulate::simulate_batch;
use keyward::live::{guard, journal, Aws, LiveConfig, LiveError};
use keyward_bedrock::ShortTermToken;
use keyward_iam::{DecisionKind, PolicyType};
use serde_json::{json, Value};

use crate::support::{case, fixture};
use fake::{
    bedrock_error, iam_error, mix, query_error, query_ok, sim_pairs, simulate_answer, Fake,
    Principal, Resp, ServiceCred, SimResult, AUTH_FAILED, RUNNER_KEY, RUNNER_ROLE, STS_NS,
};

// ---------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------

/// The sandbox account of every test (AWS's documentation style, obviously fake).
const SANDBOX: &str = "111122223333";
/// The account cases speak of.
const CASE_ACCOUNT: &str = "123456789012";
const ZERO_ID: &str = "00000000-0000-0000-0000-000000000000";
const MODEL: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
const ROLE_ALICE: &str = "arn:aws:sts::123456789012:assumed-role/dev/alice";
const CONSOLE_USER_ARN: &str = "arn:aws:iam::123456789012:user/BedrockAPIKey-h42z";

// ---------------------------------------------------------------------------------------------
// SDK configuration and helpers
// ---------------------------------------------------------------------------------------------

fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// The SDK configuration of the tests: region us-east-1, the given credentials, the given HTTP
/// client, tokio sleeps, standard retries (3 attempts, millisecond backoff).
fn build_sdk(
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
    credentials: Option<SharedCredentialsProvider>,
) -> SdkConfig {
    let mut b = SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .sleep_impl(TokioSleep::new())
        .time_source(SystemTimeSource::new())
        .retry_config(retry());
    b.set_credentials_provider(credentials);
    b.build()
}

/// [`build_sdk`] with obviously fake static credentials.
fn sdk_config(http: aws_smithy_runtime_api::client::http::SharedHttpClient) -> SdkConfig {
    build_sdk(
        http,
        Some(SharedCredentialsProvider::new(Credentials::new(
            RUNNER_KEY, "secret", None, None, "test",
        ))),
    )
}

fn live_config(state_dir: &Path) -> LiveConfig {
    LiveConfig {
        sandbox_account: Some(SANDBOX.into()),
        state_dir: state_dir.to_path_buf(),
        ..LiveConfig::default()
    }
}

fn opts() -> LiveOptions {
    LiveOptions {
        first_index: 0,
        settle: Settle::immediate(),
        concurrency: 2,
        model: keyward::live::config::DEFAULT_MODEL.into(),
    }
}

async fn verified(fake: &Fake, state: &Path) -> Aws {
    guard::verify(fake.sdk(), &live_config(state))
        .await
        .expect("the fake is the sandbox account")
}

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A shipped fixture of fixtures/documented/bedrock-scenarios.json.
fn documented(id: &str) -> Case {
    fixture(&format!("documented/bedrock-scenarios/{id}"))
}

/// A Converse call with a short-term key of `principal`, under `identity` policies.
fn short_term_call(id: &str, principal: &str, policies: Value) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": policies,
        "scenario": {"call": {"operation": "Converse",
            "key": {"type": "SHORT_TERM", "principal": principal, "region": "us-east-1"},
            "model": MODEL, "region": "us-east-1"}}
    }))
}

fn long_term_call(id: &str, policies: Value) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": policies,
        "scenario": {"call": {"operation": "Converse",
            "key": {"type": "LONG_TERM", "user": CONSOLE_USER_ARN},
            "model": MODEL, "region": "us-east-1"}}
    }))
}

fn allow_all() -> Value {
    json!({"identity": [doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))]})
}

// ---------------------------------------------------------------------------------------------
// AWS's answers, as literal texts
// ---------------------------------------------------------------------------------------------
//
// The fake words a denial the way AWS does, in whole literal strings: AWS's sentence for the
// denial (the article's observed explicit deny of bedrock:CallWithBearerToken,
// fixtures/article/seed-article.json; the implicit deny reports show for it and IAM's envelope
// example, docs/aws-behaviour.md §3.2 and §3.3) said to the live principal of a run whose id is
// fixed, so that every name in it is known before the run. Nothing here is built from keyward's
// message code: if keyward's live mode misread these answers, or its local evaluator worded a
// denial otherwise, the tests comparing the two would fail.

/// The run id of the tests whose fake answers in literal texts.
const LITERAL_RUN: &str = "literal1";

fn literal_run() -> RunId {
    RunId::parse(LITERAL_RUN).unwrap()
}

/// Case 0's role session `dev/alice` in run [`LITERAL_RUN`].
const LIVE_ALICE_0: &str = "arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice";
/// Case 1's role session `dev/alice` in run [`LITERAL_RUN`].
const LIVE_ALICE_1: &str = "arn:aws:sts::111122223333:assumed-role/keyward-literal1-1-k-dev/alice";

/// AWS's explicit deny of the bearer-token action, said to [`LIVE_ALICE_0`].
const AWS_EXPLICIT_DENY_ALICE_0: &str = "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy";
/// The same, said to [`LIVE_ALICE_1`].
const AWS_EXPLICIT_DENY_ALICE_1: &str = "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-1-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy";
/// AWS's implicit deny of the bearer-token action, said to [`LIVE_ALICE_0`].
const AWS_IMPLICIT_DENY_ALICE_0: &str = "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-0-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action";
/// The same, said to [`LIVE_ALICE_1`].
const AWS_IMPLICIT_DENY_ALICE_1: &str = "User: arn:aws:sts::111122223333:assumed-role/keyward-literal1-1-k-dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action";

/// The explicit deny as the case (`dev/alice` in 123456789012) must record it.
const CASE_EXPLICIT_DENY_ALICE: &str = "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy";
/// The implicit deny as the case must record it.
const CASE_IMPLICIT_DENY_ALICE: &str = "User: arn:aws:sts::123456789012:assumed-role/dev/alice is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action";

/// Answers every bedrock-runtime call of the callers in `table` (live caller ARN, AWS's text)
/// with a 403 AccessDeniedException carrying that text. A call from any other caller gets an
/// error that names it and that no case reads as AWS's answer, so a live name other than the
/// one the test wrote down fails the test.
fn bedrock_denies_literally(fake: &Fake, table: &'static [(&'static str, &'static str)]) {
    fake.hook(move |r, w| {
        if r.service != "bedrock" {
            return None;
        }
        let caller = r.caller_arn.clone().unwrap_or_default();
        Some(match table.iter().find(|(c, _)| *c == caller) {
            Some((_, text)) => bedrock_error(w, 403, "AccessDeniedException", text),
            None => bedrock_error(
                w,
                599,
                "NoLiteralAnswer",
                &format!("the test has no literal answer for {caller}"),
            ),
        })
    });
}

/// Everything an answer holds as text.
fn answer_text(e: &Expect) -> String {
    format!("{:?} {:?} {:?}", e.message, e.body, e.side_effects)
}

/// Asserts a stored answer is in the case's names and redacted.
fn assert_clean(e: &Expect) {
    let t = answer_text(e);
    assert!(!t.contains(SANDBOX), "the sandbox account leaked: {t}");
    assert!(!t.contains("keyward-"), "a live name leaked: {t}");
    assert!(!t.contains("amazon.nova"), "the live model leaked: {t}");
    let re =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    for m in re.find_iter(&t) {
        assert_eq!(m.as_str(), ZERO_ID, "a request id was kept: {t}");
    }
}

fn only(report: &LiveReport) -> &keyward::live::runner::CaseReport {
    assert_eq!(report.cases.len(), 1, "{report:?}");
    &report.cases[0]
}

/// The fake created things and deleted every one of them.
fn assert_all_deleted(fake: &Fake) {
    fake.world(|w| {
        assert!(!w.created.is_empty(), "nothing was created");
        let created: BTreeSet<&String> = w.created.iter().collect();
        let deleted: BTreeSet<&String> = w.deleted.iter().collect();
        assert_eq!(
            created,
            deleted,
            "left behind: {:?}",
            created.difference(&deleted)
        );
        assert!(w.users.is_empty() && w.roles.is_empty() && w.policies.is_empty());
        assert!(w.access_keys.is_empty() && w.creds.is_empty(), "{w:?}");
    });
}

fn write_config(dir: &Path, account: Option<&str>) -> PathBuf {
    let state = dir.join("state");
    let mut text = format!("[live]\nstate_dir = {:?}\n", state.display().to_string());
    if let Some(a) = account {
        text.push_str(&format!("sandbox_account = \"{a}\"\n"));
    }
    let f = dir.join("keyward.toml");
    std::fs::write(&f, text).unwrap();
    f
}

fn write_fixtures(dir: &Path, cases: &[&Case]) -> PathBuf {
    let fx = dir.join("fixtures");
    std::fs::create_dir_all(&fx).unwrap();
    let arr: Vec<Value> = cases.iter().map(|c| c.to_json()).collect();
    std::fs::write(fx.join("cases.json"), Value::Array(arr).to_string()).unwrap();
    fx
}

fn args(config: &Path) -> LiveArgs {
    LiveArgs {
        config: Some(config.to_path_buf()),
        ..LiveArgs::default()
    }
}

fn no_env() -> Setup {
    Setup {
        sdk: None,
        env: Box::new(|_| None),
        settle: Some(Settle::immediate()),
        interrupt: None,
    }
}

fn record(args: LiveArgs, fixtures: &Path, out: &Path) -> LiveCommand {
    LiveCommand::Record {
        args,
        fixtures: fixtures.to_path_buf(),
        out: out.to_path_buf(),
        cases: 0,
        seed: 7,
        resume: None,
        probe_assumptions: false,
        shrink_attempts: 0,
    }
}

fn check(args: LiveArgs, fixtures: &Path, cases: u64) -> LiveCommand {
    LiveCommand::Check {
        args,
        fixtures: fixtures.to_path_buf(),
        cases,
        seed: 7,
        resume: None,
        json: false,
        junit: None,
    }
}

/// Runs a live command; returns (exit code, stdout, stderr).
fn run_cmd(cmd: LiveCommand, setup: Setup) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = live_run(cmd, setup, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn journals(state: &Path) -> Vec<(PathBuf, String)> {
    let dir = journal::runs_dir(state);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) == Some("jsonl") {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((p, text));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 1. The account guard
// ---------------------------------------------------------------------------------------------

#[test]
fn no_sandbox_account_refuses_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), None);
    let fx = write_fixtures(dir.path(), &[]);
    let fake = Fake::new(SANDBOX);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(record(args(&cfg), &fx, &dir.path().join("out")), setup);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("KEYWARD_SANDBOX_ACCOUNT"), "{err}");
    assert!(fake.requests().is_empty(), "{:?}", fake.ops());
    assert!(!dir.path().join("state").exists(), "a journal was started");
}

#[tokio::test]
async fn the_guard_itself_refuses_without_an_account() {
    let fake = Fake::new(SANDBOX);
    let e = guard::verify(fake.sdk(), &LiveConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(e, LiveError::MissingSandboxAccount), "{e}");
    assert!(e.is_bad_input());
    assert!(fake.requests().is_empty());
}

#[test]
fn another_account_is_refused_after_get_caller_identity_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let c = documented("identity-deny-short-term/short-term-call-denied");
    let fx = write_fixtures(dir.path(), &[&c]);
    // The credentials belong to another account.
    let fake = Fake::new("444455556666");
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("444455556666") && err.contains(SANDBOX),
        "the message names both accounts: {err}"
    );
    assert_eq!(fake.ops(), ["GetCallerIdentity"]);
    let r = &fake.requests()[0];
    assert_eq!(r.service, "sts");
    assert_eq!(r.method, "POST");
    assert!(r.by_runner, "signed with the runner's credentials");
}

#[test]
fn an_sdk_config_without_credentials_is_refused_without_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let fx = write_fixtures(dir.path(), &[]);
    let fake = Fake::new(SANDBOX);
    let me = fake.clone();
    let sdk = build_sdk(infallible_client_fn(move |r| me.handle(r)), None);
    let setup = Setup {
        sdk: Some(sdk),
        ..no_env()
    };
    let (code, out, err) = run_cmd(record(args(&cfg), &fx, &dir.path().join("out")), setup);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(fake.requests().is_empty(), "{:?}", fake.ops());
}

#[derive(Debug)]
struct FailingProvider;

impl ProvideCredentials for FailingProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no profile, SSO session or environment credentials in this test",
        )))
    }
}

#[tokio::test]
async fn a_failing_credentials_provider_is_no_credentials_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let me = fake.clone();
    let sdk = build_sdk(
        infallible_client_fn(move |r| me.handle(r)),
        Some(SharedCredentialsProvider::new(FailingProvider)),
    );
    let e = guard::verify(sdk, &live_config(dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(e, LiveError::NoCredentials { .. }), "{e}");
    assert!(e.is_bad_input());
    assert!(fake.requests().is_empty(), "{:?}", fake.ops());
}

// ---------------------------------------------------------------------------------------------
// 2. The simulator
// ---------------------------------------------------------------------------------------------

const R1: &str = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0";
const R2: &str = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0";

fn sim_policies() -> Value {
    json!({
        "identity": [doc(json!([
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*", "Condition": {
                "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                "ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}},
            {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": R2}
        ]))],
        "permissions_boundary": doc(json!([
            {"Effect": "Allow", "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], "Resource": "*"},
            {"Effect": "Deny", "Action": "bedrock:InvokeModelWithResponseStream", "Resource": R1}
        ]))
    })
}

fn sim_case(id: &str, action: &str, resource: &str) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": sim_policies(),
        "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": action,
            "resource": resource,
            "context": {"aws:MultiFactorAuthAge": 300, "aws:TagKeys": ["team", "project"]}}
    }))
}

/// The context every [`sim_case`] gives the simulator: (key, ContextKeyType, values).
const SIM_CONTEXT: &[(&str, &str, &[&str])] = &[
    ("aws:MultiFactorAuthAge", "numeric", &["300"]),
    ("aws:TagKeys", "stringList", &["team", "project"]),
];

/// What IAM's policy simulator answers for [`sim_policies`] in [`SIM_CONTEXT`], worked out by
/// hand from the policies and IAM's documented evaluation logic (not by keyward): action,
/// resource, `EvalDecision`, the matched statement's `SourcePolicyId`, and
/// `AllowedByPermissionsBoundary`.
///
/// The identity policy's first statement allows `bedrock:*` (MFA age 300 < 3600, and `team` is
/// among the tag keys); its second denies InvokeModel on R2. The boundary allows InvokeModel and
/// InvokeModelWithResponseStream and denies the latter on R1; it allows nothing else.
const SIM_TABLE: &[(&str, &str, &str, Option<&str>, bool)] = &[
    ("bedrock:InvokeModel", R1, "allowed", None, true),
    (
        "bedrock:InvokeModel",
        R2,
        "explicitDeny",
        Some("PolicyInputList.1"),
        true,
    ),
    (
        "bedrock:InvokeModelWithResponseStream",
        R1,
        "explicitDeny",
        Some("PermissionsBoundaryPolicyInputList.1"),
        false,
    ),
    (
        "bedrock:InvokeModelWithResponseStream",
        R2,
        "allowed",
        None,
        true,
    ),
    ("bedrock:CountTokens", R1, "implicitDeny", None, false),
    ("bedrock:CountTokens", R2, "implicitDeny", None, false),
];

/// The context entries of a SimulateCustomPolicy request, in the order it lists them.
fn sim_context(r: &fake::Req) -> Vec<(String, String, Vec<String>)> {
    (1..)
        .map_while(|i| {
            let p = format!("ContextEntries.member.{i}");
            let name = r.param(&format!("{p}.ContextKeyName"))?.to_string();
            let kind = r.param(&format!("{p}.ContextKeyType"))?.to_string();
            Some((name, kind, r.members(&format!("{p}.ContextKeyValues"))))
        })
        .collect()
}

/// Answers SimulateCustomPolicy from [`SIM_TABLE`], `page` results a page. A question the table
/// has no answer for (another pair, or another context) is refused with a ValidationError that
/// says so, which fails the cases that asked it.
fn paged_simulator(fake: &Fake, page: usize) {
    fake.hook(move |r, w| {
        if r.op != "SimulateCustomPolicy" {
            return None;
        }
        let context = sim_context(r);
        let want: Vec<(String, String, Vec<String>)> = SIM_CONTEXT
            .iter()
            .map(|(k, t, v)| {
                (
                    k.to_string(),
                    t.to_string(),
                    v.iter().map(|x| x.to_string()).collect(),
                )
            })
            .collect();
        if context != want {
            let m = format!("the fake's simulator table has no answer for the context {context:?}");
            return Some(iam_error(w, 400, "ValidationError", &m));
        }
        let mut all: Vec<SimResult> = Vec::new();
        for (a, res) in sim_pairs(r) {
            let Some((_, _, d, s, boundary)) =
                SIM_TABLE.iter().find(|(ta, tr, ..)| *ta == a && *tr == res)
            else {
                let m = format!("the fake's simulator table has no answer for {a} on {res}");
                return Some(iam_error(w, 400, "ValidationError", &m));
            };
            all.push(SimResult {
                allowed_by_boundary: Some(*boundary),
                ..(a, res, *d, *s).into()
            });
        }
        let start: usize = r
            .param("Marker")
            .and_then(|m| m.strip_prefix("page-from-"))
            .map_or(0, |n| n.parse().unwrap());
        let end = (start + page).min(all.len());
        let marker = (end < all.len()).then(|| format!("page-from-{end}"));
        let id = format!(
            "{:08x}-1b2c-4d3e-8f40-{:012x}",
            mix(start as u64) >> 32,
            w.seq
        );
        Some(simulate_answer(&all[start..end], marker.as_deref(), &id))
    });
}

fn sim_plans(cases: &[Case]) -> Vec<SimPlan> {
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ctx = PlanContext {
                run: RunId::parse("simtest1").unwrap(),
                index: i as u64,
                account: SANDBOX.into(),
                model: keyward::live::config::DEFAULT_MODEL.into(),
                now: 1_750_000_000,
            };
            match plan(c, &ctx).expect("runs live").plan {
                LivePlan::Simulate(s) => s,
                other => panic!("not a simulation: {other:?}"),
            }
        })
        .collect()
}

#[tokio::test]
async fn the_simulator_batches_pages_and_maps_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    paged_simulator(&fake, 4);
    let aws = verified(&fake, dir.path()).await;
    let cases = [
        sim_case("sim/allowed", "bedrock:InvokeModel", R1),
        sim_case("sim/identity-deny", "bedrock:InvokeModel", R2),
        sim_case(
            "sim/boundary-deny",
            "bedrock:InvokeModelWithResponseStream",
            R1,
        ),
        sim_case("sim/implicit", "bedrock:CountTokens", R2),
    ];
    let plans = sim_plans(&cases);
    assert!(plans
        .windows(2)
        .all(|w| w[0].batch_key() == w[1].batch_key()));
    let refs: Vec<&SimPlan> = plans.iter().collect();
    let answers = simulate_batch(&aws, &refs).await.unwrap();

    // One question (3 actions x 2 resources), read in two pages.
    let sims = fake.of("SimulateCustomPolicy");
    assert_eq!(sims.len(), 2, "{:?}", fake.ops());
    for s in &sims {
        assert_eq!(
            s.members("ActionNames"),
            [
                "bedrock:InvokeModel",
                "bedrock:InvokeModelWithResponseStream",
                "bedrock:CountTokens"
            ]
        );
        assert_eq!(s.members("ResourceArns"), [R1, R2]);
        assert_eq!(s.members("PolicyInputList").len(), 1);
        assert_eq!(s.members("PermissionsBoundaryPolicyInputList").len(), 1);
        // The typed context: a numeric key and a multivalued string key.
        let entry = |name: &str| {
            (1..=2)
                .find(|i| {
                    s.param(&format!("ContextEntries.member.{i}.ContextKeyName")) == Some(name)
                })
                .map(|i| {
                    let p = format!("ContextEntries.member.{i}");
                    (
                        s.param(&format!("{p}.ContextKeyType")).unwrap().to_string(),
                        s.members(&format!("{p}.ContextKeyValues")),
                    )
                })
                .unwrap_or_else(|| panic!("no context entry {name}: {}", s.body))
        };
        assert_eq!(
            entry("aws:MultiFactorAuthAge"),
            ("numeric".into(), vec!["300".into()])
        );
        assert_eq!(
            entry("aws:TagKeys"),
            ("stringList".into(), vec!["team".into(), "project".into()])
        );
    }
    assert_eq!(sims[0].param("Marker"), None);
    assert_eq!(sims[1].param("Marker"), Some("page-from-4"));

    let got: Vec<(Option<DecisionKind>, Option<PolicyType>)> = answers
        .iter()
        .map(|a| {
            let a = a.as_ref().expect("every case has a result");
            (a.decision, a.by)
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(DecisionKind::Allow), None),
            (Some(DecisionKind::ExplicitDeny), Some(PolicyType::Identity)),
            (
                Some(DecisionKind::ExplicitDeny),
                Some(PolicyType::PermissionsBoundary)
            ),
            (Some(DecisionKind::ImplicitDeny), None),
        ]
    );
}

#[tokio::test]
async fn request_cases_run_through_the_simulator_agree_with_the_local_evaluator() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    paged_simulator(&fake, 100);
    let aws = verified(&fake, dir.path()).await;
    let cases = [
        sim_case("sim/allowed", "bedrock:InvokeModel", R1),
        sim_case("sim/identity-deny", "bedrock:InvokeModel", R2),
        sim_case(
            "sim/boundary-deny",
            "bedrock:InvokeModelWithResponseStream",
            R1,
        ),
        sim_case("sim/implicit", "bedrock:CountTokens", R2),
    ];
    let run = RunId::new();
    let report = run_cases(&aws, &run, None, None, &cases, &opts()).await;
    assert_eq!(fake.count("SimulateCustomPolicy"), 1, "{:?}", fake.ops());
    for c in &report.cases {
        assert_eq!(c.oracle, Some(keyward::oracle::OracleKind::AwsSimulator));
        assert_eq!(c.status, Status::Agreed, "{c:?}");
    }
    // And a simulator that says otherwise is a disagreement.
    let fake = Fake::new(SANDBOX);
    fake.hook(|r, w| {
        (r.op == "SimulateCustomPolicy").then(|| {
            let id = w.seq.to_string();
            let all: Vec<_> = sim_pairs(r)
                .into_iter()
                .map(|(a, res)| (a, res, "allowed", None).into())
                .collect::<Vec<SimResult>>();
            simulate_answer(&all, None, &id)
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let report = run_cases(&aws, &run, None, None, &cases[1..2], &opts()).await;
    let c = only(&report);
    assert_eq!(c.status, Status::Disagreed);
    assert_eq!(c.aws.as_ref().unwrap().decision, Some(DecisionKind::Allow));
    assert_eq!(
        c.local.as_ref().unwrap().decision,
        Some(DecisionKind::ExplicitDeny)
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Throttling, then success
// ---------------------------------------------------------------------------------------------

fn sts_request() -> http::Request<SdkBody> {
    http::Request::builder()
        .method("POST")
        .uri("https://sts.us-east-1.amazonaws.com/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(SdkBody::from("Action=GetCallerIdentity&Version=2011-06-15"))
        .unwrap()
}

fn http_resp(r: Resp) -> http::Response<SdkBody> {
    let mut b = http::Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(SdkBody::from(r.body)).unwrap()
}

#[tokio::test]
async fn throttled_get_caller_identity_is_retried_then_verified() {
    let dir = tempfile::tempdir().unwrap();
    let throttled = query_error(
        STS_NS,
        400,
        "Throttling",
        "Rate exceeded",
        "5f7c1e2a-93b4-4c1d-a0e2-7b8c9d0e1f2a",
    );
    let ok = query_ok(
        STS_NS,
        "GetCallerIdentity",
        Some(&format!(
            "    <Arn>arn:aws:sts::{SANDBOX}:assumed-role/{RUNNER_ROLE}/ci</Arn>\n    <UserId>AROAEXAMPLERUNNERID:ci</UserId>\n    <Account>{SANDBOX}</Account>"
        )),
        "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9",
    );
    let replay = StaticReplayClient::new(vec![
        ReplayEvent::new(sts_request(), http_resp(throttled)),
        ReplayEvent::new(sts_request(), http_resp(ok)),
    ]);
    let sdk = sdk_config(aws_smithy_runtime_api::shared::IntoShared::into_shared(
        replay.clone(),
    ));
    let aws = guard::verify(sdk, &live_config(dir.path())).await.unwrap();
    assert_eq!(aws.account(), SANDBOX);
    assert_eq!(
        aws.trust_principal(),
        format!("arn:aws:iam::{SANDBOX}:root")
    );
    assert_eq!(replay.actual_requests().count(), 2);
    replay.relaxed_requests_match();
}

#[tokio::test]
async fn a_throttled_simulation_is_retried_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    fake.hook(move |r, w| {
        (r.op == "SimulateCustomPolicy" && seen.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| iam_error(w, 400, "Throttling", "Rate exceeded"))
    });
    paged_simulator(&fake, 100);
    let aws = verified(&fake, dir.path()).await;
    let cases = [sim_case("sim/identity-deny", "bedrock:InvokeModel", R2)];
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    assert_eq!(only(&report).status, Status::Agreed, "{report:?}");
    let sims = fake.of("SimulateCustomPolicy");
    assert_eq!(sims.len(), 2, "one throttled attempt and one answered");
    assert!(
        sims[1]
            .header("amz-sdk-request")
            .unwrap_or_default()
            .contains("attempt=2"),
        "{:?}",
        sims[1].header("amz-sdk-request")
    );
    // One budgeted call: retries are the SDK's, not new calls.
    assert_eq!(report.calls, 1);
}

// ---------------------------------------------------------------------------------------------
// 4. 5xx
// ---------------------------------------------------------------------------------------------

fn service_failure(fake: &Fake, op: &'static str) {
    fake.hook(move |r, w| {
        (r.op == op).then(|| {
            if r.service == "bedrock" {
                bedrock_error(
                    w,
                    500,
                    "InternalServerException",
                    "The server encountered an internal error.",
                )
            } else {
                iam_error(
                    w,
                    500,
                    "ServiceFailure",
                    "Request processing has failed due to an unknown error, exception or failure.",
                )
            }
        })
    });
}

#[tokio::test]
async fn a_simulator_that_keeps_failing_fails_the_case_after_the_retries() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    service_failure(&fake, "SimulateCustomPolicy");
    let aws = verified(&fake, dir.path()).await;
    let cases = [sim_case("sim/allowed", "bedrock:InvokeModel", R1)];
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    let c = only(&report);
    match &c.status {
        Status::Failed(why) => assert!(why.contains("iam:SimulateCustomPolicy"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(c.aws.is_none());
    assert_eq!(fake.count("SimulateCustomPolicy"), 3, "the retry max");
}

#[tokio::test]
async fn a_model_call_that_keeps_failing_is_a_failure_not_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    service_failure(&fake, "Converse");
    let aws = verified(&fake, dir.path()).await;
    let c = short_term_call("t/5xx", ROLE_ALICE, allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let c = only(&report);
    assert!(
        matches!(&c.status, Status::Failed(why) if why.contains("500") || why.contains("InternalServer")),
        "a 500 is not AWS's answer to the case: {:?} {:?}",
        c.status,
        c.aws
    );
    assert!(c.aws.is_none(), "nothing is recorded: {:?}", c.aws);
    assert_eq!(fake.count("Converse"), 3, "the retry max, once");
    // Cleanup ran although the recorded request failed.
    assert_all_deleted(&fake);
    assert!(
        report.cleanup_failures.is_empty(),
        "{:?}",
        report.cleanup_failures
    );
}

#[tokio::test]
async fn a_failing_create_role_fails_the_case_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    service_failure(&fake, "PutRolePolicy");
    let aws = verified(&fake, dir.path()).await;
    let c = short_term_call("t/5xx-iam", ROLE_ALICE, allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let c = only(&report);
    assert!(
        matches!(&c.status, Status::Failed(why) if why.contains("iam:PutRolePolicy")),
        "{:?}",
        c.status
    );
    assert_eq!(fake.count("PutRolePolicy"), 3);
    assert_eq!(fake.count("AssumeRole"), 0);
    assert_eq!(fake.count("Converse"), 0);
    assert_all_deleted(&fake);
}

// ---------------------------------------------------------------------------------------------
// 5. Access denied, in each form AWS words it
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_explicit_deny_from_bedrock_is_recorded_in_the_case_names_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    bedrock_denies_literally(&fake, &[(LIVE_ALICE_0, AWS_EXPLICIT_DENY_ALICE_0)]);
    let aws = verified(&fake, dir.path()).await;
    let c = documented("identity-deny-short-term/short-term-call-denied");
    let want = c.expect.clone().unwrap();
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    let r = only(&report);
    let got = r.aws.clone().expect("an answer");
    // What the fake said used the live names ...
    let conv = fake.of("Converse");
    assert_eq!(conv.len(), 3, "asked until three answers in a row agree");
    let live_role = fake
        .world(|w| {
            w.created
                .iter()
                .find_map(|c| c.strip_prefix("role ").map(str::to_string))
        })
        .expect("a role was created");
    assert_eq!(live_role, "keyward-literal1-0-k-dev");
    assert_eq!(conv[0].caller_arn.as_deref(), Some(LIVE_ALICE_0));
    // ... and the recorded answer is AWS's, in the case's names, which is what the case expects.
    assert_eq!(got.decision, Some(DecisionKind::ExplicitDeny));
    assert_eq!(got.by, Some(PolicyType::Identity));
    assert_eq!(got.message.as_deref(), Some(CASE_EXPLICIT_DENY_ALICE));
    assert_eq!(got.message, want.message);
    assert!(got.message.as_deref().unwrap().starts_with(&format!(
        "User: arn:aws:sts::{CASE_ACCOUNT}:assumed-role/dev/alice "
    )));
    assert_eq!(got.body, want.body);
    assert_eq!(got.status, Some(403));
    assert_eq!(got.code, None);
    assert_clean(&got);
    assert_eq!(
        Some(&got),
        r.local.as_ref(),
        "the local evaluator predicts exactly this"
    );
    assert_eq!(r.status, Status::Agreed);
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn an_implicit_deny_is_inferred_and_compared() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    bedrock_denies_literally(
        &fake,
        &[
            (LIVE_ALICE_0, AWS_IMPLICIT_DENY_ALICE_0),
            (LIVE_ALICE_1, AWS_IMPLICIT_DENY_ALICE_1),
        ],
    );
    let aws = verified(&fake, dir.path()).await;
    let only_invoke = json!({"identity": [doc(json!([{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}]))]});
    let cases = [
        // The local evaluator predicts this implicit deny ...
        short_term_call("t/implicit", ROLE_ALICE, only_invoke),
        // ... and an allow here, which AWS (the fake) contradicts.
        short_term_call("t/allowed-locally", ROLE_ALICE, allow_all()),
    ];
    let report = run_cases(&aws, &literal_run(), None, None, &cases, &opts()).await;
    assert_eq!(report.cases.len(), 2);
    let want = CASE_IMPLICIT_DENY_ALICE;
    assert_eq!(
        report.cases[0].local.as_ref().unwrap().message.as_deref(),
        Some(want),
        "the local evaluator words AWS's implicit deny"
    );
    for r in &report.cases {
        let got = r.aws.as_ref().expect("an answer");
        assert_eq!(got.decision, Some(DecisionKind::ImplicitDeny), "{got:?}");
        assert_eq!(got.by, Some(PolicyType::Identity));
        assert_eq!(got.message.as_deref(), Some(want));
        assert_eq!(got.body, Some(json!({ "Message": want }).to_string()));
        assert_clean(got);
    }
    assert_eq!(
        report.cases[0].status,
        Status::Agreed,
        "{:?}",
        report.cases[0]
    );
    assert_eq!(report.cases[1].status, Status::Disagreed);
    assert_eq!(
        report.cases[1].local.as_ref().unwrap().decision,
        Some(DecisionKind::Allow)
    );
    // Two principals, live names of their own.
    let roles = fake.world(|w| w.created.iter().filter(|c| c.starts_with("role ")).count());
    assert_eq!(roles, 2);
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn an_iam_access_denied_on_create_key_is_recorded_with_its_xml_body() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // IAM denies the case principal (not the runner) the key, in IAM's words (its envelope
    // example, docs/aws-behaviour.md §3.2, `user NAME` form). The target's name is the one part
    // the test cannot write down: keyward draws console-style names from the OS's randomness,
    // so it stands as `{TARGET}` and comes from the request.
    const CALLER: &str = "arn:aws:iam::111122223333:user/keyward-literal1-0-c-JohnDoe";
    const AWS_DENY: &str = "User: arn:aws:iam::111122223333:user/keyward-literal1-0-c-JohnDoe is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user {TARGET} because no identity-based policy allows the iam:CreateServiceSpecificCredential action";
    fake.hook(|r, w| {
        if r.op != "CreateServiceSpecificCredential" || r.by_runner {
            return None;
        }
        let user = r.param("UserName")?.to_string();
        Some(if r.caller_arn.as_deref() == Some(CALLER) {
            iam_error(w, 403, "AccessDenied", &AWS_DENY.replace("{TARGET}", &user))
        } else {
            iam_error(
                w,
                599,
                "NoLiteralAnswer",
                &format!("the test has no literal answer for {:?}", r.caller_arn),
            )
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let c = documented("identity-allow-create-within-90-days/age-91-denied");
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    let r = only(&report);
    let got = r
        .aws
        .clone()
        .unwrap_or_else(|| panic!("{r:?} {:?}", fake.ops()));
    // The request was made as the case's user, with its own access key, for the live target.
    let calls = fake.of("CreateServiceSpecificCredential");
    assert_eq!(calls.len(), 3, "{:?}", fake.ops());
    for call in &calls {
        assert!(!call.by_runner);
        assert_eq!(call.caller_arn.as_deref(), Some(CALLER));
        // Console-style and unguessable: no policy of the case holds a `?` that could tell
        // the console's four characters from more.
        let target = call.param("UserName").unwrap();
        assert!(
            target.starts_with("BedrockAPIKey-") && target.len() == 34,
            "{target}"
        );
        assert_eq!(call.param("CredentialAgeDays"), Some("91"));
    }
    assert_eq!(got.decision, Some(DecisionKind::ImplicitDeny));
    assert_eq!(got.by, Some(PolicyType::Identity));
    assert_eq!(got.code.as_deref(), Some("AccessDenied"));
    assert_eq!(got.status, Some(403));
    assert_eq!(
        got.message.as_deref(),
        Some("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user BedrockAPIKey-h42z because no identity-based policy allows the iam:CreateServiceSpecificCredential action")
    );
    let body = got.body.as_deref().unwrap();
    assert!(
        body.contains(&format!("<RequestId>{ZERO_ID}</RequestId>")),
        "{body}"
    );
    assert_clean(&got);
    assert_eq!(got.side_effects, Some(vec![]));
    assert_eq!(
        Some(&got),
        r.local.as_ref(),
        "the local evaluator predicts exactly this"
    );
    assert_eq!(r.status, Status::Agreed);
    assert_all_deleted(&fake);
}

#[tokio::test]
async fn an_inactive_long_term_key_fails_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let c = keyward::live::probe::probe_case("B-AUTH-FAILED-MESSAGE").unwrap();
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    let got = r.aws.clone().expect("an answer");
    let updates = fake.of("UpdateServiceSpecificCredential");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].param("Status"), Some("Inactive"));
    assert_eq!(got.decision, None, "no authorization happened");
    assert_eq!(got.message, None);
    assert_eq!(got.status, Some(403));
    assert_eq!(
        got.body,
        Some(json!({ "Message": AUTH_FAILED }).to_string())
    );
    assert_clean(&got);
    assert_eq!(r.status, Status::Agreed, "{r:?}");
    assert_all_deleted(&fake);
}

// ---------------------------------------------------------------------------------------------
// 6. Eventual consistency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_answer_recorded_is_the_one_seen_three_times_in_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    // Just after the role is made, the call is denied; then the new policy is in effect.
    fake.hook(move |r, w| {
        if r.op != "Converse" || seen.fetch_add(1, Ordering::SeqCst) > 0 {
            return None;
        }
        assert_eq!(r.caller_arn.as_deref(), Some(LIVE_ALICE_0));
        Some(bedrock_error(
            w,
            403,
            "AccessDeniedException",
            AWS_IMPLICIT_DENY_ALICE_0,
        ))
    });
    let aws = verified(&fake, dir.path()).await;
    let c = documented("identity-deny-long-term/short-term-call-allowed");
    let report = run_cases(&aws, &literal_run(), None, None, &[c], &opts()).await;
    let r = only(&report);
    let got = r.aws.clone().expect("an answer");
    assert_eq!(fake.count("Converse"), 4, "403, 200, 200, 200");
    assert_eq!(got.status, Some(200));
    assert_eq!(got.decision, Some(DecisionKind::Allow));
    assert_eq!(r.status, Status::Agreed);
    assert_all_deleted(&fake);
}

// ---------------------------------------------------------------------------------------------
// 7. Bearer tokens: how they are sent, and that they are never stored or printed
// ---------------------------------------------------------------------------------------------

#[test]
fn model_calls_carry_only_the_bearer_key_which_is_never_stored_or_printed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let short = short_term_call("t/short", ROLE_ALICE, allow_all());
    let long = long_term_call("t/long", allow_all());
    let fx = write_fixtures(dir.path(), &[&short, &long]);
    let fake = Fake::new(SANDBOX);
    // A hostile answer that quotes the key back: it must be redacted before it is stored.
    fake.hook(|r, w| {
        if r.op != "Converse" {
            return None;
        }
        let token = r
            .header("authorization")?
            .strip_prefix("Bearer ")?
            .to_string();
        Some(bedrock_error(
            w,
            400,
            "ValidationException",
            &format!("The API key {token} is not accepted here."),
        ))
    });
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(
        code, 1,
        "the hostile answers disagree with the local allow: {out}{err}"
    );

    let calls = fake.of("Converse");
    assert_eq!(
        calls.len(),
        6,
        "two cases, each asked until three answers in a row agree"
    );
    let mut tokens = Vec::new();
    for c in &calls {
        let auth = c.header("authorization").expect("an authorization header");
        let token = auth
            .strip_prefix("Bearer ")
            .expect("a bearer key")
            .to_string();
        assert!(!auth.contains("AWS4-HMAC-SHA256"), "{auth}");
        assert!(
            c.header("x-amz-security-token").is_none(),
            "{:?}",
            c.headers
        );
        assert!(
            !c.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-amz-content-sha256")),
            "no SigV4 signing: {:?}",
            c.headers
        );
        assert!(
            c.uri.contains("/model/us.amazon.nova-micro-v1"),
            "{}",
            c.uri
        );
        tokens.push(token);
    }
    let (sessions, held, issued) =
        fake.world(|w| (w.sessions.clone(), w.creds.len(), w.issued.clone()));
    assert_eq!(held, 0, "the long-term key was deleted");
    let short_tokens: Vec<&String> = tokens
        .iter()
        .filter(|t| t.starts_with("bedrock-api-key-"))
        .collect();
    let long_tokens: Vec<&String> = tokens.iter().filter(|t| t.starts_with("ABSK")).collect();
    assert_eq!(
        (short_tokens.len(), long_tokens.len()),
        (3, 3),
        "{tokens:?}"
    );
    // The short-term key was signed by the session STS handed out for the case role (its
    // access key id and session token), for the call's region.
    for t in &short_tokens {
        let t = ShortTermToken::parse(t).expect("a well-formed short-term key");
        let (role, session, token) = sessions
            .get(t.access_key_id())
            .unwrap_or_else(|| panic!("not an STS session key: {}", t.access_key_id()));
        assert!(
            role.ends_with("-dev") && session == "alice",
            "{role} {session}"
        );
        assert_eq!(t.expose_session_token(), Some(token.as_str()));
        assert_eq!(t.region(), "us-east-1");
    }
    // The long-term key is the ServiceCredentialSecret IAM answered.
    assert_eq!(issued.len(), 1);
    assert!(long_tokens.iter().all(|t| **t == issued[0]));

    let journal_texts: Vec<String> = journals(&dir.path().join("state"))
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(journal_texts.len(), 1);
    let journal_text = &journal_texts[0];
    assert!(
        journal_text.contains("<redacted>"),
        "the quoted keys were redacted: {journal_text}"
    );
    for t in &tokens {
        // Any long-enough piece of a key would do; the base64 part is checked whole.
        let secret_part = t
            .trim_start_matches("bedrock-api-key-")
            .trim_start_matches("ABSK");
        for (what, text) in [
            ("journal", journal_text),
            ("stdout", &out),
            ("stderr", &err),
        ] {
            assert!(
                !text.contains(secret_part),
                "a key is in the {what}: {text}"
            );
        }
    }
    for (akid, (_, _, token)) in &sessions {
        for text in [journal_text, &out, &err] {
            assert!(!text.contains(akid.as_str()) && !text.contains(token.as_str()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Cleanup and the call cap
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn everything_created_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let with_boundary = json!({
        "identity": [
            doc(json!([{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}])),
            doc(json!([{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}]))
        ],
        "permissions_boundary": doc(json!([{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]))
    });
    let cases = [
        short_term_call("t/role-boundary", ROLE_ALICE, with_boundary.clone()),
        short_term_call(
            "t/user",
            "arn:aws:iam::123456789012:user/bob",
            with_boundary,
        ),
        long_term_call("t/long", allow_all()),
    ];
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    for c in &report.cases {
        assert_eq!(c.status, Status::Agreed, "{c:?}");
    }
    assert!(
        report.cleanup_failures.is_empty(),
        "{:?}",
        report.cleanup_failures
    );
    let ops = fake.ops();
    for op in [
        "CreatePolicy",
        "PutRolePermissionsBoundary",
        "PutUserPermissionsBoundary",
        "CreateAccessKey",
        "CreateServiceSpecificCredential",
        "DeleteRolePolicy",
        "DeleteUserPolicy",
        "DeleteAccessKey",
        "DeleteServiceSpecificCredential",
        "DeleteRole",
        "DeleteUser",
        "DeletePolicy",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op} not seen: {ops:?}");
    }
    assert_eq!(fake.count("DeleteRolePolicy"), 2);
    assert_eq!(fake.count("DeletePolicy"), 2, "both boundaries");
    assert_all_deleted(&fake);
    // The case role trusts the sandbox account (the runner assumes it by its own policy).
    let trust: Value = serde_json::from_str(
        fake.of("CreateRole")[0]
            .param("AssumeRolePolicyDocument")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{SANDBOX}:root")
    );
    // Every resource carries the run's tag.
    for op in ["CreateRole", "CreateUser", "CreatePolicy"] {
        for r in fake.of(op) {
            assert_eq!(r.param("Tags.member.1.Key"), Some("keyward:run"), "{op}");
        }
    }
    // Every mutating IAM call was the runner's (the case principals only make the model call).
    for r in fake.requests() {
        if r.service == "iam" {
            assert!(r.by_runner, "{} by {:?}", r.op, r.caller_arn);
        }
    }
}

#[test]
fn the_call_cap_stops_the_run_and_it_still_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let with_boundary = json!({
        "identity": [doc(json!([{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]))],
        "permissions_boundary": doc(json!([{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]))
    });
    let a = short_term_call("t/capped", ROLE_ALICE, with_boundary);
    let fx = write_fixtures(dir.path(), &[&a]);
    let fake = Fake::new(SANDBOX);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let mut a = args(&cfg);
    // CreateRole, PutRolePolicy, CreatePolicy; PutRolePermissionsBoundary is refused.
    a.max_calls = Some(3);
    a.concurrency = Some(1);
    let (code, out, err) = run_cmd(check(a, &fx, 0), setup);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("cap"), "{out}");
    assert!(out.contains("stopped early"), "{out}");
    assert_eq!(
        fake.count("PutRolePermissionsBoundary"),
        0,
        "{:?}",
        fake.ops()
    );
    assert_eq!(fake.count("Converse"), 0);
    assert_all_deleted(&fake);
    // The journal agrees: nothing is pending.
    let js = journals(&dir.path().join("state"));
    assert_eq!(js.len(), 1);
    let st = journal::read(&js[0].0).unwrap();
    assert!(st.pending.is_empty(), "{:?}", st.pending);
    assert_eq!(st.finished.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 9. Dry run
// ---------------------------------------------------------------------------------------------

#[test]
fn a_dry_run_prints_the_plan_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // No sandbox account anywhere: a dry run needs none.
    let cfg = write_config(dir.path(), None);
    let a = short_term_call("t/short", ROLE_ALICE, allow_all());
    let b = sim_case("sim/allowed", "bedrock:InvokeModel", R1);
    let fx = write_fixtures(dir.path(), &[&a, &b]);
    let fake = Fake::new(SANDBOX);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let mut args = args(&cfg);
    args.dry_run = true;
    let (code, out, err) = run_cmd(check(args, &fx, 2), setup);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing is sent to AWS"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("plan: ")), "{out}");
    // Each case, then its steps, one a line, first to last.
    assert!(
        out.contains("case t/short:\n  iam:CreateRole role "),
        "{out}"
    );
    assert!(
        out.contains("case sim/allowed:\n  iam:SimulateCustomPolicy bedrock:InvokeModel on "),
        "{out}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.ops());
    assert!(
        !dir.path().join("state").exists(),
        "no journal for a dry run"
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Sweep
// ---------------------------------------------------------------------------------------------

#[test]
fn sweep_deletes_what_a_crashed_run_left_and_nothing_else() {
    use keyward::live::journal::{Journal, Resource};
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let state = dir.path().join("state");
    let run = RunId::parse("crash001").unwrap();
    let role = "keyward-crash001-0-k-dev";
    let boundary = format!("arn:aws:iam::{SANDBOX}:policy/keyward-crash001-b-{role}");
    let console_user = "BedrockAPIKey-zz99";
    // The journal of a run that crashed mid-case.
    let j = Journal::open(&state, &run).unwrap();
    j.created(&Resource::Role(role.into())).unwrap();
    j.created(&Resource::Policy(boundary.clone())).unwrap();
    j.created(&Resource::User(console_user.into())).unwrap();
    j.created(&Resource::User("keyward-crash001-2-u-gone".into()))
        .unwrap();
    j.deleted(&Resource::User("keyward-crash001-2-u-gone".into()))
        .unwrap();
    drop(j);
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| {
        let tag = |v: &str| vec![("keyward:run".to_string(), v.to_string())];
        w.roles.insert(
            role.into(),
            Principal {
                inline: ["p0".to_string()].into(),
                boundary: Some(boundary.clone()),
                tags: tag("crash001"),
                ..Principal::default()
            },
        );
        w.policies.insert(boundary.clone());
        w.policy_tags.insert(boundary.clone(), tag("crash001"));
        // Made by the case principal (console flow), tagged by the runner, holding a key and a
        // policy.
        w.users.insert(
            console_user.into(),
            Principal {
                attached: ["arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess".to_string()].into(),
                tags: tag("crash001"),
                ..Principal::default()
            },
        );
        w.creds.push(ServiceCred {
            id: "ACCAEXAMPLECRED0001".into(),
            user: console_user.into(),
            service: "bedrock.amazonaws.com".into(),
            secret: "ABSKQmVkcm9ja0FQSUtleS16ejk5LWF0LTExMTEyMjIyMzMzMzpmYWtl".into(),
            active: true,
            seq: 1,
        });
        // Lost from the journal, but named and tagged as the run's.
        w.roles.insert(
            "keyward-crash001-1-k-ops".into(),
            Principal {
                tags: tag("crash001"),
                ..Principal::default()
            },
        );
        // Named like ours but untagged; another run's; not ours at all: all kept.
        w.roles
            .insert("keyward-handmade".into(), Principal::default());
        w.users.insert(
            "keyward-zzzz9999-0-u-bob".into(),
            Principal {
                tags: tag("zzzz9999"),
                ..Principal::default()
            },
        );
        w.users.insert(
            "alice".into(),
            Principal {
                tags: tag("crash001"),
                ..Principal::default()
            },
        );
    });
    let sweep = |dry_run: bool| LiveCommand::Sweep {
        args: LiveArgs {
            dry_run,
            ..args(&cfg)
        },
        run: Some("crash001".into()),
    };
    let setup = || Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };

    let (code, out, err) = run_cmd(sweep(true), setup());
    assert_eq!(code, 0, "{out}{err}");
    // The output names what to delete, but not the sandbox account (CI keeps it as an artifact).
    assert!(!out.contains(SANDBOX), "{out}");
    let shown_boundary = boundary.replace(SANDBOX, CASE_ACCOUNT);
    for r in [
        format!("would delete role {role}"),
        format!("would delete policy {shown_boundary}"),
        format!("would delete user {console_user}"),
        "would delete role keyward-crash001-1-k-ops".to_string(),
        "4 resources would be deleted".to_string(),
    ] {
        assert!(out.contains(&r), "{r}: {out}");
    }
    assert!(
        !fake.ops().iter().any(|o| o.starts_with("Delete")),
        "{:?}",
        fake.ops()
    );

    let (code, out, err) = run_cmd(sweep(false), setup());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 deleted, 0 not deleted"), "{out}");
    assert!(
        out.contains(&format!("deleted policy {shown_boundary}")),
        "{out}"
    );
    assert!(!out.contains(SANDBOX), "{out}");
    fake.world(|w| {
        assert_eq!(
            w.roles.keys().collect::<Vec<_>>(),
            ["keyward-handmade"],
            "{w:?}"
        );
        assert_eq!(
            w.users.keys().collect::<Vec<_>>(),
            ["alice", "keyward-zzzz9999-0-u-bob"]
        );
        assert!(w.policies.is_empty() && w.creds.is_empty());
    });
    let st = journal::read(&journal::runs_dir(&state).join("crash001.jsonl")).unwrap();
    assert!(st.pending.is_empty(), "{:?}", st.pending);
}

// ---------------------------------------------------------------------------------------------
// 11. Resuming a run, and `check --live` / `record` writing what they found
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_resumed_run_does_not_ask_aws_again_for_finished_cases() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    paged_simulator(&fake, 100);
    let aws = verified(&fake, dir.path()).await;
    let cases = [
        sim_case("sim/allowed", "bedrock:InvokeModel", R1),
        sim_case("sim/implicit", "bedrock:CountTokens", R2),
    ];
    let run = RunId::parse("resume01").unwrap();
    let j = Arc::new(journal::Journal::open(dir.path(), &run).unwrap());
    let first = run_cases(&aws, &run, Some(j.clone()), None, &cases, &opts()).await;
    assert_eq!(fake.count("SimulateCustomPolicy"), 1);
    // The journal holds each finished case, so a resumed run answers from it.
    let state = journal::read(j.path()).unwrap();
    assert_eq!(state.finished.len(), 2);
    let again = run_cases(&aws, &run, Some(j), Some(&state), &cases, &opts()).await;
    assert_eq!(fake.count("SimulateCustomPolicy"), 1, "{:?}", fake.ops());
    let statuses = |r: &LiveReport| {
        r.cases
            .iter()
            .map(|c| (c.case.id.clone(), c.status.clone(), c.aws.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&first), statuses(&again));
    // A journal entry for another case at the same index is not trusted.
    let other = [
        sim_case("sim/other", "bedrock:InvokeModel", R1),
        cases[1].clone(),
    ];
    let third = run_cases(&aws, &run, None, Some(&state), &other, &opts()).await;
    assert_eq!(fake.count("SimulateCustomPolicy"), 2);
    assert_eq!(third.cases.len(), 2);
}

#[test]
fn check_live_reports_every_case_and_its_closing_line_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    paged_simulator(&fake, 100);
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let a = sim_case("sim/allowed", "bedrock:InvokeModel", R1);
    let b = sim_case("sim/identity-deny", "bedrock:InvokeModel", R2);
    let fx = write_fixtures(dir.path(), &[&a, &b]);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.lines().last(), Some("2 passed, 0 failed"), "{out}");
    // The run id printed on standard error names the journal, which has both cases.
    let run = err.split_whitespace().nth(1).unwrap().to_string();
    assert!(RunId::parse(&run).is_some(), "{err}");
    let text = std::fs::read_to_string(dir.path().join(format!("state/runs/{run}.jsonl"))).unwrap();
    assert!(
        text.contains("sim/allowed") && text.contains("sim/identity-deny"),
        "{text}"
    );
    // Resuming it sends nothing but the account check.
    let fake2 = Fake::new(SANDBOX);
    let setup = Setup {
        sdk: Some(fake2.sdk()),
        ..no_env()
    };
    let cmd = LiveCommand::Check {
        args: args(&cfg),
        fixtures: fx.clone(),
        cases: 0,
        seed: 7,
        resume: Some(run),
        json: false,
        junit: None,
    };
    let (code, out, _) = run_cmd(cmd, setup);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().last(), Some("2 passed, 0 failed"));
    assert_eq!(fake2.ops(), ["GetCallerIdentity"]);
}

/// The authorization requests among the generated cases `record` runs with seed 7 and
/// `cases: 18` that the simulator answers (the others are key scenarios, which this test's fake
/// refuses to set up, or cases a sandbox cannot run, which are skipped). The generator draws
/// them, not this test: a generator that draws others fails the test, whose table must then be
/// worked out again. Each decision is worked out here by hand from the case's policies:
///
/// * case 5: `bedrock-mantle:CallWithBearerToken` by `dev/alice`. The one statement allows with
///   `NotAction: "*"`, which covers no action: nothing allows it, an implicit deny.
/// * case 15: `bedrock:Converse` on `arn:aws:iam::123456789012:user/alice` by user alice. The
///   first policy's S1 denies `bedrock:Converse` on `user/*` without a condition: an explicit
///   deny.
/// * case 17: `bedrock:CallWithBearerToken` on `*` by user alice. The first policy allows
///   `bedrock:*` on `*` without a condition, and no statement denies: allowed.
const RECORD_SEED_7: &[(&str, &str)] = &[
    ("generated/live/seed-7-case-5", "implicit_deny by identity"),
    ("generated/live/seed-7-case-15", "explicit_deny by identity"),
    ("generated/live/seed-7-case-17", "allow"),
];

#[test]
fn record_writes_agreements_as_recorded_fixtures_and_sets_disagreements_aside() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // A simulator that denies everything implicitly: of RECORD_SEED_7, case 5 agrees and
    // cases 15 and 17 do not.
    fake.hook(|r, w| {
        (r.op == "SimulateCustomPolicy").then(|| {
            let id = w.uuid();
            let all: Vec<_> = sim_pairs(r)
                .into_iter()
                .map(|(a, res)| (a, res, "implicitDeny", None).into())
                .collect::<Vec<SimResult>>();
            simulate_answer(&all, None, &id)
        })
    });
    // The key scenarios cannot be set up: every principal the runner would create fails.
    fake.hook(|r, w| {
        (r.by_runner && matches!(r.op.as_str(), "CreateRole" | "CreateUser")).then(|| {
            iam_error(
                w,
                500,
                "ServiceFailure",
                "Request processing has failed due to an unknown error, exception or failure.",
            )
        })
    });
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let fx = write_fixtures(dir.path(), &[]);
    let out_dir = dir.path().join("recorded");
    let cmd = LiveCommand::Record {
        args: args(&cfg),
        fixtures: fx,
        out: out_dir.clone(),
        cases: 18,
        seed: 7,
        resume: None,
        probe_assumptions: false,
        shrink_attempts: 0,
    };
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(cmd, setup);
    assert_eq!(
        code, 1,
        "disagreements and failures fail the run: {out}\n{err}"
    );
    // The simulator is asked about exactly the three requests.
    let asked: Vec<String> = fake
        .of("SimulateCustomPolicy")
        .iter()
        .flat_map(|r| r.members("ActionNames"))
        .collect();
    let mut asked = asked;
    asked.sort();
    assert_eq!(
        asked,
        [
            "bedrock-mantle:CallWithBearerToken",
            "bedrock:CallWithBearerToken",
            "bedrock:Converse"
        ],
        "{:?}",
        fake.ops()
    );
    let want = |agrees: bool| -> Vec<&str> {
        RECORD_SEED_7
            .iter()
            .filter(|(_, d)| (*d == "implicit_deny by identity") == agrees)
            .map(|(id, _)| *id)
            .collect()
    };
    // The agreements, and only they, are recorded fixtures, which read back and pass.
    let recorded: Vec<Value> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .flat_map(|e| {
            serde_json::from_str::<Vec<Value>>(&std::fs::read_to_string(e.path()).unwrap()).unwrap()
        })
        .collect();
    let ids: Vec<&str> = recorded.iter().filter_map(|v| v["id"].as_str()).collect();
    assert_eq!(ids, want(true), "{out}");
    for v in &recorded {
        assert_eq!(v["provenance"], "recorded");
        assert!(v["source"].as_str().unwrap().contains("aws-sdk-iam"), "{v}");
        assert_eq!(v["expect"]["decision"], "implicit_deny", "{v}");
        let c = Case::from_json(v).unwrap();
        assert_eq!(c.verdict().agrees, Some(true), "{v}");
    }
    // The disagreements are set aside with AWS's answer, each with its minimal case.
    let disagree: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("DISAGREE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(disagree, want(false), "{out}");
    for (id, local) in RECORD_SEED_7
        .iter()
        .filter(|(_, d)| *d != "implicit_deny by identity")
    {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("DISAGREE {id} ")))
            .unwrap();
        assert_eq!(
            line,
            format!("DISAGREE {id} (generated, answered by simulator): expected implicit_deny by identity, got {local}")
        );
    }
    let runs = dir.path().join("state/runs");
    let f = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with("-disagreements.json")
        })
        .unwrap_or_else(|| panic!("no disagreements file: {out}"));
    let v: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
    let set_aside: Vec<&str> = v.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(set_aside, want(false));
    assert_eq!(out.matches("minimal disagreeing case").count(), 2, "{out}");
    // Every other case that ran is a key scenario (an even index) that failed to set up.
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("FAILED ")).collect();
    assert!(!failed.is_empty(), "{out}");
    for l in &failed {
        let n: u64 = l["FAILED generated/live/seed-7-case-".len()..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{l}"));
        assert!(n.is_multiple_of(2), "{l}");
        assert!(
            l.contains("iam:CreateRole failed") || l.contains("iam:CreateUser failed"),
            "{l}"
        );
    }
    assert_eq!(
        out.lines().last(),
        Some(format!("1 passed, {} failed", 2 + failed.len()).as_str()),
        "{out}"
    );
}

#[tokio::test]
async fn a_role_that_is_not_assumable_yet_is_retried_until_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    // IAM's eventual consistency as AWS shows it: a just-created role answers AccessDenied.
    let refusals = Arc::new(AtomicUsize::new(2));
    let left = refusals.clone();
    fake.hook(move |r, w| {
        (r.op == "AssumeRole" && left.fetch_sub(1, Ordering::SeqCst) > 0).then(|| {
            let id = w.uuid();
            query_error(STS_NS, 403, "AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/KeywardRunner/ci is not authorized to perform: sts:AssumeRole", &id)
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let c = short_term_call("assume/retried", ROLE_ALICE, allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    assert_eq!(r.status, Status::Agreed, "{r:?}");
    assert_eq!(fake.count("AssumeRole"), 3, "{:?}", fake.ops());
    // With no waits left, the refusal is the case's failure, and cleanup still runs.
    let fake = Fake::new(SANDBOX);
    fake.hook(|r, w| {
        (r.op == "AssumeRole").then(|| {
            let id = w.uuid();
            query_error(
                STS_NS,
                403,
                "AccessDenied",
                "not authorized to perform: sts:AssumeRole",
                &id,
            )
        })
    });
    let aws = verified(&fake, dir.path()).await;
    let c = short_term_call("assume/never", ROLE_ALICE, allow_all());
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let r = only(&report);
    assert!(
        matches!(&r.status, Status::Failed(why) if why.contains("sts:AssumeRole")),
        "{r:?}"
    );
    assert_eq!(
        fake.count("AssumeRole"),
        4,
        "one try and three waits of Settle::immediate"
    );
    assert_eq!(fake.count("Converse"), 0);
    assert_all_deleted(&fake);
}

#[test]
fn an_interrupted_run_deletes_what_it_created_and_can_be_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let c = short_term_call("interrupt/call", ROLE_ALICE, allow_all());
    let fx = write_fixtures(dir.path(), &[&c]);
    // The interruption (Ctrl-C for the CLI) comes once the case has made its role and waits
    // for IAM to settle.
    let watch = fake.clone();
    let setup = Setup {
        sdk: Some(fake.sdk()),
        settle: Some(Settle {
            settle: Duration::from_secs(60),
            ..Settle::immediate()
        }),
        interrupt: Some(Box::pin(async move {
            while watch.count("AssumeRole") == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 130, "{out}\n{err}");
    assert!(
        err.contains("interrupted") && err.contains("resume with --resume"),
        "{err}"
    );
    assert_eq!(fake.count("Converse"), 0);
    assert!(fake.count("DeleteRole") >= 1, "{:?}", fake.ops());
    assert_all_deleted(&fake);
    let (_, text) = journals(&dir.path().join("state")).pop().unwrap();
    let st = journal::read(
        &journal::runs_dir(&dir.path().join("state"))
            .join(format!("{}.jsonl", err.split_whitespace().nth(1).unwrap())),
    )
    .unwrap();
    assert!(st.pending.is_empty(), "{text}");
    assert!(
        st.finished.is_empty(),
        "the interrupted case is not finished: {text}"
    );
}

/// The probes run in the register's order, each a case of its own index (so its live role is
/// `keyward-<run>-<index>-<tag>-dev`): B-AGEDAYS-ABSENT's probe 0, B-BEARER-TYPE-ONLY-FIRST's 1,
/// the one fixture given (B-CALL-ORDER's and B-DENY-STATUS-403's) 2, B-CRIS-DESTINATIONS' 3,
/// B-AUTH-FAILED-MESSAGE's 4, B-IAM-RESOURCE-FORM's 5, B-IAM-REGION's 6,
/// B-AGE-VALIDATION-MESSAGE's 7, B-NOT-SUPPORTED-MESSAGE's 8, B-LIMIT-MESSAGE's 9.
///
/// The fake answers some of them in AWS's words as the assumption says AWS does, so they hold;
/// it leaves two to its own behaviour, which contradicts the assumption, so they fail: it
/// allows every model call it has no hook for (B-BEARER-TYPE-ONLY-FIRST's probe expects the
/// model action refused), and words the quota as `ServiceSpecificCredentialsPerUserPerService`
/// (B-LIMIT-MESSAGE's model says `ServiceSpecificCredentialsPerUser`). Assumptions with no probe
/// and no fixture among those given are untested.
const PROBE_FINDINGS: &[(&str, &str, usize)] = &[
    ("B-AGEDAYS-ABSENT", "holds", 1),
    ("B-BEARER-TYPE-ONLY-FIRST", "FAILS", 1),
    // Its probe case: the fixture's denial is the same whichever request is authorized first, so
    // it does not rest on the call order and does not probe it.
    ("B-CALL-ORDER", "holds", 1),
    ("B-CRIS-DESTINATIONS", "holds", 1),
    ("B-DENY-STATUS-403", "holds", 1),
    ("B-AUTH-FAILED-MESSAGE", "holds", 1),
    ("B-EXPIRED-MESSAGE", "untested", 0),
    ("B-MANTLE-AUTH-401", "untested", 0),
    ("B-MANTLE-ENVELOPE", "untested", 0),
    ("B-MANTLE-ONE-REQUEST", "untested", 0),
    ("B-IAM-RESOURCE-FORM", "holds", 1),
    ("B-IAM-REGION", "holds", 1),
    ("B-CREATE-ORDER", "untested", 0),
    ("B-CONSOLE-STEPS", "untested", 0),
    ("B-AGE-VALIDATION-MESSAGE", "holds", 1),
    ("B-NOT-SUPPORTED-MESSAGE", "holds", 1),
    ("B-LIMIT-MESSAGE", "FAILS", 1),
    ("B-CRIS-REQUESTED-REGION", "untested", 0),
];

/// Answers the probes of [`PROBE_FINDINGS`] that hold in AWS's words, literally; a live name the
/// run draws (its id is random) stands as `{CALLER}` or `{TARGET}` and is put in from the
/// request.
fn probe_answers(fake: &Fake) {
    fake.hook(|r, w| {
        let caller = r.caller_arn.clone()?;
        let of = |i: usize| caller.contains(&format!("-{i}-c-dev/")) || caller.contains(&format!("-{i}-k-dev/"));
        let say = |text: &str| text.replace("{CALLER}", &caller).replace("{TARGET}", r.param("UserName").unwrap_or_default());
        match (r.service, r.op.as_str()) {
            // B-CALL-ORDER's probe: the key's action, authorized first, is not allowed.
            ("bedrock", _) if of(2) => Some(bedrock_error(w, 403, "AccessDeniedException", &say(
                "User: {CALLER} is not authorized to perform: bedrock:CallWithBearerToken on resource: * because no identity-based policy allows the bedrock:CallWithBearerToken action",
            ))),
            // The fixture: the identity policy's explicit deny of the bearer-token action.
            ("bedrock", _) if of(4) => Some(bedrock_error(w, 403, "AccessDeniedException", &say(
                "User: {CALLER} is not authorized to perform: bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy",
            ))),
            ("iam", "CreateServiceSpecificCredential") if !r.by_runner => {
                if of(0) {
                    // No age key: the Null check matches and the Deny applies.
                    Some(iam_error(w, 403, "AccessDenied", &say(
                        "User: {CALLER} is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user {TARGET} with an explicit deny in an identity-based policy",
                    )))
                } else if of(6) {
                    Some(iam_error(w, 403, "AccessDenied", &say(
                        "User: {CALLER} is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user {TARGET} because no identity-based policy allows the iam:CreateServiceSpecificCredential action",
                    )))
                } else if of(8) {
                    Some(iam_error(w, 400, "ValidationError",
                        "1 validation error detected: Value '36601' at 'credentialAgeDays' failed to satisfy constraint: Member must have value less than or equal to 36600"))
                } else if of(9) {
                    Some(iam_error(w, 404, "NotSupportedService",
                        "The specified service does not support service-specific credentials."))
                } else {
                    None
                }
            }
            _ => None,
        }
    });
}

#[test]
fn probing_the_assumptions_reports_each_one() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    probe_answers(&fake);
    let cfg = write_config(dir.path(), Some(SANDBOX));
    // One shipped fixture an assumption names, beside the probes built for the others.
    let fixture = documented("identity-deny-short-term/short-term-call-denied");
    let fx = write_fixtures(dir.path(), &[&fixture]);
    let mut cmd = record(args(&cfg), &fx, &dir.path().join("out"));
    if let LiveCommand::Record {
        probe_assumptions, ..
    } = &mut cmd
    {
        *probe_assumptions = true;
    }
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(cmd, setup);
    assert_eq!(code, 1, "two probes disagree: {out}\n{err}");
    let section: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "assumptions:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    let want: Vec<String> = PROBE_FINDINGS
        .iter()
        .map(|(id, finding, n)| format!("  {id}: {finding} ({n} probes)"))
        .collect();
    assert_eq!(section, want, "{out}\n{err}");
    assert_eq!(
        PROBE_FINDINGS.len(),
        keyward_bedrock::ASSUMPTIONS.len(),
        "every registered assumption is reported"
    );
    // The disagreements are the two probes the fake contradicts, and nothing else.
    let disagree: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("DISAGREE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(
        disagree,
        ["probe/B-BEARER-TYPE-ONLY-FIRST", "probe/B-LIMIT-MESSAGE"],
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("9 passed, 2 failed"), "{out}");
    // The probes sent real requests to the fake and cleaned up after themselves.
    assert!(
        fake.count("CreateServiceSpecificCredential") > 0,
        "{:?}",
        fake.ops()
    );
    assert!(fake.count("Converse") > 0);
    assert_all_deleted(&fake);
}

// ---------------------------------------------------------------------------------------------
// 12. Never touching what the run did not create
// ---------------------------------------------------------------------------------------------

/// Another account than the sandbox of the tests.
const OTHER_ACCOUNT: &str = "444455556666";

/// A config for `account` whose state directory is `state`.
fn config_with_state(dir: &Path, account: &str, state: &Path) -> PathBuf {
    let f = dir.join(format!("keyward-{account}.toml"));
    let text = format!(
        "[live]\nstate_dir = {:?}\nsandbox_account = \"{account}\"\n",
        state.display().to_string()
    );
    std::fs::write(&f, text).unwrap();
    f
}

/// The run id a command printed first on stderr (`run <id> in account ...`).
fn run_id_of(err: &str) -> String {
    err.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn a_journal_of_another_account_is_neither_swept_nor_resumed_there() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let cfg = config_with_state(dir.path(), SANDBOX, &state);
    let c = short_term_call("t/left", ROLE_ALICE, allow_all());
    let fx = write_fixtures(dir.path(), &[&c]);
    // A run in the sandbox whose role cannot be deleted: the journal keeps it pending.
    let fake = Fake::new(SANDBOX);
    service_failure(&fake, "DeleteRole");
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 1, "{out}{err}");
    let run = run_id_of(&err);
    let path = journal::runs_dir(&state).join(format!("{run}.jsonl"));
    let pending = journal::read(&path).unwrap().pending;
    let role = match &pending[..] {
        [journal::Resource::Role(r)] => r.clone(),
        other => panic!("{other:?}"),
    };
    // The journal says which account the run was in.
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains(&format!("\"account\":\"{SANDBOX}\"")));

    // The same state directory, credentials of another account holding a role of that name.
    let other = Fake::new(OTHER_ACCOUNT);
    other.world_mut(|w| {
        w.roles.insert(
            role.clone(),
            Principal {
                inline: ["theirs".to_string()].into(),
                ..Principal::default()
            },
        );
    });
    let other_cfg = config_with_state(dir.path(), OTHER_ACCOUNT, &state);
    let setup = || Setup {
        sdk: Some(other.sdk()),
        ..no_env()
    };
    let sweep = LiveCommand::Sweep {
        args: args(&other_cfg),
        run: Some(run.clone()),
    };
    let (code, out, err) = run_cmd(sweep, setup());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(SANDBOX) && err.contains(OTHER_ACCOUNT) && err.contains(&run),
        "{err}"
    );
    // A sweep of every journal leaves that one alone too.
    let sweep_all = LiveCommand::Sweep {
        args: args(&other_cfg),
        run: None,
    };
    let (code, out, err) = run_cmd(sweep_all, setup());
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(&run), "the skipped journal is named: {err}");
    let mut resume = check(args(&other_cfg), &fx, 0);
    if let LiveCommand::Check { resume: r, .. } = &mut resume {
        *r = Some(run.clone());
    }
    let (code, out, err) = run_cmd(resume, setup());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(SANDBOX) && err.contains(OTHER_ACCOUNT),
        "{err}"
    );
    other.world(|w| assert!(w.roles.contains_key(&role), "{w:?}"));
    assert!(
        !other
            .ops()
            .iter()
            .any(|o| o.starts_with("Delete") || o.starts_with("Create")),
        "{:?}",
        other.ops()
    );
    assert_eq!(journal::read(&path).unwrap().pending.len(), 1);
}

#[test]
fn failure_reasons_are_redacted_in_the_journal_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let c = short_term_call("t/denied-setup", ROLE_ALICE, allow_all());
    let fx = write_fixtures(dir.path(), &[&c]);
    let fake = Fake::new(SANDBOX);
    // The runner may not put the policy: IAM's AccessDenied names the runner and the role. The
    // role's name holds the run's id, which `check` draws itself: it is the one part of the
    // literal text put in from the request.
    fake.hook(|r, w| {
        (r.op == "PutRolePolicy").then(|| {
            let role = r.param("RoleName").unwrap_or_default();
            let msg = "User: arn:aws:sts::111122223333:assumed-role/KeywardRunner/ci is not authorized to perform: iam:PutRolePolicy on resource: arn:aws:iam::111122223333:role/{ROLE} because no identity-based policy allows the iam:PutRolePolicy action"
                .replace("{ROLE}", role);
            iam_error(w, 403, "AccessDenied", &msg)
        })
    });
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 1, "{out}{err}");
    let failed = out
        .lines()
        .find(|l| l.starts_with("FAILED t/denied-setup"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(failed.contains("iam:PutRolePolicy"), "{failed}");
    let (_, text) = journals(&dir.path().join("state")).pop().unwrap();
    let reasons: Vec<&str> = text.lines().filter(|l| l.contains("\"failed\"")).collect();
    assert!(!reasons.is_empty(), "{text}");
    for t in reasons.iter().copied().chain([failed]) {
        assert!(!t.contains(SANDBOX), "the account leaked: {t}");
        assert!(!t.contains("keyward-"), "a live name leaked: {t}");
        assert!(t.contains(CASE_ACCOUNT), "{t}");
    }
}

#[test]
fn sweep_is_not_stopped_by_the_call_cap() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| {
        for i in 0..3 {
            w.roles.insert(
                format!("keyward-capped01-{i}-k-dev"),
                Principal {
                    inline: ["p0".to_string()].into(),
                    tags: vec![("keyward:run".into(), "capped01".into())],
                    ..Principal::default()
                },
            );
        }
    });
    let mut a = args(&cfg);
    a.max_calls = Some(1);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(LiveCommand::Sweep { args: a, run: None }, setup);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 deleted, 0 not deleted"), "{out}");
    fake.world(|w| assert!(w.roles.is_empty(), "{w:?}"));
}

/// The live name the plan gives the first principal of case `index` of `run`.
fn live_principal(c: &Case, run: &RunId, index: u64) -> String {
    let ctx = PlanContext {
        run: run.clone(),
        index,
        account: SANDBOX.into(),
        model: keyward::live::config::DEFAULT_MODEL.into(),
        now: 1_750_000_000,
    };
    let r = plan(c, &ctx).expect("runs live").plan.resources();
    r[0].split_once(' ').unwrap().1.to_string()
}

#[tokio::test]
async fn a_principal_name_that_already_exists_is_neither_journaled_nor_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let run = RunId::parse("exists01").unwrap();
    let cases = [
        short_term_call("t/role-exists", ROLE_ALICE, allow_all()),
        short_term_call(
            "t/user-exists",
            "arn:aws:iam::123456789012:user/bob",
            allow_all(),
        ),
    ];
    let role = live_principal(&cases[0], &run, 0);
    let user = live_principal(&cases[1], &run, 1);
    // Someone else's role and user hold those names, with policies and keys of their own.
    fake.world_mut(|w| {
        let theirs = || Principal {
            inline: ["theirs".to_string()].into(),
            attached: ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            ..Principal::default()
        };
        w.roles.insert(role.clone(), theirs());
        w.users.insert(user.clone(), theirs());
        w.access_keys
            .insert("AKIDTHEIRS".into(), (user.clone(), "s".into()));
        w.creds.push(ServiceCred {
            id: "ACCATHEIRS".into(),
            user: user.clone(),
            service: "bedrock.amazonaws.com".into(),
            secret: "x".into(),
            active: true,
            seq: 1,
        });
    });
    let j = Arc::new(journal::Journal::open(dir.path(), &run).unwrap());
    let report = run_cases(&aws, &run, Some(j.clone()), None, &cases, &opts()).await;
    for c in &report.cases {
        assert!(
            matches!(&c.status, Status::Failed(why) if why.contains("EntityAlreadyExists")),
            "{c:?}"
        );
    }
    assert_eq!(fake.count("CreateRole") + fake.count("CreateUser"), 2);
    for op in [
        "DeleteRole",
        "DeleteUser",
        "DeleteRolePolicy",
        "DeleteUserPolicy",
        "DetachRolePolicy",
        "DetachUserPolicy",
        "DeleteAccessKey",
        "DeleteServiceSpecificCredential",
    ] {
        assert_eq!(fake.count(op), 0, "{op}: {:?}", fake.ops());
    }
    fake.world(|w| {
        assert_eq!(w.roles[&role].inline.len(), 1);
        assert_eq!(w.users[&user].attached.len(), 1);
        assert_eq!((w.access_keys.len(), w.creds.len()), (1, 1));
    });
    // Nothing AWS did not create for the run is in its journal, so sweep cannot reach it.
    let text = std::fs::read_to_string(j.path()).unwrap();
    assert!(!text.contains(&role) && !text.contains(&user), "{text}");
}

/// A console-flow key creation: the case's role creates `BedrockAPIKey-h42z` and its key.
fn console_case(id: &str, user_pattern: &str) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": {"identity": [doc(json!([
            {"Effect": "Allow", "Action": "iam:*",
             "Resource": format!("arn:aws:iam::123456789012:user/{user_pattern}")}]))]},
        "scenario": {"create_key": {"caller": ROLE_ALICE, "user": "BedrockAPIKey-h42z",
            "service": "bedrock.amazonaws.com", "flow": "console"}}
    }))
}

#[tokio::test]
async fn a_console_user_that_already_exists_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // A real console user of the account happens to have the name the case's principal asks
    // for: IAM answers EntityAlreadyExists (409), as it does for any name in use.
    let taken = Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = taken.clone();
    fake.hook(move |r, w| {
        if r.op == "CreateUser" && !r.by_runner {
            let name = r.param("UserName")?.to_string();
            let mut t = seen.lock().unwrap();
            if t.is_none() {
                w.users.insert(
                    name.clone(),
                    Principal {
                        attached:
                            ["arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess".to_string()]
                                .into(),
                        ..Principal::default()
                    },
                );
                w.creds.push(ServiceCred {
                    id: "ACCATHEIRS".into(),
                    user: name.clone(),
                    service: "bedrock.amazonaws.com".into(),
                    secret: "x".into(),
                    active: true,
                    seq: 1,
                });
                *t = Some(name);
            }
        }
        None
    });
    let run = RunId::new();
    let j = Arc::new(journal::Journal::open(dir.path(), &run).unwrap());
    let c = console_case("t/console-taken", "BedrockAPIKey-*");
    let report = run_cases(&aws, &run, Some(j.clone()), None, &[c], &opts()).await;
    let name = taken.lock().unwrap().clone().expect("the console flow ran");
    assert!(fake.count("CreateUser") >= 1, "{:?} {report:?}", fake.ops());
    fake.world(|w| {
        let u = w
            .users
            .get(&name)
            .unwrap_or_else(|| panic!("{name} was deleted: {w:?}"));
        assert_eq!(u.attached.len(), 1);
        assert_eq!(w.creds.len(), 1, "{w:?}");
    });
    let text = std::fs::read_to_string(j.path()).unwrap();
    assert!(!text.contains(&name), "{text}");
}

#[test]
fn sweep_deletes_only_what_carries_the_run_tag() {
    use keyward::live::journal::{Journal, Resource};
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let state = dir.path().join("state");
    let run = RunId::parse("proof001").unwrap();
    // A journal naming a user the account holds untagged (a real console key user of that
    // name), and a role tagged by another run.
    let j = Journal::open(&state, &run).unwrap();
    j.created(&Resource::User("BedrockAPIKey-ab12".into()))
        .unwrap();
    j.created(&Resource::Role("keyward-proof001-0-k-dev".into()))
        .unwrap();
    drop(j);
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| {
        w.users.insert(
            "BedrockAPIKey-ab12".into(),
            Principal {
                attached: ["arn:aws:iam::aws:policy/AmazonBedrockLimitedAccess".to_string()].into(),
                ..Principal::default()
            },
        );
        w.roles.insert(
            "keyward-proof001-0-k-dev".into(),
            Principal {
                tags: vec![("keyward:run".into(), "zzzz9999".into())],
                ..Principal::default()
            },
        );
    });
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let sweep = LiveCommand::Sweep {
        args: args(&cfg),
        run: Some("proof001".into()),
    };
    let (code, out, err) = run_cmd(sweep, setup);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("0 deleted, 2 not deleted"), "{out}");
    assert!(
        out.contains("NOT DELETED user BedrockAPIKey-ab12") && out.contains("keyward:run=proof001"),
        "{out}"
    );
    assert!(
        !fake
            .ops()
            .iter()
            .any(|o| o.starts_with("Delete") || o.starts_with("Detach")),
        "{:?}",
        fake.ops()
    );
    fake.world(|w| assert_eq!((w.users.len(), w.roles.len()), (1, 1)));
    // The journal still names them, for a person to look at.
    let st = journal::read(&journal::runs_dir(&state).join("proof001.jsonl")).unwrap();
    assert_eq!(st.pending.len(), 2);
}

#[tokio::test]
async fn console_user_names_are_unguessable_and_console_shaped_only_where_a_policy_needs_it() {
    let run = RunId::parse("shape001").unwrap();
    // A policy that can tell the length of the name: the console's four characters are kept,
    // drawn afresh each time (the run id, which every name and the report show, does not
    // give them away).
    let shaped = console_case("t/shaped", "BedrockAPIKey-????");
    let names: BTreeSet<String> = (0..8).map(|_| live_principal_user(&shaped, &run)).collect();
    assert!(names.len() >= 7, "{names:?}");
    for n in &names {
        assert!(n.starts_with("BedrockAPIKey-") && n.len() == 18, "{n}");
    }
    // Otherwise the name is long enough that no one guesses it or already holds it.
    let open = console_case("t/open", "BedrockAPIKey-*");
    let long = live_principal_user(&open, &run);
    assert!(
        long.starts_with("BedrockAPIKey-") && long.len() >= 34,
        "{long}"
    );
    assert_ne!(long, live_principal_user(&open, &run));

    // Run live: the case's role creates the user, the runner tags it, and it is deleted.
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    let report = run_cases(&aws, &RunId::new(), None, None, &[open], &opts()).await;
    let c = only(&report);
    assert!(!matches!(c.status, Status::Failed(_)), "{c:?}");
    let created = fake.of("CreateUser");
    assert!(!created.is_empty() && created.iter().all(|r| !r.by_runner));
    let tagged = fake.of("TagUser");
    assert_eq!(tagged.len(), created.len(), "{:?}", fake.ops());
    for t in &tagged {
        assert!(t.by_runner);
        assert_eq!(t.param("Tags.member.1.Key"), Some("keyward:run"));
        assert!(t.param("UserName").unwrap().len() >= 34);
    }
    assert_all_deleted(&fake);
}

/// The console-shaped user a create_key case of `run` plans for its target.
fn live_principal_user(c: &Case, run: &RunId) -> String {
    let ctx = PlanContext {
        run: run.clone(),
        index: 0,
        account: SANDBOX.into(),
        model: keyward::live::config::DEFAULT_MODEL.into(),
        now: 1_750_000_000,
    };
    match plan(c, &ctx).expect("runs live").plan {
        LivePlan::CreateKey { user, .. } => user,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_key_created_for_someone_elses_user_is_undone_without_touching_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    let aws = verified(&fake, dir.path()).await;
    // The API flow for a user the case says does not exist; in the sandbox, a user of that
    // (console-shaped) name exists and holds a key of its own.
    fake.hook(|r, w| {
        if r.op == "CreateServiceSpecificCredential" && !r.by_runner {
            let name = r.param("UserName")?.to_string();
            if !w.users.contains_key(&name) {
                w.users.insert(name.clone(), Principal::default());
                w.creds.push(ServiceCred {
                    id: "ACCATHEIRS".into(),
                    user: name,
                    service: "bedrock.amazonaws.com".into(),
                    secret: "x".into(),
                    active: true,
                    seq: 0,
                });
            }
        }
        None
    });
    let c = case(&json!({
        "id": "t/api-taken", "source": "live_offline", "provenance": "generated",
        "policies": {"identity": [doc(json!([{"Effect": "Allow", "Action": "iam:*",
            "Resource": "arn:aws:iam::123456789012:user/BedrockAPIKey-????"}]))]},
        "scenario": {"create_key": {"caller": ROLE_ALICE, "user": "BedrockAPIKey-h42z",
            "service": "bedrock.amazonaws.com", "flow": "api", "user_exists": false}}
    }));
    let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
    let made = fake.count("CreateServiceSpecificCredential");
    assert!(made >= 1, "{:?} {report:?}", fake.ops());
    fake.world(|w| {
        let ids: Vec<&str> = w.creds.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["ACCATHEIRS"], "only their key is left: {w:?}");
        assert_eq!(w.users.len(), 1);
    });
}

/// Resuming matches generated cases by id (seed and index): a run whose generators drew other
/// cases for that seed is refused, not resumed with answers attached to the wrong cases.
#[test]
fn a_run_of_other_generators_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let cfg = config_with_state(dir.path(), SANDBOX, &state);
    let c = short_term_call("t/gen", ROLE_ALICE, allow_all());
    let fx = write_fixtures(dir.path(), &[&c]);
    let fake = Fake::new(SANDBOX);
    let setup = || Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 2), setup());
    assert_ne!(code, 2, "{out}{err}");
    let run = run_id_of(&err);
    let path = journal::runs_dir(&state).join(format!("{run}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap();
    let current = format!("\"generator\":{}", keyward::generate::GENERATOR_VERSION);
    assert!(text.contains(&current), "{text}");
    let resume = || {
        let mut cmd = check(args(&cfg), &fx, 2);
        if let LiveCommand::Check { resume: r, .. } = &mut cmd {
            *r = Some(run.clone());
        }
        cmd
    };
    // The same generators resume the run.
    let (code, out, err) = run_cmd(resume(), setup());
    assert_ne!(code, 2, "{out}{err}");
    // A journal written before generators had a version (version 1) is refused, and nothing is
    // asked of AWS.
    std::fs::write(&path, text.replace(&format!(",{current}"), "")).unwrap();
    let before = fake.ops().len();
    let (code, out, err) = run_cmd(resume(), setup());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&run) && err.contains("version 1") && err.contains("keyward sweep"),
        "{err}"
    );
    let mutating: Vec<_> = fake.ops()[before..]
        .iter()
        .filter(|o| !o.starts_with("GetCallerIdentity"))
        .cloned()
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");
}
