//! The request journal: a bounded ring of recent requests, queryable by validation id.
//!
//! Bounded because WireMock users run out of memory on unbounded journals in soak tests
//! (e.g. wiremock/wiremock#29, #152); the oldest entries fall off and a counter says how many.
//! Entries never hold the API key itself, only whether one was sent and accepted.
//!
//! - [`entry`]: what one entry records, typed: the request [`Kind`], the [`AppliedFault`], the
//!   [`Observed`] state the response carried. The conformance suite grades these types.
//! - [`fault`]: the fault a scenario applied, and its one-line text form.

mod entry;
mod fault;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

pub use entry::{FormFields, JournalEntry, KeyState, Kind, Observed, reached_store_as_poll};
pub use fault::{AppliedFault, FaultEffect, ParseFaultError};

use crate::ids::ValidationId;

#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<JournalEntry>>,
    next_seq: AtomicU64,
    dropped: AtomicU64,
    /// Where entries go instead of the ring when replicas share one journal.
    remote: Option<Box<dyn RemoteJournal>>,
}

/// A journal kept outside the process (the Redis store's stream), shared by replicas.
/// Bounded to the journal's capacity like the ring; reads are the newest entries first.
pub trait RemoteJournal: Send + Sync + std::fmt::Debug {
    /// Records an entry without waiting for it to be stored.
    fn push(&self, entry: JournalEntry);
    /// Entries matching `filter`, oldest first, at most `limit` of the newest.
    fn query(&self, limit: usize, filter: &dyn Fn(&JournalEntry) -> bool) -> Vec<JournalEntry>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Entries matching `filter` numbered `from` or later, oldest first, at most `limit`.
    fn starting_at(
        &self,
        from: u64,
        limit: usize,
        filter: &dyn Fn(&JournalEntry) -> bool,
    ) -> Vec<JournalEntry>;
    /// Entries recorded by every replica since the last clear.
    fn recorded(&self) -> u64;
    /// The number the next entry of any replica will get (the shared counter).
    fn next_seq(&self) -> u64;
    fn clear(&self);
}

