//! What the client did, read once from the mock's journal: the one reduction of journal
//! entries to [`Request`]s, and the one copy of each rule about them (a transport retry, a
//! failure worth retrying, the wait before a request, Retry-After honoured, requests after a
//! terminal answer, a poll the store counted). `conformance run` and `conformance explore`
//! read it through [`crate::trace`], and the load tool's fleet mode (`load --client`) reads it
//! directly, from its own in-process mock or from an external one's control API
//! ([`ControlEntry`]), so all three agree on what the client did.
//!
//! Why here: the rules are judgements about a client, and the server never grades (the mock
//! records, `conformance` judges; ARCHITECTURE.md). `benches` already depends on
//! `conformance` (for the client contract), so this module sits below both of its readers and
//! above `mock-server`'s journal types, with no edge back up: it imports only the journal, the
//! scenario model, [`crate::settings`] (the limits a rule reads) and [`crate::secs`]. Not in
//! `mock-server`'s journal module, which would put grading rules in the server.
//!
//! What a response showed comes from the journal's typed record of it: the [`Observed`] state
//! the body carried (absent when a fault replaced or cut the body), the [`AppliedFault`], the
//! `Retry-After` the fault sent, and whether the store counted the request as a poll. Nothing
//! is recomputed, so the evidence is exactly what the client received. Over the control API
//! the same facts arrive as JSON: the fault as its one line of text (read back by the
//! journal's own `FromStr`), and `poll_counted`, except from a mock older than that field,
//! where [`reached_store_as_poll`] guesses it from the status. That guess is kept only for
//! such mocks; it is wrong for a scenario's own 429 or 503, which the store counted.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use truidentidad_mock_server::journal::{
    AppliedFault, FaultEffect, JournalEntry, KeyState, Kind, Observed, reached_store_as_poll,
};
use truidentidad_scenarios::model::RetryAfter;

use crate::secs::{fmt_secs, from_secs, opt_secs, secs};
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

/// How an answer is classed by its status: the classes the fleet report counts and the
/// per-second series stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx/3xx answer; `terminal` when its body showed a terminal validation.
    Ok { terminal: bool },
    /// 429, with its Retry-After in seconds when it had one.
    Throttled { retry_after: Option<u64> },
    /// 5xx.
    ServerError,
    /// Another 4xx (a client mistake: not retried by a polite client).
    ClientError,
    /// No HTTP answer: the connection was reset, closed or stalled.
    NoAnswer,
}

impl Answer {
    /// A failure worth retrying: 429, 5xx, or no response at all.
    pub fn is_retryable_failure(self) -> bool {
        matches!(
            self,
            Answer::Throttled { .. } | Answer::ServerError | Answer::NoAnswer
        )
    }

    /// A retryable failure the server answered (429 or 5xx), after which the client's wait is
    /// measured from a response it read. After no answer, the journal's end is when the mock
    /// noticed the close, so the wait after it says little about the client's choice.
    pub fn is_answered_failure(self) -> bool {
        matches!(self, Answer::Throttled { .. } | Answer::ServerError)
    }
}

/// One API request (a create or a poll), as the mock recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The journal's sequence number; findings point at requests by it.
    pub seq: u64,
    /// When the request head arrived, on the mock's clock (a conformance case's mock starts
    /// at 0; a fleet's requests are shifted to its start).
    #[serde(serialize_with = "secs")]
    pub received: Duration,
    /// When the response was handed to the socket, on the same clock.
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
    /// The store counted this poll (a scenario's own 429 or 503 was counted; a `--rate-limit`
    /// or `--brownout` refusal was not): what moves a poll-driven scenario on.
    #[serde(skip)]
    pub poll_counted: bool,
    /// The HTTP stack's own re-send of the poll before it, which got no response (see
    /// [`is_transport_retry`]): no wait the client chose, so the pacing rules measure no gap
    /// before it, and `retries-capped` counts it with the attempt it repeats.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub transport_retry: bool,
}

impl Request {
    /// The request as the in-process journal recorded it.
    pub fn from_entry(e: &JournalEntry) -> Request {
        Request {
            seq: e.seq,
            received: e.received,
            sent: e.sent,
            method: e.method.to_string(),
            path: e.path.clone(),
            kind: e.kind,
            validation_id: asked_for(e.kind, &e.path, e.validation_id.map(|v| v.to_string())),
            status: e.status,
            fault: e.fault,
            api_key: e.api_key,
            content_type: e.content_type.clone(),
            form: e.form.pairs(),
            retry_after: retry_after(&e.fault),
            seen: seen(e.status, e.observed.map(|o| shown(&o))),
            poll_counted: e.reached_store_as_poll(),
            transport_retry: false,
        }
    }

