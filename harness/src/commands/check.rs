//! `keyward check`: the main job. Replays every fixture (the local evaluator against the
//! fixture store) or a user's own case files and folders, warns of the lints of their policies,
//! then runs the properties on generated cases, and reports; the last line is
//! `N passed, M failed`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::{AssumptionCounts, Format, Tally, EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
use crate::compare::{compare_now, Comparison, Outcome};
use crate::inputs::{expand, load_with, Loaded};
use crate::lints::{Linter, Warning};
use crate::locate::{Locator, Target};
use crate::oracle::{Fixtures, Local, Oracle};
use crate::properties::Property;
use crate::run::{run as run_properties, RunOptions, RunResult, Shard};
use crate::sarif::{Finding, Rule};

pub struct CheckOptions {
    /// Case files and folders (`--fixtures`, repeatable).
    pub fixtures: Vec<PathBuf>,
    /// A lint warning makes an exit of 0 one of 1 (`--deny-warnings`).
    pub deny_warnings: bool,
    pub run: RunOptions,
    /// How the report is printed (`--format`; `--json` is `json`).
    pub format: Format,
    pub junit: Option<PathBuf>,
    pub save_failures: Option<PathBuf>,
    /// Show a progress bar (only on a terminal).
    pub progress: bool,
    /// Compare with another evaluator instead of running the properties (`--oracle`).
    pub oracle: Option<PeerOracle>,
    /// The peer bridge's folder (`--peer-dir`).
    pub peer_dir: PathBuf,
    /// With `--oracle`: unexplained disagreements shrunk per kind.
    pub peer_shrink_per_key: usize,
    /// `--policies`: policies that stand in for those of the fixtures' suites and cases.
    pub policies: Option<PathBuf>,
}

/// The evaluators `check --oracle` compares keyward with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerOracle {
    /// `@cloud-copilot/iam-simulate`, through the bridge in `harness/peer/iam-simulate`.
    IamSimulate,
}

impl PeerOracle {
    pub fn parse(s: &str) -> Result<PeerOracle, String> {
        match s {
            "iam-simulate" => Ok(PeerOracle::IamSimulate),
            _ => Err(format!("unknown oracle {s:?}; one of: iam-simulate")),
        }
    }
}

/// The default number of generated cases: well under 10 s on a 2-core machine.
pub const DEFAULT_CASES: u64 = 22_000;
pub const DEFAULT_SEED: u64 = 0x6b65_7977_6172_6421;

impl CheckOptions {
    pub fn new(fixtures: Vec<PathBuf>) -> CheckOptions {
        CheckOptions {
            fixtures,
            deny_warnings: false,
            run: RunOptions {
                cases: DEFAULT_CASES,
                seed: DEFAULT_SEED,
                shard: Shard::ALL,
                time_budget: None,
                properties: Property::ALL.to_vec(),
                threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
                gen: Default::default(),
                sets: Default::default(),
            },
            format: Format::Text,
            junit: None,
            save_failures: None,
            progress: true,
            oracle: None,
            peer_dir: PathBuf::from(crate::peer::DEFAULT_DIR),
            peer_shrink_per_key: 2,
            policies: None,
        }
    }
}

/// One case read (or an input that could not be read), in reading order: a JUnit test case.
struct CaseLine {
    id: String,
    file: String,
    /// The disagreement (or provenance) text; `None` when the case passed.
    problem: Option<String>,
    /// The case could not be read: `problem` is the error.
    unreadable: bool,
}

/// A fixture on which two oracles disagree, or that cannot be read.
struct FixtureProblem {
    id: String,
    file: String,
    text: String,
    /// Which: a disagreement (or a failed answer), an unreadable case, an unnamed assumption.
    rule: Rule,
    /// Where the case (or the unreadable part of it) sits.
    target: Option<Target>,
    /// Why the oracle under test answered as it did, for a disagreement (`--json`'s `reason`).
    reason: Option<String>,
}

/// A fixture whose local answer rests on registered assumptions.
struct RestsOn {
    id: String,
    file: String,
    assumptions: Vec<&'static str>,
}

