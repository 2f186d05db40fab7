//! The properties AWS's evaluation guarantees for any input (metamorphic relations), checked
//! against an oracle on generated cases. Each one transforms a case and states how the answers
//! of the two must relate; a failure comes with the case that shows it.

use keyward_iam::DecisionKind;
use serde_json::{json, Value};

use crate::case::{Case, Expect, Provenance};
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
    json!({"id": id, "provenance": "generated", "policies": policies, key: query})
}

/// Builds a case from generated JSON. A generated case that does not read is a generator bug,
/// reported as a failure of the property so that it is shrunk like any other.
fn build(policies: &Value, request: &Value) -> Result<Case, String> {
    Case::from_json(&case_json("generated", policies, "request", request))
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

/// The statements of a policy document as an array (IAM allows a single object).
fn statements_mut(policy: &mut Value) -> Option<&mut Vec<Value>> {
    let doc = if policy.get("document").is_some() {
        policy.get_mut("document")?
    } else {
        policy
    };
    let st = doc.get_mut("Statement")?;
    if st.is_object() {
        *st = Value::Array(vec![st.take()]);
    }
    st.as_array_mut()
}

/// Every policy document of a set, mutably.
fn every_policy(policies: &mut Value, mut f: impl FnMut(&mut Value)) {
    let Some(m) = policies.as_object_mut() else {
        return;
    };
    for (k, v) in m.iter_mut() {
        match k.as_str() {
            "permissions_boundary" => f(v),
            "identity" | "session" | "resource" => {
                v.as_array_mut().into_iter().flatten().for_each(&mut f)
            }
            "scp" | "rcp" => v
                .as_array_mut()
                .into_iter()
                .flatten()
                .flat_map(|l| l.as_array_mut().into_iter().flatten())
                .for_each(&mut f),
            _ => {}
        }
    }
}

fn first_identity(policies: &mut Value) -> Option<&mut Value> {
    policies.get_mut("identity")?.as_array_mut()?.first_mut()
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

/// Checks one property on one generated request case.
pub fn check_request(p: Property, oracle: &dyn Oracle, g: &GenCase) -> Result<(), String> {
    let original = build(&g.policies, &g.request)?;
    let before = answer(oracle, &original)?;
    let relate = |policies: Value, request: Value, same: Same| -> Result<(), String> {
        let after = answer(oracle, &build(&policies, &request)?)?;
        compare(same, &before, &after)
    };
    let mut policies = g.policies.clone();
    let request = g.request.clone();
    match p {
        Property::StatementOrder => {
            every_policy(&mut policies, |pol| {
                if let Some(st) = statements_mut(pol) {
                    st.reverse();
                }
            });
            relate(policies, request, Same::All)
        }
        Property::PolicyOrder => {
            if let Some(ids) = policies.get_mut("identity").and_then(Value::as_array_mut) {
                ids.reverse();
            }
            for t in ["scp", "rcp"] {
                for level in policies
                    .get_mut(t)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(l) = level.as_array_mut() {
                        l.reverse();
                    }
                }
            }
            relate(policies, request, Same::DecisionAndBy)
        }
        Property::SplitPolicy => {
            let Some(first) = first_identity(&mut policies) else {
                return Ok(());
            };
            let version = first.get("Version").cloned();
            let Some(st) = statements_mut(first) else {
                return Ok(());
            };
            if st.len() < 2 {
                return Ok(());
            }
            let tail = st.split_off(st.len() / 2);
            let mut second = json!({"Statement": tail});
            if let Some(v) = version {
                second["Version"] = v;
            }
            if let Some(ids) = policies.get_mut("identity").and_then(Value::as_array_mut) {
                ids.insert(1, second);
            }
            relate(policies, request, Same::DecisionAndBy)
        }
        Property::DuplicateStatement => {
            if let Some(st) = first_identity(&mut policies).and_then(statements_mut) {
                if let Some(mut copy) = st.first().cloned() {
                    if let Some(m) = copy.as_object_mut() {
                        m.remove("Sid");
                    }
                    st.push(copy);
                }
            }
            relate(policies, request, Same::All)
        }
        Property::ActionCase => {
            let mut request = request;
            if let Some(a) = request.get("action").and_then(Value::as_str).map(swap_case) {
                request["action"] = json!(a);
            }
            relate(policies, request, Same::DecisionAndBy)
        }
        Property::KeyCase => {
            every_policy(&mut policies, |pol| {
                for st in statements_mut(pol).into_iter().flatten() {
                    for keys in st
                        .get_mut("Condition")
                        .and_then(Value::as_object_mut)
                        .into_iter()
                        .flat_map(|ops| ops.values_mut())
                    {
                        if let Some(m) = keys.as_object_mut() {
                            *m = std::mem::take(m)
                                .into_iter()
                                .map(|(k, v)| (swap_case(&k), v))
                                .collect();
                        }
                    }
                }
            });
            let mut request = request;
            if let Some(ctx) = request.get_mut("context").and_then(Value::as_object_mut) {
                *ctx = std::mem::take(ctx)
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect();
            }
            relate(policies, request, Same::All)
        }
        Property::AddDenyKeepsDeny | Property::AddAllowKeepsAllow => {
            let deny = p == Property::AddDenyKeepsDeny;
            // The added statement: the policy's own first statement with the effect forced, so
            // that it often applies.
            if let Some(st) = first_identity(&mut policies).and_then(statements_mut) {
                if let Some(mut copy) = st.first().cloned() {
                    if let Some(m) = copy.as_object_mut() {
                        m.remove("Sid");
                        m.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
                    }
                    st.push(copy);
                }
            }
            let after = answer(oracle, &build(&policies, &request)?)?;
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
            if let Some(st) = first_identity(&mut policies).and_then(statements_mut) {
                st.push(json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
            }
            let after = answer(oracle, &build(&policies, &request)?)?;
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
            if back.to_json() != original.to_json() {
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
