//! The request journal of replicas sharing Redis: a capped stream, `{ns}:journal`, bounded
//! like the in-memory ring (`XADD MAXLEN`), so `/_mock/journal` on any replica shows the
//! requests every replica answered.
//!
//! Off the request path: entries go through a bounded channel to one writer task on the
//! runtime, which sends whatever has queued up as one script call on the store's multiplexed
//! connection, bounded by its timeout. A request never waits for the journal, and a Redis
//! outage costs journal entries (counted in the log), never requests. A replica reading its
//! journal first waits (briefly, woken by the writer rather than polling) for its own queued
//! entries to be written, so it reads its own writes; other replicas' entries appear within
//! their writer's round trip.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{Receiver, Sender};

use redis::Script;

use super::RedisStore;
use crate::journal::{JournalEntry, RemoteJournal};
use crate::saved::{SavedEntry, load_entry, save_entry};

/// Entries queued for the writer; past this, new ones are dropped (Redis is too slow).
const QUEUE: usize = 65_536;
/// Entries sent per script call.
const BATCH: usize = 512;
/// Entries read per `XREVRANGE`.
const READ_CHUNK: usize = 1000;
/// Longest a read waits for this replica's queued entries.
const READ_YOUR_WRITES: Duration = Duration::from_secs(1);

/// What `XREVRANGE` returns: entry ids with their field/value pairs.
type StreamRows = Vec<(String, Vec<(String, String)>)>;

/// Appends a batch, numbering it from a shared counter.
/// KEYS: stream, counter. ARGV: capacity, then one JSON entry each.
static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = #ARGV - 1
local last = redis.call('INCRBY', KEYS[2], n)
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 's', last - n + i - 2, 'e', ARGV[i])
end
return last
",
    )
});

/// Empties the stream and remembers how many entries were numbered before.
/// KEYS: stream, counter, base.
static CLEAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[3], redis.call('GET', KEYS[2]) or 0)
",
    )
});

/// One entry as stored: the state file's form, what the response showed included.
fn encode(e: JournalEntry) -> String {
    serde_json::to_string(&save_entry(e)).unwrap_or_default()
}

fn decode(seq: u64, json: &str) -> Option<JournalEntry> {
    let saved: SavedEntry = serde_json::from_str(json).ok()?;
    let mut e = load_entry(saved).ok()?;
    e.seq = seq;
    Some(e)
}

#[derive(Debug)]
pub struct RedisJournal {
    store: RedisStore,
    capacity: usize,
    tx: Sender<JournalEntry>,
    progress: Arc<Progress>,
}

/// Entries handed to the writer, and entries it has dealt with (written or lost); the writer
/// wakes readers waiting for their own entries.
#[derive(Debug, Default)]
struct Progress {
    /// (queued, done)
    counts: Mutex<(u64, u64)>,
    moved: Condvar,
}

impl RedisJournal {
    /// A journal whose writer runs as a task on the current runtime (the server's); it ends
    /// when the journal is dropped (its sender with it).
    pub fn new(store: RedisStore, capacity: usize) -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let progress = Arc::new(Progress::default());
        let writer = Writer {
            store: store.clone(),
            capacity,
            progress: progress.clone(),
        };
        tokio::spawn(writer.run(rx));
        RedisJournal {
            store,
            capacity,
            tx,
            progress,
        }
    }

    /// Waits (at most [`READ_YOUR_WRITES`]) until the writer dealt with every entry this
    /// replica queued so far, woken by the writer (off the runtime's worker, as a Redis call).
    fn wait_for_writer(&self) {
        super::pool::blocking(|| self.wait_for_writer_here());
    }

    fn wait_for_writer_here(&self) {
        let deadline = Instant::now() + READ_YOUR_WRITES;
        let mut counts = self.progress.counts.lock();
        let target = counts.0;
        while counts.1 < target {
            if self
                .progress
                .moved
                .wait_until(&mut counts, deadline)
                .timed_out()
            {
                break;
            }
        }
    }

    fn read_chunk(&self, before: Option<&str>) -> Vec<(String, u64, String)> {
        let key = self.store.key("journal");
        let end = before.map_or_else(|| "+".to_string(), |id| format!("({id}"));
        let got: Result<StreamRows, _> = self.store.pool().run(|c| {
            redis::cmd("XREVRANGE")
                .arg(&key)
                .arg(&end)
                .arg("-")
                .arg("COUNT")
                .arg(READ_CHUNK)
                .query(c)
        });
        match got {
            Ok(rows) => rows
                .into_iter()
                .map(|(id, fields)| {
                    let field = |n: &str| {
                        fields
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let seq = field("s").parse().unwrap_or(0);
                    (id, seq, field("e"))
                })
                .collect(),
            Err(e) => {
                tracing::warn!("reading the journal from Redis: {e}");
                Vec::new()
            }
        }
    }
}

