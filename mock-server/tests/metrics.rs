//! `GET /_mock/metrics`: what a Prometheus scrape sees after a known run, the admin token in
//! front of it, and the open-connections gauge.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use truidentidad_mock_server::MockServer;

/// Latency values depend on the machine; their bucket *names* and the counts do not.
fn latency_filters() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r#"(truidentidad_mock_request_duration_seconds_(bucket|sum)\{[^}]*\}) \S+"#,
        "$1 [latency]",
    );
    s
}

#[tokio::test]
async fn a_small_known_run_as_prometheus_reads_it() {
    let server = manual_server().await;
    let ok = create_id(&server, "type=government&account_id=success.a").await;
    let declined = create_id(&server, "type=government&account_id=declined-deceased.b").await;
    let flaky = create_id(
        &server,
        "type=government&account_id=flaky-5xx-then-success.c",
    )
    .await;
    let pending = create_id(&server, "type=government&account_id=never-completes.d").await;
    server.advance(Duration::from_secs(60));
    assert_eq!(poll(&server, &ok).await.status, 200);
    assert_eq!(poll(&server, &declined).await.status, 200);
    assert_eq!(poll(&server, &flaky).await.status, 503);
    assert_eq!(poll(&server, &flaky).await.status, 500);
    assert_eq!(poll(&server, &pending).await.status, 200);
    assert_eq!(get(&server, "/v2/nothing").await.status, 404);
    assert_eq!(
        request(server.address(), "GET", "/v1/validations/x", &[], b"")
            .await
            .status,
        401
    );

    let r = get(&server, "/_mock/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = r.text();
    // Connections of the earlier requests may still be closing on the server's side; the
    // gauge is checked exactly in `open_connections_counts_live_connections`.
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("truidentidad_mock_open_connections "))
        .map(|l| format!("{l}\n"))
        .collect();
    latency_filters().bind(|| insta::assert_snapshot!(text));

    // Scrapes are counted but not journaled, and counters survive a reset.
    let journal = get(&server, "/_mock/journal").await.json();
    let paths: Vec<&str> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(!paths.contains(&"/_mock/metrics"), "{paths:?}");
    assert_eq!(post_json(&server, "/_mock/reset", "{}").await.status, 200);
    let after = get(&server, "/_mock/metrics").await.text();
    assert!(
        after.contains(r#"truidentidad_mock_requests_total{kind="create",status="200"} 4"#),
        "{after}"
    );
    assert!(
        after.contains(r#"truidentidad_mock_requests_total{kind="control",status="200"} 3"#),
        "two scrapes and the journal read before this one: {after}"
    );
    assert!(
        !after.contains("truidentidad_mock_validations{"),
        "the store is empty after the reset: {after}"
    );
}

#[tokio::test]
async fn metrics_sit_behind_the_admin_token() {
    let server = MockServer::builder()
        .configure(|c| c.admin_token = Some("s3cret".into()))
        .start()
        .await
        .expect("start");
    let r = get(&server, "/_mock/metrics").await;
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.json()["http_code"], 401);
    let r = request(
        server.address(),
        "GET",
        "/_mock/metrics",
        &[("Authorization", "Bearer s3cret")],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text()
            .contains(r#"truidentidad_mock_requests_total{kind="control",status="401"} 1"#),
        "{}",
        r.text()
    );
}

/// Sends one keep-alive request and reads its whole response, leaving the connection open.
async fn keep_alive_health(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 1024];
        while !buf.ends_with(b"}") {
            let n = s.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed early");
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("health answered in time");
    s
}

#[tokio::test]
async fn open_connections_counts_live_connections() {
    let server = manual_server().await;
    // Each has been answered, so the server holds all three when the scrape arrives.
    let held = [
        keep_alive_health(server.address()).await,
        keep_alive_health(server.address()).await,
        keep_alive_health(server.address()).await,
    ];
    let text = get(&server, "/_mock/metrics").await.text();
    assert!(
        text.contains("\ntruidentidad_mock_open_connections 4\n"),
        "three held and the scrape's own: {text}"
    );
    drop(held);
}
