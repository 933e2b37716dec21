//! What a fleet did, computed from what the mock recorded: pure functions over each
//! validation's requests (from the journal), its client run, and when the mock's validation
//! became terminal. No I/O, so the figures are tested on hand-made sequences.
//!
//! What counts as a retry, a failure, a request after the terminal answer or a Retry-After
//! honoured is the conformance suite's own reading ([`truidentidad_conformance::evidence`],
//! [`Facts`]), graded with its default limits ([`Settings::default`]: 50 ms of tolerance, a
//! 1 s minimum interval for telling a transport retry apart), so a fleet report and
//! `conformance run` say the same of the same requests.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use truidentidad_conformance::evidence::{Facts, Request, first_terminal};
use truidentidad_conformance::settings::Settings;

use crate::series::{Answered, Peaks, PerSecond, Windows};
use crate::stats::{Latency, Percentiles};

pub use truidentidad_conformance::evidence::Answer;

/// The class the per-second series stacks an answer in.
pub fn answered(a: Answer) -> Answered {
    match a {
        Answer::Ok { .. } => Answered::Ok,
        Answer::Throttled { .. } => Answered::Throttled,
        Answer::ServerError => Answered::ServerError,
        Answer::ClientError => Answered::Other,
        Answer::NoAnswer => Answered::NoAnswer,
    }
}

/// How the client run for one validation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientResult {
    /// It reported an outcome; `right` when it matched the mock's.
    Reported { right: bool },
    /// It reported `pending` (it gave up) while the mock's validation had ended.
    GaveUp,
    /// It reported `pending` at its deadline, and the mock's validation was still pending
    /// too: right, and not an outcome (an `expired-*` validation ends after its timeout).
    Deadline,
    /// It exited non-zero, or its last line was not a result.
    Failed,
    /// Killed at the per-client limit.
    Killed,
    /// It could not be started or reached.
    Unreachable,
}

/// One validation as the run followed it.
#[derive(Debug, Clone)]
pub struct Followed {
    /// Its requests in arrival order, timed since the run started, transport retries marked
    /// ([`follow_requests`]).
    pub requests: Vec<Request>,
    /// When the mock's validation became terminal (since the run started), if it did.
    pub terminal_at: Option<Duration>,
    /// How long the client run took.
    pub elapsed: Duration,
    /// How late the client started after its scheduled arrival (waiting for `--concurrency`).
    pub start_delay: Duration,
    pub result: ClientResult,
    /// What the client reported (`success`, the failure status, `pending`), if it did.
    pub said: Option<String>,
    /// What the mock's validation ended with, if the run made one.
    pub mock: Option<String>,
}

/// One validation's requests as a fleet follows them: in arrival order, timed since
/// `run_start` (the mock's clock when the run began), with transport retries marked by the
/// suite's rule.
pub fn follow_requests(mut requests: Vec<Request>, run_start: Duration) -> Vec<Request> {
    for r in &mut requests {
        r.received = r.received.saturating_sub(run_start);
        r.sent = r.sent.saturating_sub(run_start);
    }
    requests.sort_by_key(|r| (r.received, r.seq));
    truidentidad_conformance::evidence::mark_transport_retries(&mut requests, &Settings::default());
    requests
}

impl Followed {
    /// From the moment the validation became terminal to the first request that saw it.
    pub fn detection_lag(&self) -> Option<Duration> {
        let at = self.terminal_at?;
        let requests: Vec<&Request> = self.requests.iter().collect();
        Some(first_terminal(&requests)?.received.saturating_sub(at))
    }

    /// What the client did about this validation, by the suite's rules.
    pub fn facts(&self) -> Facts {
        let requests: Vec<&Request> = self.requests.iter().collect();
        Facts::of(&requests, &Settings::default())
    }
}

/// A count's distribution (polls per validation), exact over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct CountSummary {
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl CountSummary {
    fn of(mut values: Vec<u64>) -> Self {
        if values.is_empty() {
            return CountSummary::default();
        }
        values.sort_unstable();
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        CountSummary {
            mean: values.iter().sum::<u64>() as f64 / values.len() as f64,
            p50: at(0.5),
            p99: at(0.99),
            max: values[values.len() - 1],
        }
    }
}

