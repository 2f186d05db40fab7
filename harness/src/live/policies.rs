//! The policy documents an IAM principal made for a case carries. The planner fills it in and
//! [`super::provision`] sends it; it sits below both so that neither depends on the other.

use serde_json::Value;

/// The policies a principal carries.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPolicies {
    /// Identity-based policies, put inline as `p0`, `p1`, ...
    pub identity: Vec<Value>,
    /// The permissions boundary, created as a managed policy.
    pub boundary: Option<Value>,
}
