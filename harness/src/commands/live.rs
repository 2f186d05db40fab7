//! `keyward check --live`, `keyward record` and `keyward sweep`: the command-line side of live
//! mode ([`crate::live`]). Each refuses, before any AWS call, unless the sandbox account is
//! configured, and makes no call but STS GetCallerIdentity until that account is confirmed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_config::SdkConfig;

use super::{EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
use crate::case::Case;
use crate::compare::{compare, Comparison};
use crate::generate::{GenSettings, SetSettings};
use crate::inputs::{expand, load, Loaded};
use crate::live::enforce::Settle;
use crate::live::journal::{self, Journal, JournalState, RunCommand, RunMeta};
use crate::live::names::Renamer;
use crate::live::names::RunId;
use crate::live::oracle::AwsOracle;
use crate::live::plan::LivePlan;
use crate::live::redact;
use crate::live::runner::{self, LiveOptions, LiveReport, Status};
use crate::live::steps::{self, Step};
use crate::live::{guard, probe, smoke, sweep, Aws, LiveConfig, LiveError};
use crate::oracle::Local;

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), after cleanup.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Options every live command shares.
#[derive(Debug, Clone, Default)]
pub struct LiveArgs {
    pub config: Option<PathBuf>,
    pub dry_run: bool,
    pub max_calls: Option<u32>,
    pub concurrency: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum LiveCommand {
    Check {
        args: LiveArgs,
        fixtures: PathBuf,
        cases: u64,
        seed: u64,
        resume: Option<String>,
        /// The report as JSON.
        json: bool,
        /// Also a JUnit report, to this file.
        junit: Option<PathBuf>,
    },
    Record {
        args: LiveArgs,
        fixtures: PathBuf,
        out: PathBuf,
        cases: u64,
        seed: u64,
        resume: Option<String>,
        probe_assumptions: bool,
        shrink_attempts: u32,
    },
    Sweep {
        args: LiveArgs,
        run: Option<String>,
    },
    /// `record --smoke`: every live path once ([`crate::live::smoke`]).
    Smoke {
        args: LiveArgs,
    },
}

/// Where AWS settings come from. The CLI uses aws-config's chain and the process environment;
/// tests give their own SDK configuration (with a mock HTTP client) and environment.
/// Resolves when the run must stop.
pub type Interrupt = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Reads an environment variable.
pub type EnvFn = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct Setup {
    pub sdk: Option<SdkConfig>,
    pub env: EnvFn,
    pub settle: Option<Settle>,
    /// What stops a run early, cleaning up after it: Ctrl-C for the CLI; anything for tests;
    /// `None`, nothing.
    pub interrupt: Option<Interrupt>,
}

impl Setup {
    pub fn from_process() -> Setup {
        Setup {
            sdk: None,
            env: Box::new(|k| std::env::var(k).ok()),
            settle: None,
            interrupt: Some(Box::pin(async {
                // No Ctrl-C handler (an unusual platform) means no interruption, not a stop.
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })),
        }
    }
}

/// Generated cases per run when `--cases` is not given: enough to exercise every path, few
/// enough for a run of minutes and cents.
pub const DEFAULT_LIVE_CASES: u64 = 20;

pub fn run(cmd: LiveCommand, setup: Setup, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    rt.block_on(run_async(cmd, setup, out, err))
}

fn config_for(args: &LiveArgs, setup: &Setup) -> Result<LiveConfig, LiveError> {
    let mut c = LiveConfig::load(args.config.as_deref(), &*setup.env)?;
    if let Some(n) = args.max_calls {
        c.max_calls = n;
    }
    if let Some(n) = args.concurrency {
        c.concurrency = n.max(1);
    }
    Ok(c)
}

fn fail(err: &mut dyn Write, e: &LiveError) -> u8 {
    let _ = writeln!(err, "error: {e}");
    if e.is_bad_input() {
        EXIT_BAD_INPUT
    } else {
        EXIT_DISAGREE
    }
}

/// The fixture cases under `dir`, or the first unreadable one's error.
/// The fixtures under `dir`, each with the file it was read from.
fn fixture_cases(dir: &Path) -> Result<Vec<(String, Case)>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: no fixtures directory", dir.display()));
    }
    let files = expand(&[dir.to_path_buf()]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for item in load(&files) {
        match item {
            Loaded::Case { file, case } => out.push((file, *case)),
            Loaded::Error(e) => return Err(e.to_string()),
        }
    }
    Ok(out)
}

