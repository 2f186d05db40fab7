//! The subcommands. Each writes to the given streams and returns the process exit code:
//! 0 all agree, 1 a disagreement, 2 unreadable input or a bad argument.

pub mod check;
pub mod eval;
pub mod explain;
pub mod live;
pub mod runner_policy;

pub const EXIT_OK: u8 = 0;
pub const EXIT_DISAGREE: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

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
