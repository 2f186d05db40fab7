//! The classes of credential ages on which every condition on the age answers alike.
//!
//! keyward-iam says, for each condition, at which integers its answer may change
//! ([`keyward_iam::Condition::integer_cuts`]): a numeric condition compares the age `n` with a
//! constant `x` alike below `floor(x)`, at `floor(x)` and `ceil(x)`, and above; a date reads
//! four digits as a year and other digits as epoch seconds; and so on. The ages from one cut to
//! the next form a class, and one evaluation of a class answers for all its ages.
//!
//! A wildcard pattern on the age's text (`1*`) or a policy variable in a value has no such
//! cuts. Then each age is asked of that condition alone ([`keyward_iam::Condition::behaviour`],
//! under every reading of the assumptions), a class starts wherever its behaviour changes, and
//! classes on which every condition on the age behaves alike share one evaluation: exact, and
//! a few condition checks per age instead of a whole evaluation. Only where a policy variable
//! reads the age (so that more than the conditions on the age depend on it) is every age
//! evaluated on its own.

use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;

use keyward_iam::{Behaviour, Condition, ContextValue, PolicySet, Request};

use super::{Answer, MAX_AGE};

/// The condition key of the credential's age (the IAM service authorization reference).
pub(crate) const AGE_KEY: &str = "iam:ServiceSpecificCredentialAgeDays";

/// How the ages 1..=[`MAX_AGE`] are split into classes that answer alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Classes {
    /// Ranges, in ascending order, fixed by the constants the age is compared with.
    Ranges(Vec<RangeInclusive<u32>>),
    /// Some condition on the age has no known cuts (a wildcard, a policy variable): ranges
    /// start, per request, at `starts` and wherever such a condition's behaviour changes from
    /// one age to the next.
    Scan {
        /// Where the classes of the conditions with known cuts start.
        starts: BTreeSet<u32>,
    },
    /// Every age on its own: a policy variable reads the age.
    EachAge,
}

/// The classes of `set`'s ages.
pub(crate) fn classes(set: &PolicySet) -> Classes {
    let age_lc = AGE_KEY.to_ascii_lowercase();
    // A variable that reads the age makes more than the conditions on the age depend on it.
    if set.variables().any(|v| v == age_lc) {
        return Classes::EachAge;
    }
    let mut starts = BTreeSet::from([1]);
    let mut scan = false;
    for c in set.conditions().filter(|c| on_age(c)) {
        match c.integer_cuts(1..=MAX_AGE) {
            Some(cuts) => starts.extend(cuts),
            None => scan = true,
        }
    }
    if scan {
        Classes::Scan { starts }
    } else {
        Classes::Ranges(ranges(&starts))
    }
}

fn on_age(c: &Condition) -> bool {
    c.key().eq_ignore_ascii_case(AGE_KEY)
}

/// The ranges of ages that start at each of `starts` (which holds 1) and end before the next.
fn ranges(starts: &BTreeSet<u32>) -> Vec<RangeInclusive<u32>> {
    let starts: Vec<u32> = starts.iter().copied().collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| start..=starts.get(i + 1).map_or(MAX_AGE, |next| next - 1))
        .collect()
}

/// The answers over the ages: maximal ranges of ages that answer alike, in ascending order.
pub(crate) type ByAge = Vec<(RangeInclusive<u32>, Answer)>;

/// The answer to `base` with each age 1..=[`MAX_AGE`] added, as maximal ranges of ages that
/// answer alike, in ascending order.
pub(crate) fn by_age(
    set: &PolicySet,
    classes: &Classes,
    base: &Request,
    answer: impl Fn(&Request) -> Answer,
) -> ByAge {
    let mut request = base.clone();
    let mut out = Vec::new();
    match classes {
        Classes::Ranges(ranges) => {
            for r in ranges {
                set_age(&mut request, *r.start());
                push_merged(&mut out, r.clone(), answer(&request));
            }
        }
        Classes::EachAge => {
            for age in 1..=MAX_AGE {
                set_age(&mut request, age);
                push_merged(&mut out, age..=age, answer(&request));
            }
        }
        Classes::Scan { starts } => {
            // Only the conditions of statements on the request's action are ever read.
            let read: Vec<&Condition> = set
                .conditions_for_action(base)
                .filter(|c| on_age(c))
                .collect();
            let mut starts = starts.clone();
            for c in read
                .iter()
                .filter(|c| c.integer_cuts(1..=MAX_AGE).is_none())
            {
                let mut last = None;
                for age in 1..=MAX_AGE {
                    set_age(&mut request, age);
                    let b = c.behaviour(&request.context);
                    if last.as_ref() != Some(&b) {
                        starts.insert(age);
                        last = Some(b);
                    }
                }
            }
            // Ranges on which every condition read behaves alike answer alike: one
            // evaluation answers for all of them.
            let mut seen: HashMap<Vec<Behaviour>, Answer> = HashMap::new();
            for range in ranges(&starts) {
                let start = *range.start();
                set_age(&mut request, start);
                let behaviours: Vec<Behaviour> =
                    read.iter().map(|c| c.behaviour(&request.context)).collect();
                let a = seen
                    .entry(behaviours)
                    .or_insert_with(|| answer(&request))
                    .clone();
                push_merged(&mut out, range, a);
            }
        }
    }
    out
}

/// Sets the age key of `request` to `age`, as [`crate::CreateKeyScenario::create_request`]
/// sets it; in place, since the ages are asked one after another.
fn set_age(request: &mut Request, age: u32) {
    use std::fmt::Write;
    match request.context.get_mut(AGE_KEY) {
        Some(ContextValue::Single(s)) => {
            s.clear();
            let _ = write!(s, "{age}");
        }
        _ => request
            .context
            .insert(AGE_KEY, ContextValue::single(age.to_string())),
    }
}

/// Adds `range` with its answer, joined to the last range when they answer alike.
fn push_merged(out: &mut ByAge, range: RangeInclusive<u32>, a: Answer) {
    match out.last_mut() {
        Some((last, answer)) if *answer == a => *last = *last.start()..=*range.end(),
        _ => out.push((range, a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_start_at_each_start_and_end_before_the_next() {
        let starts: BTreeSet<u32> = [1, 5, 6, 7, 36_600].into_iter().collect();
        assert_eq!(
            ranges(&starts),
            [1..=4, 5..=5, 6..=6, 7..=36_599, 36_600..=36_600]
        );
        assert_eq!(ranges(&BTreeSet::from([1])), [1..=MAX_AGE]);
        assert_eq!(ranges(&BTreeSet::from([1, 2])), [1..=1, 2..=MAX_AGE]);
    }
}
