//! The peer oracle: `@cloud-copilot/iam-simulate`, an IAM evaluator written by other people, asked
//! through the Node bridge kept in `harness/peer/iam-simulate/` (docs/architecture.md, "The peer
//! oracle"). One `node` process per run; cases go to it as JSON Lines and come back one answer
//! line each, in order.

pub mod errata;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use keyward_iam::{DecisionKind, PolicyType};
use serde_json::Value;

use crate::case::{Case, Expect};
use crate::oracle::Oracle;

/// The bridge's folder, relative to the repository root.
pub const DEFAULT_DIR: &str = "harness/peer/iam-simulate";
/// The npm package the bridge drives.
pub const PACKAGE: &str = "@cloud-copilot/iam-simulate";
/// The variable that names the Node.js program (default: `node` on the PATH).
pub const NODE_VAR: &str = "KEYWARD_NODE";

/// What the peer said about one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerReply {
    /// Its decision, and every policy type that qualifies as the deciding one (empty for an
    /// allow): AWS names one of them and does not document which.
    Answer {
        decision: DecisionKind,
        by: Vec<PolicyType>,
    },
    /// The case cannot be put to the peer faithfully (a scenario, policies of different Versions
    /// where it takes one policy, a document its validator refuses), and why.
    Unanswerable(String),
}

/// Why the peer cannot be started: what is missing, and what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// No Node.js program could be run.
    NoNode { program: String, detail: String },
    /// The bridge's folder has no `package.json` (not a checkout of the repository?).
    NoBridge { dir: PathBuf },
    /// `npm ci` was not run in the bridge's folder.
    NotInstalled { dir: PathBuf },
    /// Another version of the peer is installed than the one `package.json` pins.
    WrongVersion {
        dir: PathBuf,
        pinned: String,
        installed: String,
    },
    /// The bridge started but did not say it was ready.
    Bridge { detail: String },
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::NoNode { program, detail } => write!(
                f,
                "--oracle iam-simulate needs Node.js 20.6 or later, and `{program}` cannot be run ({detail}).\n\
                 Install Node.js with npm (e.g. `apt-get install nodejs npm`), or set {NODE_VAR} to the node program."
            ),
            SetupError::NoBridge { dir } => write!(
                f,
                "--oracle iam-simulate: {} holds no package.json; run keyward from the repository root, or pass --peer-dir with the bridge's folder ({DEFAULT_DIR} in the repository).",
                dir.display()
            ),
            SetupError::NotInstalled { dir } => write!(
                f,
                "--oracle iam-simulate: the peer is not installed in {}.\n\
                 Run `npm ci --prefix {}` (it installs {PACKAGE} at the version its package-lock.json pins), then run this command again.",
                dir.display(),
                dir.display()
            ),
            SetupError::WrongVersion {
                dir,
                pinned,
                installed,
            } => write!(
                f,
                "--oracle iam-simulate: {PACKAGE} {installed} is installed in {}, but its package.json pins {pinned}.\n\
                 Run `npm ci --prefix {}` to install the pinned version, then run this command again.",
                dir.display(),
                dir.display()
            ),
            SetupError::Bridge { detail } => write!(
                f,
                "--oracle iam-simulate: the bridge did not start: {detail}"
            ),
        }
    }
}

struct Bridge {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
}

/// The peer, running: one `node` process for the life of this value.
pub struct IamSimulate {
    bridge: Mutex<Bridge>,
    version: String,
    dir: PathBuf,
}

/// The version `package.json` in `dir` pins for [`PACKAGE`].
fn pinned_version(dir: &Path) -> Result<String, SetupError> {
    let text = std::fs::read_to_string(dir.join("package.json"))
        .map_err(|_| SetupError::NoBridge { dir: dir.into() })?;
    let v: Value =
        serde_json::from_str(&text).map_err(|_| SetupError::NoBridge { dir: dir.into() })?;
    v["dependencies"][PACKAGE]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SetupError::NoBridge { dir: dir.into() })
}

