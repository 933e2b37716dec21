//! The run report: the `--json` document (a stable, versioned schema, see `SCHEMA.md`) and
//! the human summary printed at the end of a run.
//!
//! The same [`Report`] value feeds the text, the JSON, thresholds and `--compare`, so what a
//! user reads and what CI checks can never disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::fleet::Problem;
use crate::fleet::analysis::{CountSummary, Pushback};
use crate::metrics::{self, Kind};
use crate::outcome::ErrorClass;
use crate::series::{LatencyPerSecond, Peaks, PerSecond, Windows};
use crate::stats::{Percentiles, Stats};

/// Bumped only when a key changes meaning or disappears; new keys may appear at any version.
/// One version for every report the load tool writes (polling, raw, merged and fleet: one
/// [`Report`] type).
/// 2: `requests.per_second` is over the arrival window, no longer over the whole run.
/// 3: fleet reports are the same document as the others: their `outcomes` is the map of
/// client results, the said-vs-mock list and client facts moved into `fleet`, `wall_seconds`
/// is `elapsed_s`, `mock_url` is `target` (benches/SCHEMA.md, "Migrating from version 2").
pub const SCHEMA_VERSION: u32 = 3;

/// The one report of every mode: polling (`load run`), raw (`load raw`), merged (`load
/// merge`) and fleet (`load fleet`). The sections every run measures are always there (the
/// windows, the series, the requests, the outcomes); a section only some modes measure is an
/// `Option` each mode fills or leaves out, so the JSON never holds a zero nobody counted.
/// Thresholds, `--compare`, the text, the JSON and the HTML all read this one value, through
/// [`Report::value`] and the names in [`crate::metrics`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// `polling` (create then poll each validation to its end), `raw-get` / `raw-create`, or
    /// `fleet` (a client program run once per validation against a mock).
    pub mode: String,
    /// The server under load (fleet runs: the mock the clients talked to).
    pub target: String,
    /// Wall time from the first intended arrival to the last response, seconds (fleet runs:
    /// to the end of the quiet window after the last client).
    pub elapsed_s: f64,
    /// How the run was made: command line, version, seed.
    #[serde(default)]
    pub run: RunInfo,
    /// The arrival window and the drain after it, each with its requests and rate. Absent
    /// (zeros) in version 1 reports.
    #[serde(default)]
    pub windows: Windows,
    /// The busiest second of the arrival window over its mean.
    #[serde(default)]
    pub rate: Peaks,
    /// Requests in each second of the run, by answer.
    #[serde(default)]
    pub per_second: PerSecond,
    /// Latency percentiles of each second (polling mode; empty in the others).
    #[serde(default, skip_serializing_if = "LatencyPerSecond::is_empty")]
    pub latency_per_second: LatencyPerSecond,
    /// `--poll-deadline` in seconds (polling and fleet runs; 0 otherwise): why a `deadline`
    /// outcome is one.
    #[serde(default)]
    pub poll_deadline_s: f64,
    /// Server runs: the schedule against what was achieved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<Arrivals>,
    pub requests: Requests,
    /// Server runs: `POST /v1/validations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Endpoint>,
    /// Server runs: `GET /v1/validations/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Endpoint>,
    /// Server runs: from each validation's intended start to the response that showed it
    /// terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_terminal_ms: Option<Percentiles>,
    /// Fleet runs: from the moment the mock's validation became terminal to the first request
    /// that saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_lag_ms: Option<Percentiles>,
    /// Fleet runs: client run time per validation, from start to exit (or the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_ms: Option<Percentiles>,
    /// Fleet runs: how long arrivals waited for a free `--concurrency` slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_delay_ms: Option<Percentiles>,
    /// Server runs: validations started, finished, dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validations: Option<Validations>,
    /// Finished validations by how they ended. Server runs: `success`, the `failure_status`
    /// (`declined`, `expired`, …), `deadline` (still pending at `--poll-deadline`),
    /// `create_failed`, `cut` (stopped by the request cap). Fleet runs: what each client run
    /// came to ([`FLEET_OUTCOMES`]).
    #[serde(default)]
    pub outcomes: BTreeMap<String, u64>,
    /// Server runs: failed requests by class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Errors>,
    /// Fleet runs: how the mock pushed back and how the clients took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushback: Option<Pushback>,
    /// Fleet runs: the clients, what they reported against what the mock had, and problems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetSection>,
    /// The latency histograms themselves, so `load merge` can combine runs from several
    /// machines with exact percentiles (server runs; reports written before the key existed
    /// read as `None` and cannot be merged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<EncodedHistograms>,
    /// The `--threshold` verdicts on this report, as the run judged them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdResult>,
}

