//! Who the runner is, and who a case's principals are in the sandbox.
//!
//! The runner: STS names a role session without the role's path, IAM Identity Center's roles
//! live under a reserved path, and IAM refuses a trust policy that names a role that does not
//! exist. So the fake's STS can answer as an SSO session, a pathed role, an IAM user, the root
//! user or a federated user, and its IAM refuses such trust policies; a run must work for every
//! runner that can assume a role and refuse, before changing anything, the ones that cannot.
//!
//! The case's principals: a user creating its own key is one sandbox user, whose policies name
//! it under its live name wherever they name the case user.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::fake::Runner;
use super::*;
use keyward::live::plan::Principal as LivePrincipal;

/// A fake whose runner is `runner`.
fn fake_as(runner: Runner) -> Fake {
    let fake = Fake::new(SANDBOX);
    fake.world_mut(|w| w.runner = runner);
    fake
}

fn trust(principal: &str) -> String {
    doc(json!([{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]))
        .to_string()
}

/// The SSO runner's role, by its full ARN (path included).
fn sso_role_arn() -> String {
    Runner::sso().entity_arn(SANDBOX).unwrap()
}

#[tokio::test]
async fn the_fake_refuses_a_trust_policy_naming_a_role_or_user_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_as(Runner::sso());
    let aws = verified(&fake, dir.path()).await;
    assert!(
        aws.runner_arn().contains(":assumed-role/AWSReservedSSO_"),
        "STS names the session without the role's path: {}",
        aws.runner_arn()
    );
    // The role ARN as it reads without the path names no role.
    let pathless =
        format!("arn:aws:iam::{SANDBOX}:role/AWSReservedSSO_KeywardRunner_0123456789abcdef");
    let e = aws
        .iam()
        .create_role()
        .role_name("keyward-t-1")
        .assume_role_policy_document(trust(&pathless))
        .send()
        .await
        .unwrap_err();
    let f = keyward::live::aws::ApiFailure::from_sdk(&e);
    assert_eq!(f.status, Some(400));
    assert_eq!(f.code.as_deref(), Some("MalformedPolicyDocument"));
    assert_eq!(
        f.message.as_deref(),
        Some(format!("Invalid principal in policy: \"AWS\":\"{pathless}\"").as_str())
    );
    fake.world(|w| assert!(w.roles.is_empty()));
    // With its path it is the runner's role; the account itself is always a valid principal.
    for (i, ok) in [sso_role_arn(), format!("arn:aws:iam::{SANDBOX}:root")]
        .iter()
        .enumerate()
    {
        aws.iam()
            .create_role()
            .role_name(format!("keyward-t-ok{i}"))
            .assume_role_policy_document(trust(ok))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{ok}: {e:?}"));
    }
    // UpdateAssumeRolePolicy checks the same way: a user of no one is refused, and the
    // role's trust policy is left as it was.
    let role = "keyward-t-ok0";
    let nobody = format!("arn:aws:iam::{SANDBOX}:user/nobody");
    let e = aws
        .iam()
        .update_assume_role_policy()
        .role_name(role)
        .policy_document(trust(&nobody))
        .send()
        .await
        .unwrap_err();
    let f = keyward::live::aws::ApiFailure::from_sdk(&e);
    assert_eq!(f.code.as_deref(), Some("MalformedPolicyDocument"));
    assert!(f
        .message
        .unwrap()
        .ends_with(&format!("\"AWS\":\"{nobody}\"")));
    fake.world(|w| assert!(w.trust[role].contains("aws-reserved/sso.amazonaws.com")));
}

