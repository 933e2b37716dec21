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

use crate::metrics::{
    EXPORT_DROPPED, EXPORT_ERRORS, EXPORT_FINISHED, EXPORT_IN_FLIGHT, EXPORT_LATENCY,
    EXPORT_OUTCOMES, EXPORT_REQUESTS, EXPORT_STARTED, EXPORTED_LATENCY, EXPORTED_QUANTILES,
};
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
    latency: Vec<(&'static str, Percentiles)>,
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
            latency: EXPORTED_LATENCY
                .iter()
                .filter_map(|(group, label)| {
                    let h = match *group {
                        "create" => &s.create,
                        "poll" => &s.poll,
                        "ttt" => &s.time_to_terminal,
                        _ => return None,
                    };
                    Some((*label, Stats::snapshot(h).summary()))
                })
                .collect(),
        }
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        counters(
            &mut encoder,
            (EXPORT_REQUESTS.name, EXPORT_REQUESTS.help),
            "kind",
            &self.requests,
        )?;
        counters(
            &mut encoder,
            (EXPORT_ERRORS.name, EXPORT_ERRORS.help),
            "class",
            &self.errors,
        )?;
        for (family, n) in [
            (EXPORT_STARTED, self.started),
            (EXPORT_FINISHED, self.finished),
            (EXPORT_DROPPED, self.dropped),
        ] {
            ConstCounter::new(n).encode(encoder.encode_descriptor(
                family.name,
                family.help,
                None,
                MetricType::Counter,
            )?)?;
        }
        ConstGauge::new(self.in_flight as i64).encode(encoder.encode_descriptor(
            EXPORT_IN_FLIGHT.name,
            EXPORT_IN_FLIGHT.help,
            None,
            MetricType::Gauge,
        )?)?;
        counters(
            &mut encoder,
            (EXPORT_OUTCOMES.name, EXPORT_OUTCOMES.help),
            "outcome",
            &self.outcomes,
        )?;
        // Quantiles from the run's HdrHistograms (coordinated omission corrected), since the
        // start of the run: a gauge per quantile, as the text format has no summary type
        // that prometheus-client writes.
        let mut family = encoder.encode_descriptor(
            EXPORT_LATENCY.name,
            EXPORT_LATENCY.help,
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for (kind, p) in &self.latency {
            for (q, stat) in EXPORTED_QUANTILES {
                let ms = p.stat(stat).unwrap_or(f64::NAN);
                ConstGauge::new(ms / 1000.0)
                    .encode(family.encode_family(&[("kind", *kind), ("quantile", *q)])?)?;
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

    /// Every registry name the exporter serves is one `--threshold` accepts, so a dashboard's
    /// figure and a CI gate's figure are the same metric.
    #[test]
    fn every_exported_metric_is_a_threshold_metric() {
        let names = crate::metrics::exported_metrics();
        assert!(names.contains(&"poll.p999".to_string()), "{names:?}");
        for name in names {
            let limit = match crate::metrics::kind(&name) {
                Some(crate::metrics::Kind::Latency) => "1ms",
                _ => "1",
            };
            let t = crate::threshold::parse(&format!("{name}<{limit}"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.metric, name);
        }
    }

    /// The exporter writes only the families the registry lists, each under its name.
    #[test]
    fn every_served_family_is_in_the_registry() {
        let text = render(&Stats::default());
        let served: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE truidentidad_load_"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let listed: Vec<String> = crate::metrics::EXPORTED
            .iter()
            .map(|e| e.name.to_string())
            .collect();
        assert_eq!(served.len(), listed.len(), "{served:?} vs {listed:?}");
        for (s, l) in served.iter().zip(&listed) {
            assert!(
                *s == l
                    || s.strip_prefix(l.as_str())
                        .is_some_and(|t| t.starts_with('_')),
                "{s} is served but the registry says {l}"
            );
        }
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