/// How a run was made, for whoever reads the report later.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    /// The command line as typed (shell-quoted); empty in reports written before version 3.
    #[serde(default)]
    pub command_line: String,
    /// The `truidentidad-mock` version that wrote the report.
    #[serde(default)]
    pub version: String,
    /// `--seed` (or the one picked from the time of day); absent for runs without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl RunInfo {
    /// This build, with the given command line and seed.
    pub fn new(command_line: String, seed: Option<u64>) -> Self {
        RunInfo {
            command_line,
            version: env!("CARGO_PKG_VERSION").to_string(),
            seed,
        }
    }
}

/// One `--threshold` and what the report gave it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThresholdResult {
    /// The threshold as written, e.g. `poll.p99<50ms`.
    pub threshold: String,
    /// The report's value of its metric (latencies in ms, ratios as fractions; `null` when
    /// the run does not measure it).
    pub actual: Option<f64>,
    pub passed: bool,
}

/// The fleet run's own facts: the client, what each reported against what the mock had.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FleetSection {
    /// The command or URL driven.
    pub client: String,
    /// Arrivals the schedule held.
    pub planned: u64,
    /// Client runs started.
    pub run: u64,
    /// Runs that exited 0 with a result line naming an outcome (right or wrong).
    pub reported: u64,
    /// Validations that became terminal without their client ever seeing it.
    pub undetected: u64,
    /// What the clients reported against what the mock ended with.
    pub said_vs_mock: Vec<SaidVsMock>,
    /// Polls the mock received per validation.
    pub polls_per_validation: CountSummary,
    /// Set when the mock's journal could not hold every request (figures are incomplete).
    pub journal_overflow: bool,
    /// The first client runs that failed or reported a wrong outcome.
    pub problems: Vec<Problem>,
}

/// How many client runs reported `said` while the mock's validation ended `mock` (`-`: no
/// result line, or no validation).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SaidVsMock {
    pub said: String,
    pub mock: String,
    pub count: u64,
}

/// The `outcomes` keys of a fleet run, in the order the summary names them: what each client
/// run came to against what the mock had.
pub const FLEET_OUTCOMES: [(&str, &str); 7] = [
    ("right", "right"),
    ("wrong", "wrong"),
    (
        "deadline",
        "deadline (pending, and still pending in the mock)",
    ),
    ("gave_up", "gave up (pending after the mock ended it)"),
    ("failed", "failed"),
    ("killed", "killed"),
    ("unreachable", "unreachable"),
];

/// Each latency histogram, HdrHistogram V2 + DEFLATE, base64 ([`crate::stats::Latency::encode`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncodedHistograms {
    pub create: String,
    pub poll: String,
    pub time_to_terminal: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Arrivals {
    /// Mean arrival rate the schedule asked for, per second.
    pub target_per_second: f64,
    /// Validations that arrived (started or dropped) per second of the arrival window.
    pub achieved_per_second: f64,
    /// Arrivals the schedule held.
    pub scheduled: u64,
}

