//! The simulator oracle: iam:SimulateCustomPolicy. Questions that share policies and context go
//! in one call (their actions and resources as lists, at most [`RESOURCES_PER_CALL`] resources a
//! call), and every page of the answer is read.
//!
//! Mapping: `allowed`, `explicitDeny`, `implicitDeny` are our three decisions. `by`, the policy
//! type the decision rests on, is read from what the answer says and left out (not compared)
//! where the answer does not say it:
//! - an explicit deny names the types of its matched statements (`PolicyInputList.N` is an
//!   identity policy, `PermissionsBoundaryPolicyInputList.N` the boundary); with
//!   `OrganizationsDecisionDetail.AllowedByOrganizations` false and no other statement matched,
//!   the SCPs denied. Several types, or SCPs that did not allow beside a matched statement (the
//!   SCP may have denied explicitly too, or only lacked an Allow), leave `by` out: which type
//!   AWS names then is an assumption of the evaluator (A-DENY-PRECEDENCE), not something the
//!   simulator reports.
//! - an implicit deny: SCPs that did not allow come first (the evaluation flow chart stops
//!   there); otherwise a boundary that allows leaves the identity policies as the type that
//!   lacked an Allow; a boundary that does not allow leaves it open whether the identity
//!   policies allowed, so `by` is left out.
//!
//! Sources: IAM API reference, `EvaluationResult`, `OrganizationsDecisionDetail` and
//! `PermissionsBoundaryDecisionDetail` (docs/aws-behaviour.md §6.2). Where the simulator and
//! enforcement are known to differ (docs/aws-behaviour.md §6.4), [`super::plan`] skips the case.

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

/// Which inputs a simulation was given, so that an answer's silence can be read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs {
    pub scps: bool,
    pub boundary: bool,
}

impl Inputs {
    pub fn of(plan: &SimPlan) -> Inputs {
        Inputs {
            scps: !plan.scp_levels.is_empty(),
            boundary: plan.boundary.is_some(),
        }
    }
}

/// The answer for one (action, resource) result of a simulation given `inputs`.
pub fn map_result(r: &EvaluationResult, inputs: Inputs) -> Expect {
    let decision = match r.eval_decision() {
        PolicyEvaluationDecisionType::Allowed => Some(DecisionKind::Allow),
        PolicyEvaluationDecisionType::ExplicitDeny => Some(DecisionKind::ExplicitDeny),
        PolicyEvaluationDecisionType::ImplicitDeny => Some(DecisionKind::ImplicitDeny),
        _ => None,
    };
    let by = decision.and_then(|d| deciding_type(d, r, inputs));
    Expect {
        decision,
        by,
        ..Expect::default()
    }
}

/// The policy type a deny rests on, where the answer says it (see the module comment).
fn deciding_type(
    decision: DecisionKind,
    r: &EvaluationResult,
    inputs: Inputs,
) -> Option<PolicyType> {
    // `None`: the simulation had no such input, or the answer left the detail out (which says
    // nothing either way).
    let scps_allow = inputs.scps.then(|| {
        r.organizations_decision_detail()
            .map(|d| d.allowed_by_organizations())
    });
    let boundary_allows = inputs.boundary.then(|| {
        r.permissions_boundary_decision_detail()
            .map(|d| d.allowed_by_permissions_boundary())
    });
    match decision {
        DecisionKind::Allow => None,
        DecisionKind::ExplicitDeny => {
            let mut types = r
                .matched_statements()
                .iter()
                .filter_map(|s| s.source_policy_id())
                .filter_map(input_list_type);
            match (types.next(), scps_allow) {
                (None, Some(Some(false))) => Some(PolicyType::Scp),
                (Some(t), None | Some(Some(true))) if types.all(|u| u == t) => Some(t),
                _ => None,
            }
        }
        DecisionKind::ImplicitDeny => match (scps_allow, boundary_allows) {
            (Some(Some(false)), _) => Some(PolicyType::Scp),
            (Some(None), _) => None,
            (_, None | Some(Some(true))) => Some(PolicyType::Identity),
            (_, Some(_)) => None,
        },
    }
}

/// The policy type of a matched statement's source, by the input list it came from.
fn input_list_type(source_policy_id: &str) -> Option<PolicyType> {
    if source_policy_id.starts_with("PermissionsBoundaryPolicyInputList") {
        Some(PolicyType::PermissionsBoundary)
    } else if source_policy_id.starts_with("PolicyInputList") {
        Some(PolicyType::Identity)
    } else {
        None
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
            let iam = aws.iam();
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
                answers.insert(key, map_result(r, Inputs::of(first)));
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
