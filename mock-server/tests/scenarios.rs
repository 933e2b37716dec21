//! Every catalogue scenario driven end to end over HTTP on a manual clock: the exact
//! sequence of responses a client sees, snapshotted. Tokio time is paused, so injected delays
//! and stalls cost no wall-clock time.

mod common;

use std::fmt::Write;
use std::time::Duration;

use common::*;
use truidentidad_mock_server::MockServer;
use truidentidad_scenarios::Catalogue;

/// What one request saw, as one transcript line.
async fn exchange(server: &MockServer, method: &str, path: &str, body: &str) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nTruora-API-Key: {KEY}\r\nConnection: close\r\n"
    );
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: {FORM}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    let started = tokio::time::Instant::now();
    let outcome = raw(server.address(), req.as_bytes(), Duration::from_secs(30)).await;
    let waited = started.elapsed();
    let wait = if waited >= Duration::from_millis(100) {
        format!(" (after {}ms)", waited.as_millis() / 100 * 100)
    } else {
        String::new()
    };
    match outcome {
        Outcome::Response(r) => {
            let extra = r
                .header("retry-after")
                .map(|v| format!(" Retry-After: {v}"))
                .unwrap_or_default();
            let body = match serde_json::from_slice::<serde_json::Value>(&r.body) {
                Ok(v) => summarize(&v),
                Err(_) if r.body.is_empty() => "<empty body>".into(),
                Err(_) => format!("<invalid JSON: {} bytes>", r.body.len()),
            };
            format!("{}{extra}{wait} {body}", r.status)
        }
        Outcome::Closed => format!("connection closed without response{wait}"),
        Outcome::Reset => format!("connection reset{wait}"),
        Outcome::TimedOut => format!("no response within 30s{wait}"),
    }
}

fn summarize(v: &serde_json::Value) -> String {
    if let Some(msg) = v.get("message") {
        return format!("error: {}", msg.as_str().unwrap_or_default());
    }
    let mut s = v["validation_status"].as_str().unwrap_or("?").to_string();
    for k in ["failure_status", "declined_reason", "expired_reason"] {
        if let Some(x) = v.get(k).and_then(|x| x.as_str()) {
            write!(s, " {k}={x}").unwrap();
        }
    }
    s
}

/// Creates a validation of `scenario` and polls it every 5 virtual seconds until it is
/// terminal, at most 80 polls (the expiring ones use timeout=30).
async fn transcript(scenario: &str) -> String {
    let server = MockServer::builder()
        .seed(7)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let mut out = String::new();
    let form = format!("type=government&account_id={scenario}.t1&timeout=30");
    let mut created = exchange(&server, "POST", "/v1/validations", &form).await;
    writeln!(out, "create: {created}").unwrap();
    if created.starts_with("429") {
        created = exchange(&server, "POST", "/v1/validations", &form).await;
        writeln!(out, "create again: {created}").unwrap();
    }
    let list = get(&server, "/_mock/validations").await.json();
    let id = list["validations"][0]["validation_id"]
        .as_str()
        .expect("a validation was created")
        .to_string();
    let path = format!("/v1/validations/{id}");
    let mut terminal_seen = 0;
    for n in 1..=80 {
        let line = exchange(&server, "GET", &path, "").await;
        writeln!(out, "t={:>3}s poll {n}: {line}", (n - 1) * 5).unwrap();
        if line.contains(" success") || line.contains(" failure") {
            terminal_seen += 1;
            if terminal_seen == 2 {
                break; // one more poll shows the terminal state is final
            }
        }
        server.advance(Duration::from_secs(5));
    }
    out
}

#[tokio::test(start_paused = true)]
async fn every_catalogue_scenario_end_to_end() {
    let catalogue = Catalogue::builtin();
    let mut all = String::new();
    for (_, s) in catalogue.iter() {
        if s.name == "never-completes" {
            continue; // covered below: it would poll to the cap
        }
        writeln!(all, "## {}\n{}", s.name, transcript(&s.name).await).unwrap();
    }
    redactions().bind(|| insta::assert_snapshot!(all));
}

#[tokio::test]
async fn never_completes_stays_pending_past_any_timeout() {
    let server = MockServer::builder()
        .seed(7)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let id = create_id(
        &server,
        "type=government&account_id=never-completes&timeout=1",
    )
    .await;
    server.advance(Duration::from_secs(100_000));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
}

/// The same seed and the same requests give the same responses, including random delays.
#[tokio::test(start_paused = true)]
async fn transcripts_are_deterministic_for_a_seed() {
    assert_eq!(
        transcript("slow-responses").await,
        transcript("slow-responses").await
    );
}
