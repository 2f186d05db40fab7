//! The release run's workflow (.github/workflows/release.yml) keeps its safety properties: a
//! maintainer starts it, never a push or a pull request; only the upstream repository, in its
//! protected environment, gets AWS credentials, and only through OIDC; no job both holds them and
//! can write to the repository; every action is pinned by commit; and every keyward command it
//! runs exists with the flags it passes. (Its syntax is checked by actionlint in `.ci/run`.)

use serde_json::{Map, Value};

use crate::support::{keyward, root, stdout};

fn workflow_text() -> String {
    std::fs::read_to_string(root().join(".github/workflows/release.yml"))
        .expect("the release workflow exists")
}

fn workflow() -> Value {
    serde_yaml_ng::from_str(&workflow_text()).expect("the release workflow is YAML")
}

fn jobs(w: &Value) -> &Map<String, Value> {
    w["jobs"].as_object().expect("jobs")
}

fn permission<'a>(job: &'a Value, name: &str) -> Option<&'a str> {
    job["permissions"].get(name).and_then(Value::as_str)
}

/// Every step's `run` script, job by job.
fn scripts(job: &Value) -> Vec<&str> {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect()
}

#[test]
fn only_a_maintainer_starts_it_never_a_push_or_a_pull_request() {
    let w = workflow();
    let on = w["on"].as_object().expect("`on` is a map of triggers");
    let triggers: std::collections::BTreeSet<&str> = on.keys().map(String::as_str).collect();
    assert_eq!(
        triggers,
        ["release", "workflow_dispatch"].into(),
        "{triggers:?}"
    );
    assert_eq!(on["release"]["types"], serde_json::json!(["published"]));
    for t in [
        "push",
        "pull_request",
        "pull_request_target",
        "workflow_run",
        "issue_comment",
    ] {
        assert!(!on.contains_key(t), "{t}");
    }
    // Nothing is granted by default; each job asks for what it needs.
    assert_eq!(w["permissions"], serde_json::json!({}));
}

#[test]
fn credentials_come_from_oidc_in_the_protected_environment_of_the_upstream_repository() {
    let w = workflow();
    let with_oidc: Vec<(&String, &Value)> = jobs(&w)
        .iter()
        .filter(|(_, j)| permission(j, "id-token") == Some("write"))
        .collect();
    assert_eq!(with_oidc.len(), 1, "one job assumes the sandbox role");
    let (name, job) = with_oidc[0];
    assert_eq!(job["environment"], "keyward-sandbox", "{name}");
    let guard = job["if"].as_str().unwrap_or_default();
    assert!(
        guard.contains("!github.event.repository.fork")
            && guard.contains("vars.KEYWARD_RELEASE_REPOSITORY == github.repository"),
        "{name} must not run in a fork: {guard}"
    );
    // It runs keyward (built from the checkout), so it cannot write to the repository, and the
    // checkout keeps no token.
    assert_eq!(permission(job, "contents"), Some("read"));
    assert_eq!(job["permissions"].as_object().unwrap().len(), 2);
    let steps = job["steps"].as_array().unwrap();
    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .unwrap();
    assert_eq!(checkout["with"]["persist-credentials"], false);
    let creds = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
        })
        .expect("credentials through configure-aws-credentials");
    let with = creds["with"].as_object().unwrap();
    assert!(with["role-to-assume"]
        .as_str()
        .is_some_and(|r| r.contains("vars.KEYWARD_SANDBOX_ROLE_ARN")));
    for stored in [
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws-session-token",
    ] {
        assert!(!with.contains_key(stored), "{stored}");
    }
    // No job that can write holds AWS credentials.
    for (n, j) in jobs(&w) {
        if n != name {
            assert_ne!(permission(j, "id-token"), Some("write"), "{n}");
            assert!(j.get("environment").is_none(), "{n}");
        }
    }
}