    /// A request as a hand-made schedule describes it (a model of a client, the tests of the
    /// checks and of the fleet's figures): `kind` about `validation_id`, answered `status` (a
    /// 200 showing the validation pending), with no fault, form or Retry-After; a poll counted
    /// by the store.
    pub fn answered(
        seq: u64,
        kind: Kind,
        validation_id: Option<&str>,
        (received, sent): (Duration, Duration),
        status: u16,
    ) -> Request {
        let create = kind == Kind::Create;
        Request {
            seq,
            received,
            sent,
            method: if create { "POST" } else { "GET" }.into(),
            path: match (create, validation_id) {
                (false, Some(id)) => format!("/v1/validations/{id}"),
                _ => "/v1/validations".into(),
            },
            kind,
            validation_id: validation_id.map(str::to_string),
            status,
            fault: AppliedFault::default(),
            api_key: KeyState::Accepted,
            content_type: None,
            form: Vec::new(),
            retry_after: None,
            seen: if status == 200 {
                Seen::Pending
            } else {
                Seen::Error
            },
            poll_counted: !create,
            transport_retry: false,
        }
    }

    pub fn is_create(&self) -> bool {
        self.kind == Kind::Create
    }

    pub fn is_poll(&self) -> bool {
        self.kind == Kind::Poll
    }

    /// The answer's class, by its status (and, for a normal answer, what its body showed).
    pub fn answer(&self) -> Answer {
        match self.status {
            0 => Answer::NoAnswer,
            429 => Answer::Throttled {
                retry_after: self.retry_after.map(|d| d.as_secs()),
            },
            s if s >= 500 => Answer::ServerError,
            s if s >= 400 => Answer::ClientError,
            _ => Answer::Ok {
                terminal: matches!(self.seen, Seen::Terminal { .. }),
            },
        }
    }

