//! The `keyward` command line (docs/cli.md). A thin layer: parse arguments, call a
//! command, exit with its code (clap's own usage errors exit 2, as bad arguments must).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keyward::commands::eval::EvalFormat;
use keyward::commands::guardrail::GuardrailArgs;
use keyward::commands::live::{LiveArgs, LiveCommand, Setup, DEFAULT_LIVE_CASES};
use keyward::commands::{check, eval, explain, guardrail, live, runner_policy, Format};

/// keyward allocates a great deal on its hot paths (JSON trees of cases and generated
/// policies, compiled policies): with glibc's allocator, malloc and free stay on top of the
/// profile of `check` after the allocations that bought nothing were removed (about a third of
/// its instructions), and mimalloc runs `check` about 1.4 times as fast. It is built without
/// transparent huge pages (Cargo.toml says why).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "Conformance harness for the IAM controls on Amazon Bedrock API keys"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate every case with the local evaluator: one JSON line per case.
    Eval {
        /// Case files or directories (walked for *.json and *.jsonl); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print only disagreements and a last line `N passed, M failed`.
        #[arg(long, conflicts_with = "format")]
        summary: bool,
        /// Instead of the JSON lines, a SARIF log (`sarif`: each disagreement and unreadable case
        /// a result on its case's line, each lint warning one on its statement's), or the same
        /// findings one per line (`short`: `FILE:LINE:COLUMN: LEVEL: RULE: MESSAGE`).
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<EvalFormat>,
        /// Worker threads (default: the number of cores). The output is the same for any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        /// Policies that stand in for every suite's shared policies and for the `policies` of
        /// every case outside a suite (a case, a suite or {"policies": {...}}).
        #[arg(long, value_name = "FILE")]
        policies: Option<PathBuf>,
        /// Exit 1 when the lints of the cases' policies warn (and the exit would be 0).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Explain each case's decision: every policy, statement and condition.
    Explain {
        /// A case file (or `-`).
        file: PathBuf,
        /// Explain only the case with this id.
        #[arg(long = "case", value_name = "ID")]
        case: Option<String>,
        /// Policies that stand in for every suite's shared policies and for the `policies` of
        /// every case outside a suite (a case, a suite or {"policies": {...}}).
        #[arg(long, value_name = "FILE")]
        policies: Option<PathBuf>,
        #[command(flatten)]
        view: explain::View,
        /// Exit 1 when the lints of the cases' policies warn (and the exit would be 0).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Which Bedrock API keys the policies of FILE let be used and created, what else that
    /// depends on, and the loopholes (docs/cli.md).
    Guardrail(GuardrailArgs),
    /// The main job: replay every fixture, run the properties on generated cases, report; exit 0
    /// only when everything agrees.
    Check {
        /// Case files or folders to replay (repeatable; folders are walked for *.json and
        /// *.jsonl).
        #[arg(long, default_value = "fixtures", value_name = "PATH")]
        fixtures: Vec<PathBuf>,
        /// Exit 1 when the lints of the fixtures' policies warn (and the exit would be 0).
        #[arg(long, conflicts_with_all = ["live", "oracle"])]
        deny_warnings: bool,
        /// Generated cases in total, spread over the properties (0: fixtures only, no property
        /// section in the report). Default: 22000, or 20 with --live.
        #[arg(long, value_name = "N")]
        cases: Option<u64>,
        /// Seed of the generated cases (the same seed gives the same cases).
        #[arg(long, default_value_t = check::DEFAULT_SEED, value_name = "SEED")]
        seed: u64,
        /// Stop generating after this long (e.g. 30, 30s, 2m).
        #[arg(long, value_name = "DURATION", value_parser = check::parse_budget)]
        time_budget: Option<std::time::Duration>,
        /// Run only a deterministic slice K of N of the generated cases (for a CI matrix).
        #[arg(long, value_name = "K/N", value_parser = keyward::run::Shard::parse)]
        shard: Option<keyward::run::Shard>,
        /// Run only these properties (repeatable; default: all).
        #[arg(long = "property", value_name = "NAME", value_parser = parse_property)]
        properties: Vec<keyward::properties::Property>,
        /// Worker threads (default: the number of cores).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Print the report as JSON: the same as `--format json`.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// How to print the report: text, json, sarif (each disagreement and unreadable case a
        /// result on its case's line, each lint on its statement's), markdown (a summary for a
        /// CI job or a pull request) or short (one line per finding with its place). sarif,
        /// markdown and short report the fixtures and properties run, not --live or --oracle.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
        /// Also write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write each minimal failing case as a case file into DIR.
        #[arg(long, value_name = "DIR")]
        save_failures: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Compare the local evaluator with AWS itself, in the sandbox account named by
        /// KEYWARD_SANDBOX_ACCOUNT (or keyward.toml): the fixtures and --cases generated cases.
        #[arg(long)]
        live: bool,
        #[command(flatten)]
        live_args: LiveFlags,
        /// Resume an interrupted live run (its id, as printed).
        #[arg(long, value_name = "RUN", requires = "live")]
        resume: Option<String>,
        /// Instead of the properties, compare the local evaluator with another evaluator on the
        /// fixtures' request cases and --cases generated request cases: iam-simulate
        /// (@cloud-copilot/iam-simulate; needs Node.js and `npm ci` in --peer-dir).
        #[arg(long, value_name = "NAME", value_parser = check::PeerOracle::parse, conflicts_with = "live")]
        oracle: Option<check::PeerOracle>,
        /// The folder of the peer's bridge.
        #[arg(long, value_name = "DIR", default_value = keyward::peer::DEFAULT_DIR, requires = "oracle")]
        peer_dir: PathBuf,
        /// Policies that stand in for every suite's shared policies and for the `policies` of
        /// every case outside a suite (a case, a suite or {"policies": {...}}).
        #[arg(long, value_name = "FILE")]
        policies: Option<PathBuf>,
    },
    /// Run generated cases against AWS (sandbox account only) and record the answers as
    /// fixtures under fixtures/recorded/; disagreements are reported as minimal cases.
    Record {
        /// The fixtures directory (the assumption probes use its cases).
        #[arg(long, default_value = "fixtures", value_name = "DIR")]
        fixtures: PathBuf,
        /// Where recorded fixtures are written.
        #[arg(long, default_value = "fixtures/recorded", value_name = "DIR")]
        out: PathBuf,
        /// Generated cases (even: key scenarios, odd: authorization requests).
        #[arg(long, default_value_t = DEFAULT_LIVE_CASES, value_name = "N")]
        cases: u64,
        /// Seed of the generated cases (the same generators and seeding as `check`).
        #[arg(long, default_value_t = check::DEFAULT_SEED, value_name = "SEED")]
        seed: u64,
        /// Instead of generated cases, probe each named assumption of the Bedrock-key model
        /// and report which hold.
        #[arg(long)]
        probe_assumptions: bool,
        /// Live runs spent shrinking each disagreement to a minimal case.
        #[arg(long, default_value_t = 6, value_name = "N")]
        shrink_attempts: u32,
        /// Resume an interrupted run (its id, as printed).
        #[arg(long, value_name = "RUN")]
        resume: Option<String>,
        /// The first command on a new sandbox: instead of generated cases, cross every live path
        /// once (guard, a simulator batch, long-term and short-term key calls, a denied key
        /// creation, the console flow, sweep) and report each as passed or failed. Records
        /// nothing.
        #[arg(long, conflicts_with_all = ["fixtures", "out", "cases", "seed", "probe_assumptions", "shrink_attempts", "resume"])]
        smoke: bool,
        #[command(flatten)]
        live_args: LiveFlags,
    },
    /// Delete what earlier live runs left in the sandbox account (journaled or tagged
    /// keyward:run), including users made by the console-style flow.
    Sweep {
        /// Only this run's resources.
        #[arg(long, value_name = "RUN")]
        run: Option<String>,
        #[command(flatten)]
        live_args: LiveFlags,
    },
    /// Print the IAM policy the live runner needs, for one account only (JSON). It amounts to
    /// administrator access to that account: give it only to a sandbox that holds nothing else.
    RunnerPolicy {
        /// The sandbox account id (12 digits).
        #[arg(long, value_name = "ID")]
        account: String,
    },
}

/// Options of every command that talks to AWS.
#[derive(clap::Args, Debug, Clone)]
struct LiveFlags {
    /// Print the plan (cases, API calls, resources) and touch nothing.
    #[arg(long)]
    dry_run: bool,
    /// The config file (default: ./keyward.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Most AWS calls this run may make.
    #[arg(long, value_name = "N")]
    max_calls: Option<u32>,
    /// Cases in flight at once.
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
}

impl LiveFlags {
    fn args(self) -> LiveArgs {
        LiveArgs {
            config: self.config,
            dry_run: self.dry_run,
            max_calls: self.max_calls,
            concurrency: self.concurrency,
        }
    }

    fn given(&self) -> bool {
        self.dry_run
            || self.config.is_some()
            || self.max_calls.is_some()
            || self.concurrency.is_some()
    }
}

fn parse_property(s: &str) -> Result<keyward::properties::Property, String> {
    keyward::properties::Property::parse(s).ok_or_else(|| {
        let names: Vec<&str> = keyward::properties::Property::ALL
            .iter()
            .map(|p| p.name())
            .collect();
        format!("unknown property {s:?}; one of: {}", names.join(", "))
    })
}

/// `--policies FILE` could not be read: exit 2 with the file, the JSON path and the problem.
fn bad_policies(e: keyward::case::CaseError, err: &mut dyn Write) -> u8 {
    let _ = writeln!(err, "error: --policies: {e}");
    2
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = match cli.command {
        Command::Eval {
            files,
            summary,
            format,
            threads,
            policies,
            deny_warnings,
        } => match keyward::inputs::reader(policies.as_deref()) {
            Ok(reader) => eval::run(
                &files,
                &reader,
                match (summary, format) {
                    (true, _) => eval::Output::Summary,
                    (false, Some(EvalFormat::Sarif)) => eval::Output::Sarif,
                    (false, Some(EvalFormat::Short)) => eval::Output::Short,
                    (false, Some(EvalFormat::Json) | None) => eval::Output::Lines,
                },
                threads.map_or(0, usize::from),
                deny_warnings,
                &mut out,
                &mut err,
            ),
            Err(e) => bad_policies(e, &mut err),
        },
        Command::Explain {
            file,
            case,
            policies,
            view,
            deny_warnings,
        } => match keyward::inputs::reader(policies.as_deref()) {
            Ok(reader) => explain::run(
                &file,
                &reader,
                case.as_deref(),
                view,
                deny_warnings,
                &mut out,
                &mut err,
            ),
            Err(e) => bad_policies(e, &mut err),
        },
        Command::Guardrail(args) => guardrail::run(&args, &mut out, &mut err),
        Command::Check {
            live: true,
            time_budget,
            shard,
            properties,
            threads,
            save_failures,
            ..
        } if time_budget.is_some()
            || shard.is_some()
            || !properties.is_empty()
            || threads.is_some()
            || save_failures.is_some() =>
        {
            // They steer the property run, which --live does not make: refused, not ignored.
            let _ = writeln!(
                err,
                "error: --time-budget, --shard, --property, --threads and --save-failures do not apply to --live (it compares AWS's answers with the local evaluator's case by case)"
            );
            2
        }
        Command::Check {
            live: true,
            fixtures,
            ..
        } if fixtures.len() != 1 => {
            // A live run's plan and journal name one fixtures folder.
            let _ = writeln!(err, "error: --live reads one --fixtures folder");
            2
        }
        Command::Check {
            fixtures,
            cases,
            seed,
            live: true,
            live_args,
            resume,
            json,
            format,
            junit,
            ..
        } => {
            let json = json || format == Some(Format::Json);
            let cmd = LiveCommand::Check {
                args: live_args.args(),
                fixtures: fixtures.into_iter().next().unwrap_or_default(),
                cases: cases.unwrap_or(DEFAULT_LIVE_CASES),
                seed,
                resume,
                json,
                junit,
            };
            live::run(cmd, Setup::from_process(), &mut out, &mut err)
        }
        Command::Check {
            oracle: Some(_),
            time_budget,
            shard,
            properties,
            threads,
            ..
        } if time_budget.is_some()
            || shard.is_some()
            || !properties.is_empty()
            || threads.is_some() =>
        {
            let _ = writeln!(
                err,
                "error: --time-budget, --shard, --property and --threads do not apply to --oracle (it runs no properties: it compares two evaluators case by case)"
            );
            2
        }
        Command::Check {
            format: Some(f @ (Format::Sarif | Format::Markdown | Format::Short)),
            live,
            oracle,
            ..
        } if live || oracle.is_some() => {
            let name = match f {
                Format::Sarif => "sarif",
                Format::Markdown => "markdown",
                _ => "short",
            };
            let _ = writeln!(
                err,
                "error: --format {name} reports the fixtures and properties run; --live and --oracle print text or json"
            );
            2
        }
        Command::Check { live_args, .. } if live_args.given() => {
            let _ = writeln!(
                err,
                "error: --dry-run, --config, --max-calls and --concurrency need --live"
            );
            2
        }
        Command::Check {
            fixtures,
            cases,
            seed,
            time_budget,
            shard,
            properties,
            threads,
            json,
            format,
            junit,
            save_failures,
            quiet,
            oracle,
            peer_dir,
            policies,
            deny_warnings,
            ..
        } => {
            let mut o = check::CheckOptions::new(fixtures);
            o.policies = policies;
            o.deny_warnings = deny_warnings;
            o.oracle = oracle;
            o.peer_dir = peer_dir;
            o.run.cases = cases.unwrap_or(check::DEFAULT_CASES);
            o.run.seed = seed;
            o.run.time_budget = time_budget;
            o.run.shard = shard.unwrap_or(keyward::run::Shard::ALL);
            if !properties.is_empty() {
                o.run.properties = properties;
            }
            if let Some(t) = threads {
                o.run.threads = t.max(1);
            }
            o.format = if json {
                Format::Json
            } else {
                format.unwrap_or_default()
            };
            o.junit = junit;
            o.save_failures = save_failures;
            o.progress = !quiet && o.format == Format::Text;
            check::run(&o, &mut out, &mut err)
        }
        Command::Record {
            smoke: true,
            live_args,
            ..
        } => {
            let cmd = LiveCommand::Smoke {
                args: live_args.args(),
            };
            live::run(cmd, Setup::from_process(), &mut out, &mut err)
        }
        Command::Record {
            fixtures,
            out: dir,
            cases,
            seed,
            probe_assumptions,
            shrink_attempts,
            resume,
            live_args,
            smoke: false,
        } => {
            let cmd = LiveCommand::Record {
                args: live_args.args(),
                fixtures,
                out: dir,
                cases,
                seed,
                resume,
                probe_assumptions,
                shrink_attempts,
            };
            live::run(cmd, Setup::from_process(), &mut out, &mut err)
        }
        Command::Sweep { run, live_args } => {
            let cmd = LiveCommand::Sweep {
                args: live_args.args(),
                run,
            };
            live::run(cmd, Setup::from_process(), &mut out, &mut err)
        }
        Command::RunnerPolicy { account } => runner_policy::run(&account, &mut out, &mut err),
    };
    let _ = out.flush();
    ExitCode::from(code)
}
