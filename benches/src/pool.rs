//! The polling model's connections: a bounded pool of keep-alive HTTP/1.1 connections that
//! the load tool drives itself, with the HTTP/1.1 machinery raw mode also uses ([`crate::http1`]).
//!
//! The pooled hyper client this replaces cost far more per request than the exchange itself:
//! each connection ran in a task of its own (two cross-task wake-ups per request), each
//! request built a `Request`, a `HeaderMap` and a URI string, armed a fresh timer and
//! collected its body into `Bytes`. At tens of thousands of polls a second on one core that,
//! not the target, set the ceiling (BENCHMARKS.md §4). Here a request is written from bytes
//! serialized ahead (a validation's `GET` once per validation, a create's head once per run)
//! straight into the socket by the task that needs the answer, and the answer is parsed in
//! place in the connection's reused buffer.
//!
//! What the pool guarantees, as hyper's pool with the old semaphore did:
//!
//! - **At most `max` connections, open or opening.** A request first takes one of `max`
//!   permits (waiting, FIFO, if none is free: client-side queueing, inside the measured
//!   latency but outside the request timeout), then the most recently idle connection, or
//!   opens one if none is idle. A connection is only opened by a permit holder that found no
//!   idle one, so every open connection is either idle or held by a permit holder, and the
//!   count never passes the permits.
//! - **Broken connections are dropped and replaced.** After a transport error, a timeout, a
//!   `Connection: close` or unexpected bytes after a response, the connection is closed
//!   instead of going back; the next request that finds no idle one opens a new one.
//! - **Connections the server closed while idle are skipped without an error** (the check
//!   costs no syscall in the usual case, see [`crate::http1`]'s `idle_and_open`), as hyper's
//!   pool skipped closed ones; connections idle for [`IDLE_TIMEOUT`] are closed, as hyper's
//!   `pool_idle_timeout` did.
//! - **A reused connection the server closed as the request went out is retried once, when
//!   that is safe.** The check above cannot see a close still on its way: a server that drops
//!   idle keep-alive connections (the mock after 10 s, proxies after a minute or so) can close
//!   one just as it is reused, and the request then meets EOF or `ECONNRESET` although
//!   nothing went wrong on the server. hyper-util's client, browsers and curl answer that by
//!   resending on a new connection, and so does the pool, once, within the same request
//!   timeout, and only if no byte of a response arrived and either the request is a `GET`
//!   (a poll: resending it is harmless) or writing it failed, so the server never had it
//!   whole. A create written in full is never resent: the server may have created the
//!   validation, and resending would create a second one (a TruIdentidad client must not
//!   resend a create blindly). A new connection is never retried: its failure is the
//!   server's answer. [`Pool::retried`] counts the resends.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use crate::http1::{
    Head, ResponseReader, WireError, far_after, idle_and_open, push_decimal, within,
};
use crate::outcome::{ErrorClass, RequestError};

/// Idle connections older than this are closed rather than reused, as the hyper pool's
/// `pool_idle_timeout` was set: servers and proxies commonly drop idle connections after
/// about a minute, and a load run should not hold thousands of sockets it no longer needs.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A request as the pool writes it.
#[derive(Debug, Clone, Copy)]
pub enum Wire<'a> {
    /// Serialized ahead of time (a validation's `GET`).
    Ready(&'a [u8]),
    /// A create: the constant head (request line to `Content-Type`), the optional
    /// `X-Mock-Scenario` value, and the form; `Content-Length` is written between them.
    Create {
        head: &'a [u8],
        scenario: Option<&'a str>,
        form: &'a str,
    },
}

impl<'a> Wire<'a> {
    /// Whether sending it twice is harmless: a `GET` (a poll) is; a create never is, as each
    /// one creates a validation. A ready request is judged by its method rather than by being
    /// ready, so one serialized ahead with another method would never be resent.
    fn idempotent(&self) -> bool {
        match self {
            Wire::Ready(r) => r.starts_with(b"GET "),
            Wire::Create { .. } => false,
        }
    }

    /// The bytes to send; a create is assembled in `scratch` (the connection's, so no
    /// allocation once it has grown to a create's size).
    fn bytes<'b>(&'b self, scratch: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Wire::Ready(r) => r,
            Wire::Create {
                head,
                scenario,
                form,
            } => {
                scratch.clear();
                scratch.extend_from_slice(head);
                if let Some(s) = scenario {
                    scratch.extend_from_slice(b"X-Mock-Scenario: ");
                    scratch.extend_from_slice(s.as_bytes());
                    scratch.extend_from_slice(b"\r\n");
                }
                scratch.extend_from_slice(b"Content-Length: ");
                push_decimal(scratch, form.len() as u64);
                scratch.extend_from_slice(b"\r\n\r\n");
                scratch.extend_from_slice(form.as_bytes());
                scratch
            }
        }
    }
}

