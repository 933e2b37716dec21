//! Prometheus metrics, served at `GET /_mock/metrics`.
//!
//! The request path only adds to atomics in fixed arrays indexed by request kind and status
//! code: no lock, no hash lookup, no allocation. prometheus-client's `Family` was the obvious
//! alternative, but it finds a series by hashing its labels under a lock on every increment,
//! and pre-creating every kind × status series up front would print thousands of zeros. So a
//! scrape reads the atomics into a [`Snapshot`], which prometheus-client encodes as a
//! [`Collector`], printing only the series that have counted something.
//!
//! Counters only go up, as Prometheus expects: `POST /_mock/reset` does not clear them. The
//! validation gauges are read from the store at scrape time (one pass over every record, the
//! scrape's cost, not the request path's).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use truidentidad_scenarios::{Observation, ValidationStatus};

use crate::journal::{AppliedFault, FaultEffect, Kind};

/// The `Content-Type` of the Prometheus text format the endpoint answers with.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

const KINDS: usize = Kind::ALL.len();
/// Status codes 100–599 each have a slot; slot 0 is "no response" (a connection fault, or
/// the client closed first), and anything else a response could not carry.
const STATUSES: usize = 600;

/// Upper bounds of the latency buckets, in seconds: from a poll answered from memory
/// (~0.1 ms) to a scenario's longest stalls.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The faults a scenario can inject, as the `fault` label names them.
const FAULTS: [&str; 8] = [
    "delay",
    "http_error",
    "slow_body",
    "malformed_body",
    "empty_body",
    "connection_reset",
    "connection_close",
    "stall",
];

/// The server's counters; one per [`AppState`].
#[derive(Debug)]
pub struct Metrics {
    requests: Box<[[AtomicU64; STATUSES]; KINDS]>,
    latency: [Histogram; KINDS],
    faults: [AtomicU64; FAULTS.len()],
    open_connections: AtomicI64,
}

