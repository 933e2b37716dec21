//! Shared server state: one instance per server, behind an `Arc`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::{Catalogue, Mix, rng};

use crate::clock::{Clock, ManualClock, RealClock, SharedClock};
use crate::conditions::Conditions;
use crate::config::{ClockMode, ConfigError, ServerConfig, StoreConfig};
use crate::ids::ValidationId;
use crate::journal::Journal;
use crate::metrics::{Gauges, Metrics, status_label};
use crate::store::redis::RedisStore;
use crate::store::redis::cluster::{CREATE_COUNT_LIMIT, RedisClock, SeqBlocks};
use crate::store::redis::journal::RedisJournal;
use crate::store::{MemoryStore, Unavailable, ValidationStore, View};
use crate::traffic::Traffic;

/// How long a starting server waits for its Redis store before giving up.
const STORE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Fields are the crate's own: outside it, tests and the conformance suite read the state
/// through the methods below, so the request path can change how it keeps things without
/// breaking them.
#[derive(Debug)]
pub struct AppState {
    pub(crate) config: ServerConfig,
    pub(crate) clock: SharedClock,
    pub(crate) store: Box<dyn ValidationStore>,
    pub(crate) journal: Journal,
    pub(crate) catalogue: Arc<Catalogue>,
    pub(crate) seed: u64,
    pub(crate) default_scenario: ScenarioId,
    pub(crate) mix: Option<Mix>,
    /// Creation counter; the next validation's `seq`.
    seq: AtomicU64,
    /// The Redis store, when replicas share one: seed, clock, creation numbers, armed
    /// scenarios and create counts then live there too (see `store::redis::cluster`).
    redis: Option<RedisStore>,
    /// Creation numbers reserved from Redis.
    seq_blocks: SeqBlocks,
    /// Scenarios armed through the control API for the next creates.
    armed: Mutex<VecDeque<ScenarioId>>,
    /// Creates per `account_id`, for `nth` on create faults.
    create_counts: Mutex<HashMap<Arc<str>, u32>>,
    /// The rate limit and brown-outs every API request passes through.
    pub(crate) conditions: Conditions,
    /// API requests per second, for the dashboard's live chart.
    pub(crate) traffic: Traffic,
    /// What `GET /_mock/metrics` reports; the recorder adds to it.
    pub(crate) metrics: Metrics,
}

/// Where a saved run left off (`--state-file`), as `persist::resume` reads it from the file:
/// what a new state needs to continue that run's clock and ids.
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub seed: u64,
    /// The clock reading to start at.
    pub clock_at: std::time::Duration,
    /// The wall time a manual clock's start stands for, so `creation_date`s do not move.
    pub wall_start: std::time::SystemTime,
}

impl AppState {
    pub fn new(config: ServerConfig) -> Result<Self, ConfigError> {
        Self::resuming(config, None)
    }