impl Journal {
    /// A journal keeping at most `capacity` entries; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        Journal {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            next_seq: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            remote: None,
        }
    }

    /// A journal of `capacity` entries kept in `remote` (a disabled one stays disabled).
    pub fn shared(capacity: usize, remote: Box<dyn RemoteJournal>) -> Self {
        Journal {
            remote: (capacity > 0).then_some(remote),
            ..Journal::new(capacity)
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records an entry, assigning its sequence number; evicts the oldest when full.
    pub fn push(&self, mut entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        entry.seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = &self.remote {
            r.push(entry);
            return;
        }
        let mut q = self.entries.lock();
        if q.len() >= self.capacity {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(entry);
    }

    /// Entries matching `filter`, oldest first, at most `limit` of the newest.
    pub fn query(&self, limit: usize, filter: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        if let Some(r) = &self.remote {
            return r.query(limit, &filter);
        }
        let q = self.entries.lock();
        let mut out: Vec<JournalEntry> = q
            .iter()
            .rev()
            .filter(|e| filter(e))
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// Entries matching `filter` from sequence number `from` on, oldest first, at most
    /// `limit`: how a reader that outlives one query (a load run against an external mock)
    /// pages through everything recorded since it started, without gaps or repeats.
    pub fn from_seq(
        &self,
        from: u64,
        limit: usize,
        filter: impl Fn(&JournalEntry) -> bool,
    ) -> Vec<JournalEntry> {
        if let Some(r) = &self.remote {
            return r.starting_at(from, limit, &filter);
        }
        let q = self.entries.lock();
        // Entries are in sequence order: skip to `from` by bisection.
        let start = q.partition_point(|e| e.seq < from);
        q.range(start..)
            .filter(|e| filter(e))
            .take(limit)
            .cloned()
            .collect()
    }

    pub fn for_validation(&self, id: ValidationId, limit: usize) -> Vec<JournalEntry> {
        self.query(limit, |e| e.validation_id == Some(id))
    }

    pub fn len(&self) -> usize {
        match &self.remote {
            Some(r) => r.len(),
            None => self.entries.lock().len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries were ever recorded (the next sequence number): a counter a live
    /// display can read without locking the journal.
    /// With a shared journal it is the shared counter, one Redis round trip.
    pub fn total_recorded(&self) -> u64 {
        match &self.remote {
            Some(r) => r.next_seq(),
            None => self.next_seq.load(Ordering::Relaxed),
        }
    }

    /// How many entries fell off the end since the last reset (with a shared journal: of
    /// every replica's).
    pub fn dropped(&self) -> u64 {
        match &self.remote {
            Some(r) => r.recorded().saturating_sub(r.len() as u64),
            None => self.dropped.load(Ordering::Relaxed),
        }
    }

    pub fn clear(&self) {
        if let Some(r) = &self.remote {
            r.clear();
        }
        self.entries.lock().clear();
        self.dropped.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(id: Option<ValidationId>) -> JournalEntry {
        JournalEntry {
            seq: 0,
            received: Duration::ZERO,
            sent: Duration::ZERO,
            method: http::Method::GET,
            path: "/".into(),
            kind: Kind::Poll,
            validation_id: id,
            status: 200,
            fault: AppliedFault::default(),
            observed: None,
            poll_counted: true,
            api_key: KeyState::Accepted,
            content_type: None,
            form: FormFields::default(),
            remote: "127.0.0.1:1".parse().unwrap(),
        }
    }

    #[test]
    fn keeps_only_the_newest_entries() {
        let j = Journal::new(3);
        for _ in 0..5 {
            j.push(entry(None));
        }
        let seqs: Vec<u64> = j.query(10, |_| true).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![2, 3, 4]);
        assert_eq!(j.dropped(), 2);
    }

    #[test]
    fn pages_from_a_sequence_number_without_gaps_or_repeats() {
        let j = Journal::new(10);
        for n in 0..7 {
            j.push(entry((n % 2 == 0).then_some(ValidationId(1))));
        }
        let page = |from| -> Vec<u64> {
            j.from_seq(from, 2, |e| e.validation_id.is_some())
                .iter()
                .map(|e| e.seq)
                .collect()
        };
        assert_eq!(page(0), vec![0, 2]);
        assert_eq!(page(3), vec![4, 6]);
        assert_eq!(page(7), Vec::<u64>::new());
        // Evicted entries are simply absent: a page starts at the oldest one kept.
        let small = Journal::new(3);
        for _ in 0..5 {
            small.push(entry(None));
        }
        let seqs: Vec<u64> = small
            .from_seq(0, 10, |_| true)
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![2, 3, 4]);
    }

    #[test]
    fn filters_by_validation() {
        let j = Journal::new(10);
        let a = ValidationId(1);
        j.push(entry(Some(a)));
        j.push(entry(Some(ValidationId(2))));
        j.push(entry(Some(a)));
        assert_eq!(j.for_validation(a, 10).len(), 2);
        assert_eq!(j.for_validation(a, 1)[0].seq, 2);
    }

    proptest::proptest! {
        /// What a state file saves (decoded pairs) reads back as the same fields.
        #[test]
        fn form_fields_round_trip_through_pairs(
            pairs in proptest::collection::vec(("\\PC{1,12}", "\\PC{0,12}"), 0..6)
        ) {
            let fields = FormFields::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            proptest::prop_assert_eq!(fields.pairs(), pairs.clone());
            proptest::prop_assert_eq!(fields.is_empty(), pairs.is_empty());
        }
    }

    #[test]
    fn form_fields_serialize_as_decoded_pairs() {
        let f = FormFields::from_urlencoded("type=government&account_id=a%2Bb+c&x=");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"[["type","government"],["account_id","a+b c"],["x",""]]"#
        );
        assert_eq!(serde_json::to_string(&FormFields::default()).unwrap(), "[]");
    }

    #[test]
    fn zero_capacity_disables() {
        let j = Journal::new(0);
        j.push(entry(None));
        assert!(j.is_empty());
    }
}
