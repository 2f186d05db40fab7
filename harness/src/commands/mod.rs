//! The subcommands. Each writes to the given streams and returns the process exit code:
//! 0 all agree, 1 a disagreement, 2 unreadable input or a bad argument.

pub mod check;
pub mod eval;
pub mod explain;

pub const EXIT_OK: u8 = 0;
pub const EXIT_DISAGREE: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
