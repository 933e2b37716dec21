//! `load --client CMD` / `load --client-url URL`: the integrator's own client, run as a fleet.
//!
//! The other modes make the load tool the client and measure a server. A performance team's
//! question is about *their* poller: with hundreds of people validating at once, how many
//! requests does it send to Truora, how soon does it learn each outcome, do its pollers fall
//! into step, how does it take throttling? So here the tool starts one in-process mock, starts
//! one client run per validation at the scheduled rate (the conformance suite's contract: the
//! same environment for a command, the same JSON POST for a service), and reads the answers
//! from the mock's journal, where every request of the whole fleet is seen together.
//!
//! - [`analysis`]: the figures, as pure functions of what was recorded.
//! - [`report`]: the run's [`crate::report::Report`], built from the figures.
//! - [`source`]: what the mock recorded, from its own in-process journal or from an external
//!   mock's control API (`--target`).

pub mod analysis;
pub mod report;
pub mod source;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use truidentidad_conformance::client::{
    self as contract, ClientEnd, ClientEnv, ClientRun, ClientSpec,
};
use truidentidad_mock_server::conditions::{Brownout, RateLimit};
use truidentidad_mock_server::ids::ValidationId;
use truidentidad_mock_server::journal::Kind;
use truidentidad_mock_server::{MockServer, ServeError};

use crate::progress::{Display, Progress};
use crate::schedule::Schedule;
use crate::spec::Mix;
use analysis::{ClientResult, FleetFigures, Followed, follow_requests};
use source::{Remote, RemoteError, Truth};
use truidentidad_conformance::evidence::Request;

/// The API key the fleet's mock accepts and hands every client.
pub const FLEET_API_KEY: &str = "fleet-load-key";

/// What a fleet run does, checked from the command line.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    pub client: ClientSpec,
    pub schedule: Schedule,
    pub mix: Mix,
    /// Most client runs at once; arrivals beyond it wait (and the wait is reported).
    pub concurrency: usize,
    /// The polling deadline handed to each client.
    pub deadline: Duration,
    /// A client run still going after this is killed.
    pub client_limit: Duration,
    pub rate_limit: Option<RateLimit>,
    pub brownouts: Vec<Brownout>,
    pub seed: u64,
    /// How long the mock keeps listening after the last client ends, for late requests.
    pub quiet_window: Duration,
    /// An external truidentidad-mock to run against instead of an in-process one, and the
    /// API key its clients are handed.
    pub target: Option<ExternalTarget>,
    /// The in-process mock's port (`--mock-port`; 0 picks a free one).
    pub mock_port: u16,
    /// Keep the in-process mock (and its dashboard) open after the run (`--hold`).
    pub hold: bool,
}

/// `load --client … --target URL`: a mock that is already running (shared, or replicas
/// behind a balancer), followed through its control API.
#[derive(Debug, Clone)]
pub struct ExternalTarget {
    pub url: String,
    pub api_key: String,
    pub admin_token: Option<String>,
}

/// What a fleet run measured, and the facts to print with it.
#[derive(Debug, Clone)]
pub struct FleetRun {
    pub figures: FleetFigures,
    /// Wall time from the first arrival to the end of the quiet window.
    pub wall: Duration,
    /// How long client runs kept starting.
    pub arrivals: Duration,
    pub planned: u64,
    /// The mock every client talked to.
    pub mock_url: String,
    /// Journal entries the mock could not keep (figures would be incomplete).
    pub journal_overflow: bool,
    /// The first few client runs that went wrong, with what they said, so a failure can be
    /// read without re-running.
    pub problems: Vec<Problem>,
}

/// A client run that failed or reported the wrong outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    pub account_id: String,
    pub what: String,
    /// The end of the client's stderr.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
}

