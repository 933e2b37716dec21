//! What a recording holds and how it sits on disk.
//!
//! A recording directory has `recording.har` (HAR 1.2, every exchange, for other tools) and
//! `timelines/<name>.json`, one per validation: its create, every poll and their answers in
//! order, with offsets from the create. Exchanges that belong to no validation (a create that
//! failed) get a `loose-NNNN` timeline each. Everything is redacted before it is kept
//! ([`crate::redact`]): the unredacted exchange never outlives [`Recorder::capture`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use crate::exchange::{
    CallKind, Exchange, Failure, RecordedRequest, RecordedResponse, Timeline, header, polled_id,
};
use crate::har;
use crate::redact::Redactor;

/// An exchange as the proxy saw it, before redaction. Times are readings of the proxy's clock.
#[derive(Debug)]
pub struct RawExchange {
    pub at: Duration,
    pub duration: Duration,
    pub request: RecordedRequest,
    pub response: Option<RecordedResponse>,
    pub failure: Option<Failure>,
}

/// A captured exchange with its place in the recording.
#[derive(Debug, Clone)]
struct Kept {
    at: Duration,
    exchange: Exchange,
}

#[derive(Debug, Default)]
struct Inner {
    timelines: BTreeMap<String, (Option<String>, Vec<Kept>)>,
    loose: u32,
    /// Timelines changed since they were last written.
    dirty: BTreeSet<String>,
    har_dirty: bool,
}

/// Errors reading or writing a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}: no timelines/*.json here; record one with `truidentidad-mock record`")]
    Empty(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RecordingError + '_ {
    move |source| RecordingError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Keeps the exchanges of one recording and writes them to its directory.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    /// Wall-clock time of the clock reading zero.
    epoch: SystemTime,
    /// The upstream's base URL, for the HAR's absolute URLs.
    base_url: String,
    redactor: Redactor,
    inner: Mutex<Inner>,
    /// Held for a whole flush, so two flushes never write one file at once and the one at the
    /// end waits for a periodic one still writing.
    flushing: Mutex<()>,
}

