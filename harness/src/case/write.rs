//! Writing cases back in the case format (round-trips through `read_cases` unchanged).

use serde_json::{json, Map, Value};

use keyward_iam::{ContextValue, PolicySet, Request};

use super::{Case, Expect, Query};

impl Case {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        if let Some(s) = &self.source {
            m.insert("source".into(), json!(s));
        }
        if let Some(p) = self.provenance {
            m.insert("provenance".into(), json!(p.as_str()));
        }
        if let Some(n) = &self.note {
            m.insert("note".into(), json!(n));
        }
        if *self.policies != PolicySet::default() {
            m.insert("policies".into(), self.policies.to_json());
        }
        match &self.query {
            Query::Request(r) => {
                m.insert("request".into(), request_json(r));
            }
            Query::Scenario(s) => {
                m.insert("scenario".into(), s.written.clone());
            }
        }
        if let Some(e) = &self.expect {
            m.insert("expect".into(), e.to_json());
        }
        Value::Object(m)
    }

    /// A ready-to-commit case file.
    pub fn to_pretty_string(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        s.push('\n');
        s
    }
}

impl Expect {
    /// The `expect` member, with only the fields given.
    pub fn to_json(&self) -> Value {
        let e = self;
        let mut x = Map::new();
        if let Some(d) = e.decision {
            x.insert("decision".into(), json!(d.as_str()));
        }
        if let Some(b) = e.by {
            x.insert("by".into(), json!(b.as_str()));
        }
        if let Some(msg) = &e.message {
            x.insert("message".into(), json!(msg));
        }
        if let Some(s) = e.status {
            x.insert("status".into(), json!(s));
        }
        if let Some(c) = &e.code {
            x.insert("code".into(), json!(c));
        }
        if let Some(b) = &e.body {
            x.insert("body".into(), json!(b));
        }
        if let Some(s) = &e.side_effects {
            x.insert("side_effects".into(), json!(s));
        }
        if let Some(a) = &e.assumptions {
            x.insert("assumptions".into(), json!(a));
        }
        Value::Object(x)
    }
}

/// The `request` member: the model written in the case format (context values as strings, which
/// is how IAM holds them and how the reader stores them).
pub(crate) fn request_json(r: &Request) -> Value {
    let mut m = Map::new();
    m.insert("principal".into(), json!(r.principal()));
    m.insert("action".into(), json!(r.action()));
    m.insert("resource".into(), json!(r.resource()));
    if let Some(a) = r.resource_account() {
        m.insert("resource_account".into(), json!(a));
    }
    if !r.context.is_empty() {
        let ctx: Map<String, Value> = r
            .context
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    ContextValue::Single(s) => json!(s),
                    ContextValue::Multi(vs) => json!(vs),
                };
                (k.to_string(), v)
            })
            .collect();
        m.insert("context".into(), Value::Object(ctx));
    }
    Value::Object(m)
}
