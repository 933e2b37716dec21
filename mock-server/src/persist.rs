//! `--state-file`: saving validations and the journal on shutdown and loading them on start,
//! so a restart loses nothing.
//!
//! The file is JSON, written to a temporary file beside the target and renamed over it, so a
//! crash mid-write leaves the previous file intact. A file that cannot be read or parsed stops
//! the server with a clear error and is never overwritten.
//!
//! Instants are saved as clock readings ("seconds since the clock started"), with the clock's
//! reading and the wall time at the save. On load, a real clock resumes at the saved reading
//! plus the downtime (validations keep ageing while the server is down, as they would in
//! Truora), a manual clock resumes exactly where it stood.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::ids::ValidationId;
pub use crate::saved::{SavedEntry, SavedObserved, SavedOutcome};
use crate::saved::{SavedRecord, load_entry, load_record, ns, save_entry, save_record};
use crate::state::{AppState, Resume};

/// Bumped when the layout changes incompatibly: 2 saves each validation in the form the Redis
/// store writes too (`saved::SavedRecord`), journey included.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "state file {path} is not a valid truidentidad-mock state file ({detail}); it was left untouched: fix or move it, or start without --state-file"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct StateFile {
    pub version: u32,
    /// `real` or `manual`.
    pub clock: String,
    /// The clock's reading at the save, in nanoseconds.
    pub clock_now_ns: u64,
    /// Wall time of the save, nanoseconds since the Unix epoch.
    pub saved_at_unix_ns: u128,
    /// Wall time of the clock's start (what `creation_date` is computed from).
    pub clock_started_unix_ns: u128,
    pub seed: u64,
    pub next_seq: u64,
    pub validations: Vec<SavedValidation>,
    pub journal: Vec<SavedEntry>,
}

/// A saved validation: its id and poll counters beside its record in the one saved form
/// the Redis store writes too ([`SavedRecord`], journey included).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedValidation {
    pub validation_id: String,
    pub polls_total: u32,
    pub polls_counted: u32,
    #[serde(flatten)]
    pub record: SavedRecord,
}

/// Captures the server's state.
pub fn snapshot(state: &AppState) -> StateFile {
    let now = state.clock.now();
    let validations = state
        .store()
        .list(now, usize::MAX, &|_, _| true)
        // Only the in-memory store is saved (a Redis store refuses --state-file); it never fails.
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|v| SavedValidation {
            validation_id: v.record.id.to_string(),
            polls_total: v.record.polls_total,
            polls_counted: v.record.polls_counted,
            record: save_record(&v.record, &state.catalogue),
        })
        .collect();
    let journal = state
        .journal
        .query(usize::MAX, |_| true)
        .into_iter()
        .map(save_entry)
        .collect();
    StateFile {
        version: FORMAT_VERSION,
        clock: state.clock.mode().as_str().to_string(),
        clock_now_ns: ns(now),
        saved_at_unix_ns: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
        clock_started_unix_ns: state
            .clock
            .started_at()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
        seed: state.seed,
        next_seq: state.peek_seq(),
        validations,
        journal,
    }
}

/// Writes `state` to `path` atomically (temporary file, fsync, rename).
pub fn save(state: &AppState, path: &Path) -> Result<usize, PersistError> {
    let file = snapshot(state);
    let bytes = serde_json::to_vec(&file).map_err(|e| PersistError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let werr = |source| PersistError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(&tmp).map_err(werr)?;
    f.write_all(&bytes).map_err(werr)?;
    f.sync_all().map_err(werr)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(werr)?;
    Ok(file.validations.len())
}

/// Reads a state file; `Ok(None)` when it does not exist yet.
pub fn read(path: &Path) -> Result<Option<StateFile>, PersistError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PersistError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let corrupt = |detail: String| PersistError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if file.version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {} is not {FORMAT_VERSION}",
            file.version
        )));
    }
    Ok(Some(file))
}

/// Where the saved run left off: its seed, clock reading and clock start.
pub fn resume(file: &StateFile) -> Resume {
    Resume {
        seed: file.seed,
        clock_at: resume_clock_at(file),
        wall_start: resume_wall_start(file),
    }
}

/// The clock reading a resumed server should start at.
fn resume_clock_at(file: &StateFile) -> Duration {
    let saved = Duration::from_nanos(file.clock_now_ns);
    if file.clock == crate::clock::ClockMode::Manual.as_str() {
        return saved;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let downtime = now.saturating_sub(file.saved_at_unix_ns);
    saved + Duration::from_nanos(u64::try_from(downtime).unwrap_or(u64::MAX))
}

/// The wall time a resumed manual clock starts at, so `creation_date`s do not move.
fn resume_wall_start(file: &StateFile) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(file.clock_started_unix_ns).unwrap_or(u64::MAX))
}

/// Loads the saved validations and journal into a freshly built `state`.
pub fn restore(state: &AppState, file: StateFile, path: &Path) -> Result<usize, PersistError> {
    let corrupt = |detail: String| PersistError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let mut records = Vec::with_capacity(file.validations.len());
    for v in file.validations {
        let id: ValidationId = v
            .validation_id
            .parse()
            .map_err(|_| corrupt(format!("bad validation_id `{}`", v.validation_id)))?;
        let counters = (v.polls_total, v.polls_counted);
        records
            .push(load_record(id, v.record, counters, None, &state.catalogue).map_err(&corrupt)?);
    }
    let n = records.len();
    for r in records {
        state.store().restore(r);
    }
    for e in file.journal {
        state.journal.push(load_entry(e).map_err(&corrupt)?);
    }
    state.set_seq(file.next_seq);
    Ok(n)
}
