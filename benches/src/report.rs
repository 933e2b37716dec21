//! The run report: the `--json` document (a stable, versioned schema, see `SCHEMA.md`) and
//! the human summary printed at the end of a run.
//!
//! The same [`Report`] value feeds the text, the JSON, thresholds and `--compare`, so what a
//! user reads and what CI checks can never disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::outcome::ErrorClass;
use crate::series::{LatencyPerSecond, Peaks, PerSecond, Windows};
use crate::stats::{Percentiles, Stats};

/// Bumped only when a key changes meaning or disappears; new keys may appear at any version.
/// One version for every report the load tool writes (polling, raw, fleet, merged).
/// 2: `requests.per_second` is over the arrival window, no longer over the whole run
/// (benches/SCHEMA.md, "Migrating from version 1").
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// `polling` (create then poll each validation to its end) or `raw-get` / `raw-create`.
    pub mode: String,
    pub target: String,
    /// Wall time from the first intended arrival to the last response, seconds.
    pub elapsed_s: f64,
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
    /// Latency percentiles of each second (polling mode; empty in raw and merged reports).
    #[serde(default, skip_serializing_if = "LatencyPerSecond::is_empty")]
    pub latency_per_second: LatencyPerSecond,
    /// `--poll-deadline` in seconds (polling mode; 0 otherwise): why a `deadline` outcome is one.
    #[serde(default)]
    pub poll_deadline_s: f64,
    pub arrivals: Arrivals,
    pub requests: Requests,
    pub create: Endpoint,
    pub poll: Endpoint,
    /// From each validation's intended start to the response that showed it terminal.
    pub time_to_terminal_ms: Percentiles,
    pub validations: Validations,
    /// Finished validations by how they ended: `success`, the `failure_status` (`declined`,
    /// `expired`, …), `deadline` (still pending at `--poll-deadline`), `create_failed`,
    /// `cut` (stopped by the request cap).
    pub outcomes: BTreeMap<String, u64>,
    pub errors: Errors,
    /// The latency histograms themselves, so `load merge` can combine runs from several
    /// machines with exact percentiles. A key added within schema version 1: reports written
    /// before it read as `None` (and cannot be merged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<EncodedHistograms>,
}

/// Each latency histogram, HdrHistogram V2 + DEFLATE, base64 ([`crate::stats::Latency::encode`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncodedHistograms {
    pub create: String,
    pub poll: String,
    pub time_to_terminal: String,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Arrivals {
    /// Mean arrival rate the schedule asked for, per second.
    pub target_per_second: f64,
    /// Validations that arrived (started or dropped) per second of the arrival window.
    pub achieved_per_second: f64,
    /// Arrivals the schedule held.
    pub scheduled: u64,
}

