//! `truidentidad-mock load …`: options, checks, and the run from start to exit code.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use truidentidad_conformance::client::ClientSpec;
use truidentidad_conformance::http::await_listening;
use truidentidad_mock_server::conditions::{Brownout, RateLimit};

use crate::client::{Api, TargetError};
use crate::fleet::{ExternalTarget, FleetPlan};
use crate::progress::{Display, Progress};
use crate::report::{Report, RunFacts, RunInfo, compare};
use crate::run::{
    Limits, PollPolicy, PollingPlan, RawEndpoint, RawPlan, Selector, run_polling, run_raw,
};
use crate::schedule::Schedule;
use crate::spec::{Mix, SpecError, Stages, parse_duration, parse_rate};
use crate::stats::Stats;
use crate::threshold::{self, Threshold};

mod modes;
pub use modes::{ArrivalArgs, FleetArgs, OutputArgs, RawArgs, RunArgs, ServerArgs};

/// Exit code when a `--threshold` fails, as k6 uses.
pub const THRESHOLD_FAILED: u8 = 99;

const AFTER_HELP: &str = "\
Examples:
  truidentidad-mock load run --target http://127.0.0.1:8080 --rate 200 --duration 30s
  truidentidad-mock load raw get --concurrency 64 --duration 10s
  truidentidad-mock load fleet --client 'python3 my_poller.py' --rate 10 --duration 30s
  truidentidad-mock load merge run-*.json --json all.json

`load <MODE> --help` lists a mode's options with examples. The old form without a mode
(`load --rate …`) still runs, for one release, with a note naming its new form. The --json
schema: `truidentidad-mock docs SCHEMA`.";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RawArg {
    /// GET /v1/validations/{id} of one validation.
    Get,
    /// POST /v1/validations.
    Create,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SelectorArg {
    /// Magic account_id `<scenario>.load-<run>-<n>`.
    AccountId,
    /// X-Mock-Scenario header.
    Header,
}

