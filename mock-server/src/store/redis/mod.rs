//! Validations in Redis, so replicas behind a load balancer answer any request identically
//! (`serve --store redis://HOST:PORT/DB`).
//!
//! Each record is a hash under `{ns}:v:{id}` ([`codec`]); a sorted set `{ns}:idx` orders them
//! by creation for listing and eviction. Every store step is one round trip: a poll's
//! read-observe-update and a create are Lua scripts ([`scripts`]), so poll counts are atomic
//! across replicas and an n-th-poll fault fires once in the whole cluster. Changes computed in
//! Rust (a forced outcome, a scenario switch, the browser journey) are written back only if
//! the record did not change since it was read, and retried otherwise.
//!
//! What else replicas must agree on lives here too ([`cluster`]): the seed, the clock's epoch
//! (the manual clock's reading itself), creation numbers, armed scenarios and create counts.
//!
//! A Redis that is down or slow makes every step return [`Unavailable`] within the timeout
//! ([`pool`]); the server answers 503 with `Retry-After`, and the next step after Redis is
//! back succeeds.

pub(crate) mod cluster;
pub(crate) mod codec;
pub(crate) mod journal;
pub(crate) mod pool;
mod scripts;
mod url;

use std::sync::Arc;
use std::time::Duration;

use truidentidad_scenarios::{Catalogue, Observation};

pub use url::{RedisUrl, RedisUrlError};

use self::codec::{Encoded, Stored};
use self::pool::Pool;
use super::{InsertError, NewValidation, Record, StoreError, Unavailable, ValidationStore, View};
use crate::ids::ValidationId;

/// Optimistic writes retried this many times before the store gives up (never reached
/// unless hundreds of polls hit one validation during one control-API change).
const MAX_WRITE_ATTEMPTS: usize = 64;
/// Records read per round trip when listing.
const LIST_CHUNK: isize = 500;

/// Cheap to clone: clones share the connections (the state's clock holds one).
#[derive(Clone)]
pub struct RedisStore {
    pool: Arc<Pool>,
    ns: String,
    capacity: usize,
    catalogue: Arc<Catalogue>,
    /// With a manual clock the poll script reads the clock in Redis itself, in the same step.
    manual_clock: bool,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("pool", &self.pool)
            .field("ns", &self.ns)
            .finish()
    }
}

/// A record as read: what the optimistic write compares against.
struct Read {
    record: Record,
    version: u64,
    polls_total: u32,
}

impl RedisStore {
    /// A store in the Redis at `url`, holding at most `capacity` validations. Connects lazily:
    /// a Redis that is not up yet makes requests fail with 503 until it is.
    pub fn new(
        url: &RedisUrl,
        capacity: usize,
        catalogue: Arc<Catalogue>,
        manual_clock: bool,
    ) -> Result<Self, RedisUrlError> {
        Ok(RedisStore {
            pool: Arc::new(Pool::new(url.client()?, url.addr(), url.timeout)),
            ns: url.namespace.clone(),
            capacity,
            catalogue,
            manual_clock,
        })
    }

    pub(crate) fn key(&self, what: &str) -> String {
        format!("{}:{what}", self.ns)
    }

