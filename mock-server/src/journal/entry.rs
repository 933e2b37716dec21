//! One journal entry and the types it is made of.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use truidentidad_scenarios::{Outcome, ValidationStatus};

use super::fault::AppliedFault;
use crate::ids::ValidationId;

/// What the server made of the `Truora-API-Key` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Missing,
    Accepted,
    Rejected,
    /// Not checked (control API, assets).
    NotRequired,
}

/// Which surface a request reached, as the router decided it: `web` covers the browser pages
/// and the dashboard, `web-adapter` the Web SDK's backend. An enum, not a string, so a
/// reader that matches on it (the conformance suite, the journal filter) cannot misspell one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Create,
    Poll,
    Web,
    WebAdapter,
    Control,
    Other,
}

impl Kind {
    /// Every kind, in the order the control API lists them.
    pub const ALL: [Kind; 6] = [
        Kind::Create,
        Kind::Poll,
        Kind::Web,
        Kind::WebAdapter,
        Kind::Control,
        Kind::Other,
    ];

    /// The name an entry's `kind` is written as.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Poll => "poll",
            Kind::Web => "web",
            Kind::WebAdapter => "web-adapter",
            Kind::Control => "control",
            Kind::Other => "other",
        }
    }

    /// The kind written as `name`, if any.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validation state a response carried to the client: what a create or poll body said,
/// when the body reached the client intact. A fault that replaced or cut the body (an HTTP
/// error, a malformed or empty body, a dropped connection) leaves none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub status: ValidationStatus,
    /// Set exactly when `status` is terminal; holds the failure status and declined reason.
    pub outcome: Option<Outcome>,
}

/// One request as the server saw it.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    /// Clock time when the request head was received (seconds since server start, ns precision).
    #[serde(serialize_with = "secs")]
    pub received: Duration,
    /// Clock time when the response was handed to the connection.
    #[serde(serialize_with = "secs")]
    pub sent: Duration,
    #[serde(serialize_with = "method_str")]
    pub method: http::Method,
    /// Path and query, truncated to 512 bytes.
    pub path: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_id: Option<ValidationId>,
    /// HTTP status sent, or 0 when a connection fault sent none.
    pub status: u16,
    /// Written as one line of text (see [`AppliedFault`]'s `Display`), absent when none.
    #[serde(skip_serializing_if = "AppliedFault::is_none")]
    pub fault: AppliedFault,
    pub api_key: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Form fields of a create request, in order (API keys never appear here).
    #[serde(skip_serializing_if = "FormFields::is_empty")]
    pub form: FormFields,
    pub remote: SocketAddr,
    /// What the response told the client about the validation. In-process only (tests and the
    /// conformance suite); the control API's journal does not show it.
    #[serde(skip)]
    pub observed: Option<Observed>,
    /// The store counted this request as a poll ([`crate::exchange::Exchange::poll_counted`]).
    /// In-process, in the state file, in the Redis journal, and on polls in the control API's
    /// JSON ([`JournalEntry::to_json`]).
    #[serde(skip)]
    pub poll_counted: bool,
}

/// Whether a poll reached the store, guessed from its status for an entry that does not
/// record it: state files saved, and control-API JSON served, before entries kept
/// [`JournalEntry::poll_counted`] (the fleet reader may follow an older mock). A rate limit or brown-out answers 429
/// or 503 before the store; the guess is wrong for a scenario's own 429 or 503, which was
/// counted, so in-process readers use the recorded evidence instead.
pub fn reached_store_as_poll(kind: Kind, status: u16) -> bool {
    kind == Kind::Poll && status != 429 && status != 503
}

impl JournalEntry {
    /// Whether the store counted this request as a poll (and so moved a poll-driven scenario
    /// on): recorded when it was answered, never inferred from the status.
    pub fn reached_store_as_poll(&self) -> bool {
        self.poll_counted
    }

    /// The entry as the control API and the dashboard show it: its serialized fields, plus
    /// what a reader outside the process needs to grade it the way the in-process suite does:
    /// the state the response carried (`observed`), the Retry-After a throttling fault sent
    /// (`retry_after_seconds`, an HTTP-date as the seconds it stood for) and, on a poll,
    /// whether the store counted it (`poll_counted`: a scenario's own 429 was counted, a
    /// `--rate-limit` 429 was not, which the status alone cannot tell).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = self.observed {
            v["observed"] = serde_json::json!({
                "validation_status": o.status.as_str(),
                "failure_status": o.outcome.and_then(|o| o.failure_status()),
            });
        }
        if let Some(super::FaultEffect::Status {
            retry_after: Some(ra),
            ..
        }) = self.fault.effect
        {
            v["retry_after_seconds"] = ra.seconds().into();
        }
        if self.kind == Kind::Poll {
            v["poll_counted"] = self.poll_counted.into();
        }
        v
    }
}

fn method_str<S: serde::Serializer>(m: &http::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// The form fields of a create request, kept as the urlencoded text they arrived in and
/// decoded when read. A journal entry then holds one allocation for its form instead of two
/// per field: the journal replaces its oldest entry on every request, and freeing many small,
/// long-cold allocations was most of what journaling a create cost (BENCHMARKS.md §1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields(Option<Box<str>>);

impl FormFields {
    /// Fields as sent in an `application/x-www-form-urlencoded` body.
    pub fn from_urlencoded(body: &str) -> Self {
        FormFields((!body.is_empty()).then(|| body.into()))
    }

    /// Fields given as decoded pairs (e.g. read back from a state file).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut enc = form_urlencoded::Serializer::new(String::new());
        enc.extend_pairs(pairs);
        Self::from_urlencoded(&enc.finish())
    }

    /// The decoded `(name, value)` pairs, in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0.as_deref().map_or_else(Vec::new, |text| {
            form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// Serialized as the list of `[name, value]` pairs, as the journal has always shown it.
impl Serialize for FormFields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let pairs = self
            .0
            .as_deref()
            .map(|t| form_urlencoded::parse(t.as_bytes()));
        let mut seq = s.serialize_seq(None)?;
        for (k, v) in pairs.into_iter().flatten() {
            seq.serialize_element(&(k.as_ref(), v.as_ref()))?;
        }
        seq.end()
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
