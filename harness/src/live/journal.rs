//! A run's journal: one JSON object per line under `<state_dir>/runs/<run>.jsonl`. Each IAM
//! principal or policy is written down *before* it is created and again once it is deleted, so
//! a crash leaves a list `keyward sweep` can finish; each finished case's answer is written too,
//! so `--resume` skips it. Names, case ids and redacted answers only: never a key or a secret.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::names::RunId;
use super::LiveError;

/// Something a run creates in IAM. Deleting a user or role also deletes what hangs off it
/// (keys, credentials, inline policies, attachments), so those need no entry of their own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    User(String),
    Role(String),
    /// A managed policy (permissions boundaries must be managed policies), by ARN.
    Policy(String),
}

impl Resource {
    fn to_json(&self) -> Value {
        match self {
            Resource::User(n) => json!({"user": n}),
            Resource::Role(n) => json!({"role": n}),
            Resource::Policy(a) => json!({"policy": a}),
        }
    }

    fn from_json(v: &Value) -> Option<Resource> {
        let o = v.as_object()?;
        let (k, n) = o.iter().next()?;
        let n = n.as_str()?.to_string();
        match k.as_str() {
            "user" => Some(Resource::User(n)),
            "role" => Some(Resource::Role(n)),
            "policy" => Some(Resource::Policy(n)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::User(n) => write!(f, "user {n}"),
            Resource::Role(n) => write!(f, "role {n}"),
            Resource::Policy(a) => write!(f, "policy {a}"),
        }
    }
}

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({})", self.path.display())
    }
}

pub fn runs_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("runs")
}

impl Journal {
    /// Opens (appending) the journal of `run`.
    pub fn open(state_dir: &Path, run: &RunId) -> Result<Journal, LiveError> {
        let dir = runs_dir(state_dir);
        let path = dir.join(format!("{run}.jsonl"));
        let err = |e: std::io::Error| LiveError::Journal {
            file: path.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(&dir).map_err(err)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(err)?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&self, v: Value) -> Result<(), LiveError> {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(f, "{v}")
            .and_then(|_| f.sync_data())
            .map_err(|e| LiveError::Journal {
                file: self.path.display().to_string(),
                message: e.to_string(),
            })
    }

    pub fn meta(&self, meta: Value) -> Result<(), LiveError> {
        self.write(json!({ "meta": meta }))
    }

    pub fn creating(&self, r: &Resource) -> Result<(), LiveError> {
        self.write(json!({ "creating": r.to_json() }))
    }

    pub fn deleted(&self, r: &Resource) -> Result<(), LiveError> {
        self.write(json!({ "deleted": r.to_json() }))
    }

    /// A finished case: its index in the run and what AWS answered (already redacted), or why it
    /// was skipped.
    pub fn finished(&self, index: u64, record: Value) -> Result<(), LiveError> {
        self.write(json!({ "case": index, "record": record }))
    }
}

/// A journal read back.
#[derive(Debug, Default)]
pub struct JournalState {
    pub meta: Option<Value>,
    /// Created (or about to be) and not known to be deleted, in creation order.
    pub pending: Vec<Resource>,
    pub finished: BTreeMap<u64, Value>,
}

pub fn read(path: &Path) -> Result<JournalState, LiveError> {
    let err = |line: usize, m: String| LiveError::Journal {
        file: path.display().to_string(),
        message: if line > 0 {
            format!("line {line}: {m}")
        } else {
            m
        },
    };
    let f = File::open(path).map_err(|e| err(0, e.to_string()))?;
    let mut st = JournalState::default();
    let mut deleted = BTreeSet::new();
    let mut created = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| err(i + 1, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        // A crash can cut the last line short; everything before it still counts.
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(m) = v.get("meta") {
            st.meta = Some(m.clone());
        } else if let Some(r) = v.get("creating").and_then(Resource::from_json) {
            deleted.remove(&r);
            created.push(r);
        } else if let Some(r) = v.get("deleted").and_then(Resource::from_json) {
            deleted.insert(r);
        } else if let (Some(n), Some(rec)) =
            (v.get("case").and_then(Value::as_u64), v.get("record"))
        {
            st.finished.insert(n, rec.clone());
        } else {
            return Err(err(i + 1, "not a journal entry".into()));
        }
    }
    let mut seen = BTreeSet::new();
    st.pending = created
        .into_iter()
        .filter(|r| !deleted.contains(r) && seen.insert(r.clone()))
        .collect();
    Ok(st)
}

/// Every run journal under `state_dir`, by run id.
pub fn all(state_dir: &Path) -> Result<Vec<(RunId, PathBuf)>, LiveError> {
    let dir = runs_dir(state_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        let run = p
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(RunId::parse);
        if let (Some(run), Some("jsonl")) = (run, p.extension().and_then(|x| x.to_str())) {
            out.push((run, p));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_created_minus_deleted_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::parse("abcd1234").unwrap();
        let j = Journal::open(dir.path(), &run).unwrap();
        j.meta(json!({"command": "record"})).unwrap();
        j.creating(&Resource::Role("keyward-abcd1234-0-dev".into()))
            .unwrap();
        j.creating(&Resource::User("BedrockAPIKey-ab12".into()))
            .unwrap();
        j.deleted(&Resource::Role("keyward-abcd1234-0-dev".into()))
            .unwrap();
        j.finished(0, json!({"id": "c0"})).unwrap();
        drop(j);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("runs/abcd1234.jsonl"))
            .unwrap();
        write!(f, "{{\"creating\": {{\"us").unwrap();
        let st = read(&dir.path().join("runs/abcd1234.jsonl")).unwrap();
        assert_eq!(
            st.pending,
            vec![Resource::User("BedrockAPIKey-ab12".into())]
        );
        assert_eq!(st.finished.len(), 1);
        assert_eq!(all(dir.path()).unwrap().len(), 1);
    }
}
