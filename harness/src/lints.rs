//! The lints of `keyward guardrail` on every run of `keyward eval`, `check` and `explain`, as
//! warnings on standard error: meaning mistakes in a case's policies (a misspelled key, a value
//! no request carries, a never-expiring key escaping an age condition) that pass silently unless
//! the author happened to write the one case that shows them.
//!
//! Each distinct policy set is linted once: cases sharing one set (the same `Arc`, or the same
//! policies read again) are one group, named by its first case and a count, and a warning that
//! several groups of one file raise alike is printed once. Only fingerprints of the sets are
//! kept, so a streamed input stays bounded in memory.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use keyward_bedrock::guardrail::{self, Lint, LintId, Subject};
use keyward_iam::{Policy, PolicySet};

use crate::locate::Target;
use rayon::prelude::*;
use rayon::ThreadPool;
use serde_json::{json, Value};

/// One warning: a lint found in the policies of one or more cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file of the first case concerned.
    pub file: String,
    /// The first case concerned.
    pub case: String,
    /// How many cases (of `file` and after it) share the finding.
    pub cases: usize,
    /// The statement's JSON path in the case (`$.policies.scp[0][1].Statement[2]`), or
    /// `$.policies` when no statement decided.
    pub path: String,
    /// What was found.
    pub lint: Lint,
    /// Where it sits in its file: the statement where the policy was read from, or the case's
    /// request context (for `--format sarif` and `markdown`; the text form keeps `path`).
    pub target: Option<Target>,
}

impl fmt::Display for Warning {
    /// `warning: FILE: case ID (and N other cases with the same finding): PATH: LINT-ID:
    /// MESSAGE`, then `  fix: ...` and, when it rests on any, `  rests on: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}: case {}", self.file, self.case)?;
        match self.cases {
            0 | 1 => {}
            2 => write!(f, " (and 1 other case with the same policies)")?,
            n => write!(f, " (and {} other cases with the same policies)", n - 1)?,
        }
        write!(
            f,
            ": {}: {}: {}\n  fix: {}",
            self.path, self.lint.id, self.lint.message, self.lint.fix
        )?;
        if !self.lint.assumptions.is_empty() {
            write!(f, "\n  rests on: {}", self.lint.assumptions.join(", "))?;
        }
        Ok(())
    }
}

impl Warning {
    /// The warning as `check --json` lists it.
    pub fn to_json(&self) -> Value {
        json!({
            "file": self.file,
            "case": self.case,
            "cases": self.cases,
            "path": self.path,
            "id": self.lint.id.as_str(),
            "message": self.lint.message,
            "fix": self.lint.fix,
            "assumptions": self.lint.assumptions,
        })
    }
}

/// The statement's JSON path in its case, e.g. `$.policies.scp[0][1].Statement[2]`.
fn statement_path(lint: &Lint) -> String {
    match &lint.at {
        Some(at) => format!(
            "{}.Statement[{}]",
            crate::reason::policy_path(at),
            at.statement
        ),
        None => "$.policies".into(),
    }
}

/// Cases sharing one policy set.
struct Group {
    file: String,
    first: String,
    cases: usize,
    /// `None` until linted; each lint with where its statement was read from.
    lints: Option<Vec<Located>>,
}

/// A lint and where its statement was read from.
type Located = (Lint, Option<Target>);

/// The lints of every distinct policy set met, in the order the sets were first met.
#[derive(Default)]
pub struct Linter {
    groups: Vec<Group>,
    by_fingerprint: HashMap<u128, usize>,
    /// The last set met and its group: consecutive cases often share one `Arc`.
    last: Option<(Arc<PolicySet>, usize)>,
    /// Sets met but not linted yet, with their group.
    pending: Vec<(usize, Arc<PolicySet>)>,
    /// Request cases outside a suite whose context lacks a key AWS sets for the principal
    /// that their policies test (the first [`MAX_LINTED_SETS`]).
    unset_keys: Vec<Warning>,
    /// Cases not linted: their policy set came after the first [`MAX_LINTED_SETS`].
    unlinted: usize,
}

/// The distinct policy sets linted in one run: what a person's suites hold many times over. A
/// larger input (a generated one) is linted on its first sets only, so that memory stays
/// bounded however large the input ([`Linter::unlinted`] counts the cases left out).
pub const MAX_LINTED_SETS: usize = 1000;

impl Linter {
    /// Cases whose policies were not linted: they came after [`MAX_LINTED_SETS`] distinct sets.
    pub fn unlinted(&self) -> usize {
        self.unlinted
    }

    /// Records a case: its policies ([`Linter::add`]), and whether its request leaves out a
    /// key AWS sets on every request of its principal that the policies test
    /// ([`crate::case::Case::unset_principal_keys`]).
    pub fn add_case(&mut self, file: &str, case: &crate::case::Case) {
        self.add(file, &case.id, &case.policies);
        if let Some(r) = case.request() {
            let target = case.place.as_ref().map(|p| Target::case(file, p));
            self.add_unset_keys(
                file,
                &case.id,
                r.principal(),
                &case.unset_principal_keys(),
                target,
            );
        }
    }

