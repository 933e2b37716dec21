//! The fleet run's report: a readable summary, the `--json` document (benches/SCHEMA.md,
//! `fleet` section) and the values `--threshold` checks.

use serde::Serialize;

use super::FleetRun;
use super::analysis::{CountSummary, Pushback};
use crate::report::{Requests, SCHEMA_VERSION};
use crate::series::{Peaks, PerSecond, Windows};
use crate::stats::Percentiles;

#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub schema_version: u32,
    pub mode: &'static str,
    pub client: String,
    pub mock_url: String,
    pub wall_seconds: f64,
    /// The arrival window (client runs starting) and the drain after it (the last clients
    /// finishing, then the 2 s quiet window), each with its requests and rate.
    pub windows: Windows,
    pub validations: Validations,
    /// What the clients reported against what the mock ended with.
    pub outcomes: Vec<SaidVsMock>,
    /// Client run time per validation, from start to exit (or the service's answer).
    pub end_to_end_ms: Percentiles,
    /// How long arrivals waited for a free `--concurrency` slot.
    pub start_delay_ms: Percentiles,
    /// From the moment the mock's validation became terminal to the first request that saw it.
    pub detection_lag_ms: Percentiles,
    pub polls_per_validation: CountSummary,
    pub requests: Requests,
    pub pushback: Pushback,
    /// The busiest second of the arrival window over its mean.
    pub rate: Peaks,
    /// Requests the mock received in each second of the run, by answer.
    pub per_second: PerSecond,
    /// Set when the mock's journal could not hold every request (figures are incomplete).
    pub journal_overflow: bool,
    /// The first client runs that failed or reported a wrong outcome.
    pub problems: Vec<super::Problem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Validations {
    pub planned: u64,
    pub run: usize,
    /// Validations that became terminal without their client ever seeing it.
    pub undetected: usize,
    /// Reported an outcome (right or wrong).
    pub reported: usize,
    pub wrong_outcomes: usize,
    /// Reported `pending` at the client's deadline while the mock still had it pending.
    pub deadline: usize,
    /// Reported `pending` (gave up) although the validation ended.
    pub gave_up: usize,
    /// Exited non-zero or printed no result.
    pub client_failed: usize,
    pub client_killed: usize,
    pub client_unreachable: usize,
}

/// How many client runs reported `said` while the mock's validation ended `mock` (`-`: no
/// result line, or no validation).
#[derive(Debug, Clone, Serialize)]
pub struct SaidVsMock {
    pub said: String,
    pub mock: String,
    pub count: u64,
}

impl FleetReport {
    pub fn new(run: &FleetRun, client: &str) -> Self {
        let f = &run.figures;
        let wall = run.wall.as_secs_f64();
        FleetReport {
            schema_version: SCHEMA_VERSION,
            windows: f.windows,
            outcomes: f
                .said_vs_mock
                .iter()
                .map(|((said, mock), count)| SaidVsMock {
                    said: said.clone(),
                    mock: mock.clone(),
                    count: *count,
                })
                .collect(),
            mode: "fleet",
            client: client.to_string(),
            mock_url: run.mock_url.clone(),
            wall_seconds: wall,
            validations: Validations {
                planned: run.planned,
                run: f.validations,
                undetected: f.undetected,
                reported: f.reported,
                wrong_outcomes: f.wrong_outcomes,
                deadline: f.deadline,
                gave_up: f.gave_up,
                client_failed: f.client_failed,
                client_killed: f.client_killed,
                client_unreachable: f.client_unreachable,
            },
            end_to_end_ms: f.end_to_end.summary(),
            start_delay_ms: f.start_delay.summary(),
            detection_lag_ms: f.detection_lag.summary(),
            polls_per_validation: f.polls_per_validation,
            requests: Requests {
                total: f.requests,
                per_second: f.windows.arrivals.per_second,
                retried: None,
                after_terminal: Some(f.after_terminal),
                retries: Some(f.retries),
            },
            pushback: f.pushback,
            rate: f.rate,
            per_second: f.per_second.clone(),
            journal_overflow: run.journal_overflow,
            problems: run.problems.clone(),
        }
    }

