//! `load --metrics-addr`: the run's live figures for Prometheus, the way the mock serves
//! `/_mock/metrics`, so one Grafana board can show the load and the server side by side.
//!
//! A scrape reads the run's shared [`Stats`] (atomics, and the latency histograms under their
//! locks for a moment) and prometheus-client writes the text format. The workers never see
//! the exporter.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use truidentidad_mock_server::metrics::counters;

use crate::outcome::ErrorClass;
use crate::stats::{Percentiles, Stats};

/// Serves `GET /metrics` on `listener` until the returned task is aborted.
pub fn serve(listener: TcpListener, stats: Arc<Stats>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let stats = stats.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let stats = stats.clone();
                    async move { Ok::<_, Infallible>(answer(&req, &stats)) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    })
}

fn answer(req: &Request<Incoming>, stats: &Stats) -> Response<Full<Bytes>> {
    if req.uri().path() != "/metrics" {
        let mut r = Response::new(Full::new(Bytes::from_static(b"only GET /metrics here\n")));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    let mut r = Response::new(Full::new(Bytes::from(render(stats))));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
    );
    r
}

/// The run's figures in the Prometheus text format.
pub fn render(stats: &Stats) -> String {
    truidentidad_mock_server::metrics::text("truidentidad_load", Snapshot::take(stats))
}

/// One scrape's figures.
#[derive(Debug)]
struct Snapshot {
    requests: [(&'static str, u64); 2],
    errors: Vec<(&'static str, u64)>,
    started: u64,
    finished: u64,
    dropped: u64,
    in_flight: u64,
    outcomes: Vec<(String, u64)>,
    latency: [(&'static str, Percentiles); 3],
}

impl Snapshot {
    fn take(s: &Stats) -> Self {
        Snapshot {
            requests: [
                ("create", s.creates.load(Ordering::Relaxed)),
                ("poll", s.polls.load(Ordering::Relaxed)),
            ],
            errors: ErrorClass::ALL
                .iter()
                .map(|c| (c.key(), s.errors[c.index()].load(Ordering::Relaxed)))
                .collect(),
            started: s.started.load(Ordering::Relaxed),
            finished: s.finished.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            in_flight: s.in_flight.load(Ordering::Relaxed),
            outcomes: s
                .outcomes
                .lock()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
                .unwrap_or_default(),
            latency: [
                ("create", Stats::snapshot(&s.create).summary()),
                ("poll", Stats::snapshot(&s.poll).summary()),
                (
                    "time_to_terminal",
                    Stats::snapshot(&s.time_to_terminal).summary(),
                ),
            ],
        }
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        counters(
            &mut encoder,
            ("requests", "Requests sent, by kind"),
            "kind",
            &self.requests,
        )?;
        counters(
            &mut encoder,
            (
                "errors",
                "Failed requests, by class (connect, timeout, 429, 4xx, 5xx, other)",
            ),
            "class",
            &self.errors,
        )?;
        for (name, help, n) in [
            (
                "validations_started",
                "Validations whose create was sent",
                self.started,
            ),
            (
                "validations_finished",
                "Validations followed to a terminal state or the deadline",
                self.finished,
            ),
            (
                "validations_dropped",
                "Arrivals dropped because --max-in-flight was reached",
                self.dropped,
            ),
        ] {
            ConstCounter::new(n).encode(encoder.encode_descriptor(
                name,
                help,
                None,
                MetricType::Counter,
            )?)?;
        }
        ConstGauge::new(self.in_flight as i64).encode(encoder.encode_descriptor(
            "validations_in_flight",
            "Validations being followed now",
            None,
            MetricType::Gauge,
        )?)?;
        counters(
            &mut encoder,
            ("outcomes", "Validations finished, by outcome"),
            "outcome",
            &self.outcomes,
        )?;
        // Quantiles from the run's HdrHistograms (coordinated omission corrected), since the
        // start of the run: a gauge per quantile, as the text format has no summary type
        // that prometheus-client writes.
        let mut family = encoder.encode_descriptor(
            "latency",
            "Latency quantiles since the start of the run, by kind",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for (kind, p) in &self.latency {
            for (q, ms) in [
                ("0.5", p.p50),
                ("0.9", p.p90),
                ("0.99", p.p99),
                ("0.999", p.p999),
            ] {
                ConstGauge::new(ms / 1000.0)
                    .encode(family.encode_family(&[("kind", *kind), ("quantile", q)])?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;

    #[test]
    fn figures_as_prometheus_reads_them() {
        let stats = Stats::default();
        stats.creates.store(3, Ordering::Relaxed);
        stats.polls.store(7, Ordering::Relaxed);
        stats.started.store(3, Ordering::Relaxed);
        stats.finished.store(2, Ordering::Relaxed);
        stats.in_flight.store(1, Ordering::Relaxed);
        stats.error(ErrorClass::TooMany);
        stats.outcome("success");
        stats.outcome("declined");
        Stats::record(&stats.poll, Duration::from_millis(4));
        insta::assert_snapshot!(render(&stats));
    }

    async fn get(addr: SocketAddr, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
            .await
            .expect("answered in time")
            .unwrap();
        out
    }

    #[tokio::test]
    async fn serves_live_figures_over_http() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let task = serve(listener, stats.clone());
        stats.polls.store(5, Ordering::Relaxed);
        let r = get(addr, "/metrics").await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("content-type: text/plain; version=0.0.4"), "{r}");
        assert!(
            r.contains("truidentidad_load_requests_total{kind=\"poll\"} 5"),
            "{r}"
        );
        stats.polls.store(6, Ordering::Relaxed);
        assert!(
            get(addr, "/metrics").await.contains("{kind=\"poll\"} 6"),
            "live"
        );
        assert!(get(addr, "/").await.starts_with("HTTP/1.1 404"));
        task.abort();
    }
}
