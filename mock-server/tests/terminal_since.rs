//! `Record::terminal_since`: when a validation became terminal, replayed from its scenario and
//! its polls' arrival times, which the load tool's detection lag is measured from.

mod common;

use std::time::Duration;

use common::{create_id, manual_server, poll};
use truidentidad_mock_server::journal::Kind;

async fn terminal_since(
    server: &truidentidad_mock_server::MockServer,
    id: &str,
) -> Option<Duration> {
    let vid = id.parse().unwrap();
    let polls: Vec<Duration> = server
        .requests(|e| e.kind == Kind::Poll && e.validation_id == Some(vid))
        .iter()
        .map(|e| e.received)
        .collect();
    let view = server.validation(vid).unwrap();
    view.record
        .terminal_since(server.state().catalogue(), &polls, server.now())
}

#[tokio::test]
async fn a_time_driven_outcome_is_timed_from_the_scenario_not_from_the_poll_that_saw_it() {
    let server = manual_server().await;
    server.advance(Duration::from_secs(5));
    // The default scenario: pending 3 s, then success.
    let id = create_id(&server, "type=government").await;
    let created = server.now();
    server.advance(Duration::from_secs(1));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
    assert_eq!(terminal_since(&server, &id).await, None);
    server.advance(Duration::from_secs(9));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "success"
    );
    let at = terminal_since(&server, &id).await.unwrap();
    let pending_for = at - created;
    assert!(
        pending_for >= Duration::from_secs(3) && pending_for <= Duration::from_millis(3_001),
        "{pending_for:?}"
    );
    // Asked again later, the answer is the same to the nanosecond (the dashboard revalidates
    // the detail by its ETag; a load run reads it after the run).
    server.advance(Duration::from_millis(7_345));
    assert_eq!(terminal_since(&server, &id).await, Some(at));
}

#[tokio::test]
async fn a_poll_driven_outcome_is_timed_from_the_poll_that_completed_it() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=success-after-polls.u1").await;
    let mut arrivals = Vec::new();
    for _ in 0..4 {
        server.advance(Duration::from_secs(2));
        arrivals.push(server.now());
        poll(&server, &id).await;
    }
    // The 3rd poll completes the phase; the 4th is the first to see success.
    let at = terminal_since(&server, &id).await.unwrap();
    assert!(
        at > arrivals[2] && at <= arrivals[2] + Duration::from_millis(1),
        "{at:?} vs {arrivals:?}"
    );
}
