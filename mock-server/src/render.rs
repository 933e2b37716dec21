//! JSON bodies of the emulated API, in Truora's field names and order.

use serde::Serialize;
use truidentidad_scenarios::{Observation, Outcome, Scenario};

use crate::dates::write_rfc3339_nanos;
use std::io::Write as _;
use std::net::IpAddr;

use crate::clock::Clock;
use crate::store::View;

/// `details` with `show_details=true`. Truora does not document the government block; the
/// mock's choice mirrors `face_recognition_validations` (see `docs/fidelity.md`). Like that
/// block it carries check results only, no personal data: the caller already knows the
/// document number it sent, and the person's data stays with Truora.
#[derive(Debug, Serialize)]
pub struct Details {
    pub government_validations: GovernmentDetails,
}

#[derive(Debug, Serialize)]
pub struct GovernmentDetails {
    /// Always `registraduria`.
    pub source: &'static str,
    pub country: &'static str,
    /// Did the face match the registry photo (see [`FaceChecks`]).
    pub similarity_status: &'static str,
    /// Did the liveness check pass (see [`FaceChecks`]).
    pub passive_liveness_status: &'static str,
    /// 0..1 once the face was compared; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<f64>,
}

/// What the two face checks say at a given outcome: `pending` while the validation is,
/// `success` or `failure` for a check that ran, and `skipped` for one that never ran (no video,
/// a liveness failure before the comparison, no registry photo, a system error, an expiry).
/// `skipped` is the word Truora's document validations use for a check not carried out; a
/// finished validation never reports `pending`, so the details agree with the outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceChecks {
    pub similarity: &'static str,
    pub liveness: &'static str,
    pub score: Option<f64>,
}

impl FaceChecks {
    const fn new(similarity: &'static str, liveness: &'static str, score: Option<f64>) -> Self {
        FaceChecks {
            similarity,
            liveness,
            score,
        }
    }

    /// The checks' results for an outcome (`None` while pending).
    pub fn of(outcome: Option<Outcome>) -> Self {
        const MATCHED: FaceChecks = FaceChecks::new("success", "success", Some(0.97));
        const NOT_RUN: FaceChecks = FaceChecks::new("skipped", "skipped", None);
        let Some(outcome) = outcome else {
            return FaceChecks::new("pending", "pending", None);
        };
        match outcome {
            Outcome::Success => MATCHED,
            Outcome::Expired { .. } | Outcome::SystemError => NOT_RUN,
            Outcome::Declined { reason } => match reason {
                "similarity_threshold_not_passed" => {
                    FaceChecks::new("failure", "success", Some(0.31))
                }
                // The video failed liveness, so it was never compared with the registry.
                "liveness_verification_not_passed"
                | "passive_liveness_verification_not_passed"
                | "photo_of_photo"
                | "face_not_detected"
                | "invalid_video_file" => FaceChecks::new("skipped", "failure", None),
                // A live person, but the registry had no usable record to compare with.
                "data_not_match_with_government_database"
                | "identity_belongs_to_dead_person"
                | "document_unregistered"
                | "national_registrar_inconsistency" => FaceChecks::new("skipped", "success", None),
                // Both face checks passed; another check declined the person.
                "face_in_blocklist"
                | "fraudster_face_match_in_client_collection"
                | "risky_face_detected"
                | "possible_fraud"
                | "underage"
                | "age_above_threshold" => MATCHED,
                // The person left or was stopped before recording (the drop-off codes).
                _ => NOT_RUN,
            },
        }
    }
}

fn details(obs: &Observation) -> Details {
    let checks = FaceChecks::of(obs.outcome);
    Details {
        government_validations: GovernmentDetails {
            source: "registraduria",
            country: "CO",
            similarity_status: checks.similarity,
            passive_liveness_status: checks.liveness,
            confidence_score: checks.score,
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
        write_json(&mut out, &details(obs));
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
    use crate::dates::MAX_RFC3339_SECS;
    use crate::ids::ValidationId;
    use crate::store::{CreateParams, Record};
    use proptest::prelude::*;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};
    use truidentidad_scenarios::ValidationStatus;
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
            details: show_details.then(|| details(&view.observation)),
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
                chosen_by: Default::default(),
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
    }

    proptest! {
        /// A finished validation's details never say `pending`, and they agree with the
        /// outcome: a success passed both checks, a failure did not pass both.
        #[test]
        fn details_agree_with_the_outcome(outcome in outcome()) {
            let c = FaceChecks::of(outcome);
            let pending = c.similarity == "pending" || c.liveness == "pending";
            prop_assert_eq!(pending, outcome.is_none(), "{:?}", c);
            let both_passed = c.similarity == "success" && c.liveness == "success";
            match outcome {
                Some(Outcome::Success) => prop_assert!(both_passed),
                Some(Outcome::Declined { reason }) if reason.contains("similarity")
                    || reason.contains("liveness") => prop_assert!(
                        c.similarity == "failure" || c.liveness == "failure", "{reason}: {c:?}"),
                Some(Outcome::Expired { .. } | Outcome::SystemError) => {
                    prop_assert_eq!((c.similarity, c.liveness), ("skipped", "skipped"));
                }
                _ => {}
            }
            // A score exactly when the face was compared with the registry photo.
            prop_assert_eq!(c.score.is_some(), matches!(c.similarity, "success" | "failure"));
        }
    }

    #[test]
    fn details_carry_no_document_number() {
        let params = CreateParams {
            document_number: Some("1020304050".into()),
            ..CreateParams::default()
        };
        let clock = ManualClock::starting_at(UNIX_EPOCH);
        let v = view(
            1,
            IpAddr::from([127, 0, 0, 1]),
            "a",
            Duration::ZERO,
            Some(params),
            None,
        );
        let body = String::from_utf8(validation(&v, &clock, true)).unwrap();
        assert!(
            !body.contains("1020304050") && !body.contains("document_number"),
            "{body}"
        );
    }
}
