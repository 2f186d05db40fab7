//! Numeric operators: integer or decimal values.
//!
//! Assumption A-NUMERIC-SYNTAX: the docs say only "integer or decimal". keyward reads an optional
//! sign, digits and an optional fraction (`30`, `-2`, `30.0`, `.5`); exponents, hex, blanks and
//! anything else do not parse, so they never match (the docs' rule for values of the wrong type).

pub(crate) fn parse(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The other reading of A-NUMERIC-SYNTAX: the widest syntax a program might use, the longest
/// number at the start of the text after blanks (as JavaScript's `parseFloat` reads it):
/// exponents, `30days` as 30, `2020-01-01` as 2020. Only finite values.
pub(crate) fn lenient(s: &str) -> Option<f64> {
    let t = s.trim_start();
    let b = t.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let start = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut end = digits(start);
    if b.get(end) == Some(&b'.') {
        end = digits(end + 1);
    }
    // Text without a digit before the exponent ("", "+", ".", ".e5") is refused by the parse
    // below, as `parseFloat` refuses it.
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        let exp_end = digits(end + 1 + sign);
        if exp_end > end + 1 + sign {
            end = exp_end;
        }
    }
    t[..end].parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::{lenient, parse};

    #[test]
    fn the_other_reading_takes_exponents_and_blanks() {
        assert_eq!(parse("1e3"), None);
        assert_eq!(lenient("1e3"), Some(1000.0));
        assert_eq!(lenient(" 30 "), Some(30.0));
        assert_eq!(lenient("inf"), None);
        assert_eq!(lenient("thirty"), None);
        assert_eq!(lenient("30days"), Some(30.0));
        assert_eq!(lenient("2020-01-01T00:00:00Z"), Some(2020.0));
        assert_eq!(lenient("-.5e1x"), Some(-5.0));
        assert_eq!(lenient("."), None);
        assert_eq!(lenient("1e"), Some(1.0));
        assert_eq!(lenient("1e+3"), Some(1000.0));
        // An exponent without digits is not part of the number.
        assert_eq!(lenient("1e+"), Some(1.0));
        assert_eq!(lenient("5e-days"), Some(5.0));
        assert_eq!(lenient("2.5E-1days"), Some(0.25));
        for none in ["", " ", "+", "-", ".", "-.", ".e5", "e5", "+e", "x1"] {
            assert_eq!(lenient(none), None, "{none:?}");
        }
    }

    #[test]
    fn integers_and_decimals() {
        assert_eq!(parse("30"), Some(30.0));
        assert_eq!(parse("30.0"), Some(30.0));
        assert_eq!(parse("-2"), Some(-2.0));
        assert_eq!(parse("+5"), Some(5.0));
        assert_eq!(parse(".5"), Some(0.5));
        assert_eq!(parse("36600"), Some(36600.0));
    }

    #[test]
    fn everything_else_is_not_a_number() {
        for s in [
            "", " 30", "30 ", "3e1", "0x1E", "abc", ".", "-", "1.2.3", "NaN", "inf", "1,000",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }
}