/// The bounded pool. See the module docs for what it guarantees.
#[derive(Debug)]
pub struct Pool {
    addr: String,
    timeout: Duration,
    /// One per request in flight, and so per connection open or opening.
    permits: Semaphore,
    /// Idle connections, most recently used last: reuse takes from the back (as hyper's pool
    /// did, so a hot few stay warm), expiry looks at the front.
    idle: Mutex<VecDeque<Conn>>,
    /// Requests resent on a new connection after a reused one closed before answering (see
    /// the module docs). Touched only when that happens, so the usual request pays nothing.
    retried: AtomicU64,
}

/// One connection and what it reuses across its requests.
#[derive(Debug)]
struct Conn {
    io: Io,
    /// The request timeout. Requests on one connection follow each other, so their deadlines
    /// only grow and one timer serves them all, moved only when it fires early (raw mode's
    /// `within`): no timer-wheel insert and remove per request.
    timer: Pin<Box<Sleep>>,
    idle_since: Instant,
}

#[derive(Debug)]
struct Io {
    /// `None` until connected, and after the connection broke.
    stream: Option<TcpStream>,
    reader: ResponseReader,
    /// A create's request, assembled per request.
    request: Vec<u8>,
    /// The last response's body.
    body: Vec<u8>,
}

impl Pool {
    pub fn new(addr: String, timeout: Duration, max: usize) -> Self {
        Pool {
            addr,
            timeout,
            permits: Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS)),
            idle: Mutex::new(VecDeque::new()),
            retried: AtomicU64::new(0),
        }
    }

    /// Requests sent a second time, on a new connection, because the reused connection they
    /// first went out on closed before any byte of a response (each is still one request).
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Sends `request` and reads the whole response. A status that is not 2xx is its error
    /// class (with `Retry-After`); a 2xx body goes to `judge`, whose verdict is returned.
    ///
    /// The request timeout runs from when a permit is held, connecting included, to the last
    /// byte of the response, as `tokio::time::timeout` around hyper's request and body did.
    /// A resend (module docs) happens inside it: one deadline for both attempts.
    pub async fn send<T>(
        &self,
        request: Wire<'_>,
        judge: impl FnOnce(&[u8]) -> Result<T, RequestError>,
    ) -> Result<T, RequestError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| RequestError::of(ErrorClass::Other))?;
        let now = Instant::now();
        let deadline = far_after(now, self.timeout);
        let mut conn = self.checkout(now, deadline);
        let exchange = conn.io.exchange(&self.addr, request, &self.retried);
        let head = match within(conn.timer.as_mut(), deadline, exchange).await {
            Some(head) => head,
            None => {
                // The response may still come: this connection's framing is lost.
                conn.io.stream = None;
                Err(RequestError::of(ErrorClass::Timeout))
            }
        };
        let verdict = head.and_then(|head| match ErrorClass::of_code(head.status) {
            Some(class) => Err(RequestError {
                class,
                retry_after: head.retry_after,
            }),
            None => judge(&conn.io.body),
        });
        self.checkin(conn);
        verdict
    }

    fn idle(&self) -> MutexGuard<'_, VecDeque<Conn>> {
        // Nothing panics while holding the lock; a poisoned one is still a consistent list.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently idle connection that is still open, or a new unconnected one.
    /// Closed or expired ones met on the way are dropped (outside the lock).
    fn checkout(&self, now: Instant, deadline: Instant) -> Conn {
        loop {
            let Some(conn) = self.idle().pop_back() else {
                break;
            };
            let fresh = now.saturating_duration_since(conn.idle_since) < IDLE_TIMEOUT;
            if fresh && conn.io.stream.as_ref().is_some_and(idle_and_open) {
                return conn;
            }
        }
        Conn {
            io: Io {
                stream: None,
                reader: ResponseReader::default(),
                request: Vec::new(),
                body: Vec::new(),
            },
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            idle_since: now,
        }
    }

    /// Back to the idle list if still usable; otherwise dropped, which closes it. Also closes
    /// at most one connection that sat idle past [`IDLE_TIMEOUT`], so a pool that grew in a
    /// burst shrinks back as the hyper pool's reaper made it.
    fn checkin(&self, mut conn: Conn) {
        if conn.io.stream.is_none() {
            return;
        }
        let now = Instant::now();
        conn.idle_since = now;
        let expired = {
            let mut idle = self.idle();
            let expired = idle
                .front()
                .is_some_and(|c| now.saturating_duration_since(c.idle_since) >= IDLE_TIMEOUT)
                .then(|| idle.pop_front());
            idle.push_back(conn);
            expired
        };
        drop(expired);
    }

    /// Connections idle in the pool (tests).
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle().len()
    }
}