/// The `requests` section: server runs (polling, raw, merged) fill
/// `retried`, fleet runs `after_terminal` and `retries`; a key a run does not measure is left
/// out of the JSON rather than written as a zero nobody counted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Requests {
    /// Requests that got a response or failed, creates and polls together.
    pub total: u64,
    /// Requests per second over the arrival window (`windows.arrivals.per_second`); in a
    /// version 1 report, over the whole run, drain included.
    pub per_second: f64,
    /// Server runs: requests sent a second time on a new connection because the reused
    /// keep-alive connection they first went out on closed before answering
    /// ([`crate::pool`]); each is still one request in `total`. A key added within schema
    /// version 1: a `--compare` baseline written before it existed still reads (as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<u64>,
    /// Fleet runs: requests after the client already had its terminal answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_terminal: Option<u64>,
    /// Fleet runs: requests sent right after a failed one (429, 5xx, no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    /// Requests sent to this endpoint (including failed ones).
    pub count: u64,
    /// Measured from the *intended* send time (coordinated omission corrected).
    pub latency_ms: Percentiles,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Validations {
    pub started: u64,
    /// Reached an outcome (terminal, deadline, failed create or cut).
    pub finished: u64,
    /// Arrivals not started because `--max-in-flight` validations were already running.
    pub dropped: u64,
    /// Mean GETs per validation that got a validation id.
    pub polls_per_validation: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Errors {
    pub total: u64,
    pub connect: u64,
    pub timeout: u64,
    #[serde(rename = "4xx")]
    pub client_4xx: u64,
    #[serde(rename = "429")]
    pub too_many: u64,
    #[serde(rename = "5xx")]
    pub server_5xx: u64,
    pub other: u64,
}

/// What the runner knows that the counters do not.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub mode: String,
    pub target: String,
    pub elapsed: Duration,
    /// How long arrivals lasted (raw mode: its `--duration`); the drain is the rest.
    pub arrival_window: Duration,
    /// Polling mode's `--poll-deadline`.
    pub poll_deadline: Option<Duration>,
    pub target_rate: f64,
    pub scheduled: u64,
    /// Requests the client's pool resent ([`Requests::retried`]).
    pub retried: u64,
    /// Command line and seed, for the report's `run` section.
    pub run: RunInfo,
}

impl Report {
    /// Builds the report from a finished run's counters.
    pub fn from_stats(stats: &Stats, facts: &RunFacts) -> Self {
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let err = |c: ErrorClass| load(&stats.errors[c.index()]);
        let started = load(&stats.started);
        let dropped = load(&stats.dropped);
        let creates = load(&stats.creates);
        let polls = load(&stats.polls);
        let with_id = creates.saturating_sub(err_creates(stats));
        let window = facts.arrival_window.as_secs_f64();
        let create = Stats::snapshot(&stats.create);
        let poll = Stats::snapshot(&stats.poll);
        let time_to_terminal = Stats::snapshot(&stats.time_to_terminal);
        let total = creates + polls;
        let (per_second, during, latency_per_second) = stats
            .timeline
            .get()
            .map_or((PerSecond::default(), total, Default::default()), |t| {
                (t.per_second(), t.during_arrivals(), t.latency_per_second())
            });
        let windows = Windows::split(facts.arrival_window, facts.elapsed, total, during);
        Report {
            run: facts.run.clone(),
            windows,
            rate: per_second.peaks(facts.arrival_window),
            per_second,
            latency_per_second,
            poll_deadline_s: facts.poll_deadline.map_or(0.0, |d| round3(d.as_secs_f64())),
            histograms: Some(EncodedHistograms {
                create: create.encode(),
                poll: poll.encode(),
                time_to_terminal: time_to_terminal.encode(),
            }),
            schema_version: SCHEMA_VERSION,
            mode: facts.mode.clone(),
            target: facts.target.clone(),
            elapsed_s: round3(facts.elapsed.as_secs_f64()),
            arrivals: Some(Arrivals {
                target_per_second: round3(facts.target_rate),
                achieved_per_second: if window > 0.0 {
                    round3((started + dropped) as f64 / window)
                } else {
                    0.0
                },
                scheduled: facts.scheduled,
            }),
            requests: Requests {
                total,
                per_second: windows.arrivals.per_second,
                retried: Some(facts.retried),
                after_terminal: None,
                retries: None,
            },
            create: Some(Endpoint {
                count: creates,
                latency_ms: round_p(create.summary()),
            }),
            poll: Some(Endpoint {
                count: polls,
                latency_ms: round_p(poll.summary()),
            }),
            time_to_terminal_ms: Some(round_p(time_to_terminal.summary())),
            detection_lag_ms: None,
            end_to_end_ms: None,
            start_delay_ms: None,
            validations: Some(Validations {
                started,
                finished: load(&stats.finished),
                dropped,
                polls_per_validation: if with_id > 0 {
                    round3(polls as f64 / with_id as f64)
                } else {
                    0.0
                },
            }),
            outcomes: stats.outcomes.lock().map(|m| m.clone()).unwrap_or_default(),
            errors: Some(Errors {
                total: stats.errors_total(),
                connect: err(ErrorClass::Connect),
                timeout: err(ErrorClass::Timeout),
                client_4xx: err(ErrorClass::Client4xx),
                too_many: err(ErrorClass::TooMany),
                server_5xx: err(ErrorClass::Server5xx),
                other: err(ErrorClass::Other),
            }),
            pushback: None,
            fleet: None,
            thresholds: Vec::new(),
        }
    }