/// Generated cases for AWS: the check generators without organization and resource policies,
/// which a sandbox cannot hold, and without the condition keys a live request cannot choose.
fn generated(seed: u64, n: u64) -> Vec<Case> {
    let gen = GenSettings {
        keys: crate::generate::live_keys(),
        ..GenSettings::default()
    };
    let sets = SetSettings {
        scp: 0,
        rcp: 0,
        resource: 0,
        ..SetSettings::default()
    };
    (0..n)
        .filter_map(|i| crate::run::generated_case(seed, i, &gen, &sets))
        .collect()
}

async fn verified(config: &LiveConfig, setup: &mut Setup) -> Result<Aws, LiveError> {
    // Refuse before loading credentials when no sandbox is named.
    if config.sandbox_account.is_none() {
        return Err(LiveError::MissingSandboxAccount);
    }
    let sdk = match setup.sdk.take() {
        Some(s) => s,
        None => guard::load_sdk_config(config).await,
    };
    guard::verify(sdk, config).await
}

async fn run_async(
    cmd: LiveCommand,
    mut setup: Setup,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let args = match &cmd {
        LiveCommand::Check { args, .. }
        | LiveCommand::Record { args, .. }
        | LiveCommand::Sweep { args, .. }
        | LiveCommand::Smoke { args } => args.clone(),
    };
    let config = match config_for(&args, &setup) {
        Ok(c) => c,
        Err(e) => return fail(err, &e),
    };
    let req = match cmd {
        LiveCommand::Smoke { .. } => {
            return smoke_command(&config, &mut setup, args.dry_run, out, err).await;
        }
        LiveCommand::Sweep { run, .. } => {
            return sweep_command(&config, &mut setup, run.as_deref(), args.dry_run, out, err)
                .await;
        }
        LiveCommand::Check {
            fixtures,
            cases,
            seed,
            resume,
            json,
            junit,
            ..
        } => RunRequest {
            fixtures,
            cases,
            seed,
            resume,
            json,
            junit,
            record: None,
        },
        LiveCommand::Record {
            fixtures,
            out,
            cases,
            seed,
            resume,
            probe_assumptions,
            shrink_attempts,
            ..
        } => RunRequest {
            fixtures,
            cases,
            seed,
            resume,
            json: false,
            junit: None,
            record: Some(RecordRequest {
                out,
                probe_assumptions,
                shrink_attempts,
            }),
        },
    };
    run_live(&config, &req, args.dry_run, &mut setup, out, err).await
}

/// What `check --live` or `record` was asked to run.
struct RunRequest {
    fixtures: PathBuf,
    /// Generated cases.
    cases: u64,
    seed: u64,
    resume: Option<String>,
    /// `check --live --json`: the report as JSON.
    json: bool,
    /// `check --live --junit FILE`: also a JUnit report.
    junit: Option<PathBuf>,
    /// `record` only.
    record: Option<RecordRequest>,
}

struct RecordRequest {
    out: PathBuf,
    probe_assumptions: bool,
    shrink_attempts: u32,
}

impl RunRequest {
    fn probing(&self) -> bool {
        self.record.as_ref().is_some_and(|r| r.probe_assumptions)
    }

    fn meta(&self, config: &LiveConfig, account: &str) -> RunMeta {
        RunMeta {
            command: match self.record {
                Some(_) => RunCommand::Record,
                None => RunCommand::CheckLive,
            },
            seed: self.seed,
            cases: self.cases,
            region: config.region.clone(),
            model: config.model.clone(),
            account: Some(account.to_string()),
            generator: Some(crate::generate::GENERATOR_VERSION),
        }
    }
}

