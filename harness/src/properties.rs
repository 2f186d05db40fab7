//! The properties AWS's evaluation guarantees for any input (metamorphic relations), checked
//! against an oracle on generated cases. Each one transforms a case and states how the answers
//! of the two must relate; a failure comes with the case that shows it.

use keyward_iam::{DecisionKind, Effect, Policy, PolicySet, Statement};
use serde_json::{json, Value};

use crate::case::{Case, Expect, Provenance, Query};
use crate::generate::{GenCase, GenScenario};
use crate::oracle::Oracle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    StatementOrder,
    PolicyOrder,
    SplitPolicy,
    DuplicateStatement,
    ActionCase,
    KeyCase,
    AddDenyKeepsDeny,
    AddAllowKeepsAllow,
    DenyWins,
    FirstDeniedRequest,
    RoundTrip,
}

impl Property {
    pub const ALL: [Property; 11] = [
        Property::StatementOrder,
        Property::PolicyOrder,
        Property::SplitPolicy,
        Property::DuplicateStatement,
        Property::ActionCase,
        Property::KeyCase,
        Property::AddDenyKeepsDeny,
        Property::AddAllowKeepsAllow,
        Property::DenyWins,
        Property::FirstDeniedRequest,
        Property::RoundTrip,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Property::StatementOrder => "statement-order",
            Property::PolicyOrder => "policy-order",
            Property::SplitPolicy => "split-policy",
            Property::DuplicateStatement => "duplicate-statement",
            Property::ActionCase => "action-name-case",
            Property::KeyCase => "condition-key-case",
            Property::AddDenyKeepsDeny => "added-deny-keeps-deny",
            Property::AddAllowKeepsAllow => "added-allow-keeps-allow",
            Property::DenyWins => "matching-deny-wins",
            Property::FirstDeniedRequest => "scenario-first-denied-request",
            Property::RoundTrip => "case-format-round-trip",
        }
    }

    pub fn statement(self) -> &'static str {
        match self {
            Property::StatementOrder => "reversing the statements of every policy changes nothing",
            Property::PolicyOrder => "reversing the order of identity policies and of each organization level's policies changes neither decision nor deciding type",
            Property::SplitPolicy => "splitting an identity policy's statements over two identity policies changes neither decision nor deciding type",
            Property::DuplicateStatement => "duplicating a statement changes nothing",
            Property::ActionCase => "the letter case of the requested action does not change the decision",
            Property::KeyCase => "the letter case of condition-key names (in policies and context) changes nothing",
            Property::AddDenyKeepsDeny => "adding a Deny statement never turns a deny into an allow",
            Property::AddAllowKeepsAllow => "adding an Allow statement to an identity policy never turns an allow into a deny",
            Property::DenyWins => "a matching unconditional Deny always gives an explicit deny",
            Property::FirstDeniedRequest => "a scenario's outcome is that of its first denied request",
            Property::RoundTrip => "a case written in the case format reads back unchanged",
        }
    }

    pub fn parse(s: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Whether the property is about scenarios (it draws scenario cases) or request cases.
    pub fn on_scenarios(self) -> bool {
        self == Property::FirstDeniedRequest
    }
}

/// Which fields two answers must share for a relation to hold.
#[derive(Clone, Copy)]
enum Same {
    /// Decision, deciding type and message.
    All,
    /// Decision and deciding type (the message may name another policy's ARN or spell the
    /// action differently).
    DecisionAndBy,
}

fn case_json(id: &str, policies: &Value, key: &str, query: &Value) -> Value {
    // Built member by member: `json!` would serialize the borrowed trees into new ones.
    let mut m = serde_json::Map::with_capacity(4);
    m.insert("id".into(), Value::String(id.into()));
    m.insert("provenance".into(), Value::String("generated".into()));
    m.insert("policies".into(), policies.clone());
    m.insert(key.into(), query.clone());
    Value::Object(m)
}

/// Builds a case from a generated one: the policies the generator already compiled, and its
/// request. A generated case that does not read is a generator bug, reported as a failure of
/// the property so that it is shrunk like any other.
fn build(g: &GenCase) -> Result<Case, String> {
    let set = g
        .compiled
        .as_ref()
        .map_err(|e| format!("generated case does not read: {e}"))?;
    Case::from_parts("generated", set.clone(), &g.request)
        .map_err(|e| format!("generated case does not read: {e}"))
}