    /// A failure worth retrying: 429, 5xx, or no response at all ([`Answer::is_retryable_failure`]).
    pub fn is_retryable_failure(&self) -> bool {
        self.answer().is_retryable_failure()
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

/// One journal entry as the control API serves it (`GET /_mock/journal`,
/// `GET /_mock/validations/{id}`'s `requests`), for a reader outside the mock's process.
#[derive(Debug, Clone, Deserialize)]
pub struct ControlEntry {
    seq: u64,
    received: f64,
    sent: f64,
    method: String,
    path: String,
    kind: String,
    #[serde(default)]
    validation_id: Option<String>,
    status: u16,
    /// The fault's one line of text (see [`AppliedFault`]'s `FromStr`).
    #[serde(default)]
    fault: Option<String>,
    api_key: KeyState,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    form: Vec<(String, String)>,
    #[serde(default)]
    observed: Option<ControlObserved>,
    #[serde(default)]
    retry_after_seconds: Option<u64>,
    /// Absent from polls of a mock older than the field, and from every create.
    #[serde(default)]
    poll_counted: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
struct ControlObserved {
    validation_status: String,
    #[serde(default)]
    failure_status: Option<String>,
}

impl ControlEntry {
    /// The journal's sequence number of the entry, whatever its kind.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The request this entry records: `None` for kinds other than a create or a poll, `Err`
    /// when its fault line is not one the journal writes.
    pub fn into_request(self) -> Result<Option<Request>, String> {
        let Some(kind) = Kind::parse(&self.kind).filter(|k| matches!(k, Kind::Create | Kind::Poll))
        else {
            return Ok(None);
        };
        let mut fault = match self.fault.as_deref() {
            Some(line) => AppliedFault::from_str(line).map_err(|e| e.to_string())?,
            None => AppliedFault::default(),
        };
        // The fault's text leaves the Retry-After out; the entry carries it beside.
        if let Some(FaultEffect::Status { retry_after, .. }) = &mut fault.effect {
            *retry_after = self.retry_after_seconds.map(RetryAfter::Seconds);
        }
        Ok(Some(Request {
            seq: self.seq,
            received: from_secs(self.received),
            sent: from_secs(self.sent),
            method: self.method,
            kind,
            validation_id: asked_for(kind, &self.path, self.validation_id),
            path: self.path,
            status: self.status,
            retry_after: retry_after(&fault),
            fault,
            api_key: self.api_key,
            content_type: self.content_type,
            form: self.form,
            seen: seen(
                self.status,
                self.observed
                    .map(|o| (o.validation_status, o.failure_status)),
            ),
            // A mock older than the field: the status guess, wrong only for a scenario's own
            // 429/503 (counted, guessed not).
            poll_counted: self
                .poll_counted
                .unwrap_or_else(|| reached_store_as_poll(kind, self.status)),
            transport_retry: false,
        }))
    }
}

/// The validation a request is about: for a poll, the id the client asked for (even when the
/// mock stopped before reading it, as on a 401), else the one the mock recorded.
fn asked_for(kind: Kind, path: &str, recorded: Option<String>) -> Option<String> {
    match kind {
        Kind::Poll => polled_id(path).or(recorded),
        _ => recorded,
    }
}

/// The id in `/v1/validations/{id}?…`, as sent.
pub fn polled_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/validations/")?;
    let id = rest.split(['?', '#']).next().unwrap_or("");
    (!id.is_empty()).then(|| id.to_string())
}

/// The validation status and failure status an observed body carried.
fn shown(o: &Observed) -> (String, Option<String>) {
    (
        o.status.as_str().to_string(),
        o.outcome
            .and_then(|o| o.failure_status())
            .map(str::to_string),
    )
}

/// What the response showed: the state its body carried, if a 200's body arrived intact.
fn seen(status: u16, observed: Option<(String, Option<String>)>) -> Seen {
    match observed {
        Some((s, failure_status))
            if status == 200 && matches!(s.as_str(), "success" | "failure") =>
        {
            Seen::Terminal {
                validation_status: s,
                failure_status,
            }
        }
        Some(_) if status == 200 => Seen::Pending,
        _ => Seen::Error,
    }
}

/// The Retry-After a 429/503 carried. An HTTP-date is rounded up by the mock, so its seconds
/// are a safe lower bound.
fn retry_after(fault: &AppliedFault) -> Option<Duration> {
    match fault.effect {
        Some(FaultEffect::Status {
            retry_after: Some(ra),
            ..
        }) => Some(Duration::from_secs(ra.seconds())),
        _ => None,
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
/// do measure the wait after its response; `retries-capped` and the fleet's retry count take an
/// attempt and its transport retry as one attempt.
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

/// When the client was done with `r`, as the journal can tell it. Normally the moment the
/// response was handed to the socket. For a request the client abandoned (it closed the socket
/// before any response), the journal's `sent` is when the mock *noticed* the close, which a
/// loaded machine can delay by hundreds of milliseconds while the client's next request is
/// already on its way; so the close is taken as up to `close_slack` earlier (the suite passes
/// `--request-timeout-slack`, which covers the same noticing delay for `abort-stalled-request`).
/// The price: a client that re-polls less than `close_slack` after abandoning a request is
/// given that much benefit of the doubt by the pacing rules; one that re-polls at once is
/// still flagged.
pub fn done_at(r: &Request, close_slack: Duration) -> Duration {
    if r.fault.client_closed {
        r.sent.saturating_sub(close_slack).max(r.received)
    } else {
        r.sent
    }
}

/// `(previous, next, gap)` for the requests of a sequence, in the order they arrived: `previous`
/// is the last response the client had before `next` (the one done latest, see [`done_at`],
/// among the requests that arrived earlier), and the gap runs from it to `next`. A request that
/// arrived while an earlier one was still unanswered has no gap: the two were in flight
/// together, which is `one-poll-in-flight`'s business, not an interval the client chose, so it
/// is left out. So is the wait before a transport retry ([`Request::transport_retry`]): the
/// HTTP stack re-sent the request by itself, so no rule that reads poll spacing grades it (the
/// wait after its response is graded as usual).
pub fn gaps<'a>(
    seq: &[&'a Request],
    close_slack: Duration,
) -> Vec<(&'a Request, &'a Request, Duration)> {
    let mut by_arrival: Vec<&Request> = seq.to_vec();
    by_arrival.sort_by_key(|r| (r.received, r.seq));
    let mut out = Vec::new();
    let mut latest: Option<&Request> = None;
    for next in by_arrival {
        if let Some(prev) = latest {
            if !overlaps(prev, next, close_slack) && !next.transport_retry {
                let gap = next.received.saturating_sub(done_at(prev, close_slack));
                out.push((prev, next, gap));
            }
            if done_at(next, close_slack) > done_at(prev, close_slack) {
                latest = Some(next);
            }
        } else {
            latest = Some(next);
        }
    }
    out
}

/// Whether `next` arrived while `prev` (which arrived earlier) was still unanswered.
pub fn overlaps(prev: &Request, next: &Request, close_slack: Duration) -> bool {
    next.received < done_at(prev, close_slack)
        && prev.received <= next.received
        && prev.seq != next.seq
}

/// Whether `next`, `gap` after `prev`'s response, came sooner than the `Retry-After` that
/// response carried (less the tolerance). That wait is `honour-retry-after`'s finding; the
/// other pacing rules (`min-poll-interval`, `slow-down-persists`) leave it to that rule, so the
/// one decision (ignoring the hint) is one finding. The fleet's `retry_after_honoured` is the
/// share of such waits that did not break it.
pub fn breaks_retry_after(
    prev: &Request,
    next: &Request,
    gap: Duration,
    tolerance: Duration,
) -> bool {
    prev.retry_after
        .is_some_and(|ra| next.kind == prev.kind && gap + tolerance < ra)
}

/// The first answer about a validation that showed it terminal, and the requests the client
/// sent after it could have read it (arrived once that answer was sent), in arrival order.
/// A request already in flight when the answer was sent is `one-poll-in-flight`'s business.
pub fn after_terminal<'a>(timeline: &[&'a Request]) -> Option<(&'a Request, Vec<&'a Request>)> {
    let end = first_terminal(timeline)?;
    let mut after: Vec<&Request> = timeline
        .iter()
        .filter(|r| r.seq != end.seq && r.received >= end.sent)
        .copied()
        .collect();
    after.sort_by_key(|r| (r.received, r.seq));
    Some((end, after))
}

/// The first answer whose body showed the validation terminal: the first the journal
/// recorded (entries are numbered as their answers end, so this is the one the client had
/// first, even when two polls overlapped).
pub fn first_terminal<'a>(timeline: &[&'a Request]) -> Option<&'a Request> {
    timeline
        .iter()
        .filter(|r| matches!(r.seen, Seen::Terminal { .. }))
        .min_by_key(|r| r.seq)
        .copied()
}