/// One latency histogram: a count per bucket (the last one past every bound) and the sum.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        let i = LATENCY_BUCKETS.partition_point(|b| *b < secs);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Box::new(std::array::from_fn(|_| {
                std::array::from_fn(|_| AtomicU64::new(0))
            })),
            latency: Default::default(),
            faults: Default::default(),
            open_connections: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one finished request; the recorder calls it once per request.
    pub fn record(&self, kind: Kind, status: u16, latency: Duration, fault: &AppliedFault) {
        let k = kind as usize;
        let s = usize::from(status);
        let s = if (100..STATUSES).contains(&s) { s } else { 0 };
        self.requests[k][s].fetch_add(1, Ordering::Relaxed);
        self.latency[k].observe(latency);
        if fault.delay.is_some() {
            self.faults[0].fetch_add(1, Ordering::Relaxed);
        }
        if let Some(effect) = fault.effect {
            let i = match effect {
                FaultEffect::Status { .. } => 1,
                FaultEffect::SlowBody => 2,
                FaultEffect::MalformedBody => 3,
                FaultEffect::EmptyBody => 4,
                FaultEffect::Reset => 5,
                FaultEffect::Close => 6,
                FaultEffect::Stall(_) => 7,
            };
            self.faults[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a scrape reads from outside the counters: the store's validations and the journal's
/// losses. The caller (the state, which owns both) gathers them, so this module depends on
/// nothing above it.
#[derive(Debug, Default)]
pub struct Gauges {
    /// (scenario, status label from [`status_label`]) → validations stored now.
    pub validations: BTreeMap<(String, &'static str), u64>,
    pub evicted: u64,
    pub journal_dropped: u64,
}

impl Metrics {
    /// The metrics in the Prometheus text format (version 0.0.4), as `GET /_mock/metrics`
    /// answers.
    pub fn render(&self, gauges: Gauges) -> String {
        text("truidentidad_mock", Snapshot::take(self, gauges))
    }
}

/// One scrape's figures in the Prometheus text format, every name under `prefix`; the load
/// tool's `--metrics-addr` writes its own figures through this too.
pub fn text(prefix: &str, figures: impl Collector) -> String {
    let mut registry = Registry::with_prefix(prefix);
    registry.register_collector(Box::new(figures));
    let mut out = String::new();
    // Writing into a `String` cannot fail, and every name and label here is fixed or a
    // scenario name (which the text encoder escapes).
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// The figures of one scrape, read from the atomics and the store.
#[derive(Debug)]
struct Snapshot {
    /// (kind, status label) → count, only those above zero.
    requests: Vec<(&'static str, String, u64)>,
    /// Per kind that saw a request.
    latency: Vec<KindLatency>,
    faults: Vec<(&'static str, u64)>,
    /// (scenario, status) → validations stored now.
    validations: BTreeMap<(String, &'static str), u64>,
    evicted: u64,
    journal_dropped: u64,
    open_connections: i64,
}

/// One kind's latency histogram as a scrape read it.
#[derive(Debug)]
struct KindLatency {
    kind: &'static str,
    /// (upper bound, count in that bucket alone).
    buckets: Vec<(f64, u64)>,
    count: u64,
    sum_seconds: f64,
}

impl Snapshot {
    fn take(m: &Metrics, gauges: Gauges) -> Self {
        let mut requests = Vec::new();
        let mut latency = Vec::new();
        for kind in Kind::ALL {
            for (status, n) in m.requests[kind as usize].iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let label = if status == 0 {
                        "none".to_string()
                    } else {
                        status.to_string()
                    };
                    requests.push((kind.as_str(), label, n));
                }
            }
            let h = &m.latency[kind as usize];
            let counts: Vec<u64> = h
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            let count: u64 = counts.iter().sum();
            if count > 0 {
                let buckets = LATENCY_BUCKETS.iter().copied().zip(counts).collect();
                let sum = Duration::from_nanos(h.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
                latency.push(KindLatency {
                    kind: kind.as_str(),
                    buckets,
                    count,
                    sum_seconds: sum,
                });
            }
        }
        let faults = FAULTS
            .iter()
            .zip(&m.faults)
            .map(|(name, n)| (*name, n.load(Ordering::Relaxed)))
            .collect();
        Snapshot {
            requests,
            latency,
            faults,
            validations: gauges.validations,
            evicted: gauges.evicted,
            journal_dropped: gauges.journal_dropped,
            open_connections: m.open_connections.load(Ordering::Relaxed),
        }
    }
}

/// The `status` label of a validation in the `validations` gauge: `pending`, `success`, or
/// the failure status.
pub fn status_label(o: &Observation) -> &'static str {
    match o.status {
        ValidationStatus::Pending => "pending",
        ValidationStatus::Success => "success",
        ValidationStatus::Failure => o
            .outcome
            .and_then(|x| x.failure_status())
            .unwrap_or("failure"),
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "requests",
            "Requests answered, by the surface they reached (kind) and the status sent (none: the connection ended without a response)",
            None,
            MetricType::Counter,
        )?;
        for (kind, status, n) in &self.requests {
            let labels = [("kind", *kind), ("status", status.as_str())];
            ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "request_duration",
            "Time from a request's arrival to its answer, by kind",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for l in &self.latency {
            let labels = [("kind", l.kind)];
            family
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(l.sum_seconds, l.count, &l.buckets, None)?;
        }
        counters(
            &mut encoder,
            (
                "faults_injected",
                "Faults scenarios applied to responses, by fault",
            ),
            "fault",
            &self.faults,
        )?;
        let mut family = encoder.encode_descriptor(
            "validations",
            "Validations stored now, by scenario and status (pending, success, declined, expired, system_error)",
            None,
            MetricType::Gauge,
        )?;
        for ((scenario, status), n) in &self.validations {
            let labels = [("scenario", scenario.as_str()), ("status", status)];
            ConstGauge::new(*n as i64).encode(family.encode_family(&labels)?)?;
        }
        ConstCounter::new(self.evicted).encode(encoder.encode_descriptor(
            "validations_evicted",
            "Finished validations evicted to stay under --max-validations (since start or the last reset)",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(self.journal_dropped).encode(encoder.encode_descriptor(
            "journal_dropped",
            "Journal entries dropped to stay under --journal-capacity (since start or the last reset)",
            None,
            MetricType::Counter,
        )?)?;
        ConstGauge::new(self.open_connections).encode(encoder.encode_descriptor(
            "open_connections",
            "Client connections open now",
            None,
            MetricType::Gauge,
        )?)?;
        Ok(())
    }
}

/// A counter family with one label: `(name, help)`, then each `(label value, count)`.
pub fn counters<V: AsRef<str>>(
    encoder: &mut DescriptorEncoder,
    (name, help): (&str, &str),
    label: &str,
    series: &[(V, u64)],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in series {
        let labels = [(label, value.as_ref())];
        ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_the_first_bucket_at_or_above_it() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_micros(101));
        h.observe(Duration::from_secs(60));
        let counts: Vec<u64> = h
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(
            counts[0], 1,
            "0.1 ms is at the first bound (le is inclusive)"
        );
        assert_eq!(counts[1], 1);
        assert_eq!(counts[LATENCY_BUCKETS.len()], 1, "past every bound");
        assert_eq!(h.sum_nanos.load(Ordering::Relaxed), 60_000_201_000);
    }

    #[test]
    fn statuses_outside_http_go_to_the_none_slot() {
        let m = Metrics::default();
        let f = AppliedFault::default();
        m.record(Kind::Poll, 0, Duration::ZERO, &f);
        m.record(Kind::Poll, 42, Duration::ZERO, &f);
        m.record(Kind::Poll, 200, Duration::ZERO, &f);
        assert_eq!(
            m.requests[Kind::Poll as usize][0].load(Ordering::Relaxed),
            2
        );
        assert_eq!(
            m.requests[Kind::Poll as usize][200].load(Ordering::Relaxed),
            1
        );
    }
}
