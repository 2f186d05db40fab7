//! Writing cases back in the case format (round-trips through `read_cases` unchanged).

use serde_json::{json, Map, Value};

use super::Case;

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
        m.insert("request".into(), self.raw_request.clone());
        if let Some(e) = &self.expect {
            let mut x = Map::new();
            x.insert("decision".into(), json!(e.decision.as_str()));
            if let Some(b) = e.by {
                x.insert("by".into(), json!(b.as_str()));
            }
            if let Some(msg) = &e.message {
                x.insert("message".into(), json!(msg));
            }
            m.insert("expect".into(), Value::Object(x));
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
