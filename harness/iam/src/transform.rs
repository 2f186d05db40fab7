//! Edits of a compiled policy: what metamorphic properties, shrinkers and planners do to a
//! policy, done on the compiled form so that nothing re-parses JSON. Every edit keeps the
//! compiled form and its JSON in step: `to_json` after an edit writes the edited document, and
//! reading that back gives an equal policy.

use serde_json::{Map, Value};

use crate::condition::Condition;
use crate::eval::PolicySet;
use crate::pattern::Glob;
use crate::policy::{ActionBlock, Effect, Policy, PolicyType, ResourceBlock, Statement};
use crate::request::{Context, Request};

impl Statement {
    /// `{"Effect": effect, "Action": action, "Resource": resource}` with no condition: e.g. the
    /// `Deny` of `*` on `*` that must win over everything.
    pub fn unconditional(effect: Effect, action: &str, resource: &str) -> Statement {
        Statement {
            sid: None,
            effect,
            action: ActionBlock::new(false, vec![action.to_string()], false),
            resource: Some(ResourceBlock::literal(
                false,
                vec![resource.to_string()],
                false,
            )),
            principal: None,
            conditions: Vec::new(),
            has_condition_block: false,
        }
    }

    /// The same statement with another effect.
    pub fn with_effect(mut self, effect: Effect) -> Statement {
        self.effect = effect;
        self
    }

    /// The same statement without its Sid (so that a copy does not repeat it, which IAM
    /// refuses).
    pub fn without_sid(mut self) -> Statement {
        self.sid = None;
        self
    }

    /// Renames every condition key (the compiled lookup key follows).
    pub fn map_condition_keys(&mut self, mut f: impl FnMut(&str) -> String) {
        for c in &mut self.conditions {
            c.set_key(f(&c.key));
        }
    }
}

impl Policy {
    /// Reverses the order of the statements.
    pub fn reverse_statements(&mut self) {
        self.statements.reverse();
    }

    /// Moves the statements from `at` on into a new policy of the same Version (written as a
    /// statement array, with no Id and no name or ARN). `None`, and no change, unless both
    /// halves keep at least one statement.
    pub fn split_off(&mut self, at: usize) -> Option<Policy> {
        if at == 0 || at >= self.statements.len() {
            return None;
        }
        let tail = self.statements.split_off(at);
        Some(Policy::from_statements(self.version, tail))
    }

    /// Appends a statement. A statement whose Sid is already used would make the policy one IAM
    /// refuses; callers pass statements [`without_sid`](Statement::without_sid) when copying.
    pub fn push_statement(&mut self, s: Statement) {
        self.statements.push(s);
        self.statement_is_array = true;
    }

    /// The policy without its statement `index`; `None` when that would leave no statement
    /// (IAM refuses an empty Statement) or there is no such statement.
    pub fn without_statement(&self, index: usize) -> Option<Policy> {
        if self.statements.len() < 2 || index >= self.statements.len() {
            return None;
        }
        let mut p = self.clone();
        p.statements.remove(index);
        Some(p)
    }

    /// The statements, for edits that keep each statement valid on its own (effect, Sid,
    /// condition keys).
    pub fn statements_mut(&mut self) -> &mut [Statement] {
        &mut self.statements
    }
}

impl PolicySet {
    /// Every policy of the set, mutably, in evaluation order.
    pub fn policies_mut(&mut self) -> impl Iterator<Item = &mut Policy> {
        let rcp = self.rcp.iter_mut().flatten().flatten();
        let scp = self.scp.iter_mut().flatten().flatten();
        rcp.chain(scp)
            .chain(&mut self.resource)
            .chain(&mut self.identity)
            .chain(&mut self.permissions_boundary)
            .chain(self.session.iter_mut().flatten())
    }

    /// Reverses the identity policies and the policies of each SCP and RCP level (the order of
    /// the levels themselves is the organization's and stays).
    pub fn reverse_policy_order(&mut self) {
        self.identity.reverse();
        for levels in [&mut self.scp, &mut self.rcp].into_iter().flatten() {
            levels.iter_mut().for_each(|l| l.reverse());
        }
    }

