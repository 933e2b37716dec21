//! The jitter rule is a timing heuristic (every unhinted wait just past a half-second grid
//! point), so it gets its own test binary: cargo runs test binaries one at a time, which keeps
//! the other reference-client runs from loading the machine while it measures.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_conformance::catalogue::Catalogue;
use truidentidad_conformance::checks::on_half_second_grid;
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::runner::{Plan, run_report};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::verdict::Verdict;

#[test]
fn the_grid_is_one_sided() {
    assert!(on_half_second_grid(Duration::from_millis(1_008)));
    assert!(on_half_second_grid(Duration::from_millis(2_079)));
    assert!(!on_half_second_grid(Duration::from_millis(1_100)));
    assert!(!on_half_second_grid(Duration::from_millis(1_480)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_jitter_gets_a_warning() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/bad/no_jitter.py");
    let plan = Plan {
        catalogue: Arc::new(Catalogue::builtin().unwrap()),
        client: ClientSpec::Command(format!("python3 {}", script.display())),
        settings: Settings {
            case_limit: Duration::from_secs(20),
            ..Settings::default()
        },
        skip: Vec::new(),
        only: vec!["never-completes".into()],
    };
    let r = run_report(&plan, "no_jitter".into()).await;
    let case = r.cases.iter().find(|c| c.id == "never-completes").unwrap();
    let rules: Vec<&str> = case.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        (case.verdict, rules),
        (Verdict::Warning, vec!["jitter"]),
        "{}",
        truidentidad_conformance::report::terminal::render(&r)
    );
    // A WARNING does not fail the run.
    assert!(r.passed());
}
