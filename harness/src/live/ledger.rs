//! What a run has created and not yet deleted, in memory and in the journal. Cleanup walks it
//! newest first, after each case, at the end of a run, after an error and after Ctrl-C.

use std::sync::{Arc, Mutex};

use super::journal::{Journal, Resource};
use super::names::RunId;
use super::{delete, Aws, LiveError};

#[derive(Debug, Clone)]
pub struct Ledger {
    journal: Option<Arc<Journal>>,
    run: RunId,
    live: Arc<Mutex<Vec<Resource>>>,
}

impl Ledger {
    pub fn new(journal: Option<Arc<Journal>>, run: RunId) -> Ledger {
        Ledger {
            journal,
            run,
            live: Arc::default(),
        }
    }

    /// A ledger for one case that also writes to the run's journal.
    pub fn child(&self) -> Ledger {
        Ledger::new(self.journal.clone(), self.run.clone())
    }

    /// Call once AWS has answered that it created `r` for this run, never before: a create that
    /// fails (a name already in use: `EntityAlreadyExists`) made nothing of ours. A crash between
    /// the create and this entry leaves a tagged resource, which sweep finds by its tag.
    pub fn created(&self, r: Resource) -> Result<(), LiveError> {
        if let Some(j) = &self.journal {
            j.created(&r)?;
        }
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        // The console flow creates its user again on every attempt.
        if !live.contains(&r) {
            live.push(r);
        }
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
            match delete::delete(aws, &r, self.run.as_str()).await {
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
pub fn deletion_order(rs: Vec<Resource>) -> Vec<Resource> {
    deletion_order_by(rs, |r| r)
}

/// [`deletion_order`] of items that each name a resource.
pub fn deletion_order_by<T>(mut rs: Vec<T>, resource: impl Fn(&T) -> &Resource) -> Vec<T> {
    rs.reverse();
    let (policies, principals): (Vec<_>, Vec<_>) = rs
        .into_iter()
        .partition(|r| matches!(resource(r), Resource::Policy(_)));
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
