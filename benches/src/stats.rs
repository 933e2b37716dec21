//! What a run measures: latency histograms and counters, shared by the workers.
//!
//! Latencies go into HdrHistograms in microseconds (3 significant digits, up to one hour), so
//! percentiles are exact to 0.1 % whatever the spread, and memory does not grow with the run.
//! Counters are atomics so the progress display reads them without stopping the workers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::outcome::ErrorClass;
use crate::series::{Answered, Timeline};

/// Longest latency a histogram holds (one hour); longer values are clamped to it.
const MAX_MICROS: u64 = 3_600_000_000;

/// An embedded histogram that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        // 3 significant digits, 1 µs .. 1 h: fixed ~100 KiB, never reallocates.
        match Histogram::new_with_bounds(1, MAX_MICROS, 3) {
            Ok(h) => Latency(h),
            Err(_) => unreachable!("the bounds are constants that hdrhistogram accepts"),
        }
    }
}

impl Latency {
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros())
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        self.0.saturating_record(us);
    }

    pub fn add(&mut self, other: &Latency) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The histogram in HdrHistogram's interchange form (V2 with DEFLATE, then base64), as a
    /// JSON report embeds it: any HdrHistogram library reads it, and [`Latency::add`] of
    /// decoded runs gives the exact percentiles of all of them together.
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        let mut bytes = Vec::new();
        // Writing to a Vec cannot fail, and the histogram's own bounds are valid.
        use hdrhistogram::serialization::Serializer as _;
        let _ =
            hdrhistogram::serialization::V2DeflateSerializer::new().serialize(&self.0, &mut bytes);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Reads what [`Latency::encode`] wrote.
    pub fn decode(text: &str) -> Result<Latency, DecodeError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| DecodeError(format!("not base64: {e}")))?;
        let h: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| DecodeError(format!("not an HdrHistogram: {e:?}")))?;
        let mut out = Latency::default();
        out.0
            .add(&h)
            .map_err(|e| DecodeError(format!("values out of range: {e:?}")))?;
        Ok(out)
    }

    /// The summary the report prints, in milliseconds.
    pub fn summary(&self) -> Percentiles {
        if self.0.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50: ms(self.0.value_at_quantile(0.50)),
            p90: ms(self.0.value_at_quantile(0.90)),
            p99: ms(self.0.value_at_quantile(0.99)),
            p999: ms(self.0.value_at_quantile(0.999)),
            max: ms(self.0.max()),
            mean: self.0.mean() / 1000.0,
        }
    }
}

/// Latency percentiles in milliseconds, as the JSON report's `latency_ms` objects hold them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    /// The figure for one of [`crate::metrics::LATENCY_STATS`] (`p50` ... `mean`), `None` for
    /// any other name: thresholds, reports and the exporter all read a stat through here.
    pub fn stat(&self, name: &str) -> Option<f64> {
        Some(match name {
            "p50" => self.p50,
            "p90" => self.p90,
            "p99" => self.p99,
            "p999" => self.p999,
            "max" => self.max,
            "mean" => self.mean,
            _ => return None,
        })
    }
}

/// Everything a run counts, shared by all its tasks.
#[derive(Debug, Default)]
pub struct Stats {
    pub create: Mutex<Latency>,
    pub poll: Mutex<Latency>,
    /// From a validation's intended start to the response that showed it terminal.
    pub time_to_terminal: Mutex<Latency>,
    pub creates: AtomicU64,
    pub polls: AtomicU64,
    pub errors: [AtomicU64; 6],
    pub started: AtomicU64,
    pub finished: AtomicU64,
    pub dropped: AtomicU64,
    pub in_flight: AtomicU64,
    pub outcomes: Mutex<BTreeMap<String, u64>>,
    /// Requests per second by answer, and those within the arrival window; set when the run
    /// starts ([`Stats::begin`]).
    pub timeline: std::sync::OnceLock<Timeline>,
}

impl Stats {
    pub fn requests(&self) -> u64 {
        self.creates.load(Ordering::Relaxed) + self.polls.load(Ordering::Relaxed)
    }

