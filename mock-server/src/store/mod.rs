//! Where validations live, behind one trait.
//!
//! [`ValidationStore`] is the seam between the request path and the storage: the service, the
//! control API and the browser side reach validations only through it, so a second backend
//! (a shared one, for replicas) plugs in without touching the engine or the handlers. Each
//! method is one atomic step, a read, an observe and an update under one lock (or, for a
//! networked backend, one round trip), so concurrent requests see a monotone sequence.
//!
//! - [`record`]: the stored facts of one validation.
//! - [`journey`]: the browser journey's state on a record, and its hold on scenario time.
//! - [`person`]: how a scenario's ending yields to what the person did in the journey.
//! - [`memory`]: the in-memory, sharded, bounded implementation (the default).
//! - [`redis`]: records in Redis, shared by replicas behind a load balancer (`--store`).

pub mod journey;
pub mod memory;
pub mod person;
pub mod record;
pub mod redis;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::{Catalogue, Observation, Outcome};

pub use memory::MemoryStore;
pub use record::{Changes, ChosenBy, CreateParams, Record};

use crate::ids::ValidationId;

/// How many of the oldest records eviction looks at for a finished one.
pub const EVICTION_SCAN: usize = 32;

/// Which record to evict to make room, as a position in `oldest_first` (creation order): the
/// oldest finished one among the first [`EVICTION_SCAN`], or the oldest if none of them has
/// finished (memory stays bounded even when everything is pending). One rule for both stores.
pub fn eviction_victim<'a>(
    oldest_first: impl Iterator<Item = &'a Record>,
    catalogue: &Catalogue,
    now: Duration,
) -> Option<usize> {
    let mut any = false;
    for (i, r) in oldest_first.take(EVICTION_SCAN).enumerate() {
        any = true;
        if r.observe(catalogue, now).status.is_terminal() {
            return Some(i);
        }
    }
    any.then_some(0)
}

