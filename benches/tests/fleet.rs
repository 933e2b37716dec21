//! Fleet mode against a real client: the Python reference client as a service, driven as a
//! small fleet under a rate limit, and every reported figure checked against the mock's own
//! journal.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use truidentidad_conformance::client::ClientSpec;
use truidentidad_load::fleet::{FleetPlan, drive, start_mock};
use truidentidad_load::progress::Display;
use truidentidad_load::schedule::Schedule;
use truidentidad_load::spec::Mix;
use truidentidad_mock_server::journal::Kind;

/// Starts `conformance/clients/python/service.py` on a free port; killed when dropped.
async fn python_service() -> (tokio::process::Child, String) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/clients/python/service.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs the reference service");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the service prints its address")
        .unwrap()
        .unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_string();
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_under_a_rate_limit_is_measured_as_the_journal_shows_it() {
    let (_service, url) = python_service().await;
    let plan = FleetPlan {
        client: ClientSpec::Url(url),
        // 8 validations in 2 s, all followed at once, against 2 requests/s: some are refused.
        schedule: Schedule::constant(4.0, Duration::from_secs(2)),
        mix: Mix::parse("success=3,declined-face-mismatch=1").unwrap(),
        concurrency: 8,
        deadline: Duration::from_secs(30),
        client_limit: Duration::from_secs(45),
        rate_limit: Some("2/s".parse().unwrap()),
        brownouts: Vec::new(),
        seed: 7,
        quiet_window: Duration::from_millis(500),
    };
    let server = start_mock(&plan).await.unwrap();
    let run = drive(&server, &plan, Display::Off).await;
    let f = &run.figures;
    let api = server.requests(|e| matches!(e.kind, Kind::Create | Kind::Poll));

    assert_eq!(f.validations, 8);
    assert_eq!(f.requests, api.len() as u64);
    let throttled = api.iter().filter(|e| e.status == 429).count() as u64;
    assert!(throttled > 0, "the rate limit never bit: {api:#?}");
    assert_eq!(f.pushback.throttled, throttled);
    // The reference client honours every Retry-After.
    assert_eq!(f.pushback.retry_after_honoured, 1.0);

    // Polls per validation: the journal's count for each validation created.
    let created: Vec<_> = api
        .iter()
        .filter(|e| e.kind == Kind::Create && e.status == 200)
        .filter_map(|e| e.validation_id)
        .collect();
    let polls: Vec<u64> = created
        .iter()
        .map(|id| {
            api.iter()
                .filter(|e| e.kind == Kind::Poll && e.validation_id == Some(*id))
                .count() as u64
        })
        .collect();
    assert_eq!(f.polls_per_validation.max, *polls.iter().max().unwrap());
    // Every validation whose client saw its outcome has a detection lag; the others either
    // never got created (a create refused too often) or gave up.
    let saw_outcome = created
        .iter()
        .filter(|id| {
            api.iter().any(|e| {
                e.validation_id == Some(**id) && e.observed.is_some_and(|o| o.status.is_terminal())
            })
        })
        .count();
    assert_eq!(f.detection_lag.count(), saw_outcome as u64);
    assert_eq!(f.reported, saw_outcome, "{:?}", run.problems);
    assert_eq!(f.wrong_outcomes, 0, "{:?}", run.problems);
    // The per-second series adds up to every request the mock received.
    assert_eq!(f.rate.per_second.iter().sum::<u64>(), api.len() as u64);
    server.shutdown().await;
}
