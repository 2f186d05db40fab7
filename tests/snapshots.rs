//! insta snapshots (under snapshots/): `explain` output for representative fixtures and every
//! access-denied message form. Review changes with `cargo insta review`; CI never writes them.

use std::path::PathBuf;

use keyward::commands::explain::render;
use keyward::inputs::{expand, load, Loaded};

fn case(id: &str) -> keyward::case::Case {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    load(&expand(&[root]).unwrap())
        .into_iter()
        .find_map(|l| match l {
            Loaded::Case { case, .. } if case.id == id => Some(*case),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no fixture {id}"))
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn explain_outputs() {
    for (name, id) in [
        (
            "explain_bedrock_age_denied",
            "documented/bedrock/deny-create-age-age-30-denied",
        ),
        (
            "explain_bedrock_age_omitted",
            "documented/bedrock/deny-create-age-age-omitted-not-denied",
        ),
        (
            "explain_bearer_token_explicit",
            "documented/messages/identity-explicit-bearer-token",
        ),
        (
            "explain_t4_forallvalues",
            "documented/doc-tables/t18-deny-foranyvalue-key-missing",
        ),
        (
            "explain_variables_missing",
            "documented/variables/no-version-variable-is-literal",
        ),
        (
            "explain_cross_account",
            "documented/evaluation/cross-account-account-principal",
        ),
        ("explain_scp_levels", "documented/messages/scp-implicit"),
        ("explain_boundary", "documented/messages/boundary-implicit"),
    ] {
        snap!(name, render(&case(id)));
    }
}

#[test]
fn every_message_form() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/documented/messages.json");
    let mut out = String::new();
    for l in load(&expand(&[root]).unwrap()) {
        let Loaded::Case { case, .. } = l else {
            panic!("unreadable")
        };
        let v = case.verdict();
        out.push_str(&format!(
            "{} [{}{}]\n  {}\n",
            case.id,
            v.decision.as_str(),
            v.by.map(|b| format!(" by {b}")).unwrap_or_default(),
            v.message.as_deref().unwrap_or("(allow: no message)")
        ));
    }
    snap!("message_forms", out);
}
