//! `truidentidad-mock serve`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use truidentidad_mock_server::conditions::{Brownout, RateLimit};
use truidentidad_mock_server::config::StoreConfig;
use truidentidad_mock_server::log_sink::{FlushGuard, LogSink};
use truidentidad_mock_server::{ClockMode, ServerConfig};

use super::scenarios::load_catalogue;

/// After `serve -h`'s one-line option list: where the rest is.
const SHORT_HELP: &str = "\
Examples and every option in full: truidentidad-mock serve --help. Documentation:
truidentidad-mock docs (README, scale-out, ...).";

const AFTER_HELP: &str = "\
Examples:
  truidentidad-mock serve
  truidentidad-mock serve --port 0 --seed 42 --api-key my-test-key
  truidentidad-mock serve --scenarios my-scenarios.toml --default-scenario my-flow
  truidentidad-mock serve --mix success=70,declined-face-mismatch=20,expired-not-finished=10
  truidentidad-mock serve --clock manual --pending-for 10s
  truidentidad-mock serve --rate-limit 50/s --brownout 60s:30s:503
  truidentidad-mock serve --await-person
  truidentidad-mock serve --store redis://127.0.0.1:6379/0 --seed 7   (one of N replicas)
  truidentidad-mock serve --key-isolation --key-expiry

The first line on stdout is `listening on http://HOST:PORT`; logs go to stderr.";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClockArg {
    Real,
    Manual,
}