    /// Records that request case `id` of `file`, made by `principal`, leaves `keys` (which AWS
    /// sets on its every request and its policies test) out of its context.
    pub fn add_unset_keys(
        &mut self,
        file: &str,
        id: &str,
        principal: &str,
        keys: &[&str],
        case: Option<Target>,
    ) {
        if keys.is_empty() || self.unset_keys.len() >= MAX_LINTED_SETS {
            return;
        }
        let (these, it) = if keys.len() == 1 {
            ("this key", "it")
        } else {
            ("these keys", "them")
        };
        self.unset_keys.push(Warning {
            file: file.to_string(),
            case: id.to_string(),
            cases: 1,
            path: "$.request.context".into(),
            target: case.map(|t| Target {
                path: format!("{}.request.context", t.path),
                ..t
            }),
            lint: Lint {
                id: LintId::PrincipalKeyNotInContext,
                message: format!(
                    "the policies test {}, which AWS sets on every request of {}, but the context leaves {these} out: outside a suite a request's context is taken literally, so the answer may not be AWS's",
                    keys.join(", "),
                    principal,
                ),
                fix: format!("set {it} in request.context as AWS would, or put the case in a suite, where the keys AWS sets for the principal are filled in (docs/case-format.md, \"Suites and policy files\")"),
                at: None,
                assumptions: Vec::new(),
            },
        });
    }

    /// Records that case `id` of `file` has the policies `set`.
    pub fn add(&mut self, file: &str, id: &str, set: &Arc<PolicySet>) {
        if let Some((last, g)) = &self.last {
            if Arc::ptr_eq(last, set) {
                self.groups[*g].cases += 1;
                return;
            }
        }
        // Past the bound nothing more is linted: the set is not even fingerprinted (that writes
        // every policy out), so a large input pays for the lints of its first sets only.
        if self.groups.len() >= MAX_LINTED_SETS {
            self.unlinted += 1;
            return;
        }
        let fp = fingerprint(set);
        let g = match self.by_fingerprint.get(&fp) {
            Some(&g) => {
                self.groups[g].cases += 1;
                g
            }
            None => {
                let g = self.groups.len();
                self.groups.push(Group {
                    file: file.to_string(),
                    first: id.to_string(),
                    cases: 1,
                    lints: None,
                });
                self.by_fingerprint.insert(fp, g);
                self.pending.push((g, Arc::clone(set)));
                g
            }
        };
        self.last = Some((Arc::clone(set), g));
    }

    /// Lints the sets met since the last call, on the cores of `pool` (rayon's global pool for
    /// `None`), and lets them go.
    pub fn lint_pending(&mut self, pool: Option<&ThreadPool>) {
        let pending = std::mem::take(&mut self.pending);
        let subject = Subject::default();
        let run = || -> Vec<(usize, Vec<Located>)> {
            pending
                .par_iter()
                .map(|(g, set)| {
                    let lints = guardrail::lints(set, &subject)
                        .into_iter()
                        .map(|l| {
                            // A lint no statement decided (an implicit deny) is placed at
                            // the set's first policy.
                            let target = match &l.at {
                                Some(r) => Target::statement(set, r),
                                None => set
                                    .policies()
                                    .find_map(|p| p.meta().source.as_ref())
                                    .map(|s| Target::of_source(s, None)),
                            };
                            (l, target)
                        })
                        .collect();
                    (*g, lints)
                })
                .collect()
        };
        let done = match pool {
            Some(p) => p.install(run),
            None => run(),
        };
        for (g, lints) in done {
            self.groups[g].lints = Some(lints);
        }
        self.last = None;
    }

    /// Every warning, linting what is still pending: per group in the order met, each lint in
    /// its order; a warning a later group of the same file raises alike (same statement path,
    /// lint and text) adds its cases to the first instead of being repeated.
    pub fn warnings(&mut self) -> Vec<Warning> {
        self.lint_pending(None);
        let mut out: Vec<Warning> = Vec::new();
        let mut seen: HashMap<(String, String, String, String), usize> = HashMap::new();
        for g in &self.groups {
            for (lint, target) in g.lints.iter().flatten() {
                let path = statement_path(lint);
                let key = (
                    g.file.clone(),
                    path.clone(),
                    lint.id.as_str().to_string(),
                    lint.message.clone(),
                );
                match seen.get(&key) {
                    Some(&k) => out[k].cases += g.cases,
                    None => {
                        seen.insert(key, out.len());
                        out.push(Warning {
                            file: g.file.clone(),
                            case: g.first.clone(),
                            cases: g.cases,
                            path,
                            lint: lint.clone(),
                            target: target.clone(),
                        });
                    }
                }
            }
        }
        out.extend(self.unset_keys.iter().cloned());
        out
    }

    /// How many distinct policy sets have at least one lint (after [`Linter::warnings`]).
    pub fn sets_with_lints(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| g.lints.as_ref().is_some_and(|l| !l.is_empty()))
            .count()
    }
}

/// A 128-bit fingerprint of a policy set's content: two SipHash-1-3 hashes of every policy's
/// document and place, salted apart. Two different sets share one with a chance near 2^-128,
/// which would leave one set unlinted; nothing else depends on it.
fn fingerprint(set: &PolicySet) -> u128 {
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        h.write_u8(salt);
        let mut list = |tag: u8, policies: Option<&[Policy]>| {
            // Absent ("not in play") and present but empty differ: hash which.
            h.write_u8(tag);
            match policies {
                None => h.write_u8(0),
                Some(ps) => {
                    h.write_u8(1);
                    h.write_usize(ps.len());
                    for p in ps {
                        p.to_json().to_string().hash(&mut h);
                    }
                }
            }
        };
        list(1, Some(&set.identity));
        list(
            2,
            set.permissions_boundary.as_ref().map(std::slice::from_ref),
        );
        list(3, set.session.as_deref());
        list(6, Some(&set.resource));
        for (tag, levels) in [(4u8, &set.scp), (5, &set.rcp)] {
            match levels {
                None => list(tag, None),
                Some(levels) => {
                    for level in levels {
                        list(tag, Some(level));
                    }
                    list(tag + 10, Some(&[]));
                }
            }
        }
        h.finish()
    };
    u128::from(half(0)) << 64 | u128::from(half(1))
}
