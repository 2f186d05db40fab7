//! `keyward record --smoke`: the first command to run on a new sandbox. It runs the smallest
//! plan that crosses every live path once ([`SmokePath`]) and says, path by path, whether the
//! sandbox let it through, so that a maintainer learns what is missing (a model not enabled, a
//! permission the runner lacks, an SCP in the way) from seven lines rather than from a failed
//! release run.
//!
//! The cases are built here, like the probes of [`super::probe`], and run through the same
//! runner as `record` ([`runner::run_cases`]): the smoke run exercises the real paths, planning,
//! provisioning, settling, redaction and cleanup included. It is a check of the sandbox, not a
//! recording: it writes no fixtures and no disagreements file (a disagreement is printed in
//! full instead); its journal is written like any run's, so that `keyward sweep` finds whatever
//! a crash leaves.
//!
//! A path passes when it completed, AWS answered, and the answer agreed with the local
//! evaluator (every smoke case has a decision the evaluator predicts). Anything else fails the
//! path with the reason: AWS's error, a skip that kept the path from being crossed, or both
//! answers side by side.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use super::journal::Journal;
use super::names::{RunId, CASE_ACCOUNT};
use super::plan::LivePlan;
use super::runner::{self, CaseReport, LiveOptions, LiveReport, Status};
use super::steps::{self, Step};
use super::{redact, sweep, Aws, LiveError};
use crate::case::Case;

/// A live path a release run depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmokePath {
    /// STS GetCallerIdentity confirms the credentials belong to the sandbox account.
    Guard,
    /// One `iam:SimulateCustomPolicy` batch: an allow, an explicit deny and an implicit deny.
    Simulator,
    /// A bearer-token call with a long-term key created for a user carrying the policies.
    LongTermKeyCall,
    /// A bearer-token call with a short-term key generated from a role session.
    ShortTermKeyCall,
    /// `CreateServiceSpecificCredential` by a role whose policy denies it.
    DeniedKeyCreation,
    /// The console's flow, as a role: CreateUser, AttachUserPolicy, then the key.
    ConsoleFlow,
    /// The run's own cleanup, then `keyward sweep --run RUN`: nothing of the run is left.
    Sweep,
}

impl SmokePath {
    pub const ALL: [SmokePath; 7] = [
        SmokePath::Guard,
        SmokePath::Simulator,
        SmokePath::LongTermKeyCall,
        SmokePath::ShortTermKeyCall,
        SmokePath::DeniedKeyCreation,
        SmokePath::ConsoleFlow,
        SmokePath::Sweep,
    ];

    /// The path's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            SmokePath::Guard => "guard",
            SmokePath::Simulator => "simulator",
            SmokePath::LongTermKeyCall => "long-term-key-call",
            SmokePath::ShortTermKeyCall => "short-term-key-call",
            SmokePath::DeniedKeyCreation => "denied-key-creation",
            SmokePath::ConsoleFlow => "console-flow",
            SmokePath::Sweep => "sweep",
        }
    }

    /// What crossing the path takes, for the plan and the report.
    pub fn what(self) -> &'static str {
        match self {
            SmokePath::Guard => "STS GetCallerIdentity confirms the credentials belong to the sandbox account",
            SmokePath::Simulator => "one iam:SimulateCustomPolicy batch answers an allow, an explicit deny and an implicit deny",
            SmokePath::LongTermKeyCall => "a user with the case's policy makes a Converse call with a long-term key (Bedrock API key)",
            SmokePath::ShortTermKeyCall => "a role session with the case's policy makes a Converse call with a short-term key",
            SmokePath::DeniedKeyCreation => "a role whose policy denies it is refused CreateServiceSpecificCredential",
            SmokePath::ConsoleFlow => "a role creates a console-style user, attaches AmazonBedrockLimitedAccess and creates its key",
            SmokePath::Sweep => "the run's cleanup, then a sweep of the run, leave nothing behind",
        }
    }
}

impl fmt::Display for SmokePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A smoke case and the path it crosses.
#[derive(Debug, Clone)]
pub struct SmokeCase {
    pub path: SmokePath,
    pub case: Case,
}

