//! A model of a polite client, run in virtual time (pure code, no HTTP, no sleeps) against the
//! scenario of every case, to prove the suite's limits are consistent: a client that is polite
//! *and as slow as the rules allow* still reaches the outcome before its case's deadline, gives
//! up within deadline + slack where the case expects it to, and ends well inside the case limit.
//!
//! The model client:
//! - creates one validation, then polls it; every request that is answered takes
//!   [`RESPONSE_TIME`]; a stalled one is abandoned after the largest allowed per-request
//!   timeout (`request_timeout_limit`, 10 s) and counts as a failure;
//! - waits before each request according to its [`Backoff`] (Truora's SDK schedule, or doubling
//!   after each failure), times a jitter factor, never less than the minimum interval, and never
//!   less than a `Retry-After` (which stays a floor for the rest of the polling);
//! - gives up (reports `pending`) when its next request would land past its deadline, or after
//!   `max_retries` retries in a row;
//! - stops at the first terminal response.
//!
//! Its requests are then graded, as a journal would be, by the suite's own rules: the model
//! never FAILS a case (a stalled request is journaled [`CLOSE_DELAY`] after its timeout, as
//! the socket close reaches the mock late; `request_timeout_slack` has to cover it).
//!
//! The mock's side is the scenario engine itself: `observe()` gives the validation's state from
//! the time since its creation, `select_fault()` the fault a request gets (every fault in the
//! suite's scenarios fires with certainty, so the entropy is irrelevant).

use std::time::Duration;

use truidentidad_conformance::catalogue::{Case, Catalogue, ExpectedStatus};
use truidentidad_conformance::client::{ClientEnd, ClientReport, ClientRun};
use truidentidad_conformance::runner::{account_id, grade};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::trace::{Request, Seen, Trace};
use truidentidad_conformance::verdict::Verdict;
use truidentidad_mock_server::journal::{AppliedFault, FaultEffect, KeyState, Kind};
use truidentidad_scenarios::engine::RequestFacts;
use truidentidad_scenarios::model::{Delay, Fault, RetryAfter};
use truidentidad_scenarios::{
    ConnectionFault, FaultAction, Outcome, RequestKind, Scenario, ValidationFacts, observe,
    select_fault,
};

/// How long an answered request takes, pessimistically (a loaded machine).
const RESPONSE_TIME: Duration = Duration::from_millis(100);
/// Truora's SDK: the wait before the 1st, 2nd, … poll; the last one repeats.
const SDK_SCHEDULE: [u64; 6] = [1, 2, 4, 8, 16, 30];
/// The longest wait a doubling client reaches.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A validation's timeout (the mock's default); no suite scenario gets near it.
const VALIDATION_TIMEOUT: Duration = Duration::from_secs(300);
/// How late the mock sees a timed-out client close its socket (measured 1–10 ms idle).
const CLOSE_DELAY: Duration = Duration::from_millis(10);
/// Time an interpreter may take to start before its first request, on a loaded machine.
const STARTUP: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
enum Backoff {
    /// (a) Truora's SDK: the n-th wait is `SDK_SCHEDULE[n]`, whatever the last response was.
    SdkSchedule,
    /// (b) The SDK schedule while the validation is pending; after each 429/5xx/reset/timeout
    /// the wait doubles (capped at `MAX_BACKOFF`).
    DoubleOnFailure,
}

#[derive(Debug, Clone, Copy)]
struct Policy {
    backoff: Backoff,
    /// Every wait is multiplied by this: 1.0 (none) or 1.3 (the top of the reference clients'
    /// ×1.1–1.3 jitter, the slowest a jittered client gets).
    jitter: f64,
    /// The client's own delay on top of each wait (timers, connecting): what a loaded
    /// machine varies.
    overhead: Duration,
}

/// What the mock did with one request.
enum Answer {
    /// A 200: the validation's state (`None`: pending).
    Shown(Option<Outcome>),
    /// A 429/5xx (with its Retry-After), a reset or close (status 0), or an unreadable body.
    Failed {
        status: u16,
        retry_after: Option<RetryAfter>,
    },
    /// Never answered: the client abandons it at its request timeout.
    Stalled(Duration),
}

impl Answer {
    /// How long the client waits at least after it: the Retry-After, where an HTTP-date
    /// counts a second more (the mock rounds it up to the next second).
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Answer::Failed {
                retry_after: Some(ra),
                ..
            } => {
                let extra = u64::from(matches!(ra, RetryAfter::HttpDate(_)));
                Some(Duration::from_secs(ra.seconds() + extra))
            }
            _ => None,
        }
    }
}

