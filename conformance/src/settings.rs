//! The limits a run grades against. Every one is a command-line option with a documented
//! default (see `conformance/README.md`), so an integrator can see and argue with each number.

use std::time::Duration;

use serde::Serialize;

use crate::catalogue::{Case, ExpectedStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Shortest accepted wait between a response and the next request for the same
    /// validation. One second: Truora's own SDK waits 1, 2, 4, 8, 16 s then 30 s, so anything
    /// stricter would fail Truora's own client.
    pub min_interval: Duration,
    /// Slack on every lower bound (the minimum interval, a Retry-After, a slow-down, the wait
    /// before re-sending a create): a wait shorter than the bound by at most this much passes.
    /// Server-side gaps already include the network round trip, so this only has to absorb
    /// timer granularity and a sleep that returns a few milliseconds early.
    pub tolerance: Duration,
    /// How long the mock keeps watching after the client ends (or after a terminal response)
    /// for polls that should not come.
    pub quiet_window: Duration,
    /// The polling deadline of the give-up cases (those expecting `pending`: `never-completes`,
    /// `outage`), handed to the client in `TRUORA_POLL_DEADLINE_SECONDS`; a client must stop
    /// within it (plus `deadline_slack`). 13 s falls midway between the SDK schedule's 3rd poll
    /// (after 1+2+4 s, up to 9.1 s with jitter) and its 4th (after 15 s or more), so a client on
    /// that schedule stops at the same poll however loaded the machine is.
    pub deadline: Duration,
    /// The polling deadline of every other case (those expecting an outcome). Long, so a polite
    /// client never gives up before the outcome (a 10 s stalled request plus back-off fits many
    /// times over); it costs no run time, since the client stops at the terminal state.
    pub outcome_deadline: Duration,
    /// Upper-bound slack on the deadline: a request may arrive this long after it. Covers the
    /// last request of a client that checks its deadline before each wait, and a loaded machine.
    pub deadline_slack: Duration,
    /// Wall-clock limit for one run of the client, from its first request (the mock's receipt
    /// of it); it is killed after that.
    pub case_limit: Duration,
    /// Start-up allowance: how long the client may take from its start to its first request.
    /// Generous and separate from `case_limit`, so a runtime that starts slowly on a loaded
    /// machine (a JVM took 13.5 s on 2 busy cores) neither fails nor eats the case's own time;
    /// each case's start-up is reported.
    pub startup_limit: Duration,
    /// Longest per-request timeout accepted: a stalled request must be abandoned within it
    /// (plus `request_timeout_slack`).
    pub request_timeout_limit: Duration,
    /// Upper-bound slack on the request timeout: what the mock measures is "request received
    /// to socket closed", which includes the client's timer firing late, the close, and the
    /// mock noticing it. A client whose timeout is exactly the limit passes.
    pub request_timeout_slack: Duration,
    /// Most consecutive failed requests (5xx, 429, resets, timeouts) accepted for one
    /// validation before the client gives up.
    pub max_retries: u32,
    /// Cases run at once.
    pub jobs: usize,
    /// Seed of the run; each case's mock gets its own seed derived from it ([`case_seed`]), so
    /// ids differ between cases and repeat between runs.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_interval: Duration::from_secs(1),
            tolerance: Duration::from_millis(50),
            quiet_window: Duration::from_secs(2),
            deadline: Duration::from_secs(13),
            outcome_deadline: Duration::from_secs(60),
            deadline_slack: Duration::from_secs(2),
            case_limit: Duration::from_secs(30),
            startup_limit: Duration::from_secs(60),
            request_timeout_limit: Duration::from_secs(10),
            request_timeout_slack: Duration::from_millis(500),
            max_retries: 6,
            jobs: 4,
            seed: 4,
        }
    }
}

impl Settings {
    /// The polling deadline of a case: `deadline` for the cases that expect the client to give
    /// up (`pending`), `outcome_deadline` for every other case. The client is handed it in
    /// `TRUORA_POLL_DEADLINE_SECONDS` and `give-up-by-deadline` judges against it.
    pub fn deadline_for(&self, case: &Case) -> Duration {
        if case.expect.validation_status == ExpectedStatus::Pending {
            self.deadline
        } else {
            self.outcome_deadline
        }
    }
}

/// The seed of one case's mock: the run's seed mixed with the case id (FNV-1a, then
/// SplitMix64's finaliser), so each case draws its own ids while a run with the same `--seed`
/// repeats them exactly.
pub fn case_seed(run_seed: u64, case_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in case_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = run_seed ^ h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The API key every case's mock accepts (and hands the client unless the case says otherwise).
pub const API_KEY: &str = "conformance-api-key";

/// The limits as the report shows them (in seconds), and the rules `--skip` named.
pub fn settings_report(s: &Settings, skip: &[String]) -> SettingsReport {
    SettingsReport {
        min_interval: s.min_interval.as_secs_f64(),
        tolerance: s.tolerance.as_secs_f64(),
        quiet_window: s.quiet_window.as_secs_f64(),
        deadline: s.deadline.as_secs_f64(),
        outcome_deadline: s.outcome_deadline.as_secs_f64(),
        deadline_slack: s.deadline_slack.as_secs_f64(),
        case_limit: s.case_limit.as_secs_f64(),
        startup_limit: s.startup_limit.as_secs_f64(),
        request_timeout_limit: s.request_timeout_limit.as_secs_f64(),
        request_timeout_slack: s.request_timeout_slack.as_secs_f64(),
        max_retries: s.max_retries,
        skipped_rules: skip.to_vec(),
    }
}

/// The limits the run graded against, in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsReport {
    pub min_interval: f64,
    pub tolerance: f64,
    pub quiet_window: f64,
    /// The polling deadline of the give-up cases (those expecting `pending`).
    pub deadline: f64,
    /// The polling deadline of every other case.
    pub outcome_deadline: f64,
    /// How late after its deadline a client's last request may still arrive.
    pub deadline_slack: f64,
    pub case_limit: f64,
    /// The start-up allowance (start to first request), separate from `case_limit`.
    pub startup_limit: f64,
    pub request_timeout_limit: f64,
    /// How much longer than `request_timeout_limit` a stalled request may stay open.
    pub request_timeout_slack: f64,
    pub max_retries: u32,
    pub skipped_rules: Vec<String>,
}
