//! Why a policy document is rejected, in IAM's words where IAM's words are known.
//!
//! Every variant carries the JSON path of the offending element. `aws_message` is the text IAM
//! returns (MalformedPolicyDocument or ValidationError). Where aws-facts.md gives no wording for a
//! check, IAM's generic "Syntax errors in policy." is used, as the emulators that mirror IAM do
//! (structural problems all map to it), and keyward's own detail follows in parentheses
//! (assumption A-SYNTAX-WORDING).

use std::fmt;

/// The AWS error code IAM answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedPolicyDocument,
    ValidationError,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::ValidationError => "ValidationError",
        })
    }
}

const SYNTAX: &str = "Syntax errors in policy.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyErrorKind {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("the character {0:?} is outside what IAM accepts (tab, LF, CR, U+0020-U+00FF)")]
    InvalidCharacter(char),
    #[error("a policy document must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("unknown element \"{0}\"")]
    UnknownElement(String),
    #[error("Id is not allowed in identity-based policies (nor in permissions boundaries or session policies)")]
    IdNotAllowed,
    #[error("Statement is missing")]
    MissingStatement,
    #[error("Statement is an empty array")]
    EmptyStatement,
    #[error("{element} must be {expected}, found {found}")]
    WrongType {
        element: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("Version must be \"2012-10-17\" or \"2008-10-17\", found {0:?}")]
    BadVersion(String),
    #[error("Effect is missing")]
    MissingEffect,
    #[error("Effect must be \"Allow\" or \"Deny\" (case-sensitive), found {0:?}")]
    BadEffect(String),
    #[error("{0} and Not{0} cannot both appear in one statement")]
    BothForms(&'static str),
    #[error("the statement has neither Action nor NotAction, or an empty list")]
    MissingAction,
    #[error("the statement has neither Resource nor NotResource, or an empty list")]
    MissingResource,
    #[error("action {0:?} has no service prefix")]
    ActionNoVendor(String),
    #[error("{0:?} has more than one colon")]
    TooManyColons(String),
    #[error("action {0:?} has a wildcard in its service prefix")]
    ActionVendorWildcard(String),
    #[error("action {0:?} has an invalid service prefix")]
    ActionBadVendor(String),
    #[error("resource {0:?} is neither an ARN nor \"*\"")]
    ResourceNotArn(String),
    #[error("{0} is not allowed in this kind of policy")]
    PrincipalNotAllowed(&'static str),
    #[error("a resource-based policy statement needs Principal or NotPrincipal")]
    MissingPrincipal,
    #[error("invalid principal: {0}")]
    BadPrincipal(String),
    #[error("Sid {0:?} is not alphanumeric")]
    BadSid(String),
    #[error("Sid {0:?} appears more than once")]
    DuplicateSid(String),
    #[error("unknown condition operator {0:?}")]
    UnknownOperator(String),
    #[error("the Null operator cannot take the IfExists suffix ({0:?})")]
    NullIfExists(String),
    #[error("a condition value must be a string, number or boolean, found {0}")]
    BadConditionValue(&'static str),
}

impl PolicyErrorKind {
    pub fn code(&self) -> ErrorCode {
        match self {
            PolicyErrorKind::InvalidCharacter(_) => ErrorCode::ValidationError,
            _ => ErrorCode::MalformedPolicyDocument,
        }
    }

    /// IAM's message text. Sources: aws-facts.md §5.1 [OBS] and the IAM emulators' validators,
    /// which reproduce IAM's texts; the resource and vendor texts are seen in many tool logs.
    pub fn aws_message(&self) -> String {
        use PolicyErrorKind::*;
        match self {
            InvalidJson(_) => "This policy contains invalid Json".into(),
            InvalidCharacter(_) => "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+".into(),
            BadVersion(_) => "The policy failed legacy parsing".into(),
            MissingAction => "Policy statement must contain actions.".into(),
            MissingResource => "Policy statement must contain resources.".into(),
            ActionNoVendor(_) => {
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.".into()
            }
            TooManyColons(_) => "Actions/Condition can contain only one colon.".into(),
            ActionVendorWildcard(_) => {
                "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards".into()
            }
            ActionBadVendor(a) => format!(
                "Vendor {} is not valid",
                a.split(':').next().unwrap_or_default()
            ),
            ResourceNotArn(r) => format!("Resource {r} must be in ARN format or \"*\"."),
            PrincipalNotAllowed(_) => "Policy document should not specify a principal.".into(),
            MissingPrincipal => "Missing required field Principal".into(),
            BadSid(_) => "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*".into(),
            DuplicateSid(_) => "The Statement Ids in the policy are not unique".into(),
            _ => SYNTAX.into(),
        }
    }

    /// Whether keyward's own detail adds anything to IAM's message.
    fn detail_adds(&self) -> bool {
        self.aws_message() == SYNTAX
            || matches!(
                self,
                PolicyErrorKind::InvalidJson(_)
                    | PolicyErrorKind::InvalidCharacter(_)
                    | PolicyErrorKind::BadVersion(_)
                    | PolicyErrorKind::MissingAction
                    | PolicyErrorKind::MissingResource
                    | PolicyErrorKind::DuplicateSid(_)
            )
    }

    /// IAM reports the first problem of the earliest check it runs; the emulators run syntax
    /// first, then the version, Sids, actions, resources and action prefixes.
    fn phase(&self) -> u8 {
        use PolicyErrorKind::*;
        match self {
            InvalidJson(_) | InvalidCharacter(_) => 0,
            BadVersion(_) => 2,
            BadSid(_) | DuplicateSid(_) => 3,
            MissingAction => 4,
            MissingResource | ResourceNotArn(_) => 5,
            ActionNoVendor(_) | TooManyColons(_) | ActionVendorWildcard(_) | ActionBadVendor(_) => {
                6
            }
            PrincipalNotAllowed(_) | MissingPrincipal | BadPrincipal(_) => 7,
            _ => 1,
        }
    }
}

/// A rejected policy: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path inside the policy document, e.g. `$.Statement[0].Condition.StringEquals`.
    pub path: String,
    pub kind: PolicyErrorKind,
}

impl PolicyError {
    pub fn new(path: impl Into<String>, kind: PolicyErrorKind) -> PolicyError {
        PolicyError {
            path: path.into(),
            kind,
        }
    }

    /// `MalformedPolicyDocument: <IAM's text>`, as an AWS SDK would print it.
    pub fn aws_error(&self) -> String {
        format!("{}: {}", self.kind.code(), self.kind.aws_message())
    }

    /// The path with a prefix in front (the caller knows where the policy sits in a case file).
    pub fn prefixed(mut self, prefix: &str) -> PolicyError {
        self.path = format!(
            "{prefix}{}",
            self.path.strip_prefix('$').unwrap_or(&self.path)
        );
        self
    }

    pub(crate) fn phase(&self) -> u8 {
        self.kind.phase()
    }
}

impl PolicyError {
    /// What is wrong, without the path: IAM's error, then keyward's detail where it adds to it.
    pub fn reason(&self) -> String {
        if self.kind.detail_adds() {
            format!("{} ({})", self.aws_error(), self.kind)
        } else {
            self.aws_error()
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason())
    }
}

impl std::error::Error for PolicyError {}

/// JSON path helpers: `.Name` for plain member names, `["aws:username"]` for the rest.
pub(crate) fn member(path: &str, name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{path}.{name}")
    } else {
        format!("{path}[{}]", serde_json::Value::String(name.to_string()))
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

pub(crate) fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
