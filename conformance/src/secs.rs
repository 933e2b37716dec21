//! How the suite writes time: seconds as numbers (microsecond precision) in JSON, and `1.234s`
//! in messages; and how it reads the mock's seconds back ([`from_secs`]).

use std::time::Duration;

/// Seconds, rounded to the microsecond, as a JSON number.
pub fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e6)
}

pub fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => secs(d, s),
        None => s.serialize_none(),
    }
}

/// `1.234s`, the one way durations appear in messages.
pub fn fmt_secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// Seconds as the mock's control API writes them (`received`, `now_seconds`), read back; a
/// negative or non-finite number reads as zero.
pub fn from_secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}