#[tokio::test]
async fn role_cases_run_for_sso_pathed_and_user_runners() {
    let runners = [
        Runner::default(),
        Runner::sso(),
        Runner::Role {
            path: "/ci/release/".into(),
            name: "release-ci".into(),
            session: "GitHubActions".into(),
        },
        Runner::User {
            path: "/ops/".into(),
            name: "runner".into(),
        },
    ];
    for runner in runners {
        let dir = tempfile::tempdir().unwrap();
        let fake = fake_as(runner.clone());
        let aws = verified(&fake, dir.path()).await;
        let c = short_term_call("t/role", ROLE_ALICE, allow_all());
        let report = run_cases(&aws, &RunId::new(), None, None, &[c], &opts()).await;
        let r = only(&report);
        assert_eq!(r.status, Status::Agreed, "{runner:?}: {r:?}");
        assert_eq!(fake.count("CreateRole"), 1, "{runner:?}");
        let created = fake.of("CreateRole");
        let trust: Value =
            serde_json::from_str(created[0].param("AssumeRolePolicyDocument").unwrap()).unwrap();
        // The sandbox account is trusted, and the runner's own policy lets it assume the role.
        assert_eq!(
            trust["Statement"][0]["Principal"]["AWS"],
            format!("arn:aws:iam::{SANDBOX}:root"),
            "{runner:?}"
        );
        assert!(fake.of("AssumeRole").iter().all(|r| r.by_runner));
        assert_all_deleted(&fake);
    }
}

#[tokio::test]
async fn a_root_or_federated_runner_is_refused_by_the_guard_before_anything_changes() {
    for (runner, says) in [
        (Runner::Root, "root user"),
        (
            Runner::FederatedUser("bob".into()),
            "federated user's session",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let fake = fake_as(runner.clone());
        let e = guard::verify(fake.sdk(), &live_config(dir.path()))
            .await
            .expect_err("refused");
        assert!(e.is_bad_input(), "{runner:?}: {e}");
        let text = e.to_string();
        assert!(text.contains(says), "{text}");
        assert!(text.contains("nothing was changed in AWS"), "{text}");
        assert_eq!(fake.ops(), ["GetCallerIdentity"], "{runner:?}");
    }
}

/// From the command line: exit 2 (bad input), with the reason, and only the one STS call.
#[test]
fn a_root_runner_is_bad_input_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), Some(SANDBOX));
    let c = short_term_call("t/root", ROLE_ALICE, allow_all());
    let fx = write_fixtures(dir.path(), &[&c]);
    let fake = fake_as(Runner::Root);
    let setup = Setup {
        sdk: Some(fake.sdk()),
        ..no_env()
    };
    let (code, out, err) = run_cmd(check(args(&cfg), &fx, 0), setup);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("root user"), "{err}");
    assert_eq!(fake.ops(), ["GetCallerIdentity"]);
}

// ---------------------------------------------------------------------------------------------
// A user creating its own key
// ---------------------------------------------------------------------------------------------

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const CONSOLE_NAMED: &str = "BedrockAPIKey-h42z";

fn plan_of(c: &Case) -> keyward::live::plan::Planned {
    let ctx = PlanContext {
        run: RunId::parse("self0001").unwrap(),
        index: 4,
        account: SANDBOX.into(),
        model: keyward::live::config::DEFAULT_MODEL.into(),
        now: 1_750_000_000,
    };
    plan(c, &ctx).unwrap_or_else(|s| panic!("{}: {s}", c.id))
}

/// `caller` creates a key for `user` (API flow), under `policies`.
fn create_key(id: &str, caller: &str, user: &str, user_exists: bool, policies: Value) -> Case {
    case(&json!({
        "id": id, "source": "live_offline", "provenance": "generated",
        "policies": {"identity": [policies]},
        "scenario": {"create_key": {"caller": caller, "user": user,
            "service": "bedrock.amazonaws.com", "flow": "api", "user_exists": user_exists}}
    }))
}

/// IAM's self-service pattern: a user may create keys for itself and no one else.
fn own_keys_only() -> Value {
    doc(
        json!([{"Effect": "Allow", "Action": "iam:CreateServiceSpecificCredential",
        "Resource": "arn:aws:iam::123456789012:user/${aws:username}"}]),
    )
}

/// The plan's caller and target, both users: their live names.
fn caller_and_target(p: &keyward::live::plan::Planned) -> (String, String, String) {
    let LivePlan::CreateKey { caller, user, .. } = &p.plan else {
        panic!("{:?}", p.plan)
    };
    let LivePrincipal::User {
        live_name,
        policies,
    } = caller
    else {
        panic!("{caller:?}")
    };
    (
        live_name.clone(),
        user.clone(),
        policies.identity[0].to_string(),
    )
}

