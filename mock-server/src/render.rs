//! JSON bodies of the emulated API, in Truora's field names and order.

use serde::Serialize;
use truidentidad_scenarios::{Observation, Scenario, ValidationStatus};

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::SystemTime;

use crate::clock::Clock;
use crate::ids::ValidationId;
use crate::store::View;

/// The validation as `POST /v1/validations` and `GET /v1/validations/{id}` return it.
#[derive(Debug, Serialize)]
pub struct ValidationBody<'a> {
    pub validation_id: ValidationId,
    pub ip_address: IpAddr,
    pub account_id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub validation_status: &'static str,
    pub creation_date: Rfc3339Nanos,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declined_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

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

/// Renders a validation as the API returns it.
pub fn validation(view: &View, clock: &dyn Clock, show_details: bool) -> Vec<u8> {
    let obs = &view.observation;
    let outcome = obs.outcome;
    let body = ValidationBody {
        validation_id: view.record.id,
        ip_address: view.record.ip,
        account_id: &view.record.account_id,
        kind: "government",
        validation_status: obs.status.as_str(),
        creation_date: Rfc3339Nanos(clock.wall(view.record.created)),
        threshold: view.record.params.as_ref().and_then(|p| p.threshold),
        failure_status: outcome.and_then(|o| o.failure_status()),
        declined_reason: outcome.and_then(|o| o.declined_reason()),
        expired_reason: outcome.and_then(|o| o.expired_reason()),
        details: show_details.then(|| details(view, obs)),
    };
    // One buffer, sized for a typical body, and no intermediate strings for ids and dates:
    // this runs on every poll.
    let mut out = Vec::with_capacity(320);
    if serde_json::to_writer(&mut out, &body).is_err() {
        out.clear();
    }
    out
}

/// A wall-clock time written as RFC 3339 UTC with nanoseconds, as Truora writes dates,
/// formatted straight into the JSON output.
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339Nanos(pub SystemTime);

impl Serialize for Rfc3339Nanos {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Formatted on the stack and written as one string: `collect_str` would push each
        // of the formatter's small writes through the JSON escaper separately.
        let mut text = StackText::<40>::new();
        match write!(text, "{}", humantime::format_rfc3339_nanos(self.0)) {
            Ok(()) => s.serialize_str(text.as_str()),
            Err(_) => s.collect_str(&humantime::format_rfc3339_nanos(self.0)),
        }
    }
}

/// A fixed-capacity text buffer on the stack; writing past its capacity is an error.
struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    fn new() -> Self {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so the bytes are valid UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dest = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
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