/// Arguments of `truidentidad-mock load`: a mode's subcommand, or (for one more release) the
/// old single-command form, whose options are hidden from the help.
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub action: Option<LoadAction>,
    /// Base URL of the API under load: the mock, or any server or proxy that speaks it
    /// [default: http://127.0.0.1:8080]. With --client/--client-url: a running
    /// truidentidad-mock (or replicas behind a balancer) the fleet is sent to and followed
    /// through its /_mock/ control API, instead of an in-process mock.
    #[arg(hide = true, long)]
    pub target: Option<String>,
    /// Fleet mode with --target: the target's admin token, if it has one (read from its
    /// control API's journal and validations).
    #[arg(
        hide = true,
        long,
        env = "TRUIDENTIDAD_MOCK_ADMIN_TOKEN",
        hide_env_values = true,
        requires = "target"
    )]
    pub admin_token: Option<String>,
    /// Fleet mode: your client, a command run once per validation with the conformance
    /// suite's environment (TRUORA_API_BASE_URL, TRUORA_API_KEY, TRUORA_ACCOUNT_ID,
    /// TRUORA_POLL_DEADLINE_SECONDS; a JSON result as its last stdout line), against one
    /// mock that sees the whole fleet's traffic (in-process, or --target).
    #[arg(hide = true, long, value_name = "COMMAND", conflicts_with_all = ["raw", "client_url"])]
    pub client: Option<String>,
    /// Fleet mode with a client that is a service: POSTed {"account_id", "base_url",
    /// "api_key", "poll_deadline_seconds"} once per validation, answering the result JSON.
    #[arg(hide = true, long, value_name = "URL", conflicts_with = "raw")]
    pub client_url: Option<String>,
    /// Fleet mode: throttle the mock to this rate (429 with Retry-After beyond it), e.g. 50/s
    /// or 50/s/key, to see how the fleet takes it.
    #[arg(hide = true, long)]
    pub rate_limit: Option<RateLimit>,
    /// Fleet mode: a brown-out AT:FOR:EFFECT from the run's start, e.g. 20s:10s:503 or
    /// 20s:10s:+2s (repeatable).
    #[arg(hide = true, long = "brownout", value_name = "AT:FOR:EFFECT")]
    pub brownouts: Vec<Brownout>,
    /// Fleet mode: the port of the in-process mock (and its dashboard), e.g. to keep a
    /// dashboard tab open across runs [default: a free port].
    #[arg(hide = true, long, value_name = "PORT", conflicts_with = "target")]
    pub mock_port: Option<u16>,
    /// Fleet mode: after the run and its report, keep the in-process mock and its dashboard
    /// open (to look at the journal, validations and charts) until Ctrl-C.
    #[arg(hide = true, long, conflicts_with = "target")]
    pub hold: bool,
    /// Sent as Truora-API-Key on every request.
    #[arg(
        hide = true,
        long,
        env = "TRUORA_API_KEY",
        default_value = "load-test",
        hide_env_values = true
    )]
    pub api_key: String,
    /// Validations created per second (open model: arrivals do not wait for responses). With
    /// --stages, the rate the first stage ramps from.
    #[arg(hide = true, long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Ramp stages DURATION:RATE, e.g. 30s:100,60s:500,30s:0 (rate moves linearly to each target).
    #[arg(hide = true, long, value_parser = Stages::parse, conflicts_with = "duration")]
    pub stages: Option<Stages>,
    /// How long validations keep arriving (raw mode: how long to hammer).
    #[arg(hide = true, long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Wait between polls of one validation.
    #[arg(hide = true, long, default_value = "1s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Multiply the wait by this after each poll (1 = fixed interval).
    #[arg(hide = true, long, default_value_t = 1.0)]
    pub poll_backoff: f64,
    /// Longest wait between polls with backoff.
    #[arg(hide = true, long, default_value = "30s", value_parser = parse_duration)]
    pub poll_max_interval: Duration,
    /// Spread each wait by up to ± this fraction (0 to 1) so polls do not move in lockstep.
    #[arg(hide = true, long, default_value_t = 0.1)]
    pub poll_jitter: f64,
    /// Give up on a validation still pending this long after it was due to start.
    #[arg(hide = true, long, default_value = "60s", value_parser = parse_duration)]
    pub poll_deadline: Duration,
    /// Scenario mix, NAME=WEIGHT,… (names are the target's scenarios).
    #[arg(hide = true, long, default_value = "success")]
    pub mix: String,
    /// How each validation tells the target its scenario.
    #[arg(hide = true, long, value_enum, default_value = "account-id")]
    scenario_via: SelectorArg,
    /// Test people (`truidentidad-mock identities` output, JSON or CSV): validation n sends
    /// person n's `document_number` (cycling) with a plain account id, so each outcome comes
    /// from the test identity instead of --mix. Example:
    /// `truidentidad-mock identities --count 120 --format csv > people.csv`, then
    /// `load --identities people.csv --rate 20 --duration 30s`.
    #[arg(hide = true, long, value_name = "FILE", conflicts_with_all = ["mix", "scenario_via", "raw", "client", "client_url"])]
    pub identities: Option<PathBuf>,
    /// Most validations in flight; arrivals beyond it are dropped and counted.
    #[arg(hide = true, long, default_value_t = 100_000)]
    pub max_in_flight: u64,
    /// Stop after this many requests, whatever the schedule says.
    #[arg(hide = true, long, default_value_t = 10_000_000)]
    pub max_requests: u64,
    /// A request without a full response after this counts as a timeout error.
    #[arg(hide = true, long, default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Polling model: most requests (and so connections) open at once. Requests beyond it
    /// wait for a free connection, and the wait counts in their latency; without a cap, every
    /// hiccup opens more connections until the target refuses them.
    #[arg(hide = true, long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Raw mode: hammer one endpoint at fixed concurrency instead of the polling model.
    #[arg(hide = true, long, value_enum)]
    raw: Option<RawArg>,
    /// Raw mode: connections sending back to back. Fleet mode: most client runs at once
    /// (arrivals beyond it wait, and the wait is reported as start delay).
    #[arg(hide = true, long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// Raw get: the validation to read (created first when absent).
    #[arg(hide = true, long, requires = "raw")]
    pub validation_id: Option<String>,
    /// Write the report as JSON (schema: `truidentidad-mock docs SCHEMA`).
    #[arg(hide = true, long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Fail with exit code 99 unless METRIC OP VALUE holds, e.g. 'poll.p99<50ms' (repeatable).
    #[arg(hide = true, long = "threshold", value_parser = threshold::parse, value_name = "EXPR")]
    pub thresholds: Vec<Threshold>,
    /// Print the change of the headline figures against an earlier --json report.
    #[arg(hide = true, long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Seed for account ids and jitter (default: from the time of day).
    #[arg(hide = true, long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(hide = true, long)]
    pub threads: Option<usize>,
    /// No progress display.
    #[arg(hide = true, long, short)]
    pub quiet: bool,
    /// Serve the run's live figures (requests, errors, validations, outcomes, latency
    /// quantiles) in the Prometheus text format at http://ADDR/metrics while it runs, e.g.
    /// 127.0.0.1:9464 (port 0 picks one; the address is printed on stderr). Not in fleet
    /// mode, whose mock serves /_mock/metrics.
    #[arg(hide = true, long, value_name = "ADDR", conflicts_with_all = ["client", "client_url"])]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Write the report as one self-contained HTML page with charts.
    #[arg(hide = true, long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// The modes of `load`.
