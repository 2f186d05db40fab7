//! `keyward check --oracle iam-simulate`: the differential check against the peer evaluator.
//!
//! The tests that run the peer need Node.js and the bridge installed; they install it themselves
//! (`npm ci` in harness/peer/iam-simulate, once per test run) and are skipped, saying so, only when
//! there is no Node.js at all.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use keyward::case::{Case, Expect};
use keyward::commands::check::{run_against_peer, CheckOptions, PeerOracle};
use keyward::oracle::{Local, Oracle};
use keyward::peer::errata::Errata;
use keyward_iam::{DecisionKind, PolicyType};
use serde_json::Value;

use crate::support::{self, root};

fn bridge_dir() -> PathBuf {
    root().join(keyward::peer::DEFAULT_DIR)
}

/// Whether the peer can run: Node.js is there and the bridge is installed (installed here when it
/// is not). `false` only without Node.js; an install that fails is a test failure.
fn peer_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let node = Command::new(keyward::peer::node_program())
            .arg("--version")
            .output();
        if !node.is_ok_and(|o| o.status.success()) {
            eprintln!("SKIPPED: no Node.js here, so the peer oracle cannot run (CI installs it)");
            return false;
        }
        let dir = bridge_dir();
        if !dir
            .join("node_modules/@cloud-copilot/iam-simulate")
            .is_dir()
        {
            let st = Command::new("npm")
                .args([
                    "ci",
                    "--no-audit",
                    "--no-fund",
                    "--ignore-scripts",
                    "--prefix",
                ])
                .arg(&dir)
                .status()
                .expect("run npm ci for the peer bridge");
            assert!(st.success(), "npm ci in {} failed", dir.display());
        }
        true
    })
}

/// A copy of the bridge's committed files, without `node_modules` (as before `npm ci`).
fn uninstalled_copy(dir: &Path) {
    for f in [
        "bridge.mjs",
        "package.json",
        "package-lock.json",
        "errata.json",
    ] {
        std::fs::copy(bridge_dir().join(f), dir.join(f)).unwrap();
    }
}

#[test]
fn without_node_it_says_what_to_install_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-node");
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .current_dir(root())
        .env(keyward::peer::NODE_VAR, &missing)
        .args(["check", "--oracle", "iam-simulate", "--cases", "0"])
        .output()
        .unwrap();
    let err = support::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--oracle iam-simulate needs Node.js 20.6 or later")
            && err.contains(&format!("`{}` cannot be run", missing.display()))
            && err.contains("Install Node.js with npm")
            && err.contains("KEYWARD_NODE"),
        "{err}"
    );
    assert!(support::stdout(&out).is_empty());
}

#[test]
fn without_npm_ci_it_says_what_to_run_and_exits_2() {
    if Command::new(keyward::peer::node_program())
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no Node.js here; the missing-node test covers this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    uninstalled_copy(dir.path());
    let peer_dir = dir.path().to_str().unwrap();
    let out = support::keyward(&[
        "check",
        "--oracle",
        "iam-simulate",
        "--peer-dir",
        peer_dir,
        "--cases",
        "0",
    ]);
    let err = support::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "the peer is not installed in {peer_dir}.\nRun `npm ci --prefix {peer_dir}`"
        )),
        "{err}"
    );
}

