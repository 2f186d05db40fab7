//! `keyward record --smoke`: every live path once, reported path by path. The fake answers the
//! smoke cases as AWS documents it would (the simulator's three decisions, IAM's explicit deny
//! of the key); a fault planted in one path fails that path, with its reason, and no other.

use super::*;
use crate::support::{keyward_offline, stderr, stdout};
use keyward::live::smoke::SmokePath;

fn smoke(args: LiveArgs) -> LiveCommand {
    LiveCommand::Smoke { args }
}

/// Answers the smoke run's simulator batch as AWS would for its policy (Allow
/// bedrock:InvokeModel, Deny iam:CreateServiceSpecificCredential, in the first identity policy).
fn simulator_as_aws(fake: &Fake) {
    fake.hook(|r, w| {
        if r.op != "SimulateCustomPolicy" {
            return None;
        }
        let answers: Vec<SimResult> = sim_pairs(r)
            .into_iter()
            .map(|(a, res)| {
                let (d, s) = match a.as_str() {
                    "bedrock:InvokeModel" => ("allowed", None),
                    "iam:CreateServiceSpecificCredential" => {
                        ("explicitDeny", Some("PolicyInputList.1"))
                    }
                    _ => ("implicitDeny", None),
                };
                (a, res, d, s).into()
            })
            .collect();
        let id = w.uuid();
        Some(simulate_answer(&answers, None, &id))
    });
}

/// IAM refuses the denied-key-creation case's principal its key, in the words AWS uses for an
/// explicit deny in an inline identity policy (no policy ARN: the policy is not managed).
fn key_creation_denied_as_aws(fake: &Fake) {
    fake.hook(|r, w| {
        if r.op != "CreateServiceSpecificCredential" || r.by_runner {
            return None;
        }
        let user = r.param("UserName")?.to_string();
        if !user.ends_with("-smoke-key-target") {
            return None;
        }
        // AWS's sentence, literally; the caller's and the target's live names hold the run's
        // id, which the smoke run draws itself, so they are the parts put in from the request.
        let caller = r.caller_arn.clone()?;
        let text = "User: {CALLER} is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user {TARGET} with an explicit deny in an identity-based policy"
            .replace("{CALLER}", &caller)
            .replace("{TARGET}", &user);
        Some(iam_error(w, 403, "AccessDenied", &text))
    });
}

/// A fake that answers every smoke path as AWS documents it.
fn fake_sandbox() -> Fake {
    let fake = Fake::new(SANDBOX);
    simulator_as_aws(&fake);
    key_creation_denied_as_aws(&fake);
    fake
}

fn run_smoke(dir: &Path, fake: &Fake) -> (u8, String, String) {
    let cfg = write_config(dir, Some(SANDBOX));
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    run_cmd(smoke(args(&cfg)), setup)
}

/// The report line of `path`.
fn line(out: &str, path: SmokePath) -> &str {
    out.lines()
        .find(|l| {
            l.strip_prefix("passed ")
                .or_else(|| l.strip_prefix("FAILED "))
                .is_some_and(|rest| rest.starts_with(&format!("{}: ", path.name())))
        })
        .unwrap_or_else(|| panic!("no line for {}:\n{out}", path.name()))
}

/// Nothing under `dir` is a recorded fixture or a disagreements file.
fn assert_nothing_recorded(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                name != "recorded" && !name.ends_with("-disagreements.json"),
                "a smoke run wrote {}",
                p.display()
            );
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}

#[test]
fn a_smoke_run_crosses_every_path_once_and_each_passes() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_sandbox();
    let (code, out, err) = run_smoke(dir.path(), &fake);
    assert_eq!(code, 0, "{out}\n{err}");
    for path in SmokePath::ALL {
        let l = line(&out, path);
        assert!(l.starts_with("passed "), "{l}");
    }
    assert_eq!(out.lines().last(), Some("7 passed, 0 failed"), "{out}");
    // Each path was crossed for real, once: one simulator call for the batch, one model call
    // per key type until settled, the key refused to the case principal, the console's steps.
    assert_eq!(fake.count("GetCallerIdentity"), 1);
    assert_eq!(fake.count("SimulateCustomPolicy"), 1, "{:?}", fake.ops());
    let converse = fake.of("Converse");
    assert!(
        converse.len() >= 4,
        "two calls, each settled: {:?}",
        fake.ops()
    );
    let long_term = |r: &fake::Req| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Bearer ABSK"))
    };
    assert!(converse.iter().any(long_term), "no long-term key call");
    assert!(
        converse.iter().any(|r| !long_term(r)),
        "no short-term key call"
    );
    let case_keys = fake
        .of("CreateServiceSpecificCredential")
        .into_iter()
        .filter(|r| !r.by_runner)
        .count();
    assert!(case_keys >= 4, "denied and console keys, each settled");
    assert!(fake
        .of("CreateUser")
        .iter()
        .any(|r| !r.by_runner && r.param("UserName").unwrap().starts_with("BedrockAPIKey-")));
    assert!(fake.count("AttachUserPolicy") >= 2);
    // The sweep listed the account after the run's own cleanup.
    assert!(fake.count("ListUsers") >= 1 && fake.count("ListRoles") >= 1);
    assert_all_deleted(&fake);
    // The report names the calls and a cost; the calls are those the fake saw, less the guard's.
    let calls_line = out
        .lines()
        .find(|l| l.starts_with("smoke run "))
        .unwrap_or_else(|| panic!("{out}"));
    let n: usize = calls_line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{calls_line}"));
    assert!(n > 10 && n < fake.requests().len(), "{calls_line}");
    assert!(out.contains("\nestimated cost: at most $"), "{out}");
    // A check of the sandbox, not a recording; its journal, like any run's, names the account.
    assert_nothing_recorded(dir.path());
    let js = journals(&dir.path().join("state"));
    assert_eq!(js.len(), 1);
    let st = journal::read(&js[0].0).unwrap();
    assert_eq!(st.account.as_deref(), Some(SANDBOX));
    assert!(st.pending.is_empty(), "{:?}", st.pending);
    assert!(err.contains("smoke run "), "{err}");
}

