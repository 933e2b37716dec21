//! Raw mode's client: each worker drives its own `TcpStream` and speaks HTTP/1.1 itself.
//!
//! Raw mode exists to be compared with wrk, whose loop per request is one write of a
//! pre-built request and one read parsed in place. A pooled hyper client (what both modes used
//! before) costs far more per request: a hyper connection runs in a task of its own (two
//! cross-task wake-ups per request), and each request builds a `Request` and a `HeaderMap`,
//! arms a fresh timer and collects the body into `Bytes`. At wrk's rates that overhead, not
//! the target, set raw mode's figure. Here instead (the polling model's pool
//! shares the parser, the reader and the timer in [`crate::http1`]):
//!
//! - the request is serialized once per run (raw create rewrites only its account id and
//!   `Content-Length`) and written with one write;
//! - the response is read into a buffer reused across requests and parsed in place with
//!   `httparse`; the body is skipped by its framing (`Content-Length`, chunked, or until the
//!   server closes), and kept only for create, whose `validation_id` is checked as before;
//! - the per-request timeout is one timer per worker, moved only when it fires early
//!   ([`within`]).
//!
//! What is counted did not change: the same status classes as the hyper client (429, 4xx,
//! 5xx, and anything else not 2xx as `other`), a broken or unparseable exchange is `other`, a
//! failed connect `connect`, no full response in time `timeout`; after any of these the worker
//! reconnects. One request is in flight per connection (no pipelining).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::client::{Api, created_id, form_urlencoded_pairs};
use crate::http1::{ResponseReader, exchange_on, far_after, idle_and_open, push_decimal, within};
use crate::outcome::{BadValidationId, ErrorClass, RequestError};

/// What raw mode sends, serialized once.
#[derive(Debug)]
enum Requests {
    /// The whole `GET /v1/validations/{id}` request.
    Get(Box<[u8]>),
    /// `POST /v1/validations` with the account id `<scenario>.raw-<worker>-<n>`, as the pooled
    /// client sent it: every request creates a distinct validation.
    Create {
        /// Request line and headers up to the `Content-Length` value.
        head: Box<[u8]>,
        /// Form body up to the `<worker>-<n>` part of the account id.
        body_start: Box<[u8]>,
        /// Form body after it.
        body_end: Box<[u8]>,
    },
}

impl Requests {
    /// The request worker `worker` sends the `n`-th time, in `out`.
    fn write<'a>(&'a self, out: &'a mut Vec<u8>, worker: u64, n: u64) -> &'a [u8] {
        match self {
            Requests::Get(r) => r,
            Requests::Create {
                head,
                body_start,
                body_end,
            } => {
                let id_len = decimal_len(worker) + 1 + decimal_len(n);
                out.clear();
                out.extend_from_slice(head);
                push_decimal(out, (body_start.len() + id_len + body_end.len()) as u64);
                out.extend_from_slice(b"\r\n\r\n");
                out.extend_from_slice(body_start);
                push_decimal(out, worker);
                out.push(b'-');
                push_decimal(out, n);
                out.extend_from_slice(body_end);
                out
            }
        }
    }
}

fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// The target and the requests raw mode sends it, shared by the workers.
#[derive(Debug)]
pub struct RawTarget {
    addr: String,
    timeout: Duration,
    requests: Requests,
}

impl RawTarget {
    /// `GET {prefix}/v1/validations/{id}`, the same request the polling model sends.
    pub fn get(api: &Api, id: &str) -> Result<Self, BadValidationId> {
        Ok(RawTarget {
            addr: api.socket_addr().to_string(),
            timeout: api.timeout(),
            requests: Requests::Get(api.get_bytes(id)?),
        })
    }

    /// `POST {prefix}/v1/validations` with the polling model's form and account ids
    /// `<scenario>.raw-<worker>-<n>`.
    pub fn create(api: &Api, scenario: &str) -> Self {
        let mut head = api.create_head().to_vec();
        head.extend_from_slice(b"Content-Length: ");
        // The id's `<worker>-<n>` tail is digits and `-`, which form encoding leaves as is, so
        // the body splits around it into two constant parts.
        let body_start = form_urlencoded_pairs(&[
            ("type", "government"),
            ("account_id", &format!("{scenario}.raw-")),
        ]);
        let body_end = format!(
            "&{}",
            form_urlencoded_pairs(&[("user_authorized", "true"), ("country", "CO")])
        );
        RawTarget {
            addr: api.socket_addr().to_string(),
            timeout: api.timeout(),
            requests: Requests::Create {
                head: head.into(),
                body_start: body_start.into_bytes().into(),
                body_end: body_end.into_bytes().into(),
            },
        }
    }
}

/// One raw-mode worker's client: a connection of its own, reopened when it breaks, and the
/// buffers and timer it reuses for every request.
#[derive(Debug)]
pub struct RawWorker {
    target: Arc<RawTarget>,
    timer: Pin<Box<Sleep>>,
    session: Session,
}

#[derive(Debug)]
struct Session {
    worker: u64,
    sent: u64,
    conn: Option<TcpStream>,
    reader: ResponseReader,
    /// Raw create's request, rewritten per request.
    request: Vec<u8>,
    /// Raw create's response body.
    body: Vec<u8>,
}

impl RawWorker {
    pub fn new(target: Arc<RawTarget>, worker: usize) -> Self {
        let timer = Box::pin(tokio::time::sleep_until(far_after(
            Instant::now(),
            target.timeout,
        )));
        RawWorker {
            target,
            timer,
            session: Session {
                worker: worker as u64,
                sent: 0,
                conn: None,
                reader: ResponseReader::default(),
                request: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    /// Sends one request and reads its response, `started` being when the caller's latency
    /// clock started (the timeout runs from then, connecting included, as hyper's did).
    pub async fn send(&mut self, started: Instant) -> Result<(), RequestError> {
        let deadline = far_after(started, self.target.timeout);
        let exchange = self.session.exchange(&self.target);
        match within(self.timer.as_mut(), deadline, exchange).await {
            Some(result) => result,
            None => {
                // The response may still come: this connection's framing is lost.
                self.session.conn = None;
                Err(RequestError::of(ErrorClass::Timeout))
            }
        }
    }
}

impl Session {
    async fn exchange(&mut self, target: &RawTarget) -> Result<(), RequestError> {
        let n = self.sent;
        self.sent += 1;
        if self.conn.as_ref().is_some_and(|c| !idle_and_open(c)) {
            self.conn = None;
        }
        let stream = match &mut self.conn {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(target.addr.as_str())
                    .await
                    .map_err(|_| RequestError::of(ErrorClass::Connect))?;
                // As hyper's connector was set: requests are small, one write each.
                let _ = s.set_nodelay(true);
                self.reader.clear();
                self.conn.insert(s)
            }
        };
        let is_create = matches!(target.requests, Requests::Create { .. });
        let request = target.requests.write(&mut self.request, self.worker, n);
        self.body.clear();
        let body = is_create.then_some(&mut self.body);
        let head = match exchange_on(stream, &mut self.reader, request, body).await {
            Ok(head) => head,
            Err(_) => {
                self.conn = None;
                return Err(RequestError::of(ErrorClass::Other));
            }
        };
        if head.close || self.reader.has_leftover() {
            self.conn = None;
        }
        if let Some(class) = ErrorClass::of_code(head.status) {
            return Err(RequestError::of(class));
        }
        if is_create {
            created_id(&self.body)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