#[test]
fn no_key_is_stored_or_passed_anywhere() {
    let text = workflow_text();
    for stored in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "aws-access-key-id",
        "aws-secret-access-key",
        "secrets.",
    ] {
        assert!(!text.contains(stored), "the workflow names {stored}");
    }
}

#[test]
fn every_action_is_pinned_by_commit() {
    let w = workflow();
    let sha = regex::Regex::new(r"^[a-z0-9-]+/[a-z0-9-]+@[0-9a-f]{40}$").unwrap();
    let mut n = 0;
    for (name, job) in jobs(&w) {
        for step in job["steps"].as_array().unwrap() {
            if let Some(u) = step["uses"].as_str() {
                n += 1;
                assert!(sha.is_match(u), "{name}: {u} is not pinned by commit");
            }
        }
    }
    assert!(n >= 5, "{n} actions");
}

#[test]
fn it_runs_smoke_then_check_live_then_record_and_keeps_the_reports() {
    let w = workflow();
    let live = &jobs(&w)["live"];
    let all = scripts(live).join("\n");
    let at = |s: &str| all.find(s).unwrap_or_else(|| panic!("{s} is not run"));
    assert!(at("keyward record --smoke") < at("check --live"));
    assert!(at("check --live") < at("args=(record"));
    assert!(all.contains("keyward sweep"));
    assert!(all.contains("--junit reports/keyward-junit.xml"));
    let uploads: String = live["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .filter_map(|s| s["with"]["path"].as_str())
        .collect();
    assert!(uploads.contains("reports/"), "{uploads}");
    assert!(uploads.contains("-disagreements.json"), "{uploads}");
    assert!(uploads.contains("fixtures/recorded"), "{uploads}");
    // The pull request holds only what was recorded.
    let propose = scripts(&jobs(&w)["propose"]).join("\n");
    assert!(
        propose.contains("git add -- fixtures/recorded"),
        "{propose}"
    );
    assert!(propose.contains("gh pr create"), "{propose}");
}

/// `keyward SUB ARGS...` as the workflow's scripts run it (`target/release/keyward SUB ...` or
/// `args=(SUB ...)`): the subcommand and the flags.
fn invocations(script: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in script.lines() {
        let rest = if let Some(i) = line.find("target/release/keyward ") {
            &line[i + "target/release/keyward ".len()..]
        } else if let Some(i) = line.find("args=(") {
            &line[i + "args=(".len()..]
        } else if let Some(i) = line.find("args+=(") {
            // Flags added to the previous invocation.
            let flags = line[i..]
                .split_whitespace()
                .filter(|t| t.starts_with("--"))
                .map(str::to_string);
            if let Some((_, fs)) = out.last_mut() {
                let fs: &mut Vec<String> = fs;
                fs.extend(flags);
            }
            continue;
        } else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let Some(sub) = words.next().filter(|w| !w.starts_with('"')) else {
            continue;
        };
        let flags = words
            .take_while(|w| *w != "|")
            .filter(|w| w.starts_with("--"))
            .map(|w| w.trim_end_matches(')').to_string())
            .collect();
        out.push((sub.to_string(), flags));
    }
    out
}

#[test]
fn every_keyward_command_it_runs_exists_with_its_flags() {
    let w = workflow();
    let mut seen = 0;
    for job in jobs(&w).values() {
        for script in scripts(job) {
            for (sub, flags) in invocations(script) {
                seen += 1;
                let help = keyward(&[&sub, "--help"]);
                assert_eq!(help.status.code(), Some(0), "keyward {sub}");
                let text = stdout(&help);
                for f in &flags {
                    assert!(
                        text.contains(&format!("{f} ")) || text.contains(&format!("{f}\n")),
                        "keyward {sub} has no {f}:\n{text}"
                    );
                }
            }
        }
    }
    // smoke, check --live, record, sweep, check --junit.
    assert_eq!(seen, 5);
}