/// The version of [`PACKAGE`] `npm ci` installed in `dir`, if any.
fn installed_version(dir: &Path) -> Option<String> {
    let path = dir.join("node_modules").join(PACKAGE).join("package.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// The Node.js program to run: [`NODE_VAR`] when set, else `node`.
pub fn node_program() -> String {
    std::env::var(NODE_VAR)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "node".into())
}

/// Node.js's version as (major, minor), when `program --version` runs.
fn node_version(program: &str) -> Result<(u32, u32), String> {
    let out = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("`{program} --version` exited with {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.trim().trim_start_matches('v');
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => Ok((major, minor)),
        _ => Err(format!("`{program} --version` printed {:?}", text.trim())),
    }
}

impl IamSimulate {
    /// Starts the bridge in `dir` with `node` (see [`node_program`]), after checking that
    /// everything it needs is there.
    pub fn start(dir: &Path, node: &str) -> Result<IamSimulate, SetupError> {
        let pinned = pinned_version(dir)?;
        let no_node = |detail: String| SetupError::NoNode {
            program: node.to_string(),
            detail,
        };
        let (major, minor) = node_version(node).map_err(no_node)?;
        if (major, minor) < (20, 6) {
            return Err(no_node(format!("it is version {major}.{minor}")));
        }
        let installed =
            installed_version(dir).ok_or_else(|| SetupError::NotInstalled { dir: dir.into() })?;
        if installed != pinned {
            return Err(SetupError::WrongVersion {
                dir: dir.into(),
                pinned,
                installed,
            });
        }
        let mut child = Command::new(node)
            .arg(dir.join("bridge.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| no_node(e.to_string()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(SetupError::Bridge {
                detail: "no pipes to the node process".into(),
            });
        };
        let mut bridge = Bridge {
            child,
            stdin: Some(BufWriter::new(stdin)),
            stdout: BufReader::new(stdout),
        };
        let mut first = String::new();
        let ready = bridge.stdout.read_line(&mut first).ok().and_then(|_| {
            let v: Value = serde_json::from_str(first.trim()).ok()?;
            (v["ready"] == true).then(|| v["version"].as_str().unwrap_or_default().to_string())
        });
        let Some(version) = ready else {
            let detail = bridge.failure_text(&first);
            return Err(SetupError::Bridge { detail });
        };
        Ok(IamSimulate {
            bridge: Mutex::new(bridge),
            version,
            dir: dir.into(),
        })
    }

    /// The peer's version, as the running bridge reports it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The bridge's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Asks about every case, streaming them through the one process; one reply per case, in
    /// order. `Err` when the process fails (it is then of no further use).
    pub fn ask_all(&self, cases: &[Case]) -> Result<Vec<PeerReply>, String> {
        let mut guard = self.bridge.lock().map_err(|_| "the bridge is poisoned")?;
        let bridge = &mut *guard;
        let Some(stdin) = bridge.stdin.as_mut() else {
            return Err("the bridge is closed".into());
        };
        let stdout = &mut bridge.stdout;
        let replies = std::thread::scope(|s| {
            // Written from another thread: the bridge answers while it reads, so writing every
            // case before reading would fill both pipes.
            let writer = s.spawn(move || -> std::io::Result<()> {
                for case in cases {
                    serde_json::to_writer(&mut *stdin, &case.to_json())?;
                    stdin.write_all(b"\n")?;
                }
                stdin.flush()
            });
            let mut replies = Vec::with_capacity(cases.len());
            let mut line = String::new();
            for case in cases {
                line.clear();
                match stdout.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => replies.push(parse_reply(&line, &case.id)),
                }
            }
            let written = writer.join();
            (replies, written)
        });
        let (replies, written) = replies;
        if replies.len() != cases.len() {
            let detail = bridge.failure_text("");
            return Err(format!(
                "the bridge stopped after {} of {} cases: {detail}",
                replies.len(),
                cases.len()
            ));
        }
        match written {
            Ok(Ok(())) => replies.into_iter().collect(),
            Ok(Err(e)) => Err(format!("writing to the bridge: {e}")),
            Err(_) => Err("the writer thread panicked".into()),
        }
    }

    /// Asks about one case.
    pub fn ask(&self, case: &Case) -> Result<PeerReply, String> {
        self.ask_all(std::slice::from_ref(case)).map(|mut v| {
            v.pop()
                .unwrap_or(PeerReply::Unanswerable("no reply".into()))
        })
    }
}

impl Bridge {
    /// What went wrong with the process: its exit and the end of its standard error.
    fn failure_text(&mut self, got: &str) -> String {
        self.stdin = None;
        let status = self.child.wait().ok();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "node exited ({}){}{}",
            status.map_or("unknown status".into(), |s| s.to_string()),
            if got.trim().is_empty() {
                String::new()
            } else {
                format!("; it printed {:?}", got.trim())
            },
            if tail.is_empty() {
                String::new()
            } else {
                format!("; its standard error ends:\n  {}", tail.join("\n  "))
            }
        )
    }
}

impl Drop for IamSimulate {
    fn drop(&mut self) {
        if let Ok(mut b) = self.bridge.lock() {
            // Closing its standard input ends the bridge's loop, and the process.
            b.stdin = None;
            let _ = b.child.wait();
        }
    }
}

/// One answer line of the bridge.
fn parse_reply(line: &str, id: &str) -> Result<PeerReply, String> {
    let v: Value = serde_json::from_str(line.trim())
        .map_err(|e| format!("the bridge answered {id} with a line that is not JSON: {e}"))?;
    if v["id"].as_str() != Some(id) {
        return Err(format!(
            "the bridge answered {} where {id} was asked",
            v["id"]
        ));
    }
    if let Some(why) = v["error"].as_str() {
        return Ok(PeerReply::Unanswerable(why.to_string()));
    }
    let decision = v["decision"]
        .as_str()
        .and_then(|s| s.parse::<DecisionKind>().ok())
        .ok_or_else(|| format!("the bridge gave {id} no decision: {line}"))?;
    let by = v["by"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().and_then(|s| s.parse::<PolicyType>().ok()))
                .collect()
        })
        .unwrap_or_default();
    Ok(PeerReply::Answer { decision, by })
}

/// As an [`Oracle`], the peer answers the decision and the first qualifying type.
impl Oracle for IamSimulate {
    fn name(&self) -> &'static str {
        "iam-simulate"
    }

    fn answer(&self, case: &Case) -> Option<Expect> {
        match self.ask(case).ok()? {
            PeerReply::Answer { decision, by } => Some(Expect {
                decision: Some(decision),
                by: by.first().copied(),
                ..Expect::default()
            }),
            PeerReply::Unanswerable(_) => None,
        }
    }
}