fn answer(oracle: &dyn Oracle, case: &Case) -> Result<Expect, String> {
    oracle
        .answer(case)
        .ok_or_else(|| format!("oracle {} gave no answer", oracle.name()))
}

fn show(e: &Expect) -> String {
    serde_json::to_string(&e.to_json()).unwrap_or_default()
}

fn compare(same: Same, a: &Expect, b: &Expect) -> Result<(), String> {
    let ok = match same {
        Same::All => a.decision == b.decision && a.by == b.by && a.message == b.message,
        Same::DecisionAndBy => a.decision == b.decision && a.by == b.by,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "original answers {}, transformed answers {}",
            show(a),
            show(b)
        ))
    }
}

fn swap_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The transformed case a relation compares with the original. Every edit is made on the
/// compiled policies ([`keyward_iam`]'s transformations), never on JSON.
fn transformed(p: Property, original: &Case) -> Case {
    let mut case = original.clone();
    // Only the relations that edit policies copy the (shared) set.
    let edits_policies = !matches!(
        p,
        Property::ActionCase | Property::FirstDeniedRequest | Property::RoundTrip
    );
    if !edits_policies {
        if let (Property::ActionCase, Query::Request(r)) = (p, &mut case.query) {
            *r = r.with_action(&swap_case(r.action()));
        }
        return case;
    }
    let set = std::sync::Arc::make_mut(&mut case.policies);
    match p {
        Property::StatementOrder => set.policies_mut().for_each(Policy::reverse_statements),
        Property::PolicyOrder => set.reverse_policy_order(),
        Property::SplitPolicy => {
            if let Some(first) = set.identity.first_mut() {
                let at = first.statements().len() / 2;
                if let Some(second) = first.split_off(at) {
                    set.identity.insert(1, second);
                }
            }
        }
        Property::DuplicateStatement => add_copy_of_first_statement(set, None),
        Property::AddDenyKeepsDeny => add_copy_of_first_statement(set, Some(Effect::Deny)),
        Property::AddAllowKeepsAllow => add_copy_of_first_statement(set, Some(Effect::Allow)),
        Property::DenyWins => {
            if let Some(first) = set.identity.first_mut() {
                first.push_statement(Statement::unconditional(Effect::Deny, "*", "*"));
            }
        }
        Property::KeyCase => {
            for pol in set.policies_mut() {
                for st in pol.statements_mut() {
                    st.map_condition_keys(swap_case);
                }
            }
            if let Query::Request(r) = &mut case.query {
                *r = r.map_context_keys(str::to_ascii_lowercase);
            }
        }
        Property::ActionCase | Property::FirstDeniedRequest | Property::RoundTrip => {}
    }
    case
}

/// Appends to the first identity policy a copy of its first statement, without its Sid and with
/// `effect` when given (the copy of a statement of the set applies often).
fn add_copy_of_first_statement(set: &mut PolicySet, effect: Option<Effect>) {
    let Some(first) = set.identity.first_mut() else {
        return;
    };
    let Some(copy) = first.statements().first().cloned() else {
        return;
    };
    let copy = copy.without_sid();
    first.push_statement(match effect {
        Some(e) => copy.with_effect(e),
        None => copy,
    });
}

