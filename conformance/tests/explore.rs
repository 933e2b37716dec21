//! `conformance explore` against its self-test corpus (`clients/explore/`): each client has one
//! realistic defect that every fixed case misses (`clients/expected.toml` holds them to PASSED
//! in `tests/reference_clients.rs`). Explore must find each within a fixed seed and budget,
//! shrink it to at most 3 faults, and the minimal scenario file must FAIL the same rule when
//! run as an ordinary case (`conformance run --case-file`). Two polite clients (the good
//! Python client and its full-jitter variant) must get no FAILED over 200 generated scenarios
//! each.
//!
//! Real time: the clients are processes that sleep on the wall clock (the mock cannot move
//! their time), so the generated scenarios are short (an outcome within 5 s or 3 polls) and
//! everything runs at once: all explorations concurrently, each with its own `--jobs`.
//! Needs `python3` on PATH.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_conformance::catalogue::Catalogue;
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::explore::{self, Exploration, Options, case_file, report};
use truidentidad_conformance::runner::{Plan, run_report};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::verdict::Verdict;

fn clients() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

fn options(command: &str, seed: u64, runs: u64, jobs: usize) -> Options {
    Options {
        client: ClientSpec::Command(command.to_string()),
        label: format!("`{command}`"),
        seed,
        runs,
        max_time: Duration::from_secs(600),
        only_index: None,
        // Each defect is deterministic once its faults are served, so 1 run per candidate;
        // the CLI's default is 2 (see src/explore/shrink.rs).
        shrink_tries: 1,
        shrink_budget: 40,
        corpus: None,
        skip: Vec::new(),
        settings: Settings {
            jobs,
            outcome_deadline: explore::generate::OUTCOME_DEADLINE,
            ..Settings::default()
        },
    }
}

/// A defect client, the seed and budget it must be found within, and the rule it breaks.
struct Defect {
    script: &'static str,
    seed: u64,
    runs: u64,
    rule: &'static str,
}

const DEFECTS: &[Defect] = &[
    Defect {
        script: "error_counter_never_reset.py",
        seed: 1,
        runs: 120,
        rule: "outcome-matches",
    },
    Defect {
        script: "capped_retry_after.py",
        seed: 1,
        runs: 120,
        rule: "honour-retry-after",
    },
    Defect {
        script: "crash_on_malformed_after_retry.py",
        seed: 1,
        runs: 120,
        rule: "client-completes",
    },
    Defect {
        script: "create_503_final.py",
        seed: 1,
        runs: 120,
        rule: "client-completes",
    },
];

/// The minimal scenario, run as an ordinary case from its file.
async fn replay(opts: &Options, x: &Exploration) -> (Verdict, Vec<String>) {
    let f = x.found.as_ref().expect("found");
    let toml = report::minimal_toml(opts, f);
    let base = Catalogue::builtin().unwrap();
    let catalogue = case_file::catalogue_with(&base, "minimal.toml", &toml)
        .unwrap_or_else(|e| panic!("the minimal file must be a valid scenario file: {e}\n{toml}"));
    let scenarios: Vec<_> = catalogue
        .cases
        .iter()
        .filter_map(|c| catalogue.scenarios.id_of(&c.scenario))
        .map(|id| catalogue.scenarios.get(id).clone())
        .collect();
    let refs: Vec<_> = scenarios.iter().collect();
    let plan = Plan {
        settings: case_file::settings_for(&refs, &opts.settings),
        catalogue: Arc::new(catalogue),
        client: opts.client.clone(),
        skip: Vec::new(),
        only: Vec::new(),
    };
    let run = run_report(&plan, opts.label.clone()).await;
    let case = &run.cases[0];
    (case.verdict, explore::rules_with(case, Verdict::Failed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_finds_and_shrinks_every_defect_and_passes_the_polite_clients() {
    let catalogue = Arc::new(Catalogue::builtin().unwrap());
    let mut tasks = Vec::new();
    for d in DEFECTS {
        let cmd = format!("python3 {}/explore/{}", clients().display(), d.script);
        let opts = options(&cmd, d.seed, d.runs, 4);
        let catalogue = catalogue.clone();
        tasks.push(tokio::spawn(async move {
            let x = explore::explore(catalogue, opts.clone()).await.unwrap();
            let replayed = if x.found.is_some() {
                Some(replay(&opts, &x).await)
            } else {
                None
            };
            (opts, x, replayed)
        }));
    }
    let polite = [
        format!("python3 {}/python/good_client.py", clients().display()),
        format!("python3 {}/python/full_jitter.py", clients().display()),
    ];
    let mut polite_tasks = Vec::new();
    for cmd in &polite {
        let opts = options(cmd, 2, 200, 12);
        let catalogue = catalogue.clone();
        polite_tasks.push(tokio::spawn(async move {
            explore::explore(catalogue, opts).await.unwrap()
        }));
    }

    let mut problems = Vec::new();
    for (d, t) in DEFECTS.iter().zip(tasks) {
        let (opts, x, replayed) = t.await.unwrap();
        let Some(f) = &x.found else {
            problems.push(format!(
                "{}: not found in {} scenarios of seed {}",
                d.script,
                x.runs.len(),
                d.seed
            ));
            continue;
        };
        eprintln!(
            "{}: found at {} after {} scenario(s) in {:.1}s; shrunk in {} runs to {} fault(s), {} phase(s): {}; replay {:?}",
            d.script,
            f.source,
            x.runs.len(),
            x.wall_time.as_secs_f64(),
            f.shrink_runs,
            f.minimal.fault_count(),
            f.minimal.phases.len(),
            f.minimal_summary,
            replayed
        );
        if f.rule != d.rule {
            problems.push(format!(
                "{}: FAILED `{}`, expected `{}` ({})",
                d.script,
                f.rule,
                d.rule,
                report::render(&x, &opts, None)
            ));
        }
        if f.minimal.fault_count() > 3 {
            problems.push(format!(
                "{}: shrunk to {} faults (at most 3): {}",
                d.script,
                f.minimal.fault_count(),
                f.minimal_summary
            ));
        }
        match replayed {
            Some((Verdict::Failed, rules)) if rules.iter().any(|r| r == d.rule) => {}
            other => problems.push(format!(
                "{}: the minimal case replayed as {other:?}, expected FAILED with `{}`",
                d.script, d.rule
            )),
        }
    }
    for (cmd, t) in polite.iter().zip(polite_tasks) {
        let x = t.await.unwrap();
        let failed: Vec<String> = x
            .runs
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Failed | Verdict::Interrupted))
            .map(|r| format!("{} {:?} {}", r.source, r.failed_rules, r.summary))
            .collect();
        eprintln!(
            "{cmd}: {} scenarios in {:.1}s, {} FAILED",
            x.runs.len(),
            x.wall_time.as_secs_f64(),
            failed.len()
        );
        if x.runs.len() < 200 || !failed.is_empty() {
            problems.push(format!(
                "{cmd}: {} scenarios, FAILED or INTERRUPTED: {failed:?}",
                x.runs.len()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