    /// The summary printed at the end of a run.
    pub fn to_text(&self) -> String {
        let v = &self.validations;
        let p = |x: &Percentiles| {
            format!(
                "p50 {:.0}  p90 {:.0}  p99 {:.0}  max {:.0}  mean {:.0}",
                x.p50, x.p90, x.p99, x.max, x.mean
            )
        };
        let mut out = String::new();
        let w = &self.windows;
        out.push_str(&format!(
            "TruIdentidad fleet load: client `{}`, {} validations in {:.1} s ({:.1} s of arrivals, then {:.1} s of drain) against {}\n\n",
            self.client, v.run, self.wall_seconds, w.arrivals.seconds, w.drain.seconds, self.mock_url
        ));
        out.push_str(&format!(
            "  detection lag (ms)      {}\n",
            p(&self.detection_lag_ms)
        ));
        out.push_str(&format!(
            "  end to end (ms)         {}\n",
            p(&self.end_to_end_ms)
        ));
        out.push_str(&format!(
            "  start delay (ms)        {}\n",
            p(&self.start_delay_ms)
        ));
        let c = &self.polls_per_validation;
        out.push_str(&format!(
            "  polls per validation    mean {:.1}  p50 {}  p99 {}  max {}\n",
            c.mean, c.p50, c.p99, c.max
        ));
        out.push_str(&format!(
            "  requests at the mock    {} total: {}\n",
            self.requests.total,
            w.describe()
        ));
        out.push_str(&format!(
            "  waves                   {}\n",
            self.rate.describe()
        ));
        out.push_str(&format!(
            "  after a terminal answer {}   retries {}\n",
            self.requests.after_terminal.unwrap_or(0),
            self.requests.retries.unwrap_or(0)
        ));
        let b = &self.pushback;
        out.push_str(&format!(
            "  pushback                429s {}  5xx {}  no answer {}; Retry-After honoured {:.0}%; median wait after a 429/5xx {:.0} ms\n",
            b.throttled,
            b.server_errors,
            b.no_answer,
            b.retry_after_honoured * 100.0,
            b.wait_after_failure_p50_ms
        ));
        let right = v.reported - v.wrong_outcomes;
        out.push_str(&format!(
            "  clients                 {right} right, {} wrong, {} deadline (pending, and still pending in the mock), {} gave up (pending after the mock ended it), {} failed, {} killed, {} unreachable; {} outcome{} never seen\n",
            v.wrong_outcomes,
            v.deadline,
            v.gave_up,
            v.client_failed,
            v.client_killed,
            v.client_unreachable,
            v.undetected,
            if v.undetected == 1 { "" } else { "s" },
        ));
        if !self.outcomes.is_empty() {
            let pairs: Vec<String> = self
                .outcomes
                .iter()
                .map(|o| format!("{} → {} {}", o.said, o.mock, o.count))
                .collect();
            out.push_str(&format!("  client said → mock had  {}\n", pairs.join(", ")));
        }
        for p in &self.problems {
            out.push_str(&format!("  problem: {}: {}\n", p.account_id, p.what));
            if let Some(last) = p.stderr_tail.lines().last() {
                out.push_str(&format!("           stderr: {last}\n"));
            }
        }
        if self.journal_overflow {
            out.push_str("\n  WARNING: the mock's journal overflowed; the figures miss the oldest requests\n");
        }
        out
    }

