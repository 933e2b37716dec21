//! JSON bodies of the emulated API, in Truora's field names and order.

use serde::Serialize;
use truidentidad_scenarios::{Observation, Scenario, ValidationStatus};

use std::io::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::Clock;
use crate::store::View;

/// `details` with `show_details=true`. Truora does not document the government block; the
/// mock's choice mirrors `face_recognition_validations` (see the README's fidelity notes).
#[derive(Debug, Serialize)]
pub struct Details {
    pub government_validations: GovernmentDetails,
}

#[derive(Debug, Serialize)]
pub struct GovernmentDetails {
    /// Always `registraduria`.
    pub source: &'static str,
    pub country: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    /// `pending`, `success` or `failure`: did the face match the registry photo.
    pub similarity_status: &'static str,
    /// `pending`, `success` or `failure`: did the liveness check pass.
    pub passive_liveness_status: &'static str,
    /// 0..1 once the face was compared; absent while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<f64>,
}

fn details(view: &View, obs: &Observation) -> Details {
    let (similarity, liveness, score) = match obs.outcome {
        None => ("pending", "pending", None),
        Some(o) => match o.declined_reason() {
            Some("similarity_threshold_not_passed") => ("failure", "success", Some(0.31)),
            Some(
                "liveness_verification_not_passed" | "passive_liveness_verification_not_passed",
            ) => ("pending", "failure", None),
            _ if o.status() == ValidationStatus::Success => ("success", "success", Some(0.97)),
            _ => ("pending", "pending", None),
        },
    };
    Details {
        government_validations: GovernmentDetails {
            source: "registraduria",
            country: "CO",
            document_number: view
                .record
                .params
                .as_ref()
                .and_then(|p| p.document_number.clone()),
            similarity_status: similarity,
            passive_liveness_status: liveness,
            confidence_score: score,
        },
    }
}

/// Renders a validation as the API returns it, in Truora's field names and order.
///
/// Written field by field into one buffer rather than through a `Serialize` struct: this
/// runs on every create and poll, and serde's generic path (a `collect_str` for the address,
/// `fmt` for the date) was the largest single cost of answering a poll. The tests check the
/// bytes against a serde reference model of the same body.
pub fn validation(view: &View, clock: &dyn Clock, show_details: bool) -> Vec<u8> {
    let obs = &view.observation;
    let outcome = obs.outcome;
    let record = &view.record;
    let mut out = Vec::with_capacity(320);
    out.extend_from_slice(b"{\"validation_id\":\"");
    out.extend_from_slice(&record.id.encode());
    out.extend_from_slice(b"\",\"ip_address\":\"");
    write_ip(&mut out, record.ip);
    out.extend_from_slice(b"\",\"account_id\":");
    write_json(&mut out, &*record.account_id);
    out.extend_from_slice(b",\"type\":\"government\",\"validation_status\":");
    write_json(&mut out, obs.status.as_str());
    out.extend_from_slice(b",\"creation_date\":\"");
    write_rfc3339_nanos(&mut out, clock.wall(record.created));
    out.push(b'"');
    if let Some(t) = record.params.as_ref().and_then(|p| p.threshold) {
        out.extend_from_slice(b",\"threshold\":");
        write_json(&mut out, &t);
    }
    let optional = [
        ("failure_status", outcome.and_then(|o| o.failure_status())),
        ("declined_reason", outcome.and_then(|o| o.declined_reason())),
        ("expired_reason", outcome.and_then(|o| o.expired_reason())),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            write_json(&mut out, v);
        }
    }
    if show_details {
        out.extend_from_slice(b",\"details\":");
        write_json(&mut out, &details(view, obs));
    }
    out.push(b'}');
    out
}

/// Appends a value as serde_json writes it: strings quoted and escaped, numbers as
/// `serde_json` formats them, and the rarely asked-for `details`.
fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a `Vec` cannot fail, and these types always serialize.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Appends an address as `Display` writes it, IPv4 without going through `fmt`.
fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                if octet >= 100 {
                    out.push(b'0' + octet / 100);
                }
                if octet >= 10 {
                    out.push(b'0' + octet / 10 % 10);
                }
                out.push(b'0' + octet % 10);
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// The last second RFC 3339's four-digit year (and `humantime`) can write:
/// 9999-12-31T23:59:59.
const MAX_RFC3339_SECS: u64 = 253_402_300_799;

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