#[test]
fn a_key_the_runner_cannot_create_fails_the_long_term_path_only_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_sandbox();
    // IAM refuses the runner the long-term key (a service fault, after the SDK's retries).
    fake.hook(|r, w| {
        (r.op == "CreateServiceSpecificCredential" && r.by_runner).then(|| {
            iam_error(
                w,
                500,
                "ServiceFailure",
                "Request processing has failed due to an unknown error, exception or failure.",
            )
        })
    });
    let (code, out, err) = run_smoke(dir.path(), &fake);
    assert_eq!(code, 1, "{out}\n{err}");
    let failed = line(&out, SmokePath::LongTermKeyCall);
    assert!(
        failed.starts_with("FAILED long-term-key-call: smoke/long-term-key-call: ")
            && failed.contains("iam:CreateServiceSpecificCredential")
            && failed.contains("ServiceFailure"),
        "{failed}"
    );
    assert!(!failed.contains(SANDBOX), "the account leaked: {failed}");
    for path in SmokePath::ALL {
        if path != SmokePath::LongTermKeyCall {
            let l = line(&out, path);
            assert!(l.starts_with("passed "), "{l}");
        }
    }
    assert_eq!(out.lines().last(), Some("6 passed, 1 failed"), "{out}");
    assert_all_deleted(&fake);
    assert_nothing_recorded(dir.path());
}

#[test]
fn a_model_the_account_cannot_use_fails_both_call_paths_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_sandbox();
    // Bedrock's answer when the model is not enabled in the account, whatever the policies say.
    fake.hook(|r, w| {
        (r.service == "bedrock").then(|| {
            bedrock_error(
                w,
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
            )
        })
    });
    let (code, out, err) = run_smoke(dir.path(), &fake);
    assert_eq!(code, 1, "{out}\n{err}");
    for path in [SmokePath::LongTermKeyCall, SmokePath::ShortTermKeyCall] {
        let l = line(&out, path);
        assert!(
            l.starts_with("FAILED ") && l.contains("have access to the model"),
            "{l}"
        );
    }
    for path in [
        SmokePath::Guard,
        SmokePath::Simulator,
        SmokePath::DeniedKeyCreation,
        SmokePath::ConsoleFlow,
        SmokePath::Sweep,
    ] {
        assert!(line(&out, path).starts_with("passed "), "{out}");
    }
    assert_eq!(out.lines().last(), Some("5 passed, 2 failed"), "{out}");
    assert_all_deleted(&fake);
    assert_nothing_recorded(dir.path());
}

#[test]
fn a_sandbox_of_another_account_fails_the_guard_and_nothing_else_is_tried() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new("444455556666");
    let (code, out, err) = run_smoke(dir.path(), &fake);
    assert_eq!(code, 2, "a setup problem: {out}\n{err}");
    assert!(
        line(&out, SmokePath::Guard).contains("not to the sandbox account"),
        "{out}"
    );
    for path in SmokePath::ALL.into_iter().skip(1) {
        assert!(
            line(&out, path).starts_with(&format!("FAILED {}: not run", path.name())),
            "{out}"
        );
    }
    assert_eq!(out.lines().last(), Some("0 passed, 7 failed"), "{out}");
    assert_eq!(fake.ops(), ["GetCallerIdentity"]);
    assert!(!dir.path().join("state").exists(), "no journal");
}

#[test]
fn the_smoke_dry_run_lists_every_path_with_no_account_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), None);
    let fake = Fake::new(SANDBOX);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let mut a = args(&cfg);
    a.dry_run = true;
    let (code, out, err) = run_cmd(smoke(a), setup);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("nothing is sent to AWS"), "{out}");
    for path in SmokePath::ALL {
        assert!(
            out.contains(&format!("\npath {}: ", path.name())) || out.starts_with("path "),
            "{} missing:\n{out}",
            path.name()
        );
    }
    // The plan's calls are the runner's, per case.
    assert!(out.contains("case smoke/simulator/allow:\n    iam:SimulateCustomPolicy "));
    assert!(out
        .lines()
        .any(|l| l.contains("iam:AttachUserPolicy ") && l.contains(" as the case principal")));
    assert!(out.contains("bedrock-runtime:Converse"));
    assert!(out
        .lines()
        .any(|l| l.starts_with("plan: 7 paths, 7 cases, 0 skipped")));
    assert!(out.contains("estimated cost: at most $"), "{out}");
    assert!(fake.requests().is_empty(), "{:?}", fake.ops());
    assert!(
        !dir.path().join("state").exists(),
        "no journal for a dry run"
    );
}

#[test]
fn record_smoke_dry_run_works_from_the_command_line_with_no_account_or_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let o = keyward_offline(&["record", "--smoke", "--dry-run"], dir.path());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    for path in SmokePath::ALL {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("path {}: ", path.name()))),
            "{} missing:\n{out}",
            path.name()
        );
    }
    // Nothing was written where it ran.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // --smoke runs its own plan: the options of a recording are refused with it.
    for extra in [
        &["--cases", "3"][..],
        &["--probe-assumptions"],
        &["--out", "x"],
    ] {
        let mut a = vec!["record", "--smoke", "--dry-run"];
        a.extend_from_slice(extra);
        let o = keyward_offline(&a, dir.path());
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    }
}