/// How many problems a report lists.
const PROBLEMS_SHOWN: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("starting the fleet's mock: {0}")]
    Mock(#[from] ServeError),
    #[error("following the fleet on the target: {0}")]
    Target(#[from] RemoteError),
}

/// Journal entries kept per planned validation: far more than any sane poller sends.
const JOURNAL_PER_VALIDATION: usize = 200;

/// Runs the fleet to its end against a mock of its own (or `plan.target`), and measures it.
/// With `plan.hold`, the in-process mock is handed back still serving, for the caller to keep
/// open until Ctrl-C; otherwise it is shut down here.
pub async fn run_fleet(
    plan: FleetPlan,
    display: Display,
) -> Result<(FleetRun, Option<MockServer>), FleetError> {
    if let Some(target) = &plan.target {
        let remote = Remote::new(&target.url, target.admin_token.clone());
        // Both before the first client: a wrong URL or token fails here, not after the run.
        let run_start = remote.now().await?;
        let from_seq = remote.next_seq().await?;
        let watch = Watch::External {
            remote: &remote,
            target,
            run_start,
        };
        let driven = run_clients(&watch, &plan, display).await;
        let (seen, lost) = remote.requests_since(from_seq).await?;
        let truths = remote.truths(validation_ids(&seen).collect()).await?;
        let records = Records { seen, lost, truths };
        return Ok((measure(driven, records, watch.base_url()), None));
    }
    let server = start_mock(&plan).await?;
    let run = drive(&server, &plan, display).await;
    if plan.hold {
        return Ok((run, Some(server)));
    }
    server.shutdown().await;
    Ok((run, None))
}

/// The mock a fleet runs against, and how its records are read.
enum Watch<'a> {
    Own(&'a MockServer),
    External {
        remote: &'a Remote,
        target: &'a ExternalTarget,
        /// The mock's clock when the run began.
        run_start: Duration,
    },
}

impl Watch<'_> {
    fn base_url(&self) -> String {
        match self {
            Watch::Own(server) => server.uri(),
            Watch::External { remote, .. } => remote.base().to_string(),
        }
    }

    fn api_key(&self) -> String {
        match self {
            Watch::Own(_) => FLEET_API_KEY.to_string(),
            Watch::External { target, .. } => target.api_key.clone(),
        }
    }
}

/// Every create and poll an in-process mock recorded, and its view of each validation.
fn own_records(server: &MockServer) -> Records {
    let seen: Vec<Request> = server
        .requests(|e| matches!(e.kind, Kind::Create | Kind::Poll))
        .iter()
        .map(Request::from_entry)
        .collect();
    let truths = validation_ids(&seen)
        .filter_map(|id| {
            Some((
                id,
                source::local_truth(server, id, &store_polls(&seen, id))?,
            ))
        })
        .collect();
    Records {
        lost: server.state().journal().dropped() > 0,
        seen,
        truths,
    }
}

/// What the mock recorded of a run.
struct Records {
    seen: Vec<Request>,
    lost: bool,
    truths: HashMap<ValidationId, Truth>,
}

/// The validations the run's creates made.
fn validation_ids(seen: &[Request]) -> impl Iterator<Item = ValidationId> + '_ {
    seen.iter()
        .filter(|e| e.is_create() && e.status == 200)
        .filter_map(validation_of)
}

/// The validation a request is about, as the mock names it.
fn validation_of(e: &Request) -> Option<ValidationId> {
    e.validation_id.as_deref()?.parse().ok()
}

/// When `id`'s counted polls arrived: the store's own record ([`Request::poll_counted`]).
fn store_polls(seen: &[Request], id: ValidationId) -> Vec<Duration> {
    seen.iter()
        .filter(|e| validation_of(e) == Some(id) && e.poll_counted)
        .map(|e| e.received)
        .collect()
}

