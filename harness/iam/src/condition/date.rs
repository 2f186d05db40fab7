//! Date operators: W3C ISO 8601 dates and times, or epoch seconds.
//! Source: reference_policies_elements_condition_operators.html#Conditions_Date
//!
//! Accepted forms: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fraction]]` with `Z`,
//! `±hh:mm` or `±hhmm` (no zone means UTC), and integer epoch seconds. Anything else does not
//! parse and so never matches.

/// Reads a date as the `Date...` condition operators do: W3C ISO 8601 (`YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fraction]]` with `Z`, `±hh:mm` or `±hhmm`; no zone
/// means UTC) or integer epoch seconds. The result is nanoseconds since
/// 1970-01-01T00:00:00Z; `None` for anything else (such a value never matches).
///
/// ```
/// assert_eq!(keyward_iam::parse_date("1970-01-02"), Some(86_400_000_000_000));
/// assert_eq!(keyward_iam::parse_date("86400"), Some(86_400_000_000_000));
/// assert_eq!(keyward_iam::parse_date("yesterday"), None);
/// ```
pub fn parse(s: &str) -> Option<i128> {
    if !s.is_empty()
        && s.strip_prefix('-')
            .unwrap_or(s)
            .bytes()
            .all(|b| b.is_ascii_digit())
        && s.len() != 4
    {
        let secs: i64 = s.parse().ok()?;
        return Some(secs as i128 * 1_000_000_000);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let year = num(0..4)?;
    let (mut month, mut day) = (1, 1);
    let mut i = 4;
    if b.get(i) == Some(&b'-') {
        month = num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'-') {
            day = num(i + 1..i + 3)?;
            i += 3;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos: i128 = 0;
    if i < b.len() {
        if b[i] != b'T' || i != 10 {
            return None;
        }
        let hh = num(i + 1..i + 3)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        let mm = num(i + 4..i + 6)?;
        i += 6;
        let mut ss = 0;
        if b.get(i) == Some(&b':') {
            ss = num(i + 1..i + 3)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                let frac = &s[start..end.min(start + 9)];
                nanos = frac.parse::<i128>().ok()? * 10i128.pow(9 - frac.len() as u32);
                i = end;
            }
        }
        if hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        secs += hh * 3600 + mm * 60 + ss;
        match b.get(i) {
            None | Some(b'Z') if i + 1 >= b.len() => {}
            Some(sign @ (b'+' | b'-')) => {
                let oh = num(i + 1..i + 3)?;
                let om = match b.get(i + 3) {
                    Some(b':') if b.len() == i + 6 => num(i + 4..i + 6)?,
                    Some(_) if b.len() == i + 5 => num(i + 3..i + 5)?,
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                secs += if *sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
    }
    Some(secs as i128 * 1_000_000_000 + nanos)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The year, from 1000 to 9999, in which instant `ns` (nanoseconds since the epoch) falls, as
/// a four-digit `YYYY` value reads; `None` outside those years.
pub(crate) fn year_of(ns: i128) -> Option<i64> {
    let start = |y: i64| i128::from(days_from_civil(y, 1, 1)) * 86_400 * 1_000_000_000;
    if ns < start(1000) || ns >= start(10_000) {
        return None;
    }
    // The last year that starts at or before `ns`.
    let (mut lo, mut hi) = (1000, 10_000);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if start(mid) <= ns {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's civil algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;
    const S: i128 = 1_000_000_000;

    #[test]
    fn iso_forms_and_epoch_agree() {
        let t = parse("2020-01-01T00:00:01Z").unwrap();
        assert_eq!(t, 1_577_836_801 * S);
        assert_eq!(parse("1577836801"), Some(t));
        assert_eq!(parse("2020-01-01T00:00:01+00:00"), Some(t));
        assert_eq!(parse("2020-01-01T01:00:01+01:00"), Some(t));
        assert_eq!(parse("2020-01-01T01:00:01+0100"), Some(t));
        assert_eq!(parse("2019-12-31T19:00:01-05:00"), Some(t));
        assert_eq!(parse("2020-01-01"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020-01-01T00:00"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020"), Some(1_577_836_800 * S));
        assert_eq!(
            parse("2020-01-01T00:00:00.5Z"),
            Some(1_577_836_800 * S + S / 2)
        );
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2024-02-29"), Some(1_709_164_800 * S));
    }

    #[test]
    fn malformed_dates_do_not_parse() {
        for s in [
            "",
            "yesterday",
            "2020-13-01",
            "2023-02-29",
            "2020-01-01T25:00:00Z",
            "2020-01-01 00:00:00",
            "2020-01-01T00:00:00Q",
            "2020-1-1",
            "12:00",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }
}
