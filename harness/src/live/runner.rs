//! `keyward check --live` and `keyward record`: plan every case, answer request cases with the
//! simulator (batched) and scenario cases with real requests (a few at a time), compare each
//! answer with the local evaluator's, and write down every finished case in the run's journal
//! so that an interrupted run can be resumed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::enforce::{enforce, EnvProblem, Settle};
use super::journal::{CaseRecord, Journal, JournalState, RecordStatus, Resource};
use super::ledger::Ledger;
use super::names::RunId;
use super::plan::{plan, LivePlan, PlanContext, Planned, SimPlan, Skip};
use super::redact;
use super::simulate::simulate_batch;
use super::{Aws, LiveError};
use keyward_iam::{Policy, PolicySet};

use crate::case::{Case, Expect, Provenance};
use crate::oracle::OracleKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Agreed,
    Disagreed,
    Skipped(Skip),
    /// AWS could not answer (an error, the call cap, IAM not settling).
    Failed(String),
    /// The sandbox account cannot run the case (no access to the model, a model or profile id
    /// the Region does not know): a problem of the run's environment, neither an answer nor a
    /// disagreement. Journaled as failed, so a resumed run tries it again.
    Environment(EnvProblem),
}

impl Status {
    fn record_status(&self) -> RecordStatus {
        match self {
            Status::Agreed => RecordStatus::Agreed,
            Status::Disagreed => RecordStatus::Disagreed,
            Status::Skipped(_) => RecordStatus::Skipped,
            Status::Failed(_) | Status::Environment(_) => RecordStatus::Failed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CaseReport {
    pub index: u64,
    pub case: Case,
    /// [`OracleKind::AwsSimulator`] or [`OracleKind::AwsEnforcement`]; none for skipped cases.
    pub oracle: Option<OracleKind>,
    pub aws: Option<Expect>,
    pub local: Option<Expect>,
    pub status: Status,
}

impl CaseReport {
    /// The case with AWS's answer as its expectation: a recorded fixture.
    pub fn recorded(&self, source: &str) -> Option<Case> {
        let aws = self.aws.clone()?;
        // A recorded fixture says what answered it.
        let oracle = self.oracle?;
        let mut c = self.case.clone();
        c.expect = Some(aws);
        c.provenance = Some(Provenance::Recorded);
        c.source = Some(source.to_string());
        let agreement = match self.status {
            Status::Agreed => "the local evaluator agreed",
            _ => "the local evaluator DISAGREED",
        };
        c.note = Some(format!("answered by {}; {agreement}", oracle.description()));
        Some(c)
    }

    fn journal_record(&self) -> CaseRecord {
        CaseRecord {
            id: self.case.id.clone(),
            oracle: self.oracle,
            status: self.status.record_status(),
            reason: match &self.status {
                Status::Skipped(s) => Some(s.to_string()),
                Status::Failed(r) => Some(r.clone()),
                Status::Environment(p) => Some(p.to_string()),
                Status::Agreed | Status::Disagreed => None,
            },
            skip: match &self.status {
                Status::Skipped(s) => Some(s.clone()),
                _ => None,
            },
            aws: self.aws.clone(),
        }
    }

    /// The report of a case the journal says is finished. `planned` is the case planned again:
    /// journals written before skips were typed give a skip's reason in words only, and the plan
    /// gives it again (a skipped case the plan can now run is run).
    fn from_journal(
        index: u64,
        case: &Case,
        rec: &CaseRecord,
        planned: &Result<Planned, Skip>,
    ) -> Option<CaseReport> {
        if rec.id != case.id {
            return None;
        }
        let status = match rec.status {
            RecordStatus::Agreed => Status::Agreed,
            RecordStatus::Disagreed => Status::Disagreed,
            RecordStatus::Skipped => Status::Skipped(
                rec.skip
                    .clone()
                    .or_else(|| planned.as_ref().err().cloned())?,
            ),
            // Failed cases are run again on resume.
            RecordStatus::Failed => return None,
        };
        Some(CaseReport {
            index,
            case: case.clone(),
            oracle: rec.oracle,
            aws: rec.aws.clone(),
            local: planned.as_ref().ok().map(|p| p.local.clone()),
            status,
        })
    }

    /// A planned case the sandbox account could not run.
    /// AWS's message is redacted like a failure's reason.
    fn environment(
        index: u64,
        p: &Planned,
        oracle: OracleKind,
        problem: EnvProblem,
        account: &str,
    ) -> CaseReport {
        let problem = problem.map_message(|m| redact::for_storage(m, &p.renamer, account));
        CaseReport {
            index,
            case: p.case.clone(),
            oracle: Some(oracle),
            aws: None,
            local: Some(p.local.clone()),
            status: Status::Environment(problem),
        }
    }

    fn skipped(index: u64, case: Case, why: Skip) -> CaseReport {
        CaseReport {
            index,
            case,
            oracle: None,
            aws: None,
            local: None,
            status: Status::Skipped(why),
        }
    }

    /// A planned case and what its oracle answered, or why it could not. The reason of a
    /// failure is AWS's words about the sandbox: it is redacted like an answer, since it goes to
    /// the journal and the report.
    fn answered(
        index: u64,
        p: &Planned,
        oracle: OracleKind,
        answer: Result<Expect, String>,
        account: &str,
    ) -> CaseReport {
        let (aws, status) = match answer {
            Ok(e) => {
                let s = compare(&e, &p.local);
                (Some(e), s)
            }
            Err(why) => (
                None,
                Status::Failed(redact::for_storage(&why, &p.renamer, account)),
            ),
        };
        CaseReport {
            index,
            case: p.case.clone(),
            oracle: Some(oracle),
            aws,
            local: Some(p.local.clone()),
            status,
        }
    }
}

#[derive(Debug)]
pub struct LiveReport {
    pub run: RunId,
    pub cases: Vec<CaseReport>,
    pub calls: u32,
    pub cleanup_failures: Vec<String>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
}

impl LiveReport {
    pub fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.status)).count()
    }
}

