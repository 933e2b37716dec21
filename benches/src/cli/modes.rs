//! `load run`, `load raw`, `load fleet`: one subcommand per mode, each listing only its own
//! options (`-h` one line each, `--help` the full text and examples).
//!
//! Each is turned into the one option set the run is planned from ([`LoadArgs`]), so the
//! modes are planned, checked and run exactly as the old single-command form was, which keeps
//! working for a release with a note on stderr naming the new form.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use truidentidad_mock_server::conditions::{Brownout, RateLimit};

use super::{LoadArgs, RawArg, SelectorArg};
use crate::spec::{Stages, parse_duration, parse_rate};
use crate::threshold::{self, Threshold};

/// When validations arrive, and which scenarios they run.
#[derive(Debug, Clone, Args)]
pub struct ArrivalArgs {
    /// Validations created per second [default: 10].
    ///
    /// An open model: arrivals do not wait for responses. With --stages, the rate the first
    /// stage ramps from.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Ramp stages DURATION:RATE, e.g. 30s:100,60s:500,30s:0 (the rate moves linearly to
    /// each target).
    #[arg(long, value_parser = Stages::parse, conflicts_with = "duration")]
    pub stages: Option<Stages>,
    /// How long validations keep arriving [default: 10s].
    ///
    /// The run then drains: the validations still running are followed to their end or
    /// --poll-deadline, and the summary reports the two windows apart.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Scenario mix, NAME=WEIGHT,… (names are the target's scenarios).
    #[arg(long, default_value = "success")]
    pub mix: String,
}

/// The server a run loads, and how it watches it.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of the API under load: the mock, or any server or proxy that speaks it.
    #[arg(long, default_value = super::DEFAULT_TARGET)]
    pub target: String,
    /// Sent as Truora-API-Key on every request.
    #[arg(
        long,
        env = "TRUORA_API_KEY",
        default_value = "load-test",
        hide_env_values = true
    )]
    pub api_key: String,
    /// Stop after this many requests, whatever the schedule says.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_requests: u64,
    /// A request without a full response after this counts as a timeout error.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Print the change of the headline figures against an earlier --json report.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Serve live figures for Prometheus at http://ADDR/metrics, e.g. 127.0.0.1:9464.
    ///
    /// Port 0 picks one; the address is printed on stderr.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// What every mode writes and checks.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Write the report as JSON (schema: `truidentidad-mock docs SCHEMA`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Fail with exit code 99 unless METRIC OP VALUE holds, e.g. 'poll.p99<50ms'.
    ///
    /// Repeatable. The metrics are listed in `truidentidad-mock docs SCHEMA`.
    #[arg(long = "threshold", value_parser = threshold::parse, value_name = "EXPR")]
    pub thresholds: Vec<Threshold>,
    /// Seed for account ids and jitter [default: from the time of day].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: one per core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the report as one self-contained HTML page with charts (no network needed).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `load run`: the polling model against a server.
#[derive(Debug, Args)]
#[command(after_long_help = RUN_HELP)]
pub struct RunArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
    /// Wait between polls of one validation.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Multiply the wait by this after each poll (1 = fixed interval).
    #[arg(long, default_value_t = 1.0)]
    pub poll_backoff: f64,
    /// Longest wait between polls with backoff.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub poll_max_interval: Duration,
    /// Spread each wait by up to ± this fraction (0 to 1) so polls do not move in lockstep.
    #[arg(long, default_value_t = 0.1)]
    pub poll_jitter: f64,
    /// Give up on a validation still pending this long after it was due to start.
    ///
    /// It counts as `deadline`. An expired-* scenario ends at the validation's timeout,
    /// 300 s by default: a shorter deadline never sees `expired`.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub poll_deadline: Duration,
    /// How each validation tells the target its scenario.
    #[arg(long, value_enum, default_value = "account-id")]
    scenario_via: SelectorArg,
    /// Test people (`truidentidad-mock identities` output): outcomes from their documents.
    ///
    /// JSON or CSV. Validation n sends person n's `document_number` (cycling) with a plain
    /// account id, so each outcome comes from the test identity instead of --mix.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["mix", "scenario_via"])]
    pub identities: Option<PathBuf>,
    /// Most validations in flight; arrivals beyond it are dropped and counted.
    #[arg(long, default_value_t = 100_000)]
    pub max_in_flight: u64,
    /// Most requests (and so connections) open at once.
    ///
    /// Requests beyond it wait, and the wait counts in their latency.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    #[command(flatten)]
    pub output: OutputArgs,
}

