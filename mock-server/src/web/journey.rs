//! The browser journey of one validation: which screen the user is on, what they answered,
//! and the hold that keeps the scenario's timeline still while they are busy.
//!
//! Pure state transitions on a [`Record`], no HTTP: the Web Adapter calls [`open`] and
//! [`apply`] under the store's shard lock, so a backend poll and the SDK always read the same
//! record through the same `observe()` path and can never disagree.
//!
//! Why a hold: scenarios count time from creation ("pending 3 s, then success"). A person takes
//! longer than 3 s to read a policy and record a video, and an outcome that arrives before the
//! video was uploaded would be impossible in the real service. So from the moment the SDK opens
//! the journey until the video upload, scenario time (and poll-driven phases) stand still; the
//! validation's `timeout` keeps running, because that is the user's real deadline. In
//! await-person mode the hold starts at the create instead (`Journey::awaiting`), so a person
//! who reads the page for minutes before the SDK opens still gets the whole journey; and once
//! the video is in, `crate::store::person` keeps the scenario from contradicting the person.

use std::time::Duration;

use serde_json::{Value, json};
use truidentidad_scenarios::{Catalogue, Outcome};

use crate::clock::Clock;
use crate::dates::rfc3339_nanos;
pub use crate::store::journey::{Device, Event, Journey, MAX_EVENTS, Step};
use crate::store::{ChosenBy, Record};

/// What the user did on a screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Tapped "start" on the introduction.
    Intro,
    Document(String),
    Consent(bool),
    /// `None`: the browser's permission prompt was denied.
    Geolocation(Option<(f64, f64)>),
    /// The liveness video arrived, this many bytes.
    Liveness(u64),
    /// The user left the journey; the reason is a documented declined reason.
    Cancel(CancelReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The user pressed "cancel".
    Canceled,
    /// The user refused the camera.
    CameraDenied,
}

impl CancelReason {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "canceled" => Some(CancelReason::Canceled),
            "unwanted_camera_permissions" => Some(CancelReason::CameraDenied),
            _ => None,
        }
    }

    fn declined_reason(self) -> &'static str {
        match self {
            CancelReason::Canceled => "canceled",
            CancelReason::CameraDenied => "unwanted_camera_permissions",
        }
    }
}

/// Why the journey refused a step. Messages are shown to the user by the SDK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JourneyError {
    #[error("this validation already finished ({0}); ask for a new validation to try again")]
    Finished(String),
    #[error("the journey was not opened yet; the SDK opens it before the first step")]
    NotOpened,
    #[error("step out of order: the journey is at `{at}`, so `{got}` is not possible now")]
    OutOfOrder { at: &'static str, got: &'static str },
    #[error("the document number {0}")]
    BadDocument(#[from] crate::document::BadDocument),
    #[error("the liveness video is empty; record again")]
    EmptyVideo,
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Intro => "intro",
            Action::Document(_) => "document",
            Action::Consent(_) => "consent",
            Action::Geolocation(_) => "geolocation",
            Action::Liveness(_) => "liveness",
            Action::Cancel(_) => "cancel",
        }
    }
}

fn check_pending(
    record: &Record,
    catalogue: &Catalogue,
    now: Duration,
) -> Result<(), JourneyError> {
    match record.observe(catalogue, now).outcome {
        Some(o) => Err(JourneyError::Finished(o.label())),
        None => Ok(()),
    }
}

/// The SDK (or the phone handoff page) opened the journey. Starts the hold the first time;
/// later opens only record the device, so a phone continues where the desktop stopped.
pub fn open(
    record: &mut Record,
    catalogue: &Catalogue,
    now: Duration,
    device: Device,
    document_number: Option<String>,
) -> Result<(), JourneyError> {
    check_pending(record, catalogue, now)?;
    let document_number = document_number
        .filter(|d| !d.is_empty())
        .map(check_document)
        .transpose()?;
    let known = record
        .params
        .as_ref()
        .and_then(|p| p.document_number.clone());
    let j = record
        .journey
        .get_or_insert_with(|| Box::new(Journey::new(now, device)));
    j.device = device;
    j.opened = true;
    let from_sdk = j.document_number.is_none() && document_number.is_some();
    if j.document_number.is_none() {
        j.document_number = document_number.or(known);
    }
    j.log(now, "opened", device, None);
    if from_sdk {
        select_by_document(record, catalogue, now, device);
    }
    Ok(())
}

