//! One case's evidence: the API requests the mock journaled, each annotated with what the
//! client could have seen in the response, plus what the client reported.
//!
//! What a response showed comes from the journal's typed record of it: the [`Observed`] state
//! the body carried (absent when a fault replaced or cut the body), the [`AppliedFault`], and
//! the `Retry-After` the fault sent. Nothing is recomputed or read back from text, so the
//! evidence is exactly what the client received.

use std::time::Duration;

use serde::Serialize;
use truidentidad_mock_server::AppState;
use truidentidad_mock_server::journal::{
    AppliedFault, FaultEffect, JournalEntry, KeyState, Kind, Observed,
};
use truidentidad_scenarios::model::Scenario;

use crate::catalogue::Case;
use crate::client::ClientRun;
use crate::secs::opt_secs;
pub use crate::secs::{fmt_secs, secs};
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
    /// [`Kind::Create`] or [`Kind::Poll`].
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_id: Option<String>,
    /// HTTP status, or 0 when a connection fault sent none.
    pub status: u16,
    #[serde(skip_serializing_if = "AppliedFault::is_none")]
    pub fault: AppliedFault,
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
    /// The HTTP stack's own re-send of the poll before it, which got no response (see
    /// [`is_transport_retry`]): no wait the client chose, so the pacing rules measure no gap
    /// before it, and `retries-capped` counts it with the attempt it repeats.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub transport_retry: bool,
}

impl Request {
    pub fn is_create(&self) -> bool {
        self.kind == Kind::Create
    }

    pub fn is_poll(&self) -> bool {
        self.kind == Kind::Poll
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
    /// A trace over `requests` (oldest first), with transport retries marked (see
    /// [`mark_transport_retries`]): every trace is built here, so every rule sees the same
    /// tolerance.
    pub fn new(
        case: Case,
        scenario: Scenario,
        settings: Settings,
        account_id: String,
        mut requests: Vec<Request>,
        client: ClientRun,
    ) -> Trace {
        mark_transport_retries(&mut requests, &settings);
        Trace {
            case,
            scenario,
            settings,
            account_id,
            requests,
            client,
        }
    }

    /// The polling deadline this case handed the client (see [`Settings::deadline_for`]).
    pub fn deadline(&self) -> Duration {
        self.settings.deadline_for(&self.case)
    }

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

/// The wait before each request, as the pacing rules measure it: from the response to the
/// previous request about the same validation (its create or an earlier poll) being sent to
/// this request being received; for a create, from the previous create's response. `None`
/// for the first request of its sequence. Requests are taken oldest first.
pub fn gaps_before<'a>(requests: impl IntoIterator<Item = &'a Request>) -> Vec<Option<Duration>> {
    let mut last_create: Option<Duration> = None;
    let mut last_by_id: Vec<(&str, Duration)> = Vec::new();
    let mut out = Vec::new();
    for r in requests {
        let previous = if r.is_create() {
            last_create
        } else {
            r.validation_id.as_deref().and_then(|id| {
                last_by_id
                    .iter()
                    .find(|(v, _)| *v == id)
                    .map(|(_, sent)| *sent)
            })
        };
        out.push(previous.map(|sent| r.received.saturating_sub(sent)));
        if r.is_create() {
            last_create = Some(r.sent);
        }
        if let Some(id) = r.validation_id.as_deref() {
            match last_by_id.iter_mut().find(|(v, _)| *v == id) {
                Some(entry) => entry.1 = r.sent,
                None => last_by_id.push((id, r.sent)),
            }
        }
    }
    out
}

/// The transport-retry tolerance, in one place. Standard HTTP stacks re-send an idempotent
/// request once, by themselves, when its connection failed before any response: OpenJDK's
/// `HttpClient` after a reset (it cannot be turned off), Go's `net/http` when a reused
/// keep-alive connection fails, curl and browsers likewise. That re-send is not a poll the
/// client timed, so a poll `next` is a *transport retry* of `prev`, the poll of the same
/// validation that arrived just before it, when all of these hold:
///
/// * **which errors:** `prev` got no response at all (status 0): the server reset or closed
///   the connection, or the response stalled and the client's timeout abandoned it (urllib3
///   with read retries, as `requests` users configure it, re-sends a GET after a read
///   timeout). A 5xx, 429 or any other answer is a response, after which the client's own wait
///   is graded;
/// * **what:** `next` is the same `GET` of the same path;
/// * **how soon:** `next` arrived sooner than the minimum interval (minus the tolerance) after
///   `prev` ended, i.e. exactly when it would otherwise break `min-poll-interval`; a later
///   re-send is an ordinary poll;
/// * **how many:** `prev` is not itself a transport retry: one re-send per failed attempt.
///   A stack that re-sends a second time in a row, or a client that re-sends at once after a
///   5xx or 429, is graded like any other poll.
///
/// A transport retry still counts for `one-poll-in-flight`, `stop-after-terminal` and
/// `give-up-by-deadline` (the service saw it); the pacing rules measure no wait before it but
/// do measure the wait after its response; `retries-capped` counts an attempt and its
/// transport retry as one attempt.
pub fn is_transport_retry(prev: &Request, next: &Request, settings: &Settings) -> bool {
    let window = settings.min_interval.saturating_sub(settings.tolerance);
    prev.is_poll()
        && next.is_poll()
        && prev.status == 0
        && !prev.transport_retry
        && prev.method == "GET"
        && next.method == prev.method
        && next.path == prev.path
        && next.validation_id == prev.validation_id
        // Not sent while `prev` was still open (that is a concurrent poll), allowing for a
        // close the mock noticed late.
        && next.received + settings.request_timeout_slack >= prev.sent
        && next.received.saturating_sub(prev.sent) < window
}

/// Marks each poll that is a transport retry of the poll of its validation that arrived just
/// before it ([`is_transport_retry`]).
pub fn mark_transport_retries(requests: &mut [Request], settings: &Settings) {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| (requests[i].received, requests[i].seq));
    let mut last_poll_of: Vec<(String, usize)> = Vec::new();
    for i in order {
        if !requests[i].is_poll() {
            continue;
        }
        let Some(id) = requests[i].validation_id.clone() else {
            continue;
        };
        let prev = last_poll_of.iter().find(|(v, _)| *v == id).map(|(_, p)| *p);
        requests[i].transport_retry =
            prev.is_some_and(|p| is_transport_retry(&requests[p], &requests[i], settings));
        match last_poll_of.iter_mut().find(|(v, _)| *v == id) {
            Some(entry) => entry.1 = i,
            None => last_poll_of.push((id, i)),
        }
    }
}