/// The `requests` section, one type for every report: server runs (polling, raw, merged) fill
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

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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
            arrivals: Arrivals {
                target_per_second: round3(facts.target_rate),
                achieved_per_second: if window > 0.0 {
                    round3((started + dropped) as f64 / window)
                } else {
                    0.0
                },
                scheduled: facts.scheduled,
            },
            requests: Requests {
                total,
                per_second: windows.arrivals.per_second,
                retried: Some(facts.retried),
                after_terminal: None,
                retries: None,
            },
            create: Endpoint {
                count: creates,
                latency_ms: round_p(create.summary()),
            },
            poll: Endpoint {
                count: polls,
                latency_ms: round_p(poll.summary()),
            },
            time_to_terminal_ms: round_p(time_to_terminal.summary()),
            validations: Validations {
                started,
                finished: load(&stats.finished),
                dropped,
                polls_per_validation: if with_id > 0 {
                    round3(polls as f64 / with_id as f64)
                } else {
                    0.0
                },
            },
            outcomes: stats.outcomes.lock().map(|m| m.clone()).unwrap_or_default(),
            errors: Errors {
                total: stats.errors_total(),
                connect: err(ErrorClass::Connect),
                timeout: err(ErrorClass::Timeout),
                client_4xx: err(ErrorClass::Client4xx),
                too_many: err(ErrorClass::TooMany),
                server_5xx: err(ErrorClass::Server5xx),
                other: err(ErrorClass::Other),
            },
        }
    }

    /// The value of a [`crate::metrics`] name (latencies in ms, ratios as fractions); `None`
    /// for a metric only fleet runs have.
    pub fn value(&self, metric: &str) -> Option<f64> {
        let report = self;
        if let Some((group, stat)) = metric
            .split_once('.')
            .filter(|_| crate::metrics::kind(metric) == Some(crate::metrics::Kind::Latency))
        {
            let p = match group {
                "create" => &report.create.latency_ms,
                "poll" => &report.poll.latency_ms,
                "ttt" => &report.time_to_terminal_ms,
                _ => return None,
            };
            return p.stat(stat);
        }
        Some(match metric {
            "requests.per_second" => report.requests.per_second,
            "requests.total" => report.requests.total as f64,
            "errors.total" => report.errors.total as f64,
            "errors.rate" => report.errors.total as f64 / (report.requests.total.max(1)) as f64,
            "validations.dropped" => report.validations.dropped as f64,
            "drain.seconds" => report.windows.drain.seconds,
            "drain.requests" => report.windows.drain.requests as f64,
            "peak_to_mean" => report.rate.peak_to_mean,
            "arrivals.achieved_ratio" => {
                if report.arrivals.target_per_second > 0.0 {
                    report.arrivals.achieved_per_second / report.arrivals.target_per_second
                } else {
                    1.0
                }
            }
            _ => return None,
        })
    }

    /// The summary printed at the end of a run.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let w = &self.windows;
        let _ = writeln!(
            s,
            "Load run against {} ({}), {:.1} s: {:.1} s of arrivals, then {:.1} s of drain",
            self.target, self.mode, self.elapsed_s, w.arrivals.seconds, w.drain.seconds
        );
        if self.mode == "polling" {
            let _ = writeln!(
                s,
                "  arrivals      {:.1}/s achieved of {:.1}/s target ({} scheduled)",
                self.arrivals.achieved_per_second,
                self.arrivals.target_per_second,
                self.arrivals.scheduled
            );
            let v = &self.validations;
            let _ = writeln!(
                s,
                "  validations   {} started, {} finished, {} dropped (in-flight cap), {:.2} polls each",
                v.started, v.finished, v.dropped, v.polls_per_validation
            );
        }
        let _ = write!(
            s,
            "  requests      {} total: {}",
            self.requests.total,
            w.describe()
        );
        // Only when it happened: a resend is rare, and the line stays as it was otherwise.
        if let Some(retried) = self.requests.retried.filter(|n| *n > 0) {
            let _ = write!(
                s,
                ", {retried} retried on a new connection (a kept-alive one closed unanswered)"
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "  waves         {}", self.rate.describe());
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  latency (ms)      count        p50        p90        p99      p99.9        max"
        );
        let mut row = |name: &str, count: u64, p: &Percentiles| {
            if count > 0 {
                let _ = writeln!(
                    s,
                    "  {name:<14}{count:>9}{:>11.3}{:>11.3}{:>11.3}{:>11.3}{:>11.3}",
                    p.p50, p.p90, p.p99, p.p999, p.max
                );
            }
        };
        row("create", self.create.count, &self.create.latency_ms);
        row("poll", self.poll.count, &self.poll.latency_ms);
        row(
            "to terminal",
            self.outcomes
                .iter()
                .filter(|(k, _)| is_terminal_kind(k))
                .map(|(_, n)| n)
                .sum(),
            &self.time_to_terminal_ms,
        );
        if !self.outcomes.is_empty() {
            let _ = writeln!(s);
            let list: Vec<String> = self
                .outcomes
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(s, "  outcomes      {}", list.join(", "));
            if let Some(n) = self.outcomes.get("deadline").filter(|n| **n > 0) {
                let _ = writeln!(
                    s,
                    "  deadline      {n} still pending at --poll-deadline {}s: the tool stopped polling them, the target had not ended them (an expired-* scenario ends at the validation's timeout, 300 s by default; a longer --poll-deadline sees it)",
                    self.poll_deadline_s
                );
            }
        }
        let e = &self.errors;
        if e.total == 0 {
            let _ = writeln!(s, "  errors        none");
        } else {
            let _ = writeln!(
                s,
                "  errors        {} (connect {}, timeout {}, 4xx {}, 429 {}, 5xx {}, other {})",
                e.total, e.connect, e.timeout, e.client_4xx, e.too_many, e.server_5xx, e.other
            );
        }
        s
    }
}

/// Outcomes that are the target's verdict (as opposed to the tool giving up).
fn is_terminal_kind(k: &str) -> bool {
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

/// `--compare baseline.json`: the change of each headline figure, one line each.
///
/// Like is compared with like: every rate is over the arrival window of its own run, the
/// drain's length is a row of its own, and a figure a version 1 baseline measured differently
/// (its request rate spanned the drain) is named and left out rather than compared.
pub fn compare(baseline: &Report, current: &Report) -> String {
    let mut s = String::from("Compared with the baseline:\n");
    let old_rate = baseline.schema_version < 2;
    for name in crate::metrics::COMPARED {
        let unit = crate::metrics::unit(name);
        if old_rate && *name == "requests.per_second" {
            let _ = writeln!(
                s,
                "  {name:<22}not compared: the baseline (schema 1) averaged it over its drain too"
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
            "  {name:<22}{old:>12.3}{unit} -> {new:>12.3}{unit}{change}"
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
    s
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
            arrivals: Arrivals {
                target_per_second: 200.0,
                achieved_per_second: 199.967,
                scheduled: 6000,
            },
            requests: Requests {
                total: 42_000,
                per_second: 1366.667,
                retried: Some(0),
                after_terminal: None,
                retries: None,
            },
            create: Endpoint {
                count: 6000,
                latency_ms: p(0.25),
            },
            poll: Endpoint {
                count: 36_000,
                latency_ms: p(0.125),
            },
            time_to_terminal_ms: p(3000.0),
            validations: Validations {
                started: 5990,
                finished: 5990,
                dropped: 10,
                polls_per_validation: 6.01,
            },
            outcomes: [
                ("declined".to_string(), 900),
                ("expired".to_string(), 300),
                ("success".to_string(), 4790),
            ]
            .into_iter()
            .collect(),
            errors: Errors {
                total: 3,
                connect: 0,
                timeout: 1,
                client_4xx: 0,
                too_many: 2,
                server_5xx: 0,
                other: 0,
            },
            histograms: None,
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
        let text = compare(&old, &sample());
        assert!(
            text.contains(
                "requests.per_second   not compared: the baseline (schema 1) averaged it over its drain too"
            ),
            "{text}"
        );
        assert!(text.contains("poll.p99"), "{text}");
    }

    #[test]
    fn compare_names_different_arrival_windows() {
        let mut short = sample();
        short.windows.arrivals.seconds = 5.0;
        let text = compare(&short, &sample());
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
        now.poll.latency_ms.p99 = 1.0;
        now.errors.total = 0;
        insta::assert_snapshot!(compare(&base, &now));
    }
}
