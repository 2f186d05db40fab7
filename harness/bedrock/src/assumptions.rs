//! Every behaviour of Bedrock API keys that docs/aws-behaviour.md marks [INF] or lists as an open
//! question, as a named assumption: id, what keyward does, and why. Which outcomes rest on one is
//! computed ([`crate::ScenarioResult::assumptions`]), and a fixture names those it rests on in its
//! own `expect.assumptions`. A live run (`keyward record --probe-assumptions`) is meant to
//! confirm or refute each one; the code cites the id where it makes the choice.

/// One assumed behaviour of Bedrock API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Assumption {
    /// A stable id, `B-…`, which code, fixtures and live probes cite.
    pub id: &'static str,
    /// What keyward assumes AWS does.
    pub statement: &'static str,
    /// Why: what is documented or observed, and what is open.
    pub basis: &'static str,
}

/// Every assumption, in no particular order; ids are unique.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: "B-AGEDAYS-ABSENT",
        statement: "A key created without CredentialAgeDays (never expires) has no iam:ServiceSpecificCredentialAgeDays in the request context.",
        basis: "docs/aws-behaviour.md §2.3 [INF], open question 1; so NumericGreaterThan guards do not stop never-expiring keys.",
    },
    Assumption {
        id: "B-BEARER-TYPE-ONLY-FIRST",
        statement: "bedrock:BearerTokenType is in the context of the CallWithBearerToken request only, not of the model action.",
        basis: "The Service Authorization Reference lists the key on CallWithBearerToken only; open question 9.",
    },
    Assumption {
        id: "B-CALL-ORDER",
        statement: "A call authorizes CallWithBearerToken first, then the model action on the inference profile, then on the foundation model; the first denial is what the caller sees.",
        basis: "docs/aws-behaviour.md §2.1 [INF, supported by OBS]: both must pass; the order is not documented.",
    },
    Assumption {
        id: "B-CRIS-DESTINATIONS",
        statement: "A call through a system inference profile whose case gives no destinations can be routed to us-east-1, us-east-2 and us-west-2 for a us. profile, and to the call's Region alone for any other geography.",
        basis: "The Bedrock User Guide lists each profile's destination Regions, which vary by model and source Region; us-east-1, us-east-2 and us-west-2 is the US list its IAM example and its Claude 3 Haiku note give (docs/aws-behaviour.md §2.4). keyward carries no list for the other geographies; a case states a profile's exact list with `destinations`.",
    },
    Assumption {
        id: "B-DENY-STATUS-403",
        statement: "An authorization denial on the bearer path answers HTTP 403 with the body {\"Message\": <access-denied message>}.",
        basis: "Observed by the article for CallWithBearerToken on bedrock-runtime Converse; docs/aws-behaviour.md §3.3 [OBS] for InvokeModel; open question 8 (401 was seen on bedrock-runtime's OpenAI-compatible path). Kept for bedrock-mantle too: no citable report shows a mantle denial's status and body.",
    },
    Assumption {
        id: "B-AUTH-FAILED-MESSAGE",
        statement: "On bedrock-runtime, a short-term key used in another region, an inactive long-term key and a key with the right prefix that does not parse all answer 403 {\"Message\":\"Authentication failed: Please make sure your API Key is valid.\"}; a value without a known prefix, an empty one, and one with a wrong or padded prefix answer the \"Invalid API Key format\" message.",
        basis: "docs/aws-behaviour.md §8 [OBS] for wrong-region keys (earendil-works/pi#3481, ai4s-research/open-science#53) and values without a known prefix; inactive and malformed keys, and empty, padded or wrong-prefix values, are open question 8.",
    },
    Assumption {
        id: "B-EXPIRED-MESSAGE",
        statement: "On bedrock-runtime, an expired key, short-term or long-term, answers 403 {\"Message\":\"Bearer Token has expired\"}; expiry is judged before the key's region and status.",
        basis: "docs/aws-behaviour.md §8 [OBS]: two public reports show it with 403 (a gateway's page relaying the raw body for a lapsed long-term key; a Java SDK run report that does not name the key's kind); that short-term keys answer the same, and the order against the other checks, are open question 8.",
    },
    Assumption {
        id: "B-MANTLE-AUTH-401",
        statement: "On bedrock-mantle, every key it does not accept (no key, a malformed value, an expired or wrong-region short-term key, an inactive or expired long-term key) answers 401 with its invalid_api_key body, before any authorization.",
        basis: "Observed for a bearer value without a known prefix (NousResearch/hermes-agent#87190, docs/aws-behaviour.md §8); the other kinds of key are extrapolated from it.",
    },
    Assumption {
        id: "B-MANTLE-ENVELOPE",
        statement: "bedrock-mantle's body for a refused key is {\"error\":{\"code\":\"invalid_api_key\",\"message\":\"Invalid bearer token\"}}: the members the public report shows, and no others.",
        basis: "NousResearch/hermes-agent#87190 shows error.code and error.message and elides the rest (\"...\"); what it elides is not modelled, so no fixture compares the body.",
    },
    Assumption {
        id: "B-MANTLE-ONE-REQUEST",
        statement: "Through bedrock-mantle only bedrock-mantle:CallWithBearerToken is authorized; mantle's model-level actions are not modelled, and bedrock: statements do not apply there.",
        basis: "The Bedrock docs say blocking keys completely needs both namespaces denied; mantle's other actions are out of scope; open question 10. Reports of a model-level denial (401 access_denied for bedrock-mantle:CreateInference on project/default) were found in no citable raw paste, so it is not modelled.",
    },
    Assumption {
        id: "B-IAM-RESOURCE-FORM",
        statement: "IAM's access-denied message names the target user as `user NAME`, not by ARN.",
        basis: "docs/aws-behaviour.md §3.2 [OBS/INF], open question 5.",
    },
    Assumption {
        id: "B-IAM-REGION",
        statement: "IAM requests carry aws:RequestedRegion us-east-1.",
        basis: "IAM is a global service whose endpoint is in us-east-1; not stated for this action.",
    },
    Assumption {
        id: "B-CREATE-ORDER",
        statement: "CreateServiceSpecificCredential checks parameter constraints, then authorization, then that the user exists, the service is supported and the limit of two.",
        basis: "The usual AWS order (constraints before authorization); undocumented for this action.",
    },
    Assumption {
        id: "B-CONSOLE-STEPS",
        statement: "The console's long-term-key flow authorizes iam:CreateUser and iam:AttachUserPolicy (AmazonBedrockLimitedAccess) as the caller before creating the key, and does not undo them when the key is denied.",
        basis: "docs/aws-behaviour.md §1.6 [DOC] for the steps; the article observed the leftover user.",
    },
    Assumption {
        id: "B-AGE-VALIDATION-MESSAGE",
        statement: "CredentialAgeDays outside 1..36600 is a ValidationError (400) with AWS's generic constraint text.",
        basis: "The range is documented; the exact text is open question 2.",
    },
    Assumption {
        id: "B-NOT-SUPPORTED-MESSAGE",
        statement: "An unsupported service name is NotSupportedService (404) with the service model's description as message.",
        basis: "docs/aws-behaviour.md §1.5: code and status from the model; live text unconfirmed (open question 4).",
    },
    Assumption {
        id: "B-LIMIT-MESSAGE",
        statement: "A third credential for a user and service is LimitExceeded (409) \"Cannot exceed quota for ServiceSpecificCredentialsPerUser: 2\"; inactive and expired ones count.",
        basis: "docs/aws-behaviour.md §1.5 [INF], modelled on the access-key quota text; open question 3.",
    },
    Assumption {
        id: "B-CRIS-REQUESTED-REGION",
        statement: "The foundation-model request a system inference profile makes in a destination Region carries that Region as aws:RequestedRegion.",
        basis: "The Bedrock User Guide says an SCP blocking any destination Region fails the request and asks for the destination Regions in SCPs and IAM policies (docs/aws-behaviour.md §2.4), and public reports show SCP denials naming the destination's foundation-model ARN; no page states the key's value.",
    },
];

