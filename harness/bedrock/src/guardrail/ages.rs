//! The classes of credential ages on which every condition on the age answers alike.
//!
//! A numeric condition compares the age `n` with a constant `x`: `n < x`, `n == x` or `n > x`.
//! Mark `floor(x)` and `ceil(x)` of every constant; each marked age is a class of its own, and
//! the ages strictly between two neighbouring marks form one class. No constant lies strictly
//! inside such a gap (its floor or its ceiling would be a mark inside it), so every age of a gap
//! compares alike with every constant. String equality with a number's text is the same
//! question (`"5"` equals the age 5 only), so it is marked the same way. Numbers are read as
//! the evaluator reads them under both readings of A-NUMERIC-SYNTAX (`"30days"` is 30 under the
//! wider one), so what an answer rests on is constant on a class too.
//!
//! Anything else on the age (a wildcard pattern such as `1*`; a date, Bool, IP, binary or ARN
//! operator; a policy variable in a value; a variable anywhere that reads the age) is not
//! known to be constant on such gaps; the analysis then falls back to one class per age, which
//! is exact and slower.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use keyward_iam::{BaseOp, Family, PolicySet};

use super::{Answer, MAX_AGE};

/// The condition key of the credential's age (the IAM service authorization reference).
pub(crate) const AGE_KEY: &str = "iam:ServiceSpecificCredentialAgeDays";

/// The classes covering 1..=[`MAX_AGE`], in ascending order.
pub(crate) fn classes(set: &PolicySet) -> Vec<RangeInclusive<u32>> {
    match marks(set) {
        Some(marks) => from_marks(&marks),
        None => (1..=MAX_AGE).map(|n| n..=n).collect(),
    }
}

/// The marked ages, or `None` when some condition on the age is not constant between marks.
fn marks(set: &PolicySet) -> Option<BTreeSet<u32>> {
    let age_lc = AGE_KEY.to_ascii_lowercase();
    // A variable that reads the age makes some other value depend on it.
    if set.variables().any(|v| v == age_lc) {
        return None;
    }
    let mut marks = BTreeSet::new();
    for c in set.conditions() {
        if !c.key().eq_ignore_ascii_case(AGE_KEY) {
            continue;
        }
        let op = c.operator();
        let exact = match op.family() {
            Family::Numeric | Family::Null => true,
            Family::String => match op.base() {
                BaseOp::StringLike | BaseOp::StringNotLike => {
                    c.literals().all(|l| !l.contains(['*', '?']))
                }
                _ => true,
            },
            _ => false,
        };
        if !exact || c.has_variables() {
            return None;
        }
        if op.family() == Family::Null {
            continue;
        }
        // Each number a value reads as, under either reading of IAM's numeric syntax (what
        // the assumptions an answer rests on are computed with): a mark too many only splits
        // a class.
        for x in c.numbers() {
            for m in [x.floor(), x.ceil()] {
                if (1.0..=f64::from(MAX_AGE)).contains(&m) {
                    marks.insert(m as u32);
                }
            }
        }
    }
    Some(marks)
}

fn from_marks(marks: &BTreeSet<u32>) -> Vec<RangeInclusive<u32>> {
    let mut out = Vec::with_capacity(2 * marks.len() + 1);
    let mut next = 1;
    for &m in marks {
        if m > next {
            out.push(next..=m - 1);
        }
        out.push(m..=m);
        next = m + 1;
    }
    if next <= MAX_AGE {
        out.push(next..=MAX_AGE);
    }
    out
}

/// Joins neighbouring classes with the same answer into maximal ranges.
pub(crate) fn merge(
    classes: &[RangeInclusive<u32>],
    answers: &[Answer],
) -> Vec<(RangeInclusive<u32>, Answer)> {
    let mut out: Vec<(RangeInclusive<u32>, Answer)> = Vec::new();
    for (class, answer) in classes.iter().zip(answers) {
        match out.last_mut() {
            Some((range, last)) if last == answer => *range = *range.start()..=*class.end(),
            _ => out.push((class.clone(), answer.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_split_around_integers_and_between_decimals() {
        let marks: BTreeSet<u32> = [5, 6, 36_600].into_iter().collect();
        assert_eq!(
            from_marks(&marks),
            [1..=4, 5..=5, 6..=6, 7..=36_599, 36_600..=36_600]
        );
        assert_eq!(from_marks(&BTreeSet::new()), [1..=MAX_AGE]);
        let first: BTreeSet<u32> = [1].into_iter().collect();
        assert_eq!(from_marks(&first), [1..=1, 2..=MAX_AGE]);
    }
}