fn answer(action: &FaultAction) -> Answer {
    match action {
        FaultAction::HttpError {
            status,
            retry_after,
            ..
        } => Answer::Failed {
            status: *status,
            retry_after: *retry_after,
        },
        FaultAction::Connection(ConnectionFault::Stall(d)) => Answer::Stalled(*d),
        FaultAction::Connection(_) => Answer::Failed {
            status: 0,
            retry_after: None,
        },
        // Unreadable (a delay or a slow body still shows the answer: see `faulted`).
        FaultAction::MalformedBody
        | FaultAction::EmptyBody
        | FaultAction::DelayOnly
        | FaultAction::SlowBody { .. } => Answer::Failed {
            status: 200,
            retry_after: None,
        },
    }
}

const ID: &str = "VLD00000000000000000000000000000001";

/// The journal entry of one request of the model, answered as `got` says.
/// `delay` is the scenario fault's delay before the answer, on top of [`RESPONSE_TIME`].
fn journaled(
    seq: u64,
    at: Duration,
    create: bool,
    (got, delay): (&Answer, Duration),
    s: &Settings,
) -> Request {
    let ok = matches!(got, Answer::Shown(_));
    let delayed = AppliedFault {
        delay: (!delay.is_zero()).then_some(delay),
        ..AppliedFault::default()
    };
    let (status, sent, fault) = match got {
        Answer::Shown(_) => (200, at + RESPONSE_TIME + delay, delayed),
        Answer::Failed { status, .. } => (*status, at + RESPONSE_TIME + delay, delayed),
        Answer::Stalled(d) => (
            0,
            at + s.request_timeout_limit + CLOSE_DELAY,
            AppliedFault {
                effect: Some(FaultEffect::Stall(*d)),
                client_closed: true,
                ..AppliedFault::default()
            },
        ),
    };
    Request {
        seq,
        received: at,
        sent,
        method: if create { "POST" } else { "GET" }.into(),
        path: if create {
            "/v1/validations".into()
        } else {
            format!("/v1/validations/{ID}")
        },
        kind: if create { Kind::Create } else { Kind::Poll },
        validation_id: (ok || !create).then(|| ID.to_string()),
        status,
        fault,
        api_key: KeyState::Accepted,
        content_type: create.then(|| "application/x-www-form-urlencoded".into()),
        form: Vec::new(),
        retry_after: match got {
            Answer::Failed {
                retry_after: Some(ra),
                ..
            } => Some(Duration::from_secs(ra.seconds())),
            _ => None,
        },
        seen: match got {
            Answer::Shown(None) => Seen::Pending,
            Answer::Shown(Some(o)) => Seen::Terminal {
                validation_status: o.status().as_str().into(),
                failure_status: o.failure_status().map(str::to_string),
            },
            _ => Seen::Error,
        },
        poll_counted: !create,
        transport_retry: false,
    }
}

#[derive(Debug, PartialEq)]
enum End {
    Terminal(Outcome),
    GaveUp,
}

#[derive(Debug)]
struct Run {
    end: End,
    /// When the client stopped: its last response, or the moment it decided not to wait again.
    stopped: Duration,
    /// When its last request arrived.
    last_request: Duration,
    requests: usize,
    /// What the mock would have journaled.
    journal: Vec<Request>,
}

/// The mock's side: one validation (the one whose create the client saw answered).
struct Mock<'a> {
    scenario: &'a Scenario,
    creates: u32,
    /// Creation time and polls so far of the validation the client knows.
    validation: Option<(Duration, u32)>,
}

/// The delay a fault adds before answering: its longest, so the model is never faster than
/// the mock could be.
fn fault_delay(f: &Fault) -> Duration {
    match f.delay {
        Some(Delay::Fixed(d)) => d,
        Some(Delay::Uniform { max, .. }) => max,
        None => Duration::ZERO,
    }
}

/// What a fault does to an answer that would have shown `shown`: a delay-only or slow body
/// still shows it, later; anything else replaces it.
fn faulted(f: &Fault, shown: Option<Outcome>) -> (Answer, Duration) {
    let answer = match f.action {
        FaultAction::DelayOnly | FaultAction::SlowBody { .. } => Answer::Shown(shown),
        ref action => answer(action),
    };
    (answer, fault_delay(f))
}

