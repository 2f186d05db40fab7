//! The malformed-input corpus (tests/malformed/): bad policies and bad case files, each run
//! through the real `keyward` binary and held to its *specific* error: the file, the case (id, or
//! `#index` when it has none), the JSON path and a distinctive part of the reason, exit code 2,
//! and no panic. The good cases mixed in with the bad ones must still be evaluated.
//!
//! To add a bad input: append it to the group file under tests/malformed/ (one JSON line, with a
//! `// why` comment line above it) and add a row to `ROWS`, in file order. Files whose every case
//! is unreadable as a whole go to `WHOLE_FILE`. The directory-wide test fails if the corpus holds
//! an error that no table expects.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{json_lines, keyward, keyward_with_input, stderr, stdout};

const DIR: &str = "tests/malformed";

const DOC: &str = "policy-document.jsonl";
const STMT: &str = "policy-statement.jsonl";
const AR: &str = "policy-action-resource.jsonl";
const PR: &str = "policy-principal.jsonl";
const COND: &str = "policy-condition.jsonl";
const CHARS: &str = "policy-characters.jsonl";
const CASE: &str = "case-fields.jsonl";
const NO_ID: &str = "case-no-id.json";
const LINES: &str = "lines-mixed.jsonl";
const FIRST: &str = "lines-first-broken.jsonl";
const SCN: &str = "case-scenario.jsonl";

/// IAM's generic text for structural problems.
const SYNTAX: &str = "MalformedPolicyDocument: Syntax errors in policy.";
/// IAM's text for characters outside [\u0009\u000A\u000D\u0020-\u00FF].
const CHARSET: &str = "ValidationError: 1 validation error detected: Value at 'policyDocument' failed to satisfy constraint";

/// What one case of a file must produce on `eval`'s standard output.
enum Want {
    /// `{"id": case, "decision": null, "error": "FILE: case CASE: PATH: ..."}`, the message
    /// holding every fragment.
    Error {
        path: &'static str,
        msg: &'static [&'static str],
    },
    /// A readable case, still evaluated: its decision, and `agrees` (None: no `expect`).
    Decision {
        decision: &'static str,
        agrees: Option<bool>,
    },
}

struct Row {
    /// Relative to tests/malformed.
    file: &'static str,
    /// The id, or `#index` / `#index (line n)` for a case without one.
    case: &'static str,
    want: Want,
}

const fn err(
    file: &'static str,
    case: &'static str,
    path: &'static str,
    msg: &'static [&'static str],
) -> Row {
    Row {
        file,
        case,
        want: Want::Error { path, msg },
    }
}

/// A good case among the bad ones: evaluated, and agreeing with its `expect`.
const fn ok(file: &'static str, case: &'static str, decision: &'static str) -> Row {
    Row {
        file,
        case,
        want: Want::Decision {
            decision,
            agrees: Some(true),
        },
    }
}

