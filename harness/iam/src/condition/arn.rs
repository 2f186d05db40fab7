//! ArnEquals / ArnLike (identical) and their negations: the six colon-separated ARN components
//! are matched one by one, case-sensitively, with `*` and `?` inside each component.
//!
//! A pattern with fewer than six components (e.g. `*`) is matched component by component against
//! the same number of request components, the last one taking the rest of the ARN (assumption
//! A-ARN-SHORT-PATTERN): the docs only show six-component patterns; this keeps `"*"` matching
//! every ARN.

use crate::assumptions::{AssumptionId, Reading};
use crate::pattern::Glob;

/// Whether a request value has an ARN's shape: `arn:` and six colon-separated components.
pub(crate) fn looks_like_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.matches(':').count() >= 5
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArnPattern {
    parts: Vec<Glob>,
}

impl ArnPattern {
    pub(crate) fn new(pattern: &str) -> ArnPattern {
        ArnPattern {
            parts: pattern.splitn(6, ':').map(Glob::new).collect(),
        }
    }

    pub(crate) fn from_globs(parts: Vec<Glob>) -> ArnPattern {
        ArnPattern { parts }
    }

    /// Fewer than six components: not an ARN's shape.
    pub(crate) fn is_short(&self) -> bool {
        self.parts.len() < 6
    }

    /// [`ArnPattern::is_match`], where a short pattern's match is an assumed choice whose other
    /// reading is that it matches nothing.
    pub(crate) fn is_match_under(&self, arn: &str, reading: &Reading) -> bool {
        self.is_match(arn)
            && !(self.parts.len() < 6 && reading.other(AssumptionId::ArnShortPattern))
    }

    pub(crate) fn is_match(&self, arn: &str) -> bool {
        let n = self.parts.len();
        let mut it = arn.splitn(n, ':');
        for g in &self.parts {
            match it.next() {
                Some(c) if g.is_match(c) => {}
                _ => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::ArnPattern;

    #[test]
    fn component_wise() {
        let p = ArnPattern::new("arn:aws:sns:us-west-2:123456789012:TOPIC-ID");
        assert!(p.is_match("arn:aws:sns:us-west-2:123456789012:TOPIC-ID"));
        assert!(!p.is_match("arn:aws:sns:us-west-2:777788889999:TOPIC-ID"));
        assert!(!p.is_match("arn:aws:sns:us-west-2:123456789012:topic-id"));
        let p = ArnPattern::new("arn:aws:iam::*:role/*");
        assert!(p.is_match("arn:aws:iam::123456789012:role/x/y"));
        // a wildcard stays inside its component: `*` in the account cannot eat the `:`
        let p = ArnPattern::new("arn:aws:s3:::*");
        assert!(p.is_match("arn:aws:s3:::bucket/a:b"));
        assert!(!ArnPattern::new("arn:aws:iam::*:*").is_match("arn:aws:iam::1"));
        assert!(ArnPattern::new("*").is_match("arn:aws:iam::123456789012:user/x"));
        assert!(!p.is_match("not-an-arn"));
    }
}