    /// The percentiles of a latency group of the registry ([`metrics::LATENCY_GROUPS`]);
    /// `None` when this run does not measure it.
    pub fn latency(&self, group: &str) -> Option<&Percentiles> {
        match group {
            "create" => self.create.as_ref().map(|e| &e.latency_ms),
            "poll" => self.poll.as_ref().map(|e| &e.latency_ms),
            "ttt" => self.time_to_terminal_ms.as_ref(),
            "detection_lag" => self.detection_lag_ms.as_ref(),
            "e2e" => self.end_to_end_ms.as_ref(),
            "start_delay" => self.start_delay_ms.as_ref(),
            _ => None,
        }
    }

    /// The value of a [`crate::metrics`] name (latencies in ms, ratios as fractions); `None`
    /// for an unknown name or a figure this run's mode does not measure. The one lookup
    /// thresholds, `--compare` and the HTML read.
    pub fn value(&self, metric: &str) -> Option<f64> {
        if metrics::kind(metric)? == Kind::Latency {
            let (group, stat) = metric.split_once('.')?;
            return self.latency(group)?.stat(stat);
        }
        let outcome = |k: &str| self.outcomes.get(k).copied().unwrap_or(0) as f64;
        let fleet = self.fleet.as_ref();
        let polls = fleet.map(|f| f.polls_per_validation);
        Some(match metric {
            "requests.per_second" => self.requests.per_second,
            "requests.total" => self.requests.total as f64,
            "drain.seconds" => self.windows.drain.seconds,
            "drain.requests" => self.windows.drain.requests as f64,
            "peak_to_mean" => self.rate.peak_to_mean,
            // Polling runs count `deadline` outcomes too: a validation still pending at the end.
            "deadline.total" => outcome("deadline"),
            "errors.total" => self.errors?.total as f64,
            "errors.rate" => self.errors?.total as f64 / (self.requests.total.max(1)) as f64,
            "validations.dropped" => self.validations?.dropped as f64,
            "arrivals.achieved_ratio" => {
                let a = self.arrivals?;
                if a.target_per_second > 0.0 {
                    a.achieved_per_second / a.target_per_second
                } else {
                    1.0
                }
            }
            "polls_per_validation.mean" => polls
                .map(|c| c.mean)
                .or(self.validations.map(|v| v.polls_per_validation))?,
            "polls_per_validation.p50" => polls?.p50 as f64,
            "polls_per_validation.p99" => polls?.p99 as f64,
            "polls_per_validation.max" => polls?.max as f64,
            "requests.after_terminal" => self.requests.after_terminal? as f64,
            "retries.total" => self.requests.retries? as f64,
            // 429s received: the fleet's pushback, or a server run's 429 errors.
            "throttled.total" => self
                .pushback
                .map(|p| p.throttled)
                .or(self.errors.map(|e| e.too_many))? as f64,
            "retry_after.honoured" => self.pushback?.retry_after_honoured,
            "undetected.total" => fleet?.undetected as f64,
            "wrong_outcomes.total" => fleet.map(|_| outcome("wrong"))?,
            "gave_up.total" => fleet.map(|_| outcome("gave_up"))?,
            "client_errors.total" => {
                fleet.map(|_| outcome("failed") + outcome("killed") + outcome("unreachable"))?
            }
            _ => return None,
        })
    }