struct Report {
    /// What was read, as given (`--fixtures`).
    read: Vec<PathBuf>,
    files: usize,
    /// Every case, for JUnit.
    cases: Vec<CaseLine>,
    /// The lint warnings on the cases' policies, and in how many distinct policy sets.
    warnings: Vec<Warning>,
    warned_sets: usize,
    /// The fixture store against the oracle under test.
    fixtures: Comparison,
    /// Fixtures that could not be read.
    unreadable: usize,
    /// Agreeing fixtures that do not name the assumptions they rest on.
    unnamed: usize,
    /// Unreadable fixtures and disagreements, in the order the fixtures were read.
    problems: Vec<FixtureProblem>,
    /// The fixtures whose local answer rests on registered assumptions, in reading order.
    rests_on: Vec<RestsOn>,
    /// The property run; `None` with `--cases 0`.
    run: Option<RunResult>,
    opts_seed: u64,
    shard: Shard,
}

impl Report {
    fn generated_tally(&self) -> Tally {
        let Some(run) = &self.run else {
            return Tally::default();
        };
        let failed = run.failures().count();
        Tally {
            passed: run.total_cases() as usize - failed,
            failed,
            unreadable: 0,
        }
    }

    fn fixture_tally(&self) -> Tally {
        let t = self.fixtures.tally();
        Tally {
            unreadable: self.unreadable,
            passed: t.passed - self.unnamed,
            failed: t.failed + self.unnamed,
        }
    }

    fn assumption_counts(&self) -> AssumptionCounts {
        let mut c = AssumptionCounts::default();
        for r in &self.rests_on {
            c.record(&r.assumptions);
        }
        c
    }

    fn total(&self) -> Tally {
        let (f, g) = (self.fixture_tally(), self.generated_tally());
        Tally {
            passed: f.passed + g.passed,
            failed: f.failed + g.failed,
            unreadable: f.unreadable,
        }
    }

