//! What replicas sharing a Redis store must agree on besides the records: the seed ids and
//! draws derive from, the clock, creation numbers, armed scenarios and create counts.
//!
//! - Seed and clock epoch: the first replica to start writes them (`SET NX`), the others read
//!   them, so every replica derives the same draws and counts time from the same instant.
//! - Creation numbers: each replica reserves a block with `INCRBY` and hands numbers out
//!   locally, so numbers (and the ids derived from them under the shared seed) never collide
//!   and a create costs a round trip for them only once per block.
//! - The manual clock's reading is a Redis key: an advance through any replica moves every
//!   replica's clock, and a poll reads it in its own script.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use super::{RedisStore, Unavailable, codec::ns, scripts};
use crate::clock::{AdvanceError, Clock, ClockMode};

/// Creation numbers reserved per round trip.
const SEQ_BLOCK: u64 = 256;
/// Most distinct accounts whose creates are counted (as the in-memory table).
pub(crate) const CREATE_COUNT_LIMIT: usize = 10_000;
/// Most scenarios armed at once, so a loop of arm calls cannot fill Redis.
const MAX_ARMED: usize = 100_000;

impl RedisStore {
    /// Writes `proposed` under `what` unless a value is there, and returns the value there.
    fn first_writer_wins(&self, what: &str, proposed: u64) -> Result<u64, Unavailable> {
        let key = self.key(what);
        let (_, v): ((), u64) = self.pool().run(|c| {
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&key)
                .arg(proposed)
                .arg("NX")
                .ignore()
                .cmd("GET")
                .arg(&key)
                .query::<(u64,)>(c)
                .map(|(v,)| ((), v))
        })?;
        Ok(v)
    }

    /// The cluster's seed: `proposed` if this replica is the first, else the first one's.
    pub fn shared_seed(&self, proposed: u64) -> Result<u64, Unavailable> {
        self.first_writer_wins("seed", proposed)
    }

    /// The wall time the cluster's clock counts from.
    pub fn epoch(&self) -> Result<SystemTime, Unavailable> {
        let now = ns(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default());
        let at = self.first_writer_wins("epoch", now)?;
        Ok(UNIX_EPOCH + Duration::from_nanos(at))
    }

    /// Appends `count` armed scenarios; returns how many are armed.
    pub fn arm(&self, scenario: &str, count: usize) -> Result<usize, Unavailable> {
        let key = self.key("armed");
        let (len,): (usize,) = self.pool().run(|c| {
            redis::pipe()
                .atomic()
                .cmd("RPUSH")
                .arg(&key)
                .arg(vec![scenario; count])
                .ignore()
                .cmd("LTRIM")
                .arg(&key)
                .arg(0)
                .arg(MAX_ARMED - 1)
                .ignore()
                .cmd("LLEN")
                .arg(&key)
                .query(c)
        })?;
        Ok(len)
    }
}

/// The request path's share of the above, awaited on the multiplexed connection.
impl RedisStore {
    /// Reserves `SEQ_BLOCK` creation numbers; returns the first.
    async fn reserve_seqs(&self) -> Result<u64, Unavailable> {
        let mut con = self.pool().manager()?;
        let end: u64 = self
            .pool()
            .bounded(
                redis::cmd("INCRBY")
                    .arg(self.key("seq"))
                    .arg(SEQ_BLOCK)
                    .query_async(&mut con),
            )
            .await?;
        Ok(end - SEQ_BLOCK)
    }

    /// Takes the next armed scenario's name, if any.
    pub async fn take_armed(&self) -> Result<Option<String>, Unavailable> {
        let mut con = self.pool().manager()?;
        self.pool()
            .bounded(
                redis::cmd("LPOP")
                    .arg(self.key("armed"))
                    .query_async(&mut con),
            )
            .await
    }

