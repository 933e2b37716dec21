//! The suite graded against its own reference clients, the self-test corpus listed in
//! `clients/expected.toml`: the good ones (Python, Node.js, shell) must pass every case, and
//! each bad one must report exactly the rules the file names for each of its cases. The JSON report
//! is snapshot with timestamps, durations and client stderr redacted, so a change in any
//! verdict, finding or request shows up in review.
//!
//! Needs `python3`, `node` (18+) and `sh` with `curl` on PATH. Cases of one client run in
//! parallel; the test harness runs clients in parallel too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use truidentidad_conformance::catalogue::{Catalogue, Level};
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::runner::{Plan, run_report};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::verdict::{RunReport, Verdict};

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

async fn run(command: &str, cases: &[&str], case_limit: Duration, jobs: usize) -> RunReport {
    let cmd = command.replace("{clients}", &clients_dir().display().to_string());
    let plan = Plan {
        catalogue: Arc::new(Catalogue::builtin().expect("catalogue")),
        client: ClientSpec::Command(cmd),
        settings: Settings {
            jobs,
            case_limit,
            ..Settings::default()
        },
        skip: Vec::new(),
        only: cases.iter().map(|c| c.to_string()).collect(),
    };
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    client: Vec<Expected>,
}

fn expected() -> Vec<Expected> {
    let path = clients_dir().join("expected.toml");
    let text = std::fs::read_to_string(&path).expect("clients/expected.toml");
    toml::from_str::<ExpectedFile>(&text)
        .expect("clients/expected.toml parses")
        .client
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

/// Runs one client on its cases and compares every verdict and rule list with the file.
async fn check_client(e: Expected) -> Result<(), String> {
    let catalogue = Catalogue::builtin().expect("catalogue");
    let all = e.cases.contains_key("*");
    for id in e.cases.keys().filter(|k| *k != "*") {
        if catalogue.case(id).is_none() {
            return Err(format!(
                "{}: expected.toml names unknown case `{id}`",
                e.name
            ));
        }
    }
    let only: Vec<&str> = if all {
        Vec::new()
    } else {
        e.cases.keys().map(String::as_str).collect()
    };
    // A client run on every case runs half of them at a time, so the whole corpus (about 70
    // client runs) does not start at once on a small machine.
    let jobs = if all { 7 } else { only.len() };
    let r = run(&e.command, &only, Duration::from_secs(25), jobs).await;
    let mut want: Vec<(String, Verdict, Vec<String>)> = Vec::new();
    for case in &catalogue.cases {
        let Some(rules) = e.cases.get(&case.id).or_else(|| e.cases.get("*")) else {
            continue;
        };
        let mut rules = rules.clone();
        // Findings come in catalogue order.
        rules.sort_by_key(|id| catalogue.rules.iter().position(|r| &r.id == id));
        want.push((case.id.clone(), verdict_of(&catalogue, &rules), rules));
    }
    let got: Vec<(String, Verdict, Vec<String>)> = verdicts(&r)
        .into_iter()
        .map(|(c, v, mut rules)| {
            rules.dedup();
            (c, v, rules)
        })
        .collect();
    if got != want {
        return Err(format!(
            "{}: verdicts differ from clients/expected.toml\n  want: {want:?}\n  got:  {got:?}\n{}",
            e.name,
            truidentidad_conformance::report::terminal::render(&r)
        ));
    }
    if all && want.iter().all(|(_, v, _)| *v == Verdict::Passed) {
        assert_all_passed(&r);
    }
    snapshot(&e.name, &r);
    Ok(())
}

/// The self-test corpus: every client in `clients/expected.toml`, all at once, each on its
/// cases; any verdict or rule that differs from the file fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_client_gets_its_expected_verdicts() {
    let runs: Vec<_> = expected()
        .into_iter()
        .map(|e| {
            let name = e.name.clone();
            (name, tokio::spawn(check_client(e)))
        })
        .collect();
    let mut failures = Vec::new();
    for (name, r) in runs {
        match r.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(format!("{name}: {e}")),
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