#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The run index of the first case (shrinking numbers its candidates after the run's cases).
    pub first_index: u64,
    pub settle: Settle,
    pub concurrency: usize,
    pub model: String,
}

/// Plans every case (pure; also the `--dry-run` view). Case `k` of `cases` is case `first + k`
/// of the run (its index names what it creates).
pub fn plan_all(
    cases: &[Case],
    first: u64,
    run: &RunId,
    account: &str,
    model: &str,
) -> Vec<(u64, Case, Result<Planned, Skip>)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let i = first + i as u64;
            let ctx = PlanContext {
                run: run.clone(),
                index: i,
                account: account.to_string(),
                model: model.to_string(),
                now,
            };
            (i, c.clone(), plan(c, &ctx))
        })
        .collect()
}

fn compare(aws: &Expect, local: &Expect) -> Status {
    // AWS is the reference: every field AWS's answer gives must match.
    if aws.matches(local) {
        Status::Agreed
    } else {
        Status::Disagreed
    }
}

/// The finished cases of a run, each written to the journal as it finishes, so that a crash
/// loses at most the cases in flight.
struct Finished {
    journal: Option<Arc<Journal>>,
    reports: BTreeMap<u64, CaseReport>,
}

impl Finished {
    /// A case finished in this run.
    fn add(&mut self, r: CaseReport) {
        if let Some(j) = &self.journal {
            let _ = j.finished(r.index, &r.journal_record());
        }
        self.reports.insert(r.index, r);
    }

    /// A case an earlier attempt at the run finished; its record is in the journal already.
    fn resumed(&mut self, r: CaseReport) {
        self.reports.insert(r.index, r);
    }
}

/// Simulator questions that share everything but the action and the resource.
type SimBatch = Vec<(u64, Planned, SimPlan)>;

/// The cases still to run, by the oracle that answers them.
#[derive(Default)]
struct ToRun {
    simulations: BTreeMap<String, SimBatch>,
    scenarios: Vec<(u64, Planned)>,
}

/// Plans `cases`: those the journal has finished and those that cannot run live go straight
/// to `done`; the others are returned, sorted by oracle.
fn sort_cases(
    aws: &Aws,
    run: &RunId,
    resume: Option<&JournalState>,
    cases: &[Case],
    opts: &LiveOptions,
    done: &mut Finished,
) -> ToRun {
    let mut to_run = ToRun::default();
    for (i, case, planned) in plan_all(cases, opts.first_index, run, aws.account(), &opts.model) {
        if let Some(r) = resume
            .and_then(|st| st.finished.get(&i))
            .and_then(|rec| CaseReport::from_journal(i, &case, rec, &planned))
        {
            done.resumed(r);
            continue;
        }
        match planned {
            Err(why) => done.add(CaseReport::skipped(i, case, why)),
            Ok(p) => match &p.plan {
                LivePlan::Simulate(s) => {
                    let s = s.clone();
                    to_run
                        .simulations
                        .entry(s.batch_key())
                        .or_default()
                        .push((i, p, s));
                }
                _ => to_run.scenarios.push((i, p)),
            },
        }
    }
    to_run
}

