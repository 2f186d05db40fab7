//! The subcommands. Each writes to the given streams and returns the process exit code:
//! 0 all agree, 1 a disagreement, 2 unreadable input or a bad argument.

pub mod check;
pub mod eval;
pub mod explain;
pub mod guardrail;
pub mod live;
pub mod runner_policy;

/// What a report is written as (`--format`): the terminal's text (the default), JSON, a SARIF
/// 2.1.0 log for code-review annotations, Markdown for a CI job's summary (docs/ci.md), or one
/// line per finding with its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
    Sarif,
    Markdown,
    /// One line per finding, `FILE:LINE:COLUMN: LEVEL: RULE: MESSAGE`, as compilers print
    /// them (editors and terminals turn the place into a link).
    Short,
}

/// Findings one per line, `FILE:LINE:COLUMN: LEVEL: RULE: MESSAGE` (the message's first line),
/// in the form compilers print; a finding no file holds starts `keyward:`.
pub fn short_lines(findings: &[crate::sarif::Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let at = f
            .location
            .as_ref()
            .map_or_else(|| "keyward".to_string(), |l| l.to_string());
        s.push_str(&format!(
            "{at}: {}: {}: {}\n",
            f.level.as_str(),
            f.rule,
            f.message.lines().next().unwrap_or_default()
        ));
    }
    s
}

/// Each warning as a SARIF result on its statement (or its case's context).
pub fn warning_findings(
    warnings: &[crate::lints::Warning],
    locator: &mut crate::locate::Locator,
) -> Vec<crate::sarif::Finding> {
    warnings
        .iter()
        .map(|w| crate::sarif::Finding {
            rule: w.lint.id.as_str(),
            level: crate::sarif::Level::Warning,
            message: lint_text(&w.lint),
            location: w.target.as_ref().and_then(|t| locator.locate(t)),
        })
        .collect()
}

/// A lint in one paragraph: what was found, the fix, what it rests on.
pub fn lint_text(l: &keyward_bedrock::guardrail::Lint) -> String {
    let mut s = format!(
        "{}. Fix: {}.",
        l.message.trim_end_matches('.'),
        l.fix.trim_end_matches('.')
    );
    if !l.assumptions.is_empty() {
        s.push_str(&format!(
            " Rests on {} (docs/aws-behaviour.md).",
            l.assumptions.join(", ")
        ));
    }
    s
}

pub const EXIT_OK: u8 = 0;
pub const EXIT_DISAGREE: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

/// Writes each lint warning to `err` (standard error), as `warning: ...` lines.
pub fn print_warnings(warnings: &[crate::lints::Warning], err: &mut dyn std::io::Write) {
    for w in warnings {
        let _ = writeln!(err, "{w}");
    }
}

/// The exit code with `--deny-warnings`: a run that would exit 0 exits 1 when there are
/// warnings. Without it, or with another code, warnings change nothing.
pub fn deny_warnings(code: u8, deny: bool, warnings: &[crate::lints::Warning]) -> u8 {
    if deny && code == EXIT_OK && !warnings.is_empty() {
        EXIT_DISAGREE
    } else {
        code
    }
}

/// How many answers rested on each registered assumption (a maintainer's guide to which live
/// probes matter most).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AssumptionCounts(std::collections::BTreeMap<&'static str, usize>);

impl AssumptionCounts {
    /// Counts one answer's assumptions.
    pub fn record(&mut self, assumptions: &[&'static str]) {
        for a in assumptions {
            *self.0.entry(a).or_default() += 1;
        }
    }

    /// Each assumption with its count, most used first (ties by id).
    pub fn ranked(&self) -> Vec<(&'static str, usize)> {
        let mut v: Vec<_> = self.0.iter().map(|(a, n)| (*a, *n)).collect();
        v.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
        v
    }

    /// One line per assumption, `rests on ID: N cases`, most used first.
    pub fn lines(&self) -> String {
        self.ranked()
            .into_iter()
            .map(|(a, n)| format!("rests on {a}: {n} case{}\n", if n == 1 { "" } else { "s" }))
            .collect()
    }

    /// `{"ID": N, ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|(a, n)| ((*a).to_string(), serde_json::Value::from(*n)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// Counts of a run, and the exit code and closing line they make.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub unreadable: usize,
}

impl Tally {
    /// Records a comparison; cases without an expectation are not counted.
    pub fn record(&mut self, agrees: Option<bool>) {
        match agrees {
            Some(true) => self.passed += 1,
            Some(false) => self.failed += 1,
            None => {}
        }
    }

    /// `N passed, M failed`; unreadable cases count as failed, since a run with them did not pass.
    pub fn summary_line(&self) -> String {
        format!(
            "{} passed, {} failed",
            self.passed,
            self.failed + self.unreadable
        )
    }

    pub fn exit_code(&self) -> u8 {
        if self.unreadable > 0 {
            EXIT_BAD_INPUT
        } else if self.failed > 0 {
            EXIT_DISAGREE
        } else {
            EXIT_OK
        }
    }
}