    /// Whether this is a fleet run (a client driven against a mock) rather than a server run.
    pub fn is_fleet(&self) -> bool {
        self.fleet.is_some()
    }
}

/// Why a file could not be read back as a report (`--compare`, `load merge`).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is a fleet report of schema version {found}, whose fleet keys moved in version {SCHEMA_VERSION} (benches/SCHEMA.md, \"Migrating from version 2\"): re-run it with this version"
    )]
    OldFleet { path: PathBuf, found: u64 },
    #[error(
        "{path} is not the `--json` of a `load` run (schema_version {SCHEMA_VERSION}): {source}"
    )]
    NotAReport {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a `--json` report back. Server reports of versions 1 and 2 read as they are (their
/// keys kept their places; the sections they lack are empty); a fleet report older than
/// version 3 is refused with a message, since its keys moved.
pub fn read(path: &Path) -> Result<Report, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })?;
    let not_a_report = |source| ReadError::NotAReport {
        path: path.into(),
        source,
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(not_a_report)?;
    let found = value["schema_version"].as_u64().unwrap_or(0);
    if value["mode"] == "fleet" && found < u64::from(SCHEMA_VERSION) {
        return Err(ReadError::OldFleet {
            path: path.into(),
            found,
        });
    }
    serde_json::from_value(value).map_err(not_a_report)
}

/// `--compare` of runs of different modes: their figures do not measure the same thing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the baseline is a `{baseline}` run and this is a `{current}` run: --compare compares runs of one mode (a fleet run with a fleet run, a polling run with a polling run)"
)]
pub struct ModesDiffer {
    pub baseline: String,
    pub current: String,
}

/// Whether a baseline of `baseline` mode can be compared with a run of `current` mode.
pub fn comparable(baseline: &str, current: &str) -> Result<(), ModesDiffer> {
    if baseline == current {
        Ok(())
    } else {
        Err(ModesDiffer {
            baseline: baseline.into(),
            current: current.into(),
        })
    }
}

/// Outcomes that are the target's verdict (as opposed to the tool giving up).
pub(crate) fn is_terminal_kind(k: &str) -> bool {
    !matches!(k, "deadline" | "create_failed" | "cut")
}

