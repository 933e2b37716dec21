//! `truidentidad-mock conformance …` arguments and entry point.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::catalogue::Catalogue;
use crate::client_args::{ClientArgs, await_client};
use crate::expect;
use crate::report;
use crate::runner::{self, Plan};
use crate::server_check::{self, ServerPlan};
use crate::settings::{API_KEY, Settings};
pub use crate::suite_error::SuiteError;
use crate::suite_error::runtime;

/// Arguments of `truidentidad-mock conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the client under test once per case and grade every request it makes.
    #[command(after_help = RUN_HELP)]
    Run(Box<RunArgs>),
    /// List the rules and cases (the catalogue).
    #[command(after_help = "Example:\n  truidentidad-mock conformance list")]
    List,
    /// Check a TruIdentidad server's answers (status codes, envelope, formats, state machine).
    #[command(after_help = SERVER_HELP)]
    Server(ServerArgs),
    /// Generate scenarios, run the client against each, shrink the first FAILED to a minimal
    /// scenario file.
    #[command(after_help = crate::explore::cli::EXPLORE_HELP)]
    Explore(Box<crate::explore::cli::ExploreArgs>),
}

const RUN_HELP: &str = "\
The client gets TRUORA_API_BASE_URL, TRUORA_API_KEY, TRUORA_ACCOUNT_ID and
TRUORA_POLL_DEADLINE_SECONDS, creates one validation, follows it, prints one JSON object
({\"validation_id\": ..., \"validation_status\": ..., \"failure_status\": ...}) as its last line
of stdout and exits 0. See `truidentidad-mock docs conformance`.

Exit codes: 0 nothing FAILED, 1 a case FAILED or was INTERRUPTED (or an --expect entry
matched nothing), 2 the suite itself could not run (bad arguments or files).

Case ids (--case):
  success, declined, system-error, expired, rate-limited, server-errors, connection-reset,
  stalled-poll, create-rate-limited, create-reset, never-completes, outage,
  invalid-api-key, poll-not-found

Rule ids (--skip; `truidentidad-mock conformance list` gives their titles):
  client-completes, api-key-on-every-request, create-form-encoded, create-type-government,
  create-account-id, user-authorized, poll-uses-validation-id, min-poll-interval,
  honour-retry-after, slow-down-persists, backoff-on-errors, jitter, one-poll-in-flight,
  retries-capped, no-retry-unchanged-4xx, create-not-resent-blindly, stop-after-terminal,
  give-up-by-deadline, abort-stalled-request, outcome-matches

Examples:
  truidentidad-mock conformance run --client 'python3 conformance/clients/python/good_client.py'
  truidentidad-mock conformance run --client 'node client.mjs' --junit junit.xml --json report.json
  truidentidad-mock conformance run --client ./client.sh --case success --case rate-limited
  truidentidad-mock conformance run --client ./client.sh --skip jitter --expect known.toml
  truidentidad-mock conformance run --client-url http://127.0.0.1:9000/verify --html report.html";

const SERVER_HELP: &str = "\
Examples:
  truidentidad-mock serve --port 8080 &
  truidentidad-mock conformance server --base-url http://127.0.0.1:8080 --api-key test";

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Run only this case (repeatable); the others are reported SKIPPED.
    #[arg(long = "case", value_name = "ID")]
    cases: Vec<String>,
    /// Do not check this rule (repeatable).
    #[arg(long = "skip", value_name = "RULE")]
    skip: Vec<String>,
    /// Cases run at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    jobs: usize,
    /// Shortest accepted wait between a response and the next poll (Truora's SDK: 1 s first).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    min_interval: Duration,
    /// Slack on every lower bound (minimum interval, Retry-After, slow-down), for timer noise.
    #[arg(long, default_value = "50ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    tolerance: Duration,
    /// How long the mock keeps watching after the client ends, for polls that should not come.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    quiet_window: Duration,
    /// Polling deadline of the give-up cases (never-completes, outage), handed to the client in
    /// TRUORA_POLL_DEADLINE_SECONDS; it must give up by then (+ --deadline-slack). A whole
    /// number of seconds, as the client receives it.
    #[arg(long, default_value = "13s", value_parser = whole_seconds, value_name = "DURATION")]
    deadline: Duration,
    /// Polling deadline handed to the client in the cases that expect an outcome. A whole
    /// number of seconds, as the client receives it.
    #[arg(long, default_value = "60s", value_parser = whole_seconds, value_name = "DURATION")]
    outcome_deadline: Duration,
    /// How late past the deadline a give-up case's last request may still arrive.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    deadline_slack: Duration,
    /// Wall-clock limit per case, from the client's first request; the client is killed after it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    case_limit: Duration,
    /// Start-up allowance: how long the client may take to send its first request (reported).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    startup_limit: Duration,
    /// Longest per-request timeout accepted (a stalled request must be abandoned within it).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    request_timeout_limit: Duration,
    /// Slack on the request timeout, for the socket close and scheduling delay.
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    request_timeout_slack: Duration,
    /// Most retries accepted after consecutive failed requests.
    #[arg(long, default_value_t = 6, value_name = "N")]
    max_retries: u32,
    /// Seed of the run; each case's mock gets its own seed derived from it.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Write a JUnit XML report (one testcase per case).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the JSON report (every request with timestamps and verdicts).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Known deviations (TOML); the run fails on findings not listed and on entries that matched nothing.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Run each scenario of this scenario file as a case (e.g. the minimal.toml explore
    /// writes) instead of the built-in cases.
    #[arg(long, value_name = "FILE")]
    case_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServerArgs {
    /// Base URL of the server (the suite appends /v1/validations).
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// API key the server accepts.
    #[arg(long, env = "TRUORA_API_KEY", hide_env_values = true)]
    api_key: String,
    /// account_id of the validation the checks create.
    #[arg(long, default_value = "conformance-server-check")]
    account_id: String,
    /// How long to follow the created validation for the state-machine check.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    watch: Duration,
    /// An API key whose `exp` has passed, for the expired-key check (403); skipped without it.
    /// Example: --expired-key "$OLD_TRUORA_KEY"
    #[arg(
        long,
        env = "TRUORA_EXPIRED_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    expired_key: Option<String>,
    /// Write the results as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// `--deadline`: a duration that is a whole number of seconds. The client receives it as
/// `TRUORA_POLL_DEADLINE_SECONDS` (an integer), so `7500ms` would reach it as 7 while the
/// suite graded against 7.5 s: refused rather than silently truncated.
fn whole_seconds(arg: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(arg).map_err(|e| e.to_string())?;
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "--deadline must be a whole number of seconds: the client receives \
             TRUORA_POLL_DEADLINE_SECONDS as an integer; got {}s",
            d.as_secs_f64()
        ));
    }
    Ok(d)
}

