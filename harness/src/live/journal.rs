//! A run's journal: one JSON object per line under `<state_dir>/runs/<run>.jsonl`. Each IAM
//! principal or policy is written down once AWS has created it for the run (never before: a
//! name already in use is not the run's) and again once it is deleted, so a crash leaves a list
//! `keyward sweep` can finish; each finished case's answer is written too,
//! so `--resume` skips it. Names, case ids and redacted answers only: never a key or a secret.
//!
//! The lines, each a serde type:
//! - `{"meta": {"command": "record", "seed": 7, "cases": 20, "region": "...", "model": "...",
//!   "account": "..."}}` ([`RunMeta`]), once per start or resume;
//! - `{"creating": {"user": NAME}}` and `{"deleted": {"role": NAME}}` ([`Resource`]);
//! - `{"case": 3, "record": {"id": ..., "oracle": "simulator", "status": "agreed", "reason": null,
//!   "aws": {...}}}` ([`CaseRecord`]; a skipped case also has `"skip"`, its [`Skip`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::{DeserializeOwned, Error as _, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::names::RunId;
use super::plan::Skip;
use super::LiveError;
use crate::case::Expect;
use crate::oracle::OracleKind;

/// Something a run creates in IAM. Deleting a user or role also deletes what hangs off it
/// (keys, credentials, inline policies, attachments), so those need no entry of their own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    User(String),
    Role(String),
    /// A managed policy (permissions boundaries must be managed policies), by ARN.
    Policy(String),
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

/// The command that started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunCommand {
    #[serde(rename = "record")]
    Record,
    #[serde(rename = "check --live")]
    CheckLive,
}

/// What a run was asked to do: enough to tell runs apart when reading their journals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMeta {
    pub command: RunCommand,
    pub seed: u64,
    /// Generated cases asked for (`--cases`).
    pub cases: u64,
    pub region: String,
    pub model: String,
    /// The account the run created its resources in. Journals written before it existed have
    /// none; sweep and `--resume` refuse a journal of another account than the credentials'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The generators' version ([`crate::generate::GENERATOR_VERSION`]); journals written before
    /// it existed have none, which is version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<u32>,
}

/// How a case ended, as the journal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordStatus {
    Agreed,
    Disagreed,
    Skipped,
    /// AWS could not answer; a resumed run tries the case again.
    Failed,
}

/// A finished case: what AWS answered (already redacted), or why it was skipped or failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The case's id: a resumed run trusts the record only for the same case at the same index.
    pub id: String,
    /// The oracle that answered; none for a skipped case (written `""`).
    #[serde(with = "oracle_or_empty")]
    pub oracle: Option<OracleKind>,
    pub status: RecordStatus,
    /// Why the case was skipped or failed, in words.
    pub reason: Option<String>,
    /// Why the case was skipped. Journals written before it existed have only `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
    /// AWS's answer, in the case format's `expect` shape.
    #[serde(default, with = "expect_json")]
    pub aws: Option<Expect>,
}

/// `""` for no oracle, as journals have always written it.
mod oracle_or_empty {
    use super::*;

    pub fn serialize<S: Serializer>(o: &Option<OracleKind>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(o.map_or("", OracleKind::name))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OracleKind>, D::Error> {
        let name = String::deserialize(d)?;
        if name.is_empty() {
            return Ok(None);
        }
        let name: serde::de::value::StrDeserializer<'_, D::Error> =
            name.as_str().into_deserializer();
        OracleKind::deserialize(name).map(Some)
    }
}

/// An answer in the case format's `expect` shape, read by the case reader.
mod expect_json {
    use super::*;

    pub fn serialize<S: Serializer>(e: &Option<Expect>, s: S) -> Result<S::Ok, S::Error> {
        e.as_ref().map(Expect::to_json).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Expect>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None => Ok(None),
            Some(v) => crate::case::read::parse_expect(&v, false)
                .map(Some)
                .map_err(|_| D::Error::custom("not an answer in the case format")),
        }
    }
}

/// A value that may not read back as `T`: a record this keyward does not understand (hand-edited,
/// or from another version) means "run the case again", never an unreadable journal, since sweep
/// reads the same file for what is left to delete.
struct Lenient<T>(Option<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Lenient(serde_json::from_value(v).ok()))
    }
}