/// Every case of every per-case file, in file order.
const ROWS: &[Row] = &[
    err(
        SCN,
        "scn/both",
        "$",
        &["not both"],
    ),
    err(
        SCN,
        "scn/two-kinds",
        "$.scenario",
        &[r#"exactly one of "call" or "create_key""#],
    ),
    err(
        SCN,
        "scn/not-object",
        "$.scenario",
        &["must be an object, found a string"],
    ),
    err(
        SCN,
        "scn/unknown-op",
        "$.scenario.call.operation",
        &[r#"unknown operation "Chat""#],
    ),
    err(
        SCN,
        "scn/bidi",
        "$.scenario.call.operation",
        &["documented exclusion"],
    ),
    err(
        SCN,
        "scn/no-key",
        "$.scenario.call.key",
        &[r#"missing required field "key""#],
    ),
    err(
        SCN,
        "scn/key-type",
        "$.scenario.call.key.type",
        &[r#"unknown key type "MEDIUM_TERM""#],
    ),
    err(
        SCN,
        "scn/short-no-principal",
        "$.scenario.call.key.principal",
        &[r#"missing required field "principal""#],
    ),
    err(
        SCN,
        "scn/short-principal-not-arn",
        "$.scenario.call.key.principal",
        &["is not a principal ARN"],
    ),
    err(
        SCN,
        "scn/short-expiry-range",
        "$.scenario.call.key.expires_in",
        &["43201 is out of range"],
    ),
    err(
        SCN,
        "scn/short-bad-time",
        "$.scenario.call.key.issued_at",
        &[r#""yesterday" is not an ISO 8601 time"#],
    ),
    err(
        SCN,
        "scn/long-not-user",
        "$.scenario.call.key.user",
        &["is not an IAM user ARN"],
    ),
    err(
        SCN,
        "scn/long-status",
        "$.scenario.call.key.status",
        &[r#"unknown status "Expired""#],
    ),
    err(
        SCN,
        "scn/long-unknown-field",
        "$.scenario.call.key.secret",
        &[r#"unknown field "secret""#],
    ),
    err(
        SCN,
        "scn/endpoint",
        "$.scenario.call.endpoint",
        &[r#"unknown endpoint "bedrock-agent""#],
    ),
    err(
        SCN,
        "scn/no-model",
        "$.scenario.call.model",
        &[r#"missing required field "model""#],
    ),
    err(
        SCN,
        "scn/context-null",
        r#"$.scenario.call.context["aws:SourceIp"]"#,
        &["found null"],
    ),
    err(
        SCN,
        "scn/create-caller",
        "$.scenario.create_key.caller",
        &["is not a principal ARN"],
    ),
    err(
        SCN,
        "scn/create-no-user",
        "$.scenario.create_key.user",
        &[r#"missing required field "user""#],
    ),
    err(
        SCN,
        "scn/create-age-type",
        "$.scenario.create_key.age_days",
        &["must be an integer"],
    ),
    err(
        SCN,
        "scn/create-flow",
        "$.scenario.create_key.flow",
        &[r#"unknown flow "cli""#],
    ),
    err(
        SCN,
        "scn/create-exists-type",
        "$.scenario.create_key.user_exists",
        &["must be a boolean"],
    ),
    err(
        SCN,
        "scn/expect-status",
        "$.expect.status",
        &["must be an HTTP status"],
    ),
    err(
        SCN,
        "scn/expect-side-effects",
        "$.expect.side_effects[0]",
        &["must be a string"],
    ),
    err(
        SCN,
        "scn/request-with-status",
        "$.expect.status",
        &["are for scenario cases"],
    ),
    err(
        SCN,
        "scn/valid-token",
        "$.scenario.call.key.token",
        &["describe a valid key by its type"],
    ),
    ok(SCN, "scn/good", "allow"),
    // ---- policy-document.jsonl: the document's top level, and the policy wrapper ----
    ok(DOC, "doc/good-first", "allow"),
    err(
        DOC,
        "doc/version-bad-date",
        "$.policies.identity[0].Version",
        &[
            "MalformedPolicyDocument: The policy failed legacy parsing",
            r#"found "2012-10-18""#,
        ],
    ),
    err(
        DOC,
        "doc/version-number",
        "$.policies.identity[0].Version",
        &["The policy failed legacy parsing", r#"found "2012""#],
    ),
    err(
        DOC,
        "doc/version-trailing-space",
        "$.policies.identity[0].Version",
        &["The policy failed legacy parsing", r#"found "2012-10-17 ""#],
    ),
    err(
        DOC,
        "doc/statement-missing",
        "$.policies.identity[0].Statement",
        &[SYNTAX, "Statement is missing"],
    ),
    err(
        DOC,
        "doc/statement-null",
        "$.policies.identity[0].Statement",
        &[SYNTAX, "Statement is missing"],
    ),
    err(
        DOC,
        "doc/statement-empty-array",
        "$.policies.identity[0].Statement",
        &[SYNTAX, "Statement is an empty array"],
    ),
    err(
        DOC,
        "doc/statement-string",
        "$.policies.identity[0].Statement",
        &[SYNTAX, "must be an object or an array, found a string"],
    ),
    err(
        DOC,
        "doc/statement-number",
        "$.policies.identity[0].Statement",
        &[SYNTAX, "must be an object or an array, found a number"],
    ),
    err(
        DOC,
        "doc/statement-item-number",
        "$.policies.identity[0].Statement[1]",
        &[SYNTAX, "a statement must be an object, found a number"],
    ),
    err(
        DOC,
        "doc/unknown-top-level",
        "$.policies.identity[0].Comment",
        &[SYNTAX, r#"unknown element "Comment""#],
    ),
    err(
        DOC,
        "doc/lowercase-statement",
        "$.policies.identity[0].statement",
        &[SYNTAX, r#"unknown element "statement""#],
    ),
    err(
        DOC,
        "doc/id-number",
        "$.policies.identity[0].Id",
        &[SYNTAX, "Id must be a string, found a number"],
    ),
    err(
        DOC,
        "doc/id-in-identity",
        "$.policies.identity[0].Id",
        &[SYNTAX, "Id is not allowed in identity-based policies"],
    ),
    err(
        DOC,
        "doc/document-as-string",
        "$.policies.identity[0]",
        &["must be an object, found a string"],
    ),
    err(
        DOC,
        "doc/document-null",
        "$.policies.identity[0]",
        &["must be an object, found null"],
    ),
    err(
        DOC,
        "doc/document-array",
        "$.policies.identity[0]",
        &["must be an object, found an array"],
    ),
    err(
        DOC,
        "doc/second-policy",
        "$.policies.identity[1].Statement[1].Effect",
        &[SYNTAX, r#"found "allow""#],
    ),
    err(
        DOC,
        "doc/wrapper-unknown-field",
        "$.policies.identity[0].version",
        &[r#"unknown field "version" in a policy wrapper"#],
    ),
    err(
        DOC,
        "doc/wrapper-arn-number",
        "$.policies.identity[0].arn",
        &["must be a string, found a number"],
    ),
    err(
        DOC,
        "doc/wrapper-bad-document",
        "$.policies.identity[0].document.Statement[0].Effect",
        &[SYNTAX, r#"found "allow""#],
    ),
    err(
        DOC,
        "doc/wrapper-without-document",
        "$.policies.identity[0].name",
        &[SYNTAX, r#"unknown element "name""#],
    ),
    ok(DOC, "doc/good-last", "allow"),
    // ---- policy-statement.jsonl: statement elements ----
    err(
        STMT,
        "stmt/effect-missing",
        "$.policies.identity[0].Statement[0]",
        &[SYNTAX, "Effect is missing"],
    ),
    err(
        STMT,
        "stmt/effect-lowercase",
        "$.policies.identity[0].Statement[1].Effect",
        &[SYNTAX, r#"found "allow""#],
    ),
    err(
        STMT,
        "stmt/effect-permit",
        "$.policies.identity[0].Statement[0].Effect",
        &[SYNTAX, r#"found "Permit""#],
    ),
    err(
        STMT,
        "stmt/effect-uppercase",
        "$.policies.identity[0].Statement[0].Effect",
        &[SYNTAX, r#"found "DENY""#],
    ),
    err(
        STMT,
        "stmt/effect-boolean",
        "$.policies.identity[0].Statement[0].Effect",
        &[SYNTAX, "Effect must be a string, found a boolean"],
    ),
    err(
        STMT,
        "stmt/action-missing",
        "$.policies.identity[0].Statement[0]",
        &["MalformedPolicyDocument: Policy statement must contain actions."],
    ),
    err(
        STMT,
        "stmt/action-empty-array",
        "$.policies.identity[0].Statement[0].Action",
        &["Policy statement must contain actions."],
    ),
    err(
        STMT,
        "stmt/notaction-empty-array",
        "$.policies.identity[0].Statement[0].NotAction",
        &["Policy statement must contain actions."],
    ),
    err(
        STMT,
        "stmt/action-and-notaction",
        "$.policies.identity[0].Statement[0]",
        &[
            SYNTAX,
            "Action and NotAction cannot both appear in one statement",
        ],
    ),
    err(
        STMT,
        "stmt/resource-missing",
        "$.policies.identity[0].Statement[0]",
        &["MalformedPolicyDocument: Policy statement must contain resources."],
    ),
    err(
        STMT,
        "stmt/resource-empty-array",
        "$.policies.identity[0].Statement[0].Resource",
        &["Policy statement must contain resources."],
    ),
    err(
        STMT,
        "stmt/resource-and-notresource",
        "$.policies.identity[0].Statement[0]",
        &[
            SYNTAX,
            "Resource and NotResource cannot both appear in one statement",
        ],
    ),
    err(
        STMT,
        "stmt/action-number",
        "$.policies.identity[0].Statement[0].Action",
        &[
            SYNTAX,
            "Action must be a string or an array of strings, found a number",
        ],
    ),
    err(
        STMT,
        "stmt/action-object",
        "$.policies.identity[0].Statement[0].Action",
        &[
            SYNTAX,
            "Action must be a string or an array of strings, found an object",
        ],
    ),
    err(
        STMT,
        "stmt/action-array-number",
        "$.policies.identity[0].Statement[0].Action[1]",
        &[SYNTAX, "Action must be a string, found a number"],
    ),
    err(
        STMT,
        "stmt/notaction-null",
        "$.policies.identity[0].Statement[0].NotAction",
        &[
            SYNTAX,
            "NotAction must be a string or an array of strings, found null",
        ],
    ),
    err(
        STMT,
        "stmt/resource-boolean",
        "$.policies.identity[0].Statement[0].Resource",
        &[
            SYNTAX,
            "Resource must be a string or an array of strings, found a boolean",
        ],
    ),
    err(
        STMT,
        "stmt/resource-array-null",
        "$.policies.identity[0].Statement[0].Resource[1]",
        &[SYNTAX, "Resource must be a string, found null"],
    ),
    err(
        STMT,
        "stmt/notresource-object",
        "$.policies.identity[0].Statement[0].NotResource",
        &[
            SYNTAX,
            "NotResource must be a string or an array of strings, found an object",
        ],
    ),
    err(
        STMT,
        "stmt/unknown-element",
        "$.policies.identity[0].Statement[0].Comment",
        &[SYNTAX, r#"unknown element "Comment""#],
    ),
    err(
        STMT,
        "stmt/lowercase-action",
        "$.policies.identity[0].Statement[0].action",
        &[SYNTAX, r#"unknown element "action""#],
    ),
    err(
        STMT,
        "stmt/sid-hyphen",
        "$.policies.identity[0].Statement[0].Sid",
        &["MalformedPolicyDocument: Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"],
    ),
    err(
        STMT,
        "stmt/sid-space",
        "$.policies.identity[0].Statement[0].Sid",
        &["Statement IDs (SID) must be alpha-numeric."],
    ),
    err(
        STMT,
        "stmt/sid-underscore",
        "$.policies.identity[0].Statement[0].Sid",
        &["Statement IDs (SID) must be alpha-numeric."],
    ),
    err(
        STMT,
        "stmt/sid-number",
        "$.policies.identity[0].Statement[0].Sid",
        &[SYNTAX, "Sid must be a string, found a number"],
    ),
    err(
        STMT,
        "stmt/sid-duplicate",
        "$.policies.identity[1].Statement[1].Sid",
        &[
            "MalformedPolicyDocument: The Statement Ids in the policy are not unique",
            r#"Sid "Same" appears more than once"#,
        ],
    ),
    err(
        STMT,
        "stmt/condition-string",
        "$.policies.identity[0].Statement[0].Condition",
        &[SYNTAX, "Condition must be an object, found a string"],
    ),
    ok(STMT, "stmt/good", "allow"),
    // ---- policy-action-resource.jsonl: action and resource values ----
    err(
        AR,
        "ar/action-two-colons",
        "$.policies.identity[0].Statement[0].Action",
        &["MalformedPolicyDocument: Actions/Condition can contain only one colon."],
    ),
    err(
        AR,
        "ar/notaction-two-colons",
        "$.policies.identity[0].Statement[0].NotAction[1]",
        &["Actions/Condition can contain only one colon."],
    ),
    err(
        AR,
        "ar/action-no-prefix",
        "$.policies.identity[0].Statement[0].Action",
        &["MalformedPolicyDocument: Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."],
    ),
    err(
        AR,
        "ar/action-no-prefix-in-array",
        "$.policies.identity[0].Statement[0].Action[1]",
        &["Actions/Conditions must be prefaced by a vendor"],
    ),
    err(
        AR,
        "ar/action-vendor-star",
        "$.policies.identity[0].Statement[0].Action",
        &["MalformedPolicyDocument: Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"],
    ),
    err(
        AR,
        "ar/action-vendor-question",
        "$.policies.identity[0].Statement[0].Action",
        &["Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"],
    ),
    err(
        AR,
        "ar/action-vendor-space",
        "$.policies.identity[0].Statement[0].Action",
        &["MalformedPolicyDocument: Vendor bed rock is not valid"],
    ),
    err(
        AR,
        "ar/resource-not-arn",
        "$.policies.identity[0].Statement[0].Resource",
        &[r#"MalformedPolicyDocument: Resource my-bucket must be in ARN format or "*"."#],
    ),
    err(
        AR,
        "ar/resource-not-arn-in-array",
        "$.policies.identity[0].Statement[0].Resource[1]",
        &[r#"Resource foundation-model/x must be in ARN format or "*"."#],
    ),
    err(
        AR,
        "ar/notresource-not-arn",
        "$.policies.identity[0].Statement[0].NotResource",
        &[r#"Resource bucket/* must be in ARN format or "*"."#],
    ),
    err(
        AR,
        "ar/resource-empty-string",
        "$.policies.identity[0].Statement[0].Resource",
        &[r#"Resource  must be in ARN format or "*"."#],
    ),
    ok(AR, "ar/good", "allow"),
    // ---- policy-principal.jsonl: Principal by policy type ----
    err(
        PR,
        "pr/identity-principal",
        "$.policies.identity[0].Statement[0].Principal",
        &["MalformedPolicyDocument: Policy document should not specify a principal."],
    ),
    err(
        PR,
        "pr/identity-notprincipal",
        "$.policies.identity[0].Statement[0].NotPrincipal",
        &["Policy document should not specify a principal."],
    ),
    err(
        PR,
        "pr/boundary-principal",
        "$.policies.permissions_boundary.Statement[0].Principal",
        &["Policy document should not specify a principal."],
    ),
    err(
        PR,
        "pr/session-principal",
        "$.policies.session[0].Statement.Principal",
        &["Policy document should not specify a principal."],
    ),
    err(
        PR,
        "pr/scp-principal",
        "$.policies.scp[1][0].Statement[0].Principal",
        &["Policy document should not specify a principal."],
    ),
    err(
        PR,
        "pr/resource-missing-principal",
        "$.policies.resource[0].Statement[0]",
        &["MalformedPolicyDocument: Missing required field Principal"],
    ),
    err(
        PR,
        "pr/resource-principal-and-notprincipal",
        "$.policies.resource[0].Statement[0]",
        &[
            SYNTAX,
            "Principal and NotPrincipal cannot both appear in one statement",
        ],
    ),
    err(
        PR,
        "pr/resource-principal-number",
        "$.policies.resource[0].Statement[0].Principal",
        &[SYNTAX, "invalid principal", "found a number"],
    ),
    err(
        PR,
        "pr/resource-principal-arn-string",
        "$.policies.resource[0].Statement[0].Principal",
        &[SYNTAX, "invalid principal", "found a string"],
    ),
    err(
        PR,
        "pr/resource-principal-empty-map",
        "$.policies.resource[0].Statement[0].Principal",
        &[SYNTAX, "invalid principal", "found an object"],
    ),
    err(
        PR,
        "pr/resource-principal-unknown-type",
        "$.policies.resource[0].Statement[0].Principal.User",
        &[SYNTAX, r#"unknown principal type "User""#],
    ),
    err(
        PR,
        "pr/resource-principal-value-number",
        "$.policies.resource[0].Statement[0].Principal.AWS[0]",
        &[SYNTAX, "AWS must be a string, found a number"],
    ),
    ok(PR, "pr/good", "allow"),
    ok(PR, "pr/good-resource", "allow"),
    // ---- policy-condition.jsonl ----
    err(
        COND,
        "cond/unknown-operator",
        "$.policies.identity[0].Statement[0].Condition.StringEqualz",
        &[SYNTAX, r#"unknown condition operator "StringEqualz""#],
    ),
    err(
        COND,
        "cond/operator-lowercase",
        "$.policies.identity[0].Statement[0].Condition.stringequals",
        &[SYNTAX, r#"unknown condition operator "stringequals""#],
    ),
    err(
        COND,
        "cond/unknown-qualifier",
        r#"$.policies.identity[0].Statement[0].Condition["ForSomeValues:StringEquals"]"#,
        &[SYNTAX, "unknown condition operator"],
    ),
    err(
        COND,
        "cond/unknown-ifexists",
        "$.policies.identity[0].Statement[0].Condition.StringMatchesIfExists",
        &[SYNTAX, "unknown condition operator"],
    ),
    err(
        COND,
        "cond/null-ifexists",
        "$.policies.identity[0].Statement[0].Condition.NullIfExists",
        &[SYNTAX, "the Null operator cannot take the IfExists suffix"],
    ),
    err(
        COND,
        "cond/forany-null-ifexists",
        r#"$.policies.identity[0].Statement[0].Condition["ForAnyValue:NullIfExists"]"#,
        &[SYNTAX, "the Null operator cannot take the IfExists suffix"],
    ),
    err(
        COND,
        "cond/value-null",
        r#"$.policies.identity[0].Statement[0].Condition.StringEquals["aws:username"]"#,
        &[
            SYNTAX,
            "a condition value must be a string, number or boolean, found null",
        ],
    ),
    err(
        COND,
        "cond/value-object",
        r#"$.policies.identity[0].Statement[0].Condition.StringEquals["aws:username"]"#,
        &[
            SYNTAX,
            "a condition value must be a string, number or boolean, found an object",
        ],
    ),
    err(
        COND,
        "cond/value-array-null",
        r#"$.policies.identity[0].Statement[0].Condition.StringLike["aws:username"][1]"#,
        &[SYNTAX, "found null"],
    ),
    err(
        COND,
        "cond/value-nested-array",
        r#"$.policies.identity[0].Statement[0].Condition["ForAnyValue:StringEquals"]["aws:TagKeys"][0]"#,
        &[SYNTAX, "found an array"],
    ),
    err(
        COND,
        "cond/operator-body-array",
        "$.policies.identity[0].Statement[0].Condition.Bool",
        &[SYNTAX, "Bool must be an object of condition keys, found an array"],
    ),
    err(
        COND,
        "cond/key-two-colons",
        r#"$.policies.identity[0].Statement[0].Condition.StringEquals["aws:PrincipalTag:team"]"#,
        &["MalformedPolicyDocument: Actions/Condition can contain only one colon."],
    ),
    err(
        COND,
        "cond/second-operator",
        "$.policies.identity[0].Statement[0].Condition.DateLessThen",
        &[SYNTAX, r#"unknown condition operator "DateLessThen""#],
    ),
    ok(COND, "cond/good-bare-scalars", "allow"),
    // ---- policy-characters.jsonl: characters IAM does not accept ----
    err(
        CHARS,
        "chars/sid-u0100",
        "$.policies.identity[0].Statement[0].Sid",
        &[CHARSET, "the character 'Ā' is outside what IAM accepts"],
    ),
    err(
        CHARS,
        "chars/resource-emoji",
        "$.policies.identity[0].Statement[0].Resource",
        &[CHARSET, "the character '😀'"],
    ),
    err(
        CHARS,
        "chars/action-emoji",
        "$.policies.identity[0].Statement[0].Action[1]",
        &[CHARSET, "the character '🚀'"],
    ),
    err(
        CHARS,
        "chars/condition-control",
        r#"$.policies.identity[0].Statement[0].Condition.StringEquals["aws:username"]"#,
        &[CHARSET, r"the character '\u{1}'"],
    ),
    err(
        CHARS,
        "chars/condition-key",
        r#"$.policies.identity[0].Statement[0].Condition.StringEquals["aws:usernāme"]"#,
        &[CHARSET, "the character 'ā'"],
    ),
    err(
        CHARS,
        "chars/version",
        "$.policies.identity[0].Version",
        &[CHARSET, "the character '–'"],
    ),
    ok(CHARS, "chars/good-latin1", "allow"),
    // ---- case-fields.jsonl: the case around the policies ----
    err(
        CASE,
        "case/unknown-field",
        "$.expected",
        &[r#"unknown field "expected""#],
    ),
    err(
        CASE,
        "case/request-missing",
        "$.request",
        &[r#"missing required field "request""#],
    ),
    err(
        CASE,
        "case/request-string",
        "$.request",
        &["must be an object, found a string"],
    ),
    err(
        CASE,
        "case/principal-missing",
        "$.request.principal",
        &[r#"missing required field "principal""#],
    ),
    err(
        CASE,
        "case/action-missing",
        "$.request.action",
        &[r#"missing required field "action""#],
    ),
    err(
        CASE,
        "case/resource-missing",
        "$.request.resource",
        &[r#"missing required field "resource""#],
    ),
    err(
        CASE,
        "case/principal-number",
        "$.request.principal",
        &["must be a non-empty string, found a number"],
    ),
    err(
        CASE,
        "case/action-empty",
        "$.request.action",
        &["must be a non-empty string, found an empty string"],
    ),
    err(
        CASE,
        "case/action-wildcard",
        "$.request.action",
        &[r#""bedrock:*" is not an action"#, "no wildcards"],
    ),
    err(
        CASE,
        "case/action-question",
        "$.request.action",
        &[r#""bedrock:Invoke?odel" is not an action"#],
    ),
    err(
        CASE,
        "case/action-no-prefix",
        "$.request.action",
        &[r#""InvokeModel" is not an action: expected service:Action"#],
    ),
    err(
        CASE,
        "case/action-two-colons",
        "$.request.action",
        &[r#""bedrock:Invoke:Model" is not an action"#],
    ),
    err(
        CASE,
        "case/request-unknown-field",
        "$.request.region",
        &[r#"unknown field "region""#],
    ),
    err(
        CASE,
        "case/account-short",
        "$.request.resource_account",
        &[r#"must be a 12-digit account id string, found "12345""#],
    ),
    err(
        CASE,
        "case/account-letter",
        "$.request.resource_account",
        &[r#"must be a 12-digit account id string, found "12345678901a""#],
    ),
    err(
        CASE,
        "case/account-number",
        "$.request.resource_account",
        &["must be a 12-digit account id string, found 123456789012"],
    ),
    err(
        CASE,
        "case/context-null",
        r#"$.request.context["aws:username"]"#,
        &["a context value must be a string, number or boolean, found null"],
    ),
    err(
        CASE,
        "case/context-object",
        r#"$.request.context["aws:PrincipalTag"]"#,
        &["a context value must be a string, number or boolean, found an object"],
    ),
    err(
        CASE,
        "case/context-array-null",
        r#"$.request.context["aws:TagKeys"][1]"#,
        &["a context value must be a string, number or boolean, found null"],
    ),
    err(
        CASE,
        "case/context-array",
        "$.request.context",
        &["must be an object, found an array"],
    ),
    err(
        CASE,
        "case/policies-array",
        "$.policies",
        &["must be an object, found an array"],
    ),
    err(
        CASE,
        "case/policy-type-unknown",
        "$.policies.identities",
        &[r#"unknown policy type "identities""#],
    ),
    err(
        CASE,
        "case/identity-object",
        "$.policies.identity",
        &["must be an array of policies, found an object"],
    ),
    err(
        CASE,
        "case/boundary-array",
        "$.policies.permissions_boundary",
        &["must be an object, found an array"],
    ),
    err(
        CASE,
        "case/session-object",
        "$.policies.session",
        &["must be an array of policies, found an object"],
    ),
    err(
        CASE,
        "case/scp-flat",
        "$.policies.scp[0]",
        &["must be an array of policies, found an object"],
    ),
    err(
        CASE,
        "case/scp-object",
        "$.policies.scp",
        &["must be an array of levels", "found an object"],
    ),
    err(
        CASE,
        "case/rcp-string-level",
        "$.policies.rcp[0]",
        &["must be an array of policies, found a string"],
    ),
    err(
        CASE,
        "case/decision-unknown",
        "$.expect.decision",
        &[r#"unknown decision "deny""#],
    ),
    err(
        CASE,
        "case/decision-case",
        "$.expect.decision",
        &[r#"unknown decision "Allow""#],
    ),
    err(
        CASE,
        "case/decision-missing",
        "$.expect.decision",
        &[r#"missing required field "decision""#],
    ),
    err(
        CASE,
        "case/by-unknown",
        "$.expect.by",
        &[r#"unknown policy type "organizations""#],
    ),
    err(
        CASE,
        "case/expect-unknown-field",
        "$.expect.reason",
        &[r#"unknown field "reason""#],
    ),
    err(
        CASE,
        "case/message-number",
        "$.expect.message",
        &["must be a string or null, found a number"],
    ),
    err(
        CASE,
        "case/expect-string",
        "$.expect",
        &["must be an object, found a string"],
    ),
    err(
        CASE,
        "case/provenance-unknown",
        "$.provenance",
        &[r#"unknown provenance "guessed""#],
    ),
    err(
        CASE,
        "case/source-array",
        "$.source",
        &["must be a string, found an array"],
    ),
    ok(CASE, "case/good", "allow"),
    // ---- case-no-id.json: an array; cases without a usable id are named by index ----
    err(
        NO_ID,
        "#0",
        "$.id",
        &[r#"missing required field "id""#],
    ),
    err(
        NO_ID,
        "#1",
        "$.id",
        &[r#"missing required field "id" (a non-empty string)"#],
    ),
    err(
        NO_ID,
        "#2",
        "$.id",
        &[r#"missing required field "id" (a non-empty string)"#],
    ),
    err(
        NO_ID,
        "#3",
        "$",
        &["a case must be a JSON object, found a number"],
    ),
    ok(NO_ID, "no-id/good", "allow"),
    err(
        NO_ID,
        "#5",
        "$.id",
        &[r#"missing required field "id""#],
    ),
    // ---- lines-mixed.jsonl: JSON Lines with broken lines among good ones ----
    ok(LINES, "lines/allow", "allow"),
    err(
        LINES,
        "#1 (line 3)",
        "$",
        &["not valid JSON: EOF while parsing"],
    ),
    ok(LINES, "lines/implicit-deny", "implicit_deny"),
    err(
        LINES,
        "#3 (line 6)",
        "$",
        &["a case must be a JSON object, found an array"],
    ),
    ok(LINES, "lines/explicit-deny", "explicit_deny"),
    err(LINES, "#5 (line 8)", "$", &["not valid JSON: expected ident"]),
    Row {
        file: LINES,
        case: "lines/no-expect",
        want: Want::Decision {
            decision: "allow",
            agrees: None,
        },
    },
    // ---- lines-first-broken.jsonl: the first line is the broken one; still JSON Lines ----
    err(
        FIRST,
        "#0 (line 1)",
        "$",
        &["not valid JSON: EOF while parsing"],
    ),
    ok(FIRST, "lines/after-first-broken", "allow"),
];

/// Files that are unreadable as a whole: one error (case-less, path `$`) for the file.
const WHOLE_FILE: &[(&str, &str)] = &[
    ("file/empty.json", "the file is empty"),
    ("file/blank.jsonl", "the file is empty"),
    (
        "file/prose.json",
        "not JSON: a case file starts with '{', '[' or a JSON Lines comment, found 'T'",
    ),
    (
        "file/scalar.json",
        "not JSON: a case file starts with '{', '[' or a JSON Lines comment, found '4'",
    ),
    (
        "file/broken-array.json",
        "not valid JSON: EOF while parsing",
    ),
    // A pretty-printed object with a missing comma: one error with serde's position, not one
    // error per line.
    (
        "file/broken-object.json",
        "not valid JSON: expected `,` or `}` at line 6 column 5",
    ),
    (
        "file/only-comments.jsonl",
        "not JSON: no line holds a JSON case",
    ),
    (
        "file/not-utf8.json",
        "cannot read: stream did not contain valid UTF-8",
    ),
];

fn path_of(file: &str) -> String {
    format!("{DIR}/{file}")
}

/// The error text a row must produce (its prefix: file, case, path), checked against `line`.
fn check_row(row: &Row, line: &Value, stderr: &str, problems: &mut Vec<String>) {
    let file = path_of(row.file);
    let mut fail = |what: String| problems.push(format!("{file}: {}: {what}", row.case));
    if line["id"] != row.case {
        fail(format!("expected the line for this case, got {line}"));
        return;
    }
    match &row.want {
        Want::Error { path, msg } => {
            let keys: Vec<&str> = line
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            if keys != ["id", "decision", "error"] || !line["decision"].is_null() {
                fail(format!(
                    "an unreadable case's line must be {{\"id\", \"decision\": null, \"error\"}}, got {line}"
                ));
            }
            let Some(error) = line["error"].as_str() else {
                return fail(format!("no error string in {line}"));
            };
            let prefix = format!("{file}: case {}: {path}: ", row.case);
            let Some(message) = error.strip_prefix(&prefix) else {
                return fail(format!("error should start with {prefix:?}, got {error:?}"));
            };
            for m in *msg {
                if !message.contains(m) {
                    fail(format!("message {message:?} lacks {m:?}"));
                }
            }
            if !stderr.lines().any(|l| l == format!("error: {error}")) {
                fail(format!("stderr lacks the line `error: {error}`"));
            }
        }
        Want::Decision { decision, agrees } => {
            if line.get("error").is_some() || line["decision"] != *decision {
                fail(format!("expected decision {decision}, got {line}"));
            }
            if line["agrees"] != serde_json::json!(agrees) {
                fail(format!("expected agrees {agrees:?}, got {line}"));
            }
        }
    }
}

/// Runs `eval` on each file of the table and holds every stdout line to its row, in order.
#[test]
fn every_bad_case_reports_its_file_case_path_and_reason() {
    let mut files: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in ROWS {
        files.entry(r.file).or_default().push(r);
    }
    let mut problems = Vec::new();
    for (file, rows) in &files {
        let out = keyward(&["eval", &path_of(file)]);
        let stderr = stderr(&out);
        if out.status.code() != Some(2) {
            problems.push(format!("{file}: exit {:?}, expected 2", out.status.code()));
        }
        let lines = json_lines(&out);
        if lines.len() != rows.len() {
            problems.push(format!(
                "{file}: {} stdout lines for {} table rows:\n{}",
                lines.len(),
                rows.len(),
                stdout(&out)
            ));
            continue;
        }
        let errors = rows
            .iter()
            .filter(|r| matches!(r.want, Want::Error { .. }))
            .count();
        if stderr.lines().count() != errors {
            problems.push(format!(
                "{file}: {} stderr lines for {errors} bad cases:\n{stderr}",
                stderr.lines().count()
            ));
        }
        for (row, line) in rows.iter().zip(&lines) {
            check_row(row, line, &stderr, &mut problems);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_corpus_is_large_enough() {
    let bad = ROWS
        .iter()
        .filter(|r| matches!(r.want, Want::Error { .. }))
        .count()
        + WHOLE_FILE.len();
    assert!(bad >= 50, "only {bad} bad inputs");
}

#[test]
fn a_file_unreadable_as_a_whole_is_one_error() {
    let mut problems = Vec::new();
    for (file, fragment) in WHOLE_FILE {
        let name = path_of(file);
        let out = keyward(&["eval", &name]);
        let stderr = stderr(&out);
        let lines = json_lines(&out);
        let prefix = format!("{name}: $: ");
        let ok = out.status.code() == Some(2)
            && lines.len() == 1
            && lines[0]["id"] == name.as_str()
            && lines[0]["decision"].is_null()
            && lines[0]["error"]
                .as_str()
                .and_then(|e| e.strip_prefix(&prefix))
                .is_some_and(|m| m.contains(fragment))
            && stderr.lines().count() == 1
            && stderr.starts_with(&format!("error: {prefix}"))
            && stderr.contains(fragment);
        if !ok {
            problems.push(format!(
                "{name}: exit {:?}, expected 2 and one error {fragment:?}\nstdout: {}\nstderr: {stderr}",
                out.status.code(),
                stdout(&out)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn good_json_lines_are_evaluated_around_broken_ones() {
    let out = keyward(&["eval", &path_of(LINES)]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    let decided: Vec<(&str, &str, &str)> = lines
        .iter()
        .filter(|l| !l["decision"].is_null())
        .map(|l| {
            (
                l["id"].as_str().unwrap_or_default(),
                l["decision"].as_str().unwrap_or_default(),
                l["by"].as_str().unwrap_or("null"),
            )
        })
        .collect();
    assert_eq!(
        decided,
        [
            ("lines/allow", "allow", "null"),
            ("lines/implicit-deny", "implicit_deny", "identity"),
            ("lines/explicit-deny", "explicit_deny", "identity"),
            ("lines/no-expect", "allow", "null"),
        ]
    );
    assert_eq!(
        lines[4]["message"],
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: bedrock:InvokeModel on resource: * with an explicit deny in an identity-based policy"
    );

    // --summary: unreadable cases count as failed, and the last line says so.
    let out = keyward(&["eval", "--summary", &path_of(LINES)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "3 passed, 3 failed\n");
    assert_eq!(stderr(&out).lines().count(), 3);
}

#[test]
fn a_duplicate_id_across_files_is_an_error_in_the_later_file() {
    let (a, b) = (path_of("dup/a.json"), path_of("dup/b.json"));
    for (first, second, later) in [(&a, &b, "dup/b.json"), (&b, &a, "dup/a.json")] {
        let out = keyward(&["eval", first, second]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = stderr(&out);
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let errors: Vec<&Value> = lines.iter().filter(|l| l["decision"].is_null()).collect();
        assert_eq!(errors.len(), 1, "{lines:?}");
        let row = err(
            later,
            "dup/same-id",
            "$.id",
            &[r#"duplicate id "dup/same-id""#],
        );
        let mut problems = Vec::new();
        check_row(&row, errors[0], &stderr, &mut problems);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

/// The whole directory in one run: every error it reports is one a table expects, and all of
/// them are reported (so nothing in the corpus goes unchecked).
#[test]
fn the_whole_corpus_in_one_run() {
    let out = keyward(&["eval", DIR]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr(&out);
    let lines = json_lines(&out);
    let errors: Vec<&str> = lines
        .iter()
        .filter(|l| l["decision"].is_null())
        .map(|l| l["error"].as_str().expect("an error string"))
        .collect();
    let mut expected: Vec<String> = ROWS
        .iter()
        .filter_map(|r| match r.want {
            Want::Error { path, .. } => {
                Some(format!("{}: case {}: {path}: ", path_of(r.file), r.case))
            }
            Want::Decision { .. } => None,
        })
        .chain(
            WHOLE_FILE
                .iter()
                .map(|(f, _)| format!("{}: $: ", path_of(f))),
        )
        .collect();
    expected.push(format!(
        "{}: case dup/same-id: $.id: ",
        path_of("dup/b.json")
    ));
    let unexpected: Vec<&&str> = errors
        .iter()
        .filter(|e| !expected.iter().any(|p| e.starts_with(p.as_str())))
        .collect();
    assert!(
        unexpected.is_empty(),
        "errors no table expects (add rows for them):\n{unexpected:#?}"
    );
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    assert_eq!(stderr.lines().count(), expected.len());
    let decided = lines.len() - errors.len();
    let good = ROWS
        .iter()
        .filter(|r| matches!(r.want, Want::Decision { .. }))
        .count();
    assert_eq!(decided, good + 2, "the good cases, and dup/a.json's two");

    // `check` replays the same directory: exit 2, one UNREADABLE line per error, and the
    // unreadable cases counted as failed.
    let out = keyward(&["check", "--fixtures", DIR, "--cases", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = stdout(&out);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("UNREADABLE "))
            .count(),
        expected.len()
    );
    let agreeing = ROWS
        .iter()
        .filter(|r| {
            matches!(
                r.want,
                Want::Decision {
                    agrees: Some(true),
                    ..
                }
            )
        })
        .count()
        + 2;
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{agreeing} passed, {} failed", expected.len()).as_str())
    );
}

#[test]
fn standard_input_is_named_dash() {
    let case = r#"{"id": "stdin/no-resource", "request": {"principal": "arn:aws:iam::123456789012:user/alice", "action": "bedrock:InvokeModel"}}"#;
    let out = keyward_with_input(&["eval", "-"], case);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    // The file of standard input is `-`.
    let error = lines[0]["error"].as_str().unwrap_or_default();
    assert_eq!(
        error,
        r#"-: case stdin/no-resource: $.request.resource: missing required field "resource""#
    );
    assert_eq!(lines[0]["id"], "stdin/no-resource");
    assert_eq!(stderr(&out), format!("error: {error}\n"));

    let out = keyward_with_input(&["eval", "-"], "not json");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: -: $: not JSON"));
}

#[test]
fn explain_reports_malformed_input() {
    // The case asked for is unreadable: its error, exit 2, and no claim that it does not exist.
    let out = keyward(&["explain", &path_of(STMT), "--case", "stmt/effect-lowercase"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!(
        "error: {}: case stmt/effect-lowercase: $.policies.identity[0].Statement[1].Effect: {SYNTAX}",
        path_of(STMT)
    )));
    assert!(!err.contains("no case with id"), "{err}");
    assert!(out.stdout.is_empty());

    // A readable case in a file with broken lines is explained; the run still exits 2.
    let out = keyward(&["explain", &path_of(LINES), "--case", "lines/explicit-deny"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = stdout(&out);
    assert!(stdout.starts_with("case lines/explicit-deny\n"), "{stdout}");
    assert!(stdout.contains("decision: explicit_deny"), "{stdout}");
    assert!(stderr(&out).contains(&format!("error: {}: case #1 (line 3): $: ", path_of(LINES))));

    // A file that is not JSON at all.
    let out = keyward(&["explain", &path_of("file/prose.json")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with(&format!(
        "error: {}: $: not JSON",
        path_of("file/prose.json")
    )));
}

/// Bad arguments and paths: exit 2, nothing on standard output, and the reason on standard error.
#[test]
fn bad_arguments_exit_2() {
    let lines = path_of(LINES);
    let good = path_of("dup/a.json");
    let cases: &[(&[&str], &str)] = &[
        (
            &["eval", "--bogus", &lines],
            "unexpected argument '--bogus'",
        ),
        (
            &["eval"],
            "the following required arguments were not provided",
        ),
        (
            &["eval", "--summary"],
            "the following required arguments were not provided",
        ),
        (
            &["explain"],
            "the following required arguments were not provided",
        ),
        (
            &["explain", &lines, "--case"],
            "a value is required for '--case <ID>'",
        ),
        (
            &["explain", &good, "--case", "no/such-case"],
            r#"no case with id "no/such-case""#,
        ),
        (&["check", "--bogus"], "unexpected argument '--bogus'"),
        (
            &["check", "--fixtures", "tests/malformed/no-such-dir"],
            "tests/malformed/no-such-dir: no fixtures directory",
        ),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&[], "Usage: keyward <COMMAND>"),
        (
            &["eval", "tests/malformed/no-such-file.json"],
            "error: tests/malformed/no-such-file.json: $: no such file or directory",
        ),
        (
            &["eval", &good, "tests/malformed/no-such-file.json"],
            "error: tests/malformed/no-such-file.json: $: no such file or directory",
        ),
        (
            &["explain", "tests/malformed/no-such-file.json"],
            "error: tests/malformed/no-such-file.json: $: no such file or directory",
        ),
    ];
    let mut problems = Vec::new();
    for (args, fragment) in cases {
        let out = keyward(args);
        let stderr = stderr(&out);
        if out.status.code() != Some(2) || !out.stdout.is_empty() || !stderr.contains(fragment) {
            problems.push(format!(
                "keyward {args:?}: exit {:?} (expected 2), stdout {:?}, stderr lacks {fragment:?}:\n{stderr}",
                out.status.code(),
                stdout(&out)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