#[test]
fn a_user_creating_its_own_key_is_one_live_user_named_alike_everywhere() {
    let named = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "iam:CreateServiceSpecificCredential", "Resource": ALICE}]});
    for (caller, target, policy) in [
        (ALICE.to_string(), "alice", named),
        (
            format!("arn:aws:iam::123456789012:user/{CONSOLE_NAMED}"),
            CONSOLE_NAMED,
            doc(json!([{"Effect": "Allow", "Action": "iam:*",
                "Resource": "arn:aws:iam::123456789012:user/BedrockAPIKey-????"}])),
        ),
    ] {
        let p = plan_of(&create_key("t/self", &caller, target, true, policy));
        let (live_caller, live_target, text) = caller_and_target(&p);
        assert_eq!(live_caller, live_target, "{caller}");
        // Every occurrence of the case user maps to the one live user, and back.
        assert_eq!(
            p.renamer.to_live(&caller),
            format!("arn:aws:iam::{SANDBOX}:user/{live_caller}")
        );
        assert_eq!(p.renamer.to_case(&live_caller), target);
        if target == "alice" {
            assert!(
                text.contains(&format!("arn:aws:iam::{SANDBOX}:user/{live_caller}")),
                "the policy names the live user: {text}"
            );
        }
        // One user is made, not two of the same name.
        let users = p
            .plan
            .resources()
            .iter()
            .filter(|r| r.starts_with("user "))
            .count();
        assert_eq!(users, 1, "{:?}", p.plan.resources());
        let creates_user = |s: &keyward::live::steps::Step| s.operation() == "iam:CreateUser";
        assert_eq!(
            p.plan.steps().iter().filter(|s| creates_user(s)).count(),
            1,
            "{:?}",
            p.plan.steps()
        );
    }
    // Distinct case users stay distinct live users.
    let p = plan_of(&create_key(
        "t/other",
        "arn:aws:iam::123456789012:user/bob",
        "alice",
        true,
        own_keys_only(),
    ));
    let (live_caller, live_target, _) = caller_and_target(&p);
    assert_ne!(live_caller, live_target);
    let p = plan_of(&create_key(
        "t/other-console",
        "arn:aws:iam::123456789012:user/BedrockAPIKey-abcd",
        CONSOLE_NAMED,
        true,
        own_keys_only(),
    ));
    let (live_caller, live_target, _) = caller_and_target(&p);
    assert_ne!(live_caller, live_target);
}

#[test]
fn a_key_for_a_user_that_is_the_caller_but_does_not_exist_yet_is_skipped() {
    let ctx = PlanContext {
        run: RunId::parse("self0002").unwrap(),
        index: 0,
        account: SANDBOX.into(),
        model: keyward::live::config::DEFAULT_MODEL.into(),
        now: 1_750_000_000,
    };
    let missing = create_key("t/self-missing", ALICE, "alice", false, own_keys_only());
    let mut console = missing.to_json();
    console["scenario"]["create_key"]["flow"] = json!("console");
    console["scenario"]["create_key"]["user_exists"] = json!(true);
    for c in [missing, case(&console)] {
        let why = plan(&c, &ctx).expect_err("a caller exists").to_string();
        assert!(
            why.contains("the caller is the user the key is for"),
            "{why}"
        );
    }
    // A role named like the key's user: renaming could not tell them apart.
    let role = create_key(
        "t/role-alice",
        "arn:aws:sts::123456789012:assumed-role/alice/s1",
        "alice",
        true,
        own_keys_only(),
    );
    let why = plan(&role, &ctx).expect_err("skipped").to_string();
    assert!(why.contains("a role named like the key's user"), "{why}");
}

/// The one inline policy the self-service cases give their caller, as the runner must put it in
/// the sandbox: [`own_keys_only`] with the sandbox account in place of the case's.
const LIVE_OWN_KEYS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateServiceSpecificCredential","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}]}"#;