/// The mock a fleet runs against: `plan`'s rate limit and brown-outs, the fleet's API key, and
/// a journal large enough for every request.
pub async fn start_mock(plan: &FleetPlan) -> Result<MockServer, FleetError> {
    let capacity = (plan.schedule.expected_arrivals() as usize)
        .saturating_mul(JOURNAL_PER_VALIDATION)
        .clamp(10_000, 20_000_000);
    Ok(MockServer::builder()
        .seed(plan.seed)
        .api_key(FLEET_API_KEY)
        .configure(|c| {
            c.port = plan.mock_port;
            c.rate_limit = plan.rate_limit;
            c.brownouts = plan.brownouts.clone();
            c.journal_capacity = capacity;
            c.max_connections = c.max_connections.max(plan.concurrency * 4);
        })
        .start()
        .await?)
}

/// Runs the fleet against `server` (started by [`start_mock`]; tests keep it to read its
/// journal afterwards) and measures it.
pub async fn drive(server: &MockServer, plan: &FleetPlan, display: Display) -> FleetRun {
    let driven = run_clients(&Watch::Own(server), plan, display).await;
    measure(driven, own_records(server), server.uri())
}

/// The client runs of a fleet, as they ended.
struct Driven {
    /// Each run's account, how late it started, and how it ended.
    runs: Vec<(String, Duration, ClientRun)>,
    /// The mock's clock when the run began.
    run_start: Duration,
    wall: Duration,
    /// How long arrivals lasted (the schedule's length).
    arrivals: Duration,
    planned: u64,
}

/// Starts one client run per scheduled arrival against `watch`'s mock, and waits for all of
/// them and the quiet window.
async fn run_clients(watch: &Watch<'_>, plan: &FleetPlan, display: Display) -> Driven {
    let planned = plan.schedule.expected_arrivals();
    let base_url = watch.base_url();
    let api_key = watch.api_key();
    if display != Display::Off {
        let what = match watch {
            Watch::Own(_) => "fleet mock",
            Watch::External { .. } => "fleet target",
        };
        // While the run goes, its validations and every request can be watched live.
        eprintln!(
            "{what} at {base_url} (dashboard: {base_url}/dashboard); {planned} validations to drive"
        );
    }
    // The clock client runs are timed by, and the count of requests the progress line shows.
    let (run_start, clock, requests): (Duration, Reading<Duration>, Reading<u64>) = match watch {
        Watch::Own(server) => {
            let state = server.state().clone();
            let journal = state.clone();
            (
                state.now(),
                Arc::new(move || state.now()),
                Arc::new(move || journal.journal().total_recorded()),
            )
        }
        Watch::External {
            remote, run_start, ..
        } => {
            let origin = std::time::Instant::now();
            let counter = Arc::new(AtomicU64::new(0));
            spawn_request_counter((*remote).clone(), counter.clone());
            (
                *run_start,
                Arc::new(move || origin.elapsed()),
                Arc::new(move || counter.load(Ordering::Relaxed)),
            )
        }
    };
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let progress = {
        let (started, finished) = (started.clone(), finished.clone());
        Progress::start_with(
            display,
            plan.schedule.total_duration(),
            move || requests(),
            move |rate, draining| {
                let s = started.load(Ordering::Relaxed);
                let f = finished.load(Ordering::Relaxed);
                format!(
                    "{}{rate:.0} req/s at the mock | clients started {s}/{planned} running {} done {f}",
                    if draining {
                        "arrivals over, draining | "
                    } else {
                        ""
                    },
                    s - f,
                )
            },
        )
    };

    // Account ids unique to this run, so a shared mock's earlier runs are never mistaken
    // for this one's.
    let run_tag = format!("{:06x}", plan.seed & 0xff_ffff);
    let slots = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let origin = Instant::now();
    let mut tasks = Vec::with_capacity(planned as usize);
    for n in 0..planned {
        let Some(offset) = plan.schedule.arrival_offset(n) else {
            break;
        };
        let due = origin + offset;
        tokio::time::sleep_until(due).await;
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let start_delay = Instant::now().saturating_duration_since(due);
        let scenario = plan.mix.pick(n).to_string();
        let env = ClientEnv {
            base_url: base_url.clone(),
            api_key: api_key.clone(),
            account_id: format!("{scenario}.fleet-{run_tag}-{n}"),
            deadline: plan.deadline,
        };
        let (client, limit, clock) = (plan.client.clone(), plan.client_limit, clock.clone());
        let (started, finished) = (started.clone(), finished.clone());
        tasks.push(tokio::spawn(async move {
            started.fetch_add(1, Ordering::Relaxed);
            // One mock serves the whole fleet, so a client's first request is not told apart:
            // the limit runs from the client's start, as a start-up allowance.
            let limits = contract::Limits {
                startup: limit,
                case: limit,
            };
            let run =
                contract::run(&client, &env, limits, Duration::ZERO, || clock(), || None).await;
            finished.fetch_add(1, Ordering::Relaxed);
            drop(slot);
            (env.account_id, start_delay, run)
        }));
    }
    let mut runs = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Ok(r) = t.await {
            runs.push(r);
        }
    }
    tokio::time::sleep(plan.quiet_window).await;
    progress.finish();
    Driven {
        runs,
        run_start,
        wall: origin.elapsed(),
        arrivals: plan.schedule.total_duration(),
        planned,
    }
}