    fn record_key(&self, id: ValidationId) -> String {
        format!("{}:v:{id}", self.ns)
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    fn fields(e: &Encoded) -> Vec<(&'static str, String)> {
        vec![
            ("d", e.data.clone()),
            ("c", e.created_ns.to_string()),
            ("t", e.timeout_ns.to_string()),
            ("x", u8::from(e.expires).to_string()),
            ("h", u8::from(e.on_hold).to_string()),
            ("hp", e.held_polls.to_string()),
        ]
    }

    fn decode(&self, id: ValidationId, s: &Stored) -> Result<Record, Unavailable> {
        codec::decode(id, s, &self.catalogue).map_err(|e| Unavailable(Arc::from(e.to_string())))
    }

    fn read(&self, id: ValidationId) -> Result<Option<Read>, Unavailable> {
        let key = self.record_key(id);
        let got: Vec<Option<String>> = self
            .pool
            .run(|c| redis::cmd("HMGET").arg(&key).arg(&codec::FIELDS).query(c))?;
        let Some(stored) = stored(&got) else {
            return Ok(None);
        };
        Ok(Some(Read {
            record: self.decode(id, &stored)?,
            version: stored.version,
            polls_total: stored.polls_total,
        }))
    }

    /// The records under `ids` (as the index lists them), in that order, in one round trip;
    /// ids whose record is gone are skipped.
    fn read_many(&self, ids: &[String]) -> Result<Vec<Record>, Unavailable> {
        let parsed: Vec<ValidationId> = ids.iter().filter_map(|s| s.parse().ok()).collect();
        let rows: Vec<Vec<Option<String>>> = self.pool.run(|c| {
            let mut pipe = redis::pipe();
            for id in &parsed {
                pipe.cmd("HMGET")
                    .arg(self.record_key(*id))
                    .arg(&codec::FIELDS);
            }
            pipe.query(c)
        })?;
        let mut out = Vec::with_capacity(parsed.len());
        for (id, row) in parsed.into_iter().zip(rows) {
            if let Some(s) = stored(&row) {
                out.push(self.decode(id, &s)?);
            }
        }
        Ok(out)
    }

    /// The id of the record to evict now, by [`super::eviction_victim`] over the oldest
    /// records (empty when there are none: the insert script then evicts the oldest).
    fn victim(&self, now: Duration) -> Result<String, Unavailable> {
        let idx = self.key("idx");
        let ids: Vec<String> = self.pool.run(|c| {
            redis::cmd("ZRANGE")
                .arg(&idx)
                .arg(0)
                .arg(super::EVICTION_SCAN - 1)
                .query(c)
        })?;
        let oldest = self.read_many(&ids)?;
        Ok(super::eviction_victim(oldest.iter(), &self.catalogue, now)
            .map(|i| oldest[i].id.to_string())
            .unwrap_or_default())
    }

    /// Shows `visit` every record, newest first, until it returns `false`; the one pass both
    /// [`list`](ValidationStore::list) and [`scan`](ValidationStore::scan) make.
    fn walk(
        &self,
        now: Duration,
        visit: &mut dyn FnMut(Record, Observation) -> bool,
    ) -> Result<(), Unavailable> {
        let idx = self.key("idx");
        let mut start: isize = 0;
        loop {
            let ids: Vec<String> = self.pool.run(|c| {
                redis::cmd("ZREVRANGE")
                    .arg(&idx)
                    .arg(start)
                    .arg(start + LIST_CHUNK - 1)
                    .query(c)
            })?;
            if ids.is_empty() {
                return Ok(());
            }
            start += LIST_CHUNK;
            for record in self.read_many(&ids)? {
                let observation = record.observe(&self.catalogue, now);
                if !visit(record, observation) {
                    return Ok(());
                }
            }
        }
    }
}

/// The request path's steps, awaited on the multiplexed connection ([`Pool::bounded`]): the
/// same scripts, arguments and decoding as the synchronous trait methods, one round trip
/// each (a full store's eviction takes two more).
impl RedisStore {
    /// Counts a poll and returns what it sees, as [`ValidationStore::poll`].
    pub async fn poll_async(
        &self,
        id: ValidationId,
        clock: &(dyn Fn() -> Duration + Sync),
    ) -> Result<Option<(View, u32)>, Unavailable> {
        let (key, clock_key, now_arg) = self.poll_args(id, clock);
        let mut con = self.pool.manager()?;
        let mut inv = scripts::POLL.prepare_invoke();
        inv.key(&key).key(&clock_key).arg(&now_arg);
        let got = self.pool.bounded(inv.invoke_async(&mut con)).await?;
        self.polled(id, got)
    }

    /// The state at `now` without counting a poll, as [`ValidationStore::get`].
    pub async fn get_async(
        &self,
        id: ValidationId,
        now: Duration,
    ) -> Result<Option<View>, Unavailable> {
        let key = self.record_key(id);
        let mut con = self.pool.manager()?;
        let got: Vec<Option<String>> = self
            .pool
            .bounded(
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg(&codec::FIELDS)
                    .query_async(&mut con),
            )
            .await?;
        let Some(stored) = stored(&got) else {
            return Ok(None);
        };
        let record = self.decode(id, &stored)?;
        Ok(Some(View {
            observation: record.observe(&self.catalogue, now),
            record,
            now,
        }))
    }