/// Checks one property on one generated request case.
pub fn check_request(p: Property, oracle: &dyn Oracle, g: &GenCase) -> Result<(), String> {
    let original = build(g)?;
    let before = answer(oracle, &original)?;
    match p {
        Property::StatementOrder | Property::DuplicateStatement | Property::KeyCase => compare(
            Same::All,
            &before,
            &answer(oracle, &transformed(p, &original))?,
        ),
        Property::PolicyOrder | Property::SplitPolicy | Property::ActionCase => compare(
            Same::DecisionAndBy,
            &before,
            &answer(oracle, &transformed(p, &original))?,
        ),
        Property::AddDenyKeepsDeny | Property::AddAllowKeepsAllow => {
            let deny = p == Property::AddDenyKeepsDeny;
            let after = answer(oracle, &transformed(p, &original))?;
            let was_allow = before.decision == Some(DecisionKind::Allow);
            let is_allow = after.decision == Some(DecisionKind::Allow);
            let broken = if deny {
                !was_allow && is_allow
            } else {
                was_allow && !is_allow
            };
            if broken {
                Err(format!(
                    "original answers {}, with the added statement {}",
                    show(&before),
                    show(&after)
                ))
            } else {
                Ok(())
            }
        }
        Property::DenyWins => {
            let after = answer(oracle, &transformed(p, &original))?;
            if after.decision == Some(DecisionKind::ExplicitDeny) {
                Ok(())
            } else {
                Err(format!(
                    "with a Deny of * on *, the answer is {}",
                    show(&after)
                ))
            }
        }
        Property::RoundTrip => {
            let text = original.to_pretty_string();
            let back = crate::case::read_cases("roundtrip.json", &text)
                .map_err(|e| e.to_string())?
                .pop()
                .ok_or("no case read back")?
                .map_err(|e| e.to_string())?;
            if back.policies != original.policies
                || back.request() != original.request()
                || back.to_json() != original.to_json()
            {
                return Err(format!(
                    "wrote {} read back {}",
                    original.to_json(),
                    back.to_json()
                ));
            }
            compare(Same::All, &before, &answer(oracle, &back)?)
        }
        Property::FirstDeniedRequest => Ok(()),
    }
}

/// Checks a scenario property against the local scenario engine: the outcome is the first denied
/// request's, every earlier request is allowed, and the answer matches the oracle's.
pub fn check_scenario(p: Property, oracle: &dyn Oracle, g: &GenScenario) -> Result<(), String> {
    if p != Property::FirstDeniedRequest {
        return Ok(());
    }
    let case = Case::from_json(&case_json(
        "generated",
        &g.policies,
        "scenario",
        &g.scenario,
    ))
    .map_err(|e| format!("generated case does not read: {e}"))?;
    let res = case.run_scenario().ok_or("not a scenario")?;
    let ans = answer(oracle, &case)?;
    let denied = res
        .steps
        .iter()
        .position(|s| s.decision.kind != DecisionKind::Allow);
    match denied {
        Some(i) => {
            if i + 1 != res.steps.len() {
                return Err(format!(
                    "request {} was denied but {} requests were evaluated",
                    i + 1,
                    res.steps.len()
                ));
            }
            let s = &res.steps[i];
            let msg = s
                .decision
                .message(&s.request, &case.policies)
                .unwrap_or_default();
            let core = s.request.action();
            if ans.decision != Some(s.decision.kind)
                || !res.outcome.body.contains(core)
                || res.outcome.status != 403
            {
                return Err(format!(
                    "first denied request {core} ({msg}) but the outcome is {}",
                    res.outcome
                ));
            }
        }
        None => {
            if res
                .decision
                .as_ref()
                .is_some_and(|d| d.kind != DecisionKind::Allow)
            {
                return Err("no request was denied, yet the decision is a deny".into());
            }
            if res.outcome.status == 403
                && res.outcome.code == Some(keyward_bedrock::IamErrorCode::AccessDenied)
            {
                return Err(format!(
                    "no request was denied, yet the outcome is {}",
                    res.outcome
                ));
            }
        }
    }
    Ok(())
}

/// The shrunk failing case as a ready-to-commit case file: provenance `generated`, with the
/// property and the failure in its note and no expectation (the property, not AWS, is what
/// failed; add `expect` once AWS's answer is known).
pub fn failure_case(
    p: Property,
    id: &str,
    policies: &Value,
    key: &str,
    query: &Value,
    reason: &str,
) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(id));
    m.insert(
        "source".into(),
        json!(format!("keyward check, property {}", p.name())),
    );
    m.insert("provenance".into(), json!(Provenance::Generated.as_str()));
    m.insert("note".into(), json!(format!("{}: {reason}", p.statement())));
    m.insert("policies".into(), policies.clone());
    m.insert(key.into(), query.clone());
    Value::Object(m)
}
