//! What one condition's answer rests on: for each value syntax, qualifier and missing-key rule,
//! the decision of a statement allowing under that condition, and the registered assumptions
//! (docs/aws-behaviour.md) whose other reading would change it. Each row's expectation follows
//! from the documented rule, or from the assumption's own statement of its two readings.

use keyward_iam::{evaluate, ContextValue, DecisionKind, Policy, PolicySet, PolicyType, Request};
use serde_json::{json, Value};

use crate::support::ContextRow;
use DecisionKind::{Allow, ImplicitDeny};

fn allow_under(condition: Value) -> PolicySet {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
    ]});
    PolicySet {
        identity: vec![Policy::parse(&doc, PolicyType::Identity).unwrap()],
        ..PolicySet::default()
    }
}

fn request(context: &[(&str, ContextValue)]) -> Request {
    context.iter().fold(
        Request::new("arn:aws:iam::123456789012:user/alice", "s3:GetObject", "*"),
        |r, (k, v)| r.with_context(k, v.clone()),
    )
}

fn one(v: &str) -> ContextValue {
    ContextValue::single(v)
}

#[test]
fn each_condition_rests_on_what_its_readings_say() {
    let rows: Vec<(Value, ContextRow, DecisionKind, &[&str])> = vec![
        // Bool: lower-case spellings are documented; another case rests on A-BOOL-SYNTAX, on
        // either side.
        (
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            vec![("aws:SecureTransport", one("true"))],
            Allow,
            &[],
        ),
        (
            json!({"Bool": {"aws:SecureTransport": "false"}}),
            vec![("aws:SecureTransport", one("false"))],
            Allow,
            &[],
        ),
        (
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            vec![("aws:SecureTransport", one("false"))],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"Bool": {"aws:SecureTransport": true}}),
            vec![("aws:SecureTransport", one("true"))],
            Allow,
            &[],
        ),
        (
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            vec![("aws:SecureTransport", one("TRUE"))],
            Allow,
            &["A-BOOL-SYNTAX"],
        ),
        (
            json!({"Bool": {"aws:SecureTransport": "False"}}),
            vec![("aws:SecureTransport", one("false"))],
            Allow,
            &["A-BOOL-SYNTAX"],
        ),
        (
            json!({"Bool": {"aws:SecureTransport": "${aws:username}"}}),
            vec![
                ("aws:SecureTransport", one("true")),
                ("aws:username", one("true")),
            ],
            Allow,
            &[],
        ),
        // Numbers: integers and decimals are documented; other text rests on A-NUMERIC-SYNTAX,
        // whose other reading takes the longest leading number.
        (
            json!({"NumericEquals": {"s3:max-keys": "30"}}),
            vec![("s3:max-keys", one("30"))],
            Allow,
            &[],
        ),
        (
            json!({"NumericLessThan": {"s3:max-keys": "30"}}),
            vec![("s3:max-keys", one("29.5"))],
            Allow,
            &[],
        ),
        (
            json!({"NumericLessThan": {"s3:max-keys": "30"}}),
            vec![("s3:max-keys", one("31"))],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"NumericEquals": {"s3:max-keys": "30days"}}),
            vec![("s3:max-keys", one("30"))],
            ImplicitDeny,
            &["A-NUMERIC-SYNTAX"],
        ),
        (
            json!({"NumericEquals": {"s3:max-keys": "40days"}}),
            vec![("s3:max-keys", one("30"))],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"NumericEquals": {"s3:max-keys": "30"}}),
            vec![("s3:max-keys", one("3e1"))],
            ImplicitDeny,
            &["A-NUMERIC-SYNTAX"],
        ),
        // Dates: ISO 8601 and epoch seconds are documented; other text rests on A-DATE-SYNTAX.
        (
            json!({"DateLessThan": {"aws:CurrentTime": "2021-01-01T00:00:00Z"}}),
            vec![("aws:CurrentTime", one("2020-06-01"))],
            Allow,
            &[],
        ),
        (
            json!({"DateEquals": {"aws:CurrentTime": "yesterday"}}),
            vec![("aws:CurrentTime", one("2020-01-01T00:00:00Z"))],
            ImplicitDeny,
            &["A-DATE-SYNTAX"],
        ),
        (
            json!({"DateLessThan": {"aws:CurrentTime": "2021-01-01"}}),
            vec![("aws:CurrentTime", one("last year"))],
            ImplicitDeny,
            &["A-DATE-SYNTAX"],
        ),
        // Binary: base64 is documented; other text rests on A-BINARY-BASE64, whose other
        // reading compares it as text.
        (
            json!({"BinaryEquals": {"k:bin": "QUJD"}}),
            vec![("k:bin", one("QUJD"))],
            Allow,
            &[],
        ),
        (
            json!({"BinaryEquals": {"k:bin": "QUJD"}}),
            vec![("k:bin", one("QUJE"))],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"BinaryEquals": {"k:bin": "%%%"}}),
            vec![("k:bin", one("QUJD"))],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"BinaryEquals": {"k:bin": "%%%"}}),
            vec![("k:bin", one("%%%"))],
            ImplicitDeny,
            &["A-BINARY-BASE64"],
        ),
        // Empty value lists: A-EMPTY-VALUE-LIST; a non-matching value is documented.
        (
            json!({"StringEquals": {"aws:username": []}}),
            vec![("aws:username", one("alice"))],
            ImplicitDeny,
            &["A-EMPTY-VALUE-LIST"],
        ),
        (
            json!({"StringNotEquals": {"aws:username": []}}),
            vec![("aws:username", one("alice"))],
            Allow,
            &["A-EMPTY-VALUE-LIST"],
        ),
        (
            json!({"StringEquals": {"aws:username": "bob"}}),
            vec![("aws:username", one("alice"))],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"StringNotEquals": {"aws:username": "bob"}}),
            vec![("aws:username", one("alice"))],
            Allow,
            &[],
        ),
        // Addresses: a block in the request rests on A-CIDR-IN-REQUEST.
        (
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            vec![("aws:SourceIp", one("10.1.2.3"))],
            Allow,
            &[],
        ),
        (
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            vec![("aws:SourceIp", one("10.1.0.0/16"))],
            Allow,
            &["A-CIDR-IN-REQUEST"],
        ),
        (
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            vec![("aws:SourceIp", one("11.0.0.1"))],
            ImplicitDeny,
            &[],
        ),
        // Null with a set qualifier: A-NULL-SET-QUALIFIER; plain Null is documented.
        (
            json!({"ForAllValues:Null": {"aws:TagKeys": "false"}}),
            vec![],
            Allow,
            &["A-NULL-SET-QUALIFIER"],
        ),
        (
            json!({"ForAnyValue:Null": {"aws:TagKeys": "true"}}),
            vec![],
            ImplicitDeny,
            &["A-NULL-SET-QUALIFIER"],
        ),
        (json!({"Null": {"aws:TagKeys": "true"}}), vec![], Allow, &[]),
        (
            json!({"Null": {"aws:TagKeys": "false"}}),
            vec![("aws:TagKeys", ContextValue::multi(["a"]))],
            Allow,
            &[],
        ),
        // Missing keys: the documented rules, and IfExists with a qualifier
        // (A-SET-IFEXISTS-MISSING).
        (
            json!({"StringEquals": {"aws:username": "alice"}}),
            vec![],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"StringNotEquals": {"aws:username": "alice"}}),
            vec![],
            Allow,
            &[],
        ),
        (
            json!({"StringEqualsIfExists": {"aws:username": "alice"}}),
            vec![],
            Allow,
            &[],
        ),
        (
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}),
            vec![],
            Allow,
            &[],
        ),
        (
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
            vec![],
            ImplicitDeny,
            &[],
        ),
        (
            json!({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "a"}}),
            vec![],
            Allow,
            &["A-SET-IFEXISTS-MISSING"],
        ),
        // Several values: qualifiers are documented; a plain operator rests on A-PLAIN-MULTI.
        (
            json!({"StringEquals": {"aws:TagKeys": "a"}}),
            vec![("aws:TagKeys", ContextValue::multi(["a", "b"]))],
            Allow,
            &["A-PLAIN-MULTI"],
        ),
        (
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
            vec![("aws:TagKeys", ContextValue::multi(["a", "b"]))],
            Allow,
            &[],
        ),
        (
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}),
            vec![("aws:TagKeys", ContextValue::multi(["a", "b"]))],
            ImplicitDeny,
            &[],
        ),
        // ARNs: a short pattern rests on A-ARN-SHORT-PATTERN; a negated operator given text
        // that is not an ARN, on A-NEGATED-UNPARSEABLE.
        (
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
            vec![("aws:SourceArn", one("arn:aws:s3:::b"))],
            Allow,
            &[],
        ),
        (
            json!({"ArnLike": {"aws:SourceArn": "*"}}),
            vec![("aws:SourceArn", one("arn:aws:s3:::b"))],
            Allow,
            &["A-ARN-SHORT-PATTERN"],
        ),
        (
            json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}),
            vec![("aws:SourceArn", one("not-an-arn"))],
            Allow,
            &["A-NEGATED-UNPARSEABLE"],
        ),
        (
            json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}),
            vec![("aws:SourceArn", one("arn:aws"))],
            Allow,
            &["A-NEGATED-UNPARSEABLE"],
        ),
        (
            json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::b"}}),
            vec![("aws:SourceArn", one("x:aws:s3:r:a:b"))],
            Allow,
            &["A-NEGATED-UNPARSEABLE"],
        ),
        (
            json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}),
            vec![("aws:SourceArn", one("arn:aws:s3:::c"))],
            Allow,
            &[],
        ),
        // Variables are substituted in String, ARN and Bool operators only: in a Date operator
        // `${...}` is text, which is not a date (A-DATE-SYNTAX).
        (
            json!({"DateEquals": {"aws:CurrentTime": "${aws:EpochTime}"}}),
            vec![
                ("aws:CurrentTime", one("2020-01-01T00:00:00Z")),
                ("aws:EpochTime", one("1577836800")),
            ],
            ImplicitDeny,
            &["A-DATE-SYNTAX"],
        ),
        // Variables: substituted text is literal (A-VAR-LITERAL).
        (
            json!({"StringLike": {"s3:prefix": "${aws:username}"}}),
            vec![("s3:prefix", one("alice")), ("aws:username", one("al*"))],
            ImplicitDeny,
            &["A-VAR-LITERAL"],
        ),
        (
            json!({"StringLike": {"s3:prefix": "${aws:username}/*"}}),
            vec![
                ("s3:prefix", one("alice/x")),
                ("aws:username", one("alice")),
            ],
            Allow,
            &[],
        ),
    ];
    let mut wrong = Vec::new();
    for (condition, context, kind, ids) in &rows {
        let d = evaluate(&allow_under(condition.clone()), &request(context));
        let got: Vec<&str> = d.assumptions().iter().map(|a| a.as_str()).collect();
        if (d.kind, got.as_slice()) != (*kind, *ids) {
            wrong.push(format!(
                "{condition} with {context:?}: expected {kind} resting on {ids:?}, got {} resting on {got:?}",
                d.kind
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Two assumptions met, neither deciding alone nor together: an unconditional Allow decides.
#[test]
fn assumptions_that_decide_nothing_even_together_are_not_listed() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "a"}, "Bool": {"aws:SecureTransport": "TRUE"}}},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    ]});
    let set = PolicySet {
        identity: vec![Policy::parse(&doc, PolicyType::Identity).unwrap()],
        ..PolicySet::default()
    };
    let d = evaluate(&set, &request(&[("aws:SecureTransport", one("true"))]));
    assert_eq!(d.kind, Allow);
    assert!(d.assumptions().is_empty(), "{:?}", d.assumptions());
}
