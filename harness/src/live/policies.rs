//! The policy documents an IAM principal made for a case carries. The planner fills it in and
//! [`super::provision`] sends it; it sits below both so that neither depends on the other.
//!
//! A case policy given without an ARN is inline; one given with an ARN is a managed policy, since
//! AWS names the managed policy that denied explicitly by its ARN and names no inline one
//! (docs/aws-behaviour.md §3.1). A permissions boundary is always a managed policy.

use serde_json::Value;

/// A managed policy a principal carries, attached or as its boundary.
#[derive(Debug, Clone, PartialEq)]
pub enum ManagedPolicy {
    /// A customer managed policy the run creates in the sandbox under `name` (tagged and
    /// journaled like every resource of the run, and deleted with it).
    Create { name: String, document: Value },
    /// An AWS managed policy, attached by its ARN and never created or deleted. `document` is the
    /// case's; the runner attaches the policy only once AWS's current document is found to be
    /// the same policy, since AWS enforces its own document, not the case's.
    Aws { arn: String, document: Value },
}

/// Whether `arn` names an AWS managed policy (`arn:aws:iam::aws:policy/...`, in any partition).
pub fn is_aws_managed(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (arn_, _partition, service, _region, account) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    );
    arn_ == Some("arn")
        && service == Some("iam")
        && account == Some("aws")
        && parts.next().is_some_and(|r| r.starts_with("policy/"))
}

/// The policies a principal carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrincipalPolicies {
    /// Identity-based policies the case gives without an ARN, put inline as `p0`, `p1`, ...
    pub identity: Vec<Value>,
    /// Identity-based policies the case gives with an ARN, attached as managed policies.
    pub managed: Vec<ManagedPolicy>,
    /// The permissions boundary.
    pub boundary: Option<ManagedPolicy>,
}

impl PrincipalPolicies {
    /// What provisioning sends for the plan: the plan already holds the renamed documents and
    /// the live names, so this is a copy the provisioning step may own.
    pub fn to_provision(&self) -> PrincipalPolicies {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_arns_are_told_apart() {
        assert!(is_aws_managed("arn:aws:iam::aws:policy/AWSDenyAll"));
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"
        ));
        assert!(is_aws_managed("arn:aws-us-gov:iam::aws:policy/X"));
        assert!(!is_aws_managed(
            "arn:aws:iam::123456789012:policy/AWSDenyAll"
        ));
        assert!(!is_aws_managed("arn:aws:iam::aws:role/x"));
        assert!(!is_aws_managed("aws:policy/x"));
    }
}
