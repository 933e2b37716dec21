//! The jitter rule is a timing heuristic (every unhinted wait on a half-second grid, repeating
//! or doubling, with enough of them to judge), so it gets its own test binary: cargo runs test
//! binaries one at a time, which keeps the other reference-client runs from loading the
//! machine while it measures. (The rule's grid is wide enough for 90 ms of overhead, so load
//! matters little; the unit and property tests in `checks/tests.rs` cover the noise.)

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_conformance::catalogue::Catalogue;
use truidentidad_conformance::checks::on_half_second_grid;
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::runner::{Plan, run_report};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::verdict::{RunReport, Verdict};

#[test]
fn the_grid_is_narrow_and_mostly_late() {
    assert!(on_half_second_grid(Duration::from_millis(1_008)));
    assert!(on_half_second_grid(Duration::from_millis(2_089)));
    assert!(on_half_second_grid(Duration::from_millis(1_480)));
    // ×1.1 jitter on a 1 s wait is off it.
    assert!(!on_half_second_grid(Duration::from_millis(1_100)));
    assert!(!on_half_second_grid(Duration::from_millis(1_479)));
}

async fn no_jitter(cases: &[&str], settings: Settings) -> RunReport {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/bad/no_jitter.py");
    let plan = Plan {
        catalogue: Arc::new(Catalogue::builtin().unwrap()),
        client: ClientSpec::Command(format!("python3 {}", script.display())),
        settings,
        skip: Vec::new(),
        only: cases.iter().map(|c| c.to_string()).collect(),
    };
    run_report(&plan, "no_jitter".into()).await
}

/// With a 34 s give-up deadline, the SDK schedule without jitter makes 5 waits (1, 2, 4, 8,
/// 16 s, the last poll at about 32 s): enough to judge, and they are Truora's own schedule,
/// which the message says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_jitter_gets_a_warning_naming_truoras_sdk() {
    let r = no_jitter(
        &["never-completes"],
        Settings {
            deadline: Duration::from_secs(34),
            case_limit: Duration::from_secs(45),
            ..Settings::default()
        },
    )
    .await;
    let case = r.cases.iter().find(|c| c.id == "never-completes").unwrap();
    let rules: Vec<&str> = case.findings.iter().map(|f| f.rule.as_str()).collect();
    let shown = truidentidad_conformance::report::terminal::render(&r);
    assert_eq!(
        (case.verdict, rules),
        (Verdict::Warning, vec!["jitter"]),
        "{shown}"
    );
    assert!(
        case.findings[0]
            .message
            .contains("this is the schedule of Truora's own SDK"),
        "{shown}"
    );
    // A WARNING does not fail the run.
    assert!(r.passed());
}

/// With the suite's own 13 s deadline the same client makes 3 unhinted waits per case (1, 2,
/// 4 s; 1, 1, 2 s in `outage`, where it gives up after its 3rd error): too few to judge, so
/// every run gives it the same PASSED, as it gives Truora's SDK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_suites_deadline_the_sdk_schedule_is_too_short_to_judge() {
    let r = no_jitter(
        &["never-completes", "outage"],
        Settings {
            case_limit: Duration::from_secs(20),
            ..Settings::default()
        },
    )
    .await;
    let shown = truidentidad_conformance::report::terminal::render(&r);
    for id in ["never-completes", "outage"] {
        let case = r.cases.iter().find(|c| c.id == id).unwrap();
        assert_eq!(case.verdict, Verdict::Passed, "{shown}");
    }
}
