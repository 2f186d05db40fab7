//! What a run has created and not yet deleted, in memory and in the journal. Cleanup walks it
//! newest first, after each case, at the end of a run, after an error and after Ctrl-C.

use std::sync::{Arc, Mutex};

use super::journal::{Journal, Resource};
use super::{delete, Aws, LiveError};

#[derive(Debug, Clone)]
pub struct Ledger {
    journal: Option<Arc<Journal>>,
    live: Arc<Mutex<Vec<Resource>>>,
}

impl Ledger {
    pub fn new(journal: Option<Arc<Journal>>) -> Ledger {
        Ledger {
            journal,
            live: Arc::default(),
        }
    }

    /// A ledger for one case that also writes to the run's journal.
    pub fn child(&self) -> Ledger {
        Ledger::new(self.journal.clone())
    }

    /// Call before creating `r`: a crash between here and the create leaves a journal entry that
    /// sweep resolves (deleting what does not exist is a no-op).
    pub fn creating(&self, r: Resource) -> Result<(), LiveError> {
        if let Some(j) = &self.journal {
            j.creating(&r)?;
        }
        self.live.lock().unwrap_or_else(|p| p.into_inner()).push(r);
        Ok(())
    }

    pub fn pending(&self) -> Vec<Resource> {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Deletes everything, newest first, and managed policies after the principals they are
    /// attached to. Returns what could not be deleted, with why; those stay in the journal for
    /// sweep.
    pub async fn cleanup(&self, aws: &Aws) -> Vec<(Resource, String)> {
        let taken = std::mem::take(&mut *self.live.lock().unwrap_or_else(|p| p.into_inner()));
        let mut failed = Vec::new();
        for r in deletion_order(taken) {
            match delete::delete(aws, &r).await {
                Ok(()) => {
                    if let Some(j) = &self.journal {
                        let _ = j.deleted(&r);
                    }
                }
                Err(e) => failed.push((r, e.to_string())),
            }
        }
        failed
    }
}

/// Newest first, managed policies last.
pub fn deletion_order(mut rs: Vec<Resource>) -> Vec<Resource> {
    rs.reverse();
    let (policies, principals): (Vec<_>, Vec<_>) = rs
        .into_iter()
        .partition(|r| matches!(r, Resource::Policy(_)));
    principals.into_iter().chain(policies).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_go_before_their_boundaries() {
        let order = deletion_order(vec![
            Resource::Role("a".into()),
            Resource::Policy("pa".into()),
            Resource::User("b".into()),
        ]);
        assert_eq!(
            order,
            vec![
                Resource::User("b".into()),
                Resource::Role("a".into()),
                Resource::Policy("pa".into())
            ]
        );
    }
}