/// The assumptions that fix only the words of what the caller reads (the message and the body
/// carrying it), not the decision, status, code or side effects: an expectation that gives no
/// message and no body does not rest on them.
pub const WORDING_ONLY: &[&str] = &["B-IAM-RESOURCE-FORM", "B-MANTLE-ENVELOPE"];

/// The ids a scenario's result can name ([`crate::ScenarioResult::assumptions`]); each is
/// registered above (a test checks it).
pub(crate) mod ids {
    pub(crate) const AGEDAYS_ABSENT: &str = "B-AGEDAYS-ABSENT";
    pub(crate) const BEARER_TYPE_ONLY_FIRST: &str = "B-BEARER-TYPE-ONLY-FIRST";
    pub(crate) const CALL_ORDER: &str = "B-CALL-ORDER";
    pub(crate) const CRIS_DESTINATIONS: &str = "B-CRIS-DESTINATIONS";
    pub(crate) const CRIS_REQUESTED_REGION: &str = "B-CRIS-REQUESTED-REGION";
    pub(crate) const DENY_STATUS_403: &str = "B-DENY-STATUS-403";
    pub(crate) const AUTH_FAILED_MESSAGE: &str = "B-AUTH-FAILED-MESSAGE";
    pub(crate) const EXPIRED_MESSAGE: &str = "B-EXPIRED-MESSAGE";
    pub(crate) const MANTLE_AUTH_401: &str = "B-MANTLE-AUTH-401";
    pub(crate) const MANTLE_ENVELOPE: &str = "B-MANTLE-ENVELOPE";
    pub(crate) const MANTLE_ONE_REQUEST: &str = "B-MANTLE-ONE-REQUEST";
    pub(crate) const IAM_RESOURCE_FORM: &str = "B-IAM-RESOURCE-FORM";
    pub(crate) const IAM_REGION: &str = "B-IAM-REGION";
    pub(crate) const CREATE_ORDER: &str = "B-CREATE-ORDER";
    pub(crate) const CONSOLE_STEPS: &str = "B-CONSOLE-STEPS";
    pub(crate) const AGE_VALIDATION_MESSAGE: &str = "B-AGE-VALIDATION-MESSAGE";
    pub(crate) const NOT_SUPPORTED_MESSAGE: &str = "B-NOT-SUPPORTED-MESSAGE";
    pub(crate) const LIMIT_MESSAGE: &str = "B-LIMIT-MESSAGE";

