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

#[test]
fn every_operator_family_has_match_no_match_and_missing_key_cases() {
    use keyward_iam::Family;
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
        let (mut holds, mut fails, mut missing) = (false, false, false);
        for (_, c) in &all {
            let Some(req) = c.request() else { continue };
            for e in c.policies.all() {
                for s in e.policy.statements() {
                    for cond in s
                        .conditions()
                        .iter()
                        .filter(|x| x.operator().base().family() == fam)
                    {
                        let absent = req.context.get(cond.key()).is_none();
                        missing |= absent;
                        if cond.eval(&req.context) {
                            holds = true;
                        } else {
                            fails = true;
                        }
                    }
                }
            }
        }
        assert!(
            holds && fails && missing,
            "{fam:?}: holds {holds}, fails {fails}, missing-key {missing}"
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
                    let word: String = id[2..]
                        .chars()
                        .take_while(char::is_ascii_uppercase)
                        .collect();
                    if word.len() >= 3 {
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
    let ids: std::collections::HashSet<String> =
        fixtures().into_iter().map(|(_, c)| c.id).collect();
    for a in keyward_bedrock::ASSUMPTIONS {
        for f in a.fixtures {
            assert!(
                ids.contains(*f),
                "assumption {} names fixture {f}, which does not exist",
                a.id
            );
        }
    }
}
