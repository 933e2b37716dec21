//! `conformance server` against the mock itself: the mock's fidelity graded by the rules an
//! integrator would run against the real sandbox.

use std::time::Duration;

use truidentidad_conformance::server_check::{ServerPlan, run};
use truidentidad_conformance::server_facts::FACTS;
use truidentidad_conformance::verdict::Verdict;
use truidentidad_mock_server::MockServer;

/// A JWT-shaped key whose `exp` (1 s after the epoch) has long passed.
fn expired_jwt() -> String {
    let b64 = |s: &str| data_encoding::BASE64URL_NOPAD.encode(s.as_bytes());
    format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(r#"{"exp":1}"#))
}

/// The full check against a spawned in-process mock: every check runs and passes, every fact
/// of `docs/fidelity.md` is covered, and the report (what a user reads) is snapshotted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_passes_the_server_checks() {
    let expired = expired_jwt();
    let server = MockServer::builder()
        .seed(9)
        .api_key("test-key")
        .api_key(expired.clone())
        .configure(|c| c.key_expiry = true)
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
        expired_key: Some(expired),
    };
    let report = run(&plan).await;
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.verdict != Verdict::Passed)
        .collect();
    assert!(failed.is_empty(), "{}", report.render());
    let (_, missed) = report.coverage();
    assert!(missed.is_empty(), "{}", report.render());
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            "create-requires-key",
            "create-returns-validation",
            "create-generates-account-id",
            "create-rejects-json",
            "create-requires-type",
            "timeout-range",
            "unknown-id-404",
            "expired-key-403",
            "timeout-expires",
            "poll-requires-key",
            "poll-key-only",
            "show-details",
            "state-machine",
            "mock-forced-outcomes",
        ]
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "http://[addr]");
    settings.add_filter(r"VLD[0-9a-f]{32}", "[validation_id]");
    settings.add_filter(r"ACC[0-9a-f]{32}", "[account_id]");
    settings.add_filter(r"polled \d+: pending( → pending)*", "polled [n]: pending…");
    settings.bind(|| insta::assert_snapshot!(report.render()));
}

/// Every fact the checks name is a fact of the catalogue, and every catalogue fact is written
/// in `docs/fidelity.md`, so the report's ids lead to the row they check.
#[test]
fn every_fact_id_is_in_the_fidelity_page() {
    let page = include_str!("../../docs/fidelity.md");
    for f in FACTS {
        assert!(
            page.contains(&format!("`{}`", f.id)),
            "{} is not in docs/fidelity.md",
            f.id
        );
    }
}

/// When the control API is closed to the check (a mock with an admin token), the mock-only
/// check is skipped, never failed, and says why; so is the expired-key check without a key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_only_checks_skip_when_the_control_api_is_closed() {
    let server = MockServer::builder()
        .seed(3)
        .configure(|c| c.admin_token = Some("secret".into()))
        .start()
        .await
        .unwrap();
    let plan = ServerPlan {
        base_url: server.uri(),
        api_key: "k".into(),
        account_id: "a".into(),
        watch: Duration::from_secs(1),
        interval: Duration::from_millis(200),
        request_timeout: Duration::from_secs(5),
        expired_key: None,
    };
    let report = run(&plan).await;
    let skipped: Vec<(&str, &str)> = report
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Skipped)
        .map(|c| (c.id, c.detail.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "expired-key-403",
                "pass --expired-key with a key whose exp has passed"
            ),
            (
                "mock-forced-outcomes",
                "the control API answered 401: the mock has an admin token"
            ),
        ],
        "{}",
        report.render()
    );
    assert!(report.passed(), "{}", report.render());
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
        expired_key: None,
    };
    let report = run(&plan).await;
    assert!(!report.passed());
    assert_eq!(
        report.checks.last().map(|c| c.verdict),
        Some(Verdict::Skipped)
    );
}
