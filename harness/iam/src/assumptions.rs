//! Every behaviour the evaluator has to choose because the AWS documentation leaves it open, in
//! one place. Each has an id that the code cites where it makes the choice, so a live run can
//! confirm or refute it and the code to change is easy to find.

/// A behaviour keyward chose where the AWS documentation leaves it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assumption {
    /// The id the code cites (`A-...`).
    pub id: &'static str,
    /// What keyward does.
    pub statement: &'static str,
    /// Why: the documentation this reading follows, or the gap in it.
    pub basis: &'static str,
}

/// Every assumption the evaluator makes.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: "A-NUMERIC-SYNTAX",
        statement: "Numeric values are an optional sign, digits and an optional fraction; exponents, hex and blanks never match.",
        basis: "The condition-operators page says only \"integer or decimal\" (docs/aws-behaviour.md §4.6, open question 13).",
    },
    Assumption {
        id: "A-BOOL-SYNTAX",
        statement: "Bool values are true/false in any letter case; anything else never matches.",
        basis: "Undocumented; Access Analyzer asks for \"a valid Boolean value (true or false)\" (docs/aws-behaviour.md §4.6).",
    },
    Assumption {
        id: "A-OPERATOR-CASE",
        statement: "Condition operator names and qualifiers are case-sensitive; another spelling is an unknown operator.",
        basis: "The docs never show another spelling (docs/aws-behaviour.md §4.5).",
    },
    Assumption {
        id: "A-PLAIN-MULTI",
        statement: "A plain (unqualified) operator on a multivalued context key matches when any request value matches.",
        basis: "The docs only warn against it (docs/aws-behaviour.md §4.6, open question 14).",
    },
    Assumption {
        id: "A-VAR-LITERAL",
        statement: "Text substituted for a policy variable is literal: a * or ? in a context value is not a wildcard.",
        basis: "The variables page documents ${*} and ${?} for the policy's own text, and says nothing of values.",
    },
    Assumption {
        id: "A-NEGATED-UNPARSEABLE",
        statement: "A value that does not parse as the operator's type does not match, so a negated operator is true for it.",
        basis: "The docs say such values do not match; negation then follows the documented NOR rule.",
    },
    Assumption {
        id: "A-ARN-SHORT-PATTERN",
        statement: "An ARN-operator pattern with fewer than six components (e.g. \"*\") matches that many request components, the last taking the rest.",
        basis: "The docs show only six-component patterns; this keeps \"*\" matching every ARN.",
    },
    Assumption {
        id: "A-STAR-PRINCIPAL-DIRECT",
        statement: "In the same account, a resource-based policy allowing Principal \"*\" allows on its own, like one naming the caller.",
        basis: "The evaluation flow chart: a same-account resource-based Allow is final; the docs single out only role ARNs as still limited.",
    },
    Assumption {
        id: "A-DENY-PRECEDENCE",
        statement: "When several policy types deny explicitly, the one named is the first of RCP, SCP, resource, identity, boundary, session.",
        basis: "AWS documents that only one type is named, not which (docs/aws-behaviour.md §3.1, open question 7); this is the flow chart's order.",
    },
    Assumption {
        id: "A-IMPLICIT-PRECEDENCE",
        statement: "When several types lack an Allow, the one named follows the flow chart: RCP, SCP, identity, boundary, session, then (cross-account) resource.",
        basis: "Undocumented, as for explicit denies.",
    },
    Assumption {
        id: "A-SESSION-WORDING",
        statement: "The session-policy message reads \"session policy\".",
        basis: "An older troubleshooting page spells it \"sessions policy\"; newer material \"session policy\" (docs/aws-behaviour.md §3.1).",
    },
    Assumption {
        id: "A-INLINE-NO-ARN",
        statement: "An explicit deny by an inline policy (no ARN) carries no policy-ARN suffix.",
        basis: "The announcement of the suffix shows managed policies only (docs/aws-behaviour.md §3.1, open question 6).",
    },
    Assumption {
        id: "A-SYNTAX-WORDING",
        statement: "Structural errors without a known IAM text (unknown element, bad Effect, unknown operator, Null with IfExists, ...) are reported as \"Syntax errors in policy.\" with keyward's detail after it.",
        basis: "IAM's generic MalformedPolicyDocument text for structural problems (docs/aws-behaviour.md §5.1); the emulators that mirror IAM use it the same way.",
    },
];

impl Assumption {
    /// Looks an assumption up by id.
    pub fn find(id: &str) -> Option<&'static Assumption> {
        ASSUMPTIONS.iter().find(|a| a.id == id)
    }
}
