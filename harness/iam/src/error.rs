//! Why a policy document is rejected, in IAM's words where IAM's words are known.
//!
//! Every variant carries the JSON path of the offending element. `aws_message` is the text IAM
//! returns (MalformedPolicyDocument or ValidationError). Where docs/aws-behaviour.md gives no wording for a
//! check, IAM's generic "Syntax errors in policy." is used, as the emulators that mirror IAM do
//! (structural problems all map to it), and keyward's own detail follows in parentheses
//! (assumption A-SYNTAX-WORDING).

use std::fmt;

/// The AWS error code IAM answers a rejected policy with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The document breaks the policy grammar or IAM's checks on it.
    MalformedPolicyDocument,
    /// The request parameter itself is invalid (characters outside what IAM accepts).
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

/// What is wrong with a policy document. The `Display` text is keyward's own detail;
/// [`PolicyErrorKind::aws_message`] is what IAM says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text is not JSON (the parser's message).
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A character outside tab, LF, CR and U+0020-U+00FF.
    #[error("the character {0:?} is outside what IAM accepts (tab, LF, CR, U+0020-U+00FF)")]
    InvalidCharacter(char),
    /// The document is not a JSON object (the JSON type found).
    #[error("a policy document must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A member the grammar does not have, at the top level or in a statement.
    #[error("unknown element \"{0}\"")]
    UnknownElement(String),
    /// `Id` in a policy type that does not allow it.
    #[error("Id is not allowed in identity-based policies (nor in permissions boundaries or session policies)")]
    IdNotAllowed,
    /// No `Statement` (or `null`).
    #[error("Statement is missing")]
    MissingStatement,
    /// `Statement: []`.
    #[error("Statement is an empty array")]
    EmptyStatement,
    /// An element of the wrong JSON type.
    #[error("{element} must be {expected}, found {found}")]
    WrongType {
        /// The element, as named in the grammar (`Action`, `Sid`, a condition operator, ...).
        element: String,
        /// What the grammar asks for.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A `Version` other than the two IAM knows (the text found).
    #[error("Version must be \"2012-10-17\" or \"2008-10-17\", found {0:?}")]
    BadVersion(String),
    /// A statement without `Effect`.
    #[error("Effect is missing")]
    MissingEffect,
    /// An `Effect` other than `Allow` or `Deny`.
    #[error("Effect must be \"Allow\" or \"Deny\" (case-sensitive), found {0:?}")]
    BadEffect(String),
    /// `X` and `NotX` in one statement (the element name).
    #[error("{0} and Not{0} cannot both appear in one statement")]
    BothForms(&'static str),
    /// No `Action`/`NotAction`, or an empty list.
    #[error("the statement has neither Action nor NotAction, or an empty list")]
    MissingAction,
    /// No `Resource`/`NotResource` where one is required, or an empty list.
    #[error("the statement has neither Resource nor NotResource, or an empty list")]
    MissingResource,
    /// An action without `service:`.
    #[error("action {0:?} has no service prefix")]
    ActionNoVendor(String),
    /// An action or condition key with more than one colon in its prefix.
    #[error("{0:?} has more than one colon")]
    TooManyColons(String),
    /// A wildcard in an action's service prefix.
    #[error("action {0:?} has a wildcard in its service prefix")]
    ActionVendorWildcard(String),
    /// A service prefix with characters outside letters, digits, `-` and `.`.
    #[error("action {0:?} has an invalid service prefix")]
    ActionBadVendor(String),
    /// A resource that is neither `*` nor an ARN.
    #[error("resource {0:?} is neither an ARN nor \"*\"")]
    ResourceNotArn(String),
    /// `Principal`/`NotPrincipal` in a policy type that prohibits it (the element name).
    #[error("{0} is not allowed in this kind of policy")]
    PrincipalNotAllowed(&'static str),
    /// A resource-based policy statement without `Principal`/`NotPrincipal`.
    #[error("a resource-based policy statement needs Principal or NotPrincipal")]
    MissingPrincipal,
    /// A principal element of the wrong shape (keyward's detail).
    #[error("invalid principal: {0}")]
    BadPrincipal(String),
    /// A `Sid` that is not alphanumeric.
    #[error("Sid {0:?} is not alphanumeric")]
    BadSid(String),
    /// A `Sid` used by two statements.
    #[error("Sid {0:?} appears more than once")]
    DuplicateSid(String),
    /// A condition operator IAM does not know.
    #[error("unknown condition operator {0:?}")]
    UnknownOperator(String),
    /// `NullIfExists`, which IAM rejects.
    #[error("the Null operator cannot take the IfExists suffix ({0:?})")]
    NullIfExists(String),
    /// A condition value that is not a string, number or boolean (the JSON type found).
    #[error("a condition value must be a string, number or boolean, found {0}")]
    BadConditionValue(&'static str),
}

impl PolicyErrorKind {
    /// The AWS error code IAM answers with for this problem.
    pub fn code(&self) -> ErrorCode {
        match self {
            PolicyErrorKind::InvalidCharacter(_) => ErrorCode::ValidationError,
            _ => ErrorCode::MalformedPolicyDocument,
        }
    }

    /// IAM's message text. Sources: docs/aws-behaviour.md §5.1 (observed) and the IAM emulators' validators,
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
            // The IAM API's wording, as CloudFormation and Terraform relay it (the console says
            // "The Statement Ids in the policy are not unique"): docs/aws-behaviour.md §5.1, §8.
            DuplicateSid(_) => "Statement IDs (SID) in a single policy must be unique.".into(),
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
    /// What is wrong there.
    pub kind: PolicyErrorKind,
}

impl PolicyError {
    /// An error at a JSON path.
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

/// Text that names none of the values of a keyword type ([`PolicyType`](crate::PolicyType),
/// [`DecisionKind`](crate::DecisionKind), [`Effect`](crate::Effect), [`Version`](crate::Version),
/// [`BaseOp`](crate::BaseOp), [`PrincipalKind`](crate::PrincipalKind)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {found:?}: expected one of {}", .expected.join(", "))]
pub struct ParseNameError {
    what: &'static str,
    found: String,
    expected: &'static [&'static str],
}

impl ParseNameError {
    pub(crate) fn new(
        what: &'static str,
        found: &str,
        expected: &'static [&'static str],
    ) -> ParseNameError {
        ParseNameError {
            what,
            found: found.to_string(),
            expected,
        }
    }

    /// The text that was read.
    pub fn found(&self) -> &str {
        &self.found
    }

    /// The names that are accepted, exactly as they must be written.
    pub fn expected(&self) -> &'static [&'static str] {
        self.expected
    }
}

/// Where an element sits in a policy document: a chain of borrowed steps whose JSON path text is
/// written only when an error reports it. Parsing is on the hot path of every generated case and
/// almost never fails, so no path string is built for an element that parses. Written out, a
/// member is `.Name` when the name is plain and `["aws:username"]` otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Loc<'a> {
    /// The document itself (`$`).
    Root,
    /// A member of an object.
    Member(&'a Loc<'a>, &'a str),
    /// An element of an array.
    Index(&'a Loc<'a>, usize),
}

impl<'a> Loc<'a> {
    pub(crate) fn member(&'a self, name: &'a str) -> Loc<'a> {
        Loc::Member(self, name)
    }

    pub(crate) fn index(&'a self, i: usize) -> Loc<'a> {
        Loc::Index(self, i)
    }
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Root => f.write_str("$"),
            Loc::Member(parent, name) => {
                write!(f, "{parent}")?;
                if is_plain_member(name) {
                    write!(f, ".{name}")
                } else {
                    write!(f, "[{}]", serde_json::Value::String(name.to_string()))
                }
            }
            Loc::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

impl From<Loc<'_>> for String {
    fn from(l: Loc<'_>) -> String {
        l.to_string()
    }
}

impl From<&Loc<'_>> for String {
    fn from(l: &Loc<'_>) -> String {
        l.to_string()
    }
}

fn is_plain_member(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
