//! Live mode: the harness against a real AWS sandbox account.
//!
//! Nothing here runs unless the user asked for it (`keyward check --live`, `keyward record`,
//! `keyward sweep`) and [`guard::verify`] has confirmed, with STS GetCallerIdentity, that the
//! credentials belong to the configured sandbox account. The only way to reach the mutating
//! clients is through the [`Aws`] value that check returns.
//!
//! Layout: [`config`] (what the run may do), [`guard`] (the account check), [`aws`] (the clients,
//! the call budget, the bearer-token client), [`names`] (run ids, live names and the renaming
//! between a case and AWS), [`journal`] and [`ledger`] (what a run created and how its cases
//! ended, on disk and in memory), [`delete`] (removing what a run created), [`policies`] and
//! [`provision`] (IAM principals carrying a case's policies), [`sweep`], [`plan`] (which cases can
//! run live and how), [`simulate`] (iam:SimulateCustomPolicy), [`enforce`] (real requests),
//! [`probe`] (the assumptions of keyward-bedrock), [`runner`] (check --live and record), [`smoke`]
//! (record --smoke: every live path once, for a new sandbox).
//!
//! Dependencies run one way: [`delete`] and [`journal`] below [`ledger`], [`ledger`] below
//! [`provision`], and the pure [`plan`] below everything that talks to AWS.

pub mod aws;
pub mod config;
pub mod delete;
pub mod enforce;
pub mod guard;
pub mod journal;
pub mod ledger;
pub mod names;
pub mod oracle;
pub mod plan;
pub mod policies;
pub mod probe;
pub mod provision;
pub mod redact;
pub mod runner;
pub mod simulate;
pub mod smoke;
pub mod steps;
pub mod sweep;

pub use aws::Aws;
pub use config::LiveConfig;

/// Why a live run stopped or could not start. Every variant says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    #[error("live mode needs the sandbox account: set {var} to its 12-digit id (or sandbox_account in keyward.toml); nothing was sent to AWS", var = config::SANDBOX_ACCOUNT_VAR)]
    MissingSandboxAccount,
    #[error("no AWS credentials were found ({detail}); configure a profile, SSO or environment credentials for the sandbox account; nothing was changed in AWS")]
    NoCredentials { detail: String },
    #[error("the credentials belong to account {actual}, not to the sandbox account {expected}; refusing to run (nothing was changed in AWS)")]
    WrongAccount { actual: String, expected: String },
    #[error("could not confirm the account with STS GetCallerIdentity: {detail}; nothing was changed in AWS")]
    CannotVerify { detail: String },
    #[error("the credentials are {what}, which {why}; run keyward as an IAM role (an IAM Identity Center permission set, a CI role) or an IAM user of the sandbox account that holds the runner policy (`keyward runner-policy`); nothing was changed in AWS")]
    UnusableRunner {
        what: &'static str,
        why: &'static str,
    },
    #[error("the run reached its cap of {cap} AWS calls (max_calls in keyward.toml); stopped")]
    CallCapReached { cap: u32 },
    #[error("{operation} failed: {detail}")]
    Aws {
        operation: &'static str,
        detail: String,
    },
    #[error("IAM did not settle within {secs} s: {what}")]
    NotSettled { secs: u64, what: String },
    /// The sandbox account cannot run the case (a model it has no access to, say).
    #[error("{0}")]
    Environment(enforce::EnvProblem),
    #[error("run journal {file}: {message}")]
    Journal { file: String, message: String },
    #[error("run {run} was made in account {journal} (its journal says so), but the credentials are for account {actual}; refusing to sweep or resume it here (nothing was changed in AWS); use credentials of account {journal}")]
    OtherAccount {
        run: String,
        journal: String,
        actual: String,
    },
    #[error("run {run} generated its cases with generators of version {journal}, and this keyward's draw other cases for the same seed (version {current}); refusing to resume it (its answers would be attached to other cases): start a new run, and run `keyward sweep --run {run}` to delete what it left")]
    OtherGenerator {
        run: String,
        journal: u32,
        current: u32,
    },
    #[error("{resource} was not deleted: it does not carry the tag {tag}={run}, so nothing proves run {run} created it; if it is a leftover of keyward, delete it by hand", tag = names::TAG_KEY)]
    NotOurs { resource: String, run: String },
    #[error("interrupted")]
    Interrupted,
    /// The case cannot be run faithfully, as found at run time (the plan could not know).
    #[error("skipped: {0}")]
    Skip(plan::Skip),
}

impl LiveError {
    /// Errors about the user's setup (exit 2) rather than about AWS's answers.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            LiveError::Config { .. }
                | LiveError::MissingSandboxAccount
                | LiveError::NoCredentials { .. }
                | LiveError::WrongAccount { .. }
                | LiveError::CannotVerify { .. }
                | LiveError::UnusableRunner { .. }
                | LiveError::Journal { .. }
                | LiveError::OtherAccount { .. }
                | LiveError::OtherGenerator { .. }
        )
    }
}
