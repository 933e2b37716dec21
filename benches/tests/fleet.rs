//! Fleet mode against real clients: the Python and Node.js reference clients as services, each
//! driven as a small fleet under a rate limit, and every reported figure checked against the
//! mock's own journal.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use truidentidad_conformance::client::ClientSpec;
use truidentidad_load::fleet::{ExternalTarget, FleetPlan, drive, run_fleet, start_mock};
use truidentidad_load::progress::Display;
use truidentidad_load::schedule::Schedule;
use truidentidad_load::spec::Mix;
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::journal::Kind;

/// Starts a reference service (`conformance/clients/<script>`) on a free port with `program`;
/// killed when dropped.
async fn reference_service(program: &str, script: &str) -> (tokio::process::Child, String) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance/clients")
        .join(script);
    let mut child = tokio::process::Command::new(program)
        .arg(script)
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs the reference service (install it): {e}"));
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
async fn a_python_fleet_under_a_rate_limit_is_measured_as_the_journal_shows_it() {
    let (_service, url) = reference_service("python3", "python/service.py").await;
    measured_as_the_journal_shows(url, Mock::Own).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_fleet_under_a_rate_limit_is_measured_as_the_journal_shows_it() {
    let (_service, url) = reference_service("node", "node/service.mjs").await;
    measured_as_the_journal_shows(url, Mock::Own).await;
}

/// `load --client-url … --target URL`: the same fleet against a mock that was already
/// running (with an admin token, and traffic of its own before the run), read through its
/// control API, gives the figures its journal shows for the run's requests only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_against_an_external_mock_is_measured_through_its_control_api() {
    let (_service, url) = reference_service("python3", "python/service.py").await;
    measured_as_the_journal_shows(url, Mock::External).await;
}

/// Where the fleet's mock runs.
#[derive(PartialEq)]
enum Mock {
    Own,
    External,
}

const EXTERNAL_KEY: &str = "team-key";
const ADMIN_TOKEN: &str = "admin-secret";

/// Drives the service at `url` as a fleet of 8 under 2 requests/s, and checks each figure
/// against the journal.
async fn measured_as_the_journal_shows(url: String, mock: Mock) {
    let mut plan = FleetPlan {
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
        target: None,
        mock_port: 0,
        hold: false,
    };
    let (server, run, before) = match mock {
        Mock::Own => {
            let server = start_mock(&plan).await.unwrap();
            let run = drive(&server, &plan, Display::Off).await;
            (server, run, 0)
        }
        Mock::External => {
            let server = MockServer::builder()
                .api_key(EXTERNAL_KEY)
                .configure(|c| {
                    c.rate_limit = plan.rate_limit;
                    c.admin_token = Some(ADMIN_TOKEN.into());
                })
                .start()
                .await
                .unwrap();
            // Someone else's validation, before the run: not the fleet's.
            let created = create_one(&server.uri()).await;
            assert_eq!(created, 200);
            let before = server.state().journal().total_recorded();
            plan.rate_limit = None;
            plan.target = Some(ExternalTarget {
                url: server.uri(),
                api_key: EXTERNAL_KEY.into(),
                admin_token: Some(ADMIN_TOKEN.into()),
            });
            let (run, held) = run_fleet(plan.clone(), Display::Off).await.unwrap();
            assert!(held.is_none(), "an external target is never held");
            (server, run, before)
        }
    };
    let f = &run.figures;
    let api = server.requests(|e| matches!(e.kind, Kind::Create | Kind::Poll) && e.seq >= before);

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
    assert_eq!(f.per_second.totals().iter().sum::<u64>(), api.len() as u64);
    assert_eq!(
        f.windows.arrivals.requests + f.windows.drain.requests,
        api.len() as u64
    );
    server.shutdown().await;
}

/// One create through the API, as another team's backend would send it; its status.
async fn create_one(base: &str) -> u16 {
    use truidentidad_conformance::http::{Method, Req, send};
    let resp = send(
        Req {
            method: Method::POST,
            url: format!("{base}/v1/validations"),
            headers: vec![
                ("Truora-API-Key".into(), EXTERNAL_KEY.into()),
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            body: b"type=government&account_id=another-team&user_authorized=true".to_vec(),
        },
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    resp.status
}

/// `load fleet --mock-port P --hold`: the fleet's mock listens on P, and after the run it is
/// handed back still serving (its dashboard answers) until the caller lets it go.
#[tokio::test]
async fn the_fleets_mock_takes_the_chosen_port_and_is_held_open_after_the_run() {
    use truidentidad_conformance::http::{Method, Req, send};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let plan = FleetPlan {
        // A client that prints no result: one run, counted as failed.
        client: ClientSpec::Command("true".into()),
        schedule: Schedule::constant(1.0, Duration::from_secs(1)),
        mix: Mix::parse("success").unwrap(),
        concurrency: 1,
        deadline: Duration::from_secs(5),
        client_limit: Duration::from_secs(10),
        rate_limit: None,
        brownouts: Vec::new(),
        seed: 3,
        quiet_window: Duration::from_millis(100),
        target: None,
        mock_port: port,
        hold: true,
    };
    let (run, held) = run_fleet(plan, Display::Off).await.unwrap();
    let server = held.expect("--hold hands the mock back");
    assert_eq!(server.address().port(), port);
    assert_eq!(run.mock_url, format!("http://127.0.0.1:{port}"));
    assert_eq!(run.figures.client_failed, 1);
    let dashboard = send(
        Req {
            method: Method::GET,
            url: format!("{}/dashboard", run.mock_url),
            headers: Vec::new(),
            body: Vec::new(),
        },
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(
        dashboard.status, 200,
        "the dashboard is still served after the run"
    );
    server.shutdown().await;
}