impl Mock<'_> {
    fn create(&mut self, now: Duration) -> (Answer, Duration) {
        self.creates += 1;
        let facts = RequestFacts {
            kind: RequestKind::Create,
            nth: self.creates,
            phase: 0,
            entropy: 0,
        };
        match select_fault(self.scenario, &facts) {
            Some(f)
                if !matches!(
                    f.action,
                    FaultAction::DelayOnly | FaultAction::SlowBody { .. }
                ) =>
            {
                faulted(f, None)
            }
            f => {
                self.validation = Some((now, 0));
                (Answer::Shown(None), f.map_or(Duration::ZERO, fault_delay))
            }
        }
    }

    fn poll(&mut self, now: Duration) -> (Answer, Duration) {
        let Some((created, polls)) = self.validation.as_mut() else {
            panic!("the model polled before a create was answered");
        };
        let since = now - *created;
        let obs = observe(
            self.scenario,
            &ValidationFacts {
                since_creation: since,
                since_scenario_start: since,
                polls: *polls,
                timeout: VALIDATION_TIMEOUT,
                forced: None,
            },
        );
        *polls += 1;
        let facts = RequestFacts {
            kind: RequestKind::Poll,
            nth: *polls,
            phase: obs.phase,
            entropy: 0,
        };
        match select_fault(self.scenario, &facts) {
            Some(f) => faulted(f, obs.outcome),
            None => (Answer::Shown(obs.outcome), Duration::ZERO),
        }
    }
}

/// Runs the model client against a scenario with the given deadline; time 0 is its start.
fn simulate(scenario: &Scenario, s: &Settings, deadline: Duration, p: Policy) -> Run {
    let mut mock = Mock {
        scenario,
        creates: 0,
        validation: None,
    };
    let mut journal: Vec<Request> = Vec::new();
    let mut now = Duration::ZERO;
    let mut polls = 0usize; // requests sent after the create succeeded (the schedule's index)
    let mut failures_in_a_row = 0u32;
    let mut floor = s.min_interval; // raised for good by a Retry-After
    let mut wait = Duration::ZERO; // before the first request
    let scheduled = |n: usize| Duration::from_secs(SDK_SCHEDULE[n.min(SDK_SCHEDULE.len() - 1)]);
    let end = loop {
        // Give up when the next request would land past the deadline.
        if now + wait > deadline {
            break End::GaveUp;
        }
        now += wait;
        if !wait.is_zero() {
            now += p.overhead;
        }
        let create = mock.validation.is_none();
        let (got, delay) = if create {
            mock.create(now)
        } else {
            polls += 1;
            mock.poll(now)
        };
        journal.push(journaled(
            journal.len() as u64,
            now,
            create,
            (&got, delay),
            s,
        ));
        let next = match got {
            Answer::Shown(Some(outcome)) => {
                now += RESPONSE_TIME + delay;
                break End::Terminal(outcome);
            }
            Answer::Shown(None) => {
                now += RESPONSE_TIME + delay;
                failures_in_a_row = 0;
                scheduled(polls).mul_f64(p.jitter)
            }
            Answer::Failed { .. } | Answer::Stalled(_) => {
                now += match got {
                    Answer::Stalled(_) => s.request_timeout_limit,
                    _ => RESPONSE_TIME + delay,
                };
                if let Some(ra) = got.retry_after() {
                    floor = floor.max(ra);
                }
                failures_in_a_row += 1;
                if failures_in_a_row > s.max_retries {
                    break End::GaveUp;
                }
                match p.backoff {
                    Backoff::SdkSchedule => scheduled(polls).mul_f64(p.jitter),
                    Backoff::DoubleOnFailure => (wait * 2).min(MAX_BACKOFF),
                }
            }
        };
        wait = next.max(floor);
    };
    Run {
        end,
        stopped: now,
        last_request: journal.last().map_or(Duration::ZERO, |r| r.received),
        requests: journal.len(),
        journal,
    }
}

/// The model's run as the suite would grade it: every finding, as `(verdict, rule, message)`.
fn findings(
    cat: &Catalogue,
    case: &Case,
    s: &Settings,
    run: &Run,
) -> Vec<(Verdict, String, String)> {
    let aid = account_id(case);
    let mut journal = run.journal.clone();
    for r in journal.iter_mut().filter(|r| r.kind == Kind::Create) {
        r.form = vec![
            ("type".into(), "government".into()),
            ("account_id".into(), aid.clone()),
            ("user_authorized".into(), "true".into()),
        ];
    }
    let (status, failure) = match &run.end {
        End::Terminal(o) => (o.status().as_str(), o.failure_status()),
        End::GaveUp => ("pending", None),
    };
    let trace = Trace::new(
        case.clone(),
        scenario(cat, case).clone(),
        s.clone(),
        aid,
        journal,
        ClientRun {
            started: Duration::ZERO,
            ended: run.stopped,
            first_request: Some(Duration::ZERO),
            end: ClientEnd::Exited { code: Some(0) },
            report: Some(ClientReport {
                validation_id: Some(ID.into()),
                validation_status: Some(status.into()),
                failure_status: failure.map(str::to_string),
            }),
            report_error: None,
            stderr_tail: String::new(),
        },
    );
    grade(cat, &[], &trace)
        .findings
        .iter()
        .map(|f| (f.verdict, f.rule.to_string(), f.message.clone()))
        .collect()
}

