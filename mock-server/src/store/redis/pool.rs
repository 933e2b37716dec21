//! Connections to Redis, each call bounded in time, and the reconnection that makes service
//! resume by itself when Redis comes back.
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
        }
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let con = self.client.get_connection_with_timeout(self.timeout)?;
        con.set_read_timeout(Some(self.timeout))?;
        con.set_write_timeout(Some(self.timeout))?;
        Ok(con)
    }

    /// Runs `f` on a connection, as one bounded wait; a failure drops the connection.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, Unavailable> {
        blocking(|| {
            let pooled = self.idle.lock().pop();
            let mut con = match pooled {
                Some(c) => c,
                None => self.connect().map_err(|e| self.unavailable(&e))?,
            };
            match f(&mut con) {
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
        let why = if e.is_timeout() {
            format!(
                "Redis at {} did not answer within {} ms",
                self.addr,
                self.timeout.as_millis()
            )
        } else {
            format!("Redis at {}: {e}", self.addr)
        };
        Unavailable(Arc::from(why))
    }
}

/// Runs a blocking call without stalling the runtime's other tasks: inside `block_in_place`
/// on a multi-threaded runtime (the server's); directly elsewhere (a single-threaded test
/// runtime, or no runtime), where there is no other worker to hand tasks to.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
