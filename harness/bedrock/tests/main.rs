//! keyward-bedrock's integration tests: one test binary, each module one subject; [`support`] is
//! what they share.
//!
//! Cargo's discovery of test targets is off (`autotests = false` in Cargo.toml): a file under
//! tests/ runs only once it is declared here, which `every_test_file_is_declared` checks.

/// The IAM crate's fixture reader: policies and requests as the case format writes them.
#[path = "../../iam/tests/support.rs"]
#[allow(dead_code)]
mod iam_support;
mod support;

mod fixtures;
mod guardrail;
mod printing;
mod properties;
mod redaction;
mod rejections;
mod scenarios;
mod vectors;

#[test]
fn every_test_file_is_declared() {
    iam_support::assert_every_test_file_is_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