#[derive(Debug, clap::Subcommand)]
pub enum LoadAction {
    /// Create validations at a rate and poll each to its end (the polling model).
    Run(Box<RunArgs>),
    /// Hammer one endpoint at fixed concurrency, as wrk does.
    Raw(Box<RawArgs>),
    /// Run YOUR client once per validation against one mock that sees the whole fleet.
    Fleet(Box<FleetArgs>),
    /// Merge the --json reports of runs made side by side (e.g. on several machines against
    /// one target) into one, with exact percentiles from their embedded histograms.
    #[command(after_long_help = MERGE_HELP)]
    Merge(MergeArgs),
}

const MERGE_HELP: &str = "\
Examples:
  # on each of 3 machines, the same run against one target, started together
  truidentidad-mock load --target http://mock:8080 --rate 300 --duration 60s \\
      --json run-$(hostname).json
  # then, on one of them
  truidentidad-mock load merge run-*.json --json all.json --threshold 'poll.p99<50ms'

Counts and rates add up, the elapsed time is the longest run's, and latency percentiles come
from the sum of the runs' HdrHistograms: exactly what one run seeing every request gives.";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports (each run's --json), two or more.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Write the merged report as JSON (the same schema, histograms included).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Fail with exit code 99 unless METRIC OP VALUE holds on the merged figures (repeatable).
    #[arg(long = "threshold", value_parser = threshold::parse, value_name = "EXPR")]
    pub thresholds: Vec<Threshold>,
    /// Write the merged report as one self-contained HTML page with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Errors that stop a load run before or after it (request failures are counted, not fatal).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot connect to {target} (is the server running? e.g. `truidentidad-mock serve`)")]
    Unreachable {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the client service at {url} (is it running and listening there?)")]
    ClientUnreachable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the identities file {path}: {source}")]
    ReadIdentities {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Identities(#[from] truidentidad_scenarios::identities::PeopleFileError),
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("listening for --metrics-addr on {addr}: {source}")]
    MetricsBind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("writing the report to {path}: {source}")]
    WriteJson {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the baseline: {0}")]
    Baseline(#[from] crate::report::ReadError),
    #[error(transparent)]
    Compare(#[from] crate::report::ModesDiffer),
    #[error("raw mode: {0}")]
    Raw(#[from] crate::run::RawSetupError),
    #[error(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    #[error(transparent)]
    Merge(#[from] crate::merge::MergeError),
}

/// What the run does, checked and resolved from the arguments.
#[derive(Debug)]
enum Mode {
    Polling(PollingPlan),
    Raw(RawPlan),
    Fleet(FleetPlan),
}

fn plan(args: &LoadArgs) -> Result<Mode, LoadError> {
    let mix = Mix::parse(&args.mix)?;
    if let Some(raw) = args.raw {
        let duration = args.duration.unwrap_or(Duration::from_secs(10));
        let scenario = mix.pick(0).to_string();
        return Ok(Mode::Raw(RawPlan {
            endpoint: match raw {
                RawArg::Get => RawEndpoint::Get,
                RawArg::Create => RawEndpoint::Create,
            },
            concurrency: args.concurrency as usize,
            duration,
            validation_id: args.validation_id.clone(),
            scenario,
        }));
    }
    let schedule = match &args.stages {
        Some(stages) => Schedule::ramp(args.rate.unwrap_or(0.0), stages.0.clone()),
        None => Schedule::constant(
            args.rate.unwrap_or(10.0),
            args.duration.unwrap_or(Duration::from_secs(10)),
        ),
    };
    if schedule.expected_arrivals() == 0 {
        return Err(SpecError("the schedule creates no validations: give --rate above 0 (e.g. --rate 50) or --stages with a rate above 0".into()).into());
    }
    let fleet_client = match (&args.client, &args.client_url) {
        (Some(cmd), _) => Some(ClientSpec::Command(cmd.clone())),
        (None, Some(url)) => Some(ClientSpec::Url(url.clone())),
        (None, None) => None,
    };
    if let Some(client) = fleet_client {
        if args.target.is_some() && (args.rate_limit.is_some() || !args.brownouts.is_empty()) {
            return Err(SpecError(
                "--rate-limit and --brownout shape the fleet's in-process mock; an external --target imposes its own (start it with `serve --rate-limit … --brownout …`)".into(),
            )
            .into());
        }
        return Ok(Mode::Fleet(FleetPlan {
            target: args.target.as_ref().map(|url| ExternalTarget {
                url: url.clone(),
                api_key: args.api_key.clone(),
                admin_token: args.admin_token.clone(),
            }),
            client,
            schedule,
            mix,
            concurrency: args.concurrency as usize,
            deadline: args.poll_deadline,
            client_limit: args.poll_deadline + FLEET_CLIENT_GRACE,
            rate_limit: args.rate_limit,
            brownouts: args.brownouts.clone(),
            seed: args.seed.unwrap_or_else(time_seed),
            quiet_window: FLEET_QUIET_WINDOW,
            mock_port: args.mock_port.unwrap_or(0),
            hold: args.hold,
        }));
    }
    if args.mock_port.is_some() || args.hold {
        return Err(SpecError(
            "--mock-port and --hold are about the fleet mode's own mock: use them with --client or --client-url".into(),
        )
        .into());
    }
    if args.rate_limit.is_some() || !args.brownouts.is_empty() {
        return Err(SpecError(
            "--rate-limit and --brownout shape the fleet mode's own mock: use them with --client or --client-url (to throttle a server, start it with `serve --rate-limit`)".into(),
        )
        .into());
    }
    if !(0.0..=1.0).contains(&args.poll_jitter) {
        return Err(SpecError(format!(
            "--poll-jitter {} must be between 0 and 1",
            args.poll_jitter
        ))
        .into());
    }
    if !(args.poll_backoff.is_finite() && args.poll_backoff >= 1.0) {
        return Err(SpecError(format!(
            "--poll-backoff {} must be 1 (no backoff) or more",
            args.poll_backoff
        ))
        .into());
    }
    if args.poll_interval.is_zero() {
        return Err(SpecError(
            "--poll-interval must be above 0 (Truora's polite floor is 1s)".into(),
        )
        .into());
    }
    let (selector, documents) = match &args.identities {
        Some(path) => (Selector::DocumentNumber, read_identities(path)?),
        None => (
            match args.scenario_via {
                SelectorArg::AccountId => Selector::AccountId,
                SelectorArg::Header => Selector::Header,
            },
            Vec::new(),
        ),
    };
    Ok(Mode::Polling(PollingPlan {
        schedule,
        mix,
        selector,
        documents,
        poll: PollPolicy {
            interval: args.poll_interval,
            backoff: args.poll_backoff,
            max_interval: args.poll_max_interval,
            jitter: args.poll_jitter,
        },
        deadline: args.poll_deadline,
        max_in_flight: args.max_in_flight.max(1),
        seed: args.seed.unwrap_or_else(time_seed),
    }))
}

/// The document numbers of a file of test people, in order.
fn read_identities(path: &std::path::Path) -> Result<Vec<String>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::ReadIdentities {
        path: path.to_path_buf(),
        source,
    })?;
    let people =
        truidentidad_scenarios::identities::parse_people(&path.display().to_string(), &text)?;
    Ok(people.into_iter().map(|p| p.document_number).collect())
}

/// How long past its polling deadline a fleet client may run before it is killed.
const FLEET_CLIENT_GRACE: Duration = Duration::from_secs(30);
/// How long the fleet's mock keeps listening after the last client ends.
const FLEET_QUIET_WINDOW: Duration = Duration::from_secs(2);

fn time_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Runs `truidentidad-mock load` on its own runtime and returns the process exit code.
pub fn run(args: LoadArgs) -> Result<ExitCode, LoadError> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build().map_err(LoadError::Runtime)?;
    rt.block_on(run_async(args))
}

/// `load merge`: the merged summary, its JSON and its thresholds.
pub fn run_merge(args: &MergeArgs) -> Result<ExitCode, LoadError> {
    let mut report = crate::merge::merge_files(&args.reports)?;
    report.run = RunInfo::new(command_line(), None);
    println!("Merged {} runs:", args.reports.len());
    print!("{}", report.to_text());
    finish(report, Outputs::from(args), &[])
}

/// What a run was asked to judge and write: `--threshold`, `--json`, `--html`.
struct Outputs<'a> {
    thresholds: &'a [threshold::Threshold],
    json: Option<&'a std::path::Path>,
    html: Option<&'a std::path::Path>,
}

impl<'a> From<&'a LoadArgs> for Outputs<'a> {
    fn from(args: &'a LoadArgs) -> Self {
        Outputs {
            thresholds: &args.thresholds,
            json: args.json.as_deref(),
            html: args.html.as_deref(),
        }
    }
}

