//! The two ways a run drives the target.
//!
//! - **Polling** (the default): an open model of arrivals. Validation `n` is created at the
//!   schedule's intended instant whatever happened to the others, then polled in its own closed
//!   loop until a terminal state or the deadline. Every latency is measured from the instant the
//!   request was *meant* to go out, so a target that stalls shows the stall in the percentiles
//!   instead of silently lowering the load (coordinated omission).
//! - **Raw**: a fixed number of connections hammer one endpoint back to back, as wrk and oha
//!   do, to compare the tool and the target with them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Api, Status};
use crate::outcome::BadValidationId;
use crate::raw::{RawTarget, RawWorker};
use crate::report::RunFacts;
use crate::schedule::Schedule;
use crate::series::{Answered, Timeline};
use crate::spec::Mix;
use crate::stats::{Latency, Stats};

/// How a validation picks its scenario on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// The magic `account_id` `<scenario>.load-<run>-<n>`: works with unchanged client code.
    AccountId,
    /// The `X-Mock-Scenario` header, with a plain `load-<run>-<n>` account id.
    Header,
    /// A test identity's `document_number` (`PollingPlan::documents`, cycling), with a plain
    /// account id: the outcome is the identity's, the mix is not used.
    DocumentNumber,
}

/// When to poll again: `interval × backoff^polls`, capped, with ± `jitter` spread so thousands
/// of validations created together do not poll in lockstep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    pub interval: Duration,
    pub backoff: f64,
    pub max_interval: Duration,
    /// Fraction of the delay, 0..1.
    pub jitter: f64,
}

impl PollPolicy {
    /// The wait before poll number `polls_done + 1`; `entropy` is any well-mixed u64.
    pub fn delay(&self, polls_done: u32, entropy: u64) -> Duration {
        let grown =
            self.interval.as_secs_f64() * self.backoff.max(1.0).powi(polls_done.min(64) as i32);
        let capped = grown.min(
            self.max_interval
                .as_secs_f64()
                .max(self.interval.as_secs_f64()),
        );
        // Uniform in [-1, 1).
        let u = (entropy >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        let jittered = capped * (1.0 + self.jitter.clamp(0.0, 1.0) * u);
        Duration::from_secs_f64(jittered.max(0.0))
    }
}

/// Stops a run early: the request cap or Ctrl-C.
#[derive(Debug, Default)]
pub struct Limits {
    pub max_requests: u64,
    sent: AtomicU64,
    stop: AtomicBool,
}

impl Limits {
    pub fn new(max_requests: u64) -> Self {
        Limits {
            max_requests,
            ..Limits::default()
        }
    }