    /// Counts a create for `account`; returns its 1-based ordinal across replicas.
    pub async fn count_create(&self, account: &str) -> Result<u32, Unavailable> {
        let mut con = self.pool().manager()?;
        let mut inv = scripts::COUNT_CREATE.prepare_invoke();
        inv.key(self.key("creates"))
            .arg(account)
            .arg(CREATE_COUNT_LIMIT);
        let n: u64 = self.pool().bounded(inv.invoke_async(&mut con)).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

/// Creation numbers handed out from blocks reserved in Redis.
#[derive(Debug, Default)]
pub struct SeqBlocks {
    /// Next number and the end of the block (exclusive).
    range: Mutex<(u64, u64)>,
    /// The last number handed out plus one, for `peek`.
    next: AtomicU64,
}

impl SeqBlocks {
    /// The next creation number, reserving a block when this one is used up. The lock is
    /// not held across the reservation: two
    /// creates that find the block empty at once may both reserve one, and the numbers of
    /// the block replaced are skipped (never handed out twice).
    pub async fn next(&self, store: &RedisStore) -> Result<u64, Unavailable> {
        {
            let mut r = self.range.lock();
            if r.0 < r.1 {
                let seq = r.0;
                r.0 += 1;
                self.next.store(r.0, Ordering::Relaxed);
                return Ok(seq);
            }
        }
        let first = store.reserve_seqs().await?;
        let mut r = self.range.lock();
        *r = (first + 1, first + SEQ_BLOCK);
        self.next.store(r.0, Ordering::Relaxed);
        Ok(first)
    }

    pub fn peek(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}

/// The manual clock of a cluster: its reading is the Redis key `{ns}:clock`, in nanoseconds.
///
/// Each reading is a round trip; while Redis cannot be reached the last reading stands (and
/// the requests that need Redis fail with 503 anyway). The poll script reads the key itself,
/// so a poll's state and its clock reading are one atomic step.
#[derive(Debug)]
pub struct RedisClock {
    store: RedisStore,
    start_wall: SystemTime,
    last: AtomicU64,
}

impl RedisClock {
    pub fn new(store: RedisStore, start_wall: SystemTime) -> Self {
        RedisClock {
            store,
            start_wall,
            last: AtomicU64::new(0),
        }
    }

    fn seen(&self, n: u64) -> Duration {
        self.last.fetch_max(n, Ordering::AcqRel);
        Duration::from_nanos(n)
    }
}

impl Clock for RedisClock {
    fn now(&self) -> Duration {
        let key = self.store.key("clock");
        match self
            .store
            .pool()
            .run(|c| redis::cmd("GET").arg(&key).query::<Option<u64>>(c))
        {
            Ok(n) => self.seen(n.unwrap_or(0)),
            Err(_) => Duration::from_nanos(self.last.load(Ordering::Acquire)),
        }
    }

    fn started_at(&self) -> SystemTime {
        self.start_wall
    }

    fn advance(&self, by: Duration) -> Result<Duration, AdvanceError> {
        let key = self.store.key("clock");
        let add = i64::try_from(ns(by)).unwrap_or(i64::MAX);
        let moved = self.store.pool().run(|c| {
            match redis::cmd("INCRBY").arg(&key).arg(add).query::<u64>(c) {
                Ok(n) => Ok(Ok(n)),
                // Redis answered but refused: the increment would overflow its integers.
                // Nothing moved; report where the clock stands.
                Err(e)
                    if e.kind()
                        == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) =>
                {
                    redis::cmd("GET")
                        .arg(&key)
                        .query::<Option<u64>>(c)
                        .map(|n| Err(n.unwrap_or(0)))
                }
                Err(e) => Err(e),
            }
        });
        match moved {
            Ok(Ok(n)) => Ok(self.seen(n)),
            Ok(Err(now)) => Err(AdvanceError::PastSharedLimit {
                now: self.seen(now),
            }),
            Err(_) => Err(AdvanceError::Unavailable),
        }
    }

    fn mode(&self) -> ClockMode {
        ClockMode::Manual
    }
}