/// A document number reached the journey (typed, or passed to the SDK's `init`): if it is a
/// test identity and nothing stronger than a document number chose the scenario (the header,
/// a magic `account_id`, the control API), the identity's scenario takes over from now.
fn select_by_document(record: &mut Record, catalogue: &Catalogue, now: Duration, device: Device) {
    let Some(digits) = record
        .journey
        .as_ref()
        .and_then(|j| j.document_number.clone())
    else {
        return;
    };
    let Some(id) = catalogue.from_document_number(&digits) else {
        return;
    };
    if record.chosen_by > ChosenBy::Document {
        return;
    }
    record.chosen_by = ChosenBy::Document;
    if record.scenario != id {
        record.switch_scenario(id, ChosenBy::Document, now);
    }
    if let Some(j) = record.journey.as_mut() {
        j.log(
            now,
            "test_identity",
            device,
            Some(catalogue.get(id).name.clone()),
        );
    }
}

fn check_document(d: String) -> Result<String, JourneyError> {
    Ok(crate::document::normalise(&d)?)
}

/// Applies what the user did on the current screen. Declining or abandoning a step ends the
/// validation with the documented declined reason, as the real service does.
pub fn apply(
    record: &mut Record,
    catalogue: &Catalogue,
    now: Duration,
    device: Device,
    action: Action,
) -> Result<(), JourneyError> {
    check_pending(record, catalogue, now)?;
    let j = record
        .journey
        .as_deref_mut()
        .ok_or(JourneyError::NotOpened)?;
    let expect = |step: Step| {
        if j.step == step {
            Ok(())
        } else {
            Err(JourneyError::OutOfOrder {
                at: j.step.as_str(),
                got: action.name(),
            })
        }
    };
    let mut decline = None;
    let mut typed = false;
    match &action {
        Action::Intro => {
            expect(Step::Intro)?;
            j.step = if j.document_number.is_some() {
                Step::Consent
            } else {
                Step::Document
            };
            j.log(now, "started", device, None);
        }
        Action::Document(d) => {
            expect(Step::Document)?;
            let d = check_document(d.clone())?;
            j.log(now, "document_entered", device, Some(d.clone()));
            j.document_number = Some(d);
            j.step = Step::Consent;
            typed = true;
        }
        Action::Consent(accepted) => {
            expect(Step::Consent)?;
            if *accepted {
                j.step = Step::Geolocation;
                j.log(now, "consent_accepted", device, None);
            } else {
                j.log(now, "consent_declined", device, None);
                decline = Some("data_authorization_not_provided");
            }
        }
        Action::Geolocation(pos) => {
            expect(Step::Geolocation)?;
            match pos {
                Some((lat, lon)) => {
                    j.step = Step::Liveness;
                    j.log(
                        now,
                        "geolocation_granted",
                        device,
                        Some(format!("{lat:.4},{lon:.4}")),
                    );
                }
                None => {
                    j.log(now, "geolocation_denied", device, None);
                    decline = Some("geolocation_denied");
                }
            }
        }
        Action::Liveness(bytes) => {
            expect(Step::Liveness)?;
            if *bytes == 0 {
                return Err(JourneyError::EmptyVideo);
            }
            j.video_bytes = Some(*bytes);
            j.uploaded_at = Some(now);
            j.step = Step::Processing;
            j.end_hold(now);
            j.log(
                now,
                "video_uploaded",
                device,
                Some(format!("{bytes} bytes")),
            );
        }
        Action::Cancel(reason) => {
            if matches!(j.step, Step::Processing | Step::Ended) {
                return Err(JourneyError::OutOfOrder {
                    at: j.step.as_str(),
                    got: "cancel",
                });
            }
            j.log(
                now,
                "canceled",
                device,
                Some(reason.declined_reason().to_string()),
            );
            decline = Some(reason.declined_reason());
        }
    }
    if let Some(reason) = decline {
        j.step = Step::Ended;
        j.end_hold(now);
        record.force(Outcome::Declined { reason }, now);
    }
    if typed {
        select_by_document(record, catalogue, now, device);
    }
    Ok(())
}

/// The journey as the control API and the dashboard show it.
pub fn to_json(j: &Journey, clock: &dyn Clock, created: Duration) -> Value {
    let events: Vec<Value> = j
        .events
        .iter()
        .map(|e| {
            json!({
                "event": e.what,
                "device": e.device.as_str(),
                "detail": e.detail,
                "at": rfc3339_nanos(clock.wall(e.at)),
                "after_seconds": e.at.saturating_sub(created).as_secs_f64(),
            })
        })
        .collect();
    json!({
        "step": j.step.as_str(),
        "device": j.device.as_str(),
        "document_number": j.document_number,
        "video_bytes": j.video_bytes,
        "opened": j.opened,
        "awaits_person": j.awaits_person,
        "on_hold": j.on_hold(),
        "events": events,
        "events_dropped": j.events_dropped,
    })
}

#[cfg(test)]
mod tests;
