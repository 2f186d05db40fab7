//! Policy variables (`${aws:username}`, `${key, 'default'}`, and the `${*}`, `${?}`, `${$}`
//! escapes), substituted only in policies whose Version is 2012-10-17.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>

use crate::assumptions::{AssumptionId, Reading};
use crate::pattern::{tokenize, Glob, Tok};
use crate::request::Context;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Policy text: `*` and `?` in it are wildcards where the consumer is a pattern.
    Text(Box<str>),
    /// `${*}`, `${?}` or `${$}`: always the literal character, never a wildcard.
    Escaped(char),
    Var {
        /// Lower-cased, since context keys are matched case-insensitively.
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

/// Text with at least one variable or escape in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// `None` when the text has no `${...}` at all, so callers keep their literal fast path.
    /// An unterminated `${` stays literal text: IAM's own checks flag it only as a finding.
    pub(crate) fn parse(text: &str) -> Option<Template> {
        if !text.contains("${") {
            return None;
        }
        let mut parts = Vec::new();
        let mut rest = text;
        let mut lit = String::new();
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            lit.push_str(&rest[..start]);
            let inner = &after[..end];
            let part = match inner {
                "*" => Part::Escaped('*'),
                "?" => Part::Escaped('?'),
                "$" => Part::Escaped('$'),
                _ => parse_var(inner),
            };
            if !lit.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut lit).into()));
            }
            parts.push(part);
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit.into()));
        }
        Some(Template { parts })
    }

    pub(crate) fn from_parts(parts: Vec<Part>) -> Template {
        Template { parts }
    }

    pub(crate) fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The text with every variable replaced, or `None` when a variable without a default is
    /// missing (or multivalued, which IAM does not substitute): such an entry matches nothing.
    pub(crate) fn resolve_string(&self, ctx: &Context) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Escaped(c) => out.push(*c),
                Part::Var { key, default } => out.push_str(lookup(ctx, key, default.as_deref())?),
            }
        }
        Some(out)
    }

    /// A pattern in which only the policy's own text carries wildcards. Substituted values are
    /// literal (assumption A-VAR-LITERAL: the docs do not say whether a `*` inside a context value
    /// would act as a wildcard; treating it as literal is the conservative reading).
    /// Under the other reading a substituted `*` or `?` is a wildcard.
    pub(crate) fn resolve_glob(&self, ctx: &Context, reading: &Reading) -> Option<Glob> {
        let mut toks = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => toks.extend(tokenize(t)),
                Part::Escaped(c) => toks.push(Tok::Lit(c.to_string().into())),
                Part::Var { key, default } => {
                    let v = lookup(ctx, key, default.as_deref())?;
                    if v.contains(['*', '?']) && reading.other(AssumptionId::VarLiteral) {
                        toks.extend(tokenize(v));
                    } else {
                        toks.push(Tok::Lit(v.into()));
                    }
                }
            }
        }
        Some(Glob::from_toks(toks))
    }
}

fn parse_var(inner: &str) -> Part {
    // `${key, 'default'}`: the doc's form is comma, space, single-quoted default.
    if let Some((key, dflt)) = inner.split_once(',') {
        let d = dflt.trim();
        if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
            return Part::Var {
                key: key.trim().to_ascii_lowercase().into(),
                default: Some(d[1..d.len() - 1].into()),
            };
        }
    }
    Part::Var {
        key: inner.trim().to_ascii_lowercase().into(),
        default: None,
    }
}

fn lookup<'a>(ctx: &'a Context, key: &str, default: Option<&'a str>) -> Option<&'a str> {
    match ctx.get_lc(key).and_then(|v| v.single_value()) {
        Some(v) => Some(v),
        None => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ContextValue;

    fn ctx() -> Context {
        let mut c = Context::new();
        c.insert("aws:username", ContextValue::single("martha_rivera"));
        c.insert("aws:TagKeys", ContextValue::multi(["a", "b"]));
        c
    }

    #[test]
    fn plain_text_is_not_a_template() {
        assert!(Template::parse("home/*").is_none());
    }

    #[test]
    fn substitutes_case_insensitively() {
        let t = Template::parse("home/${AWS:UserName}/").unwrap();
        assert_eq!(t.resolve_string(&ctx()).unwrap(), "home/martha_rivera/");
    }

    #[test]
    fn missing_without_default_is_none_with_default_is_default() {
        let t = Template::parse("${aws:PrincipalTag/team}").unwrap();
        assert_eq!(t.resolve_string(&ctx()), None);
        let t = Template::parse("${aws:PrincipalTag/team, 'company-wide'}").unwrap();
        assert_eq!(t.resolve_string(&ctx()).unwrap(), "company-wide");
    }

    #[test]
    fn multivalued_keys_are_not_substituted() {
        let t = Template::parse("${aws:TagKeys}").unwrap();
        assert_eq!(t.resolve_string(&ctx()), None);
    }

    #[test]
    fn escapes_are_literal_even_in_patterns() {
        let t = Template::parse("a${*}b").unwrap();
        let g = t.resolve_glob(&ctx(), &Reading::keyward()).unwrap();
        assert!(g.is_match("a*b"));
        assert!(!g.is_match("axxb"));
        let t = Template::parse("${?}${$}").unwrap();
        assert_eq!(t.resolve_string(&ctx()).unwrap(), "?$");
    }

    #[test]
    fn unterminated_brace_stays_literal() {
        let t = Template::parse("a${b").unwrap();
        assert_eq!(t.resolve_string(&ctx()).unwrap(), "a${b");
    }
}