/// Asks the simulator, one call per batch. Once the call cap is reached (`stopped`), the
/// remaining batches fail without a call.
async fn simulate_all(
    aws: &Aws,
    batches: impl IntoIterator<Item = SimBatch>,
    stopped: &mut Option<String>,
    done: &mut Finished,
) {
    for batch in batches {
        let plans: Vec<&SimPlan> = batch.iter().map(|(_, _, s)| s).collect();
        let answers = if stopped.is_none() {
            simulate_batch(aws, &plans).await
        } else {
            Err(LiveError::Interrupted)
        };
        if let Err(e @ LiveError::CallCapReached { .. }) = &answers {
            *stopped = Some(e.to_string());
        }
        for (k, (i, p, _)) in batch.into_iter().enumerate() {
            let answer = match &answers {
                Ok(a) => a[k].clone().ok_or_else(|| {
                    "the simulator gave no result for this action and resource".to_string()
                }),
                Err(e) => Err(e.to_string()),
            };
            done.add(CaseReport::answered(
                i,
                &p,
                OracleKind::AwsSimulator,
                answer,
                aws.account(),
            ));
        }
    }
}

/// What one scenario task hands back: the case, its answer, and what its cleanup left.
type Enforced = (
    u64,
    Planned,
    Result<Expect, LiveError>,
    Vec<(Resource, String)>,
);

/// Starts a task per scenario, at most `opts.concurrency` at a time. Each creates what its case
/// needs in a ledger of its own under `root`, makes the request, and cleans up after itself.
/// Once one reaches the call cap (or `stopped` is already set), those not started yet do nothing.
fn spawn_scenarios(
    aws: &Aws,
    run: &RunId,
    root: &Ledger,
    scenarios: Vec<(u64, Planned)>,
    opts: &LiveOptions,
    stopped: bool,
) -> JoinSet<Enforced> {
    let gate = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let stop = Arc::new(AtomicBool::new(stopped));
    let mut tasks = JoinSet::new();
    for (i, p) in scenarios {
        let (aws, run, gate, stop, ledger, settle) = (
            aws.clone(),
            run.clone(),
            gate.clone(),
            stop.clone(),
            root.child(),
            opts.settle.clone(),
        );
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            if stop.load(Ordering::SeqCst) {
                return (i, p, Err(LiveError::Interrupted), Vec::new());
            }
            let answer = enforce(&aws, &ledger, &run, &p, &settle).await;
            if let Err(LiveError::CallCapReached { .. }) = &answer {
                stop.store(true, Ordering::SeqCst);
            }
            let failed = ledger.cleanup(&aws).await;
            (i, p, answer, failed)
        });
    }
    tasks
}

/// Collects the scenario tasks as they finish. Returns what their cleanups could not delete.
async fn collect_scenarios(
    aws: &Aws,
    mut tasks: JoinSet<Enforced>,
    stopped: &mut Option<String>,
    done: &mut Finished,
) -> Vec<String> {
    let mut cleanup_failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, p, answer, failed)) = joined else {
            continue;
        };
        cleanup_failures.extend(failed.into_iter().map(|(r, e)| format!("{r}: {e}")));
        if let Err(LiveError::Skip(why)) = answer {
            done.add(CaseReport::skipped(i, p.case.clone(), why));
            continue;
        }
        if let Err(LiveError::Environment(problem)) = answer {
            done.add(CaseReport::environment(
                i,
                &p,
                OracleKind::AwsEnforcement,
                problem,
                aws.account(),
            ));
            continue;
        }
        let answer = answer.map_err(|e| match e {
            LiveError::Interrupted => "not run: the run stopped".to_string(),
            e => {
                if matches!(e, LiveError::CallCapReached { .. }) {
                    stopped.get_or_insert_with(|| e.to_string());
                }
                e.to_string()
            }
        });
        done.add(CaseReport::answered(
            i,
            &p,
            OracleKind::AwsEnforcement,
            answer,
            aws.account(),
        ));
    }
    cleanup_failures
}