    pub fn error(&self, class: ErrorClass) {
        self.errors[class.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().map(|e| e.load(Ordering::Relaxed)).sum()
    }

    pub fn outcome(&self, kind: &str) {
        if let Ok(mut m) = self.outcomes.lock() {
            *m.entry(kind.to_string()).or_insert(0) += 1;
        }
    }

    /// Starts the run's timeline (once; a second call keeps the first).
    pub fn begin(&self, timeline: Timeline) {
        let _ = self.timeline.set(timeline);
    }

    /// Counts a finished request in the timeline, at `at`.
    pub fn answered(&self, at: tokio::time::Instant, answered: Answered) {
        if let Some(t) = self.timeline.get() {
            t.record(at, answered);
        }
    }

    /// Counts a finished request and its latency in the timeline (the polling model; raw
    /// mode's lock-free loop keeps per-worker histograms and no per-second latency).
    pub fn answered_in(&self, at: tokio::time::Instant, answered: Answered, latency: Duration) {
        if let Some(t) = self.timeline.get() {
            t.record(at, answered);
            t.record_latency(at, latency);
        }
    }

    pub fn record(h: &Mutex<Latency>, d: Duration) {
        if let Ok(mut h) = h.lock() {
            h.record(d);
        }
    }

    pub fn snapshot(h: &Mutex<Latency>) -> Latency {
        h.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_inputs() {
        let mut h = Latency::default();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        let p = h.summary();
        // 3 significant digits: each value within 0.1 % of the exact order statistic.
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 1e-9;
        assert!(close(p.p50, 500.0), "{p:?}");
        assert!(close(p.p90, 900.0), "{p:?}");
        assert!(close(p.p99, 990.0), "{p:?}");
        assert!(close(p.p999, 999.0), "{p:?}");
        assert!(close(p.max, 1000.0), "{p:?}");
        assert!(close(p.mean, 500.5), "{p:?}");
    }

    #[test]
    fn one_outlier_shows_in_the_tail_only() {
        let mut h = Latency::default();
        for _ in 0..999 {
            h.record(Duration::from_micros(200));
        }
        h.record(Duration::from_secs(2));
        let p = h.summary();
        assert!((p.p99 - 0.2).abs() < 0.001, "{p:?}");
        assert!((p.max - 2000.0).abs() < 2.0, "{p:?}");
    }

    #[test]
    fn empty_is_zero_and_huge_is_clamped() {
        assert_eq!(Latency::default().summary(), Percentiles::default());
        let mut h = Latency::default();
        h.record(Duration::from_secs(10 * 3600));
        assert_eq!(h.count(), 1);
        assert!(h.summary().max >= 3_600_000.0 * 0.999);
    }

    proptest::proptest! {
        /// What a report embeds reads back as the same histogram, and the sum of two runs'
        /// decoded histograms has exactly the percentiles of one run that saw both.
        #[test]
        fn encoded_histograms_merge_exactly(
            a in proptest::collection::vec(1u64..5_000_000, 0..200),
            b in proptest::collection::vec(1u64..5_000_000, 0..200),
        ) {
            let fill = |v: &[u64]| {
                let mut h = Latency::default();
                for us in v {
                    h.record(Duration::from_micros(*us));
                }
                h
            };
            let (ha, hb) = (fill(&a), fill(&b));
            let mut merged = Latency::decode(&ha.encode()).unwrap();
            merged.add(&Latency::decode(&hb.encode()).unwrap());
            let together = fill(&[a.clone(), b.clone()].concat());
            proptest::prop_assert_eq!(merged.summary(), together.summary());
            proptest::prop_assert_eq!(merged.count(), (a.len() + b.len()) as u64);
        }
    }

    #[test]
    fn a_damaged_histogram_is_an_error() {
        assert!(
            Latency::decode("%%%")
                .unwrap_err()
                .to_string()
                .starts_with("not base64")
        );
        assert!(
            Latency::decode("aGVsbG8=")
                .unwrap_err()
                .to_string()
                .starts_with("not an HdrHistogram")
        );
    }

    #[test]
    fn merged_histograms_count_both() {
        let mut a = Latency::default();
        let mut b = Latency::default();
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(3));
        a.add(&b);
        assert_eq!(a.count(), 2);
        assert!((a.summary().max - 3.0).abs() < 0.01);
    }
}