/// The ids of the cases that probe each assumption of keyward-bedrock.
type Probes = Vec<(&'static str, Vec<String>)>;

/// `check --live` and `record`, once the configuration is read: the run's cases, the account
/// check, the run, then what it found.
async fn run_live(
    config: &LiveConfig,
    req: &RunRequest,
    dry: bool,
    setup: &mut Setup,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let fixtures = match fixture_cases(&req.fixtures) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (cases, files, probes) = cases_for(req, fixtures);
    let run_id = match run_id_for(req.resume.as_deref()) {
        Ok(id) => id,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return EXIT_BAD_INPUT;
        }
    };
    if dry {
        dry_run(&cases, &run_id, config, out);
        return EXIT_OK;
    }
    let aws = match verified(config, setup).await {
        Ok(a) => a,
        Err(e) => return fail(err, &e),
    };
    let (state, journal) = match open_journal(config, &run_id, req.resume.is_some(), &aws) {
        Ok(j) => j,
        Err(e) => return fail(err, &e),
    };
    let _ = journal.meta(&req.meta(config, aws.account()));
    let _ = writeln!(
        err,
        "run {run_id} in account {} ({}); journal {}",
        aws.account(),
        config.region,
        journal.path().display()
    );
    let opts = live_options(config, setup);
    // `check --live` is `check`'s comparison with AWS as the reference oracle.
    let aws_oracle = AwsOracle::new(&aws, &run_id, Some(journal.clone()), state.as_ref(), &opts);
    let work = compare(&aws_oracle, &Local, &cases, &files);
    let Some(comparison) = until_interrupted(work, setup.interrupt.take()).await else {
        clean_up_interrupted(&aws, config, &run_id, true, err).await;
        return EXIT_INTERRUPTED;
    };
    let Some(report) = aws_oracle.take_report() else {
        let _ = writeln!(err, "error: the live run kept no report");
        return EXIT_DISAGREE;
    };
    if let Err(e) = write_reports(req, &comparison, &report, aws.account(), out) {
        let _ = writeln!(err, "error: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Some(rec) = &req.record {
        let minimal = shrink_disagreements(&aws, &run_id, &journal, &report, &opts, rec).await;
        if let Err(e) = write_recorded(config, &run_id, &report, rec, out) {
            return fail(err, &e);
        }
        print_minimal(&minimal, out);
    }
    if let Some(probes) = &probes {
        print_assumptions(probes, &report, out);
    }
    closing_line(&comparison, &report, req.json, out)
}

/// The cases of a run: the probes of each assumption (`record --probe-assumptions`), generated
/// cases (`record`), or the fixtures and generated cases (`check --live`).
fn cases_for(
    req: &RunRequest,
    fixtures: Vec<(String, Case)>,
) -> (Vec<Case>, Vec<Option<String>>, Option<Probes>) {
    if req.probing() {
        let fixtures: Vec<Case> = fixtures.into_iter().map(|(_, c)| c).collect();
        let mut probe_ids = Vec::new();
        let mut cs: Vec<Case> = Vec::new();
        for (id, ps) in probe::probes(&fixtures) {
            probe_ids.push((id, ps.iter().map(|c| c.id.clone()).collect()));
            for c in ps {
                if !cs.iter().any(|x| x.id == c.id) {
                    cs.push(c);
                }
            }
        }
        let files = vec![None; cs.len()];
        (cs, files, Some(probe_ids))
    } else if req.record.is_some() {
        let cs = generated(req.seed, req.cases);
        let files = vec![None; cs.len()];
        (cs, files, None)
    } else {
        let (mut files, mut cs): (Vec<Option<String>>, Vec<Case>) =
            fixtures.into_iter().map(|(f, c)| (Some(f), c)).unzip();
        let more = generated(req.seed, req.cases);
        files.extend(more.iter().map(|_| None));
        cs.extend(more);
        (cs, files, None)
    }
}

/// The run id given to `--resume`, or a new one.
fn run_id_for(resume: Option<&str>) -> Result<RunId, String> {
    match resume {
        Some(r) => RunId::parse(r).ok_or_else(|| {
            format!(
                "--resume {r:?}: a run id is 8 lowercase letters and digits, as printed by the run"
            )
        }),
        None => Ok(RunId::new()),
    }
}

/// The run's journal, opened for appending, and what it already holds when the run resumes.
/// A run made in another account is not resumed here: its journal names resources there.
fn open_journal(
    config: &LiveConfig,
    run_id: &RunId,
    resuming: bool,
    aws: &Aws,
) -> Result<(Option<JournalState>, Arc<Journal>), LiveError> {
    let state = if resuming {
        let p = journal::runs_dir(&config.state_dir).join(format!("{run_id}.jsonl"));
        let st = journal::read(&p)?;
        if let Some(a) = st.account.as_deref().filter(|a| *a != aws.account()) {
            return Err(LiveError::OtherAccount {
                run: run_id.to_string(),
                journal: a.to_string(),
                actual: aws.account().to_string(),
            });
        }
        check_generator(run_id, &st)?;
        Some(st)
    } else {
        None
    };
    let journal = Journal::open(&config.state_dir, run_id)?;
    Ok((state, Arc::new(journal)))
}

/// A run with generated cases is resumed only by generators that draw the same cases: resuming
/// matches cases by id, and a generated case's id is its seed and index.
fn check_generator(run_id: &RunId, st: &JournalState) -> Result<(), LiveError> {
    let Some(meta) = st.meta.as_ref().filter(|m| m.cases > 0) else {
        return Ok(());
    };
    let journal = meta.generator.unwrap_or(1);
    if journal == crate::generate::GENERATOR_VERSION {
        return Ok(());
    }
    Err(LiveError::OtherGenerator {
        run: run_id.to_string(),
        journal,
        current: crate::generate::GENERATOR_VERSION,
    })
}

/// `work`'s result, or `None` if `interrupt` resolved first (the cases in flight are dropped;
/// what they created is in the journal).
async fn until_interrupted<T>(
    work: impl std::future::Future<Output = T>,
    interrupt: Option<Interrupt>,
) -> Option<T> {
    let interrupt = interrupt.unwrap_or_else(|| Box::pin(std::future::pending()));
    tokio::select! {
        r = work => Some(r),
        _ = interrupt => None,
    }
}

/// After an interruption: deletes what the run created, from its journal and tags.
/// After Ctrl-C: sweeps what the run created; a run that can be resumed says how.
async fn clean_up_interrupted(
    aws: &Aws,
    config: &LiveConfig,
    run_id: &RunId,
    resumable: bool,
    err: &mut dyn Write,
) {
    let _ = writeln!(err, "interrupted: deleting what run {run_id} created ...");
    match sweep::sweep(aws, &config.state_dir, Some(run_id.as_str())).await {
        Ok(r) => {
            let _ = writeln!(
                err,
                "deleted {} resources; {} could not be deleted (run `keyward sweep`)",
                r.deleted.len(),
                r.failed.len()
            );
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "cleanup failed: {e}; run `keyward sweep --run {run_id}`"
            );
        }
    }
    if resumable {
        let _ = writeln!(err, "resume with --resume {run_id}");
    }
}

