//! Live mode against a real IAM API on loopback: moto's server (PyPI `moto[server]`, pinned in
//! tests/requirements.txt), started here on 127.0.0.1. Moto implements IAM users, roles,
//! policies, tags and STS, though not service-specific credentials, so these tests cover
//! provisioning, cleanup and sweep over the real IAM query protocol.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use keyward::case::Case;
use keyward::live::enforce::{enforce, Settle};
use keyward::live::journal::{self, Journal, Resource};
use keyward::live::ledger::Ledger;
use keyward::live::names::{RunId, TAG_KEY};
use keyward::live::plan::{plan, PlanContext};
use keyward::live::provision::{self, ManagedPolicy, PrincipalPolicies};
use keyward::live::{guard, sweep, Aws, LiveConfig};
use serde_json::json;
use std::sync::Arc;

/// The account moto reports (MOTO_ACCOUNT_ID), unlike the cases' 123456789012.
const ACCOUNT: &str = "210987654321";

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("MOTO_ACCOUNT_ID", ACCOUNT)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 must be installed to start moto");
    let mut m = Moto { child, port };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = m.child.try_wait() {
            panic!("moto's server exited ({status}); install it with `pip install -r tests/requirements.txt`");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    m.port = port;
    m
}

fn config(state: &Path) -> LiveConfig {
    LiveConfig {
        sandbox_account: Some(ACCOUNT.into()),
        state_dir: state.to_path_buf(),
        ..LiveConfig::default()
    }
}

async fn connect(m: &Moto, c: &LiveConfig) -> Aws {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{}", m.port))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await;
    guard::verify(sdk, c)
        .await
        .expect("moto's account is the sandbox")
}

async fn user_names(aws: &Aws) -> Vec<String> {
    let out = aws.iam().list_users().send().await.unwrap();
    out.users()
        .iter()
        .map(|u| u.user_name().to_string())
        .collect()
}

async fn role_names(aws: &Aws) -> Vec<String> {
    let out = aws.iam().list_roles().send().await.unwrap();
    out.roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect()
}

async fn local_policy_names(aws: &Aws) -> Vec<String> {
    let out = aws
        .iam()
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    out.policies()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_string))
        .collect()
}

