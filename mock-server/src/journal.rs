//! The request journal: a bounded ring of recent requests, queryable by validation id.
//!
//! Bounded because WireMock users run out of memory on unbounded journals in soak tests
//! (e.g. wiremock/wiremock#29, #152); the oldest entries fall off and a counter says how many.
//! Entries never hold the API key itself, only whether one was sent and accepted.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;

use crate::ids::ValidationId;

/// What the server made of the `Truora-API-Key` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Missing,
    Accepted,
    Rejected,
    /// Not checked (control API, assets).
    NotRequired,
}

/// The request kinds the journal records, as an entry's `kind` writes them: `web` covers the
/// browser pages and the dashboard, `web-adapter` the Web SDK's backend.
pub const KINDS: [&str; 6] = ["create", "poll", "web", "web-adapter", "control", "other"];

/// One request as the server saw it.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    /// Clock time when the request head was received (seconds since server start, ns precision).
    #[serde(serialize_with = "secs")]
    pub received: Duration,
    /// Clock time when the response was handed to the connection.
    #[serde(serialize_with = "secs")]
    pub sent: Duration,
    #[serde(serialize_with = "method_str")]
    pub method: http::Method,
    /// Path and query, truncated to 512 bytes.
    pub path: String,
    /// One of [`KINDS`].
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_id: Option<ValidationId>,
    /// HTTP status sent, or 0 when a connection fault sent none.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    pub api_key: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Form fields of a create request, in order (API keys never appear here).
    #[serde(skip_serializing_if = "FormFields::is_empty")]
    pub form: FormFields,
    pub remote: SocketAddr,
}

fn method_str<S: serde::Serializer>(m: &http::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// The form fields of a create request, kept as the urlencoded text they arrived in and
/// decoded when read. A journal entry then holds one allocation for its form instead of two
/// per field: the journal replaces its oldest entry on every request, and freeing many small,
/// long-cold allocations was most of what journaling a create cost (BENCHMARKS.md §1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields(Option<Box<str>>);

impl FormFields {
    /// Fields as sent in an `application/x-www-form-urlencoded` body.
    pub fn from_urlencoded(body: &str) -> Self {
        FormFields((!body.is_empty()).then(|| body.into()))
    }

    /// Fields given as decoded pairs (e.g. read back from a state file).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut enc = form_urlencoded::Serializer::new(String::new());
        enc.extend_pairs(pairs);
        Self::from_urlencoded(&enc.finish())
    }

    /// The decoded `(name, value)` pairs, in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0.as_deref().map_or_else(Vec::new, |text| {
            form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// Serialized as the list of `[name, value]` pairs, as the journal has always shown it.
impl Serialize for FormFields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let pairs = self
            .0
            .as_deref()
            .map(|t| form_urlencoded::parse(t.as_bytes()));
        let mut seq = s.serialize_seq(None)?;
        for (k, v) in pairs.into_iter().flatten() {
            seq.serialize_element(&(k.as_ref(), v.as_ref()))?;
        }
        seq.end()
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<JournalEntry>>,
    next_seq: AtomicU64,
    dropped: AtomicU64,
}

impl Journal {
    /// A journal keeping at most `capacity` entries; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        Journal {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            next_seq: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
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
        let mut q = self.entries.lock();
        if q.len() >= self.capacity {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(entry);
    }

    /// Entries matching `filter`, oldest first, at most `limit` of the newest.
    pub fn query(&self, limit: usize, filter: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
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

    pub fn for_validation(&self, id: ValidationId, limit: usize) -> Vec<JournalEntry> {
        self.query(limit, |e| e.validation_id == Some(id))
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries fell off the end since the last reset.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn clear(&self) {
        self.entries.lock().clear();
        self.dropped.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: Option<ValidationId>) -> JournalEntry {
        JournalEntry {
            seq: 0,
            received: Duration::ZERO,
            sent: Duration::ZERO,
            method: http::Method::GET,
            path: "/".into(),
            kind: "poll",
            validation_id: id,
            status: 200,
            fault: None,
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