    /// The value of a fleet metric, for `--threshold` (latencies in ms, ratios as fractions).
    pub fn value(&self, metric: &str) -> Option<f64> {
        if let Some((group, stat)) = metric.split_once('.') {
            let latency = match group {
                "detection_lag" => Some(&self.detection_lag_ms),
                "e2e" => Some(&self.end_to_end_ms),
                "start_delay" => Some(&self.start_delay_ms),
                _ => None,
            };
            if let Some(p) = latency {
                return p.stat(stat);
            }
        }
        let v = &self.validations;
        let c = &self.polls_per_validation;
        Some(match metric {
            "polls_per_validation.mean" => c.mean,
            "polls_per_validation.p50" => c.p50 as f64,
            "polls_per_validation.p99" => c.p99 as f64,
            "polls_per_validation.max" => c.max as f64,
            "peak_to_mean" => self.rate.peak_to_mean,
            "drain.seconds" => self.windows.drain.seconds,
            "drain.requests" => self.windows.drain.requests as f64,
            "deadline.total" => v.deadline as f64,
            "requests.total" => self.requests.total as f64,
            "requests.per_second" => self.requests.per_second,
            "requests.after_terminal" => self.requests.after_terminal.unwrap_or(0) as f64,
            "retries.total" => self.requests.retries.unwrap_or(0) as f64,
            "throttled.total" => self.pushback.throttled as f64,
            "retry_after.honoured" => self.pushback.retry_after_honoured,
            "wrong_outcomes.total" => v.wrong_outcomes as f64,
            "undetected.total" => v.undetected as f64,
            "gave_up.total" => v.gave_up as f64,
            "client_errors.total" => {
                (v.client_failed + v.client_killed + v.client_unreachable) as f64
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fleet::analysis::test_requests::request;
    use crate::fleet::analysis::{Answer, ClientResult, Followed, figures};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One client run of each kind, as the summary names them.
    fn fleet() -> Vec<Followed> {
        let run = |result, said: Option<&str>, mock: Option<&str>, at: u64| Followed {
            requests: vec![
                request(ms(at), ms(at + 2), false, Answer::Ok { terminal: false }),
                request(
                    ms(at + 1_500),
                    ms(at + 1_502),
                    true,
                    Answer::Ok {
                        terminal: mock.is_some_and(|m| m != "pending"),
                    },
                ),
            ],
            terminal_at: mock.filter(|m| *m != "pending").map(|_| ms(at + 800)),
            elapsed: ms(1_500),
            start_delay: ms(0),
            result,
            said: said.map(String::from),
            mock: mock.map(String::from),
        };
        vec![
            run(
                ClientResult::Reported { right: true },
                Some("success"),
                Some("success"),
                0,
            ),
            run(
                ClientResult::Reported { right: false },
                Some("success"),
                Some("declined"),
                100,
            ),
            run(
                ClientResult::Deadline,
                Some("pending"),
                Some("pending"),
                200,
            ),
            run(ClientResult::GaveUp, Some("pending"), Some("expired"), 300),
            run(ClientResult::Failed, None, Some("success"), 400),
            run(ClientResult::Killed, None, Some("pending"), 500),
            run(ClientResult::Unreachable, None, None, 600),
        ]
    }

    fn report() -> FleetReport {
        let run = FleetRun {
            figures: figures(&fleet(), &[], ms(1_000), ms(4_000)),
            wall: ms(4_000),
            arrivals: ms(1_000),
            planned: 7,
            mock_url: "http://127.0.0.1:40000".into(),
            journal_overflow: false,
            problems: Vec::new(),
        };
        FleetReport::new(&run, "python3 service.py")
    }

    #[test]
    fn the_summary_names_every_outcome_and_both_windows() {
        insta::assert_snapshot!(report().to_text());
    }

    #[test]
    fn every_outcome_has_a_threshold_value() {
        let r = report();
        assert_eq!(r.value("deadline.total"), Some(1.0));
        assert_eq!(r.value("gave_up.total"), Some(1.0));
        assert_eq!(r.value("wrong_outcomes.total"), Some(1.0));
        assert_eq!(r.value("client_errors.total"), Some(3.0));
        // 7 creates within the 1 s of arrivals, and 7 polls a second later, in the drain.
        assert_eq!(r.value("drain.requests"), Some(7.0));
        assert_eq!(r.requests.per_second, 7.0);
        assert_eq!(r.schema_version, crate::report::SCHEMA_VERSION);
    }
}