/// How a live run waits and how many cases it runs at once, from the configuration (a test's
/// setup may give its own settling).
fn live_options(config: &LiveConfig, setup: &Setup) -> LiveOptions {
    LiveOptions {
        first_index: 0,
        settle: setup
            .settle
            .clone()
            .unwrap_or_else(|| Settle::new(config.propagation_timeout)),
        concurrency: config.concurrency,
        model: config.model.clone(),
    }
}

/// The smallest version of each disagreeing case that AWS still disagrees on.
async fn shrink_disagreements(
    aws: &Aws,
    run_id: &RunId,
    journal: &Arc<Journal>,
    report: &LiveReport,
    opts: &LiveOptions,
    rec: &RecordRequest,
) -> Vec<Case> {
    // Shrink candidates are numbered after the run's cases, so their names never collide.
    let mut sopts = opts.clone();
    sopts.first_index = 1_000_000;
    let mut minimal = Vec::new();
    for c in report
        .cases
        .iter()
        .filter(|c| c.status == Status::Disagreed)
    {
        let m = runner::shrink(
            aws,
            run_id,
            Some(journal.clone()),
            &c.case,
            &sopts,
            rec.shrink_attempts,
        )
        .await;
        sopts.first_index += u64::from(rec.shrink_attempts) + 1;
        minimal.push(m);
    }
    minimal
}

