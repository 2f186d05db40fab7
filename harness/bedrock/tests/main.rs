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
mod printing;
mod properties;
mod redaction;
mod scenarios;
mod vectors;

#[test]
fn every_test_file_is_declared() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(tests.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&tests).unwrap() {
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