const RUN_HELP: &str = "\
Examples:
  # 200 validations/s for 30 s, each polled every second until it ends
  truidentidad-mock load run --target http://127.0.0.1:8080 --rate 200 --duration 30s

  # an outcome mix, a ramp, and a CI gate (exit code 99 when a threshold fails)
  truidentidad-mock load run --mix success=80,declined-face-mismatch=15,expired-not-finished=5 \\
      --stages 30s:100,60s:500,30s:0 --threshold 'poll.p99<50ms' --threshold 'errors.rate<1%' \\
      --json run.json

  # compare with an earlier run (rates are over each run's arrivals)
  truidentidad-mock load run --rate 200 --duration 30s --compare baseline.json

  # outcomes from test people's document numbers instead of a mix
  truidentidad-mock identities --count 120 --format csv > people.csv
  truidentidad-mock load run --identities people.csv --rate 20 --duration 30s

The summary gives the arrival window and the drain apart: the requests and rate while
validations arrived, then what the drain added and how long it took. Latencies are measured
from the intended send time (coordinated omission corrected), in milliseconds.";

/// `load raw`: one endpoint at fixed concurrency, as wrk does.
#[derive(Debug, Args)]
#[command(after_long_help = RAW_HELP)]
pub struct RawArgs {
    /// The endpoint to hammer.
    #[arg(value_enum)]
    endpoint: RawArg,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Connections sending back to back.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// How long to hammer.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// get: the validation to read [default: one created first].
    #[arg(long)]
    pub validation_id: Option<String>,
    /// The scenario of the validations created (create, or get's first one).
    #[arg(long, default_value = "success")]
    pub scenario: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

const RAW_HELP: &str = "\
Examples:
  # 64 connections hammer GET /v1/validations/{id} for 10 s
  truidentidad-mock load raw get --concurrency 64 --duration 10s

  # creates, for comparison with wrk -s
  truidentidad-mock load raw create --concurrency 16 --duration 10s

Latency runs from one answer's end to the next's, connecting included, as wrk measures it
without -R.";

/// `load fleet`: your client, once per validation, against one mock that sees it all.
#[derive(Debug, Args)]
#[command(after_long_help = FLEET_HELP)]
#[command(group = clap::ArgGroup::new("client_kind").required(true).args(["client", "client_url"]))]
pub struct FleetArgs {
    /// Your client: a command run once per validation.
    ///
    /// It gets the conformance suite's environment (TRUORA_API_BASE_URL, TRUORA_API_KEY,
    /// TRUORA_ACCOUNT_ID, TRUORA_POLL_DEADLINE_SECONDS) and prints a JSON result as its last
    /// stdout line.
    #[arg(long, value_name = "COMMAND")]
    pub client: Option<String>,
    /// Your client as a service, POSTed one job per validation.
    ///
    /// The job is {"account_id", "base_url", "api_key", "poll_deadline_seconds"}; the answer
    /// is the result JSON.
    #[arg(long, value_name = "URL")]
    pub client_url: Option<String>,
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
    /// Most client runs at once.
    ///
    /// Arrivals beyond it wait; the wait is reported as the start delay.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// The polling deadline handed to each client.
    ///
    /// A client run still going 30 s after it is killed.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub poll_deadline: Duration,
    /// Throttle the mock to this rate, e.g. 50/s or 50/s/key.
    ///
    /// Beyond it the mock answers 429 with a Retry-After.
    #[arg(long, conflicts_with = "target")]
    pub rate_limit: Option<RateLimit>,
    /// A brown-out AT:FOR:EFFECT from the run's start, e.g. 20s:10s:503 or 20s:10s:+2s
    /// (repeatable).
    #[arg(
        long = "brownout",
        value_name = "AT:FOR:EFFECT",
        conflicts_with = "target"
    )]
    pub brownouts: Vec<Brownout>,
    /// The port of the in-process mock and its dashboard [default: a free port].
    #[arg(long, value_name = "PORT", conflicts_with = "target")]
    pub mock_port: Option<u16>,
    /// After the run and its report, keep the mock and its dashboard open until Ctrl-C.
    #[arg(long, conflicts_with = "target")]
    pub hold: bool,
    /// A running mock to send the fleet to, instead of an in-process one.
    ///
    /// A truidentidad-mock (or replicas behind a balancer), followed through its /_mock/
    /// control API.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// With --target: the API key its clients are handed.
    #[arg(
        long,
        env = "TRUORA_API_KEY",
        default_value = "load-test",
        hide_env_values = true
    )]
    pub api_key: String,
    /// With --target: its admin token, if it has one.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_ADMIN_TOKEN",
        hide_env_values = true,
        requires = "target"
    )]
    pub admin_token: Option<String>,
    /// Compare the figures with an earlier fleet run's --json.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const FLEET_HELP: &str = "\