/// How the fleet took throttling and errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Pushback {
    /// 429s the fleet received.
    pub throttled: u64,
    /// 5xx the fleet received.
    pub server_errors: u64,
    /// Requests without an HTTP answer (reset, closed, stalled).
    pub no_answer: u64,
    /// Of the answers with a Retry-After (429 or 503) that were followed by another request of
    /// the same kind, the share whose next request waited at least that long (less 50 ms of
    /// timer slack): [`Facts::retry_after_honoured`], the `honour-retry-after` rule's reading.
    pub retry_after_honoured: f64,
    /// The median wait after a 429 or 5xx before the next request, in ms.
    pub wait_after_failure_p50_ms: f64,
}

/// Everything the fleet report says, before formatting.
#[derive(Debug, Clone)]
pub struct FleetFigures {
    pub validations: usize,
    pub end_to_end: Latency,
    pub start_delay: Latency,
    pub detection_lag: Latency,
    /// Validations that became terminal but whose client never saw it.
    pub undetected: usize,
    pub polls_per_validation: CountSummary,
    /// Requests the mock received in each second, by answer.
    pub per_second: PerSecond,
    /// The busiest second of the arrival window over its mean.
    pub rate: Peaks,
    /// The requests of the arrival window and of the drain after it.
    pub windows: Windows,
    pub requests: u64,
    pub after_terminal: u64,
    pub retries: u64,
    pub pushback: Pushback,
    pub reported: usize,
    pub wrong_outcomes: usize,
    /// Reported `pending` (gave up) although the validation ended.
    pub gave_up: usize,
    /// Reported `pending` while the mock's validation was still pending.
    pub deadline: usize,
    pub client_failed: usize,
    pub client_killed: usize,
    pub client_unreachable: usize,
    /// What the clients reported against what the mock ended with: `(said, mock) → count`
    /// (`-` where there is nothing: no result line, no validation).
    pub said_vs_mock: BTreeMap<(String, String), u64>,
}

