//! Operator-family tests of the documented semantics (one module per family).

use super::*;
use crate::error::Loc;
use crate::request::{Context, ContextValue};
use serde_json::json;

fn cond(op: &str, key: &str, v: Value) -> Condition {
    Condition::compile(op.parse().unwrap(), key, &v, &Loc::Root, true).unwrap()
}

fn ctx(pairs: &[(&str, Value)]) -> Context {
    let mut c = Context::new();
    for (k, v) in pairs {
        let cv = match v {
            Value::Array(a) => ContextValue::multi(a.iter().map(|x| scalar_text(x).unwrap())),
            x => ContextValue::single(scalar_text(x).unwrap()),
        };
        c.insert(k, cv);
    }
    c
}

fn holds(op: &str, key: &str, v: Value, c: &[(&str, Value)]) -> bool {
    cond(op, key, v).eval(&ctx(c))
}

mod operators {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for b in BaseOp::ALL {
            for q in ["", "ForAllValues:", "ForAnyValue:"] {
                for s in ["", "IfExists"] {
                    let name = format!("{q}{}{s}", b.name());
                    match name.parse::<Operator>() {
                        Ok(op) => assert_eq!(op.to_string(), name),
                        Err(e) => {
                            assert!(b == BaseOp::Null && s == "IfExists", "{name}: {e}");
                            assert!(matches!(e, PolicyErrorKind::NullIfExists(_)));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_and_miscased_operators_are_rejected() {
        for s in [
            "StringEqual",
            "stringequals",
            "ForAllValue:StringEquals",
            "StringEqualsIfExist",
            "",
        ] {
            assert!(
                matches!(
                    s.parse::<Operator>(),
                    Err(PolicyErrorKind::UnknownOperator(_))
                ),
                "{s}"
            );
        }
    }
}

mod string {
    use super::*;

    #[test]
    fn equals_is_case_sensitive_on_values_not_keys() {
        let v = json!("iamuser-admin");
        assert!(holds(
            "StringEquals",
            "aws:PrincipalTag/job-category",
            v.clone(),
            &[("AWS:principaltag/JOB-CATEGORY", json!("iamuser-admin"))]
        ));
        assert!(!holds(
            "StringEquals",
            "aws:PrincipalTag/job-category",
            v.clone(),
            &[("aws:PrincipalTag/job-category", json!("IAMUSER-ADMIN"))]
        ));
        assert!(!holds(
            "StringEquals",
            "aws:PrincipalTag/job-category",
            v,
            &[]
        ));
    }

    #[test]
    fn ignore_case_and_negations() {
        assert!(holds(
            "StringEqualsIgnoreCase",
            "k",
            json!(["preprod", "storage"]),
            &[("k", json!("PreProd"))]
        ));
        assert!(!holds(
            "StringNotEqualsIgnoreCase",
            "k",
            json!(["preprod"]),
            &[("k", json!("PREPROD"))]
        ));
        assert!(holds(
            "StringNotEquals",
            "k",
            json!(["a", "b"]),
            &[("k", json!("c"))]
        ));
        assert!(!holds(
            "StringNotEquals",
            "k",
            json!(["a", "b"]),
            &[("k", json!("b"))]
        ));
        assert!(holds("StringNotEquals", "k", json!(["a"]), &[]));
    }

    #[test]
    fn like_wildcards_and_variables() {
        let v = json!(["home/", "home/${aws:username}/*"]);
        assert!(holds(
            "StringLike",
            "s3:prefix",
            v.clone(),
            &[
                ("s3:prefix", json!("home/martha/x")),
                ("aws:username", json!("martha"))
            ]
        ));
        assert!(!holds(
            "StringLike",
            "s3:prefix",
            v.clone(),
            &[
                ("s3:prefix", json!("home/nikki/x")),
                ("aws:username", json!("martha"))
            ]
        ));
        // a missing variable makes its value match nothing; the other value still can
        assert!(holds(
            "StringLike",
            "s3:prefix",
            v.clone(),
            &[("s3:prefix", json!("home/"))]
        ));
        assert!(!holds(
            "StringLike",
            "s3:prefix",
            v,
            &[("s3:prefix", json!("home/martha/x"))]
        ));
        assert!(holds(
            "StringNotLike",
            "k",
            json!("a*"),
            &[("k", json!("ba"))]
        ));
        assert!(!holds(
            "StringNotLike",
            "k",
            json!("a*"),
            &[("k", json!("ab"))]
        ));
    }

    #[test]
    fn variables_only_with_2012_version() {
        let c = Condition::compile(
            "StringEquals".parse().unwrap(),
            "k",
            &json!("${aws:username}"),
            &Loc::Root,
            false,
        )
        .unwrap();
        assert!(c.eval(&ctx(&[
            ("k", json!("${aws:username}")),
            ("aws:username", json!("x"))
        ])));
        assert!(!c.eval(&ctx(&[("k", json!("x")), ("aws:username", json!("x"))])));
    }

    #[test]
    fn numbers_and_booleans_compare_by_text() {
        assert!(holds("StringEquals", "k", json!(10), &[("k", json!("10"))]));
        assert!(holds(
            "StringEquals",
            "k",
            json!(true),
            &[("k", json!("true"))]
        ));
    }
}

mod numeric {
    use super::*;

    #[test]
    fn six_comparisons() {
        let c = |op: &str, x: i64| {
            holds(
                op,
                "iam:ServiceSpecificCredentialAgeDays",
                json!("30"),
                &[("iam:ServiceSpecificCredentialAgeDays", json!(x))],
            )
        };
        assert!(c("NumericEquals", 30) && !c("NumericEquals", 29));
        assert!(c("NumericNotEquals", 29) && !c("NumericNotEquals", 30));
        assert!(c("NumericLessThan", 29) && !c("NumericLessThan", 30));
        assert!(c("NumericLessThanEquals", 30) && !c("NumericLessThanEquals", 31));
        assert!(c("NumericGreaterThan", 31) && !c("NumericGreaterThan", 30));
        assert!(c("NumericGreaterThanEquals", 30) && !c("NumericGreaterThanEquals", 29));
    }

    #[test]
    fn missing_key_and_unparseable_values() {
        assert!(!holds("NumericGreaterThan", "k", json!(5), &[]));
        assert!(holds("NumericNotEquals", "k", json!(5), &[]));
        assert!(holds("NumericGreaterThanIfExists", "k", json!(5), &[]));
        assert!(!holds(
            "NumericGreaterThan",
            "k",
            json!("five"),
            &[("k", json!(6))]
        ));
        assert!(!holds(
            "NumericGreaterThan",
            "k",
            json!(5),
            &[("k", json!("six"))]
        ));
        assert!(holds(
            "NumericLessThanEquals",
            "k",
            json!(5.5),
            &[("k", json!("5.5"))]
        ));
    }
}

mod date {
    use super::*;

    #[test]
    fn iso_and_epoch() {
        let v = json!("2020-01-01T00:00:01Z");
        assert!(holds(
            "DateGreaterThan",
            "aws:TokenIssueTime",
            v.clone(),
            &[("aws:TokenIssueTime", json!("2020-01-01T00:00:02Z"))]
        ));
        assert!(!holds(
            "DateGreaterThan",
            "aws:TokenIssueTime",
            v.clone(),
            &[("aws:TokenIssueTime", json!("2020-01-01T00:00:01Z"))]
        ));
        assert!(holds(
            "DateGreaterThanEquals",
            "aws:TokenIssueTime",
            v.clone(),
            &[("aws:TokenIssueTime", json!(1577836801))]
        ));
        assert!(holds(
            "DateEquals",
            "t",
            json!(1577836801),
            &[("t", json!("2020-01-01T00:00:01Z"))]
        ));
        assert!(holds(
            "DateLessThan",
            "t",
            v.clone(),
            &[("t", json!("2019-12-31"))]
        ));
        assert!(holds(
            "DateLessThanEquals",
            "t",
            v.clone(),
            &[("t", json!("2020-01-01T00:00:01Z"))]
        ));
        assert!(holds(
            "DateNotEquals",
            "t",
            v.clone(),
            &[("t", json!("2020-01-02"))]
        ));
        assert!(!holds("DateLessThan", "t", v.clone(), &[]));
        assert!(holds("DateNotEquals", "t", v.clone(), &[]));
        assert!(!holds(
            "DateLessThan",
            "t",
            v,
            &[("t", json!("not a date"))]
        ));
    }
}

mod boolean_and_binary {
    use super::*;

    #[test]
    fn bool_table_t6() {
        let v = json!("false");
        assert!(holds(
            "Bool",
            "aws:SecureTransport",
            v.clone(),
            &[("aws:SecureTransport", json!(false))]
        ));
        assert!(!holds(
            "Bool",
            "aws:SecureTransport",
            v.clone(),
            &[("aws:SecureTransport", json!("true"))]
        ));
        assert!(!holds("Bool", "aws:SecureTransport", v, &[]));
        assert!(holds("Bool", "k", json!(true), &[("k", json!("true"))]));
        assert!(!holds("Bool", "k", json!("yes"), &[("k", json!("true"))]));
    }

    #[test]
    fn binary_table_t7() {
        let v = json!("QmluYXJ5VmFsdWVJbkJhc2U2NA==");
        assert!(holds(
            "BinaryEquals",
            "key",
            v.clone(),
            &[("key", json!("QmluYXJ5VmFsdWVJbkJhc2U2NA=="))]
        ));
        assert!(!holds(
            "BinaryEquals",
            "key",
            v.clone(),
            &[("key", json!("ASIAIOSFODNN7EXAMPLE"))]
        ));
        assert!(!holds("BinaryEquals", "key", v, &[]));
    }
}

mod ip_address {
    use super::*;

    #[test]
    fn table_t8_and_negation() {
        let v = json!(["203.0.113.0/24", "2001:DB8:1234:5678::/64"]);
        assert!(holds(
            "IpAddress",
            "aws:SourceIp",
            v.clone(),
            &[("aws:SourceIp", json!("203.0.113.1"))]
        ));
        assert!(holds(
            "IpAddress",
            "aws:SourceIp",
            v.clone(),
            &[("aws:SourceIp", json!("2001:db8:1234:5678::99"))]
        ));
        assert!(!holds(
            "IpAddress",
            "aws:SourceIp",
            v.clone(),
            &[("aws:SourceIp", json!("198.51.100.1"))]
        ));
        assert!(!holds("IpAddress", "aws:SourceIp", v.clone(), &[]));
        assert!(holds(
            "NotIpAddress",
            "aws:SourceIp",
            v.clone(),
            &[("aws:SourceIp", json!("198.51.100.1"))]
        ));
        assert!(holds("NotIpAddress", "aws:SourceIp", v, &[]));
    }
}

mod arn_family {
    use super::*;

    #[test]
    fn table_t9_and_like() {
        let v = json!("arn:aws:sns:us-west-2:123456789012:TOPIC-ID");
        assert!(holds(
            "ArnEquals",
            "aws:SourceArn",
            v.clone(),
            &[(
                "aws:SourceArn",
                json!("arn:aws:sns:us-west-2:123456789012:TOPIC-ID")
            )]
        ));
        assert!(!holds(
            "ArnEquals",
            "aws:SourceArn",
            v.clone(),
            &[(
                "aws:SourceArn",
                json!("arn:aws:sns:us-west-2:777788889999:TOPIC-ID")
            )]
        ));
        assert!(!holds("ArnEquals", "aws:SourceArn", v.clone(), &[]));
        assert!(holds("ArnNotEquals", "aws:SourceArn", v, &[]));
        // ArnEquals honours wildcards exactly like ArnLike
        let w = json!("arn:aws:iam::222222222222:user/*");
        assert!(holds(
            "ArnEquals",
            "aws:PrincipalArn",
            w.clone(),
            &[(
                "aws:PrincipalArn",
                json!("arn:aws:iam::222222222222:user/Mary")
            )]
        ));
        assert!(holds(
            "ArnNotLike",
            "aws:PrincipalArn",
            w,
            &[(
                "aws:PrincipalArn",
                json!("arn:aws:iam::333333333333:user/Mary")
            )]
        ));
    }

    #[test]
    fn variables_inside_arns() {
        let v = json!("arn:aws:iam::*:user/${aws:username}");
        let c = [
            ("aws:PrincipalArn", json!("arn:aws:iam::1:user/bob")),
            ("aws:username", json!("bob")),
        ];
        assert!(holds("ArnLike", "aws:PrincipalArn", v.clone(), &c));
        assert!(!holds(
            "ArnLike",
            "aws:PrincipalArn",
            v,
            &[("aws:PrincipalArn", json!("arn:aws:iam::1:user/bob"))]
        ));
    }
}

mod null_and_if_exists {
    use super::*;

    #[test]
    fn null_true_and_false() {
        assert!(holds(
            "Null",
            "iam:ServiceSpecificCredentialAgeDays",
            json!("true"),
            &[]
        ));
        assert!(!holds(
            "Null",
            "iam:ServiceSpecificCredentialAgeDays",
            json!("true"),
            &[("iam:ServiceSpecificCredentialAgeDays", json!(5))]
        ));
        assert!(holds("Null", "k", json!(false), &[("k", json!("x"))]));
        assert!(!holds("Null", "k", json!(false), &[]));
        assert!(holds("ForAllValues:Null", "k", json!("false"), &[]));
        assert!(!holds("ForAnyValue:Null", "k", json!("true"), &[]));
    }

    #[test]
    fn if_exists_table_t11() {
        let v = json!(["t1.*", "t2.*", "m3.*"]);
        assert!(holds(
            "StringLikeIfExists",
            "ec2:InstanceType",
            v.clone(),
            &[("ec2:InstanceType", json!("t1.micro"))]
        ));
        assert!(!holds(
            "StringLikeIfExists",
            "ec2:InstanceType",
            v.clone(),
            &[("ec2:InstanceType", json!("m2.micro"))]
        ));
        assert!(holds("StringLikeIfExists", "ec2:InstanceType", v, &[]));
        assert!(holds(
            "NumericGreaterThanEqualsIfExists",
            "k",
            json!(30),
            &[]
        ));
        assert!(!holds(
            "NumericGreaterThanEqualsIfExists",
            "k",
            json!(30),
            &[("k", json!(29))]
        ));
    }

    #[test]
    fn empty_policy_arrays() {
        assert!(!holds("StringEquals", "k", json!([]), &[("k", json!("a"))]));
        assert!(holds("StringEqualsIfExists", "k", json!([]), &[]));
        assert!(!holds(
            "StringEqualsIfExists",
            "k",
            json!([]),
            &[("k", json!("a"))]
        ));
        assert!(holds("ForAllValues:StringEquals", "k", json!([]), &[]));
        assert!(!holds(
            "ForAllValues:StringEquals",
            "k",
            json!([]),
            &[("k", json!(["a"]))]
        ));
        assert!(!holds(
            "ForAnyValue:StringEquals",
            "k",
            json!([]),
            &[("k", json!(["a"]))]
        ));
    }
}

mod set_qualifiers {
    use super::*;

    #[test]
    fn for_all_values_t14_t16() {
        let v = json!(["environment", "cost-center"]);
        let tk = |vals: Value| {
            holds(
                "ForAllValues:StringEquals",
                "aws:TagKeys",
                v.clone(),
                &[("aws:TagKeys", vals)],
            )
        };
        assert!(tk(json!(["environment"])));
        assert!(tk(json!(["environment", "cost-center"])));
        assert!(!tk(json!(["environment", "dept"])));
        assert!(holds("ForAllValues:StringEquals", "aws:TagKeys", v, &[]));
        let nl = |vals: Option<Value>| {
            let c: Vec<(&str, Value)> = vals.map(|v| vec![("aws:TagKeys", v)]).unwrap_or_default();
            holds(
                "ForAllValues:StringNotLike",
                "aws:TagKeys",
                json!("key1*"),
                &c,
            )
        };
        assert!(!nl(Some(json!(["key1:legal"]))));
        assert!(!nl(Some(json!(["key1:hr", "key1:personnel"]))));
        assert!(nl(Some(json!(["key2:audit"]))));
        assert!(nl(None));
    }

    #[test]
    fn for_any_value_t15_t18() {
        let v = json!(["environment", "cost-center"]);
        let tk = |vals: Value| {
            holds(
                "ForAnyValue:StringEquals",
                "aws:TagKeys",
                v.clone(),
                &[("aws:TagKeys", vals)],
            )
        };
        assert!(tk(json!(["environment", "dept"])));
        assert!(!tk(json!(["dept"])));
        assert!(!holds("ForAnyValue:StringEquals", "aws:TagKeys", v, &[]));
        // negated inner operator: at least one request value matches none of the policy values
        assert!(holds(
            "ForAnyValue:StringNotEquals",
            "k",
            json!(["a"]),
            &[("k", json!(["a", "b"]))]
        ));
        assert!(!holds(
            "ForAnyValue:StringNotEquals",
            "k",
            json!(["a"]),
            &[("k", json!(["a"]))]
        ));
    }

    #[test]
    fn plain_operator_on_multivalued_key_is_any() {
        assert!(holds(
            "StringEquals",
            "k",
            json!("b"),
            &[("k", json!(["a", "b"]))]
        ));
    }
}

mod variables_in_values {
    use super::*;

    #[test]
    fn ignore_case_with_a_variable() {
        let c = [("k", json!("ALICE")), ("aws:username", json!("alice"))];
        assert!(holds(
            "StringEqualsIgnoreCase",
            "k",
            json!("${aws:username}"),
            &c
        ));
        assert!(!holds(
            "StringEqualsIgnoreCase",
            "k",
            json!("${aws:username}x"),
            &c
        ));
        assert!(!holds(
            "StringNotEqualsIgnoreCase",
            "k",
            json!("${aws:username}"),
            &c
        ));
    }

    #[test]
    fn bool_with_a_variable() {
        let on = [
            ("aws:SecureTransport", json!("true")),
            ("aws:PrincipalTag/tls", json!("true")),
        ];
        let off = [
            ("aws:SecureTransport", json!("false")),
            ("aws:PrincipalTag/tls", json!("true")),
        ];
        assert!(holds(
            "Bool",
            "aws:SecureTransport",
            json!("${aws:PrincipalTag/tls}"),
            &on
        ));
        assert!(!holds(
            "Bool",
            "aws:SecureTransport",
            json!("${aws:PrincipalTag/tls}"),
            &off
        ));
        assert!(!holds(
            "Bool",
            "aws:SecureTransport",
            json!("${aws:PrincipalTag/none}"),
            &on
        ));
    }

    #[test]
    fn equals_with_a_variable() {
        let c = [("k", json!("alice")), ("aws:username", json!("alice"))];
        assert!(holds("StringEquals", "k", json!("${aws:username}"), &c));
        assert!(!holds("StringEquals", "k", json!("x${aws:username}"), &c));
    }

    #[test]
    fn arn_template_wildcards_stay_in_their_component() {
        let c = |arn: &str| {
            [
                ("aws:SourceArn", json!(arn)),
                ("aws:username", json!("bob")),
            ]
        };
        // the account's `*` cannot swallow a colon
        let v = json!("arn:aws:iam::*:user/${aws:username}");
        assert!(holds(
            "ArnLike",
            "aws:SourceArn",
            v.clone(),
            &c("arn:aws:iam::1:user/bob")
        ));
        assert!(!holds(
            "ArnLike",
            "aws:SourceArn",
            v,
            &c("arn:aws:iam::1:2:user/bob")
        ));
        // but the sixth component is the rest of the ARN, colons included
        let v = json!("arn:aws:logs:us-east-1:123456789012:log-group*:${aws:username}");
        assert!(holds(
            "ArnLike",
            "aws:SourceArn",
            v,
            &c("arn:aws:logs:us-east-1:123456789012:log-group:a:bob")
        ));
    }

    #[test]
    fn arn_template_keeps_colons_of_the_resource_part() {
        let v = json!("arn:aws:logs:us-east-1:123456789012:log-group:${aws:username}:*");
        let c = |arn: &str| {
            [
                ("aws:SourceArn", json!(arn)),
                ("aws:username", json!("bob")),
            ]
        };
        assert!(holds(
            "ArnLike",
            "aws:SourceArn",
            v.clone(),
            &c("arn:aws:logs:us-east-1:123456789012:log-group:bob:log-stream:x")
        ));
        assert!(!holds(
            "ArnLike",
            "aws:SourceArn",
            v.clone(),
            &c("arn:aws:logs:us-east-1:123456789012:log-group:eve:log-stream:x")
        ));
        assert!(!holds(
            "ArnLike",
            "aws:SourceArn",
            v,
            &c("arn:aws:logs:us-east-1:123456789012:log-group:bob")
        ));
    }
}
