//! `conformance explore` against its self-test corpus (`clients/explore/`): each client has one
//! realistic defect that every fixed case misses (`clients/expected.toml` holds them to PASSED
//! in `tests/reference_clients.rs`). Explore must find each within a fixed seed and budget,
//! shrink it to at most 3 faults, and the minimal scenario file must FAIL the same rule when
//! run as an ordinary case (`conformance run --case-file`). Two polite clients (the good
//! Python and Node clients) must be graded PASSED or WARNING over 200
//! generated scenarios each: every scenario judged, none FAILED, INTERRUPTED or SKIPPED, and
//! the fault kinds they were served listed.
//!
//! Real time, and why not a virtual clock: the clients are processes that sleep on the wall
//! clock (the mock cannot move their time), and a scenario lasts as long as the client's own
//! waits (a mean of 13 to 19 s for these clients, see conformance/README.md, "Self-test").
//! Nearly all of that is the client sleeping, not CPU (a Python start-up is about 0.3 s), so
//! what keeps the test short is concurrency: all six explorations at once, each with many
//! `--jobs` ([`DEFECT_JOBS`], [`POLITE_JOBS`]). The seeds and budgets are fixed, and so are
//! the scenarios (a pure function of seed and index), so more jobs change the wall time, not
//! what is generated or which scenario is shrunk (the lowest failing index, whatever `--jobs`).
//! Needs `python3` and `node` on PATH.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_conformance::catalogue::Catalogue;
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::explore::{self, Exploration, Options, case_file, report};
use truidentidad_conformance::runner::{Plan, run_report};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::verdict::Verdict;

/// Scenarios run at once per defect exploration. Also the shrink's width: each shrink step runs
/// up to this many candidates at once, so a step is one round of client runs.
const DEFECT_JOBS: usize = 8;
/// Scenarios run at once per polite exploration: 200 scenarios of 13 to 19 s each, 24 at a
/// time, take about 9 rounds. Not more: with 40 (and 12 per defect, 128 clients at once) on
/// the 2-core machine at a load average near 20, clients woke seconds late from their sleeps
/// and three stall scenarios FAILED the good clients (each PASSED alone, also under load).
const POLITE_JOBS: usize = 24;

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
        // Room for a few steps of DEFECT_JOBS candidates each.
        shrink_budget: 60,
        corpus: None,
        skip: Vec::new(),
        settings: Settings {
            jobs,
            outcome_deadline: explore::generate::OUTCOME_DEADLINE,
            ..Settings::default()
        },
    }
}

/// A defect client, the seed and budget it must be found within, and the rule it breaks. The
/// seeds are fixed. Two were picked by searching the generator's output (a `Retry-After` of
/// 11 s or more on the first poll; three failing polls before the outcome) for a first failing
/// scenario that is already small, which keeps the shrink, the longest part of an exploration,
/// to one or two rounds of client runs.
struct Defect {
    script: &'static str,
    seed: u64,
    runs: u64,
    rule: &'static str,
}

const DEFECTS: &[Defect] = &[
    // Seed 1 finds it too (at 1:16, shrunk in 21 runs and 3 steps); seed 224 finds it at its
    // second scenario with the 3 faults already minimal, so its shrink is one round.
    Defect {
        script: "error_counter_never_reset.py",
        seed: 224,
        runs: 120,
        rule: "outcome-matches",
    },
    // Seed 1 finds it too (at 1:6, but with 4 faults, 2 phases and a Retry-After of 13 s, which
    // take 8 shrink steps of about 20 s each); seed 359 draws one fault, a 429 with Retry-After
    // 14 s on poll 1, at 359:0 (4 s over the cap, so a loaded machine's late wake-ups cannot
    // hide it; a Retry-After of 11 s was missed once at a load average near 20).
    Defect {
        script: "capped_retry_after.py",
        seed: 359,
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

/// The mean wall time of a scenario run (client start to verdict), in seconds.
fn mean_secs(x: &Exploration) -> f64 {
    let total: f64 = x.runs.iter().map(|r| r.duration.as_secs_f64()).sum();
    total / x.runs.len().max(1) as f64
}

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
        let opts = options(&cmd, d.seed, d.runs, DEFECT_JOBS);
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
        // Another HTTP stack. It explored `full_jitter.py` while the Node client failed 3 of 17
        // scenarios on a loaded machine; the cause was its create timing out before it was sent
        // (see the client's warmUp), fixed in the client.
        format!("node {}/node/good_client.mjs", clients().display()),
    ];
    let mut polite_tasks = Vec::new();
    for cmd in &polite {
        let opts = options(cmd, 2, 200, POLITE_JOBS);
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
            "{}: found at {} after {} scenario(s) (mean {:.1}s each) in {:.1}s; shrunk in {} runs to {} fault(s), {} phase(s): {}; replay {:?}",
            d.script,
            f.source,
            x.runs.len(),
            mean_secs(&x),
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
        // Judged means PASSED or WARNING: a SKIPPED run (nothing graded) does not count.
        let failed: Vec<String> = x
            .runs
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::Passed | Verdict::Warning))
            .map(|r| {
                format!(
                    "{} {:?} {:?} {}",
                    r.source, r.verdict, r.failed_rules, r.summary
                )
            })
            .collect();
        eprintln!(
            "{cmd}: {} scenarios (mean {:.1}s each) in {:.1}s, {} not PASSED or WARNING\n{}",
            x.runs.len(),
            mean_secs(&x),
            x.wall_time.as_secs_f64(),
            failed.len(),
            explore::coverage::of(&x.runs).render()
        );
        if x.runs.len() < 200 || !failed.is_empty() {
            problems.push(format!(
                "{cmd}: {} scenarios, not PASSED or WARNING: {failed:?}",
                x.runs.len()
            ));
        }
        // The 200 scenarios reached the client: every fault kind was served to it at least once.
        let unserved = explore::coverage::of(&x.runs).unserved();
        if !unserved.is_empty() {
            problems.push(format!("{cmd}: fault kinds never served: {unserved:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
