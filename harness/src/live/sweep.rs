//! `keyward sweep`: deletes what earlier runs left behind. Two sources, so that neither a lost
//! journal nor an untagged resource escapes:
//! - the run journals under the state directory: everything written down as created and not as
//!   deleted, in journals of runs made in the credentials' account (the journal records it);
//! - IAM itself: users, roles and local policies whose name starts with `keyward-` (or is
//!   console-style, `BedrockAPIKey-`) *and* that carry the `keyward:run` tag.
//!
//! Either way, nothing is deleted unless it carries the tag of its run ([`delete::delete`]): the
//! runner tags what it creates, and the console flow's users as soon as IAM has created them.

use std::path::Path;

use super::aws::ApiFailure;
use super::journal::{self, JournalState, Resource};
use super::ledger::deletion_order_by;
use super::names::{RunId, NAME_PREFIX, TAG_KEY};
use super::{delete, Aws, LiveError};

#[derive(Debug, Default)]
pub struct SweepReport {
    pub deleted: Vec<Resource>,
    pub failed: Vec<(Resource, String)>,
    /// Journals whose every resource is now gone.
    pub journals_done: Vec<String>,
    /// Journals of runs made in another account, left alone: (run, that account).
    pub other_accounts: Vec<(String, String)>,
}

/// What sweep would delete, and the journals it leaves alone because their run was in another
/// account.
#[derive(Debug, Default)]
pub struct Found {
    /// Each with the run whose tag it must carry to be deleted.
    pub resources: Vec<(Resource, String)>,
    pub other_accounts: Vec<(String, String)>,
}

/// Journals of runs made in another account: (run, that account).
type OtherAccounts = Vec<(String, String)>;

/// The journals sweep may act on: those of `run` (or all), made in the credentials' account.
/// A journal of another account names resources there, and names can repeat across accounts:
/// asked for by `--run`, it is refused; otherwise it is left alone and reported.
fn journals_here(
    aws: &Aws,
    state_dir: &Path,
    run: Option<&str>,
) -> Result<(Vec<(RunId, JournalState)>, OtherAccounts), LiveError> {
    let (mut here, mut elsewhere) = (Vec::new(), Vec::new());
    for (id, path) in journal::all(state_dir)? {
        if run.is_some_and(|r| r != id.as_str()) {
            continue;
        }
        let st = journal::read(&path)?;
        match &st.account {
            Some(a) if a != aws.account() => {
                if run.is_some() {
                    return Err(LiveError::OtherAccount {
                        run: id.to_string(),
                        journal: a.clone(),
                        actual: aws.account().to_string(),
                    });
                }
                elsewhere.push((id.to_string(), a.clone()));
            }
            _ => here.push((id, st)),
        }
    }
    Ok((here, elsewhere))
}

/// What sweep would delete, without deleting: the `--dry-run` plan.
pub async fn find(aws: &Aws, state_dir: &Path, run: Option<&str>) -> Result<Found, LiveError> {
    let (here, other_accounts) = journals_here(aws, state_dir, run)?;
    let mut found: Vec<(Resource, String)> = Vec::new();
    for (id, st) in here {
        found.extend(st.pending.into_iter().map(|r| (r, id.to_string())));
    }
    for (r, id) in tagged(aws, run).await? {
        if !found.iter().any(|(f, _)| *f == r) {
            found.push((r, id));
        }
    }
    Ok(Found {
        resources: deletion_order_by(found.into_iter().rev().collect(), |(r, _)| r),
        other_accounts,
    })
}

pub async fn sweep(
    aws: &Aws,
    state_dir: &Path,
    run: Option<&str>,
) -> Result<SweepReport, LiveError> {
    let found = find(aws, state_dir, run).await?;
    let mut report = SweepReport {
        other_accounts: found.other_accounts,
        ..SweepReport::default()
    };
    for (r, owner) in found.resources {
        match delete::delete(aws, &r, &owner).await {
            Ok(()) => report.deleted.push(r),
            Err(e) => report.failed.push((r, e.to_string())),
        }
    }
    for (id, st) in journals_here(aws, state_dir, run)?.0 {
        if st.pending.iter().all(|r| report.deleted.contains(r)) {
            let j = journal::Journal::open(state_dir, &id)?;
            for r in &st.pending {
                j.deleted(r)?;
            }
            report.journals_done.push(id.to_string());
        }
    }
    Ok(report)
}

fn ours(name: &str) -> bool {
    name.starts_with(NAME_PREFIX) || name.starts_with("BedrockAPIKey-")
}

/// The run named by the resource's tag, if it is `run` (or any run).
fn tag_matches(tags: &[aws_sdk_iam::types::Tag], run: Option<&str>) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == TAG_KEY && run.is_none_or(|r| t.value() == r))
        .map(|t| t.value().to_string())
}

/// Users, roles and local policies with our names and our tag. The listing is cleanup: it
/// spends from the budget's cleanup allowance, so a run that hit its cap can still be swept.
async fn tagged(aws: &Aws, run: Option<&str>) -> Result<Vec<(Resource, String)>, LiveError> {
    let iam = aws.iam_cleanup().clone();
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_users()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListUsers"))?;
        for u in page.users().iter().filter(|u| ours(u.user_name())) {
            let tags = iam
                .list_user_tags()
                .user_name(u.user_name())
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListUserTags"))?;
            if let Some(id) = tag_matches(tags.tags(), run) {
                out.push((Resource::User(u.user_name().to_string()), id));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => {
                marker = Some(m.to_string());
            }
            _ => break,
        }
    }
    loop {
        let page = iam
            .list_roles()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListRoles"))?;
        for r in page
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with(NAME_PREFIX))
        {
            let tags = iam
                .list_role_tags()
                .role_name(r.role_name())
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListRoleTags"))?;
            if let Some(id) = tag_matches(tags.tags(), run) {
                out.push((Resource::Role(r.role_name().to_string()), id));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    loop {
        let page = iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListPolicies"))?;
        for p in page.policies() {
            let (Some(name), Some(arn)) = (p.policy_name(), p.arn()) else {
                continue;
            };
            if !name.starts_with(NAME_PREFIX) {
                continue;
            }
            let tags = iam
                .list_policy_tags()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListPolicyTags"))?;
            if let Some(id) = tag_matches(tags.tags(), run) {
                out.push((Resource::Policy(arn.to_string()), id));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}
