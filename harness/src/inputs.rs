//! Turning command-line paths into cases: directories are walked for `*.json` / `*.jsonl` in a
//! stable order, `-` is standard input, and ids must be unique within a run.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rayon::ThreadPool;

use crate::case::stream::stream_file;
use crate::case::{read_item, Case, CaseError, Reader};

/// A case, or why it could not be read, with the file it came from.
pub enum Loaded {
    Case { file: String, case: Box<Case> },
    Error(CaseError),
}

/// The run's [`Reader`]: with `--policies FILE`, that file's `policies` (a case, a suite or
/// `{"policies": {...}}`; its `{"file": ...}` references resolved against its own directory)
/// stand in for those of every suite and of every case outside a suite.
pub fn reader(policies: Option<&Path>) -> Result<Reader, CaseError> {
    let Some(path) = policies else {
        return Ok(Reader::default());
    };
    let name = path.display().to_string();
    let text = crate::case::read_file(path)?;
    let set = crate::case::read_policies_file(&name, &text)?;
    Ok(Reader::with_policies(std::sync::Arc::new(set)))
}

/// Expands paths into files. A path that does not exist is an error.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CaseError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
        } else if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| CaseError {
                place: None,
                file: p.display().to_string(),
                case: None,
                path: "$".into(),
                message: format!("cannot read directory: {e}"),
            })?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(CaseError {
                place: None,
                file: p.display().to_string(),
                case: None,
                path: "$".into(),
                message: "no such file or directory".into(),
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "jsonl")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every case of every file, in order, and hands on what `each` makes of them, batch by
/// batch (see [`crate::case::stream`]: memory stays bounded however large the input). Each case
/// is read and given to `each` on one of the cores of `pool` (rayon's global pool for `None`), and dropped there, so a case never
/// outlives its batch unless `each` keeps it. A later case reusing an id is an error (only the
/// ids' fingerprints are remembered); `each` then also gets that error, in the case's place.
/// `reader` resolves policy files once for the whole run and carries `--policies`.
pub fn for_each_batch<T: Send>(
    files: &[PathBuf],
    pool: Option<&ThreadPool>,
    reader: &Reader,
    each: impl Fn(Loaded) -> T + Sync,
    mut f: impl FnMut(Vec<T>),
) {
    /// A case's result before the ids are checked, which is done in input order.
    enum Staged<T> {
        Case {
            fingerprint: u128,
            id: String,
            /// Where the case sits, for a duplicate id's error.
            place: Option<crate::case::CasePlace>,
            made: T,
        },
        Error(T),
    }
    let mut ids = IdSet::default();
    for (file_index, path) in files.iter().enumerate() {
        let name = path.display().to_string();
        let streamed = stream_file(path, &mut |items| {
            let stage = || {
                items
                    .into_par_iter()
                    .flat_map_iter(|item| read_item(&name, item, reader))
                    .map(|read| match read {
                        Ok(case) => Staged::Case {
                            fingerprint: fingerprint(&case.id),
                            id: case.id.clone(),
                            place: case.place.clone(),
                            made: each(Loaded::Case {
                                file: name.clone(),
                                case: Box::new(case),
                            }),
                        },
                        Err(e) => Staged::Error(each(Loaded::Error(e))),
                    })
                    .collect()
            };
            let staged: Vec<Staged<T>> = match pool {
                Some(pool) => pool.install(stage),
                None => stage(),
            };
            f(staged
                .into_iter()
                .map(|s| match s {
                    Staged::Case {
                        fingerprint,
                        id,
                        place: at,
                        made,
                    } => match ids.insert(fingerprint, file_index) {
                        None => made,
                        Some(first) => {
                            let place = if first == file_index {
                                "earlier in this file".to_string()
                            } else {
                                format!("in {}", files[first].display())
                            };
                            each(Loaded::Error(CaseError {
                                place: at.map(Box::new),
                                file: name.clone(),
                                message: format!(
                                    "duplicate id {id:?}: already used {place} (ids are unique within a file and across the files of a run; docs/case-format.md)"
                                ),
                                case: Some(id),
                                path: "$.id".into(),
                            }))
                        }
                    },
                    Staged::Error(made) => made,
                })
                .collect())
        });
        if let Err(e) = streamed {
            f(vec![each(Loaded::Error(e))]);
        }
    }
}

/// Reads every case of every file, in order, all at once (for inputs that are kept whole anyway,
/// such as the fixtures).
pub fn load(files: &[PathBuf]) -> Vec<Loaded> {
    load_with(files, &Reader::default())
}

/// [`load`] with a run's [`Reader`] (e.g. one carrying `--policies`).
pub fn load_with(files: &[PathBuf], reader: &Reader) -> Vec<Loaded> {
    let mut out = Vec::new();
    for_each_batch(
        files,
        None,
        reader,
        |loaded| loaded,
        |batch| out.extend(batch),
    );
    out
}

/// An id's 128-bit fingerprint: two SipHash-1-3 hashes of it, salted apart.
fn fingerprint(id: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        h.write_u8(salt);
        h.write(id.as_bytes());
        h.finish()
    };
    u128::from(half(0)) << 64 | u128::from(half(1))
}

/// The ids seen in a run, as fingerprints with the index of the file each was first seen in: a
/// million ids take about 24 MB and not the ids' text. Two different ids share a fingerprint
/// with a chance near 2^-128 per pair, which would report a false duplicate; nothing else
/// depends on it.
#[derive(Default)]
struct IdSet(HashMap<u128, usize, BuildHasherDefault<Fingerprinted>>);

impl IdSet {
    /// `None` when the id of `fingerprint` is new (it is then recorded as seen in file `file`),
    /// else the file it was first seen in.
    fn insert(&mut self, fingerprint: u128, file: usize) -> Option<usize> {
        match self.0.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(file);
                None
            }
        }
    }
}
/// The set's own hasher: a fingerprint is already well mixed, so its low bits are the hash.
#[derive(Default)]
struct Fingerprinted(u64);

impl Hasher for Fingerprinted {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}