    /// The paths read, as given: `fixtures`, `cases/a.json, cases/more`.
    fn read_text(&self) -> String {
        self.read
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `lints: N warnings in M policy sets (standard error); --deny-warnings fails on them`.
    fn lints_line(&self) -> String {
        let n = self.warnings.len();
        format!(
            "lints: {n} warning{} in {} policy set{} (standard error){}\n",
            if n == 1 { "" } else { "s" },
            self.warned_sets,
            if self.warned_sets == 1 { "" } else { "s" },
            if n == 0 {
                ""
            } else {
                "; --deny-warnings fails on them"
            }
        )
    }

    fn text(&self) -> String {
        let mut s = format!(
            "keyward check: {} ({} file{})\n",
            self.read_text(),
            self.files,
            if self.files == 1 { "" } else { "s" }
        );
        s.push_str(&self.fixtures.summary_text());
        for p in &self.problems {
            s.push_str(&p.text);
            s.push('\n');
        }
        let counts = self.assumption_counts();
        if !self.rests_on.is_empty() {
            s.push_str(&format!(
                "{} fixtures rest on registered assumptions (docs/aws-behaviour.md):\n",
                self.rests_on.len()
            ));
            for line in counts.lines().lines() {
                s.push_str(&format!("  {line}\n"));
            }
        }
        s.push_str(&self.lints_line());
        // With --cases 0 no property ran: no section for them.
        let Some(r) = &self.run else {
            s.push_str(&self.total().summary_line());
            s.push('\n');
            return s;
        };
        s.push_str(&format!(
            "properties of {} on generated cases (seed {}, shard {}/{}):\n",
            self.fixtures.tested, self.opts_seed, self.shard.k, self.shard.n
        ));
        for (p, res) in &r.per_property {
            let stopped = if res.failures.is_empty() {
                ""
            } else {
                " (stopped at the first failure)"
            };
            s.push_str(&format!(
                "  {:<30} {:>6} cases, {} failed{stopped}\n",
                p.name(),
                res.cases,
                res.failures.len()
            ));
        }
        s.push_str(&format!(
            "generated {} cases in {:.1} s on {} threads: {:.0} cases per minute per core{}\n",
            r.total_cases(),
            r.elapsed.as_secs_f64(),
            r.threads,
            r.cases_per_minute_per_core(),
            if r.cut_short {
                " (stopped by --time-budget)"
            } else {
                ""
            }
        ));
        for f in r.failures() {
            s.push_str(&format!(
                "FAIL {} (case {}): {}\n  {}\n  minimal case:\n",
                f.property.name(),
                f.index,
                f.property.statement(),
                f.reason
            ));
            let case = serde_json::to_string_pretty(&f.case).unwrap_or_default();
            for line in case.lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
        s.push_str(&self.total().summary_line());
        s.push('\n');
        s
    }

    /// The SARIF log: each disagreement and unreadable case a result on its case's line, each
    /// lint warning one on its statement. A failed property's case was generated, so no file
    /// holds it: it is in the text, JSON and Markdown reports, not here.
    fn sarif(&self) -> Value {
        let mut rules = vec![
            Rule::DISAGREEMENT,
            Rule::UNREADABLE,
            Rule::UNNAMED_ASSUMPTION,
        ];
        rules.extend(Rule::lints());
        crate::sarif::log(&rules, &self.findings())
    }

    /// Each disagreement and unreadable case on its case, each lint on its statement.
    fn findings(&self) -> Vec<Finding> {
        let mut locator = Locator::default();
        let mut findings: Vec<Finding> = self
            .problems
            .iter()
            .map(|p| Finding {
                rule: p.rule.id,
                level: p.rule.level,
                message: p.text.clone(),
                location: p.target.as_ref().and_then(|t| locator.locate(t)),
            })
            .collect();
        findings.extend(super::warning_findings(&self.warnings, &mut locator));
        findings
    }

    /// A summary for a CI job or a pull request: the counts, the first problems and failed
    /// properties (with their minimal cases), and the lints.
    fn markdown(&self) -> String {
        const FIRST: usize = 10;
        let mut locator = Locator::default();
        let t = self.total();
        let f = self.fixture_tally();
        let mut s = format!(
            "## keyward check `{}`\n\n{}\n\n| | passed | failed | unreadable |\n|---|---|---|---|\n| cases read ({} file{}) | {} | {} | {} |\n",
            self.read_text(),
            if t.failed == 0 && t.unreadable == 0 {
                "**Every case agrees.**".to_string()
            } else {
                format!("**{} failed, {} unreadable.**", t.failed, t.unreadable)
            },
            self.files,
            if self.files == 1 { "" } else { "s" },
            f.passed,
            f.failed,
            f.unreadable
        );
        if self.run.is_some() {
            let g = self.generated_tally();
            s.push_str(&format!(
                "| generated cases (seed {}) | {} | {} | |\n",
                self.opts_seed, g.passed, g.failed
            ));
        }
        if !self.problems.is_empty() {
            s.push_str(&format!(
                "\n### Problems ({}{})\n\n",
                self.problems.len(),
                if self.problems.len() > FIRST {
                    format!(", the first {FIRST}")
                } else {
                    String::new()
                }
            ));
            for p in self.problems.iter().take(FIRST) {
                let at = p
                    .target
                    .as_ref()
                    .and_then(|t| locator.locate(t))
                    .map_or_else(|| p.file.clone(), |l| l.to_string());
                s.push_str(&format!(
                    "- `{}` at `{at}`:\n\n  ```\n{}\n  ```\n",
                    p.id,
                    indent(&p.text, "  ")
                ));
            }
        }
        let failures: Vec<_> = self.run.iter().flat_map(|r| r.failures()).collect();
        if !failures.is_empty() {
            s.push_str(&format!("\n### Failed properties ({})\n\n", failures.len()));
            for fl in failures.iter().take(FIRST) {
                s.push_str(&format!(
                    "- **{}** (case {}): {}\n\n  {}\n\n  Minimal case:\n\n  ```json\n{}\n  ```\n",
                    fl.property.name(),
                    fl.index,
                    fl.property.statement(),
                    fl.reason,
                    indent(
                        &serde_json::to_string_pretty(&fl.case).unwrap_or_default(),
                        "  "
                    )
                ));
            }
        }
        s.push_str(&format!(
            "\n### Lints ({} warning{})\n\n",
            self.warnings.len(),
            if self.warnings.len() == 1 { "" } else { "s" }
        ));
        if self.warnings.is_empty() {
            s.push_str("None.\n");
        }
        for w in self.warnings.iter().take(FIRST) {
            let at = w
                .target
                .as_ref()
                .and_then(|t| locator.locate(t))
                .map_or_else(|| w.file.clone(), |l| l.to_string());
            s.push_str(&format!(
                "- **`{}`** at `{at}` (case `{}`, `{}`): {}\n",
                w.lint.id,
                w.case,
                w.path,
                super::lint_text(&w.lint)
            ));
        }
        if self.warnings.len() > FIRST {
            s.push_str(&format!(
                "- and {} more (standard error lists them all)\n",
                self.warnings.len() - FIRST
            ));
        }
        s
    }

    fn json(&self) -> Value {
        let t = self.total();
        let f = self.fixture_tally();
        // With --cases 0 no property ran: `generated` is null.
        let generated = self.run.as_ref().map(|r| json!({
                "seed": self.opts_seed,
                "shard": format!("{}/{}", self.shard.k, self.shard.n),
                "cases": r.total_cases(),
                "seconds": r.elapsed.as_secs_f64(),
                "threads": r.threads,
                "cases_per_minute_per_core": r.cases_per_minute_per_core(),
                "cut_short": r.cut_short,
                "properties": r.per_property.iter().map(|(p, res)| json!({
                    "name": p.name(), "statement": p.statement(), "cases": res.cases,
                    "failures": res.failures.iter().map(|f| json!({"case": f.index, "reason": f.reason, "minimal_case": f.case})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }));
        json!({
            "read": self.read.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "fixtures": {
                "files": self.files,
                "passed": f.passed,
                "failed": f.failed,
                "unreadable": f.unreadable,
                "per_provenance": self.fixtures.per_provenance_json(),
                "problems": self.problems.iter().map(|p| json!({"id": p.id, "file": p.file, "detail": p.text, "reason": p.reason})).collect::<Vec<_>>(),
                "assumptions": self.assumption_counts().to_json(),
                "resting_on_assumptions": self.rests_on.iter().map(|r| json!({"id": r.id, "file": r.file, "assumptions": r.assumptions})).collect::<Vec<_>>(),
            },
            "lints": self.warnings.iter().map(Warning::to_json).collect::<Vec<_>>(),
            "generated": generated,
            "passed": t.passed,
            "failed": t.failed + t.unreadable,
        })
    }

    fn junit(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut suites = String::new();
        let errors = self.cases.iter().filter(|c| c.unreadable).count();
        let failures = self.cases.iter().filter(|c| c.problem.is_some()).count() - errors;
        suites.push_str(&format!(
            "  <testsuite name=\"fixtures\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n",
            self.cases.len()
        ));
        let counts = self.assumption_counts().ranked();
        if !counts.is_empty() {
            suites.push_str("    <properties>\n");
            for (a, n) in counts {
                suites.push_str(&format!(
                    "      <property name=\"fixtures resting on {a}\" value=\"{n}\"/>\n"
                ));
            }
            suites.push_str("    </properties>\n");
        }
        // One test case per case read: classname its file, name its id.
        for c in &self.cases {
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                esc(&c.file),
                esc(&c.id)
            );
            match &c.problem {
                None => suites.push_str(&format!("{head}/>\n")),
                Some(text) => {
                    let (tag, rests_on) = if c.unreadable {
                        ("error", String::new())
                    } else {
                        let rests_on = self
                            .rests_on
                            .iter()
                            .find(|r| r.id == c.id && r.file == c.file)
                            .map(|r| format!("\nrests on: {}", r.assumptions.join(", ")))
                            .unwrap_or_default();
                        ("failure", rests_on)
                    };
                    suites.push_str(&format!(
                        "{head}><{tag} message=\"{}\">{}{}</{tag}></testcase>\n",
                        esc(text.lines().next().unwrap_or_default()),
                        esc(text),
                        esc(&rests_on)
                    ));
                }
            }
        }
        suites.push_str("  </testsuite>\n");
        let no_run = Vec::new();
        let per_property = self.run.as_ref().map_or(&no_run, |r| &r.per_property);
        for (p, res) in per_property {
            suites.push_str(&format!(
                "  <testsuite name=\"property {}\" tests=\"{}\" failures=\"{}\">\n    <testcase classname=\"properties\" name=\"{}\">",
                p.name(),
                res.cases,
                res.failures.len(),
                p.name()
            ));
            for f in &res.failures {
                suites.push_str(&format!(
                    "<failure message=\"{}\">{}</failure>",
                    esc(&f.reason),
                    esc(&serde_json::to_string_pretty(&f.case).unwrap_or_default())
                ));
            }
            suites.push_str("</testcase>\n  </testsuite>\n");
        }
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"keyward check\">\n{suites}</testsuites>\n")
    }
}

fn progress_bar(total: u64, enabled: bool) -> Option<indicatif::ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() || total == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} generated cases {elapsed}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

pub fn run(opts: &CheckOptions, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match opts.oracle {
        Some(PeerOracle::IamSimulate) => run_against_peer(opts, &Local, out, err),
        None => run_with_oracle(opts, &Local, out, err),
    }
}

/// The case files `--fixtures` names (files as they are, folders walked), or why they cannot be
/// read.
fn fixture_files(opts: &CheckOptions) -> Result<Vec<PathBuf>, String> {
    if let Some(missing) = opts
        .fixtures
        .iter()
        .find(|p| p.as_os_str() != "-" && !p.exists())
    {
        return Err(format!(
            "{}: no such file or directory (--fixtures takes case files and folders; the \
             default, fixtures, is the repository's own: run from its root)",
            missing.display()
        ));
    }
    expand(&opts.fixtures).map_err(|e| e.to_string())
}

/// The same run with another oracle under test in place of the local evaluator (the harness's
/// own tests plant bugs this way).
pub fn run_with_oracle(
    opts: &CheckOptions,
    oracle: &dyn Oracle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let files = match fixture_files(opts) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let reader = match crate::inputs::reader(opts.policies.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: --policies: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let fixtures = compare_fixtures(&files, &reader, oracle, err);
    let shard = opts.run.shard;
    // --cases 0: the cases read only, no property run.
    let run = (opts.run.cases > 0).then(|| {
        let expected = opts.run.cases / u64::from(shard.n);
        let bar = progress_bar(expected, opts.progress);
        let tick = |d: u64| {
            if let Some(b) = &bar {
                b.set_position(d);
            }
        };
        let run = run_properties(&opts.run, oracle, &tick);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        run
    });

    let report = Report {
        read: opts.fixtures.clone(),
        cases: fixtures.cases,
        warnings: fixtures.warnings,
        warned_sets: fixtures.warned_sets,
        files: files.len(),
        fixtures: fixtures.comparison,
        unreadable: fixtures.unreadable,
        unnamed: fixtures.unnamed,
        problems: fixtures.problems,
        rests_on: fixtures.rests_on,
        run,
        opts_seed: opts.run.seed,
        shard,
    };
    if let (Some(dir), Some(run)) = (&opts.save_failures, &report.run) {
        if let Err(e) = save_failures(dir, run) {
            let _ = writeln!(err, "error: --save-failures {}: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(path) = &opts.junit {
        if let Err(e) = std::fs::write(path, report.junit()) {
            let _ = writeln!(err, "error: --junit {}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    super::print_warnings(&report.warnings, err);
    match opts.format {
        Format::Json => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&report.json()).unwrap_or_default()
            );
        }
        Format::Text => {
            let _ = write!(out, "{}", report.text());
        }
        Format::Sarif => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&report.sarif()).unwrap_or_default()
            );
        }
        Format::Markdown => {
            let _ = write!(out, "{}", report.markdown());
        }
        Format::Short => {
            let _ = write!(out, "{}", super::short_lines(&report.findings()));
            let _ = writeln!(out, "{}", report.total().summary_line());
        }
    }
    let t = report.total();
    let code = if t.unreadable > 0 {
        EXIT_BAD_INPUT
    } else if t.failed > 0 {
        EXIT_DISAGREE
    } else {
        EXIT_OK
    };
    super::deny_warnings(code, opts.deny_warnings, &report.warnings)
}

/// The fixtures, read and answered by the fixture store and by `oracle`.
struct FixtureRun {
    comparison: Comparison,
    unreadable: usize,
    /// Fixtures that agree but claim more than keyward's answer supports (unnamed assumptions,
    /// an incomplete message): failures too.
    unnamed: usize,
    problems: Vec<FixtureProblem>,
    rests_on: Vec<RestsOn>,
    /// Every case in reading order, passed or not.
    cases: Vec<CaseLine>,
    /// The lints of the cases' policies, and in how many distinct sets.
    warnings: Vec<Warning>,
    warned_sets: usize,
}

/// Oracle against oracle: the fixture store against `oracle` on every fixture of `files`.
/// Unreadable cases are reported (to `err` as they are met) and the others compared.
fn compare_fixtures(
    files: &[PathBuf],
    reader: &crate::case::Reader,
    oracle: &dyn Oracle,
    err: &mut dyn Write,
) -> FixtureRun {
    // Where each problem goes among the others: an unreadable case, or the k-th case read.
    enum Slot {
        Unreadable(Box<FixtureProblem>),
        Case(usize),
    }
    let (mut cases, mut places, mut slots) = (Vec::new(), Vec::new(), Vec::new());
    for item in load_with(files, reader) {
        match item {
            Loaded::Error(e) => {
                let _ = writeln!(err, "error: {e}");
                slots.push(Slot::Unreadable(Box::new(FixtureProblem {
                    id: e.case.clone().unwrap_or_else(|| e.file.clone()),
                    file: e.file.clone(),
                    text: format!("UNREADABLE {e}"),
                    rule: Rule::UNREADABLE,
                    target: Some(Target::error(&e)),
                    reason: None,
                })));
            }
            Loaded::Case { file, case } => {
                slots.push(Slot::Case(cases.len()));
                cases.push(*case);
                places.push(Some(file));
            }
        }
    }
    let comparison = compare_now(&Fixtures, &oracle, &cases, &places);
    // The guardrail lints on the cases' policies, once per distinct set.
    let mut linter = Linter::default();
    for (case, file) in cases.iter().zip(&places) {
        linter.add_case(file.as_deref().unwrap_or_default(), case);
    }
    let warnings = linter.warnings();
    let warned_sets = linter.sets_with_lints();
    // What keyward's own answer rests on, whichever oracle is under test.
    // keyward's own answers, once: what each rests on, and what each fixture claims of it.
    let verdicts: Vec<_> = cases.iter().map(crate::case::Case::verdict).collect();
    let rests_on = cases
        .iter()
        .zip(&verdicts)
        .zip(&places)
        .filter_map(|((case, verdict), file)| {
            // What the fixture's expectation rests on: the message's wording only counts when
            // it expects a message.
            let assumptions = case.assumptions_for_expect(verdict);
            (!assumptions.is_empty()).then(|| RestsOn {
                id: case.id.clone(),
                file: file.clone().unwrap_or_default(),
                assumptions,
            })
        })
        .collect();
    let (mut unreadable, mut unnamed) = (0, 0);
    let mut lines = Vec::with_capacity(slots.len());
    let problems = slots
        .into_iter()
        .filter_map(|slot| match slot {
            Slot::Unreadable(p) => {
                let p = *p;
                unreadable += 1;
                lines.push(CaseLine {
                    id: p.id.clone(),
                    file: p.file.clone(),
                    problem: Some(p.text.clone()),
                    unreadable: true,
                });
                Some(p)
            }
            Slot::Case(k) => {
                let row = &comparison.rows[k];
                let problem = row.problem();
                // A fixture's provenance is a claim: what a documented fixture expects must not
                // rest on an assumption it does not name, nor on a policy ARN it does not give.
                let claims = cases[k].provenance_problems(&verdicts[k]);
                let gap = (!claims.is_empty()).then(|| {
                    format!(
                        "PROVENANCE {} ({}): {}",
                        row.id,
                        row.place(),
                        claims.join("; ")
                    )
                });
                // Counted as failed instead of passed: only a fixture that agreed was passed.
                if gap.is_some() && matches!(row.outcome(), Outcome::Agreed) {
                    unnamed += 1;
                }
                let rule = if problem.is_some() {
                    Rule::DISAGREEMENT
                } else {
                    Rule::UNNAMED_ASSUMPTION
                };
                let text = match (problem, gap) {
                    (Some(p), Some(g)) => Some(format!("{p}\n{g}")),
                    (p, g) => p.or(g),
                };
                lines.push(CaseLine {
                    id: row.id.clone(),
                    file: row.file.clone().unwrap_or_default(),
                    problem: text.clone(),
                    unreadable: false,
                });
                let text = text?;
                let file = row.file.clone().unwrap_or_default();
                let target = cases[k].place.as_ref().map(|p| Target::case(&file, p));
                Some(FixtureProblem {
                    id: row.id.clone(),
                    file,
                    text,
                    rule,
                    target,
                    reason: row.why.clone(),
                })
            }
        })
        .collect();
    FixtureRun {
        comparison,
        unreadable,
        unnamed,
        problems,
        rests_on,
        cases: lines,
        warnings,
        warned_sets,
    }
}

/// `text` with `prefix` before each line.
fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes each minimal failing case as its own case file.
fn save_failures(dir: &std::path::Path, run: &RunResult) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in run.failures() {
        let name = format!("{}-case-{}.json", f.property.name(), f.index);
        let mut text = serde_json::to_string_pretty(&f.case).unwrap_or_default();
        text.push('\n');
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// Parses `--time-budget` (seconds, or with an `s`/`m` suffix).
pub fn parse_budget(s: &str) -> Result<Duration, String> {
    let (num, mult) = match s.strip_suffix('m') {
        Some(n) => (n, 60.0),
        None => (s.strip_suffix('s').unwrap_or(s), 1.0),
    };
    num.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| Duration::from_secs_f64(v * mult))
        .ok_or_else(|| {
            format!("{s:?}: a time budget is a positive number of seconds (e.g. 30, 30s or 2m)")
        })
}

/// `check --oracle iam-simulate`: the fixtures' request cases and `--cases` generated request
/// cases through `local` (keyward's local evaluator, or a planted bug in the harness's own tests)
/// and the peer; disagreements classified and reported. Exit 2 when the peer cannot be started
/// (with what to install or run) or a fixture cannot be read, 1 on an unexplained disagreement.
pub fn run_against_peer(
    opts: &CheckOptions,
    local: &dyn Oracle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    use crate::differential::{DiffOptions, Differential};
    use crate::peer::errata::Errata;
    use crate::peer::IamSimulate;

    let files = match fixture_files(opts) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let peer = match IamSimulate::start(&opts.peer_dir, &crate::peer::node_program()) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let errata = match Errata::load(&opts.peer_dir) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let diff = Differential {
        local,
        peer: &peer,
        errata: &errata,
    };
    let dopts = DiffOptions {
        fixture_files: files,
        cases: opts.run.cases,
        seed: opts.run.seed,
        gen: opts.run.gen.clone(),
        sets: opts.run.sets.clone(),
        shrink_per_key: opts.peer_shrink_per_key,
    };
    let started = std::time::Instant::now();
    let res = match diff.run(&dopts, err) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: --oracle iam-simulate: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let elapsed = started.elapsed();
    if let Some(dir) = &opts.save_failures {
        let unexplained = res
            .disagreements
            .iter()
            .filter(|d| d.class == crate::differential::Class::Unexplained);
        let saved = std::fs::create_dir_all(dir).and_then(|()| {
            for d in unexplained {
                if let Some(case) = &d.minimal {
                    let name = format!(
                        "iam-simulate-{}.json",
                        d.id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
                    );
                    let mut text = serde_json::to_string_pretty(case).unwrap_or_default();
                    text.push('\n');
                    std::fs::write(dir.join(name), text)?;
                }
            }
            Ok(())
        });
        if let Err(e) = saved {
            let _ = writeln!(err, "error: --save-failures {}: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    }
    let report = crate::differential::json(&res, opts.run.seed);
    if let Some(path) = &opts.junit {
        if let Err(e) = std::fs::write(path, peer_junit(&res)) {
            let _ = writeln!(err, "error: --junit {}: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    if opts.format == Format::Json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let _ = write!(out, "{}", peer_text(&res, opts, elapsed));
    }
    if res.unreadable > 0 {
        EXIT_BAD_INPUT
    } else if res.count("unexplained") > 0 {
        EXIT_DISAGREE
    } else {
        EXIT_OK
    }
}

fn peer_tally(res: &crate::differential::DiffResult) -> Tally {
    let explained = (res.count("assumption") + res.count("erratum")) as u64;
    Tally {
        passed: (res.fixtures.agreed + res.generated.agreed + explained) as usize,
        failed: res.count("unexplained"),
        unreadable: res.unreadable,
    }
}

fn peer_text(
    res: &crate::differential::DiffResult,
    opts: &CheckOptions,
    elapsed: Duration,
) -> String {
    use crate::differential::Class;
    let counts = |c: &crate::differential::Counts| {
        format!(
            "{} agree, {} disagree, {} the peer cannot answer",
            c.agreed, c.disagreed, c.unanswerable
        )
    };
    let mut s = format!(
        "keyward check --oracle iam-simulate: the local evaluator against {} {} (bridge in {})\n",
        crate::peer::PACKAGE,
        res.peer_version,
        opts.peer_dir.display()
    );
    s.push_str(&format!(
        "fixtures under {}: {} request cases: {}\n",
        opts.fixtures
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        res.fixtures.cases,
        counts(&res.fixtures)
    ));
    s.push_str(&format!(
        "generated: {} request cases (seed {}): {}\n",
        res.generated.cases,
        opts.run.seed,
        counts(&res.generated)
    ));
    s.push_str(&format!(
        "disagreements: {} explained by an assumption, {} peer errata, {} unexplained ({:.1} s)\n",
        res.count("assumption"),
        res.count("erratum"),
        res.count("unexplained"),
        elapsed.as_secs_f64()
    ));
    let by_key = res.by_key();
    for (key, ds) in &by_key {
        let example = ds
            .iter()
            .find(|d| d.minimal.is_some())
            .map_or(String::new(), |d| format!(" (e.g. {})", d.id));
        s.push_str(&format!("  {key:<70} {:>6} cases{example}\n", ds.len()));
    }
    if !res.unanswerable.is_empty() {
        s.push_str("the peer could not answer:\n");
        let mut reasons: Vec<(&String, &u64)> = res.unanswerable.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        for (why, n) in reasons.iter().take(8) {
            s.push_str(&format!("  {n:>6}  {why}\n"));
        }
        if reasons.len() > 8 {
            s.push_str(&format!("  ... and {} other reasons\n", reasons.len() - 8));
        }
    }
    for (key, ds) in &by_key {
        if ds[0].class != Class::Unexplained {
            continue;
        }
        for d in ds.iter().filter(|d| d.minimal.is_some()) {
            s.push_str(&format!(
                "UNEXPLAINED {key} ({} cases): {}{}; minimal case, ready to commit:\n",
                ds.len(),
                d.id,
                d.file
                    .as_ref()
                    .map_or(String::new(), |f| format!(" in {f}"))
            ));
            let text = d
                .minimal
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default())
                .unwrap_or_default();
            s.push_str(&format!("  {text}\n"));
        }
    }
    s.push_str(&peer_tally(res).summary_line());
    s.push('\n');
    s
}

fn peer_junit(res: &crate::differential::DiffResult) -> String {
    use crate::differential::Class;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let by_key = res.by_key();
    let failures = res.count("unexplained");
    let mut body = String::new();
    body.push_str(&format!(
        "    <testcase classname=\"iam-simulate\" name=\"agreeing cases ({})\"/>\n",
        res.fixtures.agreed + res.generated.agreed
    ));
    for (key, ds) in &by_key {
        let cases = serde_json::to_string_pretty(
            &ds.iter()
                .filter_map(|d| d.minimal.clone())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        if ds[0].class == Class::Unexplained {
            body.push_str(&format!(
                "    <testcase classname=\"iam-simulate\" name=\"{} ({} cases)\"><failure message=\"{}\">{}</failure></testcase>\n",
                esc(key),
                ds.len(),
                esc(key),
                esc(&cases)
            ));
        } else {
            body.push_str(&format!(
                "    <testcase classname=\"iam-simulate\" name=\"{} ({} cases)\"><system-out>{}</system-out></testcase>\n",
                esc(key),
                ds.len(),
                esc(&cases)
            ));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"keyward check --oracle iam-simulate\">\n  <testsuite name=\"oracle iam-simulate\" tests=\"{}\" failures=\"{failures}\">\n{body}  </testsuite>\n</testsuites>\n",
        by_key.len() + 1
    )
}