impl<'a> From<&'a MergeArgs> for Outputs<'a> {
    fn from(args: &'a MergeArgs) -> Self {
        Outputs {
            thresholds: &args.thresholds,
            json: args.json.as_deref(),
            html: args.html.as_deref(),
        }
    }
}

/// Judges the report, writes its JSON and HTML as asked, prints the verdicts and picks the
/// exit code: the same end for every mode.
fn finish(
    mut report: Report,
    out: Outputs<'_>,
    shades: &[crate::html::Shade],
) -> Result<ExitCode, LoadError> {
    let verdicts = threshold::check(&report, out.thresholds);
    report.thresholds = verdicts.iter().map(threshold::Verdict::result).collect();
    if let Some(path) = out.json {
        write_json(path, &report)?;
    }
    if let Some(path) = out.html {
        let ctx = crate::html::Context {
            shades: shades.to_vec(),
        };
        write_file(path, crate::html::page(&report, &ctx).as_bytes())?;
    }
    Ok(print_verdicts(&verdicts))
}

/// The command line as typed, shell-quoted, for the report's `run` section.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$*?<>|&;".contains(c))
            {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The whole run inside an existing runtime (what tests call).
pub async fn run_async(mut args: LoadArgs) -> Result<ExitCode, LoadError> {
    let args = match args.action.take() {
        Some(LoadAction::Merge(m)) => return run_merge(&m),
        Some(LoadAction::Run(r)) => LoadArgs::from(*r),
        Some(LoadAction::Raw(r)) => LoadArgs::from(*r),
        Some(LoadAction::Fleet(f)) => LoadArgs::from(*f),
        None => {
            eprintln!(
                "note: `load` without a mode is deprecated and goes in the next release: use `truidentidad-mock {} …` with the same options (`load --help` lists the modes)",
                modes::new_form(&args)
            );
            args
        }
    };
    let mode = plan(&args)?;
    if let Mode::Fleet(fleet) = mode {
        return run_fleet_mode(&args, fleet).await;
    }
    let (seed, mode_name) = match &mode {
        Mode::Polling(p) => (Some(p.seed), "polling"),
        Mode::Raw(r) if r.endpoint == crate::run::RawEndpoint::Get => (None, "raw-get"),
        _ => (None, "raw-create"),
    };
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| DEFAULT_TARGET.to_string());
    // Read the baseline first: a typo in its path should not cost a whole run.
    let baseline = args
        .compare
        .as_deref()
        .map(|path| read_baseline(path, mode_name))
        .transpose()?;
    let api = Arc::new(Api::new(
        &target,
        &args.api_key,
        args.request_timeout,
        args.max_connections as usize,
    )?);
    check_reachable(&target).await?;

    let stats = Arc::new(Stats::default());
    let limits = Arc::new(Limits::new(args.max_requests));
    let planned = match &mode {
        Mode::Polling(p) => p.schedule.total_duration(),
        Mode::Raw(r) => r.duration,
        Mode::Fleet(_) => Duration::ZERO,
    };
    let ctrl_c = {
        let limits = limits.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                limits.stop();
            }
        })
    };
    let exporter = match args.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| LoadError::MetricsBind { addr, source })?;
            let bound = listener.local_addr().unwrap_or(addr);
            eprintln!("metrics on http://{bound}/metrics");
            Some(crate::exporter::serve(listener, stats.clone()))
        }
        None => None,
    };
    let progress = Progress::start(Display::auto(args.quiet), stats.clone(), planned);
    let facts = match mode {
        Mode::Polling(p) => Ok(run_polling(api, Arc::new(p), stats.clone(), limits).await),
        Mode::Raw(r) => run_raw(api, r, stats.clone(), limits).await,
        Mode::Fleet(_) => unreachable!("fleet runs returned above"),
    };
    progress.finish();
    ctrl_c.abort();
    if let Some(task) = exporter {
        task.abort();
    }
    let facts = RunFacts {
        target: target.clone(),
        run: RunInfo::new(command_line(), seed),
        ..facts?
    };
    let report = Report::from_stats(&stats, &facts);
    print!("{}", report.to_text());
    if let Some(base) = &baseline {
        println!();
        print!("{}", compare(base, &report)?);
    }
    finish(report, Outputs::from(&args), &[])
}

