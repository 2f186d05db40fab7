//! The simulator oracle: iam:SimulateCustomPolicy. Questions that share policies and context go
//! in one call (their actions and resources as lists, at most [`RESOURCES_PER_CALL`] resources a
//! call), and every page of the answer is read.
//!
//! Mapping: `allowed`, `explicitDeny`, `implicitDeny` are our three decisions. `by` is given for
//! an explicit deny only, from the first matched statement's source (`PolicyInputList.N` is an
//! identity policy, `PermissionsBoundaryPolicyInputList.N` the boundary): for an implicit deny
//! the simulator lists no statement, and which policy type "lacked an Allow" is not reported
//! when several did. Where the simulator and enforcement are known to differ (docs/aws-behaviour.md §6.4),
//! [`super::plan`] skips the case.

use std::collections::HashMap;

use aws_sdk_iam::types::{
    ContextEntry as SdkContextEntry, ContextKeyTypeEnum, EvaluationResult,
    OrderedOrganizationPolicyType, PolicyEvaluationDecisionType,
};
use keyward_iam::{DecisionKind, PolicyType};

use super::aws::ApiFailure;
use super::plan::SimPlan;
use super::{Aws, LiveError};
use crate::case::Expect;

/// PMapper's chunk size; the simulator has no published limit (docs/aws-behaviour.md §6.3).
pub const RESOURCES_PER_CALL: usize = 20;
const PAGE_SIZE: i32 = 100;

/// The answer for one (action, resource) result.
pub fn map_result(r: &EvaluationResult) -> Expect {
    let decision = match r.eval_decision() {
        PolicyEvaluationDecisionType::Allowed => Some(DecisionKind::Allow),
        PolicyEvaluationDecisionType::ExplicitDeny => Some(DecisionKind::ExplicitDeny),
        PolicyEvaluationDecisionType::ImplicitDeny => Some(DecisionKind::ImplicitDeny),
        _ => None,
    };
    let by = (decision == Some(DecisionKind::ExplicitDeny))
        .then(|| {
            r.matched_statements()
                .first()
                .and_then(|s| s.source_policy_id())
                .and_then(|id| {
                    if id.starts_with("PermissionsBoundaryPolicyInputList") {
                        Some(PolicyType::PermissionsBoundary)
                    } else if id.starts_with("PolicyInputList") {
                        Some(PolicyType::Identity)
                    } else {
                        None
                    }
                })
        })
        .flatten();
    Expect {
        decision,
        by,
        ..Expect::default()
    }
}

/// Answers every plan of one batch (all with the same [`SimPlan::batch_key`]), in order.
pub async fn simulate_batch(
    aws: &Aws,
    plans: &[&SimPlan],
) -> Result<Vec<Option<Expect>>, LiveError> {
    let Some(first) = plans.first() else {
        return Ok(Vec::new());
    };
    let mut actions: Vec<&str> = Vec::new();
    let mut resources: Vec<&str> = Vec::new();
    for p in plans {
        if !actions.iter().any(|a| a.eq_ignore_ascii_case(&p.action)) {
            actions.push(&p.action);
        }
        if !resources.contains(&p.resource.as_str()) {
            resources.push(&p.resource);
        }
    }
    let mut answers: HashMap<(String, String), Expect> = HashMap::new();
    for chunk in resources.chunks(RESOURCES_PER_CALL) {
        let mut marker: Option<String> = None;
        loop {
            let iam = aws.iam()?;
            let mut req = iam
                .simulate_custom_policy()
                .set_policy_input_list(Some(first.identity.clone()))
                .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
                .set_resource_arns(Some(chunk.iter().map(|r| r.to_string()).collect()))
                .max_items(PAGE_SIZE)
                .set_marker(marker.take());
            if let Some(b) = &first.boundary {
                req = req.permissions_boundary_policy_input_list(b);
            }
            for level in &first.scp_levels {
                req = req.ordered_organization_policy_input_list(
                    OrderedOrganizationPolicyType::builder()
                        .set_service_control_policy_input_list(Some(level.clone()))
                        .build(),
                );
            }
            for c in &first.context {
                req = req.context_entries(
                    SdkContextEntry::builder()
                        .context_key_name(&c.name)
                        .set_context_key_values(Some(c.values.clone()))
                        .context_key_type(ContextKeyTypeEnum::from(c.kind))
                        .build(),
                );
            }
            let out = req
                .send()
                .await
                .map_err(|e| ApiFailure::from_sdk(&e).into_error("iam:SimulateCustomPolicy"))?;
            for r in out.evaluation_results() {
                let key = (
                    r.eval_action_name().to_ascii_lowercase(),
                    r.eval_resource_name().unwrap_or("*").to_string(),
                );
                answers.insert(key, map_result(r));
            }
            match (out.is_truncated(), out.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => break,
            }
        }
    }
    Ok(plans
        .iter()
        .map(|p| {
            answers
                .get(&(p.action.to_ascii_lowercase(), p.resource.clone()))
                .cloned()
        })
        .collect())
}
