//! keyward-iam: a pure IAM policy evaluator.
//!
//! Parse and validate policy documents as IAM does ([`Policy::parse`]), evaluate a request
//! against every policy type that applies ([`evaluate`]), explain why ([`explain()`]), and render
//! AWS's access-denied messages ([`Decision::message`]). No I/O, no async, no AWS SDK.
//!
//! Policies are compiled once (lower-cased action patterns, parsed numbers, dates, CIDRs and
//! wildcard matchers) and evaluated many times.

pub mod assumptions;
pub mod condition;
pub mod error;
pub mod eval;
pub mod explain;
mod inspect;
pub mod message;
pub mod pattern;
pub mod policy;
pub mod request;
mod transform;
pub mod variables;

pub use condition::{BaseOp, Condition, Family, Operator, SetQualifier};
pub use error::{ErrorCode, PolicyError, PolicyErrorKind};
pub use eval::{evaluate, Decision, DecisionKind, PolicySet, StatementRef};
pub use explain::{explain, Explanation};
pub use inspect::{ConflictingKeyType, KeyType, KeyUse, KeyValues};
pub use policy::{Effect, Policy, PolicyMeta, PolicyType, Statement, Version};
pub use request::{Context, ContextValue, Request};