    /// Claims one request of the budget; false once the cap is reached or the run stopped.
    pub fn take(&self) -> bool {
        if self.stopped() {
            return false;
        }
        if self.sent.fetch_add(1, Ordering::Relaxed) >= self.max_requests {
            self.stop();
            return false;
        }
        true
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone)]
pub struct PollingPlan {
    pub schedule: Schedule,
    pub mix: Mix,
    pub selector: Selector,
    /// Test identities' document numbers, for [`Selector::DocumentNumber`]; empty otherwise.
    pub documents: Vec<String>,
    pub poll: PollPolicy,
    /// A validation still pending this long after its intended start is given up on.
    pub deadline: Duration,
    /// Validations running at once; arrivals beyond it are dropped and counted.
    pub max_in_flight: u64,
    /// Distinguishes this run's account ids from other runs' and seeds the jitter.
    pub seed: u64,
}

/// Runs the polling model to the end of the schedule and until every started validation has
/// finished.
pub async fn run_polling(
    api: Arc<Api>,
    plan: Arc<PollingPlan>,
    stats: Arc<Stats>,
    limits: Arc<Limits>,
) -> RunFacts {
    let start = Instant::now();
    let arrival_window = plan.schedule.total_duration();
    stats.begin(Timeline::new(
        start,
        arrival_window,
        arrival_window + plan.deadline + DRAIN_SLACK,
    ));
    let mut tasks = JoinSet::new();
    let mut n = 0u64;
    while let Some(offset) = plan.schedule.arrival_offset(n) {
        let intended = start + offset;
        tokio::time::sleep_until(intended).await;
        if limits.stopped() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        if stats.in_flight.load(Ordering::Relaxed) >= plan.max_in_flight {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.in_flight.fetch_add(1, Ordering::Relaxed);
            stats.started.fetch_add(1, Ordering::Relaxed);
            tasks.spawn(validation(
                api.clone(),
                plan.clone(),
                stats.clone(),
                limits.clone(),
                n,
                intended,
            ));
        }
        n += 1;
    }
    while tasks.join_next().await.is_some() {}
    RunFacts {
        mode: "polling".into(),
        target: String::new(),
        elapsed: start.elapsed(),
        arrival_window,
        poll_deadline: Some(plan.deadline),
        target_rate: plan.schedule.mean_rate(),
        scheduled: plan.schedule.expected_arrivals(),
        retried: api.pool.retried(),
        run: Default::default(),
    }
}

/// How long past its last arrival's deadline a run's series is sized for (a last poll's
/// request timeout); later requests still count, in the series' last second.
const DRAIN_SLACK: Duration = Duration::from_secs(60);

/// One validation: create at its intended instant, then poll until it ends.
async fn validation(
    api: Arc<Api>,
    plan: Arc<PollingPlan>,
    stats: Arc<Stats>,
    limits: Arc<Limits>,
    n: u64,
    intended: Instant,
) {
    let outcome = lifecycle(&api, &plan, &stats, &limits, n, intended).await;
    stats.outcome(&outcome);
    stats.finished.fetch_add(1, Ordering::Relaxed);
    stats.in_flight.fetch_sub(1, Ordering::Relaxed);
}

async fn lifecycle(
    api: &Api,
    plan: &PollingPlan,
    stats: &Stats,
    limits: &Limits,
    n: u64,
    intended: Instant,
) -> String {
    let scenario = plan.mix.pick(n);
    let plain = || format!("load-{:x}-{n}", plan.seed);
    let (account, header, document) = match plan.selector {
        Selector::AccountId => (format!("{scenario}.load-{:x}-{n}", plan.seed), None, None),
        Selector::Header => (plain(), Some(scenario), None),
        Selector::DocumentNumber => (
            plain(),
            None,
            plan.documents
                .get((n % plan.documents.len().max(1) as u64) as usize)
                .map(String::as_str),
        ),
    };
    if !limits.take() {
        return "cut".into();
    }
    let created = api.create_with(&account, header, document).await;
    let now = Instant::now();
    stats.answered_in(now, Answered::of(&created), now - intended);
    stats.creates.fetch_add(1, Ordering::Relaxed);
    Stats::record(&stats.create, now - intended);
    let id = match created {
        Ok(id) => id,
        Err(e) => {
            stats.error(e.class);
            return "create_failed".into();
        }
    };
    let request = api.poll_request(&id);
    let mut polls = 0u32;
    let mut next = now + plan.poll.delay(0, mix64(plan.seed, n, 0));
    loop {
        if next.saturating_duration_since(intended) > plan.deadline {
            return "deadline".into();
        }
        tokio::time::sleep_until(next).await;
        if !limits.take() {
            return "cut".into();
        }
        let seen = api.poll(&request).await;
        let now = Instant::now();
        stats.answered_in(now, Answered::of(&seen), now - next);
        stats.polls.fetch_add(1, Ordering::Relaxed);
        Stats::record(&stats.poll, now - next);
        polls += 1;
        let wait = plan
            .poll
            .delay(polls, mix64(plan.seed, n, u64::from(polls)));
        match seen {
            Ok(Status::Terminal(kind)) => {
                Stats::record(&stats.time_to_terminal, now - intended);
                return kind;
            }
            Ok(Status::Pending) => next = now + wait,
            Err(e) => {
                stats.error(e.class);
                next = now + wait.max(e.retry_after.unwrap_or_default());
            }
        }
    }
}

/// SplitMix64 over three words: cheap, well-spread entropy for jitter.
fn mix64(a: u64, b: u64, c: u64) -> u64 {
    let mut z = a ^ b.rotate_left(21) ^ c.rotate_left(42) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which endpoint raw mode hammers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEndpoint {
    Get,
    Create,
}

#[derive(Debug, Clone)]
pub struct RawPlan {
    pub endpoint: RawEndpoint,
    pub concurrency: usize,
    pub duration: Duration,
    /// Validation to read in `Get` mode; created first when absent.
    pub validation_id: Option<String>,
    pub scenario: String,
}

/// Why raw mode could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RawSetupError {
    #[error(
        "raw get: could not create the validation to read ({0:?}); pass --validation-id or check the target"
    )]
    Create(crate::outcome::ErrorClass),
    #[error("raw get: {0}")]
    BadId(#[from] BadValidationId),
}