/// A record and what it looked like at one instant.
#[derive(Debug, Clone)]
pub struct View {
    pub record: Record,
    pub observation: Observation,
    pub now: Duration,
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewValidation {
    pub account_id: Arc<str>,
    pub scenario: ScenarioId,
    pub chosen_by: ChosenBy,
    pub timeout: Duration,
    pub ip: IpAddr,
    pub params: Option<Arc<CreateParams>>,
    /// Await-person mode: the scenario's clock waits for the video, from creation on
    /// (see [`journey::Journey::awaiting`]).
    pub await_person: bool,
}

impl NewValidation {
    /// The record a store keeps for this validation, created `now`: the one place both stores
    /// build it.
    pub fn into_record(self, id: ValidationId, seq: u64, now: Duration) -> Record {
        Record {
            id,
            seq,
            account_id: self.account_id,
            scenario: self.scenario,
            chosen_by: self.chosen_by,
            created: now,
            timeout: self.timeout,
            polls_total: 0,
            polls_counted: 0,
            changes: None,
            ip: self.ip,
            params: self.params,
            journey: self
                .await_person
                .then(|| Box::new(journey::Journey::awaiting(now))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no such validation")]
    NotFound,
    #[error("the validation already finished")]
    AlreadyFinished,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A networked store did not answer in time (Redis down, slow or restarting). Requests get a
/// 503 with `Retry-After` instead of waiting; the in-memory store never returns it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub Arc<str>);

/// Why an insert stored nothing.
#[derive(Debug)]
pub enum InsertError {
    /// The id is taken: `new` comes back so the caller can retry under another id without
    /// having cloned it up front.
    Taken(NewValidation),
    Unavailable(Unavailable),
}

/// The operations the server needs from wherever validations live.
///
/// Object safe (the server holds a `Box<dyn ValidationStore>`), hence `&dyn` callbacks where
/// a generic would be more natural; [`update`](trait.ValidationStore.html#method.update) gives
/// callers the generic form back. Methods are synchronous: the in-memory store answers in
/// well under a microsecond, and the poll path answers without boxing a future. The request
/// path reaches the Redis store through `crate::backend::Backend`, which awaits its async
/// calls instead; the control API, dashboard and Web Adapter still use these methods, which
/// for Redis run one round trip inside `tokio::task::block_in_place`, bounded by a timeout,
/// and report a store it cannot reach as [`Unavailable`] rather than waiting.
pub trait ValidationStore: Send + Sync + std::fmt::Debug {
    /// The most validations kept; past it the oldest finished ones are evicted.
    fn capacity(&self) -> usize;

    /// Stores a new validation under `id` with creation order `seq`, created `now`. If the id
    /// is taken, stores nothing and hands `new` back ([`InsertError::Taken`]). `Ok` only once
    /// the record is stored (for a networked store: acknowledged), so nothing a client was
    /// told exists can be lost.
    fn insert(
        &self,
        id: ValidationId,
        seq: u64,
        new: NewValidation,
        now: Duration,
    ) -> Result<View, InsertError>;

    /// Puts back a record saved by a previous run (`--state-file`). Records come oldest first,
    /// so eviction order survives the restart; an id already present is left alone.
    fn restore(&self, record: Record);

    /// Counts a poll and returns what it sees, and the poll's 1-based ordinal. `clock` is read
    /// in the same atomic step as the update.
    fn poll(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
    ) -> Result<Option<(View, u32)>, Unavailable>;

    /// The state at `now` without counting a poll (control API, dashboard, Web Adapter).
    fn get(&self, id: ValidationId, now: Duration) -> Result<Option<View>, Unavailable>;

    /// The scenarios records are observed against.
    fn catalogue(&self) -> &Catalogue;

    /// The one read-change-write step every change goes through: runs `change` on the record
    /// with a clock reading taken in the same atomic step, so a change and the state it was
    /// checked against cannot be split by a concurrent poll, and returns the record as
    /// stored with that reading. `change` returns `Err` before changing anything to store
    /// nothing. A networked store may run it again on a fresh copy when another replica
    /// changed the record in between (optimistic concurrency).
    fn modify(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
        change: &mut dyn FnMut(&mut Record, Duration) -> Result<(), StoreError>,
    ) -> Result<(Record, Duration), StoreError>;

    /// Forces an outcome now. Fails if the validation already finished: terminal is final.
    fn complete(
        &self,
        id: ValidationId,
        outcome: Outcome,
        now: Duration,
    ) -> Result<View, StoreError> {
        change_pending(self, id, now, &mut |record, now| record.force(outcome, now))
    }

    /// Switches a pending validation to another scenario, whose timeline starts now.
    fn set_scenario(
        &self,
        id: ValidationId,
        scenario: ScenarioId,
        now: Duration,
    ) -> Result<View, StoreError> {
        change_pending(self, id, now, &mut |record, now| {
            record.switch_scenario(scenario, ChosenBy::Control, now);
        })
    }

    /// Runs `change` on the record through [`modify`](ValidationStore::modify) (the Web
    /// Adapter moving the journey on). `false` for an unknown id.
    fn update_record(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
        change: &mut dyn FnMut(&mut Record, Duration),
    ) -> Result<bool, Unavailable> {
        match self.modify(id, clock, &mut |record, now| {
            change(record, now);
            Ok(())
        }) {
            Ok(_) | Err(StoreError::AlreadyFinished) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(StoreError::Unavailable(u)) => Err(u),
        }
    }

    /// Every record matching `filter`, newest first, at most `limit` (none for a limit of 0:
    /// a pass over every record is [`scan`](ValidationStore::scan), not a list).
    fn list(
        &self,
        now: Duration,
        limit: usize,
        filter: &dyn Fn(&Record, &Observation) -> bool,
    ) -> Result<Vec<View>, Unavailable>;

    /// Shows every stored record and what it looks like at `now` to `visit`, in no particular
    /// order, cloning nothing (`/_mock/metrics` counts by scenario and status this way).
    fn scan(
        &self,
        now: Duration,
        visit: &mut dyn FnMut(&Record, &Observation),
    ) -> Result<(), Unavailable>;

    /// How many validations are stored.
    fn len(&self) -> Result<usize, Unavailable>;

    fn is_empty(&self) -> Result<bool, Unavailable> {
        Ok(self.len()? == 0)
    }

    /// Validations evicted to stay under capacity since start or the last reset.
    fn evicted(&self) -> u64;

    /// Forgets every validation.
    fn clear(&self) -> Result<(), Unavailable>;

    /// Whether the store answers now (`/_mock/health`): always for the in-memory store.
    fn ready(&self) -> Result<(), Unavailable> {
        Ok(())
    }
}

/// A change to a validation still pending at `now` (terminal is final), written once for
/// every store through its [`ValidationStore::modify`].
fn change_pending<S: ValidationStore + ?Sized>(
    store: &S,
    id: ValidationId,
    now: Duration,
    change: &mut dyn FnMut(&mut Record, Duration),
) -> Result<View, StoreError> {
    let catalogue = store.catalogue();
    let (record, now) = store.modify(id, &|| now, &mut |record, now| {
        if record.observe(catalogue, now).status.is_terminal() {
            return Err(StoreError::AlreadyFinished);
        }
        change(record, now);
        Ok(())
    })?;
    Ok(View {
        observation: record.observe(catalogue, now),
        record,
        now,
    })
}

impl dyn ValidationStore + '_ {
    /// [`ValidationStore::update_record`] with a result: `None` for an unknown id.
    ///
    /// `change` is `FnMut`: a networked store may run it again on a fresh copy when another
    /// replica changed the record in between (optimistic concurrency); the result of the run
    /// that was stored is returned.
    pub fn update<R>(
        &self,
        id: ValidationId,
        clock: impl Fn() -> Duration,
        mut change: impl FnMut(&mut Record, Duration) -> R,
    ) -> Result<Option<R>, Unavailable> {
        let mut out = None;
        self.update_record(id, &clock, &mut |record, now| {
            out = Some(change(record, now));
        })?;
        Ok(out)
    }
}