/// The base URL a server run loads when `--target` is not given.
const DEFAULT_TARGET: &str = "http://127.0.0.1:8080";

/// `load --client` / `--client-url`: the fleet run, its report and its thresholds.
async fn run_fleet_mode(args: &LoadArgs, plan: FleetPlan) -> Result<ExitCode, LoadError> {
    let seed = plan.seed;
    // The periods the mock pushed back, shaded on the HTML chart (an external target's own
    // limits are not known here).
    let mut shades: Vec<crate::html::Shade> = plan
        .brownouts
        .iter()
        .map(|b| crate::html::Shade {
            from_s: b.start.as_secs_f64(),
            to_s: (b.start + b.length).as_secs_f64(),
            label: match b.effect {
                truidentidad_mock_server::conditions::BrownoutEffect::Unavailable => {
                    "brown-out: 503".to_string()
                }
                truidentidad_mock_server::conditions::BrownoutEffect::Latency(d) => {
                    format!("brown-out: +{} ms", d.as_millis())
                }
            },
        })
        .collect();
    if let Some(limit) = plan.rate_limit {
        shades.insert(
            0,
            crate::html::Shade {
                from_s: 0.0,
                to_s: f64::MAX,
                label: format!("rate limit {limit}"),
            },
        );
    }
    let client = match &plan.client {
        ClientSpec::Command(c) => c.clone(),
        ClientSpec::Url(u) => u.clone(),
    };
    if let ClientSpec::Url(url) = &plan.client {
        await_listening(url, truidentidad_conformance::http::LISTEN_GRACE)
            .await
            .map_err(|source| LoadError::ClientUnreachable {
                url: url.clone(),
                source,
            })?;
    }
    if let Some(target) = &plan.target {
        check_reachable(&target.url).await?;
    }
    let baseline = args
        .compare
        .as_deref()
        .map(|path| read_baseline(path, "fleet"))
        .transpose()?;
    let deadline = plan.deadline;
    let (run, held) = crate::fleet::run_fleet(plan, Display::auto(args.quiet)).await?;
    let mut report = Report::from_fleet(&run, &client, RunInfo::new(command_line(), Some(seed)));
    report.poll_deadline_s = crate::report::round3(deadline.as_secs_f64());
    print!("{}", report.to_text());
    if let Some(base) = &baseline {
        println!();
        print!("{}", compare(base, &report)?);
    }
    let code = finish(report, Outputs::from(args), &shades)?;
    if let Some(server) = held {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let url = server.uri();
        eprintln!("holding the fleet's mock at {url} (dashboard: {url}/dashboard) until Ctrl-C");
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown().await;
    }
    Ok(code)
}