pub fn run(args: ConformanceArgs) -> Result<ExitCode, SuiteError> {
    match args.command {
        Command::List => {
            print!("{}", list(&Catalogue::builtin()?));
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(a) => run_suite(*a),
        Command::Server(a) => run_server(a),
        Command::Explore(a) => crate::explore::cli::run(*a),
    }
}

fn list(c: &Catalogue) -> String {
    let mut s = String::from("Rules\n");
    for r in &c.rules {
        s.push_str(&format!(
            "  {:26} {:6}  {}\n",
            r.id,
            r.level.as_str(),
            r.title
        ));
    }
    s.push_str("\nCases\n");
    for case in &c.cases {
        s.push_str(&format!(
            "  {:20} {:32}  {}\n",
            case.id, case.scenario, case.title
        ));
    }
    s
}

fn write(path: &PathBuf, text: &str) -> Result<(), SuiteError> {
    std::fs::write(path, text).map_err(|source| SuiteError::Write {
        path: path.clone(),
        source,
    })
}

/// The limits a run grades against, from its options.
fn settings(a: &RunArgs) -> Settings {
    Settings {
        min_interval: a.min_interval,
        tolerance: a.tolerance,
        quiet_window: a.quiet_window,
        deadline: a.deadline,
        outcome_deadline: a.outcome_deadline,
        deadline_slack: a.deadline_slack,
        case_limit: a.case_limit,
        startup_limit: a.startup_limit,
        request_timeout_limit: a.request_timeout_limit,
        request_timeout_slack: a.request_timeout_slack,
        max_retries: a.max_retries,
        jobs: a.jobs,
        seed: a.seed,
    }
}

fn run_suite(a: RunArgs) -> Result<ExitCode, SuiteError> {
    let mut catalogue = Arc::new(Catalogue::builtin()?);
    let mut settings = settings(&a);
    if let Some(path) = &a.case_file {
        let (cases, limits) = crate::explore::case_file::load(path, &catalogue, &settings)?;
        (catalogue, settings) = (Arc::new(cases), limits);
    }
    for c in &a.cases {
        if catalogue.case(c).is_none() {
            return Err(SuiteError::UnknownCase(c.clone()));
        }
    }
    for r in &a.skip {
        if catalogue.rule(r).is_none() {
            return Err(SuiteError::UnknownRule(r.clone()));
        }
    }
    if a.jobs == 0 {
        return Err(SuiteError::NoJobs);
    }
    let deviations = match &a.expect {
        Some(path) => {
            let src = std::fs::read_to_string(path).map_err(|source| SuiteError::Read {
                path: path.clone(),
                source,
            })?;
            Some((
                path.display().to_string(),
                expect::parse(&path.display().to_string(), &src, &catalogue)?,
            ))
        }
        None => None,
    };
    let (client, label) = a.client.spec();
    let plan = Plan {
        catalogue,
        client,
        settings: settings.clone(),
        skip: a.skip.clone(),
        only: a.cases.clone(),
    };
    let runtime = runtime()?;
    await_client(&runtime, &plan.client)?;
    eprintln!(
        "running {} case(s), {} at a time, against {label} (mock API key `{API_KEY}`)…",
        if a.cases.is_empty() {
            plan.catalogue.cases.len()
        } else {
            a.cases.len()
        },
        a.jobs
    );
    let mut report = runtime.block_on(runner::run_report(&plan, label));
    if let Some((file, d)) = deviations {
        report.expect = Some(expect::apply(&file, &d, &mut report.cases));
    }
    print!("{}", report::terminal::render(&report));
    if let Some(p) = &a.json {
        write(p, &report::json(&report))?;
    }
    if let Some(p) = &a.junit {
        write(p, &report::junit::render(&report))?;
    }
    if let Some(p) = &a.html {
        write(p, &report::html::render(&report))?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// clap's `required_unless_present` guarantees one of the two; this keeps the match total
/// without a panic.
fn run_server(a: ServerArgs) -> Result<ExitCode, SuiteError> {
    let plan = ServerPlan {
        base_url: a.base_url,
        api_key: a.api_key,
        account_id: a.account_id,
        watch: a.watch,
        interval: Duration::from_secs(1),
        request_timeout: Duration::from_secs(10),
        expired_key: a.expired_key,
    };
    let report = runtime()?.block_on(server_check::run(&plan));
    print!("{}", report.render());
    if let Some(p) = &a.json {
        write(
            p,
            &serde_json::to_string_pretty(&report).unwrap_or_default(),
        )?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    /// `conformance run --help` lists exactly the catalogue's case ids and rule ids, in its
    /// order, so `--case` and `--skip` can be filled in from the help alone.
    #[test]
    fn run_help_lists_every_case_and_rule_id() {
        let cat = Catalogue::builtin().unwrap();
        let listed = |head: &str| -> Vec<String> {
            let start = RUN_HELP.find(head).expect(head) + head.len();
            let block = RUN_HELP[start..].split("\n\n").next().unwrap_or("");
            block
                .split([',', '\n'])
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        };
        let cases: Vec<String> = cat.cases.iter().map(|c| c.id.clone()).collect();
        let rules: Vec<String> = cat.rules.iter().map(|r| r.id.clone()).collect();
        assert_eq!(listed("Case ids (--case):\n"), cases);
        assert_eq!(
            listed("Rule ids (--skip; `truidentidad-mock conformance list` gives their titles):\n"),
            rules
        );
    }

    #[test]
    fn option_defaults_are_the_settings_defaults() {
        let cli = Cli::parse_from(["conformance", "--client", "true"]);
        assert_eq!(settings(&cli.run), Settings::default());
    }

    #[test]
    fn the_slacks_and_deadlines_are_options() {
        let cli = Cli::parse_from([
            "conformance",
            "--client",
            "true",
            "--deadline",
            "20s",
            "--outcome-deadline",
            "90s",
            "--deadline-slack",
            "1s",
            "--request-timeout-slack",
            "250ms",
        ]);
        let s = settings(&cli.run);
        assert_eq!(s.deadline, Duration::from_secs(20));
        assert_eq!(s.outcome_deadline, Duration::from_secs(90));
        assert_eq!(s.deadline_slack, Duration::from_secs(1));
        assert_eq!(s.request_timeout_slack, Duration::from_millis(250));
    }

    #[test]
    fn a_deadline_is_a_whole_number_of_seconds() {
        assert_eq!(whole_seconds("13s"), Ok(Duration::from_secs(13)));
        assert_eq!(whole_seconds("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(whole_seconds("7000ms"), Ok(Duration::from_secs(7)));
        insta::assert_snapshot!(
            "deadline_not_whole_seconds",
            whole_seconds("7500ms").err().unwrap_or_default()
        );
        assert!(whole_seconds("soon").is_err());
    }
}
