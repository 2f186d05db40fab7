//! The `keyward` command line (../shared/spec/cli.md). A thin layer: parse arguments, call a
//! command, exit with its code (clap's own usage errors exit 2, as bad arguments must).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keyward::commands::{check, eval, explain};

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
        #[arg(long)]
        summary: bool,
    },
    /// Explain each case's decision: every policy, statement and condition.
    Explain {
        /// A case file (or `-`).
        file: PathBuf,
        /// Explain only the case with this id.
        #[arg(long = "case", value_name = "ID")]
        case: Option<String>,
    },
    /// The main job: replay every fixture, run the properties on generated cases, report; exit 0
    /// only when everything agrees.
    Check {
        /// The fixtures directory.
        #[arg(long, default_value = "fixtures", value_name = "DIR")]
        fixtures: PathBuf,
        /// Generated cases in total, spread over the properties (0: fixtures only).
        #[arg(long, default_value_t = check::DEFAULT_CASES, value_name = "N")]
        cases: u64,
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
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write each minimal failing case as a case file into DIR.
        #[arg(long, value_name = "DIR")]
        save_failures: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = match cli.command {
        Command::Eval { files, summary } => eval::run(&files, summary, &mut out, &mut err),
        Command::Explain { file, case } => explain::run(&file, case.as_deref(), &mut out, &mut err),
        Command::Check {
            fixtures,
            cases,
            seed,
            time_budget,
            shard,
            properties,
            threads,
            json,
            junit,
            save_failures,
            quiet,
        } => {
            let mut o = check::CheckOptions::new(fixtures);
            o.run.cases = cases;
            o.run.seed = seed;
            o.run.time_budget = time_budget;
            o.run.shard = shard.unwrap_or(keyward::run::Shard::ALL);
            if !properties.is_empty() {
                o.run.properties = properties;
            }
            if let Some(t) = threads {
                o.run.threads = t.max(1);
            }
            o.json = json;
            o.junit = junit;
            o.save_failures = save_failures;
            o.progress = !quiet && !json;
            check::run(&o, &mut out, &mut err)
        }
    };
    let _ = out.flush();
    ExitCode::from(code)
}