#[derive(Debug, Args)]
#[command(after_help = SHORT_HELP, after_long_help = AFTER_HELP)]
pub struct ServeArgs {
    /// Address to listen on. Keep it on loopback unless other machines must reach the mock.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free one (read it from the first stdout line).
    #[arg(long, env = "TRUIDENTIDAD_MOCK_PORT", default_value_t = 8080)]
    port: u16,
    /// Seed for validation ids, mixes and random delays: the same seed and requests give the
    /// same responses.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_SEED")]
    seed: Option<u64>,
    /// Accept only this Truora-API-Key (repeatable). Without it, any non-empty key is accepted.
    #[arg(
        long = "api-key",
        env = "TRUIDENTIDAD_MOCK_API_KEYS",
        value_delimiter = ','
    )]
    api_keys: Vec<String>,
    /// How long the default `success` scenario stays pending.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_PENDING_FOR", default_value = "3s", value_parser = humantime::parse_duration)]
    pending_for: Duration,
    /// Scenario file(s) to load on top of the built-in catalogue (repeatable).
    #[arg(
        long = "scenarios",
        env = "TRUIDENTIDAD_MOCK_SCENARIOS",
        value_delimiter = ','
    )]
    scenario_files: Vec<PathBuf>,
    /// Scenario for validations that select none.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_DEFAULT_SCENARIO",
        default_value = "success"
    )]
    default_scenario: String,
    /// Weighted scenario mix for validations that select none, e.g. success=70,expired-not-finished=30.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_MIX")]
    mix: Option<truidentidad_scenarios::MixSpec>,
    /// `real` time, or `manual` time moved only by POST /_mock/clock/advance.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_CLOCK",
        value_enum,
        default_value = "real"
    )]
    clock: ClockArg,
    /// Most validations kept in memory; past it the oldest finished ones are evicted.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_MAX_VALIDATIONS",
        default_value_t = 1_000_000
    )]
    max_validations: usize,
    /// Requests kept in the journal (GET /_mock/journal); 0 turns the journal off.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_JOURNAL_CAPACITY",
        default_value_t = 10_000
    )]
    journal_capacity: usize,
    /// Do not log one line per request on stderr.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_NO_REQUEST_LOG")]
    no_request_log: bool,
    /// Largest request body accepted; larger ones get 413.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    max_body_bytes: usize,
    /// Largest request head (request line and headers) accepted; at least 8192.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    max_header_bytes: usize,
    /// Time a client gets to send a request head before the connection is closed (0 = no limit).
    #[arg(long, env = "TRUIDENTIDAD_MOCK_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    header_read_timeout: Duration,
    /// Time a client gets to send a request body before it gets 408.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_BODY_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    body_read_timeout: Duration,
    /// Connections served at once.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    max_connections: usize,
    /// Token required on every /_mock/ control call, the dashboard and the journal
    /// (X-Mock-Admin-Token or Authorization: Bearer). Mandatory when --bind is not loopback.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Save validations and the journal here on shutdown (SIGTERM/SIGINT) and load them on
    /// start, so a restart loses nothing. Written atomically; a corrupt file stops the server.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_STATE_FILE")]
    state_file: Option<PathBuf>,
    /// With --state-file: also write it this often while serving (off the request path, atomic
    /// like the shutdown save), so a crash or SIGKILL loses at most this window, e.g. 10s.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_SNAPSHOT_EVERY", value_parser = humantime::parse_duration, value_name = "DURATION", requires = "state_file")]
    snapshot_every: Option<Duration>,
    /// Outcomes wait for the person: each validation stays pending until its liveness video is
    /// uploaded through the browser journey (or it expires), and its scenario's clock starts
    /// at the upload. Per validation: the create header `X-Mock-Await-Person: true|false`.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_AWAIT_PERSON")]
    await_person: bool,
    /// One tenant per API key: a validation created with one key is a 404 to every other key,
    /// as another Truora account's would be. Example: serve --key-isolation
    #[arg(long, env = "TRUIDENTIDAD_MOCK_KEY_ISOLATION")]
    key_isolation: bool,
    /// Honour the `exp` claim of API keys shaped like JWTs (as Truora's are): once it has passed
    /// on the mock's clock the key gets 403. The signature is not checked (it needs Truora's
    /// secret). Other keys pass as before. Example: serve --key-expiry --clock manual
    #[arg(long, env = "TRUIDENTIDAD_MOCK_KEY_EXPIRY")]
    key_expiry: bool,
    /// Worker threads (default: one per core).
    #[arg(long, env = "TRUIDENTIDAD_MOCK_THREADS")]
    threads: Option<usize>,
    /// Throttle every API request (creates and polls) to this rate, answering 429 with
    /// Retry-After beyond it: 50/s, 3000/m, or 50/s/key for one bucket per API key. Bursts of
    /// one second's worth pass.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_RATE_LIMIT")]
    rate_limit: Option<RateLimit>,
    /// A brown-out AT:FOR:EFFECT from the server's start: 20s:10s:503 answers every API
    /// request 503 for 10 s from 20 s on; 20s:10s:+2s adds 2 s of latency (repeatable).
    #[arg(long = "brownout", value_name = "AT:FOR:EFFECT")]
    brownouts: Vec<Brownout>,
    /// Where validations live: `memory` (this process, the default) or a Redis shared by
    /// replicas behind a load balancer, e.g. redis://127.0.0.1:6379/0. Options after `?`:
    /// namespace=NAME (key prefix, default tim) and timeout_ms=N (longest wait per Redis
    /// call before a 503, default 1000). See `truidentidad-mock docs scale-out`.
    #[arg(
        long,
        env = "TRUIDENTIDAD_MOCK_STORE",
        default_value = "memory",
        value_name = "memory|redis://HOST:PORT/DB"
    )]
    store: StoreConfig,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Kept until `run` returns, so buffered log lines are flushed on exit.
    let (log_sink, _log_guard) = init_logging()?;
    // `RUST_LOG` can turn the request lines off (e.g. `warn`); the sink bypasses tracing's
    // filter, so ask it once here.
    let request_log = !args.no_request_log
        && tracing::enabled!(target: "truidentidad_mock::request", tracing::Level::INFO);
    let catalogue = load_catalogue(&args.scenario_files, args.pending_for)?;
    let config = ServerConfig {
        bind: args.bind,
        port: args.port,
        seed: args.seed,
        api_keys: args.api_keys,
        clock: match args.clock {
            ClockArg::Real => ClockMode::Real,
            ClockArg::Manual => ClockMode::Manual,
        },
        catalogue: Arc::new(catalogue),
        default_scenario: args.default_scenario,
        mix: args.mix,
        max_validations: args.max_validations,
        journal_capacity: args.journal_capacity,
        request_log,
        log_sink: Some(log_sink),
        max_body_bytes: args.max_body_bytes,
        max_header_bytes: args.max_header_bytes,
        header_read_timeout: args.header_read_timeout,
        body_read_timeout: args.body_read_timeout,
        max_connections: args.max_connections,
        admin_token: args.admin_token,
        state_file: args.state_file,
        snapshot_every: args.snapshot_every.filter(|d| !d.is_zero()),
        rate_limit: args.rate_limit,
        brownouts: args.brownouts,
        await_person: args.await_person,
        store: args.store,
        key_isolation: args.key_isolation,
        key_expiry: args.key_expiry,
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let (listener, state) = truidentidad_mock_server::bind(config).await?;
        let addr = listener.local_addr().context("reading the bound address")?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{addr}")?;
            out.flush()?;
        }
        tracing::info!(
            seed = state.seed(),
            clock = state.clock().mode().as_str(),
            scenarios = state.catalogue().len(),
            "serving the TruIdentidad mock; control API at http://{addr}/_mock/"
        );
        truidentidad_mock_server::serve(listener, state, shutdown_signal()).await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Logs go to stderr through a batching sink: at tens of thousands of requests per second,
/// one `write(2)` (or one tracing event) per request line made the request log the mock's
/// largest cost (BENCHMARKS.md). Request lines are written into the sink directly; other
/// messages go through tracing into the same sink, so their order is kept.
fn init_logging() -> anyhow::Result<(Arc<LogSink>, FlushGuard)> {
    let (sink, guard) = LogSink::start(std::io::stderr()).context("starting the log writer")?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(super::log::SinkWriter(Arc::clone(&sink)))
        .with_ansi(false)
        .event_format(super::log::LineFormat)
        .try_init();
    Ok((sink, guard))
}