/// The figures of a fleet. `unattributed` are requests no validation can be tied to (a create
/// refused before its form was read, such as a throttled one): they count in the rate, the
/// totals and the pushback, not in any validation's figures. `arrivals` is how long client
/// runs kept starting and `wall` the whole run: each rate is over the window it describes.
pub fn figures(
    fleet: &[Followed],
    unattributed: &[Request],
    arrivals: Duration,
    wall: Duration,
) -> FleetFigures {
    let mut end_to_end = Latency::default();
    let mut start_delay = Latency::default();
    let mut detection_lag = Latency::default();
    let mut undetected = 0;
    let mut pushback = Pushback::default();
    let (mut with_retry_after, mut honoured) = (0u64, 0u64);
    let (mut polls, mut after_terminal, mut retries) = (Vec::new(), 0u64, 0u64);
    let mut waits_after_failure: Vec<Duration> = Vec::new();
    let (mut reported, mut wrong, mut failed, mut killed, mut unreachable) = (0, 0, 0, 0, 0);
    let (mut gave_up, mut deadline) = (0, 0);
    let mut said_vs_mock: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in fleet {
        let label = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        *said_vs_mock
            .entry((label(&f.said), label(&f.mock)))
            .or_insert(0) += 1;
        end_to_end.record(f.elapsed);
        start_delay.record(f.start_delay);
        match f.detection_lag() {
            Some(lag) => detection_lag.record(lag),
            None if f.terminal_at.is_some() => undetected += 1,
            None => {}
        }
        let facts = f.facts();
        count_failures(&mut pushback, &facts);
        with_retry_after += facts.retry_after_followed as u64;
        honoured += facts.retry_after_honoured as u64;
        polls.push(facts.polls as u64);
        after_terminal += facts.after_terminal as u64;
        retries += facts.retries as u64;
        waits_after_failure.extend(facts.waits_after_failure);
        match f.result {
            ClientResult::Reported { right } => {
                reported += 1;
                if !right {
                    wrong += 1;
                }
            }
            ClientResult::GaveUp => gave_up += 1,
            ClientResult::Deadline => deadline += 1,
            ClientResult::Failed => failed += 1,
            ClientResult::Killed => killed += 1,
            ClientResult::Unreachable => unreachable += 1,
        }
    }
    let unattributed_refs: Vec<&Request> = unattributed.iter().collect();
    count_failures(
        &mut pushback,
        &Facts::of(&unattributed_refs, &Settings::default()),
    );
    pushback.retry_after_honoured = if with_retry_after > 0 {
        honoured as f64 / with_retry_after as f64
    } else {
        1.0
    };
    waits_after_failure.sort_unstable();
    pushback.wait_after_failure_p50_ms = waits_after_failure
        .get(waits_after_failure.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let all = || fleet.iter().flat_map(|f| &f.requests).chain(unattributed);
    let mut per_second = PerSecond::default();
    for r in all() {
        per_second.add(r.received.as_secs() as usize, answered(r.answer()));
    }
    let requests = all().count() as u64;
    let during = all().filter(|r| r.received <= arrivals).count() as u64;
    FleetFigures {
        validations: fleet.len(),
        rate: per_second.peaks(arrivals),
        per_second,
        windows: Windows::split(arrivals, wall, requests, during),
        deadline,
        said_vs_mock,
        end_to_end,
        start_delay,
        detection_lag,
        undetected,
        polls_per_validation: CountSummary::of(polls),
        requests,
        after_terminal,
        retries,
        pushback,
        reported,
        wrong_outcomes: wrong,
        gave_up,
        client_failed: failed,
        client_killed: killed,
        client_unreachable: unreachable,
    }
}

fn count_failures(pushback: &mut Pushback, facts: &Facts) {
    pushback.throttled += facts.throttled as u64;
    pushback.server_errors += facts.server_errors as u64;
    pushback.no_answer += facts.no_answer as u64;
}

/// The summary of a latency histogram, in ms.
pub fn ms(l: &Latency) -> Percentiles {
    l.summary()
}

/// Hand-made requests for the tests of the figures and the report.
#[cfg(test)]
pub(crate) mod test_requests {
    use super::*;
    use truidentidad_conformance::evidence::Seen;
    use truidentidad_mock_server::journal::Kind;

    /// A request about one validation answered as `answer` (its seq is its arrival in ms),
    /// for tests of the figures.
    pub(crate) fn request(
        received: Duration,
        sent: Duration,
        poll: bool,
        answer: Answer,
    ) -> Request {
        let (status, terminal, retry_after) = match answer {
            Answer::Ok { terminal } => (200, terminal, None),
            Answer::Throttled { retry_after } => (429, false, retry_after),
            Answer::ServerError => (503, false, None),
            Answer::ClientError => (400, false, None),
            Answer::NoAnswer => (0, false, None),
        };
        let mut r = Request::answered(
            received.as_millis() as u64,
            if poll { Kind::Poll } else { Kind::Create },
            Some("VLDa"),
            (received, sent),
            status,
        );
        r.retry_after = retry_after.map(Duration::from_secs);
        if terminal {
            r.seen = Seen::Terminal {
                validation_status: "success".into(),
                failure_status: None,
            };
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::test_requests::request;
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn req(at: u64, poll: bool, answer: Answer) -> Request {
        request(ms(at), ms(at + 5), poll, answer)
    }

    const PENDING: Answer = Answer::Ok { terminal: false };
    const DONE: Answer = Answer::Ok { terminal: true };

    fn followed(requests: Vec<Request>, terminal_at: Option<u64>) -> Followed {
        Followed {
            requests,
            terminal_at: terminal_at.map(ms),
            elapsed: ms(5_000),
            start_delay: ms(0),
            result: ClientResult::Reported { right: true },
            said: Some("success".into()),
            mock: Some("success".into()),
        }
    }

    #[test]
    fn detection_lag_runs_from_the_terminal_moment_to_the_first_request_that_saw_it() {
        let f = followed(
            vec![
                req(0, false, PENDING),
                req(1_000, true, PENDING),
                req(3_000, true, PENDING),
                req(7_000, true, DONE),
                req(8_000, true, DONE),
            ],
            Some(3_200),
        );
        assert_eq!(f.detection_lag(), Some(ms(3_800)));
        assert_eq!(f.facts().after_terminal, 1);
        assert_eq!(f.facts().polls, 4);
    }

    #[test]
    fn a_client_that_never_saw_the_outcome_is_undetected() {
        let f = followed(
            vec![req(0, false, PENDING), req(1_000, true, PENDING)],
            Some(3_000),
        );
        assert_eq!(f.detection_lag(), None);
        assert_eq!(figures(&[f], &[], ms(10_000), ms(20_000)).undetected, 1);
    }

    #[test]
    fn retries_and_retry_after_are_counted_per_failed_request() {
        let f = followed(
            vec![
                req(0, false, PENDING),
                req(
                    1_000,
                    true,
                    Answer::Throttled {
                        retry_after: Some(2),
                    },
                ),
                // Waited 1.995 s after the 429's answer at 1.005 s: honoured within the slack.
                req(3_000, true, Answer::ServerError),
                req(
                    3_100,
                    true,
                    Answer::Throttled {
                        retry_after: Some(2),
                    },
                ),
                // Waited 0.895 s: not honoured.
                req(4_000, true, DONE),
            ],
            Some(0),
        );
        assert_eq!(f.facts().retries, 3);
        let fig = figures(&[f], &[], ms(10_000), ms(20_000));
        assert_eq!(fig.pushback.throttled, 2);
        assert_eq!(fig.pushback.server_errors, 1);
        assert_eq!(fig.pushback.retry_after_honoured, 0.5);
        // Waits after failures: 1995, 95, 895 ms; the median is 895.
        assert_eq!(fig.pushback.wait_after_failure_p50_ms, 895.0);
    }

    #[test]
    fn pollers_in_step_show_as_a_high_peak_to_mean() {
        // Ten pollers, all polling at 1 s, 3 s, 5 s: waves every other second.
        let in_step: Vec<Request> = (0..10)
            .flat_map(|_| [1_000, 3_000, 5_000].map(|t| req(t, true, PENDING)))
            .collect();
        let arrivals = ms(6_000);
        let f = |reqs: Vec<Request>| figures(&[followed(reqs, None)], &[], arrivals, arrivals);
        let in_step = f(in_step);
        assert_eq!(in_step.per_second.totals(), vec![0, 10, 0, 10, 0, 10]);
        let waves = in_step.rate;
        assert_eq!((waves.peak, waves.mean), (10, 6.0));
        // The same 30 polls spread over the same seconds.
        let spread: Vec<Request> = (0..30)
            .map(|i| req(1_000 + i * 166, true, PENDING))
            .collect();
        let even = f(spread).rate;
        assert!(even.peak_to_mean < 1.25, "{even:?}");
        assert!(waves.peak_to_mean > 1.6);
    }

    #[test]
    fn client_results_are_tallied() {
        let mut a = followed(vec![], None);
        a.result = ClientResult::Reported { right: false };
        let mut b = followed(vec![], None);
        b.result = ClientResult::Killed;
        a.said = Some("declined".into());
        b.said = None;
        let mut c = followed(vec![], None);
        c.result = ClientResult::Deadline;
        c.said = Some("pending".into());
        c.mock = Some("pending".into());
        let mut d = followed(vec![], None);
        d.result = ClientResult::GaveUp;
        d.said = Some("pending".into());
        d.mock = Some("expired".into());
        let fig = figures(
            &[a, b, followed(vec![], None), c, d],
            &[],
            ms(10_000),
            ms(20_000),
        );
        assert_eq!(
            (
                fig.reported,
                fig.wrong_outcomes,
                fig.client_killed,
                fig.deadline,
                fig.gave_up
            ),
            (2, 1, 1, 1, 1)
        );
        let pairs: Vec<(&str, &str, u64)> = fig
            .said_vs_mock
            .iter()
            .map(|((s, m), n)| (s.as_str(), m.as_str(), *n))
            .collect();
        assert_eq!(
            pairs,
            [
                ("-", "success", 1),
                ("declined", "success", 1),
                ("pending", "expired", 1),
                ("pending", "pending", 1),
                ("success", "success", 1),
            ]
        );
    }

    #[test]
    fn the_drain_is_apart_from_the_arrivals() {
        // Arrivals for 2 s; a straggler polls on at 30 s.
        let reqs = vec![
            req(0, false, PENDING),
            req(1_000, true, PENDING),
            req(1_900, true, DONE),
            req(30_000, true, PENDING),
        ];
        let fig = figures(&[followed(reqs, None)], &[], ms(2_000), ms(32_000));
        assert_eq!(
            (fig.windows.arrivals.requests, fig.windows.drain.requests),
            (3, 1)
        );
        assert_eq!(fig.windows.arrivals.per_second, 1.5);
        assert_eq!(fig.windows.drain.seconds, 30.0);
        // Peak-to-mean over the arrivals only: 2 and 1 requests in seconds 0 and 1.
        assert_eq!(fig.rate.peak_to_mean, round(2.0 / 1.5));
    }

    fn round(x: f64) -> f64 {
        (x * 1000.0).round() / 1000.0
    }

    #[test]
    fn count_summaries_are_exact() {
        let s = CountSummary::of(vec![4, 1, 3, 2, 10]);
        assert_eq!((s.mean, s.p50, s.max), (4.0, 3, 10));
    }
}