/// Makes the fake's IAM decide CreateServiceSpecificCredential (the fake otherwise allows every
/// call) by a fixed table worked out by hand, not by keyward's evaluator: a caller whose only
/// inline policy is [`LIVE_OWN_KEYS_ONLY`] may create a key for itself (`${aws:username}` is the
/// caller's user name, as IAM documents the variable) and for no one else; any other policy
/// gets no answer from the table, and IAM's implicit deny. The deny is AWS's sentence with the
/// live names, which the run draws, put in from the request.
fn iam_decides_by_the_callers_policies(fake: &Fake) {
    let docs: Mutex<BTreeMap<String, Vec<Value>>> = Mutex::new(BTreeMap::new());
    fake.hook(move |r, w| {
        let mut docs = docs.lock().unwrap();
        if r.op == "PutUserPolicy" {
            let user = r.param("UserName")?.to_string();
            let d = serde_json::from_str(r.param("PolicyDocument")?).ok()?;
            docs.entry(user).or_default().push(d);
            return None;
        }
        if r.op != "CreateServiceSpecificCredential" || r.by_runner {
            return None;
        }
        let caller = r.caller_arn.clone()?;
        let me = caller.rsplit('/').next()?.to_string();
        let target = r.param("UserName")?.to_string();
        let own_keys_only: Value = serde_json::from_str(LIVE_OWN_KEYS_ONLY).unwrap();
        let policies = docs.get(&me).cloned().unwrap_or_default();
        if policies == [own_keys_only] && target == me {
            return None;
        }
        let text = "User: {CALLER} is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user {TARGET} because no identity-based policy allows the iam:CreateServiceSpecificCredential action"
            .replace("{CALLER}", &caller)
            .replace("{TARGET}", &target);
        Some(iam_error(w, 403, "AccessDenied", &text))
    });
}

#[tokio::test]
async fn a_user_creating_its_own_key_runs_as_that_one_user_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(SANDBOX);
    iam_decides_by_the_callers_policies(&fake);
    let aws = verified(&fake, dir.path()).await;
    let cases = [
        create_key("t/self", ALICE, "alice", true, own_keys_only()),
        create_key(
            "t/self-console-named",
            &format!("arn:aws:iam::123456789012:user/{CONSOLE_NAMED}"),
            CONSOLE_NAMED,
            true,
            own_keys_only(),
        ),
    ];
    for c in &cases {
        assert_eq!(c.verdict().answer().status, Some(200), "allowed locally");
    }
    let report = run_cases(&aws, &RunId::new(), None, None, &cases, &opts()).await;
    for r in &report.cases {
        assert_eq!(r.status, Status::Agreed, "{r:?} {:?}", fake.ops());
    }
    // Each case made one user, the caller, which created a key for itself.
    assert_eq!(fake.count("CreateUser"), 2, "{:?}", fake.ops());
    let made = fake.of("CreateServiceSpecificCredential");
    assert!(!made.is_empty());
    for m in &made {
        let caller = m.caller_arn.as_deref().unwrap();
        assert!(
            caller.ends_with(&format!("/{}", m.param("UserName").unwrap())),
            "{caller} made a key for {:?}",
            m.param("UserName")
        );
    }
    assert_all_deleted(&fake);
    // Another user's key: IAM's table refuses it, and the record is IAM's sentence in the
    // case's names, which the local evaluator words the same.
    let fake = Fake::new(SANDBOX);
    iam_decides_by_the_callers_policies(&fake);
    let aws = verified(&fake, dir.path()).await;
    let other = create_key(
        "t/other-users-key",
        "arn:aws:iam::123456789012:user/bob",
        "alice",
        true,
        own_keys_only(),
    );
    let report = run_cases(&aws, &RunId::new(), None, None, &[other], &opts()).await;
    let r = only(&report);
    assert_eq!(
        r.aws.as_ref().and_then(|a| a.message.as_deref()),
        Some("User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:CreateServiceSpecificCredential on resource: user alice because no identity-based policy allows the iam:CreateServiceSpecificCredential action"),
        "{r:?}"
    );
    assert_eq!(r.status, Status::Agreed, "{r:?}");
    assert_all_deleted(&fake);
}