    /// A state whose clock and seed continue a saved run; the caller then loads the saved
    /// records with `persist::restore`.
    pub fn resuming(config: ServerConfig, saved: Option<Resume>) -> Result<Self, ConfigError> {
        let (default_scenario, mix) = config.resolve()?;
        let resume_at = saved.map(|r| r.clock_at).unwrap_or_default();
        // A resumed run keeps its seed so ids stay unique and reproducible.
        let mut seed = saved.map(|r| r.seed).or(config.seed).unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            rng::mix64(t.as_nanos() as u64 ^ u64::from(std::process::id()))
        });
        let redis = match &config.store {
            StoreConfig::Memory => None,
            StoreConfig::Redis(url) => Some(
                RedisStore::new(
                    url,
                    config.max_validations,
                    config.catalogue.clone(),
                    config.clock == ClockMode::Manual,
                )
                .map_err(|e| ConfigError::StoreUnavailable(e.to_string()))?,
            ),
        };
        let clock: SharedClock = match (&redis, config.clock) {
            (Some(r), mode) => {
                let (shared_seed, epoch) = wait_for(r, seed)?;
                if config.seed.is_some_and(|s| s != shared_seed) {
                    tracing::warn!(
                        "--seed {seed} ignored: the replicas sharing this Redis use seed {shared_seed}"
                    );
                }
                seed = shared_seed;
                match mode {
                    ClockMode::Real => Arc::new(RealClock::since(epoch)),
                    ClockMode::Manual => Arc::new(RedisClock::new(r.clone(), epoch)),
                }
            }
            (None, ClockMode::Real) => Arc::new(RealClock::resuming_at(resume_at)),
            (None, ClockMode::Manual) => Arc::new(ManualClock::resuming(
                saved.map_or_else(std::time::SystemTime::now, |r| r.wall_start),
                resume_at,
            )),
        };
        let store: Box<dyn ValidationStore> = match &redis {
            Some(r) => Box::new(r.clone()),
            None => Box::new(MemoryStore::new(
                config.max_validations,
                config.catalogue.clone(),
            )),
        };
        let journal = match &redis {
            Some(r) => Journal::shared(
                config.journal_capacity,
                Box::new(RedisJournal::new(r.clone(), config.journal_capacity)),
            ),
            None => Journal::new(config.journal_capacity),
        };
        Ok(AppState {
            store,
            redis,
            seq_blocks: SeqBlocks::default(),
            journal,
            catalogue: config.catalogue.clone(),
            clock,
            seed,
            default_scenario,
            mix,
            seq: AtomicU64::new(0),
            armed: Mutex::new(VecDeque::new()),
            create_counts: Mutex::new(HashMap::new()),
            conditions: Conditions::new(config.rate_limit, config.brownouts.clone()),
            traffic: Traffic::default(),
            metrics: Metrics::default(),
            config,
        })
    }

    /// The same state keeping its validations in `store` instead of the in-memory default.
    pub fn with_store(mut self, store: Box<dyn ValidationStore>) -> Self {
        self.store = store;
        self
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The clock every instant in the state is read from.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The clock's reading now.
    pub fn now(&self) -> std::time::Duration {
        self.clock.now()
    }

    /// The fleet-wide conditions (rate limit, brown-outs); the load tool adds its brown-out
    /// stages here.
    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The counters behind `GET /_mock/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// `GET /_mock/metrics`: the counters, with the validations stored now by scenario and
    /// status (one pass over every record: the scrape's cost, not the request path's), the
    /// evictions and the journal's losses.
    pub fn metrics_text(&self) -> String {
        let mut counts: BTreeMap<(ScenarioId, &'static str), u64> = BTreeMap::new();
        let scanned = self.store.scan(self.clock.now(), &mut |r, o| {
            *counts.entry((r.scenario, status_label(o))).or_default() += 1;
        });
        // A Redis store that does not answer leaves the gauge out of this scrape rather than
        // failing the request counters with it (they are this process's own).
        if let Err(e) = scanned {
            tracing::warn!("metrics: validations by scenario left out: {e}");
            counts.clear();
        }
        self.metrics.render(Gauges {
            validations: counts
                .into_iter()
                .map(|((s, status), n)| ((self.catalogue.get(s).name.clone(), status), n))
                .collect(),
            evicted: self.store.evicted(),
            journal_dropped: self.journal.dropped(),
        })
    }

    /// Where validations are kept.
    pub fn store(&self) -> &dyn ValidationStore {
        self.store.as_ref()
    }

    /// The seed ids, mixes and random delays derive from (`--seed` repeats a run).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The scenarios this server knows.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// A validation as it stands now, without counting a poll.
    pub fn validation(&self, id: ValidationId) -> Option<View> {
        // Only a networked store fails, and callers of this (tests, the load tool's fleet)
        // read an in-process one.
        self.store.get(id, self.clock.now()).ok().flatten()
    }

    pub(crate) fn next_seq(&self) -> Result<u64, Unavailable> {
        match &self.redis {
            Some(r) => self.seq_blocks.next(r),
            None => Ok(self.seq.fetch_add(1, Ordering::Relaxed)),
        }
    }

    /// The `seq` the next validation will get (from this replica, with a Redis store).
    pub fn peek_seq(&self) -> u64 {
        match &self.redis {
            Some(_) => self.seq_blocks.peek(),
            None => self.seq.load(Ordering::Relaxed),
        }
    }

    /// Continues numbering after a restore.
    pub fn set_seq(&self, next: u64) {
        self.seq.store(next, Ordering::Relaxed);
    }

    /// Arms `count` upcoming creates with `scenario`.
    pub fn arm(&self, scenario: ScenarioId, count: usize) -> Result<usize, Unavailable> {
        let count = count.min(10_000);
        if let Some(r) = &self.redis {
            return r.arm(&self.catalogue.get(scenario).name, count);
        }
        let mut q = self.armed.lock();
        q.extend(std::iter::repeat_n(scenario, count));
        Ok(q.len())
    }

    pub fn take_armed(&self) -> Result<Option<ScenarioId>, Unavailable> {
        if let Some(r) = &self.redis {
            // A name this replica does not know was armed through another one with other
            // scenario files; it is skipped rather than failing the create.
            return Ok(r.take_armed()?.and_then(|n| self.catalogue.id_of(&n)));
        }
        Ok(self.armed.lock().pop_front())
    }

    /// Counts a create for `account_id` and returns its 1-based ordinal.
    pub fn count_create(&self, account_id: &Arc<str>) -> Result<u32, Unavailable> {
        if let Some(r) = &self.redis {
            return r.count_create(account_id);
        }
        let mut m = self.create_counts.lock();
        if m.len() >= CREATE_COUNT_LIMIT && !m.contains_key(account_id) {
            m.clear();
        }
        let n = m.entry(account_id.clone()).or_insert(0);
        *n = n.saturating_add(1);
        Ok(*n)
    }

    /// Forgets all validations, journal entries, armed scenarios and per-account create
    /// counts. The creation counter keeps running, as the clock does: ids derive from it, and
    /// restarting it handed out the ids of validations created before the reset again, which
    /// an integrator's database may still hold (Truora never reissues an id). A fresh server
    /// with the same `--seed` still repeats its ids, for reproducible runs.
    pub fn reset(&self) -> Result<(), Unavailable> {
        self.store.clear()?;
        self.journal.clear();
        self.traffic.clear();
        self.armed.lock().clear();
        self.create_counts.lock().clear();
        Ok(())
    }

    /// Which store holds validations, for `/_mock/health`.
    pub fn store_kind(&self) -> &'static str {
        if self.redis.is_some() {
            "redis"
        } else {
            "memory"
        }
    }
}

/// Reads the cluster's seed and clock epoch from a starting server's Redis store, waiting up
/// to [`STORE_WAIT`] for Redis to come up (replicas and Redis are often started together).
fn wait_for(r: &RedisStore, seed: u64) -> Result<(u64, std::time::SystemTime), ConfigError> {
    let started = std::time::Instant::now();
    loop {
        match r.shared_seed(seed).and_then(|s| Ok((s, r.epoch()?))) {
            Ok(v) => return Ok(v),
            Err(e) if started.elapsed() >= STORE_WAIT => {
                return Err(ConfigError::StoreUnavailable(e.to_string()));
            }
            Err(e) => {
                tracing::warn!("waiting for the Redis store: {e}");
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
        }
    }
}
