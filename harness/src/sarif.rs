//! SARIF 2.1.0 logs (the OASIS Static Analysis Results Interchange Format), which code-review
//! tools show as annotations on the lines of the files they concern: `keyward guardrail`'s lints
//! on their statements, and `keyward check`'s and `eval`'s disagreements and unreadable cases
//! on their cases (docs/ci.md). One run per log, the rules first, then the results.

use serde_json::{json, Value};

use keyward_bedrock::guardrail::LintId;

use crate::locate::Location;

/// How serious a result is (SARIF's `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The run fails on it: a disagreement, an unreadable case.
    Error,
    /// A lint.
    Warning,
}

impl Level {
    /// `error` or `warning`, as SARIF writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// What a result can report (SARIF's `reportingDescriptor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The stable id: a lint's (`never-expiring-keys-pass`), or `disagreement`,
    /// `unreadable-case`, `unnamed-assumption`.
    pub id: &'static str,
    /// One sentence.
    pub summary: &'static str,
    /// Where it is documented, in the repository.
    pub docs: &'static str,
    pub level: Level,
}

impl Rule {
    /// The rule of a lint.
    pub fn lint(id: LintId) -> Rule {
        Rule {
            id: id.as_str(),
            summary: id.summary(),
            docs: "docs/lints.md",
            level: Level::Warning,
        }
    }

    /// Every lint's rule.
    pub fn lints() -> Vec<Rule> {
        LintId::ALL.into_iter().map(Rule::lint).collect()
    }

    /// A case on which keyward and the case's expectation (or the other oracle) disagree.
    pub const DISAGREEMENT: Rule = Rule {
        id: "disagreement",
        summary: "keyward's answer differs from what the case expects.",
        docs: "docs/cli.md",
        level: Level::Error,
    };

    /// A case that cannot be read.
    pub const UNREADABLE: Rule = Rule {
        id: "unreadable-case",
        summary: "A case (or its file) cannot be read: the message names the JSON path and what is wrong.",
        docs: "docs/case-format.md",
        level: Level::Error,
    };

    /// A fixture whose expectation claims more than keyward's answer supports.
    pub const UNNAMED_ASSUMPTION: Rule = Rule {
        id: "unnamed-assumption",
        summary: "A fixture agrees, but its expectation rests on a registered assumption it does not name, or on a message keyward cannot complete.",
        docs: "docs/case-format.md",
        level: Level::Error,
    };

    fn to_json(&self) -> Value {
        let anchor = if self.docs == "docs/lints.md" {
            format!("{}#{}", self.docs, self.id)
        } else {
            self.docs.to_string()
        };
        json!({
            "id": self.id,
            "shortDescription": {"text": self.summary},
            "help": {
                "text": format!("{} Documentation: {anchor}.", self.summary),
                "markdown": format!("{} See [{anchor}]({anchor}).", self.summary),
            },
            "defaultConfiguration": {"level": self.level.as_str()},
        })
    }
}

/// One result: a rule's finding, with its message and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    /// The text: what was found and, for a lint, the fix.
    pub message: String,
    /// Where; `None` when no file holds it (a generated case, standard input).
    pub location: Option<Location>,
}

/// The SARIF log of one run of keyward with `rules` (each finding's rule among them).
pub fn log(rules: &[Rule], findings: &[Finding]) -> Value {
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule,
                "level": f.level.as_str(),
                "message": {"text": f.message},
            });
            if let Some(i) = rules.iter().position(|x| x.id == f.rule) {
                r["ruleIndex"] = json!(i);
            }
            if let Some(l) = &f.location {
                r["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&l.file)},
                        "region": {"startLine": l.at.line, "startColumn": l.at.column},
                    }
                }]);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keyward",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(Rule::to_json).collect::<Vec<_>>(),
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    })
}

/// A file's path as a URI reference: relative paths stay relative (to the directory keyward
/// ran in, which code-scanning tools take as the repository's root), with `/` between
/// segments and every other byte outside RFC 3986's unreserved set percent-encoded.
pub fn uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("./policies/scp.json"), "policies/scp.json");
        assert_eq!(uri("team policies/a+b.json"), "team%20policies/a%2Bb.json");
        assert_eq!(uri("/abs/x.json"), "file:///abs/x.json");
    }
}