Examples:
  # YOUR client, once per validation, against an in-process mock that throttles
  truidentidad-mock load fleet --client 'python3 my_poller.py' --rate 10 --duration 30s \\
      --concurrency 200 --rate-limit 50/s --threshold 'detection_lag.p99<5s'

  # keep the mock and its dashboard open on a fixed port after the run
  truidentidad-mock load fleet --client-url http://127.0.0.1:8099 --rate 5 --duration 10s \\
      --mock-port 8081 --hold

  # against a running mock (shared, or replicas behind a balancer)
  truidentidad-mock load fleet --client-url http://127.0.0.1:9000/follow \\
      --target http://mock.staging:8080 --api-key team-key --rate 5 --duration 60s

The summary sets what each client reported against what the mock ended with: right, wrong,
deadline (pending while the mock still had it pending), gave up (pending after it ended),
failed, killed, unreachable.";

impl LoadArgs {
    /// The option set of the old single-command form, every mode's options at their defaults.
    fn blank(output: OutputArgs) -> LoadArgs {
        LoadArgs {
            action: None,
            target: None,
            admin_token: None,
            client: None,
            client_url: None,
            rate_limit: None,
            brownouts: Vec::new(),
            mock_port: None,
            hold: false,
            api_key: String::new(),
            rate: None,
            stages: None,
            duration: None,
            poll_interval: Duration::from_secs(1),
            poll_backoff: 1.0,
            poll_max_interval: Duration::from_secs(30),
            poll_jitter: 0.1,
            poll_deadline: Duration::from_secs(60),
            mix: "success".into(),
            scenario_via: SelectorArg::AccountId,
            identities: None,
            max_in_flight: 100_000,
            max_requests: 10_000_000,
            request_timeout: Duration::from_secs(10),
            max_connections: 1024,
            raw: None,
            concurrency: 64,
            validation_id: None,
            json: output.json,
            thresholds: output.thresholds,
            compare: None,
            seed: output.seed,
            threads: output.threads,
            quiet: output.quiet,
            metrics_addr: None,
            html: output.html,
        }
    }

    fn with_server(mut self, s: ServerArgs) -> LoadArgs {
        self.target = Some(s.target);
        self.api_key = s.api_key;
        self.max_requests = s.max_requests;
        self.request_timeout = s.request_timeout;
        self.compare = s.compare;
        self.metrics_addr = s.metrics_addr;
        self
    }

    fn with_arrivals(mut self, a: ArrivalArgs) -> LoadArgs {
        self.rate = a.rate;
        self.stages = a.stages;
        self.duration = a.duration;
        self.mix = a.mix;
        self
    }
}

impl From<RunArgs> for LoadArgs {
    fn from(r: RunArgs) -> LoadArgs {
        LoadArgs {
            poll_interval: r.poll_interval,
            poll_backoff: r.poll_backoff,
            poll_max_interval: r.poll_max_interval,
            poll_jitter: r.poll_jitter,
            poll_deadline: r.poll_deadline,
            scenario_via: r.scenario_via,
            identities: r.identities,
            max_in_flight: r.max_in_flight,
            max_connections: r.max_connections,
            ..LoadArgs::blank(r.output)
                .with_server(r.server)
                .with_arrivals(r.arrivals)
        }
    }
}

impl From<RawArgs> for LoadArgs {
    fn from(r: RawArgs) -> LoadArgs {
        LoadArgs {
            raw: Some(r.endpoint),
            concurrency: r.concurrency,
            duration: Some(r.duration),
            validation_id: r.validation_id,
            mix: r.scenario,
            ..LoadArgs::blank(r.output).with_server(r.server)
        }
    }
}

impl From<FleetArgs> for LoadArgs {
    fn from(f: FleetArgs) -> LoadArgs {
        LoadArgs {
            client: f.client,
            client_url: f.client_url,
            concurrency: f.concurrency,
            poll_deadline: f.poll_deadline,
            rate_limit: f.rate_limit,
            brownouts: f.brownouts,
            mock_port: f.mock_port,
            hold: f.hold,
            admin_token: f.admin_token,
            target: f.target,
            api_key: f.api_key,
            compare: f.compare,
            ..LoadArgs::blank(f.output).with_arrivals(f.arrivals)
        }
    }
}

/// The new form of an old `load …` command line, for the note that names it.
pub fn new_form(args: &LoadArgs) -> &'static str {
    if args.client.is_some() || args.client_url.is_some() {
        "load fleet"
    } else if args.raw.is_some() {
        "load raw get|create"
    } else {
        "load run"
    }
}
