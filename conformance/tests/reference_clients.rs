//! The suite graded against its own reference clients: the good ones (Python, Node.js, shell)
//! must pass every case, and each bad one must fail exactly the rule it breaks. The JSON report
//! is snapshot with timestamps, durations and client stderr redacted, so a change in any
//! verdict, finding or request shows up in review.
//!
//! Needs `python3`, `node` (18+) and `sh` with `curl` on PATH. Cases of one client run in
//! parallel; the test harness runs clients in parallel too.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_conformance::catalogue::Catalogue;
use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::runner::{Plan, run_report};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::verdict::{RunReport, Verdict};

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

async fn run(command: &str, cases: &[&str], case_limit: Duration) -> RunReport {
    let cmd = command.replace("{clients}", &clients_dir().display().to_string());
    let plan = Plan {
        catalogue: Arc::new(Catalogue::builtin().expect("catalogue")),
        client: ClientSpec::Command(cmd),
        settings: Settings {
            jobs: 13,
            case_limit,
            ..Settings::default()
        },
        skip: Vec::new(),
        only: cases.iter().map(|c| c.to_string()).collect(),
    };
    // The label is the command as written, so snapshots do not depend on the checkout path.
    run_report(&plan, format!("`{command}`")).await
}

/// Snapshots the JSON report with everything that depends on timing redacted. `requests`
/// false replaces request lists whose length depends on timing (tight loops).
fn snapshot(name: &str, report: &RunReport, requests: bool) {
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
    settings.add_redaction(".cases[].requests[].received", "[t]");
    settings.add_redaction(".cases[].requests[].sent", "[t]");
    if !requests {
        // How many requests fit before a deadline depends on timing, so does the last one's
        // number.
        settings.add_filter(r"to #\d+ (GET|POST)", "to #[seq] $1");
        settings.add_redaction(".cases[].requests", "[timing-dependent]");
        settings.add_redaction(".cases[].findings[].requests", "[timing-dependent]");
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_good_client_passes_everything() {
    let r = run(
        "python3 {clients}/python/good_client.py",
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert_all_passed(&r);
    snapshot("python-good", &r, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_good_client_passes_everything() {
    let r = run(
        "node {clients}/node/good_client.mjs",
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert_all_passed(&r);
    snapshot("node-good", &r, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_good_client_passes_everything() {
    let r = run(
        "sh {clients}/shell/good_client.sh",
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert_all_passed(&r);
    snapshot("shell-good", &r, true);
}

/// Each bad client, the cases that expose it, and the exact rules it must break.
async fn bad(script: &str, cases: &[&str], want: &[(&str, Verdict, &[&str])], requests: bool) {
    let r = run(
        &format!("python3 {{clients}}/bad/{script}.py"),
        cases,
        Duration::from_secs(25),
    )
    .await;
    let got = verdicts(&r);
    let want: Vec<(String, Verdict, Vec<String>)> = want
        .iter()
        .map(|(c, v, rules)| {
            (
                c.to_string(),
                *v,
                rules.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        want,
        "\n{}",
        truidentidad_conformance::report::terminal::render(&r)
    );
    snapshot(&format!("bad-{script}"), &r, requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_clients_break_exactly_their_rule() {
    let runs = [
        tokio::spawn(bad(
            "no_key_on_polls",
            &["success"],
            &[(
                "success",
                Verdict::Failed,
                &[
                    "client-completes",
                    "api-key-on-every-request",
                    "outcome-matches",
                ],
            )],
            true,
        )),
        tokio::spawn(bad(
            "json_body",
            &["success"],
            &[(
                "success",
                Verdict::Failed,
                &["client-completes", "create-form-encoded", "outcome-matches"],
            )],
            true,
        )),
        tokio::spawn(bad(
            "tight_loop",
            &["success"],
            &[("success", Verdict::Failed, &["min-poll-interval"])],
            false,
        )),
        tokio::spawn(bad(
            "ignores_retry_after",
            &["rate-limited"],
            &[("rate-limited", Verdict::Failed, &["honour-retry-after"])],
            true,
        )),
        tokio::spawn(bad(
            "keeps_polling",
            &["success"],
            &[("success", Verdict::Failed, &["stop-after-terminal"])],
            true,
        )),
        tokio::spawn(bad(
            "wrong_outcome",
            &["declined"],
            &[("declined", Verdict::Failed, &["outcome-matches"])],
            true,
        )),
        tokio::spawn(bad(
            "never_gives_up",
            &["never-completes"],
            &[(
                "never-completes",
                Verdict::Failed,
                &["client-completes", "give-up-by-deadline"],
            )],
            false,
        )),
        tokio::spawn(bad(
            "retries_forever",
            &["outage"],
            &[(
                "outage",
                Verdict::Failed,
                &["backoff-on-errors", "retries-capped"],
            )],
            false,
        )),
        tokio::spawn(bad(
            "no_request_timeout",
            &["stalled-poll"],
            &[(
                "stalled-poll",
                Verdict::Failed,
                &["client-completes", "abort-stalled-request"],
            )],
            true,
        )),
    ];
    let mut failures = Vec::new();
    for r in runs {
        if let Err(e) = r.await {
            failures.push(e.to_string());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_start_is_interrupted_not_failed() {
    let r = run(
        "/nonexistent/client-binary",
        &["success"],
        Duration::from_secs(10),
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
