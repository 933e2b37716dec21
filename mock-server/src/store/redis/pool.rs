//! Connections to Redis, each call bounded in time, and the reconnection that makes service
//! resume by itself when Redis comes back.
//!
//! The request path (create and poll) goes through [`Pool::bounded`]: one multiplexed tokio
//! connection (`redis::aio::ConnectionManager`) that every concurrent request pipelines its
//! commands on, reconnecting by itself after Redis restarts. Each call is bounded by the
//! store's timeout and fails as [`Unavailable`], so a stopped or slow Redis costs a request a
//! 503 with `Retry-After`, never a blocked worker thread.
//!
//! The rest (control API, dashboard, journal, the manual clock) still runs through the
//! synchronous connections below:
//!
//! Synchronous connections from the `redis` crate, kept in a small pool: the store trait is
//! synchronous (the in-memory store's poll path must not box a future), so a call blocks its
//! worker thread for one round trip, inside `tokio::task::block_in_place` so the runtime hands
//! that worker's other tasks to another thread meanwhile. Each connection has read, write and
//! connect timeouts: a Redis that is down answers in a connect error at once, one that hangs
//! in at most the timeout, never longer. A connection that failed is dropped, and the next
//! call opens a new one: there is no state to recover but the connection.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::store::Unavailable;

/// Idle connections kept for reuse; more are opened when more calls run at once, and closed
/// after use past this many.
const MAX_IDLE: usize = 64;

pub(crate) struct Pool {
    client: redis::Client,
    /// Where Redis is, for error messages.
    addr: String,
    timeout: Duration,
    idle: Mutex<Vec<redis::Connection>>,
    /// The request path's multiplexed connection, made on first use (it needs the runtime).
    manager: std::sync::OnceLock<redis::aio::ConnectionManager>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("addr", &self.addr)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(client: redis::Client, addr: String, timeout: Duration) -> Self {
        Pool {
            client,
            addr,
            timeout,
            idle: Mutex::new(Vec::new()),
            manager: std::sync::OnceLock::new(),
        }
    }

    /// The multiplexed connection of the request path. Connects lazily: a Redis that is down
    /// fails the calls, not this.
    pub(crate) fn manager(&self) -> Result<redis::aio::ConnectionManager, Unavailable> {
        if let Some(m) = self.manager.get() {
            return Ok(m.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            // Reconnection is retried on the next call rather than in a loop here: a request
            // answers 503 at once while Redis is away.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let m = redis::aio::ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.unavailable(&e))?;
        Ok(self.manager.get_or_init(|| m).clone())
    }

    /// Awaits one call on the multiplexed connection, at most the store's timeout.
    pub(crate) async fn bounded<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.unavailable(&e)),
            Err(_) => Err(self.too_slow()),
        }
    }

    fn too_slow(&self) -> Unavailable {
        Unavailable(Arc::from(format!(
            "Redis at {} did not answer within {} ms",
            self.addr,
            self.timeout.as_millis()
        )))
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let con = self.client.get_connection_with_timeout(self.timeout)?;
        con.set_read_timeout(Some(self.timeout))?;
        con.set_write_timeout(Some(self.timeout))?;
        Ok(con)
    }

    /// Runs `f` on a connection, as one bounded wait; a failure drops the connection.
    ///
    /// A pooled connection may have died while it sat idle (Redis restarted): its first use
    /// then fails at once with a dropped connection, before Redis ever saw the command. That
    /// call is run once more on a fresh connection, as HTTP clients do for a reused
    /// keep-alive connection, so service resumes with the first request after a restart
    /// instead of one 503 per stale connection. A fresh connection that fails is not retried.
    pub(crate) fn run<T>(
        &self,
        mut f: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, Unavailable> {
        blocking(|| {
            let pooled = self.idle.lock().pop();
            let reused = pooled.is_some();
            let mut con = match pooled {
                Some(c) => c,
                None => self.connect().map_err(|e| self.unavailable(&e))?,
            };
            let mut result = f(&mut con);
            if let Err(e) = &result
                && reused
                && stale(e)
            {
                self.idle.lock().clear();
                con = self.connect().map_err(|e| self.unavailable(&e))?;
                result = f(&mut con);
            }
            match result {
                Ok(v) => {
                    let mut idle = self.idle.lock();
                    if idle.len() < MAX_IDLE {
                        idle.push(con);
                    }
                    Ok(v)
                }
                Err(e) => {
                    if e.is_unrecoverable_error() || e.is_timeout() || e.is_io_error() {
                        // Other pooled connections likely broke with it (Redis restarted):
                        // start afresh rather than fail once per stale connection.
                        self.idle.lock().clear();
                    }
                    Err(self.unavailable(&e))
                }
            }
        })
    }

    fn unavailable(&self, e: &redis::RedisError) -> Unavailable {
        if e.is_timeout() {
            return self.too_slow();
        }
        Unavailable(Arc::from(format!("Redis at {}: {e}", self.addr)))
    }
}

/// Whether `e` says the connection was already gone (closed by a Redis that restarted), as
/// opposed to Redis answering an error or taking too long.
fn stale(e: &redis::RedisError) -> bool {
    !e.is_timeout() && (e.is_connection_dropped() || e.is_unrecoverable_error() || e.is_io_error())
}

/// Runs a blocking call without stalling the runtime's other tasks: inside `block_in_place`
/// on a multi-threaded runtime (the server's); directly elsewhere (a single-threaded test
/// runtime, or no runtime), where there is no other worker to hand tasks to.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