    /// Stores a new validation, as [`ValidationStore::insert`].
    pub async fn insert_async(
        &self,
        id: ValidationId,
        seq: u64,
        new: NewValidation,
        now: Duration,
    ) -> Result<View, InsertError> {
        let (record, fields) = self.new_record(id, seq, &new, now);
        let mut con = self.pool.manager().map_err(InsertError::Unavailable)?;
        let mut stored: i64 = self
            .pool
            .bounded(
                self.insert_call(&record, &fields, "")
                    .invoke_async(&mut con),
            )
            .await
            .map_err(InsertError::Unavailable)?;
        if stored == -1 {
            // Full (rare: only at capacity): the victim is chosen as the synchronous path
            // chooses it, off this worker thread.
            let this = self.clone();
            let victim = tokio::task::spawn_blocking(move || this.victim(now))
                .await
                .map_err(|e| InsertError::Unavailable(Unavailable(Arc::from(e.to_string()))))?
                .map_err(InsertError::Unavailable)?;
            stored = self
                .pool
                .bounded(
                    self.insert_call(&record, &fields, &victim)
                        .invoke_async(&mut con),
                )
                .await
                .map_err(InsertError::Unavailable)?;
        }
        self.inserted(stored, record, new, now)
    }

    /// A new validation's record and its encoded fields.
    fn new_record(
        &self,
        id: ValidationId,
        seq: u64,
        new: &NewValidation,
        now: Duration,
    ) -> (Record, Vec<(&'static str, String)>) {
        let record = new.clone().into_record(id, seq, now);
        let fields = Self::fields(&codec::encode(&record, &self.catalogue));
        (record, fields)
    }

    /// The insert script's call for `record`, evicting `victim` if full (`""`: report full).
    fn insert_call<'a>(
        &self,
        record: &Record,
        fields: &'a [(&'static str, String)],
        victim: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut inv = scripts::INSERT.prepare_invoke();
        inv.key(self.record_key(record.id))
            .key(self.key("idx"))
            .key(self.key("evicted"))
            .arg(record.id.to_string())
            .arg(record.seq)
            .arg(self.capacity)
            .arg(self.key("v:"))
            .arg(victim);
        for (k, v) in fields {
            inv.arg(*k).arg(v);
        }
        inv.arg("pt").arg(0).arg("pc").arg(0).arg("ver").arg(0);
        inv
    }

    /// What the insert script's answer means: stored (1), or the id taken (0).
    fn inserted(
        &self,
        stored: i64,
        record: Record,
        new: NewValidation,
        now: Duration,
    ) -> Result<View, InsertError> {
        if stored == 0 {
            return Err(InsertError::Taken(new));
        }
        Ok(View {
            observation: record.observe(&self.catalogue, now),
            record,
            now,
        })
    }

    /// The poll script's keys and its clock argument (empty: read the shared manual clock).
    fn poll_args(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
    ) -> (String, String, String) {
        let now_arg = if self.manual_clock {
            String::new()
        } else {
            codec::ns(clock()).to_string()
        };
        (self.record_key(id), self.key("clock"), now_arg)
    }

    /// What the poll script answered, decoded: the record as it was before the poll, with
    /// the script's count applied to the copy handed back.
    fn polled(
        &self,
        id: ValidationId,
        got: Option<Vec<Option<String>>>,
    ) -> Result<Option<(View, u32)>, Unavailable> {
        let Some(got) = got else { return Ok(None) };
        let Some(before) = stored(&got) else {
            return Ok(None);
        };
        let now = Duration::from_nanos(
            got.get(5)
                .and_then(|v| v.as_deref())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        );
        let mut record = self.decode(id, &before)?;
        let observation = record.observe(&self.catalogue, now);
        let nth = record.count_poll(&self.catalogue, now);
        Ok(Some((
            View {
                record,
                observation,
                now,
            },
            nth,
        )))
    }
}

