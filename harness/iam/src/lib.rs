//! keyward-iam: a pure IAM policy evaluator.
//!
//! Parse and validate policy documents as IAM does ([`Policy::parse`]), evaluate a request
//! against every policy type that applies ([`evaluate`]), explain why ([`explain()`]), and render
//! AWS's access-denied messages ([`Decision::message`]). No I/O, no async, no AWS SDK.
//!
//! Policies are compiled once (lower-cased action patterns, parsed numbers, dates, CIDRs and
//! wildcard matchers) and evaluated many times. The compiled [`Policy`] is the only form kept:
//! its parts are read through accessors, and [`Policy::to_json`] writes the document back.
//!
//! # Example
//!
//! ```
//! use keyward_iam::{evaluate, ContextValue, DecisionKind, Policy, PolicySet, PolicyType, Request};
//!
//! let policy = Policy::parse_str(
//!     r#"{
//!         "Version": "2012-10-17",
//!         "Statement": [
//!             {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"},
//!             {
//!                 "Effect": "Deny",
//!                 "Action": "bedrock:CallWithBearerToken",
//!                 "Resource": "*",
//!                 "Condition": {"StringEquals": {"bedrock:BearerTokenType": "LONG_TERM"}}
//!             }
//!         ]
//!     }"#,
//!     PolicyType::Identity,
//! )?;
//! let set = PolicySet {
//!     identity: vec![policy],
//!     ..PolicySet::default()
//! };
//! let request = Request::new(
//!     "arn:aws:iam::123456789012:user/alice",
//!     "bedrock:CallWithBearerToken",
//!     "*",
//! )
//! .with_context("bedrock:BearerTokenType", ContextValue::single("LONG_TERM"));
//!
//! let decision = evaluate(&set, &request);
//! assert_eq!(decision.kind, DecisionKind::ExplicitDeny);
//! let message = decision.message(&request, &set).expect("a deny has a message");
//! println!("{message}");
//! assert_eq!(
//!     message,
//!     "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
//!      bedrock:CallWithBearerToken on resource: * with an explicit deny in an identity-based policy"
//! );
//! # Ok::<(), keyward_iam::PolicyError>(())
//! ```

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod arn;
mod assumptions;
mod condition;
mod error;
mod eval;
mod explain;
mod inspect;
pub mod json;
mod message;
mod pattern;
mod policy;
mod principal;
mod request;
mod transform;
mod variables;

pub use arn::{Arn, ArnError};
pub use assumptions::{Assumption, AssumptionId, Assumptions, ASSUMPTIONS};
pub use condition::date::parse as parse_date;
pub use condition::{BaseOp, Condition, Family, Operator, SetQualifier};
pub use error::{ErrorCode, ParseNameError, PolicyError, PolicyErrorKind};
pub use eval::{evaluate, Decision, DecisionKind, PolicyEntry, PolicySet, Reason, StatementRef};
pub use explain::{
    explain, ConditionExplanation, ElementMatch, Explanation, PolicyExplanation, PrincipalCheck,
    StatementExplanation,
};
pub use inspect::{Behaviour, ConflictingKeyType, KeyType, KeyUse, KeyValues};
pub use message::{message_is_incomplete, messages_agree, MessageForm, ARN_NOT_GIVEN, EC2_ENCODED};
pub use policy::{
    ActionBlock, Effect, Policy, PolicyMeta, PolicyType, PrincipalBlock, PrincipalEntry,
    PrincipalKind, PrincipalMatch, ResourceBlock, Source, Statement, Version,
};
pub use principal::{principal_context, PRINCIPAL_KEYS};
pub use request::{Context, ContextValue, Request};
