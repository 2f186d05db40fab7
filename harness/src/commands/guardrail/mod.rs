//! `keyward guardrail FILE`: which Bedrock API keys a set of policies lets be used and created,
//! what else the answer depends on, and the loopholes; as a table, as JSON (docs/cli.md), or
//! compared with a committed snapshot (`--expect`).

use std::io::Write;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use keyward_bedrock::guardrail::{analyze, Analysis, Answer, CreateRow, Lint, Subject};
use keyward_bedrock::UserName;
use keyward_iam::{Arn, PolicySet, StatementRef};
use serde::{Deserialize, Serialize};

mod diff;

use super::{Format, EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
use crate::case::{read_file, read_policies_file};
use crate::locate::{Locator, Target};
use crate::reason::policy_path;
use crate::sarif::{Finding, Level, Rule};

/// What `keyward guardrail` was asked: its command-line arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct GuardrailArgs {
    /// A JSON object with a `policies` member (a case, a suite, or {"policies": {...}}); `-`
    /// reads standard input.
    #[arg(required_unless_present = "policies", conflicts_with = "policies")]
    pub file: Option<PathBuf>,
    /// The same as FILE, under the name `eval`, `explain` and `check` give the policies that
    /// stand in for a suite's.
    #[arg(long, value_name = "FILE")]
    pub policies: Option<PathBuf>,
    /// Who uses short-term keys and creates long-term ones.
    #[arg(long, value_name = "ARN", default_value = Subject::DEFAULT_PRINCIPAL)]
    pub principal: String,
    /// The IAM user a long-term key is created for (and who calls with it).
    #[arg(long, value_name = "NAME", default_value = Subject::DEFAULT_USER)]
    pub user: String,
    /// The Region keys are used in.
    #[arg(long, value_name = "REGION", default_value = Subject::DEFAULT_REGION)]
    pub region: String,
    /// Print the answer as JSON (the snapshot format): the same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// How to print the answer: text (the table), json (the snapshot format), sarif (each lint
    /// a result on its statement's line), markdown (a summary for a CI job or a pull request)
    /// or short (each lint on one line, `FILE:LINE:COLUMN: warning: ID: ...`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Compare with this snapshot: exit 0 when equal, 1 with the differences.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with = "format")]
    pub expect: Option<PathBuf>,
    /// Write the snapshot instead of comparing.
    #[arg(long, requires = "expect")]
    pub update: bool,
}

