//! One case's evidence: the API requests the mock journaled, each annotated with what the
//! client could have seen in the response, plus what the client reported.
//!
//! The journal records status codes, not bodies, so what a poll showed (`pending` or an
//! outcome) is recomputed with the scenario engine's pure [`observe`] at the request's receive
//! and send instants. When the answer changed between the two (a transition during the few
//! microseconds of handling), it is [`Seen::Unknown`] and no rule relies on it.

use std::time::Duration;

use serde::Serialize;
use truidentidad_mock_server::journal::{JournalEntry, KeyState};
use truidentidad_mock_server::{AppState, ids::ValidationId};
use truidentidad_scenarios::model::{FaultAction, RequestKind, Scenario};
use truidentidad_scenarios::{ValidationFacts, observe};

use crate::catalogue::Case;
use crate::client::ClientRun;
use crate::settings::Settings;

/// What a response showed the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Seen {
    /// A validation in `pending` (also every successful create).
    Pending,
    /// A terminal validation.
    Terminal {
        validation_status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure_status: Option<String>,
    },
    /// An error status, a reset, a stall or an unreadable body: no validation was shown.
    Error,
    /// The validation turned terminal while this request was handled.
    Unknown,
}

/// One API request, as graded.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// The journal's sequence number; findings point at requests by it.
    pub seq: u64,
    /// Seconds since the case's mock started, when the request head arrived.
    #[serde(serialize_with = "secs")]
    pub received: Duration,
    /// Seconds since the case's mock started, when the response was handed to the socket.
    #[serde(serialize_with = "secs")]
    pub sent: Duration,
    pub method: String,
    pub path: String,
    /// `create` or `poll`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_id: Option<String>,
    /// HTTP status, or 0 when a connection fault sent none.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// `missing`, `accepted` or `rejected`.
    pub api_key: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<(String, String)>,
    /// Retry-After the response carried, in seconds.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_secs")]
    pub retry_after: Option<Duration>,
    pub seen: Seen,
}

impl Request {
    pub fn is_create(&self) -> bool {
        self.kind == "create"
    }

    pub fn is_poll(&self) -> bool {
        self.kind == "poll"
    }

    /// A failure worth retrying: 429, 5xx, or no response at all.
    pub fn is_retryable_failure(&self) -> bool {
        self.status == 0 || self.status == 429 || self.status >= 500
    }

    /// An error a retry cannot fix: 4xx other than 408 and 429.
    pub fn is_permanent_failure(&self) -> bool {
        (400..500).contains(&self.status) && self.status != 408 && self.status != 429
    }

    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `#seq METHOD path at t=…s` for findings.
    pub fn label(&self) -> String {
        format!(
            "#{} {} {} at t={}",
            self.seq,
            self.method,
            self.path,
            fmt_secs(self.received)
        )
    }
}

pub fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e6)
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => secs(d, s),
        None => s.serialize_none(),
    }
}

/// `1.234s`, the one way durations appear in messages.
pub fn fmt_secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// Everything a check may look at.
#[derive(Debug, Clone)]
pub struct Trace {
    pub case: Case,
    pub scenario: Scenario,
    pub settings: Settings,
    /// `TRUORA_ACCOUNT_ID` as handed to the client.
    pub account_id: String,
    /// API requests (creates and polls), oldest first.
    pub requests: Vec<Request>,
    pub client: ClientRun,
}

impl Trace {
    /// Validation ids returned by successful creates, in order.
    pub fn created_ids(&self) -> Vec<&str> {
        self.requests
            .iter()
            .filter(|r| r.is_create() && r.status == 200)
            .filter_map(|r| r.validation_id.as_deref())
            .collect()
    }

    /// The requests about one validation: its create (if answered) and its polls.
    pub fn timeline(&self, id: &str) -> Vec<&Request> {
        self.requests
            .iter()
            .filter(|r| r.validation_id.as_deref() == Some(id))
            .collect()
    }

