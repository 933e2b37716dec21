//! The in-memory store, the default: sharded, bounded, and the only place a validation's
//! facts live in a single process.
//!
//! Each record holds just the facts [`truidentidad_scenarios::observe`] needs; the state a
//! request sees is computed under the shard lock from those facts and the clock reading taken
//! under the same lock, so concurrent polls of one validation see a monotone sequence.
//!
//! Capacity: at most `capacity` records. When a shard is full, the oldest *finished*
//! validation among its 32 oldest is evicted; if all of those are still pending, the oldest
//! one is evicted ([`super::eviction_victim`], the Redis store's rule too). Either way memory
//! stays bounded on long runs. ("Oldest" is creation order; a small capacity keeps one shard,
//! so it is the whole store's, see [`MemoryStore::new`].)
//!
//! Layout: each shard keeps its records in a ring in creation order, with a small index from
//! id to position. A create appends at the back and evicts from the front, so the records it
//! touches are next to the ones the previous creates touched, instead of at random places in
//! a table of up to a million 200-byte entries; only the index (32-byte entries) is touched
//! at random. At the 1 M cap that is most of a create's memory stalls, and about half the
//! memory of a table holding the records themselves.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use truidentidad_scenarios::{Catalogue, Observation};

use super::{InsertError, NewValidation, Record, StoreError, Unavailable, ValidationStore, View};
use crate::ids::{IdHashBuilder, ValidationId};

const SHARDS: usize = 64;
/// Capacities below this keep one shard (see [`MemoryStore::new`]): contention is no concern
/// at a few thousand validations, and eviction then matches the Redis store's exactly.
const ONE_SHARD_BELOW: usize = SHARDS * super::EVICTION_SCAN;

/// One shard's records: a ring in creation order plus an index from id to position.
#[derive(Debug, Default)]
struct Shard {
    /// Oldest first (see [`Shard::evict_one`] for the one exception).
    records: VecDeque<Record>,
    /// The absolute position of `records[0]`. Positions only grow (eviction pops the front
    /// and adds one here), so an index entry stays right while its record stays put.
    base: u64,
    /// Id → absolute position of its record.
    index: HashMap<ValidationId, u64, IdHashBuilder>,
}

impl Shard {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn contains(&self, id: ValidationId) -> bool {
        self.index.contains_key(&id)
    }

    fn slot(&self, id: ValidationId) -> Option<usize> {
        let abs = *self.index.get(&id)?;
        usize::try_from(abs.checked_sub(self.base)?).ok()
    }

    fn get(&self, id: ValidationId) -> Option<&Record> {
        self.records.get(self.slot(id)?)
    }

    fn get_mut(&mut self, id: ValidationId) -> Option<&mut Record> {
        let slot = self.slot(id)?;
        self.records.get_mut(slot)
    }

    /// Appends a record unless its id is taken (then hands it back); returns its slot.
    fn push(&mut self, record: Record) -> Result<usize, Box<Record>> {
        let std::collections::hash_map::Entry::Vacant(entry) = self.index.entry(record.id) else {
            // Boxed so the common path's result stays small; only a refused id pays.
            return Err(Box::new(record));
        };
        entry.insert(self.base + self.records.len() as u64);
        self.records.push_back(record);
        Ok(self.records.len() - 1)
    }

    /// Evicts the record [`super::eviction_victim`] picks among the oldest.
    fn evict_one(&mut self, catalogue: &Catalogue, now: Duration) -> bool {
        let Some(at) = super::eviction_victim(self.records.iter(), catalogue, now) else {
            return false;
        };
        // Removed in place, so the ring stays in creation order (the Redis store's index is
        // too): the records in front of it move back one slot, which `base` moving on by one
        // leaves right for those behind it, and at most EVICTION_SCAN index entries fix.
        let Some(victim) = self.records.remove(at) else {
            return false;
        };
        self.base += 1;
        self.index.remove(&victim.id);
        for (slot, r) in self.records.iter().take(at).enumerate() {
            self.index.insert(r.id, self.base + slot as u64);
        }
        true
    }

    /// Every record, in ring order.
    fn iter(&self) -> impl Iterator<Item = &Record> {
        self.records.iter()
    }
}

pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    catalogue: Arc<Catalogue>,
    evicted: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl MemoryStore {
    /// A store holding at most `capacity` validations. Below [`ONE_SHARD_BELOW`] it keeps
    /// one shard, so eviction chooses among all records exactly as the Redis store does (a
    /// small `--max-validations` is where a test sees eviction); above, 64 shards each hold
    /// their share (the capacity rounded up to a multiple of 64) and evict among their own.
    pub fn new(capacity: usize, catalogue: Arc<Catalogue>) -> Self {
        let shards = if capacity < ONE_SHARD_BELOW {
            1
        } else {
            SHARDS
        };
        let per_shard = capacity.div_ceil(shards).max(1);
        MemoryStore {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard,
            catalogue,
            evicted: Default::default(),
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    fn shard(&self, id: ValidationId) -> &Mutex<Shard> {
        &self.shards[id.shard(self.shards.len())]
    }

    fn evict_one(&self, shard: &mut Shard, now: Duration) {
        if shard.evict_one(&self.catalogue, now) {
            self.evicted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

// Each method holds one shard's lock for the whole read-observe-update.
impl ValidationStore for MemoryStore {
    fn capacity(&self) -> usize {
        self.per_shard * self.shards.len()
    }

    fn insert(
        &self,
        id: ValidationId,
        seq: u64,
        new: NewValidation,
        now: Duration,
    ) -> Result<View, InsertError> {
        let mut shard = self.shard(id).lock();
        if shard.len() >= self.per_shard && !shard.contains(id) {
            self.evict_one(&mut shard, now);
        }
        let record = new.into_record(id, seq, now);
        let observation = record.observe(&self.catalogue, now);
        let slot = shard.push(record).map_err(|r| {
            InsertError::Taken(NewValidation {
                account_id: r.account_id,
                scenario: r.scenario,
                chosen_by: r.chosen_by,
                timeout: r.timeout,
                ip: r.ip,
                params: r.params,
                await_person: r.journey.is_some(),
            })
        })?;
        Ok(View {
            record: shard.records[slot].clone(),
            observation,
            now,
        })
    }

    fn restore(&self, record: Record) {
        let mut shard = self.shard(record.id).lock();
        if shard.contains(record.id) {
            return;
        }
        if shard.len() >= self.per_shard {
            let now = record.created;
            self.evict_one(&mut shard, now);
        }
        let _ = shard.push(record);
    }

    fn poll(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
    ) -> Result<Option<(View, u32)>, Unavailable> {
        let mut shard = self.shard(id).lock();
        let now = clock();
        let Some(record) = shard.get_mut(id) else {
            return Ok(None);
        };
        let observation = record.observe(&self.catalogue, now);
        let nth = record.count_poll(&self.catalogue, now);
        Ok(Some((
            View {
                record: record.clone(),
                observation,
                now,
            },
            nth,
        )))
    }

    fn get(&self, id: ValidationId, now: Duration) -> Result<Option<View>, Unavailable> {
        let shard = self.shard(id).lock();
        Ok(shard.get(id).map(|record| View {
            observation: record.observe(&self.catalogue, now),
            record: record.clone(),
            now,
        }))
    }

    fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    fn modify(
        &self,
        id: ValidationId,
        clock: &dyn Fn() -> Duration,
        change: &mut dyn FnMut(&mut Record, Duration) -> Result<(), StoreError>,
    ) -> Result<(Record, Duration), StoreError> {
        let mut shard = self.shard(id).lock();
        let now = clock();
        let record = shard.get_mut(id).ok_or(StoreError::NotFound)?;
        change(record, now)?;
        Ok((record.clone(), now))
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
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for r in shard.iter() {
                let o = r.observe(&self.catalogue, now);
                if filter(r, &o) {
                    out.push(View {
                        record: r.clone(),
                        observation: o,
                        now,
                    });
                }
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.record.seq));
        out.truncate(limit);
        Ok(out)
    }

    fn scan(
        &self,
        now: Duration,
        visit: &mut dyn FnMut(&Record, &Observation),
    ) -> Result<(), Unavailable> {
        for shard in self.shards.iter() {
            for r in shard.lock().iter() {
                visit(r, &r.observe(&self.catalogue, now));
            }
        }
        Ok(())
    }

    fn len(&self) -> Result<usize, Unavailable> {
        Ok(self.shards.iter().map(|s| s.lock().len()).sum())
    }

    fn evicted(&self) -> u64 {
        self.evicted.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn clear(&self) -> Result<(), Unavailable> {
        for s in self.shards.iter() {
            *s.lock() = Shard::default();
        }
        self.evicted.store(0, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ChosenBy;
    use truidentidad_scenarios::Outcome;

    fn store(capacity: usize) -> MemoryStore {
        MemoryStore::new(capacity, Arc::new(Catalogue::builtin()))
    }

    fn new(c: &Catalogue, scenario: &str) -> NewValidation {
        NewValidation {
            account_id: "acc".into(),
            scenario: c.id_of(scenario).unwrap(),
            chosen_by: ChosenBy::Default,
            timeout: Duration::from_secs(300),
            ip: "127.0.0.1".parse().unwrap(),
            params: None,
            await_person: false,
        }
    }

    /// The index maps exactly the stored ids, each to its record's position.
    fn assert_consistent(s: &MemoryStore) {
        for shard in s.shards.iter() {
            let sh = shard.lock();
            assert_eq!(sh.index.len(), sh.records.len());
            // Creation order, which eviction's "oldest" reads (as the Redis index does).
            assert!(sh.records.iter().is_sorted_by_key(|r| r.seq));
            for (i, r) in sh.records.iter().enumerate() {
                assert_eq!(
                    sh.index.get(&r.id),
                    Some(&(sh.base + i as u64)),
                    "{:?}",
                    r.id
                );
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert { key: u8, finished: bool },
        Finish(u8),
        Poll(u8),
    }

    /// Ids in three shards (the low six bits pick the shard), so small stores fill up.
    fn id_of(key: u8) -> ValidationId {
        ValidationId((u128::from(key) << 6) | u128::from(key % 3))
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            3 => (0u8..24, any::<bool>()).prop_map(|(key, finished)| Op::Insert { key, finished }),
            1 => (0u8..24).prop_map(Op::Finish),
            1 => (0u8..24).prop_map(Op::Poll),
        ]
    }

    proptest::proptest! {
        /// Whatever the sequence of creates, completions and polls: a lookup finds the record
        /// of that id or nothing, a taken id is refused, the store stays within its capacity
        /// and counts what it evicted, and a full shard evicts a finished validation while it
        /// has one (this store holds 8, all among the oldest looked at).
        #[test]
        fn records_stay_with_their_ids_under_eviction(ops in proptest::collection::vec(op(), 1..200)) {
            let s = store(8);
            let c = s.catalogue().clone();
            let now = Duration::from_secs(1);
            let mut stored_ok = 0u64;
            for (seq, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert { key, finished } => {
                        let id = id_of(key);
                        let was_there = s.get(id, now).unwrap().is_some();
                        let same_shard: Vec<(ValidationId, bool)> = (0u8..24)
                            .map(id_of)
                            .filter(|o| o.shard(s.shards.len()) == id.shard(s.shards.len()))
                              .filter_map(|o| s.get(o, now).unwrap().map(|v| (o, v.observation.status.is_terminal())))
                            .collect();
                        let got = s.insert(id, seq as u64, new(&c, "never-completes"), now);
                        proptest::prop_assert_eq!(got.is_ok(), !was_there);
                        if got.is_ok() {
                            stored_ok += 1;
                            if same_shard.len() >= s.per_shard && same_shard.iter().any(|(_, done)| *done) {
                                for (other, done) in &same_shard {
                                    if !done {
                                        proptest::prop_assert!(s.get(*other, now).unwrap().is_some(), "a pending validation was evicted before a finished one");
                                    }
                                }
                            }
                            if finished {
                                s.complete(id, Outcome::Success, now).unwrap();
                            }
                        }
                    }
                    Op::Finish(key) => {
                        let _ = s.complete(id_of(key), Outcome::Success, now);
                    }
                    Op::Poll(key) => {
                        if let Some((v, _)) = s.poll(id_of(key), &|| now).unwrap() {
                            proptest::prop_assert_eq!(v.record.id, id_of(key));
                        }
                    }
                }
                assert_consistent(&s);
                proptest::prop_assert!(s.len().unwrap() <= s.capacity());
                proptest::prop_assert_eq!(s.len().unwrap() as u64 + s.evicted(), stored_ok);
                for key in 0u8..24 {
                    if let Some(v) = s.get(id_of(key), now).unwrap() {
                        proptest::prop_assert_eq!(v.record.id, id_of(key));
                    }
                }
            }
        }
    }

    #[test]
    fn a_pending_validation_skipped_by_eviction_is_still_found_and_evicted_later() {
        // One shard of four: the oldest is pending, the next finished. Evicting the finished
        // one from behind it shifts the ring; the others must stay reachable by id, and the
        // oldest pending one is evicted once nothing finished is left.
        let s = store(4);
        let c = s.catalogue().clone();
        let now = Duration::from_secs(1);
        let ids: Vec<ValidationId> = (1..=6).map(|k| ValidationId(k << 6)).collect();
        for (seq, id) in ids[..4].iter().enumerate() {
            s.insert(*id, seq as u64, new(&c, "never-completes"), now)
                .unwrap();
        }
        s.complete(ids[1], Outcome::Success, now).unwrap();
        s.insert(ids[4], 4, new(&c, "never-completes"), now)
            .unwrap();
        assert!(
            s.get(ids[1], now).unwrap().is_none(),
            "the finished one went first"
        );
        for id in [ids[0], ids[2], ids[3], ids[4]] {
            assert_eq!(s.get(id, now).unwrap().unwrap().record.id, id);
        }
        s.insert(ids[5], 5, new(&c, "never-completes"), now)
            .unwrap();
        assert!(
            s.get(ids[0], now).unwrap().is_none(),
            "then the oldest pending one"
        );
        assert_consistent(&s);
        assert_eq!(s.evicted(), 2);
    }

    #[test]
    fn small_capacities_are_exact_and_large_ones_sharded() {
        // Below 2,048 one shard holds exactly the capacity (and evicts as Redis does).
        assert_eq!(store(4).capacity(), 4);
        assert_eq!(store(2047).capacity(), 2047);
        assert_eq!(store(2047).shards.len(), 1);
        // From there on 64 shards, the capacity rounded up to a multiple of 64.
        assert_eq!(store(2048).shards.len(), SHARDS);
        assert_eq!(store(3000).capacity(), 3008);
    }

    #[test]
    fn polls_see_the_scenario_unfold() {
        let s = store(100);
        let id = ValidationId(7);
        s.insert(id, 0, new(s.catalogue(), "success"), Duration::ZERO)
            .unwrap();
        let (v, nth) = s.poll(id, &|| Duration::from_secs(1)).unwrap().unwrap();
        assert_eq!((v.observation.status.as_str(), nth), ("pending", 1));
        let (v, nth) = s.poll(id, &|| Duration::from_secs(3)).unwrap().unwrap();
        assert_eq!((v.observation.status.as_str(), nth), ("success", 2));
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let s = store(100);
        let first = new(s.catalogue(), "success");
        assert!(s.insert(ValidationId(1), 0, first, Duration::ZERO).is_ok());
        let mut second = new(s.catalogue(), "success");
        second.account_id = "second".into();
        // Refused, and handed back whole so the caller can retry under another id.
        let Err(InsertError::Taken(back)) = s.insert(ValidationId(1), 1, second, Duration::ZERO)
        else {
            panic!("a taken id must be refused");
        };
        assert_eq!(&*back.account_id, "second");
        assert_eq!(s.len().unwrap(), 1);
    }

    #[test]
    fn eviction_prefers_finished_validations() {
        let s = store(1);
        let c = s.catalogue().clone();
        let pending = ValidationId(64);
        let finished = ValidationId(128);
        let newest = ValidationId(192);
        s.insert(pending, 0, new(&c, "never-completes"), Duration::ZERO)
            .unwrap();
        assert_eq!(s.len().unwrap(), 1);
        s.insert(finished, 1, new(&c, "never-completes"), Duration::ZERO)
            .unwrap();
        // Capacity 1: the first was evicted (the only candidate).
        assert!(s.get(pending, Duration::ZERO).unwrap().is_none());
        s.complete(finished, Outcome::Success, Duration::from_secs(1))
            .unwrap();
        s.insert(
            newest,
            2,
            new(&c, "never-completes"),
            Duration::from_secs(2),
        )
        .unwrap();
        assert!(s.get(finished, Duration::ZERO).unwrap().is_none());
        assert!(s.get(newest, Duration::ZERO).unwrap().is_some());
        assert_eq!(s.evicted(), 2);
    }

    #[test]
    fn complete_is_refused_once_terminal() {
        let s = store(100);
        let id = ValidationId(3);
        s.insert(id, 0, new(s.catalogue(), "success"), Duration::ZERO)
            .unwrap();
        assert_eq!(
            s.complete(id, Outcome::SystemError, Duration::from_secs(10))
                .unwrap_err(),
            StoreError::AlreadyFinished
        );
        assert_eq!(
            s.complete(ValidationId(99), Outcome::SystemError, Duration::ZERO)
                .unwrap_err(),
            StoreError::NotFound
        );
    }

    #[test]
    fn switching_scenarios_restarts_the_timeline() {
        let s = store(100);
        let c = s.catalogue().clone();
        let id = ValidationId(5);
        s.insert(id, 0, new(&c, "never-completes"), Duration::ZERO)
            .unwrap();
        let v = s
            .set_scenario(id, c.id_of("success").unwrap(), Duration::from_secs(10))
            .unwrap();
        assert_eq!(v.observation.status.as_str(), "pending");
        let v = s.get(id, Duration::from_secs(13)).unwrap().unwrap();
        assert_eq!(v.observation.status.as_str(), "success");
    }

    #[test]
    fn polls_after_timeout_do_not_count() {
        let s = store(100);
        let c = s.catalogue().clone();
        let id = ValidationId(9);
        let mut n = new(&c, "success-after-polls");
        n.timeout = Duration::from_secs(10);
        s.insert(id, 0, n, Duration::ZERO).unwrap();
        s.poll(id, &|| Duration::from_secs(1)).unwrap().unwrap();
        for _ in 0..5 {
            let (v, _) = s.poll(id, &|| Duration::from_secs(20)).unwrap().unwrap();
            assert_eq!(v.observation.status.as_str(), "failure");
        }
    }
}
