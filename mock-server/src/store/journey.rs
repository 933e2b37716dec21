//! The browser journey's state on a validation record: the screen the person is on, what
//! they did, and the hold it puts on the scenario's clock. It lives with the store because a
//! poll reads the hold under the same lock as the rest of the record; the rules for moving
//! it on (which step may follow which) are the Web Adapter's, in `web::journey`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Events kept per journey; page reloads could otherwise grow the list without limit.
pub const MAX_EVENTS: usize = 32;

/// The screen the user is on (the next thing the journey waits for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
///
/// Serialized for a shared store ([`super::redis`]); `what` is one of [`EVENT_NAMES`], so it
/// reads back as the same static name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub at: Duration,
    pub what: &'static str,
    pub device: Device,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub step: Step,
    /// The device that opened the journey last: after a handoff, the phone.
    pub device: Device,
    pub document_number: Option<String>,
    pub video_bytes: Option<u64>,
    /// When the video arrived: the person's part is done from then on.
    pub uploaded_at: Option<Duration>,
    /// The SDK or the phone page opened the journey (false only while awaiting the person).
    pub opened: bool,
    /// Created with the validation in await-person mode, rather than by the SDK opening it.
    pub awaits_person: bool,
    pub events: Vec<Event>,
    pub events_dropped: u32,
    hold_since: Option<Duration>,
    hold_total: Duration,
    held_polls: u32,
}

/// Every name the Web Adapter logs an event under (`web::journey`).
pub const EVENT_NAMES: &[&str] = &[
    "opened",
    "started",
    "document_entered",
    "consent_accepted",
    "consent_declined",
    "geolocation_granted",
    "geolocation_denied",
    "video_uploaded",
    "canceled",
    "test_identity",
];

/// An [`Event`] as read back, its name not yet matched to a static one.
#[derive(Deserialize)]
struct EventWire {
    at: Duration,
    what: String,
    device: Device,
    detail: Option<String>,
}

/// A name this version does not log (written by a newer replica) reads as `event`.
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = EventWire::deserialize(d)?;
        Ok(Event {
            at: w.at,
            what: EVENT_NAMES
                .iter()
                .find(|n| **n == w.what)
                .copied()
                .unwrap_or("event"),
            device: w.device,
            detail: w.detail,
        })
    }
}

impl Journey {
    /// Polls counted while on hold, kept apart by a shared store, which counts them in its
    /// own atomic step (see [`super::redis`]).
    pub(crate) fn held_polls(&self) -> u32 {
        self.held_polls
    }

    pub(crate) fn set_held_polls(&mut self, n: u32) {
        self.held_polls = n;
    }

    pub(crate) fn new(now: Duration, device: Device) -> Self {
        Journey {
            step: Step::Intro,
            device,
            document_number: None,
            video_bytes: None,
            uploaded_at: None,
            opened: true,
            awaits_person: false,
            events: Vec::new(),
            events_dropped: 0,
            hold_since: Some(now),
            hold_total: Duration::ZERO,
            held_polls: 0,
        }
    }

    /// Await-person mode: a journey not opened yet, holding the scenario's clock from the
    /// validation's creation, as in the real product, where nothing happens until the person
    /// has recorded the video, however late they open the SDK. The timeout keeps running.
    pub(crate) fn awaiting(created: Duration) -> Self {
        Journey {
            opened: false,
            awaits_person: true,
            ..Journey::new(created, Device::Desktop)
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

    pub(crate) fn end_hold(&mut self, now: Duration) {
        if let Some(s) = self.hold_since.take() {
            self.hold_total += now.saturating_sub(s);
        }
    }

    pub(crate) fn log(
        &mut self,
        at: Duration,
        what: &'static str,
        device: Device,
        detail: Option<String>,
    ) {
        // A name missing from the list reads back from Redis as `event` (the Redis store
        // showed `test_identity` so until the differential test compared the two stores).
        debug_assert!(
            EVENT_NAMES.contains(&what),
            "journey event `{what}` is not in EVENT_NAMES"
        );
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
