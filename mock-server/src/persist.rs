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
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use truidentidad_scenarios::Outcome;

use crate::ids::ValidationId;
pub use crate::saved::{SavedEntry, SavedObserved, SavedOutcome};
use crate::saved::{load_entry, load_outcome, ns, save_entry, save_outcome};
use crate::state::{AppState, Resume};
use crate::store::{Changes, ChosenBy, CreateParams, Record};

/// Bumped when the layout changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;

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

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedValidation {
    pub validation_id: String,
    pub seq: u64,
    pub account_id: String,
    pub scenario: String,
    pub created_ns: u64,
    pub scenario_start_ns: u64,
    pub polls_at_scenario_start: u32,
    pub timeout_s: u64,
    pub polls_total: u32,
    pub polls_counted: u32,
    pub forced: Option<SavedOutcome>,
    pub ip: IpAddr,
    pub user_authorized: Option<bool>,
    pub country: Option<String>,
    pub threshold: Option<f64>,
    pub document_number: Option<String>,
    /// What picked the scenario (absent in files saved before it was recorded: `default`).
    #[serde(default)]
    pub chosen_by: Option<String>,
    /// `--key-isolation`'s fingerprint of the creating key (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_key: Option<u64>,
}

/// A saved validation's [`Changes`], or none when it had none (nothing forced, scenario
/// never switched), so a restored record is as small as a fresh one.
fn changes(
    forced: Option<(Outcome, Duration)>,
    created_ns: u64,
    scenario_start_ns: u64,
    polls_at_scenario_start: u32,
) -> Option<Box<Changes>> {
    (forced.is_some() || scenario_start_ns != created_ns || polls_at_scenario_start != 0).then(
        || {
            Box::new(Changes {
                forced,
                scenario_start: Duration::from_nanos(scenario_start_ns),
                polls_at_scenario_start,
            })
        },
    )
}

/// Captures the server's state.
pub fn snapshot(state: &AppState) -> StateFile {
    let now = state.clock.now();
    let validations = state
        .store
        .list(now, usize::MAX, &|_, _| true)
        // Only the in-memory store is saved (a Redis store refuses --state-file); it never fails.
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|v| {
            let r = v.record;
            let p = r.params.as_deref().cloned().unwrap_or_default();
            SavedValidation {
                validation_id: r.id.to_string(),
                seq: r.seq,
                account_id: r.account_id.to_string(),
                scenario: state.catalogue.get(r.scenario).name.clone(),
                created_ns: ns(r.created),
                scenario_start_ns: ns(r.scenario_start()),
                polls_at_scenario_start: r.polls_at_scenario_start(),
                timeout_s: r.timeout.as_secs(),
                polls_total: r.polls_total,
                polls_counted: r.polls_counted,
                forced: r.forced().map(|(o, at)| save_outcome(o, at)),
                ip: r.ip,
                user_authorized: p.user_authorized,
                country: p.country,
                threshold: p.threshold,
                document_number: p.document_number,
                chosen_by: Some(r.chosen_by.as_str().to_string()),
                owner_key: p.owner,
            }
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
    for v in &file.validations {
        let id: ValidationId = v
            .validation_id
            .parse()
            .map_err(|_| corrupt(format!("bad validation_id `{}`", v.validation_id)))?;
        let scenario = state.catalogue.id_of(&v.scenario).ok_or_else(|| {
            corrupt(format!(
                "validation {id} uses scenario `{}`, which is not loaded; pass the --scenarios file that defines it",
                v.scenario
            ))
        })?;
        let forced = match &v.forced {
            None => None,
            Some(o) => Some((
                load_outcome(o).map_err(&corrupt)?,
                Duration::from_nanos(o.at_ns),
            )),
        };
        let chosen_by = match v.chosen_by.as_deref() {
            None => ChosenBy::Default,
            Some(c) => ChosenBy::parse(c).ok_or_else(|| {
                corrupt(format!("validation {id} has an unknown chosen_by `{c}`"))
            })?,
        };
        records.push(Record {
            id,
            seq: v.seq,
            account_id: v.account_id.as_str().into(),
            scenario,
            chosen_by,
            created: Duration::from_nanos(v.created_ns),
            timeout: Duration::from_secs(v.timeout_s),
            polls_total: v.polls_total,
            polls_counted: v.polls_counted,
            changes: changes(
                forced,
                v.created_ns,
                v.scenario_start_ns,
                v.polls_at_scenario_start,
            ),
            ip: v.ip,
            params: Some(Arc::new(CreateParams {
                user_authorized: v.user_authorized,
                country: v.country.clone(),
                threshold: v.threshold,
                document_number: v.document_number.clone(),
                owner: v.owner_key,
            })),
            journey: None,
        });
    }
    let n = records.len();
    for r in records {
        state.store.restore(r);
    }
    for e in file.journal {
        state.journal.push(load_entry(e).map_err(&corrupt)?);
    }
    state.set_seq(file.next_seq);
    Ok(n)
}