/// Runs `cases` live. `resume` holds a journal read back: its finished cases are not run again.
pub async fn run_cases(
    aws: &Aws,
    run: &RunId,
    journal: Option<Arc<Journal>>,
    resume: Option<&JournalState>,
    cases: &[Case],
    opts: &LiveOptions,
) -> LiveReport {
    let root = Ledger::new(journal.clone(), run.clone());
    let mut done = Finished {
        journal: journal.clone(),
        reports: BTreeMap::new(),
    };
    let to_run = sort_cases(aws, run, resume, cases, opts, &mut done);
    let mut stopped = None;
    simulate_all(
        aws,
        to_run.simulations.into_values(),
        &mut stopped,
        &mut done,
    )
    .await;
    let tasks = spawn_scenarios(aws, run, &root, to_run.scenarios, opts, stopped.is_some());
    let mut cleanup_failures = collect_scenarios(aws, tasks, &mut stopped, &mut done).await;
    cleanup_failures.extend(
        root.cleanup(aws)
            .await
            .into_iter()
            .map(|(r, e)| format!("{r}: {e}")),
    );
    // Every case once more, resumed ones too: the journal's last word on each is this run's.
    if let Some(j) = &journal {
        for r in done.reports.values() {
            let _ = j.finished(r.index, &r.journal_record());
        }
    }
    LiveReport {
        run: run.clone(),
        cases: done.reports.into_values().collect(),
        calls: aws.budget().used(),
        cleanup_failures,
        stopped,
    }
}

/// The source line of recorded fixtures: date, region and SDK versions.
pub fn record_source(run: &RunId, region: &str, date: &str) -> String {
    format!(
        "keyward record, run {run}, {date}, region {region}, aws-sdk-iam {}, aws-sdk-bedrockruntime {}",
        aws_sdk_iam::meta::PKG_VERSION,
        aws_sdk_bedrockruntime::meta::PKG_VERSION
    )
}

/// Writes the agreeing answers to `dir/<date>-<run>.json` (recorded fixtures) and the
/// disagreements, as ready-to-review cases, to `<state_dir>/runs/<run>-disagreements.json`.
/// Returns the files written.
pub fn write_recorded(
    report: &LiveReport,
    dir: &Path,
    state_dir: &Path,
    source: &str,
    date: &str,
) -> Result<Vec<PathBuf>, LiveError> {
    let io = |p: &Path, e: std::io::Error| LiveError::Journal {
        file: p.display().to_string(),
        message: e.to_string(),
    };
    let mut written = Vec::new();
    let mut agreed = Vec::new();
    let mut disagreed = Vec::new();
    for r in &report.cases {
        let Some(c) = r.recorded(source) else {
            continue;
        };
        match r.status {
            Status::Agreed => agreed.push(c.to_json()),
            Status::Disagreed => disagreed.push(c.to_json()),
            _ => {}
        }
    }
    if !agreed.is_empty() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let p = dir.join(format!("{date}-{}.json", report.run));
        let text = serde_json::to_string_pretty(&Value::Array(agreed)).unwrap_or_default() + "\n";
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        written.push(p);
    }
    if !disagreed.is_empty() {
        let d = super::journal::runs_dir(state_dir);
        std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        let p = d.join(format!("{}-disagreements.json", report.run));
        let text =
            serde_json::to_string_pretty(&Value::Array(disagreed)).unwrap_or_default() + "\n";
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        written.push(p);
    }
    Ok(written)
}

/// Smaller versions of a case: one policy (or organization level) or one statement fewer, made
/// on the compiled policies.
pub fn shrink_candidates(case: &Case) -> Vec<Case> {
    let mut sets: Vec<PolicySet> = Vec::new();
    let p: &PolicySet = &case.policies;
    fn without<T: Clone>(items: &[T], i: usize) -> Vec<T> {
        let mut v = items.to_vec();
        v.remove(i);
        v
    }
    // Each list of policies: drop one, or one statement of one.
    type List = fn(&mut PolicySet) -> &mut Vec<Policy>;
    let lists: [(&[Policy], List); 3] = [
        (&p.identity, |s| &mut s.identity),
        (p.session.as_deref().unwrap_or_default(), |s| {
            s.session.get_or_insert_with(Vec::new)
        }),
        (&p.resource, |s| &mut s.resource),
    ];
    for (items, slot) in lists {
        for i in 0..items.len() {
            let mut s = p.clone();
            *slot(&mut s) = without(items, i);
            sets.push(s);
            for j in 0..items[i].statements().len() {
                if let Some(smaller) = items[i].without_statement(j) {
                    let mut s = p.clone();
                    slot(&mut s)[i] = smaller;
                    sets.push(s);
                }
            }
        }
    }
    // Organization levels: drop one level.
    type Levels = Option<Vec<Vec<Policy>>>;
    type LevelSlot = fn(&mut PolicySet) -> &mut Levels;
    let levels = |l: &Levels| l.as_ref().map_or(0, Vec::len);
    let orgs: [(usize, LevelSlot); 2] = [
        (levels(&p.scp), |s| &mut s.scp),
        (levels(&p.rcp), |s| &mut s.rcp),
    ];
    for (n, slot) in orgs {
        for i in 0..n {
            let mut s = p.clone();
            if let Some(ls) = slot(&mut s) {
                ls.remove(i);
            }
            sets.push(s);
        }
    }
    sets.into_iter()
        .map(|policies| Case {
            policies: Arc::new(policies),
            ..case.clone()
        })
        .collect()
}