fn err_creates(stats: &Stats) -> u64 {
    stats
        .outcomes
        .lock()
        .map(|m| m.get("create_failed").copied().unwrap_or(0))
        .unwrap_or(0)
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub(crate) fn round_p(p: Percentiles) -> Percentiles {
    Percentiles {
        p50: round3(p.p50),
        p90: round3(p.p90),
        p99: round3(p.p99),
        p999: round3(p.p999),
        max: round3(p.max),
        mean: round3(p.mean),
    }
}

/// `--compare baseline.json`: the change of each headline figure this mode measures, one line
/// each; runs of different modes are refused ([`ModesDiffer`]).
///
/// Like is compared with like: every rate is over the arrival window of its own run, the
/// drain's length is a row of its own, and a figure a version 1 baseline measured differently
/// (its request rate spanned the drain) is named and left out rather than compared.
pub fn compare(baseline: &Report, current: &Report) -> Result<String, ModesDiffer> {
    comparable(&baseline.mode, &current.mode)?;
    let mut s = String::from("Compared with the baseline:\n");
    let old_rate = baseline.schema_version < 2;
    for name in crate::metrics::COMPARED {
        let unit = crate::metrics::unit(name);
        if old_rate && *name == "requests.per_second" {
            let _ = writeln!(
                s,
                "  {name:<27}not compared: the baseline (schema 1) averaged it over its drain too"
            );
            continue;
        }
        let (Some(old), Some(new)) = (baseline.value(name), current.value(name)) else {
            continue;
        };
        let change = if old == new {
            "  (=)".to_string()
        } else if old == 0.0 {
            "  (new)".to_string()
        } else {
            format!("  ({:+.1}%)", (new - old) / old * 100.0)
        };
        let _ = writeln!(
            s,
            "  {name:<27}{old:>12.3}{unit} -> {new:>12.3}{unit}{change}"
        );
    }
    let (a, b) = (
        baseline.windows.arrivals.seconds,
        current.windows.arrivals.seconds,
    );
    if !old_rate && (a - b).abs() > 0.01 * a.max(b) {
        let _ = writeln!(
            s,
            "  note: the baseline's arrivals lasted {a:.1} s and this run's {b:.1} s; rates are per second of each run's own arrivals"
        );
    }
    Ok(s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report with known figures, for snapshot tests of everything that prints it.
    pub(crate) fn sample() -> Report {
        let p = |base: f64| Percentiles {
            p50: base,
            p90: base * 2.0,
            p99: base * 4.0,
            p999: base * 8.0,
            max: base * 10.0,
            mean: base * 1.5,
        };
        Report {
            schema_version: SCHEMA_VERSION,
            mode: "polling".into(),
            target: "http://127.0.0.1:8080".into(),
            elapsed_s: 30.412,
            run: RunInfo {
                command_line: "truidentidad-mock load run --rate 200 --duration 30s --seed 7"
                    .into(),
                version: "0.0.0-test".into(),
                seed: Some(7),
            },
            windows: Windows {
                arrivals: crate::series::Window::of(30.0, 41_000),
                drain: crate::series::Window::of(0.412, 1_000),
            },
            rate: Peaks {
                peak: 1_420,
                mean: 1_366.667,
                peak_to_mean: 1.039,
            },
            per_second: PerSecond {
                ok: vec![1_300, 1_420, 1_380],
                throttled: vec![0, 2, 0],
                server_error: vec![0, 0, 0],
                no_answer: vec![0, 1, 0],
                other: vec![0, 0, 0],
            },
            latency_per_second: LatencyPerSecond::default(),
            poll_deadline_s: 60.0,
            arrivals: Some(Arrivals {
                target_per_second: 200.0,
                achieved_per_second: 199.967,
                scheduled: 6000,
            }),
            requests: Requests {
                total: 42_000,
                per_second: 1366.667,
                retried: Some(0),
                after_terminal: None,
                retries: None,
            },
            create: Some(Endpoint {
                count: 6000,
                latency_ms: p(0.25),
            }),
            poll: Some(Endpoint {
                count: 36_000,
                latency_ms: p(0.125),
            }),
            time_to_terminal_ms: Some(p(3000.0)),
            detection_lag_ms: None,
            end_to_end_ms: None,
            start_delay_ms: None,
            validations: Some(Validations {
                started: 5990,
                finished: 5990,
                dropped: 10,
                polls_per_validation: 6.01,
            }),
            outcomes: [
                ("declined".to_string(), 900),
                ("expired".to_string(), 300),
                ("success".to_string(), 4790),
            ]
            .into_iter()
            .collect(),
            errors: Some(Errors {
                total: 3,
                connect: 0,
                timeout: 1,
                client_4xx: 0,
                too_many: 2,
                server_5xx: 0,
                other: 0,
            }),
            pushback: None,
            fleet: None,
            histograms: None,
            thresholds: Vec::new(),
        }
    }

    #[test]
    fn summary_text() {
        insta::assert_snapshot!(sample().to_text());
    }

    #[test]
    fn json_schema_keys() {
        insta::assert_json_snapshot!(sample());
    }

    #[test]
    fn json_round_trips() {
        let r = sample();
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn retried_shows_when_nonzero_and_old_reports_without_it_still_read() {
        let mut r = sample();
        r.requests.retried = Some(2);
        assert!(r.to_text().contains(
            "the drain added 1000 in 0.4 s (2427.2/s), 2 retried on a new connection (a kept-alive one closed unanswered)\n"
        ));
        // A report written before the key existed: `--compare` reads it, with no resends.
        let mut old = serde_json::to_value(sample()).unwrap();
        old["requests"]
            .as_object_mut()
            .unwrap()
            .remove("retried")
            .unwrap();
        let mut back: Report = serde_json::from_value(old).unwrap();
        assert_eq!(back.requests.retried, None);
        assert!(!back.to_text().contains("retried"));
        back.requests.retried = Some(0);
        assert_eq!(back, sample());
    }

    #[test]
    fn a_version_1_baseline_reads_and_its_whole_run_rate_is_not_compared() {
        // Version 1: no windows, series or deadline, and a rate over the whole run.
        let mut old = serde_json::to_value(sample()).unwrap();
        let o = old.as_object_mut().unwrap();
        for key in ["windows", "rate", "per_second", "poll_deadline_s"] {
            o.remove(key).unwrap();
        }
        o.insert("schema_version".into(), 1.into());
        let old: Report = serde_json::from_value(old).unwrap();
        let text = compare(&old, &sample()).unwrap();
        assert!(
            text.contains(
                "requests.per_second        not compared: the baseline (schema 1) averaged it over its drain too"
            ),
            "{text}"
        );
        assert!(text.contains("poll.p99"), "{text}");
    }

    #[test]
    fn compare_names_different_arrival_windows() {
        let mut short = sample();
        short.windows.arrivals.seconds = 5.0;
        let text = compare(&short, &sample()).unwrap();
        assert!(
            text.contains("note: the baseline's arrivals lasted 5.0 s and this run's 30.0 s"),
            "{text}"
        );
    }

    #[test]
    fn deadline_outcomes_say_why() {
        let mut r = sample();
        r.outcomes.insert("deadline".into(), 50);
        insta::assert_snapshot!(
            r.to_text().lines().find(|l| l.starts_with("  deadline")).unwrap(),
            @"  deadline      50 still pending at --poll-deadline 60s: the tool stopped polling them, the target had not ended them (an expired-* scenario ends at the validation's timeout, 300 s by default; a longer --poll-deadline sees it)"
        );
    }

    #[test]
    fn compare_text() {
        let base = sample();
        let mut now = sample();
        now.requests.per_second = 1500.0;
        now.poll.as_mut().unwrap().latency_ms.p99 = 1.0;
        now.errors.as_mut().unwrap().total = 0;
        insta::assert_snapshot!(compare(&base, &now).unwrap());
    }

    #[test]
    fn runs_of_different_modes_are_not_compared() {
        let mut fleet = sample();
        fleet.mode = "fleet".into();
        assert_eq!(
            compare(&fleet, &sample()).unwrap_err().to_string(),
            "the baseline is a `fleet` run and this is a `polling` run: --compare compares runs of one mode (a fleet run with a fleet run, a polling run with a polling run)"
        );
    }

    #[test]
    fn a_version_2_fleet_report_is_refused_with_the_way_out() {
        let dir = std::env::temp_dir().join(format!("report-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fleet-v2.json");
        std::fs::write(
            &path,
            r#"{"schema_version": 2, "mode": "fleet", "outcomes": [], "wall_seconds": 4.0}"#,
        )
        .unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(
            e.contains(
                "is a fleet report of schema version 2, whose fleet keys moved in version 3"
            ),
            "{e}"
        );
        assert!(e.contains("re-run it"), "{e}");
        // A version 2 server report reads as it is: its keys kept their places.
        let server = dir.join("server-v2.json");
        let mut old = serde_json::to_value(sample()).unwrap();
        old["schema_version"] = 2.into();
        old.as_object_mut().unwrap().remove("run");
        std::fs::write(&server, old.to_string()).unwrap();
        let back = read(&server).unwrap();
        assert_eq!(back.run, RunInfo::default());
        assert_eq!(back.value("poll.p99"), sample().value("poll.p99"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
