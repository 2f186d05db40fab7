//! Calendar times in UTC: SigV4's basic format (`20250701T000000Z`) and RFC 3339 for display.
//!
//! Everything here returns `None` instead of panicking outside the years 0000–9999, the range
//! that four-digit year formats can write and that the time crate handles without panics.

use std::time::{SystemTime, UNIX_EPOCH};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// `t` in UTC with the sub-second part dropped towards the past, as a timestamp cut to whole
/// seconds is.
pub(crate) fn whole_seconds(t: SystemTime) -> Option<OffsetDateTime> {
    let seconds = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(before_epoch) => {
            let d = before_epoch.duration();
            let whole = i64::try_from(d.as_secs()).ok()?;
            if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    };
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
}

/// `2025-07-01T00:00:00Z`, or the plain `Debug` form outside the years 0000–9999.
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    match whole_seconds(t) {
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{t:?}"),
    }
}

/// `2025-07-01T00:00:00Z` for a time in seconds since the epoch, or `N seconds since the epoch`
/// outside the years 0000–9999.
pub(crate) fn format_epoch(t: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .filter(|d| (0..=9999).contains(&d.year()))
    {
        Some(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        None => format!("{t} seconds since the epoch"),
    }
}

/// `yyyymmdd`, as in a credential scope.
pub(crate) fn format_basic_date(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `yyyymmddThhmmssZ`, as in X-Amz-Date.
pub(crate) fn format_basic_date_time(t: OffsetDateTime) -> String {
    format!(
        "{}T{:02}{:02}{:02}Z",
        format_basic_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Only plain ASCII digits: `str::parse` would also take a leading `+`.
fn digits(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `yyyymmdd`, a real calendar date.
pub(crate) fn parse_basic_date(s: &str) -> Option<Date> {
    if s.len() != 8 {
        return None;
    }
    let year = i32::try_from(digits(s.get(0..4)?)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(s.get(4..6)?)?).ok()?).ok()?;
    let day = u8::try_from(digits(s.get(6..8)?)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// `yyyymmddThhmmssZ`, always UTC; no leap seconds, as in SigV4.
pub(crate) fn parse_basic_date_time(s: &str) -> Option<OffsetDateTime> {
    if s.len() != 16 || s.get(8..9)? != "T" || s.get(15..16)? != "Z" {
        return None;
    }
    let date = parse_basic_date(s.get(0..8)?)?;
    let field = |range| u8::try_from(digits(s.get(range)?)?).ok();
    let time = Time::from_hms(field(9..11)?, field(11..13)?, field(13..15)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn basic_formats_round_trip() {
        for s in [
            "20250701T000000Z",
            "20240229T123456Z",
            "00000101T000000Z",
            "99991231T235959Z",
        ] {
            assert_eq!(format_basic_date_time(parse_basic_date_time(s).unwrap()), s);
        }
        for bad in [
            "20250229T000000Z",
            "20250701T240000Z",
            "20250701T235960Z",
            "2025070 T000000Z",
            "+2025701T000000Z",
            "20250701t000000z",
            "20250701T000000",
            "２０２５0701T000000Z",
            // One part wrong at a time: the separator, the zone, the length, a sign in a field.
            "20250701X000000Z",
            "20250701T000000X",
            "20250701T0000000Z",
            "2025+701T000000Z",
            "20250701T+00000Z",
            "20250701T00000+Z",
        ] {
            assert_eq!(parse_basic_date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn whole_seconds_floors_and_bounds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(whole_seconds(t).unwrap().unix_timestamp(), 1);
        let t = UNIX_EPOCH - Duration::from_millis(1_500);
        assert_eq!(whole_seconds(t).unwrap().unix_timestamp(), -2);
        // A whole number of seconds before the epoch stays where it is.
        let t = UNIX_EPOCH - Duration::from_secs(2);
        assert_eq!(whole_seconds(t).unwrap().unix_timestamp(), -2);
        assert!(whole_seconds(UNIX_EPOCH + Duration::from_secs(253_402_300_800)).is_none());
        assert_eq!(
            format_rfc3339(UNIX_EPOCH + Duration::from_secs(1_751_328_000)),
            "2025-07-01T00:00:00Z"
        );
    }
}