/// Writes the recorded fixtures and the disagreements file, and names them on `out`.
fn write_recorded(
    config: &LiveConfig,
    run_id: &RunId,
    report: &LiveReport,
    rec: &RecordRequest,
    out: &mut dyn Write,
) -> Result<(), LiveError> {
    let date = today();
    let source = runner::record_source(run_id, &config.region, &date);
    for f in runner::write_recorded(report, &rec.out, &config.state_dir, &source, &date)? {
        let _ = writeln!(out, "wrote {}", f.display());
    }
    Ok(())
}

fn print_minimal(minimal: &[Case], out: &mut dyn Write) {
    for m in minimal {
        let _ = writeln!(
            out,
            "minimal disagreeing case (AWS's answer is in the disagreements file):\n{}",
            m.to_pretty_string()
        );
    }
}

/// What the probes found about each assumption.
fn print_assumptions(probes: &Probes, report: &LiveReport, out: &mut dyn Write) {
    let _ = writeln!(out, "assumptions:");
    for (id, case_ids) in probes {
        let statuses: Vec<&Status> = report
            .cases
            .iter()
            .filter(|c| case_ids.contains(&c.case.id))
            .map(|c| &c.status)
            .collect();
        let _ = writeln!(
            out,
            "  {id}: {} ({} probes)",
            probe::finding(&statuses).as_str(),
            case_ids.len()
        );
    }
}