/// The FAILED findings of the model's run, as `rule: message`.
fn graded(cat: &Catalogue, case: &Case, s: &Settings, run: &Run) -> Vec<String> {
    findings(cat, case, s, run)
        .into_iter()
        .filter(|(v, _, _)| *v == Verdict::Failed)
        .map(|(_, rule, message)| format!("{rule}: {message}"))
        .collect()
}

const POLICIES: [Policy; 4] = [
    Policy {
        backoff: Backoff::SdkSchedule,
        jitter: 1.0,
        overhead: Duration::ZERO,
    },
    Policy {
        backoff: Backoff::SdkSchedule,
        jitter: 1.3,
        overhead: Duration::ZERO,
    },
    Policy {
        backoff: Backoff::DoubleOnFailure,
        jitter: 1.0,
        overhead: Duration::ZERO,
    },
    Policy {
        backoff: Backoff::DoubleOnFailure,
        jitter: 1.3,
        overhead: Duration::ZERO,
    },
];

fn scenario<'a>(cat: &'a Catalogue, case: &Case) -> &'a Scenario {
    cat.scenarios
        .get(cat.scenarios.id_of(&case.scenario).expect("scenario"))
}

#[test]
fn polite_clients_finish_every_case_in_virtual_time() {
    let cat = Catalogue::builtin().expect("catalogue");
    let s = Settings::default();
    let mut checked = 0;
    for case in &cat.cases {
        // Cases that expect an error (`invalid-api-key`, `poll-not-found`) are about a 4xx the
        // client must not retry, not about timing.
        if case.expect.validation_status == ExpectedStatus::Error {
            continue;
        }
        let deadline = s.deadline_for(case);
        for p in POLICIES {
            let run = simulate(scenario(&cat, case), &s, deadline, p);
            let what = format!("case {} with {p:?}: {run:?}", case.id);
            match case.expect.validation_status {
                ExpectedStatus::Pending => {
                    assert_eq!(run.end, End::GaveUp, "{what}");
                    assert!(
                        run.last_request <= deadline + s.deadline_slack,
                        "past the deadline: {what}"
                    );
                }
                _ => {
                    let End::Terminal(outcome) = run.end else {
                        panic!("gave up before the outcome: {what}");
                    };
                    assert_eq!(
                        outcome.status().as_str(),
                        case.expect.validation_status.as_str(),
                        "{what}"
                    );
                    assert_eq!(
                        outcome.failure_status(),
                        case.expect.failure_status.as_deref(),
                        "{what}"
                    );
                    assert!(run.stopped <= deadline, "{what}");
                }
            }
            assert_eq!(graded(&cat, case, &s, &run), Vec::<String>::new(), "{what}");
            // The client's start-up, its run and the quiet window fit in the case limit.
            assert!(
                STARTUP + run.stopped + s.quiet_window <= s.case_limit,
                "over the case limit: {what}"
            );
            checked += 1;
        }
    }
    let timed = cat
        .cases
        .iter()
        .filter(|c| c.expect.validation_status != ExpectedStatus::Error)
        .count();
    assert_eq!(checked, POLICIES.len() * timed);
}

/// The model is the client the issue describes: under the old single 13 s deadline it fails
/// the cases it should pass, so the test above is not vacuous.
#[test]
fn the_old_single_deadline_made_polite_clients_fail() {
    let cat = Catalogue::builtin().expect("catalogue");
    let s = Settings::default();
    let case = cat.case("stalled-poll").expect("case");
    let old = Duration::from_secs(13);
    let slow = Policy {
        backoff: Backoff::SdkSchedule,
        jitter: 1.3,
        overhead: Duration::ZERO,
    };
    let run = simulate(scenario(&cat, case), &s, old, slow);
    assert_eq!(run.end, End::GaveUp, "{run:?}");
    let run = simulate(scenario(&cat, case), &s, s.deadline_for(case), slow);
    assert_eq!(run.end, End::Terminal(Outcome::Success), "{run:?}");
}

