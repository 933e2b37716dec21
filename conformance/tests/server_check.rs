//! `conformance server` against the mock itself: the mock's fidelity graded by the rules an
//! integrator would run against the real sandbox.

use std::time::Duration;

use truidentidad_conformance::server_check::{ServerPlan, run};
use truidentidad_conformance::verdict::Verdict;
use truidentidad_mock_server::MockServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_passes_the_server_checks() {
    let server = MockServer::builder()
        .seed(9)
        .api_key("test-key")
        .start()
        .await
        .unwrap();
    let plan = ServerPlan {
        base_url: server.uri(),
        api_key: "test-key".into(),
        account_id: "conformance-server-check".into(),
        watch: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        request_timeout: Duration::from_secs(5),
    };
    let report = run(&plan).await;
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.verdict != Verdict::Passed)
        .collect();
    assert!(failed.is_empty(), "{}", report.render());
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            "create-requires-key",
            "create-returns-validation",
            "create-rejects-json",
            "create-requires-type",
            "unknown-id-404",
            "poll-requires-key",
            "state-machine"
        ]
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "http://[addr]");
    settings.add_filter(r"polled \d+: pending( → pending)*", "polled [n]: pending…");
    settings.bind(|| insta::assert_snapshot!(report.render()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_fails_clearly() {
    let plan = ServerPlan {
        base_url: "http://127.0.0.1:9".into(),
        api_key: "k".into(),
        account_id: "a".into(),
        watch: Duration::from_secs(1),
        interval: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
    };
    let report = run(&plan).await;
    assert!(!report.passed());
    assert_eq!(
        report.checks.last().map(|c| c.verdict),
        Some(Verdict::Skipped)
    );
}
