//! Where everything replicas must share lives: the validations, creation numbers, armed
//! scenarios, per-account create counts, the clock's epoch and the journal.
//!
//! One [`Backend`] per server, chosen once at start from `--store`, so the rest of the server
//! never asks which store it runs on. It is an enum rather than a trait object so that each
//! step of the memory backend is a direct call the compiler can inline: a memory poll stays
//! synchronous, with no boxed future and no Redis branch on its way.
//!
//! - [`Backend::Memory`]: this process's memory; counters are atomics and two small locks.
//! - [`Backend::Redis`]: a Redis shared by replicas (`store::redis`); the seed and the clock's
//!   epoch are agreed on at start, creation numbers come in blocks, armed scenarios and create
//!   counts are Redis keys, and the journal is a Redis stream.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use truidentidad_scenarios::Catalogue;
use truidentidad_scenarios::catalogue::ScenarioId;

use crate::clock::{ManualClock, RealClock, SharedClock};
use crate::config::{ClockMode, ConfigError, ServerConfig, StoreConfig};
use crate::ids::ValidationId;
use crate::journal::Journal;
use crate::store::redis::RedisStore;
use crate::store::redis::cluster::{CREATE_COUNT_LIMIT, RedisClock, SeqBlocks};
use crate::store::redis::journal::RedisJournal;
use crate::store::{InsertError, MemoryStore, NewValidation, Unavailable, ValidationStore, View};

/// How long a starting server waits for its Redis store before giving up.
const STORE_WAIT: Duration = Duration::from_secs(30);
/// Most scenarios armed by one control-API call.
const MAX_ARM: usize = 10_000;

/// The shared half of the server's state (see the module doc).
#[derive(Debug)]
pub enum Backend {
    Memory(MemoryBackend),
    Redis(RedisBackend),
}

/// Everything kept in this process.
#[derive(Debug)]
pub struct MemoryBackend {
    store: Box<dyn ValidationStore>,
    /// The next validation's `seq`.
    seq: AtomicU64,
    /// Scenarios armed through the control API for the next creates.
    armed: Mutex<VecDeque<ScenarioId>>,
    /// Creates per `account_id`, for `nth` on create faults.
    create_counts: Mutex<HashMap<Arc<str>, u32>>,
}

/// Everything kept in one Redis, shared by every replica started with the same `--store`.
#[derive(Debug)]
pub struct RedisBackend {
    store: RedisStore,
    /// Creation numbers reserved from Redis, handed out by this replica.
    seq_blocks: SeqBlocks,
}

/// A started backend and what the server reads from it on every request: the clock (whose
/// epoch, with Redis, is the cluster's) and the journal (with Redis, a shared stream).
#[derive(Debug)]
pub struct Opened {
    pub backend: Backend,
    pub clock: SharedClock,
    pub journal: Journal,
    /// The seed ids and draws derive from: with Redis, the first replica's.
    pub seed: u64,
}

/// Where a saved run's clock left off (`--state-file`, memory only).
#[derive(Debug, Clone, Copy)]
pub struct ClockResume {
    pub at: Duration,
    pub wall_start: SystemTime,
}

impl MemoryBackend {
    /// A memory backend over `store`, numbering from 0.
    pub fn new(store: Box<dyn ValidationStore>) -> Self {
        MemoryBackend {
            store,
            seq: AtomicU64::new(0),
            armed: Mutex::new(VecDeque::new()),
            create_counts: Mutex::new(HashMap::new()),
        }
    }
}

