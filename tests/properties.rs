//! Parser properties: never panics on arbitrary JSON, and parse -> serialize -> parse is the
//! identity on generated policies.

use keyward::generate::{any_json, policy, GenSettings};
use keyward_iam::{Policy, PolicyType};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_json(v in any_json()) {
        for t in PolicyType::ALL {
            let _ = Policy::parse(&v, t);
        }
        let _ = keyward::case::read_cases("arbitrary.json", &v.to_string());
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(s in "\\PC{0,64}") {
        let _ = Policy::parse_str(&s, PolicyType::Identity);
        let _ = keyward::case::read_cases("arbitrary.json", &s);
    }

    #[test]
    fn parse_serialize_parse_is_identity(
        (t, doc) in prop::sample::select(PolicyType::ALL.to_vec())
            .prop_flat_map(|t| (Just(t), policy(&GenSettings::default(), t)))
    ) {
        let p = Policy::parse(&doc, t).map_err(|e| TestCaseError::fail(format!("{e} in {doc}")))?;
        let again = Policy::parse(&p.to_json(), t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &p);
        prop_assert_eq!(again.to_json(), p.to_json());
    }
}