/// The phase name a pending validation is in, or `outcome` once terminal.
pub fn phase_name(scenario: &Scenario, obs: &Observation) -> String {
    scenario
        .phases
        .get(obs.phase)
        .filter(|_| !obs.status.is_terminal())
        .map_or_else(|| "outcome".to_string(), |p| p.name.clone())
}

#[cfg(test)]
mod tests {
    //! The hand-written renderer against a serde model of the same body: the struct the
    //! mock used to serialize, kept here as the reference for field names, order, escaping
    //! and number and date formats.
    use super::*;
    use crate::clock::ManualClock;
    use crate::ids::ValidationId;
    use crate::store::{CreateParams, Record};
    use proptest::prelude::*;
    use std::sync::Arc;
    use std::time::Duration;
    use truidentidad_scenarios::Outcome;
    use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};

    #[derive(Serialize)]
    struct ReferenceBody<'a> {
        validation_id: String,
        ip_address: IpAddr,
        account_id: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        validation_status: &'static str,
        creation_date: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        threshold: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure_status: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        declined_reason: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expired_reason: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        details: Option<Details>,
    }

    fn reference(view: &View, clock: &dyn Clock, show_details: bool) -> Vec<u8> {
        let outcome = view.observation.outcome;
        serde_json::to_vec(&ReferenceBody {
            validation_id: view.record.id.to_string(),
            ip_address: view.record.ip,
            account_id: &view.record.account_id,
            kind: "government",
            validation_status: view.observation.status.as_str(),
            creation_date: humantime::format_rfc3339_nanos(clock.wall(view.record.created))
                .to_string(),
            threshold: view.record.params.as_ref().and_then(|p| p.threshold),
            failure_status: outcome.and_then(|o| o.failure_status()),
            declined_reason: outcome.and_then(|o| o.declined_reason()),
            expired_reason: outcome.and_then(|o| o.expired_reason()),
            details: show_details.then(|| details(view, &view.observation)),
        })
        .unwrap()
    }

    fn outcome() -> impl Strategy<Value = Option<Outcome>> {
        prop_oneof![
            Just(None),
            Just(Some(Outcome::Success)),
            Just(Some(Outcome::SystemError)),
            prop::sample::select(DECLINED_REASONS)
                .prop_map(|r| Some(Outcome::Declined { reason: r })),
            prop::sample::select(EXPIRED_REASONS)
                .prop_map(|r| Some(Outcome::Expired { reason: r })),
        ]
    }

    fn view(
        id: u128,
        ip: IpAddr,
        account_id: &str,
        created: Duration,
        params: Option<CreateParams>,
        outcome: Option<Outcome>,
    ) -> View {
        View {
            record: Record {
                id: ValidationId(id),
                seq: 0,
                account_id: Arc::from(account_id),
                scenario: Default::default(),
                created,
                timeout: Duration::from_secs(300),
                polls_total: 0,
                polls_counted: 0,
                changes: None,
                ip,
                params: params.map(Arc::new),
                journey: None,
            },
            observation: Observation {
                status: outcome.map_or(ValidationStatus::Pending, |o| o.status()),
                outcome,
                phase: 0,
            },
            now: created,
        }
    }

    proptest! {
        #[test]
        fn matches_the_serde_model(
            id in any::<u128>(),
            ip in any::<IpAddr>(),
            account_id in any::<String>(),
            start_secs in 0u64..=MAX_RFC3339_SECS - 1_000_000,
            created_nanos in 0u64..1_000_000_000_000,
            threshold in prop::option::of(prop_oneof![any::<f64>(), 0.0f64..1.0]),
            document_number in prop::option::of(any::<String>()),
            outcome in outcome(),
            show_details in any::<bool>(),
        ) {
            let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(start_secs));
            let params = (threshold.is_some() || document_number.is_some()).then(|| CreateParams {
                threshold,
                document_number,
                ..CreateParams::default()
            });
            let v = view(id, ip, &account_id, Duration::from_nanos(created_nanos), params, outcome);
            let ours = validation(&v, &clock, show_details);
            let theirs = reference(&v, &clock, show_details);
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }

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
