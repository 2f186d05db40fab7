//! What a live run needs to know before it may touch AWS: the sandbox account it is allowed to
//! use, the region, the model, and the bounds on cost and load.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::LiveError;

/// The environment variable naming the only account live mode may use.
pub const SANDBOX_ACCOUNT_VAR: &str = "KEYWARD_SANDBOX_ACCOUNT";
/// The config file read when `--config` is not given and the file exists.
pub const DEFAULT_CONFIG_FILE: &str = "keyward.toml";

/// The cheapest model that supports Converse (Amazon Nova Micro, by the Bedrock pricing page's
/// per-token prices); overridable with `model` in the config file.
pub const DEFAULT_MODEL: &str = "amazon.nova-micro-v1:0";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_MAX_CALLS: u32 = 2_000;
pub const DEFAULT_CONCURRENCY: usize = 4;

/// `keyward.toml`, section `[live]`. Every field is optional; the environment variable wins over
/// `sandbox_account`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    live: FileLive,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLive {
    sandbox_account: Option<String>,
    region: Option<String>,
    model: Option<String>,
    max_calls: Option<u32>,
    concurrency: Option<usize>,
    propagation_timeout_secs: Option<u64>,
    state_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The account live mode may use; `None` until configured, and then live mode refuses.
    pub sandbox_account: Option<String>,
    pub region: String,
    /// The foundation-model id calls are made to.
    pub model: String,
    /// The most AWS API calls one run may make (every call counts, reads included).
    pub max_calls: u32,
    /// Cases in flight at once.
    pub concurrency: usize,
    /// How long to wait for an IAM change to take effect before giving up on a case.
    pub propagation_timeout: Duration,
    /// Where run journals live: the names of everything a run creates, written before it is
    /// created, so that `sweep` finds leftovers even after a crash. Names only, never secrets.
    pub state_dir: PathBuf,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            sandbox_account: None,
            region: DEFAULT_REGION.into(),
            model: DEFAULT_MODEL.into(),
            max_calls: DEFAULT_MAX_CALLS,
            concurrency: DEFAULT_CONCURRENCY,
            // Settling takes 30 s of agreeing answers, and a new long-term key 30 s more before
            // "Authentication failed" counts (enforce::Settle): 60 s left no room for lag.
            propagation_timeout: Duration::from_secs(120),
            state_dir: PathBuf::from(".keyward"),
        }
    }
}

impl LiveConfig {
    /// The config file (the given one, which must exist, or `keyward.toml` when present) with
    /// the environment on top.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<LiveConfig, LiveError> {
        let mut c = LiveConfig::default();
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.exists()),
        };
        if let Some(p) = path {
            let text = std::fs::read_to_string(&p).map_err(|e| LiveError::Config {
                file: p.display().to_string(),
                message: e.to_string(),
            })?;
            c.apply_file(&p, &text)?;
        }
        if let Some(a) = env(SANDBOX_ACCOUNT_VAR).filter(|a| !a.trim().is_empty()) {
            c.sandbox_account = Some(a.trim().to_string());
        }
        if let Some(a) = &c.sandbox_account {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(LiveError::Config {
                    file: SANDBOX_ACCOUNT_VAR.into(),
                    message: format!("the sandbox account must be 12 digits, not {a:?}"),
                });
            }
        }
        Ok(c)
    }

    fn apply_file(&mut self, path: &Path, text: &str) -> Result<(), LiveError> {
        let f: FileConfig = toml::from_str(text).map_err(|e| LiveError::Config {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let l = f.live;
        let bad = |field: &str, why: &str| LiveError::Config {
            file: path.display().to_string(),
            message: format!("live.{field}: {why}"),
        };
        if let Some(a) = l.sandbox_account {
            self.sandbox_account = Some(a);
        }
        if let Some(r) = l.region {
            self.region = r;
        }
        if let Some(m) = l.model {
            self.model = m;
        }
        if let Some(n) = l.max_calls {
            self.max_calls = n;
        }
        if let Some(n) = l.concurrency {
            if n == 0 {
                return Err(bad("concurrency", "must be at least 1"));
            }
            self.concurrency = n;
        }
        if let Some(s) = l.propagation_timeout_secs {
            self.propagation_timeout = Duration::from_secs(s);
        }
        if let Some(d) = l.state_dir {
            self.state_dir = d;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k.toml");
        std::fs::write(
            &f,
            "[live]\nsandbox_account = \"111111111111\"\nmax_calls = 10\n",
        )
        .unwrap();
        let c = LiveConfig::load(Some(&f), &no_env).unwrap();
        assert_eq!(c.sandbox_account.as_deref(), Some("111111111111"));
        assert_eq!(c.max_calls, 10);
        let env = |k: &str| (k == SANDBOX_ACCOUNT_VAR).then(|| "222222222222".to_string());
        let c = LiveConfig::load(Some(&f), &env).unwrap();
        assert_eq!(c.sandbox_account.as_deref(), Some("222222222222"));
    }

    #[test]
    fn bad_files_and_accounts_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k.toml");
        std::fs::write(&f, "[live]\nsandbox_acount = \"1\"\n").unwrap();
        let e = LiveConfig::load(Some(&f), &no_env).unwrap_err().to_string();
        assert!(e.contains("k.toml") && e.contains("sandbox_acount"), "{e}");
        let env = |_: &str| Some("12345".to_string());
        let e = LiveConfig::load(None, &env).unwrap_err().to_string();
        assert!(e.contains("12 digits"), "{e}");
        let missing = dir.path().join("absent.toml");
        assert!(LiveConfig::load(Some(&missing), &no_env).is_err());
    }
}