const SOURCE: &str = "keyward record --smoke";
/// The case's name for the model; every call goes to the run's model (the planner renames it).
const CASE_MODEL: &str = "amazon.nova-micro-v1:0";
/// The managed policy the console flow attaches (keyward-bedrock's `LIMITED_ACCESS_POLICY`).
const LIMITED_ACCESS: &str = keyward_bedrock::LIMITED_ACCESS_POLICY;

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn role(name: &str) -> String {
    format!("arn:aws:sts::{CASE_ACCOUNT}:assumed-role/{name}/smoke")
}

fn smoke_case(id: &str, policies: Value, query: (&str, Value)) -> Case {
    let mut v = json!({
        "id": format!("smoke/{id}"),
        "source": SOURCE,
        "provenance": "generated",
        "policies": policies,
    });
    v[query.0] = query.1;
    // Built from constants: a case that does not read is a bug here, caught by the unit test.
    Case::from_json(&v).unwrap_or_else(|e| panic!("smoke case {id}: {e}"))
}

/// The smallest policy that lets a bearer-token Converse call through.
fn call_policy() -> Value {
    json!({"identity": [doc(json!([{"Effect": "Allow",
        "Action": ["bedrock:CallWithBearerToken", "bedrock:InvokeModel"], "Resource": "*"}]))]})
}

fn call(key: Value, region: &str) -> (&'static str, Value) {
    (
        "scenario",
        json!({"call": {"operation": "Converse", "key": key, "model": CASE_MODEL, "region": region}}),
    )
}

