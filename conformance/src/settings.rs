//! The limits a run grades against. Every one is a command-line option with a documented
//! default (see `conformance/README.md`), so an integrator can see and argue with each number.

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Shortest accepted wait between a response and the next request for the same
    /// validation. One second: Truora's own SDK waits 1, 2, 4, 8, 16 s then 30 s, so anything
    /// stricter would fail Truora's own client.
    pub min_interval: Duration,
    /// Slack subtracted from every lower bound (interval, Retry-After), for scheduling noise.
    pub tolerance: Duration,
    /// How long the mock keeps watching after the client ends (or after a terminal response)
    /// for polls that should not come.
    pub quiet_window: Duration,
    /// The polling deadline handed to the client in `TRUORA_POLL_DEADLINE_SECONDS`; a client
    /// must stop within it (plus `deadline_slack`) when the validation never finishes. 13 s
    /// falls midway between the SDK schedule's 3rd poll (after 1+2+4 s, up to 9.1 s with jitter)
    /// and its 4th (after 15 s or more), so a client on that schedule stops at the same poll
    /// however loaded the machine is.
    pub deadline: Duration,
    /// Extra time allowed past the deadline for the last request.
    pub deadline_slack: Duration,
    /// Wall-clock limit for one run of the client; it is killed after that.
    pub case_limit: Duration,
    /// Longest per-request timeout accepted: a stalled request must be abandoned within it.
    pub request_timeout_limit: Duration,
    /// Most consecutive failed requests (5xx, 429, resets, timeouts) accepted for one
    /// validation before the client gives up.
    pub max_retries: u32,
    /// Cases run at once.
    pub jobs: usize,
    /// Seed of every mock (ids are reproducible).
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_interval: Duration::from_secs(1),
            tolerance: Duration::from_millis(50),
            quiet_window: Duration::from_secs(2),
            deadline: Duration::from_secs(13),
            deadline_slack: Duration::from_secs(2),
            case_limit: Duration::from_secs(30),
            request_timeout_limit: Duration::from_secs(10),
            max_retries: 6,
            jobs: 4,
            seed: 4,
        }
    }
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
        case_limit: s.case_limit.as_secs_f64(),
        request_timeout_limit: s.request_timeout_limit.as_secs_f64(),
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
    pub deadline: f64,
    pub case_limit: f64,
    pub request_timeout_limit: f64,
    pub max_retries: u32,
    pub skipped_rules: Vec<String>,
}
