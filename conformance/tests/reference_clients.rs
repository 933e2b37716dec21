//! The suite graded against its own reference clients, the self-test corpus listed in
//! `clients/expected.toml`: the good ones (Python, Node.js, shell) must pass every case, the
//! other polite ones (Truora's SDK schedule, full jitter, a timeout at the limit) must report
//! exactly their listed warnings, and each bad one must report exactly the rules the file names
//! for each of its cases. Polite clients run twice, and both runs must match. The JSON report
//! is snapshot with timestamps, durations, client stderr and request lists redacted, so a
//! change in any verdict or finding shows up in review.
//!
//! Needs `python3`, `node` (18+), `sh` with `curl`, `javac`/`java` (11+) and `go` on PATH (the
//! Java and Go clients are compiled once, by `expected.toml`'s `build` steps). Every case of every client run is
//! one job; [`CONCURRENT_CASES`] of them run at once, longest cases first.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use truidentidad_conformance::catalogue::{Catalogue, Level};
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::runner::{Plan, account_id, run_case, run_report};
use truidentidad_conformance::settings::{Settings, settings_report};
use truidentidad_conformance::verdict::{CaseReport, RunReport, Verdict};

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// Where `expected.toml`'s `build` steps put what they compile (`{build}` in a command).
fn build_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance-clients")
}

/// `{clients}` and `{build}` in a command of `expected.toml`, resolved.
fn resolve(command: &str) -> String {
    command
        .replace("{clients}", &clients_dir().display().to_string())
        .replace("{build}", &build_dir().display().to_string())
}

/// Runs `expected.toml`'s build steps once (compiling the Java and Go clients), so no case
/// pays a compiler's start-up; Go's cache goes under the build directory unless GOCACHE is set.
fn build_clients(steps: &[String]) {
    std::fs::create_dir_all(build_dir()).expect("build dir");
    for step in steps {
        let cmd = resolve(step);
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg(&cmd);
        if std::env::var_os("GOCACHE").is_none() {
            c.env("GOCACHE", build_dir().join("gocache"));
        }
        let out = c.output().unwrap_or_else(|e| panic!("`{cmd}`: {e}"));
        assert!(
            out.status.success(),
            "build step `{cmd}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

async fn run(command: &str, cases: &[&str], case_limit: Duration, jobs: usize) -> RunReport {
    let plan = plan_for(command, cases, case_limit, jobs);
    // The label is the command as written, so snapshots do not depend on the checkout path.
    run_report(&plan, format!("`{command}`")).await
}

/// Snapshots the JSON report with everything that depends on timing redacted.
fn snapshot(name: &str, report: &RunReport) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"t=\d+\.\d{3}s", "t=[t]");
    settings.add_filter(r"\d+\.\d{3}s", "[secs]");
    settings.add_filter(r"\(\[secs\](, \[secs\])*\)", "([waits])");
    settings.add_filter(
        r"\b\d+ (polls came|failed requests|errors in a row)",
        "[n] $1",
    );
    settings.add_filter(r"\(and \d+ more\)", "(and [n] more)");
    settings.add_redaction(".wall_time", "[duration]");
    settings.add_redaction(".cases[].duration", "[duration]");
    settings.add_redaction(".cases[].client.started", "[t]");
    settings.add_redaction(".cases[].client.ended", "[t]");
    settings.add_redaction(".cases[].client.first_request", "[t]");
    // Which id a client reports depends on how many creates it made: a polite client re-sends a
    // create that timed out on a loaded machine, and the re-send gets the mock's next id.
    settings.add_redaction(".cases[].client.report.validation_id", "[validation_id]");
    settings.add_redaction(".cases[].client.stderr_tail", "[stderr]");
    // How many polls fit before an outcome or a deadline, and which of two concurrent polls is
    // answered first, depend on timing: the report's verdicts and rules are the behaviour
    // under test (compared exactly above), so request lists and their numbers are redacted.
    settings.add_filter(r"#\d+ (GET|POST)", "#[seq] $1");
    settings.add_redaction(".cases[].requests", "[timing-dependent]");
    settings.add_redaction(".cases[].findings[].requests", "[timing-dependent]");
    settings.add_redaction(".finding_groups[].requests", "[timing-dependent]");
    settings.set_snapshot_suffix(name);
    settings.bind(|| insta::assert_json_snapshot!("report", report));
}

fn verdicts(report: &RunReport) -> Vec<(String, Verdict, Vec<String>)> {
    report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Skipped)
        .map(|c| {
            (
                c.id.clone(),
                c.verdict,
                c.findings.iter().map(|f| f.rule.clone()).collect(),
            )
        })
        .collect()
}

