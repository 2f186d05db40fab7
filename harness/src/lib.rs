//! keyward: a property-based conformance harness for the IAM controls on Amazon Bedrock API keys.
//!
//! The case format ([`case`]), the inputs of a run ([`inputs`]) and the commands ([`commands`])
//! sit on top of the pure evaluator `keyward-iam`.

pub mod case;
pub mod commands;
pub mod compare;
pub mod differential;
pub mod generate;
pub mod inputs;
pub mod lints;
pub mod live;
pub mod locate;
pub mod oracle;
pub mod peer;
pub mod properties;
pub mod reason;
pub mod run;
pub mod sarif;
