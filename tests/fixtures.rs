//! Every fixture shipped in the repo: readable, with provenance and source, and agreeing with the
//! local evaluator.

use keyward::case::Provenance;

use crate::support::{fixtures, root};

#[test]
fn every_fixture_has_source_provenance_and_expectation() {
    for (file, c) in fixtures() {
        let p = c
            .provenance
            .unwrap_or_else(|| panic!("{file}: {}: no provenance", c.id));
        let src = c
            .source
            .as_deref()
            .unwrap_or_else(|| panic!("{file}: {}: no source", c.id));
        assert!(c.expect.is_some(), "{file}: {}: no expect", c.id);
        assert_ne!(
            p,
            Provenance::Generated,
            "{file}: {}: generated cases are not fixtures",
            c.id
        );
        if p == Provenance::Documented {
            assert!(
                ["https://docs.aws.amazon.com/", "https://aws.amazon.com/", "https://github.com/aws-samples/"]
                    .iter()
                    .any(|p| src.starts_with(p)),
                "{file}: {}: a documented case cites AWS's documentation or official samples, found {src}",
                c.id
            );
            assert!(
                file.contains("fixtures/documented/"),
                "{file}: {}: documented case outside fixtures/documented",
                c.id
            );
        }
        if p == Provenance::Observed {
            assert!(
                src.starts_with("https://github.com/"),
                "{file}: {}: an observed case cites the public report's URL, found {src}",
                c.id
            );
            assert!(
                c.note.as_deref().is_some_and(|n| n.len() > 40),
                "{file}: {}: an observed case quotes AWS's answer in its note",
                c.id
            );
            assert!(
                file.contains("fixtures/observed/"),
                "{file}: {}: observed case outside fixtures/observed",
                c.id
            );
        }
    }
}

/// The answers public reports show, as fixtures: they exist, and they agree with the model (a
/// disagreement would fail `documented_fixtures_are_numerous_and_agree` too; this names them).
#[test]
fn observed_fixtures_agree_with_the_model() {
    let observed: Vec<_> = fixtures()
        .into_iter()
        .filter(|(_, c)| c.provenance == Some(Provenance::Observed))
        .collect();
    assert!(
        observed.len() >= 5,
        "only {} observed cases",
        observed.len()
    );
    for (file, c) in &observed {
        let v = c.verdict();
        assert_eq!(
            v.agrees,
            Some(true),
            "{file}: {}: {:?} against {:?}",
            c.id,
            v.outcome,
            c.expect
        );
    }
}

#[test]
fn documented_fixtures_are_numerous_and_agree() {
    let all = fixtures();
    let documented: Vec<_> = all
        .iter()
        .filter(|(_, c)| c.provenance == Some(Provenance::Documented))
        .collect();
    assert!(
        documented.len() >= 200,
        "only {} documented cases",
        documented.len()
    );
    let disagreeing: Vec<String> = all
        .iter()
        .filter(|(_, c)| c.verdict().agrees != Some(true))
        .map(|(f, c)| format!("{f}: {}", c.id))
        .collect();
    assert!(
        disagreeing.is_empty(),
        "disagreeing fixtures:\n{}",
        disagreeing.join("\n")
    );
}

/// How a documentation table's result column reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// "Match": the condition block holds (docs/aws-behaviour.md §4.9: "Match means the
    /// condition block holds, so a Deny statement denies").
    Match,
    /// "No match": the condition block does not hold.
    NoMatch,
    /// T4 only: the page prints the outcome of its Deny statement, not the condition
    /// (docs/aws-behaviour.md §4.9, "Reading T4"): a printed "Match" is "not denied", so the
    /// condition does not hold.
    PrintedMatchMeaningNotDenied,
    /// T4 only: a printed "No match" is "denied", so the condition holds.
    PrintedNoMatchMeaningDenied,
}

impl Column {
    /// Whether the row says the condition block holds.
    fn holds(self) -> bool {
        matches!(self, Column::Match | Column::PrintedNoMatchMeaningDenied)
    }
}

use Column::{Match, NoMatch, PrintedMatchMeaningNotDenied, PrintedNoMatchMeaningDenied};