/// A figure read on demand, from any task.
type Reading<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// Keeps `counter` at the external mock's journal count, once a second, for the progress
/// line; ends with the run's runtime or at the first failed read.
fn spawn_request_counter(remote: Remote, counter: Arc<AtomicU64>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            match remote.next_seq().await {
                Ok(n) => counter.store(n, Ordering::Relaxed),
                Err(_) => break,
            }
            if Arc::strong_count(&counter) == 1 {
                break;
            }
        }
    });
}

/// The figures of a driven fleet, from what the mock recorded.
fn measure(driven: Driven, records: Records, mock_url: String) -> FleetRun {
    let (fleet, unattributed, problems) = follow(&records, driven.run_start, driven.runs);
    FleetRun {
        problems,
        figures: analysis::figures(&fleet, &unattributed, driven.arrivals, driven.wall),
        wall: driven.wall,
        arrivals: driven.arrivals,
        planned: driven.planned,
        mock_url,
        journal_overflow: records.lost,
    }
}

/// Joins each client run with its validation's requests and the mock's view of it.
fn follow(
    records: &Records,
    run_start: Duration,
    runs: Vec<(String, Duration, ClientRun)>,
) -> (Vec<Followed>, Vec<Request>, Vec<Problem>) {
    let mut problems = Vec::new();
    let since = |t: Duration| t.saturating_sub(run_start);
    // Each account's validation, from its (last successful) create.
    let mut validation_by_account: HashMap<&str, ValidationId> = HashMap::new();
    let mut by_account: HashMap<&str, Vec<&Request>> = HashMap::new();
    for e in records.seen.iter().filter(|e| e.is_create()) {
        let account = e.form_value("account_id").unwrap_or_default();
        if let (Some(id), 200) = (validation_of(e), e.status) {
            validation_by_account.insert(account, id);
        }
        by_account.entry(account).or_default().push(e);
    }
    let mut polls_of: HashMap<ValidationId, Vec<&Request>> = HashMap::new();
    for e in records.seen.iter().filter(|e| e.is_poll()) {
        if let Some(id) = validation_of(e) {
            polls_of.entry(id).or_default().push(e);
        }
    }
    let fleet = runs
        .into_iter()
        .map(|(account, start_delay, run)| {
            let id = validation_by_account.get(account.as_str()).copied();
            let mut mine: Vec<&Request> = by_account.remove(account.as_str()).unwrap_or_default();
            if let Some(id) = id {
                mine.extend(polls_of.remove(&id).unwrap_or_default());
            }
            let requests = follow_requests(mine.into_iter().cloned().collect(), run_start);
            let truth = id.and_then(|id| records.truths.get(&id));
            let result = result_of(&run, truth);
            let fine = matches!(
                result,
                ClientResult::Reported { right: true } | ClientResult::Deadline
            );
            if !fine && problems.len() < PROBLEMS_SHOWN {
                problems.push(Problem {
                    what: describe(&run, result, truth),
                    account_id: account.clone(),
                    stderr_tail: run.stderr_tail.clone(),
                });
            }
            Followed {
                requests,
                terminal_at: truth.and_then(|t| t.terminal_at).map(since),
                elapsed: run.ended.saturating_sub(run.started),
                start_delay,
                result,
                said: run.report.as_ref().and_then(|r| {
                    outcome_label(r.validation_status.as_deref()?, r.failure_status.as_deref())
                }),
                mock: truth.and_then(|t| outcome_label(&t.status, t.failure_status.as_deref())),
            }
        })
        .collect();
    // Whatever no run claimed: creates refused before their form was read (throttled), or
    // requests of accounts the driver did not start.
    let unattributed = by_account
        .into_values()
        .flatten()
        .chain(polls_of.into_values().flatten())
        .cloned()
        .collect();
    let unattributed = follow_requests(unattributed, run_start);
    (fleet, unattributed, problems)
}