    /// Every validation the journal mentions (created or polled), in first-seen order.
    pub fn validation_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for id in self
            .requests
            .iter()
            .filter_map(|r| r.validation_id.as_deref())
        {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
}

/// Builds the annotated request list from a mock's journal and store.
pub fn collect(state: &AppState, scenario: &Scenario) -> Vec<Request> {
    let entries = state
        .journal
        .query(usize::MAX, |e| e.kind == "create" || e.kind == "poll");
    let now = state.clock.now();
    let mut out = Vec::with_capacity(entries.len());
    let mut polls_per_id: std::collections::HashMap<ValidationId, u32> = Default::default();
    let mut creates = 0u32;
    for e in &entries {
        let (seen, nth) = match (e.kind, e.validation_id) {
            ("create", _) => {
                creates += 1;
                let seen = if e.status == 200 {
                    Seen::Pending
                } else {
                    Seen::Error
                };
                (seen, creates)
            }
            (_, Some(id)) => {
                let n = polls_per_id.entry(id).or_insert(0);
                *n += 1;
                let seen = match state.store.get(id, now) {
                    Some(view) => poll_seen(
                        e,
                        scenario,
                        view.record.created,
                        view.record.timeout,
                        *n - 1,
                    ),
                    None => Seen::Error,
                };
                (seen, *n)
            }
            _ => (Seen::Error, 0),
        };
        out.push(Request {
            seq: e.seq,
            received: e.received,
            sent: e.sent,
            method: e.method.to_string(),
            path: e.path.clone(),
            kind: e.kind,
            validation_id: match e.kind {
                // What the client asked for, even when the mock stopped before reading it (401).
                "poll" => polled_id(&e.path).or_else(|| e.validation_id.map(|v| v.to_string())),
                _ => e.validation_id.map(|v| v.to_string()),
            },
            status: e.status,
            fault: e.fault.clone(),
            api_key: e.api_key,
            content_type: e.content_type.clone(),
            form: e.form.pairs(),
            retry_after: retry_after(e, scenario, nth),
            seen,
        });
    }
    out
}

/// The id in `/v1/validations/{id}?…`, as sent.
pub fn polled_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/validations/")?;
    let id = rest.split(['?', '#']).next().unwrap_or("");
    (!id.is_empty()).then(|| id.to_string())
}

fn poll_seen(
    e: &JournalEntry,
    scenario: &Scenario,
    created: Duration,
    timeout: Duration,
    polls_before: u32,
) -> Seen {
    let unreadable = e
        .fault
        .as_deref()
        .is_some_and(|f| f.contains("malformed_body") || f.contains("empty_body"));
    if e.status != 200 || unreadable {
        return Seen::Error;
    }
    let at = |t: Duration| {
        let since = t.saturating_sub(created);
        observe(
            scenario,
            &ValidationFacts {
                since_creation: since,
                since_scenario_start: since,
                polls: polls_before,
                timeout,
                forced: None,
            },
        )
    };
    let early = at(e.received);
    let late = at(e.sent);
    match (early.outcome, late.outcome) {
        (Some(o), _) => Seen::Terminal {
            validation_status: o.status().as_str().to_string(),
            failure_status: o.failure_status().map(str::to_string),
        },
        (None, None) => Seen::Pending,
        (None, Some(_)) => Seen::Unknown,
    }
}

/// The Retry-After a 429/503 carried, from the scenario fault that produced it. An HTTP-date
/// is rounded up by the mock, so its seconds are a safe lower bound.
fn retry_after(e: &JournalEntry, scenario: &Scenario, nth: u32) -> Option<Duration> {
    if e.status != 429 && e.status != 503 {
        return None;
    }
    let kind = if e.kind == "create" {
        RequestKind::Create
    } else {
        RequestKind::Poll
    };
    scenario
        .faults
        .iter()
        .filter(|f| f.request == kind && (f.nth.is_empty() || f.nth.contains(&nth)))
        .find_map(|f| match &f.action {
            FaultAction::HttpError {
                status,
                retry_after,
                ..
            } if *status == e.status => Some(retry_after.map(|r| Duration::from_secs(r.seconds()))),
            _ => None,
        })
        .flatten()
}