/// A record's fields from `HMGET` of [`codec::FIELDS`]; `None` when it does not exist.
fn stored(got: &[Option<String>]) -> Option<Stored> {
    let num = |i: usize| {
        got.get(i)
            .and_then(|v| v.as_deref())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let n32 = |i: usize| u32::try_from(num(i)).unwrap_or(u32::MAX);
    Some(Stored {
        data: got.first()?.clone()?,
        polls_total: n32(1),
        polls_counted: n32(2),
        held_polls: n32(3),
        version: num(4),
    })
}

impl ValidationStore for RedisStore {
    fn capacity(&self) -> usize {
        self.capacity
    }

    fn insert(
        &self,
        id: ValidationId,
        seq: u64,
        new: NewValidation,
        now: Duration,
    ) -> Result<View, InsertError> {
        let (record, fields) = self.new_record(id, seq, &new, now);
        let try_insert = |victim: &str| {
            self.pool
                .run(|c| self.insert_call(&record, &fields, victim).invoke::<i64>(c))
        };
        let mut stored = try_insert("").map_err(InsertError::Unavailable)?;
        if stored == -1 {
            // Full: choose the victim among the oldest by the stores' one rule, then insert
            // evicting it (two more round trips, only while the store is at capacity).
            let victim = self.victim(now).map_err(InsertError::Unavailable)?;
            stored = try_insert(&victim).map_err(InsertError::Unavailable)?;
        }
        self.inserted(stored, record, new, now)
    }

    fn restore(&self, record: Record) {
        // `--state-file` is refused with a Redis store (Redis keeps the state itself).
        tracing::warn!(
            "not restoring validation {} into Redis: the Redis store keeps its own state",
            record.id
        );
    }

    fn poll(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
    ) -> Result<Option<(View, u32)>, Unavailable> {
        let (key, clock_key, now_arg) = self.poll_args(id, clock);
        let got = self.pool.run(|c| {
            scripts::POLL
                .key(&key)
                .key(&clock_key)
                .arg(&now_arg)
                .invoke(c)
        })?;
        self.polled(id, got)
    }

    fn get(&self, id: ValidationId, now: Duration) -> Result<Option<View>, Unavailable> {
        Ok(self.read(id)?.map(|r| View {
            observation: r.record.observe(&self.catalogue, now),
            record: r.record,
            now,
        }))
    }

    fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Reads, changes and writes back `id` until the write finds the record as it was read.
    fn modify(
        &self,
        id: ValidationId,
        now: &dyn Fn() -> Duration,
        change: &mut dyn FnMut(&mut Record, Duration) -> Result<(), StoreError>,
    ) -> Result<(Record, Duration), StoreError> {
        let key = self.record_key(id);
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(mut read) = self.read(id)? else {
                return Err(StoreError::NotFound);
            };
            let at = now();
            change(&mut read.record, at)?;
            let fields = Self::fields(&codec::encode(&read.record, &self.catalogue));
            let written: i64 = self.pool.run(|c| {
                let mut inv = scripts::WRITE_IF_UNCHANGED.prepare_invoke();
                inv.key(&key).arg(read.version).arg(read.polls_total);
                for (k, v) in &fields {
                    inv.arg(*k).arg(v);
                }
                inv.invoke(c)
            })?;
            match written {
                1 => return Ok((read.record, at)),
                -1 => return Err(StoreError::NotFound),
                _ => continue,
            }
        }
        Err(StoreError::Unavailable(Unavailable(Arc::from(format!(
            "validation {id} changed under {MAX_WRITE_ATTEMPTS} attempts to update it in Redis; try again"
        )))))
    }

    fn list(
        &self,
        now: Duration,
        limit: usize,
        filter: &dyn Fn(&Record, &Observation) -> bool,
    ) -> Result<Vec<View>, Unavailable> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.walk(now, &mut |record, observation| {
            if filter(&record, &observation) {
                out.push(View {
                    record,
                    observation,
                    now,
                });
            }
            out.len() < limit
        })?;
        Ok(out)
    }

    fn scan(
        &self,
        now: Duration,
        visit: &mut dyn FnMut(&Record, &Observation),
    ) -> Result<(), Unavailable> {
        self.walk(now, &mut |record, observation| {
            visit(&record, &observation);
            true
        })
    }

    fn len(&self) -> Result<usize, Unavailable> {
        let idx = self.key("idx");
        self.pool.run(|c| redis::cmd("ZCARD").arg(&idx).query(c))
    }

    fn evicted(&self) -> u64 {
        let key = self.key("evicted");
        self.pool
            .run(|c| redis::cmd("GET").arg(&key).query::<Option<u64>>(c))
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    /// One script: atomic across replicas (Redis runs nothing else meanwhile), at the cost of
    /// holding Redis for the length of the deletion (about a second per million records).
    fn clear(&self) -> Result<(), Unavailable> {
        let keys = [
            self.key("idx"),
            self.key("evicted"),
            self.key("armed"),
            self.key("creates"),
        ];
        let prefix = self.key("v:");
        self.pool.run(|c| {
            let mut inv = scripts::CLEAR.prepare_invoke();
            for k in &keys {
                inv.key(k);
            }
            inv.arg(&prefix).invoke::<()>(c)
        })
    }

    fn ready(&self) -> Result<(), Unavailable> {
        self.pool.run(|c| redis::cmd("PING").query::<()>(c))
    }
}