fn assert_all_passed(report: &RunReport) {
    let bad: Vec<_> = verdicts(report)
        .into_iter()
        .filter(|(_, v, _)| *v != Verdict::Passed)
        .collect();
    assert!(
        bad.is_empty(),
        "not PASSED: {bad:?}\n{}",
        truidentidad_conformance::report::terminal::render(report)
    );
    assert_eq!(report.summary.passed, report.cases.len());
}

/// One client of `clients/expected.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    name: String,
    command: String,
    /// Case id (or `*`) → the rules it must report, exactly.
    cases: BTreeMap<String, Vec<String>>,
    /// A polite client: run twice, and both runs must get exactly the expected verdicts (a
    /// verdict that depends on the run's timing or randomness is a bug in the suite).
    #[serde(default)]
    polite: bool,
    /// Case id → text that one of the case's finding messages must contain.
    #[serde(default)]
    messages: BTreeMap<String, String>,
    /// The HTTP stack the client is written on, for the corpus table.
    #[serde(default = "default_stack")]
    stack: String,
}

fn default_stack() -> String {
    "python urllib".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    /// Shell commands run once before the corpus (`{clients}`, `{build}` resolved).
    #[serde(default)]
    build: Vec<String>,
    client: Vec<Expected>,
}

fn expected_file() -> ExpectedFile {
    let path = clients_dir().join("expected.toml");
    let text = std::fs::read_to_string(&path).expect("clients/expected.toml");
    toml::from_str::<ExpectedFile>(&text).expect("clients/expected.toml parses")
}

fn expected() -> Vec<Expected> {
    expected_file().client
}