/// One line on what went wrong with a client run.
fn describe(run: &ClientRun, result: ClientResult, truth: Option<&Truth>) -> String {
    match result {
        ClientResult::Killed => "killed at the client limit (--poll-deadline + 30 s)".into(),
        ClientResult::Unreachable => match &run.end {
            ClientEnd::Unreachable { reason } => reason.clone(),
            _ => "unreachable".into(),
        },
        ClientResult::Failed => match (&run.end, &run.report_error) {
            (ClientEnd::Exited { code }, _) if !run.exited_zero() => {
                format!(
                    "exited with {}",
                    code.map_or("a signal".into(), |c| c.to_string())
                )
            }
            (_, Some(e)) => e.clone(),
            _ => "no result".into(),
        },
        ClientResult::GaveUp => "reported pending (gave up) before the outcome".into(),
        ClientResult::Deadline => {
            "reported pending at its deadline; the mock still had it pending".into()
        }
        ClientResult::Reported { .. } => {
            let said = run.report.as_ref().map_or(String::new(), |r| {
                format!(
                    "{}{}",
                    r.validation_status.as_deref().unwrap_or("?"),
                    r.failure_status
                        .as_deref()
                        .map_or(String::new(), |f| format!("/{f}"))
                )
            });
            let was = truth.map_or("unknown".into(), |t| {
                format!(
                    "{}{}",
                    t.status,
                    t.failure_status
                        .as_deref()
                        .map_or(String::new(), |f| format!("/{f}"))
                )
            });
            format!("reported {said}, the mock has {was}")
        }
    }
}

/// An outcome as the reports name it: `success`, the failure status (`declined`, `expired`,
/// …), `pending`, or the status itself when a failure has no failure status.
fn outcome_label(status: &str, failure_status: Option<&str>) -> Option<String> {
    Some(match (status, failure_status) {
        ("failure", Some(f)) => f.to_string(),
        (s, _) => s.to_string(),
    })
}

/// Whether the client finished and reported what the mock has.
fn result_of(run: &ClientRun, truth: Option<&Truth>) -> ClientResult {
    match &run.end {
        ClientEnd::Killed => return ClientResult::Killed,
        ClientEnd::Unreachable { .. } => return ClientResult::Unreachable,
        ClientEnd::Exited { .. } if !run.exited_zero() => return ClientResult::Failed,
        ClientEnd::Exited { .. } => {}
    }
    let Some(report) = &run.report else {
        return ClientResult::Failed;
    };
    let Some(t) = truth else {
        return ClientResult::Reported { right: false };
    };
    // Reporting `pending` after giving up (its deadline, too many errors) is not a wrong
    // outcome, even when the mock has one by now: the client said it does not know.
    if report.validation_status.as_deref() == Some("pending") {
        return if t.status == "pending" {
            ClientResult::Deadline
        } else {
            ClientResult::GaveUp
        };
    }
    let right = report.validation_status.as_deref() == Some(t.status.as_str())
        && report.failure_status == t.failure_status;
    ClientResult::Reported { right }
}
