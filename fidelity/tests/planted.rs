//! `fidelity diff` finds exactly the differences planted in an upstream, and the recording
//! keeps no secret.
//!
//! The upstream is the mock itself, on a manual clock, with one scenario slowed down, behind a
//! small hyper service that changes its answers in known ways: a different error `code` on a
//! rejected key, an extra field in every validation body, and no `Retry-After` on 429. A
//! client creates and polls through the recording proxy; the diff of that recording against
//! the stock mock must list those four differences and nothing else.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use support::*;
use truidentidad_conformance::http::{self, Method, Req};
use truidentidad_fidelity::diff::{self, Baseline};
use truidentidad_fidelity::pick::Mapping;
use truidentidad_fidelity::{facts, report};
use truidentidad_mock_server::MockServer;
use truidentidad_scenarios::catalogue::Catalogue;

/// The upstream's one changed setting: this scenario declines after 6 s, not 3 s.
const SLOWER_DECLINE: &str = r#"
[[scenario]]
name = "declined-face-mismatch"
description = "Declines after 6 s (the stock mock: 3 s)."
[[scenario.phase]]
name = "processing"
until = "6s"
[scenario.outcome]
status = "failure"
failure_status = "declined"
declined_reason = "similarity_threshold_not_passed"
"#;

/// Forwards to `upstream` and plants the differences in its answers.
async fn planting_wrapper(upstream: String) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let upstream = upstream.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                        let headers = parts
                            .headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect();
                        let r = http::send(
                            Req {
                                method: parts.method.clone(),
                                url: format!("{upstream}{path}"),
                                headers,
                                body: body.to_vec(),
                            },
                            T,
                        )
                        .await
                        .expect("the upstream answers");
                        let mut out_body = r.body.clone();
                        if let Some(mut v) = r.json() {
                            if r.status == 401 {
                                // Planted: another error code for a rejected key.
                                v["code"] = serde_json::json!(40101);
                            }
                            if v.get("validation_status").is_some() {
                                // Planted: a field the mock does not send.
                                v["risk_score"] = serde_json::json!(0.12);
                            }
                            out_body = serde_json::to_vec(&v).expect("json");
                        }
                        let mut resp = hyper::Response::new(Full::new(Bytes::from(out_body)));
                        *resp.status_mut() = hyper::StatusCode::from_u16(r.status).expect("status");
                        for (k, v) in &r.headers {
                            // Planted: 429 without Retry-After.
                            if k == "retry-after" || k == "content-length" {
                                continue;
                            }
                            resp.headers_mut().insert(k, v.clone());
                        }
                        Ok::<_, hyper::Error>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// Records the reference session into `out`; returns the upstream (kept for its clock).
async fn record(out: &Path) -> MockServer {
    let mut catalogue = Catalogue::builtin();
    catalogue
        .load_file("slower.toml", SLOWER_DECLINE)
        .expect("scenario parses");
    let upstream = MockServer::builder()
        .seed(30)
        .manual_clock()
        .api_key(KEY)
        .configure(|c| c.catalogue = Arc::new(catalogue))
        .start()
        .await
        .expect("upstream starts");
    let wrapper = planting_wrapper(upstream.uri()).await;
    let proxy = proxy(&format!("http://{wrapper}"), &upstream, out).await;
    let base = proxy.uri();

    // An ordinary validation (its scenario is found by its outcome), with one poll sent with
    // a wrong key along the way.
    let id = create(&base, "user-1").await;
    let wrong = send(
        &base,
        Method::GET,
        &format!("/v1/validations/{id}"),
        "wrong-key",
        "",
        T,
    )
    .await
    .expect("answered");
    assert_eq!(wrong.status, 401);
    assert_eq!(follow(&base, &upstream, &id).await, [200, 200, 200]);
    // Rate limited: two 429s, then success.
    let id = create(&base, "rate-limited.user-2").await;
    assert_eq!(follow(&base, &upstream, &id).await, [429, 429, 200]);
    // The slower decline.
    let id = create(&base, "declined-face-mismatch.user-3").await;
    assert_eq!(follow(&base, &upstream, &id).await.len(), 6);
    proxy.shutdown().await.expect("recording written");
    upstream
}