/// The `--json` answer and the snapshot's format: docs/cli.md, "keyward guardrail". Field
/// order is the contract's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub principal: String,
    pub user: String,
    pub region: String,
    #[serde(rename = "use")]
    pub uses: Vec<UseJson>,
    pub create: Vec<CreateJson>,
    pub depends_on: Vec<DependsJson>,
    pub lints: Vec<LintJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseJson {
    pub token_type: String,
    pub endpoint: String,
    #[serde(flatten)]
    pub answer: AnswerJson,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateJson {
    pub service: String,
    /// `None`: the key that never expires.
    pub age_days: Option<AgeRange>,
    #[serde(flatten)]
    pub answer: AnswerJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeRange {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerJson {
    pub decision: String,
    pub by: Option<String>,
    pub message: Option<String>,
    /// The Deny statement that decided an explicit deny.
    pub statement: Option<StatementJson>,
    /// The registered assumptions the answer rests on.
    pub assumptions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementJson {
    /// The policy's JSON path in FILE, e.g. `$.policies.scp[0][1]`.
    pub policy: String,
    /// The statement's index in the policy.
    pub index: usize,
    pub sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependsJson {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintJson {
    pub id: String,
    pub message: String,
    pub fix: String,
    pub policy: Option<String>,
    pub statement: Option<usize>,
    pub sid: Option<String>,
    pub assumptions: Vec<String>,
}

fn statement_json(set: &PolicySet, r: &StatementRef) -> StatementJson {
    StatementJson {
        policy: policy_path(r),
        index: r.statement,
        sid: r.sid(set).map(str::to_string),
    }
}

fn answer_json(set: &PolicySet, a: &Answer) -> AnswerJson {
    AnswerJson {
        decision: a.decision.as_str().into(),
        by: a.by.map(|b| b.as_str().into()),
        message: a.message.clone(),
        statement: a.statement.as_ref().map(|s| statement_json(set, s)),
        assumptions: a.assumptions.iter().map(|x| x.to_string()).collect(),
    }
}

fn lint_json(set: &PolicySet, l: &Lint) -> LintJson {
    LintJson {
        id: l.id.as_str().into(),
        message: l.message.clone(),
        fix: l.fix.clone(),
        policy: l.at.as_ref().map(policy_path),
        statement: l.at.as_ref().map(|s| s.statement),
        sid: l.at.as_ref().and_then(|s| s.sid(set)).map(str::to_string),
        assumptions: l.assumptions.iter().map(|a| a.to_string()).collect(),
    }
}

impl Report {
    /// The analysis in the contract's shape.
    pub fn new(set: &PolicySet, a: &Analysis) -> Report {
        Report {
            principal: a.subject.principal.clone(),
            user: a.subject.user.to_string(),
            region: a.subject.region.clone(),
            uses: a
                .uses
                .iter()
                .map(|r| UseJson {
                    token_type: r.token_type.as_str().into(),
                    endpoint: r.endpoint.name().into(),
                    answer: answer_json(set, &r.answer),
                })
                .collect(),
            create: a
                .creates
                .iter()
                .map(|r| CreateJson {
                    service: r.service.to_string(),
                    age_days: r.ages.as_ref().map(|x| AgeRange {
                        min: *x.start(),
                        max: *x.end(),
                    }),
                    answer: answer_json(set, &r.answer),
                })
                .collect(),
            depends_on: a
                .depends_on
                .iter()
                .map(|d| DependsJson {
                    key: d.key.clone(),
                    values: d.values.clone(),
                })
                .collect(),
            lints: a.lints.iter().map(|l| lint_json(set, l)).collect(),
        }
    }

    /// Pretty JSON with a final newline: the snapshot's text.
    pub fn to_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report serializes");
        s.push('\n');
        s
    }
}

/// The subject from the arguments, or what is wrong with them.
fn subject(args: &GuardrailArgs) -> Result<Subject, String> {
    let principal = args.principal.parse::<Arn>().ok();
    let is_principal = principal
        .as_ref()
        .is_some_and(|a| matches!(a.service(), "iam" | "sts") && a.account_id().is_some());
    if !is_principal {
        return Err(format!(
            "--principal: not the ARN of an IAM user, role or role session: {:?} (e.g. {})",
            args.principal,
            Subject::DEFAULT_PRINCIPAL
        ));
    }
    let user = UserName::new(&args.user).map_err(|e| format!("--user: {e}"))?;
    let region_ok = !args.region.is_empty()
        && args
            .region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(format!(
            "--region: not a Region name: {:?} (e.g. us-east-1)",
            args.region
        ));
    }
    Ok(Subject {
        principal: args.principal.clone(),
        user,
        region: args.region.clone(),
    })
}

/// Runs the command; the exit code of docs/cli.md.
pub fn run(args: &GuardrailArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let subject = match subject(args) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(file) = args.file.as_ref().or(args.policies.as_ref()) else {
        let _ = writeln!(err, "error: give the policies: FILE or --policies FILE");
        return EXIT_BAD_INPUT;
    };
    let set = match read_file(file)
        .and_then(|text| read_policies_file(&file.display().to_string(), &text))
    {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let analysis = analyze(&set, &subject);
    let report = Report::new(&set, &analysis);
    match &args.expect {
        Some(snapshot) if args.update => match std::fs::write(snapshot, report.to_pretty()) {
            Ok(()) => {
                let _ = writeln!(out, "wrote {}", snapshot.display());
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(err, "error: {}: cannot write: {e}", snapshot.display());
                EXIT_BAD_INPUT
            }
        },
        Some(snapshot) => compare(snapshot, &report, out, err),
        None => {
            let format = match (args.json, args.format) {
                (true, _) => Format::Json,
                (false, f) => f.unwrap_or_default(),
            };
            let name = file.display().to_string();
            let text = match format {
                Format::Text => table(&set, &analysis),
                Format::Json => report.to_pretty(),
                Format::Sarif => {
                    let mut v = serde_json::to_string_pretty(&sarif(&name, &set, &analysis))
                        .expect("a SARIF log serializes");
                    v.push('\n');
                    v
                }
                Format::Markdown => markdown(&name, &set, &analysis),
                Format::Short => super::short_lines(&findings(&name, &set, &analysis)),
            };
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
    }
}

fn read_snapshot(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let not_one = |why: String| {
        format!(
            "{}: not a guardrail snapshot (docs/cli.md, \"keyward guardrail\"): {why}",
            path.display()
        )
    };
    let report: Report = serde_json::from_str(&text).map_err(|e| not_one(e.to_string()))?;
    let max = keyward_bedrock::guardrail::MAX_AGE;
    for (i, r) in report.create.iter().enumerate() {
        if let Some(a) = r.age_days {
            if a.min < 1 || a.min > a.max || a.max > max {
                return Err(not_one(format!(
                    "$.create[{i}].age_days: {{\"min\": {}, \"max\": {}}} is not a range of ages within 1..{max}",
                    a.min, a.max
                )));
            }
        }
    }
    Ok(report)
}

fn compare(snapshot: &Path, now: &Report, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let before = match read_snapshot(snapshot) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if &before == now {
        let _ = writeln!(out, "{}: unchanged", snapshot.display());
        return EXIT_OK;
    }
    let lines = diff::diff(&before, now);
    let _ = writeln!(
        out,
        "{}: the guardrail's answer changed ({} difference{}; `--update` accepts it):",
        snapshot.display(),
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    for l in lines {
        let _ = writeln!(out, "  {l}");
    }
    EXIT_DISAGREE
}

/// `allow`, or `explicit_deny by scp`.
pub fn verdict_text(decision: &str, by: Option<&str>) -> String {
    match by {
        Some(b) => format!("{decision} by {b}"),
        None => decision.to_string(),
    }
}

/// `  (rests on A-..., B-...)`, or nothing.
fn rests_text(a: &Answer) -> String {
    if a.assumptions.is_empty() {
        String::new()
    } else {
        format!("  (rests on {})", a.assumptions.join(", "))
    }
}

fn where_text(set: &PolicySet, s: Option<&StatementRef>) -> String {
    match s {
        Some(r) => {
            let name = set
                .policy(r)
                .and_then(|p| p.meta().name.as_deref())
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let sid = r.sid(set).map(|s| format!(" \"{s}\"")).unwrap_or_default();
            format!("  {}{name} statement {}{sid}", policy_path(r), r.statement)
        }
        None => String::new(),
    }
}

fn ages_text(r: &Option<RangeInclusive<u32>>) -> String {
    match r {
        Some(x) if x.start() == x.end() => x.start().to_string(),
        Some(x) => format!("{}-{}", x.start(), x.end()),
        None => "never expires".into(),
    }
}

/// The services whose create rows read alike, each group with its rows: printed once.
fn create_groups(a: &Analysis) -> Vec<(Vec<String>, Vec<&CreateRow>)> {
    let mut groups: Vec<(Vec<String>, Vec<&CreateRow>)> = Vec::new();
    for mine in a.creates_by_service() {
        let first = &mine[0];
        let same = |g: &[&CreateRow]| {
            g.len() == mine.len()
                && g.iter()
                    .zip(mine)
                    .all(|(x, y)| x.ages == y.ages && x.answer == y.answer)
        };
        match groups.iter_mut().find(|(_, g)| same(g)) {
            Some((names, _)) => names.push(first.service.to_string()),
            None => groups.push((vec![first.service.to_string()], mine.iter().collect())),
        }
    }
    groups
}

/// Where a lint sits: its statement where the policy was read from, else the file's
/// `policies` (a lint no statement decided).
fn lint_location(
    file: &str,
    set: &PolicySet,
    l: &Lint,
    locator: &mut Locator,
) -> Option<crate::locate::Location> {
    let target =
        l.at.as_ref()
            .and_then(|r| Target::statement(set, r))
            .unwrap_or_else(|| Target {
                file: file.to_string(),
                line: None,
                path: "$.policies".into(),
                statement: None,
            });
    locator.locate(&target)
}

/// Each lint as a finding on its statement.
fn findings(file: &str, set: &PolicySet, a: &Analysis) -> Vec<Finding> {
    let mut locator = Locator::default();
    a.lints
        .iter()
        .map(|l| Finding {
            rule: l.id.as_str(),
            level: Level::Warning,
            message: super::lint_text(l),
            location: lint_location(file, set, l, &mut locator),
        })
        .collect()
}

/// The SARIF log: each lint a result on its statement's line.
pub fn sarif(file: &str, set: &PolicySet, a: &Analysis) -> serde_json::Value {
    crate::sarif::log(&Rule::lints(), &findings(file, set, a))
}

/// A Markdown table cell: pipes escaped, one line.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown summary: the subject, the allowed-set tables, what else matters, the lints
/// with where they sit.
pub fn markdown(file: &str, set: &PolicySet, a: &Analysis) -> String {
    let mut locator = Locator::default();
    let mut s = format!(
        "## keyward guardrail `{}`\n\nPrincipal `{}`, user `{}`, Region `{}`.\n\n",
        file, a.subject.principal, a.subject.user, a.subject.region
    );
    let lints = a.lints.len();
    s.push_str(&format!(
        "**{lints} lint{}**; long-term keys that never expire: {}.\n\n",
        if lints == 1 { "" } else { "s" },
        never_expiring_summary(a)
    ));
    s.push_str("### Using a key\n\n| token type | endpoint | decision | deciding statement |\n|---|---|---|---|\n");
    for r in &a.uses {
        let v = verdict_text(r.answer.decision.as_str(), r.answer.by.map(|b| b.as_str()));
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.token_type.as_str(),
            r.endpoint.name(),
            v,
            cell(where_text(set, r.answer.statement.as_ref()).trim())
        ));
    }
    s.push_str("\n### Creating a long-term key\n\n| services | age (days) | decision | deciding statement |\n|---|---|---|---|\n");
    for (names, rows) in create_groups(a) {
        for r in rows {
            let v = verdict_text(r.answer.decision.as_str(), r.answer.by.map(|b| b.as_str()));
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&names.join(", ")),
                ages_text(&r.ages),
                v,
                cell(where_text(set, r.answer.statement.as_ref()).trim())
            ));
        }
    }
    s.push_str("\n### Depends on\n\n");
    if a.depends_on.is_empty() {
        s.push_str("Nothing else.\n");
    }
    for d in &a.depends_on {
        s.push_str(&format!("- `{}`: {}\n", d.key, d.values.join(", ")));
    }
    s.push_str(&format!("\n### Lints ({lints})\n\n"));
    if lints == 0 {
        s.push_str("None.\n");
    }
    for l in &a.lints {
        let at = match lint_location(file, set, l, &mut locator) {
            Some(loc) => format!(" at `{loc}`"),
            None => String::new(),
        };
        let place = where_text(set, l.at.as_ref());
        let place = match place.trim() {
            "" => String::new(),
            p => format!(" ({})", cell(p)),
        };
        s.push_str(&format!(
            "- **`{}`**{at}{place}: {}\n",
            l.id,
            super::lint_text(l)
        ));
    }
    s
}

/// Whether a key that never expires can be created, per service: "allowed for X, Y", or
/// "denied for every service".
fn never_expiring_summary(a: &Analysis) -> String {
    let allowed: Vec<String> = a
        .creates
        .iter()
        .filter(|r| r.ages.is_none() && r.answer.decision == keyward_iam::DecisionKind::Allow)
        .map(|r| format!("`{}`", r.service))
        .collect();
    if allowed.is_empty() {
        "denied for every service".into()
    } else {
        format!("allowed for {}", allowed.join(", "))
    }
}

/// The terminal form: a table per question, then what else matters, then the lints.
pub fn table(set: &PolicySet, a: &Analysis) -> String {
    let mut s = format!(
        "principal {}\nuser {} ({})\nregion {}\n\n",
        a.subject.principal,
        a.subject.user,
        a.subject.user_arn(),
        a.subject.region
    );
    s.push_str("Using a key (CallWithBearerToken; a long-term key calls as its user)\n");
    for r in &a.uses {
        let v = verdict_text(r.answer.decision.as_str(), r.answer.by.map(|b| b.as_str()));
        s.push_str(&format!(
            "  {:<10}  {:<15}  {v}{}{}\n",
            r.token_type.as_str(),
            r.endpoint.name(),
            where_text(set, r.answer.statement.as_ref()),
            rests_text(&r.answer)
        ));
    }
    s.push_str("\nCreating a long-term key (CreateServiceSpecificCredential; age in days)\n");
    for (names, rows) in create_groups(a) {
        s.push_str(&format!("  {}\n", names.join(", ")));
        for r in rows {
            let v = verdict_text(r.answer.decision.as_str(), r.answer.by.map(|b| b.as_str()));
            s.push_str(&format!(
                "    {:<13}  {v}{}{}\n",
                ages_text(&r.ages),
                where_text(set, r.answer.statement.as_ref()),
                rests_text(&r.answer)
            ));
        }
    }
    s.push_str("\nDepends on (each other condition key changed alone)\n");
    if a.depends_on.is_empty() {
        s.push_str("  nothing else\n");
    }
    for d in &a.depends_on {
        s.push_str(&format!("  {}: {}\n", d.key, d.values.join(", ")));
    }
    s.push_str(&format!("\nLints ({})\n", a.lints.len()));
    if a.lints.is_empty() {
        s.push_str("  none\n");
    }
    for l in &a.lints {
        s.push_str(&format!(
            "  {}{}\n    {}\n    fix: {}\n",
            l.id,
            where_text(set, l.at.as_ref()),
            l.message,
            l.fix
        ));
        if !l.assumptions.is_empty() {
            s.push_str(&format!(
                "    rests on {} (docs/aws-behaviour.md)\n",
                l.assumptions.join(", ")
            ));
        }
    }
    s
}