/// The closing lines and the exit code. What to enable when the account could not run some
/// cases (counted apart: they neither passed nor failed), then `N passed, M failed`. Cases the
/// account could not run are a setup problem (exit 2), since the run could not check them; a
/// disagreement, a failure or anything left undeleted fails the run (exit 1).
fn closing_line(
    comparison: &Comparison,
    report: &LiveReport,
    json: bool,
    out: &mut dyn Write,
) -> u8 {
    let t = comparison.tally();
    let not_run = comparison.counts().not_run;
    if json {
        // The JSON report holds the counts and the remedies.
    } else if not_run > 0 {
        let _ = writeln!(
            out,
            "{not_run} not run: the sandbox account cannot run them; {}",
            comparison.remedies().join("; ")
        );
    }
    if !json {
        let _ = writeln!(out, "{}", t.summary_line());
    }
    if not_run > 0 {
        EXIT_BAD_INPUT
    } else if t.failed > 0 || !report.cleanup_failures.is_empty() {
        EXIT_DISAGREE
    } else {
        EXIT_OK
    }
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// The report of a live run: `check`'s comparison (AWS the reference, the local evaluator
/// under test), then what only a live run has: calls, skips, cleanup. `--json` and `--junit`
/// give the same comparison.
fn write_reports(
    req: &RunRequest,
    comparison: &Comparison,
    report: &LiveReport,
    aws_account: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if let Some(path) = &req.junit {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"keyward check --live\">\n{}</testsuites>\n",
            comparison.junit_suite(&format!("{} vs {}", comparison.tested, comparison.reference))
        );
        std::fs::write(path, xml).map_err(|e| {
            std::io::Error::new(e.kind(), format!("--junit {}: {e}", path.display()))
        })?;
    }
    if req.json {
        let t = comparison.tally();
        let v = serde_json::json!({
            "run": report.run.to_string(),
            "calls": report.calls,
            "per_provenance": comparison.per_provenance_json(),
            "cases": comparison.rows_json(),
            "skipped": comparison.skip_reasons().into_iter().map(|(r, n)| serde_json::json!({"reason": r, "cases": n})).collect::<Vec<_>>(),
            "not_run": comparison.counts().not_run,
            "remedies": comparison.remedies(),
            "not_deleted": report.cleanup_failures.iter().map(|f| redact::for_storage(f, &Renamer::new(), aws_account)).collect::<Vec<_>>(),
            "stopped": report.stopped,
            "passed": t.passed,
            "failed": t.failed,
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
        return Ok(());
    }
    let _ = write!(out, "{}", comparison.summary_text());
    for problem in comparison.rows.iter().filter_map(|r| r.problem()) {
        let _ = writeln!(out, "{problem}");
    }
    let c = comparison.counts();
    let _ = writeln!(
        out,
        "run {}: {} cases, {} skipped, {} AWS calls",
        report.run,
        comparison.rows.len(),
        c.skipped,
        report.calls
    );
    for (r, n) in comparison.skip_reasons() {
        let _ = writeln!(out, "  skipped {n}: {r}");
    }
    for f in &report.cleanup_failures {
        let f = redact::for_storage(f, &Renamer::new(), aws_account);
        let _ = writeln!(out, "NOT DELETED {f} (run `keyward sweep`)");
    }
    if let Some(s) = &report.stopped {
        let _ = writeln!(out, "stopped early: {s}");
    }
    Ok(())
}

/// The plan of a run: cases, API calls and resources; nothing is sent to AWS.
fn dry_run(cases: &[Case], run: &RunId, config: &LiveConfig, out: &mut dyn Write) {
    let account = config
        .sandbox_account
        .clone()
        .unwrap_or_else(|| "000000000000".into());
    let plans = runner::plan_all(cases, 0, run, &account, &config.model);
    let (mut calls, mut model_calls, mut sims, mut resources, mut skipped) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    let _ = writeln!(out, "dry run {run}: nothing is sent to AWS");
    for (_, case, p) in &plans {
        match p {
            Err(reason) => {
                skipped += 1;
                let _ = writeln!(out, "skip {}: {reason}", case.id);
            }
            Ok(p) => {
                // The steps the run executes for the case, as it executes them.
                let steps = p.plan.steps();
                calls += steps.len();
                resources += steps.iter().filter_map(Step::creates).count();
                match &p.plan {
                    LivePlan::Simulate(_) => sims += 1,
                    LivePlan::Call { .. } => model_calls += 1,
                    LivePlan::CreateKey { .. } => {}
                }
                let _ = write!(out, "{}", steps::listing(&case.id, &steps, ""));
            }
        }
    }
    let _ = writeln!(
        out,
        "plan: {} cases, {} skipped; {calls} steps, about as many API calls before batching, repeats and retries (cap {}), {sims} simulations, {model_calls} model calls to {} at 1 output token each (the steps marked so are repeated until three answers in a row agree over 30 s), {resources} resources created and deleted",
        plans.len(),
        skipped,
        config.max_calls,
        config.model
    );
}

/// `record --smoke`: the guard, the smoke cases through the runner, then a sweep of the run; one
/// line per path and the closing count of paths. Its dry run needs no account and no network.
async fn smoke_command(
    config: &LiveConfig,
    setup: &mut Setup,
    dry: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let run_id = RunId::new();
    if dry {
        let account = config
            .sandbox_account
            .clone()
            .unwrap_or_else(|| "000000000000".into());
        smoke::print_plan(
            &run_id,
            &account,
            &config.region,
            &config.model,
            config.max_calls,
            out,
        );
        return EXIT_OK;
    }
    let aws = match verified(config, setup).await {
        Ok(a) => a,
        Err(e) => {
            smoke::SmokeReport::refused(&run_id, &config.model, &e).print(out);
            return fail(err, &e);
        }
    };
    // Journaled like any run, so that `keyward sweep` finds what a crash leaves.
    let journal = match Journal::open(&config.state_dir, &run_id) {
        Ok(j) => Arc::new(j),
        Err(e) => return fail(err, &e),
    };
    let _ = journal.meta(&RunMeta {
        command: RunCommand::Record,
        seed: 0,
        cases: 0,
        region: config.region.clone(),
        model: config.model.clone(),
        account: Some(aws.account().to_string()),
        generator: None,
    });
    let _ = writeln!(
        err,
        "smoke run {run_id} in account {} ({}); journal {}",
        aws.account(),
        config.region,
        journal.path().display()
    );
    let opts = live_options(config, setup);
    let work = smoke::run(
        &aws,
        &run_id,
        journal,
        &config.state_dir,
        &config.region,
        &opts,
    );
    let Some(report) = until_interrupted(work, setup.interrupt.take()).await else {
        clean_up_interrupted(&aws, config, &run_id, false, err).await;
        return EXIT_INTERRUPTED;
    };
    report.print(out);
    if report.failed() == 0 {
        EXIT_OK
    } else {
        EXIT_DISAGREE
    }
}

async fn sweep_command(
    config: &LiveConfig,
    setup: &mut Setup,
    run: Option<&str>,
    dry: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    if let Some(r) = run {
        if RunId::parse(r).is_none() {
            let _ = writeln!(
                err,
                "error: --run {r:?}: a run id is 8 lowercase letters and digits"
            );
            return EXIT_BAD_INPUT;
        }
    }
    let aws = match verified(config, setup).await {
        Ok(a) => a,
        Err(e) => return fail(err, &e),
    };
    if dry {
        return match sweep::find(&aws, &config.state_dir, run).await {
            Ok(found) => {
                print_other_accounts(&found.other_accounts, aws.account(), err);
                for (r, _) in &found.resources {
                    let r = redact::for_storage(&r.to_string(), &Renamer::new(), aws.account());
                    let _ = writeln!(out, "would delete {r}");
                }
                let _ = writeln!(out, "{} resources would be deleted", found.resources.len());
                EXIT_OK
            }
            Err(e) => fail(err, &e),
        };
    }
    match sweep::sweep(&aws, &config.state_dir, run).await {
        Ok(r) => {
            print_other_accounts(&r.other_accounts, aws.account(), err);
            // Live names stay (they are what to delete by hand); the account and anything
            // secret in AWS's words do not reach the output, which CI keeps as an artifact.
            let shown = |t: &str| redact::for_storage(t, &Renamer::new(), aws.account());
            for d in &r.deleted {
                let _ = writeln!(out, "deleted {}", shown(&d.to_string()));
            }
            for (d, why) in &r.failed {
                let _ = writeln!(out, "NOT DELETED {}: {}", shown(&d.to_string()), shown(why));
            }
            let _ = writeln!(
                out,
                "{} deleted, {} not deleted",
                r.deleted.len(),
                r.failed.len()
            );
            if r.failed.is_empty() {
                EXIT_OK
            } else {
                EXIT_DISAGREE
            }
        }
        Err(e) => fail(err, &e),
    }
}

/// The journals a sweep left alone because their run was in another account.
fn print_other_accounts(runs: &[(String, String)], account: &str, err: &mut dyn Write) {
    for (run, other) in runs {
        let _ = writeln!(
            err,
            "left run {run} alone: it was made in account {other}, not {account}; sweep it with credentials of {other}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_live_cases_hold_nothing_a_sandbox_cannot() {
        let cases = generated(7, 60);
        assert_eq!(cases.len(), 60);
        for c in &cases {
            let p = c.policies.to_json().to_string();
            for absent in [
                "aws:SourceIp",
                "aws:CurrentTime",
                "\"scp\"",
                "\"rcp\"",
                "\"resource\"",
            ] {
                assert!(!p.contains(absent), "{}: {absent} in {p}", c.id);
            }
        }
        // The same seed gives the same cases (a resumed run depends on it).
        let again = generated(7, 60);
        assert!(cases
            .iter()
            .zip(&again)
            .all(|(a, b)| a.to_json() == b.to_json()));
    }
}