impl Backend {
    /// Starts the backend `config.store` names. With Redis, waits up to [`STORE_WAIT`] for it
    /// to answer (replicas and Redis are often started together), on the runtime's timer.
    pub async fn open(
        config: &ServerConfig,
        proposed_seed: u64,
        resume: Option<ClockResume>,
    ) -> Result<Opened, ConfigError> {
        let url = match &config.store {
            StoreConfig::Memory => return Ok(Self::memory(config, proposed_seed, resume)),
            StoreConfig::Redis(url) => url,
        };
        let store = RedisStore::new(
            url,
            config.max_validations,
            config.catalogue.clone(),
            config.clock == ClockMode::Manual,
        )
        .map_err(|e| ConfigError::StoreUnavailable(e.to_string()))?;
        let (seed, epoch) = wait_for(&store, proposed_seed).await?;
        if config.seed.is_some_and(|s| s != seed) {
            tracing::warn!(
                "--seed {proposed_seed} ignored: the replicas sharing this Redis use seed {seed}"
            );
        }
        let clock: SharedClock = match config.clock {
            ClockMode::Real => Arc::new(RealClock::since(epoch)),
            ClockMode::Manual => Arc::new(RedisClock::new(store.clone(), epoch)),
        };
        let journal = Journal::shared(
            config.journal_capacity,
            Box::new(RedisJournal::new(store.clone(), config.journal_capacity)),
        );
        Ok(Opened {
            backend: Backend::Redis(RedisBackend {
                store,
                seq_blocks: SeqBlocks::default(),
            }),
            clock,
            journal,
            seed,
        })
    }

    /// The memory backend `config` describes (its `store` setting aside), with its clock
    /// continuing `resume`.
    pub fn memory(config: &ServerConfig, seed: u64, resume: Option<ClockResume>) -> Opened {
        let store = MemoryStore::new(config.max_validations, config.catalogue.clone());
        Self::memory_over(config, Box::new(store), seed, resume)
    }

    /// A memory backend over `store` (tests wrap or replace the in-memory store this way).
    pub fn memory_over(
        config: &ServerConfig,
        store: Box<dyn ValidationStore>,
        seed: u64,
        resume: Option<ClockResume>,
    ) -> Opened {
        let at = resume.map(|r| r.at).unwrap_or_default();
        let clock: SharedClock = match config.clock {
            ClockMode::Real => Arc::new(RealClock::resuming_at(at)),
            ClockMode::Manual => Arc::new(ManualClock::resuming(
                resume.map_or_else(SystemTime::now, |r| r.wall_start),
                at,
            )),
        };
        Opened {
            backend: Backend::Memory(MemoryBackend::new(store)),
            clock,
            journal: Journal::new(config.journal_capacity),
            seed,
        }
    }

    /// Where validations are kept.
    #[inline]
    pub fn store(&self) -> &dyn ValidationStore {
        match self {
            Backend::Memory(m) => m.store.as_ref(),
            Backend::Redis(r) => &r.store,
        }
    }

    /// The next creation number.
    #[inline]
    pub async fn next_seq(&self) -> Result<u64, Unavailable> {
        match self {
            Backend::Memory(m) => Ok(m.seq.fetch_add(1, Ordering::Relaxed)),
            Backend::Redis(r) => r.seq_blocks.next(&r.store).await,
        }
    }

    /// Stores a new validation (see [`ValidationStore::insert`]).
    #[inline]
    pub async fn insert(
        &self,
        id: ValidationId,
        seq: u64,
        new: NewValidation,
        now: Duration,
    ) -> Result<View, InsertError> {
        match self {
            Backend::Memory(m) => m.store.insert(id, seq, new, now),
            Backend::Redis(r) => r.store.insert_async(id, seq, new, now).await,
        }
    }

    /// Counts a poll without waiting, when the backend answers at once (memory); `None` when
    /// it must be awaited through [`poll`](Backend::poll) (Redis). The poll path stays
    /// synchronous, with no future to box, on the memory backend.
    #[inline]
    pub fn poll_now(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
    ) -> Option<Result<Option<(View, u32)>, Unavailable>> {
        match self {
            Backend::Memory(m) => Some(m.store.poll(id, clock)),
            Backend::Redis(_) => None,
        }
    }

    /// Counts a poll and returns what it sees (see [`ValidationStore::poll`]).
    pub async fn poll(
        &self,
        id: ValidationId,
        clock: &(dyn Fn() -> Duration + Sync),
    ) -> Result<Option<(View, u32)>, Unavailable> {
        match self {
            Backend::Memory(m) => m.store.poll(id, clock),
            Backend::Redis(r) => r.store.poll_async(id, clock).await,
        }
    }