/// What the client did about one validation (its creates and polls), counted by the rules
/// above: the per-validation figures the fleet report sums, and what the conformance checks
/// grade request by request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub requests: usize,
    pub polls: usize,
    /// Polls the store counted ([`Request::poll_counted`]).
    pub counted_polls: usize,
    /// Polls that were the HTTP stack's re-send ([`is_transport_retry`]).
    pub transport_retries: usize,
    /// Requests sent right after a retryable failure, not counting transport retries.
    pub retries: usize,
    /// Requests after the client could have read a terminal answer ([`after_terminal`]).
    pub after_terminal: usize,
    pub throttled: usize,
    pub server_errors: usize,
    pub no_answer: usize,
    /// Answers with a Retry-After followed by a request of the same kind.
    pub retry_after_followed: usize,
    /// Of those, the waits that honoured it ([`breaks_retry_after`] did not).
    pub retry_after_honoured: usize,
    /// The waits after an answered failure (429 or 5xx, [`Answer::is_answered_failure`]).
    pub waits_after_failure: Vec<Duration>,
}

impl Facts {
    /// The facts of one validation's requests (transport retries already marked), graded with
    /// `settings`' tolerance and close slack.
    pub fn of(timeline: &[&Request], settings: &Settings) -> Facts {
        let mut by_arrival: Vec<&Request> = timeline.to_vec();
        by_arrival.sort_by_key(|r| (r.received, r.seq));
        let mut f = Facts {
            requests: by_arrival.len(),
            polls: by_arrival.iter().filter(|r| r.is_poll()).count(),
            counted_polls: by_arrival.iter().filter(|r| r.poll_counted).count(),
            transport_retries: by_arrival.iter().filter(|r| r.transport_retry).count(),
            retries: by_arrival
                .windows(2)
                .filter(|w| w[0].is_retryable_failure() && !w[1].transport_retry)
                .count(),
            after_terminal: after_terminal(&by_arrival).map_or(0, |(_, after)| after.len()),
            ..Facts::default()
        };
        for r in &by_arrival {
            match r.answer() {
                Answer::Throttled { .. } => f.throttled += 1,
                Answer::ServerError => f.server_errors += 1,
                Answer::NoAnswer => f.no_answer += 1,
                _ => {}
            }
        }
        for (prev, next, gap) in gaps(&by_arrival, settings.request_timeout_slack) {
            if prev.retry_after.is_some() && next.kind == prev.kind {
                f.retry_after_followed += 1;
                if !breaks_retry_after(prev, next, gap, settings.tolerance) {
                    f.retry_after_honoured += 1;
                }
            }
            if prev.answer().is_answered_failure() {
                f.waits_after_failure.push(gap);
            }
        }
        f
    }
}

#[cfg(test)]
mod tests;
