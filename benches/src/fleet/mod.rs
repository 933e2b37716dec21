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
//! - [`report`]: the summary, the JSON and the threshold metrics.

pub mod analysis;
pub mod report;

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
use truidentidad_mock_server::journal::{FaultEffect, JournalEntry, Kind};
use truidentidad_mock_server::{MockServer, ServeError};
use truidentidad_scenarios::model::RetryAfter;

use crate::progress::{Display, Progress};
use crate::schedule::Schedule;
use crate::spec::Mix;
use analysis::{Answer, ClientResult, FleetFigures, Followed, Req};

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
}

/// What a fleet run measured, and the facts to print with it.
#[derive(Debug, Clone)]
pub struct FleetRun {
    pub figures: FleetFigures,
    /// Wall time from the first arrival to the end of the quiet window.
    pub wall: Duration,
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
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub account_id: String,
    pub what: String,
    /// The end of the client's stderr.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
}

/// How many problems a report lists.
const PROBLEMS_SHOWN: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("starting the fleet's mock: {0}")]
    Mock(#[from] ServeError),
}

/// Journal entries kept per planned validation: far more than any sane poller sends.
const JOURNAL_PER_VALIDATION: usize = 200;

/// Runs the fleet to its end against a mock of its own, and measures it.
pub async fn run_fleet(plan: FleetPlan, display: Display) -> Result<FleetRun, FleetError> {
    let server = start_mock(&plan).await?;
    let run = drive(&server, &plan, display).await;
    server.shutdown().await;
    Ok(run)
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
    let planned = plan.schedule.expected_arrivals();
    let state = server.state().clone();
    if display != Display::Off {
        // While the run goes, its validations and every request can be watched live.
        eprintln!(
            "fleet mock at {0} (dashboard: {0}/dashboard); {planned} validations to drive",
            server.uri()
        );
    }
    let run_start = state.now();
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let progress = {
        let (started, finished, state) = (started.clone(), finished.clone(), state.clone());
        let reqs = state.clone();
        Progress::start_with(
            display,
            plan.schedule.total_duration(),
            move || reqs.journal().total_recorded(),
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

    let slots = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let origin = Instant::now();
    let mut tasks = Vec::with_capacity(planned as usize);
    let base_url = server.uri();
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
            api_key: FLEET_API_KEY.to_string(),
            account_id: format!("{scenario}.fleet-{n}"),
            deadline: plan.deadline,
        };
        let (client, limit, state) = (plan.client.clone(), plan.client_limit, state.clone());
        let (started, finished) = (started.clone(), finished.clone());
        tasks.push(tokio::spawn(async move {
            started.fetch_add(1, Ordering::Relaxed);
            let run = contract::run(&client, &env, limit, Duration::ZERO, || state.now()).await;
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
    let wall = origin.elapsed();

    let entries = server.requests(|e| matches!(e.kind, Kind::Create | Kind::Poll));
    let journal_overflow = state.journal().dropped() > 0;
    let (fleet, unattributed, problems) = follow(server, run_start, &entries, runs);
    FleetRun {
        problems,
        figures: analysis::figures(&fleet, &unattributed),
        wall,
        planned,
        mock_url: server.uri(),
        journal_overflow,
    }
}

/// Joins each client run with its validation's requests and the mock's view of it.
fn follow(
    server: &MockServer,
    run_start: Duration,
    entries: &[JournalEntry],
    runs: Vec<(String, Duration, ClientRun)>,
) -> (Vec<Followed>, Vec<Req>, Vec<Problem>) {
    let mut problems = Vec::new();
    let since = |t: Duration| t.saturating_sub(run_start);
    // Each account's validation, from its (last successful) create.
    let mut validation_of: HashMap<String, ValidationId> = HashMap::new();
    let mut by_account: HashMap<String, Vec<&JournalEntry>> = HashMap::new();
    for e in entries.iter().filter(|e| e.kind == Kind::Create) {
        let account = e
            .form
            .pairs()
            .into_iter()
            .find(|(k, _)| k == "account_id")
            .map(|(_, v)| v)
            .unwrap_or_default();
        if let (Some(id), 200) = (e.validation_id, e.status) {
            validation_of.insert(account.clone(), id);
        }
        by_account.entry(account).or_default().push(e);
    }
    let mut polls_of: HashMap<ValidationId, Vec<&JournalEntry>> = HashMap::new();
    for e in entries.iter().filter(|e| e.kind == Kind::Poll) {
        if let Some(id) = e.validation_id {
            polls_of.entry(id).or_default().push(e);
        }
    }
    let catalogue = server.state().catalogue();
    let now = server.now();
    let fleet = runs
        .into_iter()
        .map(|(account, start_delay, run)| {
            let id = validation_of.get(&account).copied();
            let mut mine: Vec<&JournalEntry> = by_account.remove(&account).unwrap_or_default();
            if let Some(id) = id {
                mine.extend(polls_of.remove(&id).unwrap_or_default());
            }
            mine.sort_by_key(|e| (e.received, e.seq));
            let requests: Vec<Req> = mine.iter().map(|e| to_req(e, run_start)).collect();
            let view = id.and_then(|id| server.validation(id));
            let terminal_at = view.as_ref().and_then(|v| {
                let arrivals: Vec<Duration> = mine
                    .iter()
                    .filter(|e| e.kind == Kind::Poll && e.status != 429 && e.status != 503)
                    .map(|e| e.received)
                    .collect();
                v.record
                    .terminal_since(catalogue, &arrivals, now)
                    .map(since)
            });
            let truth = view.as_ref().map(|v| v.observation);
            let result = result_of(&run, truth);
            if result != (ClientResult::Reported { right: true }) && problems.len() < PROBLEMS_SHOWN
            {
                problems.push(Problem {
                    what: describe(&run, result, truth),
                    account_id: account.clone(),
                    stderr_tail: run.stderr_tail.clone(),
                });
            }
            Followed {
                requests,
                terminal_at,
                elapsed: run.ended.saturating_sub(run.started),
                start_delay,
                result,
            }
        })
        .collect();
    // Whatever no run claimed: creates refused before their form was read (throttled), or
    // requests of accounts the driver did not start.
    let unattributed = by_account
        .into_values()
        .flatten()
        .chain(polls_of.into_values().flatten())
        .map(|e| to_req(e, run_start))
        .collect();
    (fleet, unattributed, problems)
}

fn to_req(e: &JournalEntry, run_start: Duration) -> Req {
    Req {
        received: e.received.saturating_sub(run_start),
        sent: e.sent.saturating_sub(run_start),
        poll: e.kind == Kind::Poll,
        answer: answer(e),
    }
}

/// One line on what went wrong with a client run.
fn describe(
    run: &ClientRun,
    result: ClientResult,
    truth: Option<truidentidad_scenarios::engine::Observation>,
) -> String {
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
                    t.status.as_str(),
                    t.outcome
                        .and_then(|o| o.failure_status())
                        .map_or(String::new(), |f| format!("/{f}"))
                )
            });
            format!("reported {said}, the mock has {was}")
        }
    }
}

/// How the client saw a journaled answer.
fn answer(e: &JournalEntry) -> Answer {
    let retry_after = match e.fault.effect {
        Some(FaultEffect::Status {
            retry_after: Some(RetryAfter::Seconds(s)),
            ..
        }) => Some(s),
        _ => None,
    };
    match e.status {
        0 => Answer::NoAnswer,
        429 => Answer::Throttled { retry_after },
        s if s >= 500 => Answer::ServerError,
        s if s >= 400 => Answer::ClientError,
        _ => Answer::Ok {
            terminal: e.observed.is_some_and(|o| o.status.is_terminal()),
        },
    }
}

/// Whether the client finished and reported what the mock has.
fn result_of(
    run: &ClientRun,
    truth: Option<truidentidad_scenarios::engine::Observation>,
) -> ClientResult {
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
    if report.validation_status.as_deref() == Some("pending") && t.status.is_terminal() {
        return ClientResult::GaveUp;
    }
    let right = report.validation_status.as_deref() == Some(t.status.as_str())
        && report.failure_status.as_deref() == t.outcome.and_then(|o| o.failure_status());
    ClientResult::Reported { right }
}