/// The rows of the documentation tables that print a result, transcribed from the AWS pages the
/// fixtures cite (as docs/aws-behaviour.md §4.9 copies them, tables T1 to T18): the fixture of
/// fixtures/documented/doc-tables.json that stages the row, the row's result column, and the
/// condition keys the row's request context lacks ("absent" in the table). Rows the pages print
/// no result for (T2 rows 1 and 2, which give the effective values; T5, which has no table) and
/// T10 row 3 (which contradicts the page's own rules, §4.9) are not here.
const DOC_TABLE_ROWS: &[(&str, Column, &[&str])] = &[
    ("t1-stringequals-match", Match, &[]),
    ("t1-stringequals-other-value", NoMatch, &[]),
    (
        "t1-stringequals-key-missing",
        NoMatch,
        &["aws:PrincipalTag/job-category"],
    ),
    (
        "t2-stringlike-variable-username-missing",
        NoMatch,
        &["aws:username"],
    ),
    ("t3-row1-preprod", Match, &[]),
    ("t3-row2-preprod-mixed-case", Match, &[]),
    ("t3-row3-tagkey-wrong-case", NoMatch, &[]),
    ("t3-row4-other-tagkey", NoMatch, &[]),
    ("t3-row5-tagkeys-missing", NoMatch, &["aws:TagKeys"]),
    (
        "t3-row6-requesttag-missing",
        NoMatch,
        &["aws:RequestTag/environment"],
    ),
    (
        "t3-row7-both-missing",
        NoMatch,
        &["aws:TagKeys", "aws:RequestTag/environment"],
    ),
    (
        "t4-forallvalues-stringnotlike-row1-sportsou",
        PrintedMatchMeaningNotDenied,
        &[],
    ),
    (
        "t4-forallvalues-stringnotlike-row2-mediaou-subpath",
        PrintedNoMatchMeaningDenied,
        &[],
    ),
    (
        "t4-forallvalues-stringnotlike-row3-key-missing",
        PrintedNoMatchMeaningDenied,
        &["aws:ResourceOrgPaths"],
    ),
    ("t6-bool-securetransport-false", Match, &[]),
    ("t6-bool-securetransport-true", NoMatch, &[]),
    (
        "t6-bool-securetransport-key-missing",
        NoMatch,
        &["aws:SecureTransport"],
    ),
    ("t7-binaryequals-match", Match, &[]),
    ("t7-binaryequals-other-value", NoMatch, &[]),
    ("t7-binaryequals-key-missing", NoMatch, &["key"]),
    ("t8-ipaddress-in-range", Match, &[]),
    ("t8-ipaddress-out-of-range", NoMatch, &[]),
    ("t9-arnequals-match", Match, &[]),
    ("t9-arnequals-other-account", NoMatch, &[]),
    ("t9-arnequals-key-missing", NoMatch, &["aws:SourceArn"]),
    ("t10-forallvalues-arnlike-row1-one-arn", Match, &[]),
    ("t10-forallvalues-arnlike-row2-two-arns", Match, &[]),
    ("t10-forallvalues-arnlike-row4-other-account", NoMatch, &[]),
    (
        "t10-forallvalues-arnlike-row5-key-missing",
        Match,
        &["logs:LogGeneratingResourceArns"],
    ),
    ("t11-stringlikeifexists-t1-micro", Match, &[]),
    ("t11-stringlikeifexists-m2-micro", NoMatch, &[]),
    (
        "t11-stringlikeifexists-key-missing",
        Match,
        &["ec2:InstanceType"],
    ),
    (
        "t12-multiple-keys-and-operators-row1-legal-audit-mary",
        Match,
        &[],
    ),
    (
        "t12-multiple-keys-and-operators-row2-principal-nikki",
        NoMatch,
        &[],
    ),
    (
        "t12-multiple-keys-and-operators-row3-role-payroll",
        NoMatch,
        &[],
    ),
    (
        "t12-multiple-keys-and-operators-row4-role-missing",
        NoMatch,
        &["aws:PrincipalTag/role"],
    ),
    (
        "t12-multiple-keys-and-operators-row5-no-principal-tags",
        NoMatch,
        &["aws:PrincipalTag/department", "aws:PrincipalTag/role"],
    ),
    ("t13-negated-nor-row1-legal-audit-nikki", Match, &[]),
    ("t13-negated-nor-row2-principal-mary", NoMatch, &[]),
    ("t13-negated-nor-row3-role-payroll", NoMatch, &[]),
    (
        "t13-negated-nor-row4-role-missing",
        NoMatch,
        &["aws:PrincipalTag/role"],
    ),
    (
        "t13-negated-nor-row5-no-principal-tags",
        NoMatch,
        &["aws:PrincipalTag/department", "aws:PrincipalTag/role"],
    ),
    ("t14-forallvalues-with-null-environment", Match, &[]),
    ("t14-forallvalues-with-null-cost-center", Match, &[]),
    ("t14-forallvalues-with-null-both", Match, &[]),
    ("t14-forallvalues-with-null-extra-key", NoMatch, &[]),
    (
        "t14-forallvalues-with-null-key-missing",
        NoMatch,
        &["aws:TagKeys"],
    ),
    ("t15-foranyvalue-environment", Match, &[]),
    ("t15-foranyvalue-cost-center", Match, &[]),
    ("t15-foranyvalue-both", Match, &[]),
    ("t15-foranyvalue-one-of-two", Match, &[]),
    ("t15-foranyvalue-none-listed", NoMatch, &[]),
    ("t15-foranyvalue-key-missing", NoMatch, &["aws:TagKeys"]),
    (
        "t16-deny-forallvalues-notlike-one-value-key1-legal",
        NoMatch,
        &[],
    ),
    (
        "t16-deny-forallvalues-notlike-one-value-key1-two-values",
        NoMatch,
        &[],
    ),
    (
        "t16-deny-forallvalues-notlike-one-value-key2-audit",
        Match,
        &[],
    ),
    (
        "t16-deny-forallvalues-notlike-one-value-key-missing",
        Match,
        &["aws:TagKeys"],
    ),
    (
        "t17-deny-forallvalues-notlike-two-values-key1-legal",
        NoMatch,
        &[],
    ),
    (
        "t17-deny-forallvalues-notlike-two-values-key1-two-values",
        NoMatch,
        &[],
    ),
    (
        "t17-deny-forallvalues-notlike-two-values-key1-and-key2",
        NoMatch,
        &[],
    ),
    (
        "t17-deny-forallvalues-notlike-two-values-key3-legal",
        Match,
        &[],
    ),
    (
        "t17-deny-forallvalues-notlike-two-values-key-missing",
        Match,
        &["aws:TagKeys"],
    ),
    ("t18-deny-foranyvalue-webserver", Match, &[]),
    ("t18-deny-foranyvalue-three-keys", Match, &[]),
    ("t18-deny-foranyvalue-no-webserver", NoMatch, &[]),
    (
        "t18-deny-foranyvalue-key-missing",
        NoMatch,
        &["aws:TagKeys"],
    ),
];