/// The smoke cases, each with the path it crosses; calls are made in `region`. The guard and
/// the sweep need no case.
pub fn cases(region: &str) -> Vec<SmokeCase> {
    let user = |name: &str| format!("arn:aws:iam::{CASE_ACCOUNT}:user/{name}");
    let sim_policies = json!({"identity": [doc(json!([
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*"}]))]});
    // Three questions with the same policies and context: one simulator call.
    let sim = |id: &str, action: &str, resource: &str| SmokeCase {
        path: SmokePath::Simulator,
        case: smoke_case(
            id,
            sim_policies.clone(),
            (
                "request",
                json!({"principal": user("smoke"), "action": action, "resource": resource}),
            ),
        ),
    };
    let model_arn = format!("arn:aws:bedrock:{region}::foundation-model/{CASE_MODEL}");
    vec![
        sim("simulator/allow", "bedrock:InvokeModel", &model_arn),
        sim(
            "simulator/explicit-deny",
            "iam:CreateServiceSpecificCredential",
            &user("smoke"),
        ),
        sim(
            "simulator/implicit-deny",
            "bedrock:ListFoundationModels",
            "*",
        ),
        SmokeCase {
            path: SmokePath::LongTermKeyCall,
            case: smoke_case(
                "long-term-key-call",
                call_policy(),
                call(
                    json!({"type": "LONG_TERM", "user": user("smoke-key-user")}),
                    region,
                ),
            ),
        },
        SmokeCase {
            path: SmokePath::ShortTermKeyCall,
            case: smoke_case(
                "short-term-key-call",
                call_policy(),
                call(
                    json!({"type": "SHORT_TERM", "principal": role("smoke-caller"), "region": region}),
                    region,
                ),
            ),
        },
        SmokeCase {
            path: SmokePath::DeniedKeyCreation,
            // The documented way to forbid Bedrock API keys, in an identity policy.
            case: smoke_case(
                "denied-key-creation",
                json!({"identity": [doc(json!([
                    {"Effect": "Allow", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*"},
                    {"Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential", "Resource": "*",
                     "Condition": {"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"}}}]))]}),
                (
                    "scenario",
                    json!({"create_key": {"caller": role("smoke-key-admin"), "user": "smoke-key-target",
                        "service": "bedrock.amazonaws.com", "flow": "api"}}),
                ),
            ),
        },
        SmokeCase {
            path: SmokePath::ConsoleFlow,
            case: smoke_case(
                "console-flow",
                json!({"identity": [doc(json!([
                    {"Effect": "Allow", "Action": ["iam:CreateUser", "iam:CreateServiceSpecificCredential"],
                     "Resource": user("BedrockAPIKey-*")},
                    {"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": user("BedrockAPIKey-*"),
                     "Condition": {"ArnEquals": {"iam:PolicyARN": LIMITED_ACCESS}}}]))]}),
                (
                    "scenario",
                    json!({"create_key": {"caller": role("smoke-console"), "user": "BedrockAPIKey-h42z",
                        "service": "bedrock.amazonaws.com", "age_days": 1, "flow": "console"}}),
                ),
            ),
        },
    ]
}

/// How one path ended: `Ok` with what was seen, or `Err` with why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathResult {
    pub path: SmokePath,
    pub outcome: Result<String, String>,
}

impl PathResult {
    pub fn passed(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// What a smoke run found.
#[derive(Debug, Clone)]
pub struct SmokeReport {
    pub run: RunId,
    /// One per path, in [`SmokePath::ALL`]'s order.
    pub paths: Vec<PathResult>,
    /// AWS calls made after the guard's GetCallerIdentity (the SDK's own retries are not
    /// counted).
    pub calls: u32,
    pub model: String,
}

impl SmokeReport {
    /// The report of a run the guard refused: no other path was tried.
    pub fn refused(run: &RunId, model: &str, why: &LiveError) -> SmokeReport {
        let paths = SmokePath::ALL
            .iter()
            .map(|&path| PathResult {
                path,
                outcome: Err(if path == SmokePath::Guard {
                    why.to_string()
                } else {
                    "not run: the guard refused the credentials".into()
                }),
            })
            .collect();
        SmokeReport {
            run: run.clone(),
            paths,
            calls: 0,
            model: model.to_string(),
        }
    }

    pub fn passed(&self) -> usize {
        self.paths.iter().filter(|p| p.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.paths.len() - self.passed()
    }

    /// One line per path, the calls and the cost, and the closing count `N passed, M failed`
    /// (of paths).
    pub fn print(&self, out: &mut dyn Write) {
        for p in &self.paths {
            let _ = match &p.outcome {
                Ok(detail) => writeln!(out, "passed {}: {detail}", p.path),
                Err(why) => writeln!(out, "FAILED {}: {why}", p.path),
            };
        }
        let _ = writeln!(
            out,
            "smoke run {}: {} AWS calls after the guard's GetCallerIdentity (SDK retries not counted); nothing was recorded",
            self.run, self.calls
        );
        let _ = writeln!(
            out,
            "estimated cost: {}",
            cost_bound(
                &self.model,
                self.calls,
                "counting every call made as a model request"
            )
        );
        let _ = writeln!(out, "{} passed, {} failed", self.passed(), self.failed());
    }
}

/// Why a case did not pass, or `None` when AWS answered as the local evaluator did.
fn why_not(c: &CaseReport) -> Option<String> {
    let json = |e: &Option<crate::case::Expect>| {
        e.as_ref()
            .map_or_else(|| "none".to_string(), |e| e.to_json().to_string())
    };
    let id = &c.case.id;
    match &c.status {
        Status::Agreed => None,
        Status::Disagreed => Some(format!(
            "{id}: AWS and the local evaluator disagree; aws: {} local: {}",
            json(&c.aws),
            json(&c.local)
        )),
        Status::Failed(why) => Some(format!("{id}: {why}")),
        Status::Skipped(skip) => Some(format!("{id}: not run, the plan skips it: {skip}")),
        Status::Environment(p) => Some(format!(
            "{id}: not run, the sandbox cannot: {p}; {}",
            p.remedy()
        )),
    }
}

/// A case path's result from the runner's report of its cases.
fn case_path(path: SmokePath, smoke: &[SmokeCase], report: &LiveReport) -> PathResult {
    let ids: Vec<&str> = smoke
        .iter()
        .filter(|s| s.path == path)
        .map(|s| s.case.id.as_str())
        .collect();
    let reports: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| ids.contains(&c.case.id.as_str()))
        .collect();
    let mut problems: Vec<String> = reports.iter().filter_map(|c| why_not(c)).collect();
    if reports.len() < ids.len() {
        problems.push(format!(
            "{} of its {} cases were not reported by the run",
            ids.len() - reports.len(),
            ids.len()
        ));
    }
    let outcome = if problems.is_empty() {
        let how: Vec<String> = reports
            .iter()
            .filter_map(|c| {
                let e = c.aws.as_ref()?;
                let decision = e.decision.map_or("no decision", |d| d.as_str());
                Some(match e.status {
                    Some(s) => format!("{decision} (HTTP {s})"),
                    None => decision.to_string(),
                })
            })
            .collect();
        Ok(format!(
            "{}; AWS answered {}, as the local evaluator does",
            path.what(),
            how.join(", ")
        ))
    } else {
        Err(problems.join("; "))
    };
    PathResult { path, outcome }
}

/// Runs the smoke cases through the live runner, then sweeps the run. `aws` has passed the
/// guard; `journal` is the run's.
pub async fn run(
    aws: &Aws,
    run: &RunId,
    journal: Arc<Journal>,
    state_dir: &Path,
    region: &str,
    opts: &LiveOptions,
) -> SmokeReport {
    let smoke = cases(region);
    let list: Vec<Case> = smoke.iter().map(|s| s.case.clone()).collect();
    let report = runner::run_cases(aws, run, Some(journal), None, &list, opts).await;
    let mut paths = vec![PathResult {
        path: SmokePath::Guard,
        outcome: Ok(format!(
            "{} (a {})",
            SmokePath::Guard.what(),
            runner_kind(aws)
        )),
    }];
    for path in SmokePath::ALL {
        if !matches!(path, SmokePath::Guard | SmokePath::Sweep) {
            paths.push(case_path(path, &smoke, &report));
        }
    }
    paths.push(sweep_path(aws, run, state_dir, &report).await);
    SmokeReport {
        run: run.clone(),
        paths,
        calls: aws.budget().used(),
        model: opts.model.clone(),
    }
}

/// What kind of principal the runner is, without its name or account.
fn runner_kind(aws: &Aws) -> &'static str {
    let arn = aws.runner_arn();
    if arn.contains(":assumed-role/") {
        "role session"
    } else if arn.ends_with(":root") {
        "root user"
    } else if arn.contains(":user/") {
        "user"
    } else {
        "principal"
    }
}

/// The sweep path: the run's own cleanup left nothing, and a sweep of the run finds nothing it
/// cannot delete. What either names is redacted like any failure reason.
async fn sweep_path(aws: &Aws, run: &RunId, state_dir: &Path, report: &LiveReport) -> PathResult {
    let redacted = |s: &str| redact::for_storage(s, &Default::default(), aws.account());
    let mut problems: Vec<String> = Vec::new();
    if let Some(s) = &report.stopped {
        problems.push(format!("the run stopped early: {s}"));
    }
    if !report.cleanup_failures.is_empty() {
        problems.push(format!(
            "the run's cleanup left {}: {}",
            report.cleanup_failures.len(),
            redacted(&report.cleanup_failures.join("; "))
        ));
    }
    let detail = match sweep::sweep(aws, state_dir, Some(run.as_str())).await {
        Err(e) => {
            problems.push(format!("sweep failed: {}", redacted(&e.to_string())));
            String::new()
        }
        Ok(s) => {
            if !s.failed.is_empty() {
                let what: Vec<String> = s.failed.iter().map(|(r, e)| format!("{r}: {e}")).collect();
                problems.push(format!(
                    "sweep could not delete {}: {} (run `keyward sweep --run {run}`)",
                    s.failed.len(),
                    redacted(&what.join("; "))
                ));
            }
            format!("sweep of the run deleted {} leftovers", s.deleted.len())
        }
    };
    PathResult {
        path: SmokePath::Sweep,
        outcome: if problems.is_empty() {
            Ok(format!("{}; {detail}", SmokePath::Sweep.what()))
        } else {
            Err(problems.join("; "))
        },
    }
}

/// Amazon Nova Micro's on-demand prices, US dollars per million input and output tokens, as the
/// Amazon Bedrock pricing page lists them (https://aws.amazon.com/bedrock/pricing/).
const NOVA_MICRO_PRICE: (f64, f64) = (0.035, 0.14);
/// A generous bound on the input tokens of the one-word prompt (`enforce::PROMPT`) with the
/// model's own framing; every call asks for at most 1 output token.
const PROMPT_TOKENS_BOUND: f64 = 100.0;

/// An upper bound on what `requests` model requests cost, in words.
fn cost_bound(model: &str, requests: u32, counted: &str) -> String {
    let free = "IAM, STS and the simulator are free";
    if model.trim_start_matches("us.") != super::config::DEFAULT_MODEL {
        return format!(
            "at most {requests} model requests to {model} ({counted}), each a one-word prompt and at most 1 output token, at that model's on-demand price (keyward knows only Nova Micro's); {free}"
        );
    }
    let (input, output) = NOVA_MICRO_PRICE;
    let per = (PROMPT_TOKENS_BOUND * input + output) / 1e6;
    format!(
        "at most ${:.4} ({requests} model requests at most, {counted}, each under {PROMPT_TOKENS_BOUND} input tokens and 1 output token at Nova Micro's ${input} and ${output} per million); {free}",
        f64::from(requests) * per
    )
}

/// The `--dry-run` view: every path, the calls each makes (from the same plans the run
/// executes), and the estimated cost. `account` is a placeholder when none is configured.
pub fn print_plan(
    run: &RunId,
    account: &str,
    region: &str,
    model: &str,
    max_calls: u32,
    out: &mut dyn Write,
) {
    let smoke = cases(region);
    let list: Vec<Case> = smoke.iter().map(|s| s.case.clone()).collect();
    let plans = runner::plan_all(&list, 0, run, account, model);
    let (mut calls, mut model_calls, mut resources, mut skipped) = (1usize, 0usize, 0usize, 0);
    let _ = writeln!(
        out,
        "smoke dry run {run}: nothing is sent to AWS; a smoke run records nothing"
    );
    for path in SmokePath::ALL {
        let _ = writeln!(out, "path {path}: {}", path.what());
        match path {
            SmokePath::Guard => {
                let _ = writeln!(out, "  sts:GetCallerIdentity");
            }
            SmokePath::Sweep => {
                let _ = writeln!(
                    out,
                    "  iam:ListUsers, iam:ListUserTags, iam:ListRoles, iam:ListRoleTags, iam:ListPolicies, iam:ListPolicyTags (cleanup: never stopped by the cap), then deletes what the run left"
                );
            }
            _ => {}
        }
        let ids: Vec<&str> = smoke
            .iter()
            .filter(|s| s.path == path)
            .map(|s| s.case.id.as_str())
            .collect();
        for (_, case, planned) in plans
            .iter()
            .filter(|(_, c, _)| ids.contains(&c.id.as_str()))
        {
            match planned {
                Err(skip) => {
                    skipped += 1;
                    let _ = writeln!(out, "  skip {}: {skip} (the path would fail)", case.id);
                }
                Ok(p) => {
                    // The steps the run executes for the case, as it executes them.
                    let steps = p.plan.steps();
                    calls += steps.len();
                    resources += steps.iter().filter_map(Step::creates).count();
                    if matches!(p.plan, LivePlan::Call { .. }) {
                        model_calls += 1;
                    }
                    let _ = write!(out, "{}", steps::listing(&case.id, &steps, "  "));
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "plan: {} paths, {} cases, {skipped} skipped; {calls} steps, about as many API calls before batching, repeats and retries (cap {max_calls}), {model_calls} model calls to {model} (each repeated until its answer settles), {resources} resources created and deleted; no fixtures are written",
        SmokePath::ALL.len(),
        plans.len(),
    );
    let _ = writeln!(
        out,
        "estimated cost: {}",
        cost_bound(model, max_calls, "as if every call the cap allows were one")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::plan::{plan, PlanContext, Principal};
    use keyward_iam::DecisionKind;

    fn ctx(i: u64) -> PlanContext {
        PlanContext {
            run: RunId::parse("smoketst").unwrap(),
            index: i,
            account: "111122223333".into(),
            model: crate::live::config::DEFAULT_MODEL.into(),
            now: 1_800_000_000,
        }
    }

    #[test]
    fn every_path_but_guard_and_sweep_has_cases_and_each_runs_live() {
        let smoke = cases("us-east-1");
        for path in SmokePath::ALL {
            let n = smoke.iter().filter(|s| s.path == path).count();
            match path {
                SmokePath::Guard | SmokePath::Sweep => assert_eq!(n, 0, "{path}"),
                _ => assert!(n > 0, "{path} has no case"),
            }
        }
        // Every case plans (nothing is skipped with the default model) into the path's kind.
        for (i, s) in smoke.iter().enumerate() {
            let p = plan(&s.case, &ctx(i as u64))
                .unwrap_or_else(|skip| panic!("{}: skipped: {skip}", s.case.id));
            let ok = match (s.path, &p.plan) {
                (SmokePath::Simulator, LivePlan::Simulate(_)) => true,
                (SmokePath::LongTermKeyCall, LivePlan::Call { key, .. }) => {
                    matches!(key, crate::live::plan::KeyPlan::LongTerm { .. })
                }
                (SmokePath::ShortTermKeyCall, LivePlan::Call { key, .. }) => matches!(
                    key,
                    crate::live::plan::KeyPlan::ShortTerm {
                        principal: Principal::Role { .. },
                        ..
                    }
                ),
                (
                    SmokePath::DeniedKeyCreation,
                    LivePlan::CreateKey {
                        flow: keyward_bedrock::Flow::Api,
                        ..
                    },
                ) => true,
                (
                    SmokePath::ConsoleFlow,
                    LivePlan::CreateKey {
                        flow: keyward_bedrock::Flow::Console,
                        ..
                    },
                ) => true,
                _ => false,
            };
            assert!(ok, "{}: {:?}", s.case.id, p.plan);
        }
    }

    #[test]
    fn the_simulator_questions_share_one_batch() {
        let keys: std::collections::BTreeSet<String> = cases("eu-west-1")
            .iter()
            .filter(|s| s.path == SmokePath::Simulator)
            .map(|s| match plan(&s.case, &ctx(0)).unwrap().plan {
                LivePlan::Simulate(sim) => sim.batch_key(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
    }

    #[test]
    fn the_local_evaluator_expects_each_path_to_exercise_its_decision() {
        let smoke = cases("us-east-1");
        let decision = |id: &str| {
            smoke
                .iter()
                .find(|s| s.case.id == format!("smoke/{id}"))
                .unwrap()
                .case
                .verdict()
                .decision
        };
        assert_eq!(decision("simulator/allow"), Some(DecisionKind::Allow));
        assert_eq!(
            decision("simulator/explicit-deny"),
            Some(DecisionKind::ExplicitDeny)
        );
        assert_eq!(
            decision("simulator/implicit-deny"),
            Some(DecisionKind::ImplicitDeny)
        );
        assert_eq!(decision("long-term-key-call"), Some(DecisionKind::Allow));
        assert_eq!(decision("short-term-key-call"), Some(DecisionKind::Allow));
        assert_eq!(
            decision("denied-key-creation"),
            Some(DecisionKind::ExplicitDeny)
        );
        assert_eq!(decision("console-flow"), Some(DecisionKind::Allow));
    }

    #[test]
    fn a_refused_guard_fails_every_path_and_names_why() {
        let run = RunId::parse("smoketst").unwrap();
        let e = LiveError::MissingSandboxAccount;
        let r = SmokeReport::refused(&run, crate::live::config::DEFAULT_MODEL, &e);
        assert_eq!((r.passed(), r.failed()), (0, SmokePath::ALL.len()));
        let mut out = Vec::new();
        r.print(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("FAILED guard: live mode needs the sandbox account"),
            "{text}"
        );
        assert!(text.contains("FAILED sweep: not run"), "{text}");
        assert!(text.ends_with("0 passed, 7 failed\n"), "{text}");
    }

    #[test]
    fn the_cost_is_bounded_for_the_default_model_only() {
        let c = cost_bound(crate::live::config::DEFAULT_MODEL, 100, "x");
        // 100 requests of at most 100 input tokens and 1 output token.
        assert!(c.starts_with("at most $0.0004 "), "{c}");
        let other = cost_bound("anthropic.claude-3-5-haiku-20241022-v1:0", 100, "x");
        assert!(!other.contains('$'), "{other}");
    }
}
