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
//! validation's `timeout` keeps running, because that is the user's real deadline.

use std::time::Duration;

use serde_json::{Value, json};
use truidentidad_scenarios::{Catalogue, Outcome};

use crate::clock::{Clock, rfc3339_nanos};
use crate::store::Record;

/// Events kept per journey; page reloads could otherwise grow the list without limit.
pub const MAX_EVENTS: usize = 32;

/// The screen the user is on (the next thing the journey waits for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Intro,
    Document,
    Consent,
    Geolocation,
    Liveness,
    /// The video was uploaded; the outcome follows the scenario.
    Processing,
    /// The user declined or abandoned a step; the validation ended there.
    Ended,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Intro => "intro",
            Step::Document => "document",
            Step::Consent => "consent",
            Step::Geolocation => "geolocation",
            Step::Liveness => "liveness",
            Step::Processing => "processing",
            Step::Ended => "ended",
        }
    }
}

/// Where the journey was opened: the SDK on the integrator's page, or the phone handoff page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Desktop,
    Phone,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "desktop" => Some(Device::Desktop),
            "phone" => Some(Device::Phone),
            _ => None,
        }
    }
}

/// One thing the user did, for the dashboard's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: Duration,
    pub what: &'static str,
    pub device: Device,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Journey {
    pub step: Step,
    /// The device that opened the journey last: after a handoff, the phone.
    pub device: Device,
    pub document_number: Option<String>,
    pub video_bytes: Option<u64>,
    pub events: Vec<Event>,
    pub events_dropped: u32,
    hold_since: Option<Duration>,
    hold_total: Duration,
    held_polls: u32,
}

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
    #[error(
        "the document number must be 5 to 12 digits (a Colombian cédula has 6 to 10), got `{0}`"
    )]
    BadDocument(String),
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

impl Journey {
    fn new(now: Duration, device: Device) -> Self {
        Journey {
            step: Step::Intro,
            device,
            document_number: None,
            video_bytes: None,
            events: Vec::new(),
            events_dropped: 0,
            hold_since: Some(now),
            hold_total: Duration::ZERO,
            held_polls: 0,
        }
    }

    /// Scenario time and counted polls to leave out at `now`: the hold so far.
    pub fn held(&self, now: Duration) -> (Duration, u32) {
        let open = self
            .hold_since
            .map_or(Duration::ZERO, |s| now.saturating_sub(s));
        (self.hold_total + open, self.held_polls)
    }

    /// Whether the scenario's timeline is on hold right now.
    pub fn on_hold(&self) -> bool {
        self.hold_since.is_some()
    }

    /// A poll counted while on hold does not move poll-driven phases.
    pub fn count_poll(&mut self) {
        if self.hold_since.is_some() {
            self.held_polls = self.held_polls.saturating_add(1);
        }
    }

    /// A new scenario starts now: holds before it no longer apply to it.
    pub fn rebase_hold(&mut self, now: Duration) {
        self.hold_total = Duration::ZERO;
        self.held_polls = 0;
        if self.hold_since.is_some() {
            self.hold_since = Some(now);
        }
    }

    fn end_hold(&mut self, now: Duration) {
        if let Some(s) = self.hold_since.take() {
            self.hold_total += now.saturating_sub(s);
        }
    }

    fn log(&mut self, at: Duration, what: &'static str, device: Device, detail: Option<String>) {
        if self.events.len() >= MAX_EVENTS {
            self.events_dropped = self.events_dropped.saturating_add(1);
            return;
        }
        self.events.push(Event {
            at,
            what,
            device,
            detail,
        });
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
    if j.document_number.is_none() {
        j.document_number = document_number.or(known);
    }
    j.log(now, "opened", device, None);
    Ok(())
}

fn check_document(d: String) -> Result<String, JourneyError> {
    let d = d.trim().to_string();
    if (5..=12).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) {
        Ok(d)
    } else {
        Err(JourneyError::BadDocument(crate::form::truncate(&d, 32)))
    }
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
        "on_hold": j.on_hold(),
        "events": events,
        "events_dropped": j.events_dropped,
    })
}

#[cfg(test)]
mod tests;
