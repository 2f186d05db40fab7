//! AWS as an oracle: asked like any other ([`BatchOracle`]), it answers request cases with the
//! policy simulator and key scenarios with real requests ([`super::runner::run_cases`]), so that
//! `check --live` is `check`'s comparison with AWS as the reference.

use std::sync::{Arc, Mutex};

use super::journal::{Journal, JournalState};
use super::names::RunId;
use super::runner::{run_cases, CaseReport, LiveOptions, LiveReport, Status};
use super::Aws;
use crate::case::Case;
use crate::oracle::{Answer, AnswersFuture, BatchOracle, Unanswered};

/// The sandbox account, through one run.
pub struct AwsOracle<'a> {
    pub aws: &'a Aws,
    pub run: &'a RunId,
    pub journal: Option<Arc<Journal>>,
    pub resume: Option<&'a JournalState>,
    pub opts: &'a LiveOptions,
    /// The run's report, once it has answered: what `record` writes and the report's account
    /// of calls, skips and cleanup.
    report: Mutex<Option<LiveReport>>,
}

impl<'a> AwsOracle<'a> {
    pub fn new(
        aws: &'a Aws,
        run: &'a RunId,
        journal: Option<Arc<Journal>>,
        resume: Option<&'a JournalState>,
        opts: &'a LiveOptions,
    ) -> AwsOracle<'a> {
        AwsOracle {
            aws,
            run,
            journal,
            resume,
            opts,
            report: Mutex::new(None),
        }
    }

    /// The report of the run the last [`BatchOracle::answer_all`] made.
    pub fn take_report(&self) -> Option<LiveReport> {
        self.report.lock().ok()?.take()
    }
}

/// What the run's report says about one case, as an oracle's answer.
pub fn answer_of(c: &CaseReport) -> Answer {
    match (&c.status, &c.aws) {
        (Status::Agreed | Status::Disagreed, Some(expect)) => Answer::Given {
            expect: expect.clone(),
            from: c.oracle,
        },
        (Status::Skipped(why), _) => Answer::Unanswered(Unanswered::Skipped(why.to_string())),
        (Status::Environment(p), _) => Answer::Unanswered(Unanswered::Environment {
            problem: p.to_string(),
            remedy: p.remedy(),
        }),
        (Status::Failed(why), _) => Answer::Unanswered(Unanswered::Failed(why.clone())),
        (Status::Agreed | Status::Disagreed, None) => Answer::Unanswered(Unanswered::Failed(
            "the run compared an answer it did not keep".into(),
        )),
    }
}

impl BatchOracle for AwsOracle<'_> {
    fn label(&self) -> &'static str {
        "aws"
    }

    fn answer_all<'b>(&'b self, cases: &'b [Case]) -> AnswersFuture<'b> {
        Box::pin(async move {
            let report = run_cases(
                self.aws,
                self.run,
                self.journal.clone(),
                self.resume,
                cases,
                self.opts,
            )
            .await;
            // Case k of `cases` is case `first_index + k` of the run.
            let first = self.opts.first_index;
            let mut answers: Vec<Answer> = cases
                .iter()
                .map(|_| {
                    Answer::Unanswered(Unanswered::Failed("the run did not reach this case".into()))
                })
                .collect();
            for c in &report.cases {
                let slot = c
                    .index
                    .checked_sub(first)
                    .and_then(|k| usize::try_from(k).ok())
                    .and_then(|k| answers.get_mut(k));
                if let Some(slot) = slot {
                    *slot = answer_of(c);
                }
            }
            if let Ok(mut r) = self.report.lock() {
                *r = Some(report);
            }
            answers
        })
    }
}
