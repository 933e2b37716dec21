//! Time in a run: the arrival window and the drain after it, and the requests answered in each
//! second, by answer. Every mode reports these the same way, so a rate always says which window
//! it is over.
//!
//! A run has two phases. Validations arrive for the **arrival window** (`--duration` or the
//! stages); then the **drain** polls the validations still running until each ends or reaches
//! `--poll-deadline`. A throughput averaged over both is neither the load that was offered nor
//! what the drain cost (a 5 s run whose `expired-*` validations poll for 60 s more averaged to a
//! third of its real rate), so each figure here belongs to one window.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::outcome::{ErrorClass, RequestError};

/// How a request was answered, as the per-second series stacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// 2xx.
    Ok,
    /// 429.
    Throttled,
    /// 5xx.
    ServerError,
    /// No HTTP answer: refused, reset, closed or timed out.
    NoAnswer,
    /// Another 4xx, or an answer that was not the API's.
    Other,
}

impl Answered {
    const COUNT: usize = 5;

    /// The class of a request's result.
    pub fn of<T>(result: &Result<T, RequestError>) -> Self {
        match result {
            Ok(_) => Answered::Ok,
            Err(e) => Answered::of_class(e.class),
        }
    }

    pub fn of_class(class: ErrorClass) -> Self {
        match class {
            ErrorClass::TooMany => Answered::Throttled,
            ErrorClass::Server5xx => Answered::ServerError,
            ErrorClass::Connect | ErrorClass::Timeout => Answered::NoAnswer,
            ErrorClass::Client4xx | ErrorClass::Other => Answered::Other,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Requests in each second of a run, from its start, one list per answer class (the `--json`
/// `per_second` object; the HTML report stacks them).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PerSecond {
    #[serde(rename = "2xx")]
    pub ok: Vec<u64>,
    #[serde(rename = "429")]
    pub throttled: Vec<u64>,
    #[serde(rename = "5xx")]
    pub server_error: Vec<u64>,
    pub no_answer: Vec<u64>,
    pub other: Vec<u64>,
}

impl PerSecond {
    /// Counts one request at `second`.
    pub fn add(&mut self, second: usize, answered: Answered) {
        let len = self.len().max(second + 1);
        self.resize(len);
        self.column_mut(answered)[second] += 1;
    }

    fn column_mut(&mut self, a: Answered) -> &mut Vec<u64> {
        match a {
            Answered::Ok => &mut self.ok,
            Answered::Throttled => &mut self.throttled,
            Answered::ServerError => &mut self.server_error,
            Answered::NoAnswer => &mut self.no_answer,
            Answered::Other => &mut self.other,
        }
    }

    fn resize(&mut self, len: usize) {
        for c in [
            &mut self.ok,
            &mut self.throttled,
            &mut self.server_error,
            &mut self.no_answer,
            &mut self.other,
        ] {
            c.resize(len, 0);
        }
    }

    /// Seconds covered.
    pub fn len(&self) -> usize {
        self.ok.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every answer class together, per second.
    pub fn totals(&self) -> Vec<u64> {
        (0..self.len())
            .map(|i| {
                [
                    &self.ok,
                    &self.throttled,
                    &self.server_error,
                    &self.no_answer,
                    &self.other,
                ]
                .iter()
                .map(|c| c.get(i).copied().unwrap_or(0))
                .sum()
            })
            .collect()
    }

    /// Adds another run's seconds to these, second by second (runs made side by side).
    pub fn merge(&mut self, other: &PerSecond) {
        let len = self.len().max(other.len());
        self.resize(len);
        for (mine, theirs) in [
            (&mut self.ok, &other.ok),
            (&mut self.throttled, &other.throttled),
            (&mut self.server_error, &other.server_error),
            (&mut self.no_answer, &other.no_answer),
            (&mut self.other, &other.other),
        ] {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    /// The busiest second over the mean, within the arrival window only (the drain's thin
    /// tail would lower the mean and inflate the ratio).
    pub fn peaks(&self, arrivals: Duration) -> Peaks {
        Peaks::of(&self.totals(), arrivals)
    }
}

/// How evenly requests spread over the arrival window.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Peaks {
    /// Requests in the busiest second of the arrival window.
    pub peak: u64,
    /// Mean requests per second over the arrival window, from its first request.
    pub mean: f64,
    /// `peak / mean`: near 1 when requests spread evenly, high when they come in waves.
    pub peak_to_mean: f64,
}

impl Peaks {
    /// `busiest second of the arrivals P, mean M/s, peak-to-mean R`.
    pub fn describe(&self) -> String {
        format!(
            "busiest second of the arrivals {}, mean {:.1}/s, peak-to-mean {:.2}",
            self.peak, self.mean, self.peak_to_mean
        )
    }

    /// Over the seconds from the first request to the end of the arrival window (whole
    /// seconds, rounded up: a 2.5 s window covers seconds 0, 1 and 2).
    pub fn of(per_second: &[u64], arrivals: Duration) -> Self {
        let end = (arrivals.as_secs_f64().ceil() as usize)
            .max(1)
            .min(per_second.len());
        let window = &per_second[..end];
        let first = window.iter().position(|n| *n > 0).unwrap_or(window.len());
        let active = &window[first..];
        let peak = active.iter().copied().max().unwrap_or(0);
        let mean = if active.is_empty() {
            0.0
        } else {
            active.iter().sum::<u64>() as f64 / active.len() as f64
        };
        Peaks {
            peak,
            mean: round3(mean),
            peak_to_mean: if mean > 0.0 {
                round3(peak as f64 / mean)
            } else {
                0.0
            },
        }
    }
}

/// Requests over one phase of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// How long the phase lasted.
    pub seconds: f64,
    /// Requests answered (or failed) in it.
    pub requests: u64,
    /// `requests / seconds` (0 for an empty phase).
    pub per_second: f64,
}

impl Window {
    pub fn of(seconds: f64, requests: u64) -> Self {
        Window {
            seconds: round3(seconds),
            requests,
            per_second: if seconds > 0.0 {
                round3(requests as f64 / seconds)
            } else {
                0.0
            },
        }
    }
}

/// The two phases of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Windows {
    /// While validations arrived.
    pub arrivals: Window,
    /// After the last arrival, until the last validation ended.
    pub drain: Window,
}

impl Windows {
    /// `N over the A s of arrivals (R/s), the drain added M in D s (S/s)`, as every summary
    /// says it.
    pub fn describe(&self) -> String {
        let (a, d) = (&self.arrivals, &self.drain);
        format!(
            "{} over the {:.1} s of arrivals ({:.1}/s), the drain added {} in {:.1} s ({:.1}/s)",
            a.requests, a.seconds, a.per_second, d.requests, d.seconds, d.per_second
        )
    }

    /// `arrivals` long, `elapsed` in all, with `total` requests of which `during` arrived
    /// within the arrival window.
    pub fn split(arrivals: Duration, elapsed: Duration, total: u64, during: u64) -> Self {
        let a = arrivals.as_secs_f64();
        Windows {
            arrivals: Window::of(a, during),
            drain: Window::of(
                (elapsed.as_secs_f64() - a).max(0.0),
                total.saturating_sub(during),
            ),
        }
    }
}

/// Latency percentiles of each second of a run, in ms (0 for a second without requests), for
/// the HTML report's chart. Absent from merged reports: they come from per-second histograms
/// a report does not embed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyPerSecond {
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
    pub p99: Vec<f64>,
}

impl LatencyPerSecond {
    pub fn is_empty(&self) -> bool {
        self.p50.is_empty()
    }
}

/// Per-second latency histograms: 2 significant digits (1 %), 1 µs to 60 s (longer is
/// clamped), 32-bit counts. About 10 KiB each, made only for a second that saw a request, so a
/// run costs about 10 KiB per busy second (600 KiB for a minute) on top of its totals.
#[derive(Debug, Default)]
struct PerSecondLatency(Mutex<Vec<Option<Histogram<u32>>>>);

/// Longest latency a per-second histogram holds, in µs.
const INTERVAL_MAX_MICROS: u64 = 60_000_000;

impl PerSecondLatency {
    fn record(&self, second: usize, latency: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(INTERVAL_MAX_MICROS)
            .clamp(1, INTERVAL_MAX_MICROS);
        let Ok(mut all) = self.0.lock() else { return };
        if all.len() <= second {
            all.resize_with(second + 1, || None);
        }
        if all[second].is_none() {
            all[second] = Histogram::new_with_bounds(1, INTERVAL_MAX_MICROS, 2).ok();
        }
        if let Some(h) = &mut all[second] {
            h.saturating_record(us);
        }
    }

    fn percentiles(&self) -> LatencyPerSecond {
        let mut out = LatencyPerSecond::default();
        let Ok(all) = self.0.lock() else { return out };
        for h in all.iter() {
            let q = |q: f64| {
                h.as_ref()
                    .map_or(0.0, |h| round3(h.value_at_quantile(q) as f64 / 1000.0))
            };
            out.p50.push(q(0.5));
            out.p90.push(q(0.9));
            out.p99.push(q(0.99));
        }
        out
    }
}

/// Longest run the live series holds; later requests count in its last second.
const MAX_SECONDS: usize = 24 * 3600;

/// The live recorder of a run's per-second series and of the requests within the arrival
/// window: atomics only, so the workers never take a lock for it.
#[derive(Debug)]
pub struct Timeline {
    origin: Instant,
    arrivals_end: Instant,
    seconds: Box<[[AtomicU64; Answered::COUNT]]>,
    during_arrivals: AtomicU64,
    latency: PerSecondLatency,
}

impl Timeline {
    /// A run starting at `origin` whose arrivals last `arrivals`, expected to end within
    /// `expected` (the series grows no further: later seconds fold into the last one).
    pub fn new(origin: Instant, arrivals: Duration, expected: Duration) -> Self {
        let len = (expected.as_secs() as usize + 2).clamp(1, MAX_SECONDS);
        Timeline {
            origin,
            arrivals_end: origin + arrivals,
            seconds: (0..len).map(|_| Default::default()).collect(),
            during_arrivals: AtomicU64::new(0),
            latency: PerSecondLatency::default(),
        }
    }

    /// Records a request's latency in the second it finished (`at`).
    pub fn record_latency(&self, at: Instant, latency: Duration) {
        self.latency.record(self.second(at), latency);
    }

    /// The latency percentiles of each second.
    pub fn latency_per_second(&self) -> LatencyPerSecond {
        self.latency.percentiles()
    }

    fn second(&self, at: Instant) -> usize {
        (at.saturating_duration_since(self.origin).as_secs() as usize).min(self.seconds.len() - 1)
    }

    /// Counts a request finished at `at`.
    pub fn record(&self, at: Instant, answered: Answered) {
        let s = self.second(at);
        self.seconds[s][answered.index()].fetch_add(1, Ordering::Relaxed);
        if at <= self.arrivals_end {
            self.during_arrivals.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests finished within the arrival window.
    pub fn during_arrivals(&self) -> u64 {
        self.during_arrivals.load(Ordering::Relaxed)
    }

    /// The series up to the last second with a request.
    pub fn per_second(&self) -> PerSecond {
        let mut out = PerSecond::default();
        let used = self
            .seconds
            .iter()
            .rposition(|s| s.iter().any(|c| c.load(Ordering::Relaxed) > 0))
            .map_or(0, |i| i + 1);
        out.resize(used);
        for (i, s) in self.seconds[..used].iter().enumerate() {
            out.ok[i] = s[Answered::Ok.index()].load(Ordering::Relaxed);
            out.throttled[i] = s[Answered::Throttled.index()].load(Ordering::Relaxed);
            out.server_error[i] = s[Answered::ServerError.index()].load(Ordering::Relaxed);
            out.no_answer[i] = s[Answered::NoAnswer.index()].load(Ordering::Relaxed);
            out.other[i] = s[Answered::Other.index()].load(Ordering::Relaxed);
        }
        out
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_to_mean_ignores_the_drain() {
        // Five busy seconds of arrivals, then a long thin drain.
        let mut series = vec![60, 60, 61, 60, 60];
        series.extend([1u64; 40]);
        let p = Peaks::of(&series, Duration::from_secs(5));
        assert_eq!(p.peak, 61);
        assert!((p.mean - 60.2).abs() < 1e-9, "{p:?}");
        assert!(p.peak_to_mean < 1.02, "{p:?}");
    }

    #[test]
    fn a_fractional_window_covers_its_last_partial_second_and_leading_idle_is_skipped() {
        let p = Peaks::of(&[0, 4, 8, 1, 1], Duration::from_millis(2_500));
        assert_eq!((p.peak, p.mean), (8, 6.0));
    }

    #[test]
    fn windows_split_the_requests_and_each_rate_is_over_its_own_time() {
        let w = Windows::split(
            Duration::from_secs(5),
            Duration::from_secs(65),
            7_000,
            2_000,
        );
        assert_eq!(w.arrivals, Window::of(5.0, 2_000));
        assert_eq!(w.arrivals.per_second, 400.0);
        assert_eq!((w.drain.seconds, w.drain.requests), (60.0, 5_000));
        assert!((w.drain.per_second - 83.333).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn the_timeline_counts_by_second_answer_and_window() {
        let origin = Instant::now();
        let t = Timeline::new(origin, Duration::from_secs(2), Duration::from_secs(3));
        t.record(origin, Answered::Ok);
        t.record(origin + Duration::from_millis(1_500), Answered::Throttled);
        t.record(origin + Duration::from_secs(2), Answered::Ok);
        t.record(origin + Duration::from_millis(2_100), Answered::NoAnswer);
        // Far past the expected end: folded into the last second kept.
        t.record(origin + Duration::from_secs(100), Answered::ServerError);
        let s = t.per_second();
        assert_eq!(s.ok, vec![1, 0, 1, 0, 0]);
        assert_eq!(s.throttled, vec![0, 1, 0, 0, 0]);
        assert_eq!(s.no_answer, vec![0, 0, 1, 0, 0]);
        assert_eq!(s.server_error, vec![0, 0, 0, 0, 1]);
        assert_eq!(s.totals(), vec![1, 1, 2, 0, 1]);
        assert_eq!(t.during_arrivals(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn latency_percentiles_are_per_second() {
        let origin = Instant::now();
        let t = Timeline::new(origin, Duration::from_secs(2), Duration::from_secs(3));
        for ms in 1..=100u64 {
            t.record_latency(origin, Duration::from_millis(ms));
        }
        t.record_latency(
            origin + Duration::from_millis(2_500),
            Duration::from_millis(40),
        );
        let l = t.latency_per_second();
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.01;
        assert!(
            close(l.p50[0], 50.0) && close(l.p90[0], 90.0) && close(l.p99[0], 99.0),
            "{l:?}"
        );
        assert_eq!(l.p50[1], 0.0, "no requests in second 1");
        assert!(close(l.p99[2], 40.0), "{l:?}");
    }

    #[test]
    fn merged_series_add_up_second_by_second() {
        let mut a = PerSecond::default();
        a.add(0, Answered::Ok);
        a.add(2, Answered::Throttled);
        let mut b = PerSecond::default();
        b.add(0, Answered::Ok);
        b.add(3, Answered::Ok);
        a.merge(&b);
        assert_eq!(a.totals(), vec![2, 0, 1, 1]);
        assert_eq!(a.ok, vec![2, 0, 0, 1]);
    }
}