/// How one attempt at an exchange failed, as far as resending it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// No connection could be made: `connect`, never resent (it was a new connection).
    Connect,
    /// Writing the request failed as writing to a connection the peer closed does (`EPIPE`,
    /// `ECONNRESET`): the server never had the whole request, so it cannot have acted on it.
    Unsent,
    /// Written in full, then the connection ended (EOF, `ECONNRESET`) before any byte of a
    /// response: what a keep-alive connection closed as it was reused shows, but the server
    /// may also have acted on the request.
    Unanswered,
    /// Anything else (a cut or malformed response, another I/O error): never resent.
    Broken,
}

impl Failure {
    /// An I/O error kind a connection the peer closed gives, and nothing else: other errors
    /// are not the stale-connection race and are counted as before.
    fn closed_by_peer(kind: io::ErrorKind) -> bool {
        matches!(
            kind,
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        )
    }

    /// A failed write of the request.
    fn of_write(e: &io::Error) -> Self {
        if Failure::closed_by_peer(e.kind()) {
            Failure::Unsent
        } else {
            Failure::Broken
        }
    }

    /// A failed read of the response.
    fn of_read(e: WireError) -> Self {
        match e {
            WireError::ClosedBeforeResponse => Failure::Unanswered,
            WireError::IoBeforeResponse(kind) if Failure::closed_by_peer(kind) => {
                Failure::Unanswered
            }
            _ => Failure::Broken,
        }
    }

    /// Whether `request`, having failed so on a reused connection, may go out again on a new
    /// one: if the server never had it whole, or if sending it twice is harmless.
    fn may_resend(self, request: Wire<'_>) -> bool {
        match self {
            Failure::Unsent => true,
            Failure::Unanswered => request.idempotent(),
            Failure::Connect | Failure::Broken => false,
        }
    }

    fn error(self) -> RequestError {
        RequestError::of(match self {
            Failure::Connect => ErrorClass::Connect,
            Failure::Unsent | Failure::Unanswered | Failure::Broken => ErrorClass::Other,
        })
    }
}

impl Io {
    /// One exchange on this connection, connecting first if it has none, and resent once on
    /// a new connection if this one was reused and [`Failure::may_resend`] allows (module
    /// docs); the resend is counted in `retried`. Any failure below the status line drops
    /// the connection: its framing can no longer be trusted.
    ///
    /// One loop rather than an inner async fn per attempt, because this future lives in
    /// every validation's task: in a test build a poll's future measured 1,136 bytes this
    /// way, 1,408 with an inner async fn, and 1,056 before resends existed.
    async fn exchange(
        &mut self,
        addr: &str,
        request: Wire<'_>,
        retried: &AtomicU64,
    ) -> Result<Head, RequestError> {
        // Only a reused connection can have been closed by the server as idle; after a
        // failure the connection is gone, so a second attempt is on a new one and this
        // allows at most one resend.
        let mut reused = self.stream.is_some();
        loop {
            let stream = match &mut self.stream {
                Some(s) => s,
                None => {
                    let s = TcpStream::connect(addr)
                        .await
                        .map_err(|_| Failure::Connect.error())?;
                    // As hyper's connector was set: requests are small, one write each.
                    let _ = s.set_nodelay(true);
                    self.reader.clear();
                    self.stream.insert(s)
                }
            };
            let bytes = request.bytes(&mut self.request);
            self.body.clear();
            // Written and read here rather than by raw mode's `exchange_on`, to tell a failed
            // write from a failed read: only the first proves the server never had the
            // request.
            let failure = match stream.write_all(bytes).await {
                Err(e) => Failure::of_write(&e),
                Ok(()) => match self.reader.read(stream, Some(&mut self.body)).await {
                    Ok(head) => {
                        if head.close || self.reader.has_leftover() {
                            self.stream = None;
                        }
                        return Ok(head);
                    }
                    Err(e) => Failure::of_read(e),
                },
            };
            self.stream = None;
            if !std::mem::take(&mut reused) || !failure.may_resend(request) {
                return Err(failure.error());
            }
            retried.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests;
