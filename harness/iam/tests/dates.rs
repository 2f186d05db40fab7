//! The date operators' parser against an independent calendar (the `time` crate): every date
//! and time it accepts lands on the instant `time` computes, and every day that does not exist
//! (30 February, 31 April, 29 February of a common year) is refused as `time` refuses it.

use keyward_iam::parse_date;
use proptest::prelude::*;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

fn instant(date: Date, t: Time, nanos: u32, offset: UtcOffset) -> i128 {
    PrimitiveDateTime::new(date, t)
        .replace_nanosecond(nanos)
        .unwrap()
        .assume_offset(offset)
        .unix_timestamp_nanos()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn days_exist_as_the_calendar_says(year in 1i32..=9999, month in 1u8..=12, day in 1u8..=31) {
        let text = format!("{year:04}-{month:02}-{day:02}");
        let real = Date::from_calendar_date(year, Month::try_from(month).unwrap(), day);
        match real {
            Ok(d) => prop_assert_eq!(
                parse_date(&text),
                Some(instant(d, Time::MIDNIGHT, 0, UtcOffset::UTC)),
                "{}", text
            ),
            Err(_) => prop_assert_eq!(parse_date(&text), None, "{}", text),
        }
    }

    #[test]
    fn date_times_with_zones_are_the_instant_the_calendar_gives(
        year in 1i32..=9999,
        month in 1u8..=12,
        day in 1u8..=28,
        (hour, minute, second) in (0u8..24, 0u8..60, 0u8..60),
        fraction in proptest::option::of("[0-9]{1,9}"),
        zone in prop_oneof![
            Just(None),
            (any::<bool>(), 0i8..24, 0i8..60, any::<bool>()).prop_map(Some),
        ],
    ) {
        let date = Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap();
        let mut text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
        let mut nanos = 0;
        if let Some(f) = &fraction {
            text.push('.');
            text.push_str(f);
            nanos = format!("{f:0<9}").parse().unwrap();
        }
        let offset = match zone {
            None => {
                text.push('Z');
                UtcOffset::UTC
            }
            Some((east, h, m, colon)) => {
                let sign = if east { '+' } else { '-' };
                let sep = if colon { ":" } else { "" };
                text.push_str(&format!("{sign}{h:02}{sep}{m:02}"));
                let (h, m) = if east { (h, m) } else { (-h, -m) };
                UtcOffset::from_hms(h, m, 0).unwrap()
            }
        };
        let t = Time::from_hms(hour, minute, second).unwrap();
        prop_assert_eq!(parse_date(&text), Some(instant(date, t, nanos, offset)), "{}", text);
    }

    #[test]
    fn shorter_forms_are_the_start_of_their_period(year in 1i32..=9999, month in 1u8..=12) {
        let first = |m: u8| Date::from_calendar_date(year, Month::try_from(m).unwrap(), 1).unwrap();
        let at = |d: Date| Some(instant(d, Time::MIDNIGHT, 0, UtcOffset::UTC));
        prop_assert_eq!(parse_date(&format!("{year:04}")), at(first(1)));
        prop_assert_eq!(parse_date(&format!("{year:04}-{month:02}")), at(first(month)));
        let hm = format!("{year:04}-{month:02}-01T00:00");
        prop_assert_eq!(parse_date(&hm), at(first(month)), "{}", hm);
    }

    #[test]
    fn epoch_seconds_are_seconds(secs in -62_000_000_000i64..250_000_000_000) {
        // Four digits alone are a year, not seconds.
        prop_assume!(!(1000..=9999).contains(&secs));
        prop_assert_eq!(parse_date(&secs.to_string()), Some(i128::from(secs) * 1_000_000_000));
    }

    #[test]
    fn out_of_range_fields_are_refused(
        (hour, minute, second) in (0u8..30, 0u8..70, 0u8..70),
        (oh, om) in (0u8..30, 0u8..70),
    ) {
        let text = format!("2020-06-15T{hour:02}:{minute:02}:{second:02}+{oh:02}:{om:02}");
        // A leap second (60) is read, as ISO 8601 allows it.
        let valid = hour < 24 && minute < 60 && second <= 60 && oh < 24 && om < 60;
        prop_assert_eq!(parse_date(&text).is_some(), valid, "{}", text);
    }
}

#[test]
fn malformed_times_and_zones_are_refused() {
    for s in [
        "2020-06-15T",
        "2020-06-15T12",
        "2020-06-15T12:",
        "2020-06-15T12:3",
        "2020-06-15T12-30",
        "2020-06-15T12:30:",
        "2020-06-15T12:30:00.",
        "2020-06-15T12:30:00.5.",
        "2020-06-15T12:30:00Zx",
        "2020-06-15T12:30:00+",
        "2020-06-15T12:30:00+01",
        "2020-06-15T12:30:00+01:",
        "2020-06-15T12:30:00+01:000",
        "2020-06-15T12:30:00+010",
        "2020-06-15T12:30:00+01000",
        "2020-06-15t12:30:00Z",
        "2020-06T12:30:00Z",
        "2020T12:30:00Z",
        "2020-06-15X",
        "2020-06-",
        "2020-",
        "-",
        "+3600",
        "2020-00-10",
        "2020-06-00",
        // A sign is not a digit, in any field.
        "2020-+6-15",
        "+020-06-15",
        "2020-06-+5",
        "2020-06-15T+1:30:00Z",
        "2020-06-15T12:30:+0Z",
        "2020-06-15T12:30:00++1:00",
    ] {
        assert_eq!(parse_date(s), None, "{s:?}");
    }
    // A leap second and a fraction longer than nanoseconds (truncated) are read.
    assert_eq!(
        parse_date("2016-12-31T23:59:60Z"),
        parse_date("2017-01-01T00:00:00Z")
    );
    assert_eq!(
        parse_date("1970-01-01T00:00:00.1234567891Z"),
        Some(123_456_789)
    );
    assert_eq!(parse_date("-86400"), Some(-86_400_000_000_000));
}

/// Every 29 February from year 1 to 9999 exists exactly when the calendar says it does (the
/// random days above rarely land on a century).
#[test]
fn leap_days_are_the_calendars() {
    for year in 1..=9999 {
        let text = format!("{year:04}-02-29");
        let real = Date::from_calendar_date(year, Month::February, 29).is_ok();
        assert_eq!(parse_date(&text).is_some(), real, "{text}");
    }
}
