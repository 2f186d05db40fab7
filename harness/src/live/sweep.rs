//! `keyward sweep`: deletes what earlier runs left behind. Two sources, so that neither a lost
//! journal nor an untagged resource escapes:
//! - the run journals under the state directory: everything written down as being created and
//!   not as deleted (this is how users made by the console-style flow are found: the case's
//!   principal creates them, without tags, but the runner journals their names first);
//! - IAM itself: users, roles and local policies whose name starts with `keyward-` (or is
//!   console-shaped, `BedrockAPIKey-`) *and* that carry the `keyward:run` tag.

use std::path::Path;

use super::aws::ApiFailure;
use super::journal::{self, Resource};
use super::ledger::deletion_order;
use super::names::{NAME_PREFIX, TAG_KEY};
use super::{delete, Aws, LiveError};

#[derive(Debug, Default)]
pub struct SweepReport {
    pub deleted: Vec<Resource>,
    pub failed: Vec<(Resource, String)>,
    /// Journals whose every resource is now gone.
    pub journals_done: Vec<String>,
}

/// What sweep would delete, without deleting: the `--dry-run` plan.
pub async fn find(
    aws: &Aws,
    state_dir: &Path,
    run: Option<&str>,
) -> Result<Vec<Resource>, LiveError> {
    let mut found = Vec::new();
    for (id, path) in journal::all(state_dir)? {
        if run.is_some_and(|r| r != id.as_str()) {
            continue;
        }
        found.extend(journal::read(&path)?.pending);
    }
    for r in tagged(aws, run).await? {
        if !found.contains(&r) {
            found.push(r);
        }
    }
    Ok(deletion_order(found.into_iter().rev().collect()))
}

pub async fn sweep(
    aws: &Aws,
    state_dir: &Path,
    run: Option<&str>,
) -> Result<SweepReport, LiveError> {
    let mut report = SweepReport::default();
    for r in find(aws, state_dir, run).await? {
        match delete::delete(aws, &r).await {
            Ok(()) => report.deleted.push(r),
            Err(e) => report.failed.push((r, e.to_string())),
        }
    }
    for (id, path) in journal::all(state_dir)? {
        if run.is_some_and(|r| r != id.as_str()) {
            continue;
        }
        let st = journal::read(&path)?;
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

fn tag_matches(tags: &[aws_sdk_iam::types::Tag], run: Option<&str>) -> bool {
    tags.iter()
        .any(|t| t.key() == TAG_KEY && run.is_none_or(|r| t.value() == r))
}

/// Users, roles and local policies with our names and our tag.
async fn tagged(aws: &Aws, run: Option<&str>) -> Result<Vec<Resource>, LiveError> {
    let iam = aws.iam()?.clone();
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
            aws.budget().spend()?;
            let tags = iam
                .list_user_tags()
                .user_name(u.user_name())
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListUserTags"))?;
            if tag_matches(tags.tags(), run) {
                out.push(Resource::User(u.user_name().to_string()));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => {
                aws.budget().spend()?;
                marker = Some(m.to_string());
            }
            _ => break,
        }
    }
    loop {
        aws.budget().spend()?;
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
            aws.budget().spend()?;
            let tags = iam
                .list_role_tags()
                .role_name(r.role_name())
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListRoleTags"))?;
            if tag_matches(tags.tags(), run) {
                out.push(Resource::Role(r.role_name().to_string()));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    loop {
        aws.budget().spend()?;
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
            aws.budget().spend()?;
            let tags = iam
                .list_policy_tags()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:ListPolicyTags"))?;
            if tag_matches(tags.tags(), run) {
                out.push(Resource::Policy(arn.to_string()));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}