impl RemoteJournal for RedisJournal {
    fn push(&self, entry: JournalEntry) {
        match self.tx.try_send(entry) {
            Ok(()) => self.progress.counts.lock().0 += 1,
            Err(TrySendError::Full(_)) => {
                tracing::warn!("journal entry dropped: Redis is not keeping up");
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }

    fn query(&self, limit: usize, filter: &dyn Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        self.wait_for_writer();
        let mut out = Vec::new();
        let mut before: Option<String> = None;
        let mut seen = 0usize;
        while out.len() < limit && seen < self.capacity {
            let rows = self.read_chunk(before.as_deref());
            let Some(last) = rows.last() else { break };
            before = Some(last.0.clone());
            seen += rows.len();
            for (_, seq, json) in &rows {
                if let Some(e) = decode(*seq, json)
                    && filter(&e)
                {
                    out.push(e);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        }
        out.reverse();
        out
    }

    fn starting_at(
        &self,
        from: u64,
        limit: usize,
        filter: &dyn Fn(&JournalEntry) -> bool,
    ) -> Vec<JournalEntry> {
        self.wait_for_writer();
        // The stream reads newest first: walk back to `from` (at most the capacity), then
        // keep the oldest `limit`.
        let mut out = Vec::new();
        let mut before: Option<String> = None;
        let mut seen = 0usize;
        'read: while seen < self.capacity {
            let rows = self.read_chunk(before.as_deref());
            let Some(last) = rows.last() else { break };
            before = Some(last.0.clone());
            seen += rows.len();
            for (_, seq, json) in &rows {
                if *seq < from {
                    break 'read;
                }
                if let Some(e) = decode(*seq, json)
                    && filter(&e)
                {
                    out.push(e);
                }
            }
        }
        out.reverse();
        out.truncate(limit);
        out
    }

    fn next_seq(&self) -> u64 {
        self.wait_for_writer();
        let key = self.store.key("journal:seq");
        self.store
            .pool()
            .run(|c| redis::cmd("GET").arg(&key).query::<Option<u64>>(c))
            .map_or(0, Option::unwrap_or_default)
    }

    fn len(&self) -> usize {
        self.wait_for_writer();
        let key = self.store.key("journal");
        self.store
            .pool()
            .run(|c| redis::cmd("XLEN").arg(&key).query(c))
            .unwrap_or(0)
    }

    fn recorded(&self) -> u64 {
        let (seq, base) = (
            self.store.key("journal:seq"),
            self.store.key("journal:base"),
        );
        self.store
            .pool()
            .run(|c| {
                redis::cmd("MGET")
                    .arg(&seq)
                    .arg(&base)
                    .query::<(Option<u64>, Option<u64>)>(c)
            })
            .map_or(0, |(s, b)| s.unwrap_or(0).saturating_sub(b.unwrap_or(0)))
    }

    fn clear(&self) {
        self.wait_for_writer();
        let (stream, seq, base) = (
            self.store.key("journal"),
            self.store.key("journal:seq"),
            self.store.key("journal:base"),
        );
        // Entries numbered before the reset no longer count as dropped.
        if let Err(e) = self
            .store
            .pool()
            .run(|c| CLEAR.key(&stream).key(&seq).key(&base).invoke::<()>(c))
        {
            tracing::warn!("clearing the journal in Redis: {e}");
        }
    }
}

struct Writer {
    store: RedisStore,
    capacity: usize,
    progress: Arc<Progress>,
}

impl Writer {
    async fn run(self, mut rx: Receiver<JournalEntry>) {
        let (stream, counter) = (self.store.key("journal"), self.store.key("journal:seq"));
        let mut got = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut got, BATCH).await > 0 {
            let n = got.len() as u64;
            let batch: Vec<String> = got.drain(..).map(encode).collect();
            let pool = self.store.pool();
            let res = match pool.manager() {
                Ok(mut con) => {
                    let mut inv = APPEND.prepare_invoke();
                    inv.key(&stream).key(&counter).arg(self.capacity);
                    for e in &batch {
                        inv.arg(e);
                    }
                    pool.bounded(inv.invoke_async::<u64>(&mut con)).await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = res {
                tracing::warn!("{n} journal entries lost: {e}");
            }
            self.progress.counts.lock().1 += n;
            self.progress.moved.notify_all();
        }
    }
}
