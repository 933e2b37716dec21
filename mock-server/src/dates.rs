//! The one way the server writes a date: RFC 3339 UTC with nine fraction digits, as Truora
//! writes `creation_date` (`2026-01-01T00:00:00.000000000Z`). Response bodies, the control
//! API, the journey timeline and the dashboard all go through it, so the same instant reads
//! the same everywhere, and a wall clock set far off is clamped the same way everywhere.

use std::time::{SystemTime, UNIX_EPOCH};

/// `t` as RFC 3339 text (see [`write_rfc3339_nanos`]).
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let mut out = Vec::with_capacity(30);
    write_rfc3339_nanos(&mut out, t);
    // Only ASCII digits and punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// The last second RFC 3339's four-digit year (and `humantime`) can write:
/// 9999-12-31T23:59:59.
pub const MAX_RFC3339_SECS: u64 = 253_402_300_799;

/// Appends a wall-clock time as RFC 3339 UTC with nine fraction digits, as Truora writes
/// dates: `2026-01-01T00:00:00.000000000Z`, the text `humantime::format_rfc3339_nanos`
/// gives. Times outside the years 1970..=9999 are clamped to them rather than panicking as
/// `humantime` does (a wall clock set far off must not take the server down).
pub fn write_rfc3339_nanos(out: &mut Vec<u8>, t: SystemTime) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, nanos) = if since.as_secs() > MAX_RFC3339_SECS {
        (MAX_RFC3339_SECS, 999_999_999)
    } else {
        (since.as_secs(), since.subsec_nanos())
    };
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], of_day / 3600);
    put_digits(&mut text[14..16], of_day / 60 % 60);
    put_digits(&mut text[17..19], of_day % 60);
    put_digits(&mut text[20..29], u64::from(nanos));
    out.extend_from_slice(&text);
}

/// Writes `n` as decimal digits filling `dest`, zero-padded on the left.
fn put_digits(dest: &mut [u8], mut n: u64) {
    for d in dest.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01: Howard
/// Hinnant's `civil_from_days`, restricted to non-negative counts.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    proptest! {
        #[test]
        fn dates_match_humantime(secs in 0u64..=MAX_RFC3339_SECS, nanos in 0u32..1_000_000_000) {
            let t = UNIX_EPOCH + Duration::new(secs, nanos);
            let mut ours = Vec::new();
            write_rfc3339_nanos(&mut ours, t);
            prop_assert_eq!(
                String::from_utf8(ours).unwrap(),
                humantime::format_rfc3339_nanos(t).to_string()
            );
        }
    }

    #[test]
    fn dates_on_calendar_edges() {
        let text = |secs: u64, nanos: u32| {
            let mut out = Vec::new();
            write_rfc3339_nanos(&mut out, UNIX_EPOCH + Duration::new(secs, nanos));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(0, 0), "1970-01-01T00:00:00.000000000Z");
        // 2024 is a leap year: the day after Feb 28 is Feb 29, and Dec 31 is day 366.
        assert_eq!(text(1_709_164_800, 5), "2024-02-29T00:00:00.000000005Z");
        assert_eq!(
            text(1_735_689_599, 999_999_999),
            "2024-12-31T23:59:59.999999999Z"
        );
        // 2100 is not: Feb 28 is followed by Mar 1.
        assert_eq!(text(4_107_542_400, 0), "2100-03-01T00:00:00.000000000Z");
        assert_eq!(text(MAX_RFC3339_SECS, 0), "9999-12-31T23:59:59.000000000Z");
    }

    #[test]
    fn dates_outside_the_writable_years_are_clamped_not_a_panic() {
        let mut before = Vec::new();
        write_rfc3339_nanos(&mut before, UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(before, b"1970-01-01T00:00:00.000000000Z");
        let mut after = Vec::new();
        write_rfc3339_nanos(
            &mut after,
            UNIX_EPOCH + Duration::from_secs(MAX_RFC3339_SECS + 10),
        );
        assert_eq!(after, b"9999-12-31T23:59:59.999999999Z");
    }
}
