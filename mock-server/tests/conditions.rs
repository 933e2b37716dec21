//! Fleet-wide conditions (`serve --rate-limit`, `--brownout`) as a client sees them: a 429 in
//! Truora's envelope with a Retry-After that works, 503s during a brown-out window, and no
//! validation created or poll counted for a refused request.

mod common;

use std::time::Duration;

use common::{create, create_id, get, poll};
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::journal::FaultEffect;

async fn server(rate: &str, brownouts: &[&str]) -> MockServer {
    let rate = rate.parse().ok();
    let brownouts = brownouts.iter().map(|b| b.parse().unwrap()).collect();
    MockServer::builder()
        .seed(3)
        .manual_clock()
        .configure(|c| {
            c.rate_limit = rate;
            c.brownouts = brownouts;
        })
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn beyond_the_rate_limit_polls_get_429_with_a_retry_after_that_works() {
    let server = server("2/s", &[]).await;
    server.advance(Duration::from_secs(5));
    let id = create_id(&server, "type=government").await;
    assert_eq!(poll(&server, &id).await.status, 200);
    let refused = poll(&server, &id).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("1"));
    insta::assert_snapshot!(refused.text(), @r#"{"code":20429,"http_code":429,"message":"rate limit of 2/s exceeded; wait 1 s (Retry-After) before the next request (mock --rate-limit)"}"#);
    server.advance(Duration::from_secs(1));
    assert_eq!(poll(&server, &id).await.status, 200);

    // The journal says what happened, and the refused poll was not counted.
    let entries = server.requests(|_| true);
    let statuses: Vec<u16> = entries.iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![200, 200, 429, 200]);
    assert!(matches!(
        entries[2].fault.effect,
        Some(FaultEffect::Status { status: 429, .. })
    ));
    let view = server.validation(id.parse().unwrap()).unwrap();
    assert_eq!(view.record.polls_total, 2);
}

/// A reader outside the process (a fleet run against a shared mock) cannot tell a scenario's
/// own 429 from a `--rate-limit` refusal by the status: the control API's journal says which
/// polls the store counted, and gives both Retry-After forms in seconds.
#[tokio::test]
async fn the_control_journal_says_which_polls_the_store_counted() {
    let server = server("2/s", &[]).await;
    server.advance(Duration::from_secs(5));
    let id = create_id(&server, "type=government&account_id=rate-limited.c").await;
    // The scenario's own 429s (Retry-After in seconds, then as an HTTP-date), a pending
    // answer, then the limit's 429 (the third request in one second).
    assert_eq!(poll(&server, &id).await.status, 429);
    server.advance(Duration::from_secs(1));
    assert_eq!(poll(&server, &id).await.status, 429);
    assert_eq!(poll(&server, &id).await.status, 200);
    assert_eq!(poll(&server, &id).await.status, 429);
    let journal = get(&server, "/_mock/journal?kind=poll").await.json();
    let polls: Vec<(u64, Option<bool>, Option<u64>)> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_u64().unwrap(),
                e["poll_counted"].as_bool(),
                e["retry_after_seconds"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        polls,
        vec![
            (429, Some(true), Some(2)),
            (429, Some(true), Some(2)),
            (200, Some(true), None),
            (429, Some(false), Some(1)),
        ]
    );
    let view = server.validation(id.parse().unwrap()).unwrap();
    assert_eq!(view.record.polls_total, 3);
}

#[tokio::test]
async fn a_throttled_create_creates_nothing() {
    let server = server("1/m", &[]).await;
    assert_eq!(create(&server, "type=government").await.status, 200);
    let refused = create(&server, "type=government").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(server.state().store().len().unwrap(), 1);
}

#[tokio::test]
async fn a_brownout_answers_503_only_within_its_window() {
    let server = server("", &["10s:5s:503"]).await;
    let id = create_id(&server, "type=government").await;
    server.advance(Duration::from_secs(10));
    let down = poll(&server, &id).await;
    assert_eq!(down.status, 503);
    assert_eq!(down.header("retry-after"), None);
    assert_eq!(down.json()["http_code"], 503);
    server.advance(Duration::from_secs(5));
    assert_eq!(poll(&server, &id).await.status, 200);
}

#[tokio::test]
async fn a_latency_brownout_answers_normally_but_later() {
    let server = server("", &["0s:1m:+300ms"]).await;
    let id = create_id(&server, "type=government").await;
    let r = poll(&server, &id).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["validation_id"], id.as_str());
    let last = server.requests(|_| true).pop().unwrap();
    assert_eq!(last.fault.delay, Some(Duration::from_millis(300)));
}
