//! Shared server state: one instance per server, behind an `Arc`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::{Catalogue, Mix, rng};

use crate::clock::{Clock, ManualClock, RealClock, SharedClock};
use crate::conditions::Conditions;
use crate::config::{ClockMode, ConfigError, ServerConfig};
use crate::ids::ValidationId;
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::store::{MemoryStore, ValidationStore, View};
use crate::traffic::Traffic;

/// Most distinct `account_id`s whose creates are counted for create faults; the table is
/// cleared when full, so it cannot grow without limit.
const CREATE_COUNT_LIMIT: usize = 10_000;

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
        let clock: SharedClock = match config.clock {
            ClockMode::Real => Arc::new(RealClock::resuming_at(resume_at)),
            ClockMode::Manual => Arc::new(ManualClock::resuming(
                saved.map_or_else(std::time::SystemTime::now, |r| r.wall_start),
                resume_at,
            )),
        };
        // A resumed run keeps its seed so ids stay unique and reproducible.
        let seed = saved.map(|r| r.seed).or(config.seed).unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            rng::mix64(t.as_nanos() as u64 ^ u64::from(std::process::id()))
        });
        Ok(AppState {
            store: Box::new(MemoryStore::new(
                config.max_validations,
                config.catalogue.clone(),
            )),
            journal: Journal::new(config.journal_capacity),
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
        self.store.get(id, self.clock.now())
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// The `seq` the next validation will get.
    pub fn peek_seq(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }

    /// Continues numbering after a restore.
    pub fn set_seq(&self, next: u64) {
        self.seq.store(next, Ordering::Relaxed);
    }

    /// Arms `count` upcoming creates with `scenario`.
    pub fn arm(&self, scenario: ScenarioId, count: usize) -> usize {
        let mut q = self.armed.lock();
        q.extend(std::iter::repeat_n(scenario, count.min(10_000)));
        q.len()
    }

    pub fn take_armed(&self) -> Option<ScenarioId> {
        let mut q = self.armed.lock();
        q.pop_front()
    }

    /// Counts a create for `account_id` and returns its 1-based ordinal.
    pub fn count_create(&self, account_id: &Arc<str>) -> u32 {
        let mut m = self.create_counts.lock();
        if m.len() >= CREATE_COUNT_LIMIT && !m.contains_key(account_id) {
            m.clear();
        }
        let n = m.entry(account_id.clone()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    /// Forgets all validations, journal entries, armed scenarios and per-account create
    /// counts. The creation counter keeps running, as the clock does: ids derive from it, and
    /// restarting it handed out the ids of validations created before the reset again, which
    /// an integrator's database may still hold (Truora never reissues an id). A fresh server
    /// with the same `--seed` still repeats its ids, for reproducible runs.
    pub fn reset(&self) {
        self.store.clear();
        self.journal.clear();
        self.traffic.clear();
        self.armed.lock().clear();
        self.create_counts.lock().clear();
    }
}
