//! `keyward check --live`, `keyward record` and `keyward sweep`: the command-line side of live
//! mode ([`crate::live`]). Each refuses, before any AWS call, unless the sandbox account is
//! configured, and makes no call but STS GetCallerIdentity until that account is confirmed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_config::SdkConfig;

use super::{EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
use crate::case::Case;
use crate::generate::{GenSettings, SetSettings};
use crate::inputs::{expand, load, Loaded};
use crate::live::enforce::Settle;
use crate::live::journal::{self, Journal, JournalState};
use crate::live::names::RunId;
use crate::live::plan::LivePlan;
use crate::live::runner::{self, LiveOptions, LiveReport, Status};
use crate::live::{guard, probe, sweep, Aws, LiveConfig, LiveError};

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
fn fixture_cases(dir: &Path) -> Result<Vec<Case>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: no fixtures directory", dir.display()));
    }
    let files = expand(&[dir.to_path_buf()]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for item in load(&files) {
        match item {
            Loaded::Case { case, .. } => out.push(*case),
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
        | LiveCommand::Sweep { args, .. } => args.clone(),
    };
    let config = match config_for(&args, &setup) {
        Ok(c) => c,
        Err(e) => return fail(err, &e),
    };
    let (fixtures_dir, cases_n, seed, resume, record) = match &cmd {
        LiveCommand::Check {
            fixtures,
            cases,
            seed,
            resume,
            ..
        } => (fixtures.clone(), *cases, *seed, resume.clone(), None),
        LiveCommand::Record {
            fixtures,
            out,
            cases,
            seed,
            resume,
            probe_assumptions,
            shrink_attempts,
            ..
        } => (
            fixtures.clone(),
            *cases,
            *seed,
            resume.clone(),
            Some((out.clone(), *probe_assumptions, *shrink_attempts)),
        ),
        LiveCommand::Sweep { run, .. } => {
            return sweep_command(&config, &mut setup, run.as_deref(), args.dry_run, out, err)
                .await;
        }
    };
    let fixtures = match fixture_cases(&fixtures_dir) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let probing = record.as_ref().is_some_and(|r| r.1);
    let mut probe_ids: Vec<(&'static str, Vec<String>)> = Vec::new();
    let cases: Vec<Case> = if probing {
        let mut cs: Vec<Case> = Vec::new();
        for (id, ps) in probe::probes(&fixtures) {
            probe_ids.push((id, ps.iter().map(|c| c.id.clone()).collect()));
            for c in ps {
                if !cs.iter().any(|x| x.id == c.id) {
                    cs.push(c);
                }
            }
        }
        cs
    } else if record.is_some() {
        generated(seed, cases_n)
    } else {
        let mut cs = fixtures.clone();
        cs.extend(generated(seed, cases_n));
        cs
    };
    let run_id = match resume.as_deref() {
        Some(r) => match RunId::parse(r) {
            Some(id) => id,
            None => {
                let _ = writeln!(err, "error: --resume {r:?}: a run id is 8 lowercase letters and digits, as printed by the run");
                return EXIT_BAD_INPUT;
            }
        },
        None => RunId::new(),
    };
    if args.dry_run {
        dry_run(&cases, &run_id, &config, out);
        return EXIT_OK;
    }
    let aws = match verified(&config, &mut setup).await {
        Ok(a) => a,
        Err(e) => return fail(err, &e),
    };
    let state: Option<JournalState> = match &resume {
        Some(_) => {
            let p = journal::runs_dir(&config.state_dir).join(format!("{run_id}.jsonl"));
            match journal::read(&p) {
                Ok(s) => Some(s),
                Err(e) => return fail(err, &e),
            }
        }
        None => None,
    };
    let journal = match Journal::open(&config.state_dir, &run_id) {
        Ok(j) => Arc::new(j),
        Err(e) => return fail(err, &e),
    };
    let _ = journal.meta(serde_json::json!({
        "command": if record.is_some() { "record" } else { "check --live" },
        "seed": seed, "cases": cases_n, "region": config.region, "model": config.model,
    }));
    let _ = writeln!(
        err,
        "run {run_id} in account {} ({}); journal {}",
        aws.account(),
        config.region,
        journal.path().display()
    );
    let opts = LiveOptions {
        first_index: 0,
        settle: setup
            .settle
            .clone()
            .unwrap_or_else(|| Settle::new(config.propagation_timeout)),
        concurrency: config.concurrency,
        model: config.model.clone(),
    };
    let work = runner::run_cases(
        &aws,
        &run_id,
        Some(journal.clone()),
        state.as_ref(),
        &cases,
        &opts,
    );
    let interrupt = setup
        .interrupt
        .take()
        .unwrap_or_else(|| Box::pin(std::future::pending()));
    let report = tokio::select! {
        r = work => r,
        _ = interrupt => {
            // The cases in flight are dropped here; what they created is in the journal.
            let _ = writeln!(err, "interrupted: deleting what run {run_id} created ...");
            match sweep::sweep(&aws, &config.state_dir, Some(run_id.as_str())).await {
                Ok(r) => {
                    let _ = writeln!(
                        err,
                        "deleted {} resources; {} could not be deleted (run `keyward sweep`)",
                        r.deleted.len(),
                        r.failed.len()
                    );
                }
                Err(e) => {
                    let _ = writeln!(err, "cleanup failed: {e}; run `keyward sweep --run {run_id}`");
                }
            }
            let _ = writeln!(err, "resume with --resume {run_id}");
            return EXIT_INTERRUPTED;
        }
    };
    print_report(&report, out);
    let mut disagreements = Vec::new();
    if let Some((dir, _, shrink_attempts)) = &record {
        // Shrink candidates are numbered after the run's cases, so their names never collide.
        let mut sopts = opts.clone();
        sopts.first_index = 1_000_000;
        for c in report
            .cases
            .iter()
            .filter(|c| c.status == Status::Disagreed)
        {
            let minimal = runner::shrink(
                &aws,
                &run_id,
                Some(journal.clone()),
                &c.case,
                &sopts,
                *shrink_attempts,
            )
            .await;
            sopts.first_index += u64::from(*shrink_attempts) + 1;
            disagreements.push(minimal);
        }
        let date = today();
        let source = runner::record_source(&run_id, &config.region, &date);
        match runner::write_recorded(&report, dir, &config.state_dir, &source, &date) {
            Ok(files) => {
                for f in files {
                    let _ = writeln!(out, "wrote {}", f.display());
                }
            }
            Err(e) => return fail(err, &e),
        }
    }
    for m in &disagreements {
        let _ = writeln!(
            out,
            "minimal disagreeing case (AWS's answer is in the disagreements file):\n{}",
            m.to_pretty_string()
        );
    }
    if probing {
        let _ = writeln!(out, "assumptions:");
        for (id, case_ids) in &probe_ids {
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
    let passed = report.count(|s| *s == Status::Agreed);
    let failed = report.count(|s| matches!(s, Status::Disagreed | Status::Failed(_)));
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed > 0 || !report.cleanup_failures.is_empty() {
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

fn print_report(report: &LiveReport, out: &mut dyn Write) {
    for c in &report.cases {
        match &c.status {
            Status::Disagreed => {
                let aws = c
                    .aws
                    .as_ref()
                    .map(|e| e.to_json().to_string())
                    .unwrap_or_default();
                let local = c
                    .local
                    .as_ref()
                    .map(|e| e.to_json().to_string())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "DISAGREE {} ({})\n  aws:   {aws}\n  local: {local}",
                    c.case.id, c.oracle
                );
            }
            Status::Failed(why) => {
                let _ = writeln!(out, "FAILED {}: {why}", c.case.id);
            }
            _ => {}
        }
    }
    let skipped = report.count(|s| matches!(s, Status::Skipped(_)));
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in &report.cases {
        if let Status::Skipped(r) = &c.status {
            *reasons.entry(r.as_str()).or_default() += 1;
        }
    }
    let _ = writeln!(
        out,
        "run {}: {} cases, {} skipped, {} AWS calls",
        report.run,
        report.cases.len(),
        skipped,
        report.calls
    );
    for (r, n) in reasons {
        let _ = writeln!(out, "  skipped {n}: {r}");
    }
    for f in &report.cleanup_failures {
        let _ = writeln!(out, "NOT DELETED {f} (run `keyward sweep`)");
    }
    if let Some(s) = &report.stopped {
        let _ = writeln!(out, "stopped early: {s}");
    }
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
                let c = p.plan.calls();
                let r = p.plan.resources();
                calls += c.len();
                resources += r.len();
                match &p.plan {
                    LivePlan::Simulate(_) => sims += 1,
                    LivePlan::Call { .. } => model_calls += 1,
                    LivePlan::CreateKey { .. } => {}
                }
                let _ = writeln!(out, "case {}: {}", case.id, c.join(", "));
                if !r.is_empty() {
                    let _ = writeln!(out, "  creates: {}", r.join(", "));
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "plan: {} cases, {} skipped; about {calls} API calls before batching and retries (cap {}), {sims} simulations, {model_calls} model calls to {} at 1 output token each (each repeated until two answers agree), {resources} IAM resources created and deleted",
        plans.len(),
        skipped,
        config.max_calls,
        config.model
    );
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
                for r in &found {
                    let _ = writeln!(out, "would delete {r}");
                }
                let _ = writeln!(out, "{} resources would be deleted", found.len());
                EXIT_OK
            }
            Err(e) => fail(err, &e),
        };
    }
    match sweep::sweep(&aws, &config.state_dir, run).await {
        Ok(r) => {
            for d in &r.deleted {
                let _ = writeln!(out, "deleted {d}");
            }
            for (d, why) in &r.failed {
                let _ = writeln!(out, "NOT DELETED {d}: {why}");
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