/// Hammers one endpoint from `concurrency` workers, each sending its next request as soon as
/// the previous answer is in, on a connection of its own ([`RawWorker`]).
///
/// Latency runs from the previous response's end (the loop's bookkeeping in between is well
/// under the histogram's 1 µs resolution) to the last byte of this one, connecting included,
/// as wrk measures without `-R`. Each worker keeps its own histogram, merged at the end, so
/// the loop takes no lock.
pub async fn run_raw(
    api: Arc<Api>,
    plan: RawPlan,
    stats: Arc<Stats>,
    limits: Arc<Limits>,
) -> Result<RunFacts, RawSetupError> {
    let target = Arc::new(match (&plan.validation_id, plan.endpoint) {
        (Some(id), RawEndpoint::Get) => RawTarget::get(&api, id)?,
        (None, RawEndpoint::Get) => {
            let id = api
                .create(&format!("{}.raw", plan.scenario), None)
                .await
                .map_err(|e| RawSetupError::Create(e.class))?;
            RawTarget::get(&api, &id)?
        }
        (_, RawEndpoint::Create) => RawTarget::create(&api, &plan.scenario),
    });
    let start = Instant::now();
    let end = start + plan.duration;
    stats.begin(Timeline::new(
        start,
        plan.duration,
        plan.duration + DRAIN_SLACK,
    ));
    let mut workers = JoinSet::new();
    for w in 0..plan.concurrency.max(1) {
        let (stats, limits) = (stats.clone(), limits.clone());
        let mut client = RawWorker::new(target.clone(), w);
        workers.spawn(async move {
            let counter = match plan.endpoint {
                RawEndpoint::Get => &stats.polls,
                RawEndpoint::Create => &stats.creates,
            };
            let mut local = Latency::default();
            // Closed loop: one request's end is the next one's start, one clock read apart.
            let mut t0 = Instant::now();
            while t0 < end && limits.take() {
                let result = client.send(t0).await;
                let t1 = Instant::now();
                local.record(t1 - t0);
                stats.answered(t1, Answered::of(&result));
                counter.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = result {
                    stats.error(e.class);
                }
                t0 = t1;
            }
            local
        });
    }
    let mut all = Latency::default();
    while let Some(r) = workers.join_next().await {
        if let Ok(h) = r {
            all.add(&h);
        }
    }
    let target = if plan.endpoint == RawEndpoint::Get {
        &stats.poll
    } else {
        &stats.create
    };
    if let Ok(mut h) = target.lock() {
        h.add(&all);
    }
    Ok(RunFacts {
        mode: if plan.endpoint == RawEndpoint::Get {
            "raw-get"
        } else {
            "raw-create"
        }
        .into(),
        target: String::new(),
        elapsed: start.elapsed(),
        // Requests "arrive" for the whole duration; the drain is the requests in flight at
        // its end.
        arrival_window: plan.duration,
        poll_deadline: None,
        target_rate: 0.0,
        scheduled: 0,
        // Raw workers never resend (each counts what wrk would); only the pool's setup
        // create could have.
        retried: api.pool.retried(),
        run: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jitter_bounded() {
        let p = PollPolicy {
            interval: Duration::from_secs(1),
            backoff: 2.0,
            max_interval: Duration::from_secs(5),
            jitter: 0.1,
        };
        for polls in 0..20u32 {
            for e in [0, u64::MAX / 3, u64::MAX] {
                let base = (1u64 << polls.min(10)).min(5) as f64;
                let d = p.delay(polls, e).as_secs_f64();
                assert!(
                    d >= base * 0.9 - 1e-9 && d <= base * 1.1 + 1e-9,
                    "poll {polls}: {d}"
                );
            }
        }
    }

    #[test]
    fn no_jitter_no_backoff_is_the_interval() {
        let p = PollPolicy {
            interval: Duration::from_millis(250),
            backoff: 1.0,
            max_interval: Duration::from_secs(1),
            jitter: 0.0,
        };
        assert_eq!(p.delay(7, 12345), Duration::from_millis(250));
    }

    #[test]
    fn request_cap() {
        let l = Limits::new(3);
        assert!(l.take() && l.take() && l.take());
        assert!(!l.take());
        assert!(l.stopped());
    }
}