/// Writes a file a run was asked for (`--html`).
fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), LoadError> {
    std::fs::write(path, bytes).map_err(|source| LoadError::WriteJson {
        path: path.into(),
        source,
    })
}

/// Writes a report as `--json` asked.
fn write_json(path: &std::path::Path, report: &impl serde::Serialize) -> Result<(), LoadError> {
    let json = serde_json::to_vec_pretty(report).unwrap_or_default();
    std::fs::write(path, json).map_err(|source| LoadError::WriteJson {
        path: path.into(),
        source,
    })
}

/// Prints the threshold verdicts, if any, and picks the exit code.
fn print_verdicts(verdicts: &[threshold::Verdict]) -> ExitCode {
    if verdicts.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!();
    println!("Thresholds:");
    for v in verdicts {
        println!("{v}");
    }
    if verdicts.iter().all(|v| v.passed) {
        ExitCode::SUCCESS
    } else {
        println!(
            "{} of {} thresholds failed",
            verdicts.iter().filter(|v| !v.passed).count(),
            verdicts.len()
        );
        ExitCode::from(THRESHOLD_FAILED)
    }
}

/// Reads the `--compare` baseline and checks it is a run of `mode`, before the run, so a
/// typo in its path or a baseline of another mode does not cost a whole run.
fn read_baseline(path: &std::path::Path, mode: &str) -> Result<Report, LoadError> {
    let baseline = crate::report::read(path)?;
    crate::report::comparable(&baseline.mode, mode)?;
    Ok(baseline)
}

/// One TCP connect before the run, so a wrong port is one clear error instead of thousands of
/// counted connect failures.
async fn check_reachable(target: &str) -> Result<(), LoadError> {
    // A refusal is retried for a few seconds (`serve … & load …` starts both at once); a
    // listener that accepts nothing at all is cut off after the same grace.
    let waited = truidentidad_conformance::http::LISTEN_GRACE;
    match tokio::time::timeout(waited * 2, await_listening(target, waited)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(LoadError::Unreachable {
            target: target.into(),
            source,
        }),
        Err(_) => Err(LoadError::Unreachable {
            target: target.into(),
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 10 s"),
        }),
    }
}
