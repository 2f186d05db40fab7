//! Writing cases back in the case format (round-trips through `read_cases` unchanged).

use serde_json::{json, Map, Value};

use super::{Case, Expect};

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
        if let Some(p) = &self.raw_policies {
            m.insert("policies".into(), p.clone());
        }
        let key = match self.query {
            super::Query::Request(_) => "request",
            super::Query::Scenario(_) => "scenario",
        };
        m.insert(key.into(), self.raw_query.clone());
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
        Value::Object(x)
    }
}