    /// [`get`](Backend::get) without waiting, when the backend answers at once (memory).
    #[inline]
    pub fn get_now(
        &self,
        id: ValidationId,
        now: Duration,
    ) -> Option<Result<Option<View>, Unavailable>> {
        match self {
            Backend::Memory(m) => Some(m.store.get(id, now)),
            Backend::Redis(_) => None,
        }
    }

    /// A validation at `now` without counting a poll, on the request path.
    pub async fn get(&self, id: ValidationId, now: Duration) -> Result<Option<View>, Unavailable> {
        match self {
            Backend::Memory(m) => m.store.get(id, now),
            Backend::Redis(r) => r.store.get_async(id, now).await,
        }
    }

    /// The creation number the next validation will get (from this replica, with Redis).
    pub fn peek_seq(&self) -> u64 {
        match self {
            Backend::Memory(m) => m.seq.load(Ordering::Relaxed),
            Backend::Redis(r) => r.seq_blocks.peek(),
        }
    }

    /// Continues numbering after a restore (`--state-file`, which only memory accepts).
    pub fn set_seq(&self, next: u64) {
        if let Backend::Memory(m) = self {
            m.seq.store(next, Ordering::Relaxed);
        }
    }

    /// Arms `count` (at most [`MAX_ARM`]) upcoming creates with `scenario`; returns how many
    /// creates are armed now.
    pub fn arm(
        &self,
        catalogue: &Catalogue,
        scenario: ScenarioId,
        count: usize,
    ) -> Result<usize, Unavailable> {
        let count = count.min(MAX_ARM);
        match self {
            Backend::Memory(m) => {
                let mut q = m.armed.lock();
                q.extend(std::iter::repeat_n(scenario, count));
                Ok(q.len())
            }
            Backend::Redis(r) => r.store.arm(&catalogue.get(scenario).name, count),
        }
    }

    /// Takes the next armed scenario, if any.
    pub async fn take_armed(
        &self,
        catalogue: &Catalogue,
    ) -> Result<Option<ScenarioId>, Unavailable> {
        match self {
            Backend::Memory(m) => Ok(m.armed.lock().pop_front()),
            // A name this replica does not know was armed through another one with other
            // scenario files; it is skipped rather than failing the create.
            Backend::Redis(r) => Ok(r
                .store
                .take_armed()
                .await?
                .and_then(|n| catalogue.id_of(&n))),
        }
    }

    /// Counts a create for `account_id` and returns its 1-based ordinal.
    pub async fn count_create(&self, account_id: &Arc<str>) -> Result<u32, Unavailable> {
        match self {
            Backend::Memory(m) => {
                let mut counts = m.create_counts.lock();
                if counts.len() >= CREATE_COUNT_LIMIT && !counts.contains_key(account_id) {
                    counts.clear();
                }
                let n = counts.entry(account_id.clone()).or_insert(0);
                *n = n.saturating_add(1);
                Ok(*n)
            }
            Backend::Redis(r) => r.store.count_create(account_id).await,
        }
    }

    /// Forgets every validation, armed scenario and create count (the creation numbers keep
    /// running: ids derive from them). The journal is the caller's to clear.
    pub fn clear(&self) -> Result<(), Unavailable> {
        match self {
            Backend::Memory(m) => {
                m.store.clear()?;
                m.armed.lock().clear();
                m.create_counts.lock().clear();
                Ok(())
            }
            // The store's clear drops the armed scenarios and create counts with the records.
            Backend::Redis(r) => r.store.clear(),
        }
    }

    /// `"memory"` or `"redis"`, for `/_mock/health`.
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }
}

/// Reads the cluster's seed and clock epoch from a starting server's Redis, waiting up to
/// [`STORE_WAIT`] for Redis to come up; the pause between attempts is the runtime's timer,
/// not a blocked worker thread.
async fn wait_for(r: &RedisStore, seed: u64) -> Result<(u64, SystemTime), ConfigError> {
    let started = std::time::Instant::now();
    loop {
        match r.shared_seed(seed).and_then(|s| Ok((s, r.epoch()?))) {
            Ok(v) => return Ok(v),
            Err(e) if started.elapsed() >= STORE_WAIT => {
                return Err(ConfigError::StoreUnavailable(e.to_string()));
            }
            Err(e) => {
                tracing::warn!("waiting for the Redis store: {e}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}