    #[cfg(test)]
    pub(crate) const ALL: [&str; 18] = [
        AGEDAYS_ABSENT,
        BEARER_TYPE_ONLY_FIRST,
        CALL_ORDER,
        CRIS_DESTINATIONS,
        CRIS_REQUESTED_REGION,
        DENY_STATUS_403,
        AUTH_FAILED_MESSAGE,
        EXPIRED_MESSAGE,
        MANTLE_AUTH_401,
        MANTLE_ENVELOPE,
        MANTLE_ONE_REQUEST,
        IAM_RESOURCE_FORM,
        IAM_REGION,
        CREATE_ORDER,
        CONSOLE_STEPS,
        AGE_VALIDATION_MESSAGE,
        NOT_SUPPORTED_MESSAGE,
        LIMIT_MESSAGE,
    ];
}

impl Assumption {
    /// The assumption with this id, e.g. `B-CALL-ORDER`.
    pub fn find(id: &str) -> Option<&'static Assumption> {
        ASSUMPTIONS.iter().find(|a| a.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_a_result_can_name_is_registered() {
        for id in ids::ALL {
            let found = Assumption::find(id).unwrap_or_else(|| panic!("{id} is not registered"));
            assert_eq!(found.id, id);
        }
        assert!(Assumption::find("B-NO-SUCH-THING").is_none());
    }
}