/// One line, as written.
#[derive(Serialize)]
#[serde(untagged)]
enum LineOut<'a> {
    Meta { meta: &'a RunMeta },
    Creating { creating: &'a Resource },
    Deleted { deleted: &'a Resource },
    Finished { case: u64, record: &'a CaseRecord },
}

/// One line, as read. The first shape that fits wins, as the order of the variants says.
#[derive(Deserialize)]
#[serde(untagged)]
enum LineIn {
    Meta {
        meta: RunMeta,
    },
    Creating {
        creating: Resource,
    },
    Deleted {
        deleted: Resource,
    },
    Finished {
        case: u64,
        record: Lenient<CaseRecord>,
    },
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

    fn write(&self, line: LineOut<'_>) -> Result<(), LiveError> {
        let err = |message: String| LiveError::Journal {
            file: self.path.display().to_string(),
            message,
        };
        let text = serde_json::to_string(&line).map_err(|e| err(e.to_string()))?;
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(f, "{text}")
            .and_then(|_| f.sync_data())
            .map_err(|e| err(e.to_string()))
    }

    pub fn meta(&self, meta: &RunMeta) -> Result<(), LiveError> {
        self.write(LineOut::Meta { meta })
    }

    /// `r` was created by this run (AWS said so). The line is still `{"creating": ...}`, as
    /// journals have always written it.
    pub fn created(&self, r: &Resource) -> Result<(), LiveError> {
        self.write(LineOut::Creating { creating: r })
    }

    pub fn deleted(&self, r: &Resource) -> Result<(), LiveError> {
        self.write(LineOut::Deleted { deleted: r })
    }

    /// A finished case, by its index in the run.
    pub fn finished(&self, index: u64, record: &CaseRecord) -> Result<(), LiveError> {
        self.write(LineOut::Finished {
            case: index,
            record,
        })
    }
}

/// A journal read back.
#[derive(Debug, Default)]
pub struct JournalState {
    /// The account the journal's run was in, as its first meta line with one says.
    pub account: Option<String>,
    /// The last run metadata written (a resumed run writes its own).
    pub meta: Option<RunMeta>,
    /// Created (or about to be) and not known to be deleted, in creation order.
    pub pending: Vec<Resource>,
    /// The last record of each finished case, by index.
    pub finished: BTreeMap<u64, CaseRecord>,
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
        let entry = match serde_json::from_str::<LineIn>(&line) {
            Ok(e) => e,
            // A crash can cut the last line short; everything before it still counts.
            Err(e) if e.is_syntax() || e.is_eof() => continue,
            Err(_) => return Err(err(i + 1, "not a journal entry".into())),
        };
        match entry {
            LineIn::Meta { meta } => {
                if st.account.is_none() {
                    st.account.clone_from(&meta.account);
                }
                st.meta = Some(meta);
            }
            LineIn::Creating { creating } => {
                deleted.remove(&creating);
                created.push(creating);
            }
            LineIn::Deleted { deleted: r } => {
                deleted.insert(r);
            }
            LineIn::Finished {
                case,
                record: Lenient(record),
            } => match record {
                Some(r) => {
                    st.finished.insert(case, r);
                }
                None => {
                    st.finished.remove(&case);
                }
            },
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

    fn record(id: &str) -> CaseRecord {
        CaseRecord {
            id: id.into(),
            oracle: Some(OracleKind::AwsSimulator),
            status: RecordStatus::Agreed,
            reason: None,
            skip: None,
            aws: Some(Expect {
                decision: Some(keyward_iam::DecisionKind::Allow),
                ..Expect::default()
            }),
        }
    }

    #[test]
    fn pending_is_created_minus_deleted_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::parse("abcd1234").unwrap();
        let j = Journal::open(dir.path(), &run).unwrap();
        let meta = RunMeta {
            command: RunCommand::Record,
            seed: 7,
            cases: 20,
            region: "us-east-1".into(),
            model: "amazon.nova-micro-v1:0".into(),
            account: Some("111122223333".into()),
            generator: Some(crate::generate::GENERATOR_VERSION),
        };
        j.meta(&meta).unwrap();
        j.created(&Resource::Role("keyward-abcd1234-0-dev".into()))
            .unwrap();
        j.created(&Resource::User("BedrockAPIKey-ab12".into()))
            .unwrap();
        j.deleted(&Resource::Role("keyward-abcd1234-0-dev".into()))
            .unwrap();
        j.finished(0, &record("c0")).unwrap();
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
        assert_eq!(st.finished[&0], record("c0"));
        assert_eq!(st.meta, Some(meta));
        assert_eq!(st.account.as_deref(), Some("111122223333"));
        assert_eq!(all(dir.path()).unwrap().len(), 1);
    }

    /// Lines as keyward has written them since journals exist, before their types did.
    const OLD: &str = r#"{"meta":{"command":"check --live","seed":7,"cases":2,"region":"us-east-1","model":"amazon.nova-micro-v1:0"}}
{"creating":{"role":"keyward-abcd1234-1-k-dev"}}
{"creating":{"policy":"arn:aws:iam::111122223333:policy/keyward-abcd1234-b-keyward-abcd1234-1-k-dev"}}
{"case":0,"record":{"id":"sim/a","oracle":"simulator","status":"disagreed","reason":null,"aws":{"decision":"implicit_deny"}}}
{"case":2,"record":{"id":"s/mantle","oracle":"","status":"skipped","reason":"the bedrock-mantle endpoint is not reachable through aws-sdk-bedrockruntime","aws":null}}
{"case":1,"record":{"id":"s/call","oracle":"enforcement","status":"failed","reason":"IAM did not settle within 5 s: s/call","aws":null}}
{"deleted":{"role":"keyward-abcd1234-1-k-dev"}}
"#;

    #[test]
    fn journals_written_before_the_types_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.jsonl");
        std::fs::write(&p, OLD).unwrap();
        let st = read(&p).unwrap();
        assert_eq!(st.meta.unwrap().command, RunCommand::CheckLive);
        assert_eq!(
            st.pending,
            vec![Resource::Policy(
                "arn:aws:iam::111122223333:policy/keyward-abcd1234-b-keyward-abcd1234-1-k-dev"
                    .into()
            )]
        );
        let a = &st.finished[&0];
        assert_eq!(
            (a.oracle, a.status),
            (Some(OracleKind::AwsSimulator), RecordStatus::Disagreed)
        );
        assert_eq!(
            a.aws.as_ref().unwrap().decision,
            Some(keyward_iam::DecisionKind::ImplicitDeny)
        );
        let skipped = &st.finished[&2];
        assert_eq!((skipped.oracle, skipped.skip.as_ref()), (None, None));
        assert!(skipped.reason.as_deref().unwrap().contains("mantle"));
        assert_eq!(st.finished[&1].oracle, Some(OracleKind::AwsEnforcement));
        // And a journal written now keeps those lines' shape, a skip's typed reason added.
        let line = serde_json::to_string(&LineOut::Finished {
            case: 0,
            record: &a.clone(),
        })
        .unwrap();
        assert_eq!(line, OLD.lines().nth(3).unwrap());
        let mut s = skipped.clone();
        s.skip = Some(Skip::Mantle);
        let line = serde_json::to_string(&LineOut::Finished {
            case: 2,
            record: &s,
        })
        .unwrap();
        assert!(line.contains(r#""aws":null"#), "{line}");
        assert_eq!(
            line.replace(r#","skip":"mantle""#, ""),
            OLD.lines().nth(4).unwrap()
        );
    }

    #[test]
    fn a_record_it_cannot_read_means_run_again_and_a_stranger_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("odd.jsonl");
        std::fs::write(
            &p,
            concat!(
                r#"{"case":0,"record":{"id":"a","oracle":"simulator","status":"agreed","reason":null,"aws":null}}"#,
                "\n",
                r#"{"case":0,"record":{"id":"a","oracle":"a-new-oracle","status":"agreed"}}"#,
                "\n",
                r#"{"creating":{"user":"keyward-x"}}"#,
                "\n"
            ),
        )
        .unwrap();
        let st = read(&p).unwrap();
        assert!(st.finished.is_empty(), "{:?}", st.finished);
        assert_eq!(st.pending, vec![Resource::User("keyward-x".into())]);
        std::fs::write(&p, "{\"hello\": 1}\n").unwrap();
        let e = read(&p).unwrap_err();
        assert!(e.to_string().contains("line 1: not a journal entry"), "{e}");
    }
}