fn doc(action: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_moto_under_another_sandbox_account() {
    let m = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.sandbox_account = Some("999999999999".into());
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{}", m.port))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await;
    let e = guard::verify(sdk, &c).await.unwrap_err().to_string();
    assert!(e.contains(ACCOUNT) && e.contains("999999999999"), "{e}");
    // And nothing was created: moto has no users or roles.
    let aws = connect(&m, &config(dir.path())).await;
    assert!(user_names(&aws).await.is_empty());
    assert!(role_names(&aws).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_tags_everything_and_cleanup_removes_it() {
    let m = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let aws = connect(&m, &c).await;
    let run = RunId::parse("moto0001").unwrap();
    let j = Arc::new(Journal::open(dir.path(), &run).unwrap());
    let ledger = Ledger::new(Some(j.clone()), run.clone());
    let role = run.name(0, "c-dev");
    let pols = PrincipalPolicies {
        identity: vec![doc("bedrock:*"), doc("iam:CreateServiceSpecificCredential")],
        boundary: Some(ManagedPolicy::Create {
            name: run.policy_name(0, "boundary"),
            document: doc("*"),
        }),
        ..PrincipalPolicies::default()
    };
    let arn = provision::create_role(&aws, &ledger, &run, &role, &pols)
        .await
        .unwrap();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:role/{role}"));
    let user = run.name(0, "u-bob");
    provision::create_user(
        &aws,
        &ledger,
        &run,
        &user,
        &PrincipalPolicies {
            identity: vec![doc("s3:*")],
            ..PrincipalPolicies::default()
        },
    )
    .await
    .unwrap();
    let iam = aws.iam().clone();
    // The role carries both inline policies, its boundary and the run tag.
    let inline = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["p0", "p1"]);
    let got = iam.get_role().role_name(&role).send().await.unwrap();
    let r = got.role().unwrap();
    assert!(r.permissions_boundary().is_some(), "boundary set");
    let tags = iam.list_role_tags().role_name(&role).send().await.unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == TAG_KEY && t.value() == "moto0001"));
    let utags = iam.list_user_tags().user_name(&user).send().await.unwrap();
    assert!(utags.tags().iter().any(|t| t.key() == TAG_KEY));
    // The runner can assume the role it made (moto answers AssumeRole over the STS protocol).
    let creds = provision::assume_role(&aws, &arn, "alice", Some(&doc("bedrock:*")), &[])
        .await
        .unwrap();
    assert!(creds.session_token().is_some());
    // An access key for the user stays in memory; cleanup must delete it before the user.
    provision::create_access_key(&aws, &user).await.unwrap();
    assert_eq!(journal::read(j.path()).unwrap().pending.len(), 3);

    let failed = ledger.cleanup(&aws).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert!(user_names(&aws).await.is_empty());
    assert!(role_names(&aws).await.is_empty());
    assert!(local_policy_names(&aws).await.is_empty());
    assert!(journal::read(j.path()).unwrap().pending.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_case_is_cleaned_up_by_sweep() {
    let m = start_moto();
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    let aws = connect(&m, &c).await;
    let run = RunId::parse("moto0002").unwrap();
    // A console-flow key creation under a boundary: a role, its boundary policy, and the target
    // user that the case's principal creates (untagged).
    let case = Case::from_json(&json!({
        "id": "moto/console",
        "policies": {"identity": [doc("iam:*")], "permissions_boundary": doc("iam:*")},
        "scenario": {"create_key": {"caller": "arn:aws:sts::123456789012:assumed-role/dev/alice",
                     "user": "BedrockAPIKey-h42z", "service": "bedrock.amazonaws.com", "flow": "console"}}
    }))
    .unwrap();
    let ctx = PlanContext {
        run: run.clone(),
        index: 0,
        account: ACCOUNT.into(),
        model: "amazon.nova-micro-v1:0".into(),
        now: 0,
    };
    let planned = plan(&case, &ctx).expect("runnable");
    let j = Arc::new(Journal::open(dir.path(), &run).unwrap());
    let ledger = Ledger::new(Some(j.clone()), run.clone());
    // The "crash": the case is dropped while it waits for IAM to settle, after provisioning.
    let settle = Settle {
        settle: Duration::from_secs(60),
        ..Settle::immediate()
    };
    let r = tokio::time::timeout(
        Duration::from_secs(8),
        enforce(&aws, &ledger, &run, &planned, &settle),
    )
    .await;
    assert!(r.is_err(), "the case was cut off mid-way");
    let pending = journal::read(j.path()).unwrap().pending;
    assert_eq!(pending.len(), 2, "the role and its boundary: {pending:?}");
    assert!(
        !pending
            .iter()
            .any(|r| matches!(r, Resource::User(n) if n.starts_with("BedrockAPIKey-"))),
        "the console user is journaled only once IAM has created it: {pending:?}"
    );
    let target = planned
        .plan
        .resources()
        .iter()
        .find_map(|r| r.strip_prefix("user BedrockAPIKey-"))
        .map(|s| format!("BedrockAPIKey-{s}"))
        .expect("a console user is planned");
    // What a crash right after the case's principal created it and the runner tagged it leaves:
    // a tagged console-style user no journal names.
    let run_tag = aws_sdk_iam::types::Tag::builder()
        .key(TAG_KEY)
        .value("moto0002")
        .build()
        .unwrap();
    aws.iam()
        .create_user()
        .user_name(&target)
        .tags(run_tag)
        .send()
        .await
        .unwrap();
    // A real console key user of the account, in no journal and untagged: never touched.
    aws.iam()
        .create_user()
        .user_name("BedrockAPIKey-real")
        .send()
        .await
        .unwrap();
    // Leftovers of other kinds: a tagged user without a journal, and users that are not ours.
    let tag = aws_sdk_iam::types::Tag::builder()
        .key(TAG_KEY)
        .value("oldrun01")
        .build()
        .unwrap();
    aws.iam()
        .create_user()
        .user_name("keyward-oldrun01-3-u-x")
        .tags(tag)
        .send()
        .await
        .unwrap();
    aws.iam()
        .create_user()
        .user_name("keyward-not-tagged")
        .send()
        .await
        .unwrap();
    aws.iam()
        .create_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(role_names(&aws).await.len(), 1);
    assert_eq!(local_policy_names(&aws).await.len(), 1);

    // A dry run lists, and deletes nothing.
    let found = sweep::find(&aws, dir.path(), None).await.unwrap();
    assert_eq!(found.resources.len(), 4, "{found:?}");
    assert_eq!(user_names(&aws).await.len(), 5);

    let report = sweep::sweep(&aws, dir.path(), None).await.unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.deleted.len(), 4, "{:?}", report.deleted);
    let mut left = user_names(&aws).await;
    left.sort();
    assert_eq!(left, ["BedrockAPIKey-real", "alice", "keyward-not-tagged"]);
    assert!(role_names(&aws).await.is_empty());
    assert!(local_policy_names(&aws).await.is_empty());
    assert!(journal::read(j.path()).unwrap().pending.is_empty());
    assert_eq!(report.journals_done, ["moto0002"]);
}