/// Builds the annotated request list from a mock's journal.
pub fn collect(state: &AppState) -> Vec<Request> {
    let entries = state
        .journal()
        .query(usize::MAX, |e| matches!(e.kind, Kind::Create | Kind::Poll));
    entries
        .iter()
        .map(|e| Request {
            seq: e.seq,
            received: e.received,
            sent: e.sent,
            method: e.method.to_string(),
            path: e.path.clone(),
            kind: e.kind,
            validation_id: match e.kind {
                // What the client asked for, even when the mock stopped before reading it (401).
                Kind::Poll => polled_id(&e.path).or_else(|| e.validation_id.map(|v| v.to_string())),
                _ => e.validation_id.map(|v| v.to_string()),
            },
            status: e.status,
            fault: e.fault,
            api_key: e.api_key,
            content_type: e.content_type.clone(),
            form: e.form.pairs(),
            retry_after: retry_after(e),
            seen: seen(e),
            transport_retry: false,
        })
        .collect()
}

/// The id in `/v1/validations/{id}?…`, as sent.
pub fn polled_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/validations/")?;
    let id = rest.split(['?', '#']).next().unwrap_or("");
    (!id.is_empty()).then(|| id.to_string())
}

/// What the response showed: the state its body carried, if a body arrived intact.
fn seen(e: &JournalEntry) -> Seen {
    match e.observed {
        Some(Observed {
            outcome: Some(o), ..
        }) if e.status == 200 => Seen::Terminal {
            validation_status: o.status().as_str().to_string(),
            failure_status: o.failure_status().map(str::to_string),
        },
        Some(Observed { outcome: None, .. }) if e.status == 200 => Seen::Pending,
        _ => Seen::Error,
    }
}

/// The Retry-After a 429/503 carried. An HTTP-date is rounded up by the mock, so its seconds
/// are a safe lower bound.
fn retry_after(e: &JournalEntry) -> Option<Duration> {
    match e.fault.effect {
        Some(FaultEffect::Status {
            retry_after: Some(ra),
            ..
        }) => Some(Duration::from_secs(ra.seconds())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(seq: u64, kind: Kind, id: Option<&str>, received: u64, sent: u64) -> Request {
        Request {
            seq,
            received: Duration::from_millis(received),
            sent: Duration::from_millis(sent),
            method: if kind == Kind::Create { "POST" } else { "GET" }.into(),
            path: "/v1/validations".into(),
            kind,
            validation_id: id.map(str::to_string),
            status: 200,
            fault: AppliedFault::default(),
            api_key: KeyState::Accepted,
            content_type: None,
            form: Vec::new(),
            retry_after: None,
            seen: Seen::Pending,
            transport_retry: false,
        }
    }

    /// Polls wait from the last response about their validation, creates from the last
    /// create's; the first of each sequence has no gap.
    #[test]
    fn gaps_are_measured_within_each_validation_and_between_creates() {
        let a = Some("VLDa");
        let b = Some("VLDb");
        let reqs = [
            request(1, Kind::Create, None, 0, 10),
            request(2, Kind::Create, a, 1_010, 1_020),
            request(3, Kind::Poll, a, 2_022, 2_030),
            request(4, Kind::Create, b, 2_100, 2_110),
            request(5, Kind::Poll, b, 2_500, 2_510),
            request(6, Kind::Poll, a, 3_530, 3_540),
            request(7, Kind::Poll, Some("VLDunknown"), 4_000, 4_001),
        ];
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(
            gaps_before(&reqs),
            [
                None,
                ms(1_000),
                ms(1_002),
                ms(1_080),
                ms(390),
                ms(1_500),
                None
            ]
        );
    }
}
