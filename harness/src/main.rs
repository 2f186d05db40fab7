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
    /// The main job: replay every fixture and report; exit 0 only when everything agrees.
    Check {
        /// The fixtures directory.
        #[arg(long, default_value = "fixtures", value_name = "DIR")]
        fixtures: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = match cli.command {
        Command::Eval { files, summary } => eval::run(&files, summary, &mut out, &mut err),
        Command::Explain { file, case } => explain::run(&file, case.as_deref(), &mut out, &mut err),
        Command::Check { fixtures } => {
            check::run(&check::CheckOptions { fixtures }, &mut out, &mut err)
        }
    };
    let _ = out.flush();
    ExitCode::from(code)
}