#[test]
fn property_run_options_are_refused_with_an_oracle() {
    for extra in [
        ["--shard", "1/2"],
        ["--threads", "2"],
        ["--time-budget", "5"],
    ] {
        let mut args = vec!["check", "--oracle", "iam-simulate"];
        args.extend(extra);
        let out = support::keyward(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(
            support::stderr(&out).contains("do not apply to --oracle"),
            "{}",
            support::stderr(&out)
        );
    }
    let out = support::keyward(&["check", "--oracle", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(support::stderr(&out).contains("unknown oracle \"nope\""));
}

/// Every erratum stands on a documented fixture that keyward passes.
#[test]
fn every_erratum_names_documented_fixtures_keyward_passes() {
    let errata = Errata::load(&bridge_dir()).expect("errata.json reads");
    assert!(errata.entries.len() >= 3);
    let fixtures = support::fixtures();
    for e in &errata.entries {
        for id in &e.fixtures {
            let (_, case) = fixtures
                .iter()
                .find(|(_, c)| &c.id == id)
                .unwrap_or_else(|| panic!("{}: no fixture {id}", e.id));
            assert_eq!(
                case.provenance,
                Some(keyward::case::Provenance::Documented),
                "{}: {id} is not a documented fixture",
                e.id
            );
            assert_eq!(
                case.verdict().agrees,
                Some(true),
                "{}: keyward fails {id}",
                e.id
            );
        }
    }
}

fn options(cases: u64) -> CheckOptions {
    let mut o = CheckOptions::new(vec![root().join("fixtures")]);
    o.oracle = Some(PeerOracle::IamSimulate);
    o.peer_dir = bridge_dir();
    o.run.cases = cases;
    o.format = keyward::commands::Format::Json;
    o.progress = false;
    o
}

fn run_json(opts: &CheckOptions, local: &dyn Oracle) -> (u8, Value, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_against_peer(opts, local, &mut out, &mut err);
    let err = String::from_utf8(err).unwrap();
    let report = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    (code, report, err)
}

/// The known disagreements on the fixtures are recognised from the errata, each on the fixtures
/// its entry names, and nothing on the fixtures is unexplained.
#[test]
fn the_peers_known_errors_on_the_fixtures_are_recognised_from_the_errata() {
    if !peer_ready() {
        return;
    }
    let (code, report, err) = run_json(&options(0), &Local);
    assert_eq!(code, 0, "{err}\n{report:#}");
    assert_eq!(report["disagreements"]["unexplained"], 0, "{report:#}");
    let errata = Errata::load(&bridge_dir()).unwrap();
    for e in &errata.entries {
        let class = report["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == format!("erratum {}", e.id))
            .unwrap_or_else(|| panic!("no disagreement of {} on the fixtures: {report:#}", e.id));
        let ids: Vec<&str> = class["examples"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x["id"].as_str())
            .collect();
        for id in &e.fixtures {
            assert!(
                ids.contains(&id.as_str()),
                "{id} is not recognised as {}: {ids:?}",
                e.id
            );
        }
    }
}

/// keyward's evaluator with a planted bug: an allowed request the predicate picks is answered
/// implicit_deny by identity.
struct Planted(fn(&keyward_iam::Request) -> bool);

impl Oracle for Planted {
    fn answer(&self, case: &Case) -> Option<Expect> {
        let real = Local.answer(case)?;
        let planted =
            case.request().is_some_and(self.0) && real.decision == Some(DecisionKind::Allow);
        Some(if planted {
            Expect {
                decision: Some(DecisionKind::ImplicitDeny),
                by: Some(PolicyType::Identity),
                ..Expect::default()
            }
        } else {
            real
        })
    }
}

/// The planted bug on fixtures: an allowed dynamodb:GetItem.
const PLANTED: Planted = Planted(|r| r.action().eq_ignore_ascii_case("dynamodb:GetItem"));

#[test]
fn a_planted_disagreement_is_unexplained_and_printed_as_a_ready_to_commit_case() {
    if !peer_ready() {
        return;
    }
    let mut opts = options(0);
    opts.format = keyward::commands::Format::Text;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_against_peer(&opts, &PLANTED, &mut out, &mut err);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 1, "{text}{}", String::from_utf8_lossy(&err));
    let key = "unexplained: keyward implicit_deny, iam-simulate allow";
    assert!(text.contains(&format!("UNEXPLAINED {key}")), "{text}");
    let last = text.lines().last().unwrap();
    assert!(
        last.ends_with(" failed") && !last.ends_with(" 0 failed"),
        "{last}"
    );
    // The case line after the header reads back as a case with keyward's (planted) answer.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("UNEXPLAINED {key}")))
        .unwrap();
    let written = lines[at + 1].trim();
    let cases = keyward::case::read_cases("planted.json", written).expect("a case file");
    let case = cases.into_iter().next().unwrap().expect("reads back");
    let expect = case.expect.clone().unwrap();
    assert_eq!(expect.decision, Some(DecisionKind::ImplicitDeny));
    assert_eq!(case.request().unwrap().action(), "dynamodb:GetItem");
    assert!(case
        .note
        .unwrap()
        .contains("@cloud-copilot/iam-simulate answers allow"));
}

/// The planted bug on generated cases: an allowed bedrock:InvokeModel by the user alice. The
/// disagreement is shrunk.
const PLANTED_GENERATED: Planted =
    Planted(|r| r.action() == "bedrock:InvokeModel" && r.principal().ends_with(":user/alice"));

#[test]
fn a_planted_disagreement_on_generated_cases_is_shrunk() {
    if !peer_ready() {
        return;
    }
    let mut opts = options(400);
    opts.peer_shrink_per_key = 20;
    let (code, report, err) = run_json(&opts, &PLANTED_GENERATED);
    assert_eq!(code, 1, "{err}");
    // The planted disagreements: keyward (planted) says implicit_deny where its real evaluator
    // allows. Other, real disagreements of the same kind may be reported beside them.
    let planted: Vec<&Value> = report["classes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["key"] == "unexplained: keyward implicit_deny, iam-simulate allow")
        .flat_map(|c| c["examples"].as_array().unwrap())
        .filter(|x| x["index"].is_u64())
        .map(|x| &x["minimal_case"])
        .filter(|case| {
            let c = Case::from_json(case).unwrap();
            c.verdict().decision == Some(DecisionKind::Allow)
        })
        .collect();
    assert!(
        !planted.is_empty(),
        "no planted disagreement found: {report:#}"
    );
    for case in planted {
        assert_eq!(case["request"]["action"], "bedrock:InvokeModel");
        assert_eq!(case["expect"]["decision"], "implicit_deny");
        // Shrunk: what the planted bug needs is one Allow; the rest went.
        let policies = case["policies"].as_object().unwrap();
        assert_eq!(
            policies["identity"].as_array().unwrap().len(),
            1,
            "{case:#}"
        );
        for t in ["scp", "rcp", "session", "permissions_boundary", "resource"] {
            assert!(!policies.contains_key(t), "{t} left in {case:#}");
        }
    }
}