/// A case's verdict and rules, as the corpus table shows them: `PASSED`, or `FAILED
/// min-poll-interval`; `*` stands for every case.
fn summarize(rows: &[(String, Verdict, Vec<String>)]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for (case, v, rules) in rows {
        let text = if rules.is_empty() {
            format!("{v:?}").to_uppercase()
        } else {
            format!(
                "{case}: {} {}",
                format!("{v:?}").to_uppercase(),
                rules.join("+")
            )
        };
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen.join("; ")
}

/// The verdict a case gets when exactly these rules report findings.
fn verdict_of(catalogue: &Catalogue, rules: &[String]) -> Verdict {
    rules
        .iter()
        .map(|id| {
            let rule = catalogue
                .rules
                .iter()
                .find(|r| &r.id == id)
                .unwrap_or_else(|| panic!("expected.toml names unknown rule `{id}`"));
            match rule.level {
                Level::Must => Verdict::Failed,
                Level::Should => Verdict::Warning,
            }
        })
        .max()
        .unwrap_or(Verdict::Passed)
}

/// Client runs (one case of one client) going at once across the whole corpus. The corpus is
/// about 200 of them; started all together, the interpreters' start-up alone would hold two
/// cores for many seconds and every client's first request would come late. 32 keeps the
/// machine responsive and the corpus near a minute.
const CONCURRENT_CASES: usize = 24;

/// Cases started first because they run longest (a stalled request, a deadline, a re-sent
/// create), so the last ones to start are short.
const LONG_CASES: [&str; 5] = [
    "stalled-poll",
    "never-completes",
    "outage",
    "create-reset",
    "create-rate-limited",
];

/// One run of one client (its index in the corpus): the plan, with its cases in `only`.
struct ClientRun {
    client: usize,
    plan: Arc<Plan>,
}

/// The plan of one client run: `{clients}` in the command resolved, `only` these cases.
fn plan_for(command: &str, only: &[&str], case_limit: Duration, jobs: usize) -> Plan {
    let cmd = resolve(command);
    Plan {
        catalogue: Arc::new(Catalogue::builtin().expect("catalogue")),
        client: ClientSpec::Command(cmd),
        settings: Settings {
            jobs,
            case_limit,
            ..Settings::default()
        },
        skip: Vec::new(),
        only: only.iter().map(|c| c.to_string()).collect(),
    }
}

/// The rules each case of a client must report, in catalogue order, with the verdict they give.
fn wanted(catalogue: &Catalogue, e: &Expected) -> Vec<(String, Verdict, Vec<String>)> {
    let mut want = Vec::new();
    for case in &catalogue.cases {
        let Some(rules) = e.cases.get(&case.id).or_else(|| e.cases.get("*")) else {
            continue;
        };
        let mut rules = rules.clone();
        // Findings come in catalogue order.
        rules.sort_by_key(|id| catalogue.rules.iter().position(|r| &r.id == id));
        want.push((case.id.clone(), verdict_of(catalogue, &rules), rules));
    }
    want
}

/// Compares every run of one client with the file: each verdict, rule list and message.
fn check_client(catalogue: &Catalogue, e: &Expected, reports: &[RunReport]) -> Result<(), String> {
    let want = wanted(catalogue, e);
    let runs = reports.len();
    for (i, r) in reports.iter().enumerate() {
        let got: Vec<(String, Verdict, Vec<String>)> = verdicts(r)
            .into_iter()
            .map(|(c, v, mut rules)| {
                rules.dedup();
                (c, v, rules)
            })
            .collect();
        if got != want {
            return Err(format!(
                "{} (run {} of {runs}): verdicts differ from clients/expected.toml\n  want: {want:?}\n  got:  {got:?}\n{}",
                e.name,
                i + 1,
                truidentidad_conformance::report::terminal::render(r)
            ));
        }
        for (case, text) in &e.messages {
            let found = r
                .cases
                .iter()
                .filter(|c| &c.id == case)
                .flat_map(|c| &c.findings)
                .any(|f| f.message.contains(text.as_str()));
            if !found {
                return Err(format!(
                    "{}: no finding of case `{case}` says {text:?}\n{}",
                    e.name,
                    truidentidad_conformance::report::terminal::render(r)
                ));
            }
        }
        if e.cases.contains_key("*") && want.iter().all(|(_, v, _)| *v == Verdict::Passed) {
            assert_all_passed(r);
        }
    }
    Ok(())
}

/// The self-test corpus: every client in `clients/expected.toml` on its cases, polite ones
/// twice; any verdict or rule that differs from the file fails the test. Every case of every
/// run is one job; the jobs share [`CONCURRENT_CASES`] slots, longest cases first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_client_gets_its_expected_verdicts() {
    let catalogue = Arc::new(Catalogue::builtin().expect("catalogue"));
    let file = expected_file();
    build_clients(&file.build);
    let corpus = file.client;
    let mut failures = Vec::new();
    let mut runs: Vec<ClientRun> = Vec::new();
    for (i, e) in corpus.iter().enumerate() {
        for id in e.cases.keys().filter(|k| *k != "*") {
            if catalogue.case(id).is_none() {
                failures.push(format!(
                    "{}: expected.toml names unknown case `{id}`",
                    e.name
                ));
            }
        }
        let only: Vec<&str> = if e.cases.contains_key("*") {
            Vec::new()
        } else {
            e.cases.keys().map(String::as_str).collect()
        };
        for _ in 0..if e.polite { 2 } else { 1 } {
            runs.push(ClientRun {
                client: i,
                plan: Arc::new(plan_for(&e.command, &only, Duration::from_secs(25), 1)),
            });
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every (run, case) to start, longest cases first, then in file order.
    let mut jobs: Vec<(usize, usize)> = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        for (c, case) in catalogue.cases.iter().enumerate() {
            if run.plan.only.is_empty() || run.plan.only.contains(&case.id) {
                jobs.push((r, c));
            }
        }
    }
    let rank = |c: usize| {
        LONG_CASES
            .iter()
            .position(|id| *id == catalogue.cases[c].id)
            .unwrap_or(LONG_CASES.len())
    };
    jobs.sort_by_key(|&(r, c)| (rank(c), r, c));
    let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_CASES));
    let mut tasks: BTreeMap<(usize, usize), tokio::task::JoinHandle<_>> = BTreeMap::new();
    for (r, c) in jobs {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let plan = runs[r].plan.clone();
        let case = catalogue.cases[c].clone();
        tasks.insert(
            (r, c),
            tokio::spawn(async move {
                let _permit = permit;
                run_case(&plan, &case).await
            }),
        );
    }

    // Each run's report, as `run_report` would have built it.
    let mut reports: Vec<Vec<RunReport>> = corpus.iter().map(|_| Vec::new()).collect();
    for (r, run) in runs.iter().enumerate() {
        let mut cases = Vec::new();
        for (c, case) in catalogue.cases.iter().enumerate() {
            let report = match tasks.remove(&(r, c)) {
                None => CaseReport::not_run(
                    case,
                    account_id(case),
                    Verdict::Skipped,
                    "not selected (--case)".into(),
                ),
                Some(t) => t.await.unwrap_or_else(|e| {
                    CaseReport::not_run(
                        case,
                        account_id(case),
                        Verdict::Interrupted,
                        format!("the case's task failed: {e}"),
                    )
                }),
            };
            cases.push(report);
        }
        let e = &corpus[run.client];
        reports[run.client].push(RunReport {
            schema: 1,
            suite: "truidentidad-conformance",
            version: env!("CARGO_PKG_VERSION"),
            // The command as written, so snapshots do not depend on the checkout path.
            client: format!("`{}`", e.command),
            settings: settings_report(&run.plan.settings, &run.plan.skip),
            summary: RunReport::summarize(&cases),
            expect: None,
            // The cases of a run did not run together; the longest stands in (redacted anyway).
            wall_time: cases.iter().map(|c| c.duration).max().unwrap_or_default(),
            cases,
        });
    }

    // The corpus table (`--nocapture` shows it): client, stack, each run's verdicts, expected.
    println!("| client | stack | run 1 | run 2 | expected |\n|---|---|---|---|---|");
    for (e, reports) in corpus.iter().zip(&reports) {
        let run = |i: usize| {
            reports
                .get(i)
                .map_or("-".into(), |r| summarize(&verdicts(r)))
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            e.name,
            e.stack,
            run(0),
            run(1),
            summarize(&wanted(&catalogue, e))
        );
    }
    for (e, reports) in corpus.iter().zip(&reports) {
        match check_client(&catalogue, e, reports) {
            Ok(()) => {
                if let Some(r) = reports.first() {
                    snapshot(&e.name, r);
                }
            }
            Err(msg) => failures.push(msg),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every bad client in `clients/bad/` is in the corpus, and every defect the issue names is
/// FAILED by its own rule, alone, in some case of it.
#[test]
fn the_corpus_covers_every_bad_client_and_attributed_rule() {
    let corpus = expected();
    let names: Vec<&str> = corpus.iter().map(|e| e.name.as_str()).collect();
    let mut scripts: Vec<String> = std::fs::read_dir(clients_dir().join("bad"))
        .expect("clients/bad")
        .filter_map(|d| d.ok())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".py") && !f.starts_with('_'))
        .collect();
    scripts.sort();
    for f in &scripts {
        let name = format!("bad-{}", f.trim_end_matches(".py"));
        // no_jitter only ever WARNs (a SHOULD rule, a timing heuristic): tests/jitter_heuristic.rs.
        if name != "bad-no_jitter" {
            assert!(
                names.contains(&name.as_str()),
                "{name} missing from expected.toml"
            );
        }
    }
    // Every other Python client (the polite variants of the good one) is in the corpus too, and
    // run twice.
    let mut polite: Vec<String> = std::fs::read_dir(clients_dir().join("python"))
        .expect("clients/python")
        .filter_map(|d| d.ok())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        // service.py is good_client.py behind HTTP, for `--client-url` (the fleet test in
        // benches/tests/fleet.rs drives it), not a command of its own.
        .filter(|f| f.ends_with(".py") && f != "good_client.py" && f != "service.py")
        .map(|f| f.trim_end_matches(".py").to_string())
        .collect();
    polite.extend(["python-good", "node-good", "shell-good"].map(String::from));
    for name in &polite {
        let e = corpus.iter().find(|e| &e.name == name);
        assert!(
            e.is_some_and(|e| e.polite),
            "{name} missing from expected.toml or not marked polite"
        );
    }
    assert!(
        corpus.len() >= 20,
        "the corpus has {} client behaviours; issue 14 asks for at least 20",
        corpus.len()
    );
    for rule in [
        "min-poll-interval",
        "api-key-on-every-request",
        "create-form-encoded",
        "one-poll-in-flight",
        "no-retry-unchanged-4xx",
        "honour-retry-after",
        "client-completes",
        "outcome-matches",
        "stop-after-terminal",
        "poll-uses-validation-id",
        "create-type-government",
        "create-account-id",
    ] {
        let alone = corpus.iter().any(|e| {
            e.cases
                .values()
                .any(|rules| rules.len() == 1 && rules[0] == rule)
        });
        assert!(
            alone,
            "no client in expected.toml FAILS `{rule}` alone in some case"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_start_is_interrupted_not_failed() {
    let r = run(
        "/nonexistent/client-binary",
        &["success"],
        Duration::from_secs(10),
        1,
    )
    .await;
    // `sh -c` starts, the command inside it does not: the client ran and crashed, which FAILS.
    assert_eq!(verdicts(&r)[0].1, Verdict::Failed);
    let plan = Plan {
        catalogue: Arc::new(Catalogue::builtin().unwrap()),
        client: ClientSpec::Url("http://127.0.0.1:9/never".into()),
        settings: Settings {
            quiet_window: Duration::ZERO,
            ..Settings::default()
        },
        skip: Vec::new(),
        only: vec!["success".into()],
    };
    let r = run_report(&plan, "service".into()).await;
    assert_eq!(r.cases[0].verdict, Verdict::Interrupted, "{:?}", r.cases[0]);
    assert!(
        r.cases[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with("could not reach the client at http://127.0.0.1:9/never")
    );
    assert!(!r.passed());
}