impl Recorder {
    /// Creates `dir/timelines`. `epoch` is the wall-clock time at which the proxy's clock read 0.
    pub fn create(dir: &Path, epoch: SystemTime, base_url: &str) -> Result<Self, RecordingError> {
        let timelines = dir.join("timelines");
        std::fs::create_dir_all(&timelines).map_err(io(&timelines))?;
        Ok(Recorder {
            dir: dir.to_path_buf(),
            epoch,
            base_url: base_url.trim_end_matches('/').to_string(),
            redactor: Redactor::new(),
            inner: Mutex::new(Inner::default()),
            flushing: Mutex::new(()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Redacts `raw` and files it under its validation; [`Self::flush_timelines`] writes it.
    pub fn capture(&self, raw: RawExchange) {
        let kind = CallKind::of(&raw.request.method, &raw.request.path);
        let validation_id = match kind {
            CallKind::Poll => polled_id(&raw.request.path).map(str::to_string),
            CallKind::Create => raw
                .response
                .as_ref()
                .filter(|r| r.status < 300)
                .and_then(RecordedResponse::json)
                .and_then(|v| v.get("validation_id")?.as_str().map(str::to_string)),
            CallKind::Other => None,
        };
        let exchange = self.redact(kind, raw.duration, raw.request, raw.response, raw.failure);
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let validation_id = validation_id.filter(|id| safe_name(id));
        let name = match &validation_id {
            Some(id) => id.clone(),
            None => {
                inner.loose += 1;
                format!("loose-{:04}", inner.loose)
            }
        };
        let entry = inner
            .timelines
            .entry(name.clone())
            .or_insert_with(|| (validation_id, Vec::new()));
        // Exchanges end out of order (a stalled poll outlives the next one); kept by arrival.
        let at = entry.1.partition_point(|k| k.at <= raw.at);
        entry.1.insert(
            at,
            Kept {
                at: raw.at,
                exchange,
            },
        );
        inner.dirty.insert(name);
        inner.har_dirty = true;
    }

    /// Writes the timelines that changed since the last call. Called every half second by the
    /// proxy, off the request path, so a validation polled thousands of times is not rewritten
    /// on every poll.
    pub fn flush_timelines(&self) -> Result<(), RecordingError> {
        let Ok(_flushing) = self.flushing.lock() else {
            return Ok(());
        };
        let changed: Vec<Timeline> = {
            let Ok(mut inner) = self.inner.lock() else {
                return Ok(());
            };
            let dirty = std::mem::take(&mut inner.dirty);
            dirty
                .iter()
                .filter_map(|name| Some(self.timeline(name, inner.timelines.get(name)?)))
                .collect()
        };
        for t in changed {
            let path = self.dir.join("timelines").join(format!("{}.json", t.name));
            write_json(&path, &t)?;
        }
        Ok(())
    }

    /// Writes everything not yet written.
    pub fn flush(&self) -> Result<(), RecordingError> {
        self.flush_timelines()?;
        self.flush_har()
    }

    fn redact(
        &self,
        kind: CallKind,
        duration: Duration,
        request: RecordedRequest,
        response: Option<RecordedResponse>,
        failure: Option<Failure>,
    ) -> Exchange {
        let r = &self.redactor;
        // The request first: the personal values it carries are then known for its answer.
        let req_ct = header(&request.headers, "content-type").map(str::to_string);
        let request = RecordedRequest {
            method: request.method,
            body: r.body(req_ct.as_deref(), &request.body),
            path: r.path(&request.path),
            headers: redact_headers(r, request.headers),
        };
        let response = response.map(|resp| {
            let ct = resp.header("content-type").map(str::to_string);
            RecordedResponse {
                status: resp.status,
                body: r.body(ct.as_deref(), &resp.body),
                headers: redact_headers(r, resp.headers),
            }
        });
        Exchange {
            kind,
            offset_ms: 0,
            duration_ms: millis(duration),
            request,
            response,
            failure,
        }
    }

    fn timeline(&self, name: &str, (id, kept): &(Option<String>, Vec<Kept>)) -> Timeline {
        let first = kept.first().map(|k| k.at).unwrap_or_default();
        Timeline {
            name: name.to_string(),
            validation_id: id.clone(),
            started: humantime::format_rfc3339_millis(self.epoch + first).to_string(),
            exchanges: kept
                .iter()
                .map(|k| Exchange {
                    offset_ms: millis(k.at.saturating_sub(first)),
                    ..k.exchange.clone()
                })
                .collect(),
        }
    }

    /// Rewrites `recording.har` if an exchange came since the last write.
    pub fn flush_har(&self) -> Result<(), RecordingError> {
        let Ok(_flushing) = self.flushing.lock() else {
            return Ok(());
        };
        let har = {
            let Ok(mut inner) = self.inner.lock() else {
                return Ok(());
            };
            if !inner.har_dirty {
                return Ok(());
            }
            inner.har_dirty = false;
            let mut all: Vec<&Kept> = inner.timelines.values().flat_map(|t| &t.1).collect();
            all.sort_by_key(|k| k.at);
            crate::har_export::har(
                self.epoch,
                &self.base_url,
                all.iter().map(|k| (k.at, &k.exchange)),
            )
        };
        write_json(&self.dir.join("recording.har"), &har)
    }
}

fn redact_headers(r: &Redactor, headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(k, v)| {
            let v = r.header(&k, &v);
            (k, v)
        })
        .collect()
}

/// A validation id fit to be a file name (ids come from the network).
fn safe_name(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RecordingError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| RecordingError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    // Written beside and renamed, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Reads every `timelines/*.json` of a recording, in name order.
pub fn read_timelines(dir: &Path) -> Result<Vec<Timeline>, RecordingError> {
    let tdir = dir.join("timelines");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&tdir)
        .map_err(io(&tdir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(RecordingError::Empty(dir.to_path_buf()));
    }
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(io(p))?;
            serde_json::from_str(&text).map_err(|e| RecordingError::Parse {
                path: p.clone(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// Reads a recording's HAR file.
pub fn read_har(dir: &Path) -> Result<har::Har, RecordingError> {
    let p = dir.join("recording.har");
    let text = std::fs::read_to_string(&p).map_err(io(&p))?;
    serde_json::from_str(&text).map_err(|e| RecordingError::Parse {
        path: p.clone(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_kinds_follow_truoras_paths() {
        assert_eq!(CallKind::of("POST", "/v1/validations"), CallKind::Create);
        assert_eq!(
            CallKind::of("GET", "/v1/validations/VLD1?x=1"),
            CallKind::Poll
        );
        assert_eq!(
            CallKind::of("GET", "/v1/validations/VLD1/x"),
            CallKind::Other
        );
        assert_eq!(CallKind::of("GET", "/v1/validations"), CallKind::Other);
        assert_eq!(
            polled_id("/v1/validations/VLD1?show_details=true"),
            Some("VLD1")
        );
    }
}