/// Each documentation table row, as the page prints it, against the evaluator: the condition
/// block of the row's fixture (its one statement with a `Condition`, whose operators are AND-ed)
/// holds exactly when the table says so. The table, not the evaluator, decides what is right.
#[test]
fn documented_table_rows_agree_with_the_evaluator() {
    let all = fixtures();
    let mut wrong = Vec::new();
    for (row, column, absent) in DOC_TABLE_ROWS {
        let id = format!("documented/doc-tables/{row}");
        let (_, c) = all
            .iter()
            .find(|(_, c)| c.id == id)
            .unwrap_or_else(|| panic!("no fixture {id} for a table row"));
        let req = c.request().unwrap_or_else(|| panic!("{id}: not a request"));
        for key in *absent {
            assert!(
                req.context.get(key).is_none(),
                "{id}: the table row has no {key}, the fixture's context has one"
            );
        }
        let blocks: Vec<_> = c
            .policies
            .all()
            .into_iter()
            .flat_map(|e| e.policy.statements().to_vec())
            .filter(|s| !s.conditions().is_empty())
            .collect();
        assert_eq!(
            blocks.len(),
            1,
            "{id}: one statement carries the table's condition"
        );
        let holds = blocks[0].conditions().iter().all(|x| x.eval(&req.context));
        if holds != column.holds() {
            wrong.push(format!(
                "{id}: the table prints {column:?}, the evaluator says the block holds: {holds}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every operator family is exercised by documented fixtures expected to allow, by ones expected
/// to deny, and by ones whose request lacks the condition's key. Read from the fixtures' own
/// expectations and request contexts, never from the evaluator (whether each fixture's
/// expectation is met is `documented_fixtures_are_numerous_and_agree`'s question).
#[test]
fn every_operator_family_is_in_allowed_denied_and_missing_key_fixtures() {
    use keyward_iam::{DecisionKind, Family};
    let all = fixtures();
    for fam in [
        Family::String,
        Family::Numeric,
        Family::Date,
        Family::Bool,
        Family::Binary,
        Family::Ip,
        Family::Arn,
        Family::Null,
    ] {
        let (mut allowed, mut denied, mut missing) = (false, false, false);
        for (_, c) in all
            .iter()
            .filter(|(_, c)| c.provenance == Some(Provenance::Documented))
        {
            let (Some(req), Some(decision)) =
                (c.request(), c.expect.as_ref().and_then(|e| e.decision))
            else {
                continue;
            };
            for e in c.policies.all() {
                for s in e.policy.statements() {
                    for cond in s
                        .conditions()
                        .iter()
                        .filter(|x| x.operator().base().family() == fam)
                    {
                        missing |= req.context.get(cond.key()).is_none();
                        allowed |= decision == DecisionKind::Allow;
                        denied |= decision != DecisionKind::Allow;
                    }
                }
            }
        }
        assert!(
            allowed && denied && missing,
            "{fam:?}: expected to allow {allowed}, to deny {denied}, missing key {missing}"
        );
    }
}

#[test]
fn cases_round_trip_through_the_format() {
    for (file, c) in fixtures() {
        let text = c.to_pretty_string();
        let back = keyward::case::read_cases("roundtrip.json", &text)
            .unwrap()
            .remove(0)
            .unwrap();
        assert_eq!(back.to_json(), c.to_json(), "{file}: {}", c.id);
        assert_eq!(back.policies, c.policies, "{file}: {}", c.id);
        assert_eq!(back.request(), c.request(), "{file}: {}", c.id);
        assert_eq!(back.verdict(), c.verdict(), "{file}: {}", c.id);
        assert_eq!(back.expect, c.expect, "{file}: {}", c.id);
    }
}

/// Every assumption id cited in the code is registered (A- ids in keyward-iam, B- ids in
/// keyward-bedrock), every registered one is cited, the README lists them all, and every fixture a
/// Bedrock assumption names exists.
#[test]
fn assumptions_are_registered_cited_and_documented() {
    let root = root();
    let registered: Vec<&str> = keyward_iam::ASSUMPTIONS
        .iter()
        .map(|a| a.id)
        .chain(keyward_bedrock::ASSUMPTIONS.iter().map(|a| a.id))
        .collect();
    let mut cited = std::collections::BTreeSet::new();
    let mut stack = vec![root.join("harness")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("assumptions.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let bytes = text.as_bytes();
                for (i, _) in text.match_indices(['A', 'B']) {
                    let starts_word =
                        i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-');
                    if !starts_word || bytes.get(i + 1) != Some(&b'-') {
                        continue;
                    }
                    let id: String = text[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-')
                        .collect();
                    let id = id.trim_end_matches('-').to_string();
                    if id.len() < 3 {
                        // "B-" alone names the family, not an assumption.
                        continue;
                    }
                    // The first word after the family: letters, then digits (as in EC2).
                    let word: String = id[2..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                        .collect();
                    if word.len() >= 3 && word.starts_with(|c: char| c.is_ascii_uppercase()) {
                        let found = keyward_iam::Assumption::find(&id)
                            .map(|a| a.id)
                            .or_else(|| keyward_bedrock::Assumption::find(&id).map(|a| a.id));
                        assert_eq!(
                            found,
                            Some(id.as_str()),
                            "{}: cites unregistered assumption {id}",
                            p.display()
                        );
                        cited.insert(id);
                    }
                }
            }
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for id in &registered {
        assert!(
            cited.contains(*id),
            "assumption {id} is registered but no code cites it"
        );
        assert!(readme.contains(id), "README does not list assumption {id}");
    }
}