/// The model itself, on the simplest scenario: the SDK schedule without jitter polls at 1.1 s
/// (the create's answer takes 0.1 s) and 3.45 s (a poll's answer takes 0.1 s plus the suite's
/// 250 ms poll delay) and sees success at the second poll.
#[test]
fn the_model_follows_the_sdk_schedule() {
    let cat = Catalogue::builtin().expect("catalogue");
    let s = Settings::default();
    let case = cat.case("success").expect("case");
    let p = Policy {
        backoff: Backoff::SdkSchedule,
        jitter: 1.0,
        overhead: Duration::ZERO,
    };
    let run = simulate(scenario(&cat, case), &s, s.deadline_for(case), p);
    assert_eq!(run.end, End::Terminal(Outcome::Success));
    assert_eq!(run.requests, 3);
    assert_eq!(run.last_request, Duration::from_millis(3_450));
}

/// The grading is not vacuous either: without the request-timeout slack, the model (whose
/// timeout is exactly the limit, its close seen 10 ms late) fails `abort-stalled-request`.
#[test]
fn without_slack_a_timeout_exactly_at_the_limit_fails() {
    let cat = Catalogue::builtin().expect("catalogue");
    let s = Settings {
        request_timeout_slack: Duration::ZERO,
        ..Settings::default()
    };
    let case = cat.case("stalled-poll").expect("case");
    let p = Policy {
        backoff: Backoff::SdkSchedule,
        jitter: 1.0,
        overhead: Duration::ZERO,
    };
    let run = simulate(scenario(&cat, case), &s, s.deadline_for(case), p);
    let failed = graded(&cat, case, &s, &run);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("abort-stalled-request: #1 GET /v1/validations/VLD00000000000000000000000000000001 at t=1.100s waited 10.010s"),
        "{failed:?}"
    );
}

/// Issue 14: Truora's own SDK schedule (no jitter) gets the same verdicts whatever the
/// machine's load, modelled as 0 to 85 ms of the client's own delay on every wait: the same
/// WARNING rules in every case, and any WARNING about its pacing says that Truora's SDK does
/// the same. A jittered client (×1.3) gets no WARNING at any load. With the suite's 13 s
/// give-up deadline the schedule makes too few waits to judge (no WARNING); with a 60 s one
/// it makes enough, and `never-completes` warns on `jitter`, at every load.
#[test]
fn truoras_schedule_gets_the_same_verdicts_at_any_load() {
    let cat = Catalogue::builtin().expect("catalogue");
    let long = Settings {
        deadline: Duration::from_secs(60),
        ..Settings::default()
    };
    for s in [Settings::default(), long] {
        for case in &cat.cases {
            let deadline = s.deadline_for(case);
            let warned = |jitter: f64, overhead_ms: u64| {
                let p = Policy {
                    backoff: Backoff::SdkSchedule,
                    jitter,
                    overhead: Duration::from_millis(overhead_ms),
                };
                let run = simulate(scenario(&cat, case), &s, deadline, p);
                findings(&cat, case, &s, &run)
                    .into_iter()
                    .filter(|(v, _, _)| *v == Verdict::Warning)
                    .collect::<Vec<_>>()
            };
            let rules = |w: &[(Verdict, String, String)]| {
                w.iter().map(|(_, r, _)| r.clone()).collect::<Vec<_>>()
            };
            let idle = warned(1.0, 0);
            if case.id == "never-completes" {
                let expected: Vec<String> = if s.deadline > Duration::from_secs(13) {
                    vec!["jitter".into()]
                } else {
                    vec![]
                };
                assert_eq!(rules(&idle), expected, "{idle:?}");
            }
            for overhead in [0, 1, 5, 20, 45, 60, 85] {
                let loaded = warned(1.0, overhead);
                assert_eq!(
                    rules(&loaded),
                    rules(&idle),
                    "case {} at +{overhead} ms: {loaded:?}",
                    case.id
                );
                for (_, rule, message) in &loaded {
                    if rule == "jitter" || rule == "backoff-on-errors" {
                        assert!(
                            message.contains("Truora's own SDK"),
                            "case {}: {message}",
                            case.id
                        );
                    }
                }
                assert_eq!(
                    warned(1.3, overhead),
                    vec![],
                    "case {} jittered at +{overhead} ms",
                    case.id
                );
            }
        }
    }
}