    /// The set in the case format's `policies` shape: `identity`, `permissions_boundary`,
    /// `session`, `scp`, `rcp`, `resource`, each present only when it holds something or (for
    /// the types whose absence means "not in play") when it is in play. A policy with a name or
    /// an ARN is written as `{"name", "arn", "document"}`. Reading the result back gives an
    /// equal set.
    pub fn to_json(&self) -> Value {
        fn one(p: &Policy) -> Value {
            if p.meta.name.is_none() && p.meta.arn.is_none() {
                return p.to_json();
            }
            let mut m = Map::new();
            if let Some(n) = &p.meta.name {
                m.insert("name".into(), Value::String(n.clone()));
            }
            if let Some(a) = &p.meta.arn {
                m.insert("arn".into(), Value::String(a.clone()));
            }
            m.insert("document".into(), p.to_json());
            Value::Object(m)
        }
        let list = |ps: &[Policy]| Value::Array(ps.iter().map(one).collect());
        let levels = |ls: &[Vec<Policy>]| Value::Array(ls.iter().map(|l| list(l)).collect());
        let mut m = Map::new();
        if !self.identity.is_empty() {
            m.insert(PolicyType::Identity.as_str().into(), list(&self.identity));
        }
        if let Some(b) = &self.permissions_boundary {
            m.insert(PolicyType::PermissionsBoundary.as_str().into(), one(b));
        }
        if let Some(s) = &self.session {
            m.insert(PolicyType::Session.as_str().into(), list(s));
        }
        if let Some(l) = &self.scp {
            m.insert(PolicyType::Scp.as_str().into(), levels(l));
        }
        if let Some(l) = &self.rcp {
            m.insert(PolicyType::Rcp.as_str().into(), levels(l));
        }
        if !self.resource.is_empty() {
            m.insert(PolicyType::Resource.as_str().into(), list(&self.resource));
        }
        Value::Object(m)
    }
}

impl Request {
    /// The same request for another action (e.g. the same action in another letter case).
    pub fn with_action(&self, action: &str) -> Request {
        let mut r = Request::new(self.principal(), action, self.resource());
        if let Some(a) = self.resource_account() {
            r = r.with_resource_account(a);
        }
        r.context = self.context.clone();
        r
    }

    /// The same request with every context key renamed (values unchanged).
    pub fn map_context_keys(&self, mut f: impl FnMut(&str) -> String) -> Request {
        let mut r = self.clone();
        let mut ctx = Context::new();
        for (k, v) in self.context.iter() {
            ctx.insert(&f(k), v.clone());
        }
        r.context = ctx;
        r
    }
}

impl Condition {
    fn set_key(&mut self, key: String) {
        self.key_lc = key.to_ascii_lowercase().into();
        self.key = key;
    }
}

