//! The repository's request fixtures (documented, article, observed), evaluated by this crate
//! alone: decision, the policy type named, and AWS's message where the fixture gives it.

use keyward_iam::evaluate;

use crate::support::request_fixtures;

#[test]
fn every_request_fixture_gets_its_decision_by_and_message() {
    let fixtures = request_fixtures();
    assert!(
        fixtures.len() >= 400,
        "only {} request fixtures",
        fixtures.len()
    );
    let mut wrong = Vec::new();
    for f in &fixtures {
        let d = evaluate(&f.policies, &f.request);
        if (d.kind, d.by) != (f.decision, f.by) {
            wrong.push(format!(
                "{}: expected {} by {:?}, got {} by {:?}",
                f.place, f.decision, f.by, d.kind, d.by
            ));
        }
        if let Some(want) = &f.message {
            let got = d.message(&f.request, &f.policies);
            // Placeholders (an EC2 encoded message, a policy ARN not given) stand for any value.
            if !got
                .as_deref()
                .is_some_and(|got| keyward_iam::messages_agree(want, got))
            {
                wrong.push(format!(
                    "{}: expected message {want}\n  got {got:?}",
                    f.place
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