/// Greedy shrinking with AWS in the loop: keeps a smaller case while AWS and the local evaluator
/// still disagree on it, for at most `attempts` live runs.
/// Candidates are numbered from `opts.first_index` and journaled like any case.
pub async fn shrink(
    aws: &Aws,
    run: &RunId,
    journal: Option<Arc<Journal>>,
    case: &Case,
    opts: &LiveOptions,
    attempts: u32,
) -> Case {
    let mut best = case.clone();
    let mut left = attempts;
    let mut opts = opts.clone();
    'outer: while left > 0 {
        for cand in shrink_candidates(&best) {
            if left == 0 {
                break 'outer;
            }
            left -= 1;
            opts.first_index += 1;
            let r = run_cases(
                aws,
                run,
                journal.clone(),
                None,
                std::slice::from_ref(&cand),
                &opts,
            )
            .await;
            if r.cases
                .first()
                .is_some_and(|c| c.status == Status::Disagreed)
            {
                best = cand;
                continue 'outer;
            }
        }
        break;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report_of(case: &Case, aws: Expect, status: Status, index: u64) -> CaseReport {
        CaseReport {
            index,
            case: case.clone(),
            oracle: Some(OracleKind::AwsSimulator),
            aws: Some(aws),
            local: Some(case.verdict().answer()),
            status,
        }
    }

    #[test]
    fn agreements_become_recorded_fixtures_and_disagreements_go_aside() {
        let mk = |id: &str, action: &str| {
            Case::from_json(&json!({
                "id": id,
                "policies": {"identity": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}]},
                "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": action, "resource": "*"}
            }))
            .unwrap()
        };
        let agreed = mk("g/agree", "s3:GetObject");
        let disagreed = mk("g/disagree", "s3:PutObject");
        let allow = Expect {
            decision: Some(keyward_iam::DecisionKind::Allow),
            ..Expect::default()
        };
        let deny = Expect {
            decision: Some(keyward_iam::DecisionKind::ImplicitDeny),
            ..Expect::default()
        };
        let run = RunId::parse("abcdefgh").unwrap();
        let report = LiveReport {
            run: run.clone(),
            cases: vec![
                report_of(&agreed, allow, Status::Agreed, 0),
                report_of(&disagreed, deny, Status::Disagreed, 1),
                CaseReport {
                    index: 2,
                    case: mk("g/skip", "s3:X"),
                    oracle: None,
                    aws: None,
                    local: None,
                    status: Status::Skipped(Skip::Mantle),
                },
            ],
            calls: 1,
            cleanup_failures: Vec::new(),
            stopped: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fixtures/recorded");
        let source = record_source(&run, "us-east-1", "2026-11-28");
        let files = write_recorded(&report, &out, dir.path(), &source, "2026-11-28").unwrap();
        assert_eq!(files.len(), 2);
        let text = std::fs::read_to_string(out.join("2026-11-28-abcdefgh.json")).unwrap();
        let cases: Vec<Case> = crate::case::read_cases("r.json", &text)
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(cases.len(), 1);
        let c = &cases[0];
        assert_eq!(c.id, "g/agree");
        assert_eq!(c.provenance, Some(Provenance::Recorded));
        assert!(
            c.source.as_deref().unwrap().contains("aws-sdk-iam 1."),
            "{:?}",
            c.source
        );
        assert!(c.source.as_deref().unwrap().contains("us-east-1"));
        // A recorded fixture agrees with the local evaluator, so `keyward check` stays green.
        assert_eq!(c.verdict().agrees, Some(true));
        let aside =
            std::fs::read_to_string(dir.path().join("runs/abcdefgh-disagreements.json")).unwrap();
        assert!(
            aside.contains("g/disagree") && aside.contains("DISAGREED"),
            "{aside}"
        );
        assert!(!aside.contains("g/agree") && !text.contains("g/skip"));
    }

    #[test]
    fn candidates_drop_one_policy_or_statement() {
        let c = Case::from_json(&json!({
            "id": "x",
            "policies": {"identity": [
                {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}]},
            "request": {"principal": "arn:aws:iam::123456789012:user/a", "action": "s3:GetObject", "resource": "*"}
        }))
        .unwrap();
        let cands = shrink_candidates(&c);
        // The whole policy, then each of its two statements.
        assert_eq!(cands.len(), 3);
        assert!(cands.iter().all(|k| k.policies != c.policies));
    }
}
