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

/// A poll a scenario itself answers 429 or 503 was counted by the store, so the control API's
/// `terminal_at_seconds` replays it: the exchange records that the store counted the poll
/// rather than the journal guessing from the status (which took a 503 for a brown-out's).
#[tokio::test]
async fn a_poll_a_scenario_answers_503_counts_toward_terminal_at() {
    let mut catalogue = truidentidad_scenarios::Catalogue::builtin();
    catalogue
        .load_file(
            "polls.toml",
            r#"
[[scenario]]
name = "unavailable-then-polls"
description = "the 1st poll is a 503, the 2nd a 429; success once polled 3 times"
[[scenario.phase]]
until_polls = 3
[scenario.outcome]
status = "success"
[[scenario.fault]]
request = "poll"
nth = 1
status = 503
[[scenario.fault]]
request = "poll"
nth = 2
status = 429
"#,
        )
        .expect("the scenario parses");
    let server = truidentidad_mock_server::MockServer::builder()
        .seed(7)
        .manual_clock()
        .configure(|c| c.catalogue = std::sync::Arc::new(catalogue))
        .start()
        .await
        .expect("start");
    let id = create_id(&server, "type=government&account_id=unavailable-then-polls").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        server.advance(Duration::from_secs(1));
        statuses.push(poll(&server, &id).await.status);
    }
    assert_eq!(statuses, [503, 429, 200, 200]);
    let detail = common::get(&server, &format!("/_mock/validations/{id}"))
        .await
        .json();
    assert_eq!(detail["validation_status"], "success", "{detail}");
    assert_eq!(detail["polls"], 4, "{detail}");
    // The third poll (at 3 s) completed it, counting the 503 and the 429: terminal from the
    // next millisecond on. Guessed from the statuses, only two polls counted and it read as
    // never terminal (null).
    assert_eq!(detail["terminal_at_seconds"], 3.001, "{detail}");
}