/// Every file under `dir`, as text.
fn all_text(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).expect("text"),
                ));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diff_reports_exactly_the_planted_differences() {
    assert!(
        Catalogue::builtin()
            .from_document_number(DOCUMENT)
            .is_none(),
        "the document number must not pick a scenario itself"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let _upstream = record(dir.path()).await;

    let report = diff::diff(dir.path(), &Mapping::default(), &Baseline::default())
        .await
        .expect("diff runs");
    let found: BTreeSet<String> = report.findings.iter().map(|f| f.key.clone()).collect();
    let planted: BTreeSet<String> = [
        "error-envelope code of the 401 envelope: recorded 40101, mock 20401",
        "field validation body $.risk_score: recorded number, mock absent",
        "header Retry-After on poll 429: recorded absent, mock present",
        "time-to-terminal failure/declined/similarity_threshold_not_passed",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, planted, "{}", report::terminal(&report));
    assert!(!report.passed());

    // The scenarios were chosen by outcome, and by the magic account ids.
    let chosen: Vec<(String, String)> = report
        .validations
        .iter()
        .map(|v| {
            (
                v.scenario.clone().unwrap_or_default(),
                v.chosen_by
                    .map(|b| b.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        chosen.contains(&("success".into(), "outcome".into())),
        "{chosen:?}"
    );
    assert!(chosen.contains(&("rate-limited".into(), "account_id".into())));

    // What a person reads (docs/record.md quotes it).
    let text = report::terminal(&report);
    insta::assert_snapshot!("planted_terminal", text);
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/record.md"))
            .expect("docs/record.md");
    let quoted = doc
        .split("<!-- sample: fidelity diff -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("docs/record.md quotes a diff after <!-- sample: fidelity diff -->");
    assert_eq!(
        quoted.trim_end(),
        text.trim_end(),
        "docs/record.md's sample is stale"
    );

    // A baseline accepting them all passes; the same baseline less one fails on that one.
    let accepted = Baseline {
        accepted: planted.clone(),
    };
    let again = diff::diff(dir.path(), &Mapping::default(), &accepted)
        .await
        .expect("diff runs");
    assert!(again.passed(), "{}", report::terminal(&again));
    let mut partial = planted.clone();
    partial.remove("header Retry-After on poll 429: recorded absent, mock present");
    let again = diff::diff(
        dir.path(),
        &Mapping::default(),
        &Baseline { accepted: partial },
    )
    .await
    .expect("diff runs");
    assert_eq!(again.new_count(), 1);

    // JSON and HTML carry the same findings.
    let json: serde_json::Value = serde_json::from_str(&report::json(&report)).expect("JSON");
    assert_eq!(
        (json["new"].as_u64(), json["passed"].as_bool()),
        (Some(4), Some(false))
    );
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(4));
    let html = report::html(&report);
    assert_eq!(html.matches("<tr class=\"new\">").count(), 4, "{html}");
    // JUnit carries one failure per new difference.
    let junit = report::junit(&report);
    assert_eq!(junit.matches("<failure ").count(), 4, "{junit}");

    // The facts it bears on: a mock-shaped upstream contradicts none (another error code is
    // still the envelope), and what the session never did stays untouched.
    let facts = facts::facts(dir.path()).expect("facts");
    assert_eq!(facts.contradicted(), 0, "{}", facts.render());
    let bearing = |id: &str| {
        facts
            .facts
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.bearing)
            .expect("a fact")
    };
    assert_eq!(bearing("F-error-envelope"), facts::Bearing::Confirms);
    assert_eq!(bearing("F-declined-reasons"), facts::Bearing::Confirms);
    assert_eq!(bearing("F-show-details"), facts::Bearing::NotTouched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recording_holds_no_key_document_name_or_ip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _upstream = record(dir.path()).await;
    let files = all_text(dir.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("recording.har")));
    assert!(files.len() >= 4, "a HAR and a timeline per validation");
    for secret in [KEY, DOCUMENT, CLIENT_IP, NAME] {
        let leaks: Vec<&String> = files
            .iter()
            .filter(|(_, text)| text.contains(secret))
            .map(|(p, _)| p)
            .collect();
        assert!(leaks.is_empty(), "`{secret}` is in {leaks:?}");
    }
    // The HAR holds every recorded exchange, in order, as HAR 1.2.
    let har_log = truidentidad_fidelity::recording::read_har(dir.path()).expect("HAR 1.2");
    let timelines =
        truidentidad_fidelity::recording::read_timelines(dir.path()).expect("timelines");
    assert_eq!(har_log.log.version, "1.2");
    assert_eq!(
        har_log.log.entries.len(),
        timelines.iter().map(|t| t.exchanges.len()).sum::<usize>()
    );
    let started: Vec<&String> = har_log
        .log
        .entries
        .iter()
        .map(|e| &e.started_date_time)
        .collect();
    assert!(started.windows(2).all(|w| w[0] <= w[1]), "{started:?}");
    assert_eq!(har_log.log.entries[0].request.method, "POST");
    assert!(
        har_log.log.entries[0]
            .request
            .url
            .ends_with("/v1/validations")
    );
    // The key is still told apart: the same hash everywhere for the good key.
    let har = std::fs::read_to_string(dir.path().join("recording.har")).expect("har");
    let hash = truidentidad_fidelity::redact::key_hash(KEY);
    assert!(har.contains(&hash));
    assert!(har.contains(&truidentidad_fidelity::redact::key_hash("wrong-key")));
}
