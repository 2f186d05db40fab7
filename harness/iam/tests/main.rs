//! keyward-iam's integration tests: one test binary, each module one subject; [`support`] is what
//! they share.
//!
//! The evaluator's own unit tests sit beside its code. These test it from outside, through its
//! public API, against what is written down independently of it: the documented request fixtures
//! of the repository (read here with a small reader of their own, so that the evaluator crate
//! needs nothing above it), and independent implementations (a date library).
//!
//! Cargo's discovery of test targets is off (`autotests = false` in Cargo.toml): a file under
//! tests/ runs only once it is declared here, which `every_test_file_is_declared` checks.

mod support;

mod api;

mod cuts;
mod dates;
mod explain;
mod fixtures;
mod policy_errors;
mod reasons;
mod rests_on;

#[test]
fn every_test_file_is_declared() {
    support::assert_every_test_file_is_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