impl ActionBlock {
    pub(crate) fn new(negated: bool, raw: Vec<String>, raw_is_array: bool) -> ActionBlock {
        let globs = raw
            .iter()
            .map(|a| Glob::new(&a.to_ascii_lowercase()))
            .collect();
        ActionBlock {
            negated,
            raw,
            raw_is_array,
            globs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::request::ContextValue;
    use crate::DecisionKind;
    use serde_json::json;

    fn policy(v: Value) -> Policy {
        Policy::parse(&v, PolicyType::Identity).unwrap()
    }

    fn reparse(p: &Policy) -> Policy {
        Policy::parse(&p.to_json(), PolicyType::Identity).unwrap()
    }

    const TWO: &str = r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "bedrock:*", "Resource": "*"},
        {"Sid": "B", "Effect": "Deny", "Action": "bedrock:CallWithBearerToken", "Resource": "*",
         "Condition": {"StringEquals": {"bedrock:bearerTokenType": "SHORT_TERM"}}}]}"#;

    #[test]
    fn edits_write_back_the_edited_document() {
        let mut p = Policy::parse_str(TWO, PolicyType::Identity).unwrap();
        p.reverse_statements();
        assert_eq!(p.to_json()["Statement"][0]["Sid"], "B");
        assert_eq!(reparse(&p), p);

        let tail = p.split_off(1).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(tail.to_json()["Statement"][0]["Sid"], "A");
        assert_eq!(tail.to_json()["Version"], "2012-10-17");
        assert_eq!(reparse(&tail), tail);
        assert!(p.split_off(1).is_none() && p.split_off(0).is_none());
        assert!(
            p.without_statement(0).is_none(),
            "a policy keeps one statement"
        );
        assert_eq!(
            tail.without_statement(0)
                .map(|t| t.to_json()["Statement"].clone()),
            None
        );

        let copy = p.statements[0]
            .clone()
            .without_sid()
            .with_effect(Effect::Allow);
        p.push_statement(copy);
        assert_eq!(p.to_json()["Statement"][1]["Effect"], "Allow");
        assert!(p.to_json()["Statement"][1].get("Sid").is_none());
        assert_eq!(reparse(&p), p);

        p.statements_mut()[0].map_condition_keys(|k| k.to_ascii_uppercase());
        assert_eq!(
            p.to_json()["Statement"][0]["Condition"]["StringEquals"]["BEDROCK:BEARERTOKENTYPE"],
            "SHORT_TERM"
        );
        assert_eq!(reparse(&p), p);
    }

    #[test]
    fn a_renamed_key_still_matches_its_context_key() {
        let mut set = PolicySet::default();
        set.identity
            .push(Policy::parse_str(TWO, PolicyType::Identity).unwrap());
        let req = Request::new(
            "arn:aws:iam::123456789012:user/alice",
            "bedrock:CallWithBearerToken",
            "*",
        )
        .with_context(
            "bedrock:bearerTokenType",
            ContextValue::single("SHORT_TERM"),
        );
        assert_eq!(evaluate(&set, &req).kind, DecisionKind::ExplicitDeny);
        for p in set.policies_mut() {
            for s in p.statements_mut() {
                s.map_condition_keys(|k| k.to_ascii_uppercase());
            }
        }
        let lower = req.map_context_keys(|k| k.to_ascii_lowercase());
        assert_eq!(evaluate(&set, &lower).kind, DecisionKind::ExplicitDeny);
        assert_eq!(
            lower.context.iter().next().map(|(k, _)| k),
            Some("bedrock:bearertokentype")
        );
    }

    #[test]
    fn an_unconditional_deny_reads_back_and_denies() {
        let mut p =
            policy(json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
        p.push_statement(Statement::unconditional(Effect::Deny, "*", "*"));
        assert_eq!(
            p.to_json(),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                 {"Effect": "Deny", "Action": "*", "Resource": "*"}]})
        );
        let mut set = PolicySet::default();
        set.identity.push(p);
        let req = Request::new(
            "arn:aws:iam::123456789012:user/a",
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        );
        assert_eq!(evaluate(&set, &req).kind, DecisionKind::ExplicitDeny);
    }

    #[test]
    fn a_set_writes_the_case_format_shape_and_reads_back() {
        let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        let mut set = PolicySet::default();
        set.identity.push(policy(doc.clone()));
        set.identity.push(policy(
            json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}),
        ));
        set.permissions_boundary = Some(
            Policy::parse(&doc, PolicyType::PermissionsBoundary)
                .unwrap()
                .with_meta(crate::PolicyMeta {
                    name: Some("b".into()),
                    arn: Some("arn:aws:iam::123456789012:policy/b".into()),
                    source: None,
                }),
        );
        set.scp = Some(vec![
            vec![Policy::parse(&doc, PolicyType::Scp).unwrap()],
            vec![],
        ]);
        let v = set.to_json();
        assert_eq!(v["identity"][0], doc);
        assert_eq!(v["permissions_boundary"]["name"], "b");
        assert_eq!(v["permissions_boundary"]["document"], doc);
        assert_eq!(v["scp"][1], json!([]));
        assert!(v.get("session").is_none() && v.get("resource").is_none());

        let back = PolicySet {
            identity: v["identity"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| Policy::parse(d, PolicyType::Identity).unwrap())
                .collect(),
            permissions_boundary: Some(
                Policy::parse(
                    &v["permissions_boundary"]["document"],
                    PolicyType::PermissionsBoundary,
                )
                .unwrap()
                .with_meta(crate::PolicyMeta {
                    name: Some("b".into()),
                    arn: Some("arn:aws:iam::123456789012:policy/b".into()),
                    source: None,
                }),
            ),
            scp: Some(vec![
                vec![Policy::parse(&v["scp"][0][0], PolicyType::Scp).unwrap()],
                vec![],
            ]),
            ..PolicySet::default()
        };
        assert_eq!(
            back, set,
            "each written document reads back to the same policy"
        );

        set.reverse_policy_order();
        assert_eq!(set.identity[1].to_json(), doc);
    }
}
