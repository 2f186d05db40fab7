//! The request being authorized: who, what, on which resource, and the request context.

use crate::arn::Parts;

/// A context key's value. IAM keeps every value as a string; the condition operator decides how
/// to read it. A multivalued key (e.g. `aws:TagKeys`) is `Multi`, even with one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key.
    Single(String),
    /// A multivalued key; condition operators with `ForAllValues:`/`ForAnyValue:` read it as a
    /// set.
    Multi(Vec<String>),
}

impl ContextValue {
    /// A single value.
    pub fn single(v: impl Into<String>) -> ContextValue {
        ContextValue::Single(v.into())
    }

    /// A multivalued key's values.
    pub fn multi<I, S>(vs: I) -> ContextValue
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ContextValue::Multi(vs.into_iter().map(Into::into).collect())
    }

    /// The value of a single-valued key; `None` for a multivalued one.
    pub fn single_value(&self) -> Option<&str> {
        match self {
            ContextValue::Single(s) => Some(s),
            ContextValue::Multi(_) => None,
        }
    }

    /// Every value: one for a single-valued key.
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::Single(s) => std::slice::from_ref(s),
            ContextValue::Multi(v) => v,
        }
    }
}

/// Condition keys and their values. Keys are compared case-insensitively (ASCII case, as IAM
/// does): every method takes a key in any case. The key is lower-cased once, on insertion; the
/// spelling last inserted is kept for explanations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key_lc: Box<str>,
    key: Box<str>,
    value: ContextValue,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a key, replacing any value under the same key in another case.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        let key_lc: Box<str> = key.to_ascii_lowercase().into();
        if let Some(e) = self.entries.iter_mut().find(|e| e.key_lc == key_lc) {
            e.key = key.into();
            e.value = value;
        } else {
            self.entries.push(Entry {
                key_lc,
                key: key.into(),
                value,
            });
        }
    }

    /// Removes a key given in any case, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let i = self
            .entries
            .iter()
            .position(|e| e.key_lc.eq_ignore_ascii_case(key))?;
        Some(self.entries.remove(i).value)
    }

    /// The value of a key given in any case, to change in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut ContextValue> {
        self.entries
            .iter_mut()
            .find(|e| e.key_lc.eq_ignore_ascii_case(key))
            .map(|e| &mut e.value)
    }

    /// Looks up a key in any case. Contexts hold a handful of keys, so a linear scan beats
    /// hashing here, and comparing without regard to case needs no lower-cased copy.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries
            .iter()
            .find(|e| e.key_lc.eq_ignore_ascii_case(key))
            .map(|e| &e.value)
    }

    /// The evaluator's lookup: its keys are lower-cased when the policy is compiled, so a plain
    /// comparison does.
    pub(crate) fn get_lc(&self, key_lc: &str) -> Option<&ContextValue> {
        debug_assert!(!key_lc.bytes().any(|b| b.is_ascii_uppercase()));
        self.entries
            .iter()
            .find(|e| &*e.key_lc == key_lc)
            .map(|e| &e.value)
    }

    /// The keys (as last inserted) and their values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|e| (&*e.key, &e.value))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the context has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One authorization question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    principal: String,
    action: String,
    action_lc: String,
    resource: String,
    resource_account: Option<String>,
    /// The request context: the condition keys AWS sets for this request.
    pub context: Context,
}

impl Request {
    /// A request with an empty context. The action is matched case-insensitively; principal
    /// and resource are kept as given.
    pub fn new(
        principal: impl Into<String>,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Request {
        let action = action.into();
        Request {
            principal: principal.into(),
            action_lc: action.to_ascii_lowercase(),
            action,
            resource: resource.into(),
            resource_account: None,
            context: Context::new(),
        }
    }

    /// Adds a context key (replacing any value under the same key in another case).
    pub fn with_context(mut self, key: &str, value: ContextValue) -> Request {
        self.context.insert(key, value);
        self
    }

    /// Names the account that owns the resource, which makes the request cross-account when it
    /// differs from the principal's.
    pub fn with_resource_account(mut self, account: impl Into<String>) -> Request {
        self.resource_account = Some(account.into());
        self
    }

    /// The calling principal's ARN.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The action as written in the request (AWS prints it this way in messages).
    pub fn action(&self) -> &str {
        &self.action
    }

    pub(crate) fn action_lc(&self) -> &str {
        &self.action_lc
    }

    /// The resource ARN (or `*`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The account that owns the resource, when given.
    pub fn resource_account(&self) -> Option<&str> {
        self.resource_account.as_deref()
    }

    /// The account of the calling principal: the account of its ARN, `None` when the principal
    /// is not an ARN or names no account.
    pub fn principal_account(&self) -> Option<&str> {
        Parts::get(&self.principal)?.account_id()
    }

    /// A request is cross-account when the resource's owner is named and differs from the
    /// principal's account.
    pub fn is_cross_account(&self) -> bool {
        // The resource account is usually absent: check it first, so the principal's ARN is
        // parsed only when it matters (this runs on every allow).
        self.resource_account()
            .is_some_and(|r| self.principal_account().is_some_and(|p| p != r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_replace() {
        let mut c = Context::new();
        c.insert(
            "bedrock:BearerTokenType",
            ContextValue::single("SHORT_TERM"),
        );
        c.insert("BEDROCK:bearertokentype", ContextValue::single("LONG_TERM"));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.get("bedrock:bearertokentype").unwrap().single_value(),
            Some("LONG_TERM")
        );
        assert_eq!(
            c.get("Bedrock:BearerTokenType").unwrap().single_value(),
            Some("LONG_TERM")
        );
        assert!(c.get_lc("bedrock:bearertokentype").is_some());
        assert_eq!(c.iter().next().unwrap().0, "BEDROCK:bearertokentype");
        assert!(c.get("bedrock:bearertokentyp").is_none());
        assert!(c.remove("BEDROCK:BEARERTOKENTYPE").is_some());
        assert!(c.is_empty());
    }

    #[test]
    fn accounts() {
        let r = Request::new(
            "arn:aws:sts::123456789012:assumed-role/dev/alice",
            "s3:GetObject",
            "*",
        );
        assert_eq!(r.principal_account(), Some("123456789012"));
        assert!(!r.is_cross_account());
        let r = r.with_resource_account("444455556666");
        assert!(r.is_cross_account());
        for p in [
            "arn:aws:s3:::bucket",
            "not-an-arn",
            "arn:aws:iam::123456789012",
        ] {
            assert_eq!(
                Request::new(p, "s3:GetObject", "*").principal_account(),
                None
            );
        }
    }
}
