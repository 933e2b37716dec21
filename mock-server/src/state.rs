//! Shared server state: one instance per server, behind an `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::{Catalogue, Mix, rng};

use crate::backend::{Backend, ClockResume, Opened};
use crate::clock::{Clock, SharedClock};
use crate::conditions::Conditions;
use crate::config::{ConfigError, ServerConfig};
use crate::ids::ValidationId;
use crate::journal::Journal;
use crate::metrics::{Gauges, Metrics, status_label};
use crate::store::{Unavailable, ValidationStore, View};
use crate::traffic::Traffic;

/// Fields are the crate's own: outside it, tests and the conformance suite read the state
/// through the methods below, so the request path can change how it keeps things without
/// breaking them.
#[derive(Debug)]
pub struct AppState {
    pub(crate) config: ServerConfig,
    pub(crate) clock: SharedClock,
    /// Validations, creation numbers, armed scenarios and create counts: in this process or
    /// in a Redis shared by replicas (the clock and journal above came from it too).
    pub(crate) backend: Backend,
    pub(crate) journal: Journal,
    pub(crate) catalogue: Arc<Catalogue>,
    pub(crate) seed: u64,
    pub(crate) default_scenario: ScenarioId,
    pub(crate) mix: Option<Mix>,
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
    /// A state on the backend `config.store` names (with Redis: once Redis answers).
    pub async fn new(config: ServerConfig) -> Result<Self, ConfigError> {
        Self::resuming(config, None).await
    }

    /// A state whose clock and seed continue a saved run; the caller then loads the saved
    /// records with `persist::restore`.
    pub async fn resuming(
        config: ServerConfig,
        saved: Option<Resume>,
    ) -> Result<Self, ConfigError> {
        let seed = Self::first_seed(&config, saved);
        let opened = Backend::open(&config, seed, saved.map(Resume::clock)).await?;
        Self::on(config, opened)
    }

    /// A state on the memory backend over `store` (a test seam: a wrapped or instrumented
    /// store), whatever `config.store` says.
    pub fn with_store(
        config: ServerConfig,
        store: Box<dyn ValidationStore>,
    ) -> Result<Self, ConfigError> {
        let seed = Self::first_seed(&config, None);
        let opened = Backend::memory_over(&config, store, seed, None);
        Self::on(config, opened)
    }

    /// The seed a state starts from: a resumed run's (so ids stay unique and reproducible),
    /// `--seed`, or one from the time and the process id.
    fn first_seed(config: &ServerConfig, saved: Option<Resume>) -> u64 {
        saved.map(|r| r.seed).or(config.seed).unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            rng::mix64(t.as_nanos() as u64 ^ u64::from(std::process::id()))
        })
    }

    fn on(config: ServerConfig, opened: Opened) -> Result<Self, ConfigError> {
        let (default_scenario, mix) = config.resolve()?;
        let Opened {
            backend,
            clock,
            journal,
            seed,
        } = opened;
        Ok(AppState {
            backend,
            journal,
            catalogue: config.catalogue.clone(),
            clock,
            seed,
            default_scenario,
            mix,
            conditions: Conditions::new(config.rate_limit, config.brownouts.clone()),
            traffic: Traffic::default(),
            metrics: Metrics::default(),
            config,
        })
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
        let scanned = self.store().scan(self.clock.now(), &mut |r, o| {
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
            evicted: self.store().evicted(),
            journal_dropped: self.journal.dropped(),
        })
    }

    /// Where validations are kept.
    #[inline]
    pub fn store(&self) -> &dyn ValidationStore {
        self.backend.store()
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
        self.store().get(id, self.clock.now()).ok().flatten()
    }

    pub(crate) async fn next_seq(&self) -> Result<u64, Unavailable> {
        self.backend.next_seq().await
    }

    /// The `seq` the next validation will get (from this replica, with a Redis store).
    pub fn peek_seq(&self) -> u64 {
        self.backend.peek_seq()
    }

    /// Continues numbering after a restore.
    pub fn set_seq(&self, next: u64) {
        self.backend.set_seq(next);
    }

    /// Arms `count` upcoming creates with `scenario`.
    pub fn arm(&self, scenario: ScenarioId, count: usize) -> Result<usize, Unavailable> {
        self.backend.arm(&self.catalogue, scenario, count)
    }

    pub async fn take_armed(&self) -> Result<Option<ScenarioId>, Unavailable> {
        self.backend.take_armed(&self.catalogue).await
    }

    /// Counts a create for `account_id` and returns its 1-based ordinal.
    pub async fn count_create(&self, account_id: &Arc<str>) -> Result<u32, Unavailable> {
        self.backend.count_create(account_id).await
    }

    /// Forgets all validations, journal entries, armed scenarios and per-account create
    /// counts. The creation counter keeps running, as the clock does: ids derive from it, and
    /// restarting it handed out the ids of validations created before the reset again, which
    /// an integrator's database may still hold (Truora never reissues an id). A fresh server
    /// with the same `--seed` still repeats its ids, for reproducible runs.
    pub fn reset(&self) -> Result<(), Unavailable> {
        self.backend.clear()?;
        self.journal.clear();
        self.traffic.clear();
        Ok(())
    }

    /// Which store holds validations, for `/_mock/health`.
    pub fn store_kind(&self) -> &'static str {
        self.backend.kind()
    }
}

impl Resume {
    fn clock(self) -> ClockResume {
        ClockResume {
            at: self.clock_at,
            wall_start: self.wall_start,
        }
    }
}
