//! The last stage of every request: the metrics, the journal entry and the log line, written
//! exactly once.

use std::net::SocketAddr;
use std::ops::Deref;

use http::{Method, Response};
use truidentidad_scenarios::ConnectionFault;

use crate::exchange::{ConnInfo, Exchange};
use crate::form::truncate;
use crate::journal::{JournalEntry, Kind};
use crate::reply::Reply;
use crate::response_body::ResponseBody;
use crate::state::AppState;

/// Returned to hyper to end a connection without a response (a scenario's connection fault).
#[derive(Debug, thiserror::Error)]
#[error("connection ended by a scenario fault ({0})")]
pub struct Aborted(pub(crate) &'static str);

/// Journals and logs a request exactly once: when it is answered, or, if the client closes
/// the connection first (hyper then drops the handler mid-way, e.g. during a stall or a
/// delay), when the handler is dropped. Without this, the requests a client gave up on, the
/// very ones a per-request-timeout check needs, would vanish from the journal.
///
/// `S` is how the state is held: borrowed while answering synchronously, an `Arc` inside
/// boxed work.
pub struct Recorder<S: Deref<Target = AppState>> {
    pub(crate) state: S,
    remote: SocketAddr,
    /// When the request arrived, for the latency under a manual clock (see
    /// [`crate::service::handle`]).
    started: Option<std::time::Instant>,
    pub(crate) ex: Exchange,
    done: bool,
}

impl<S: Deref<Target = AppState>> Recorder<S> {
    pub fn new(
        state: S,
        conn: &ConnInfo,
        started: Option<std::time::Instant>,
        ex: Exchange,
    ) -> Self {
        Recorder {
            state,
            remote: conn.remote,
            started,
            ex,
            done: false,
        }
    }

    /// Records the reply and turns it into what hyper expects.
    pub fn answer(
        &mut self,
        conn: &ConnInfo,
        reply: Reply,
    ) -> Result<Response<ResponseBody>, Aborted> {
        self.finish(match &reply {
            Reply::Response(r) => r.status().as_u16(),
            Reply::Abort(_) => 0,
        });
        match reply {
            Reply::Response(r) => Ok(r),
            Reply::Abort(ConnectionFault::Reset) => {
                conn.control.reset_on_close();
                Err(Aborted("reset"))
            }
            Reply::Abort(_) => Err(Aborted("close")),
        }
    }

    fn finish(&mut self, status: u16) {
        self.done = true;
        let state = &*self.state;
        let ex = &mut self.ex;
        if matches!(ex.kind, Kind::Create | Kind::Poll) {
            state.traffic.record(ex.received, status);
        }
        let journaled = state.journal.enabled() && !ex.skip_journal;
        // One clock reading serves the journal's `sent`, the metrics' and the log's latency.
        let sent = state.clock.now();
        let latency = match self.started {
            Some(s) => s.elapsed(),
            None => sent.saturating_sub(ex.received),
        };
        state.metrics.record(ex.kind, status, latency, &ex.fault);
        if state.config.request_log {
            let path = ex.uri.path_and_query().map_or("/", |p| p.as_str());
            // A create that stored a validation says which, and what chose its scenario. The
            // id's text is built only then: a poll also carries an id, and encoding it on
            // every poll for nothing cost instructions on the request path.
            let id = ex
                .validation_id
                .filter(|_| ex.chosen.is_some())
                .map(|id| id.encode());
            let facts: &[&[u8]] = match (ex.chosen, &id) {
                (Some(c), Some(id)) => &[
                    b" validation_id=",
                    id,
                    b" scenario=",
                    state.catalogue.get(c.scenario).name.as_bytes(),
                    b" chosen_by=",
                    c.by.as_str().as_bytes(),
                    if c.near_miss.is_some() {
                        b" did_you_mean="
                    } else {
                        b""
                    },
                    c.near_miss
                        .map_or(&b""[..], |m| state.catalogue.get(m).name.as_bytes()),
                ],
                _ => &[],
            };
            match &state.config.log_sink {
                Some(sink) => sink.request_line(&ex.method, path, status, facts, latency),
                None => tracing::info!(
                    target: "truidentidad_mock::request",
                    "method={} path={path} status={status}{} latency_ms={:.3}",
                    ex.method,
                    facts.iter().map(|p| String::from_utf8_lossy(p)).collect::<String>(),
                    latency.as_secs_f64() * 1e3,
                ),
            }
        }
        if journaled {
            state.journal.push(JournalEntry {
                seq: 0,
                received: ex.received,
                sent,
                // Taken, not cloned: the exchange is finished.
                method: std::mem::replace(&mut ex.method, Method::GET),
                path: truncate_bytes(ex.uri.path_and_query().map_or("/", |p| p.as_str()), 512),
                kind: ex.kind,
                validation_id: ex.validation_id,
                status,
                fault: ex.fault,
                api_key: ex.api_key,
                content_type: ex
                    .content_type
                    .take()
                    .map(|v| truncate(&String::from_utf8_lossy(v.as_bytes()), 128)),
                form: std::mem::take(&mut ex.form),
                remote: self.remote,
                observed: ex.observed,
                poll_counted: ex.poll_counted,
            });
        }
    }
}

impl<S: Deref<Target = AppState>> Drop for Recorder<S> {
    fn drop(&mut self) {
        if !self.done {
            self.ex.fault.client_closed = true;
            self.ex.observed = None;
            self.finish(0);
        }
    }
}

fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}
