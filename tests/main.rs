//! keyward's integration tests: one test binary, so the AWS SDK and everything else is linked
//! once, not once per file. Each module is one subject; [`support`] is what they share.
//!
//! Cargo's discovery of test targets is off (`autotests = false` in Cargo.toml): a file under
//! tests/ runs only once it is declared here, which `every_test_file_is_declared` checks.

mod support;

mod cli;
mod docs;
mod fixtures;
mod harness;
mod live_moto;
mod live_offline;
mod malformed;
mod mutated_fixtures;
mod oracle;
mod peak;
mod properties;
mod reasons;
mod release_workflow;
mod reports;
mod secrets;
mod snapshots;
mod streaming;

#[test]
fn every_test_file_is_declared() {
    let main = std::fs::read_to_string(support::root().join("tests/main.rs")).unwrap();
    for entry in std::fs::read_dir(support::root().join("tests")).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "main" {
            assert!(
                main.lines().any(|l| l == format!("mod {stem};")),
                "tests/{stem}.rs is not declared in tests/main.rs, so it never runs"
            );
        }
    }
}
