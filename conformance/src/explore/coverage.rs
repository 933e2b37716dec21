//! What an exploration reached: which fault kinds were generated and actually served to the
//! client (a fault on a poll the client never made was not), which outcomes were drawn, and
//! what was never tried, so "nothing found" says how far the search went.

use std::collections::BTreeMap;

use serde::Serialize;
use truidentidad_mock_server::journal::FaultEffect;

use super::Run;
use super::generate::{KIND_LABELS, LONG_RETRY_AFTER, MAX_FAILURES_IN_A_ROW, RETRY_AFTER_RANGE};
use crate::verdict::CaseReport;

/// The fault kinds a run's client was served, by [`KIND_LABELS`], each once, in label order.
pub fn served(report: &CaseReport) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in &report.requests {
        let label = match r.request.fault.effect {
            Some(FaultEffect::Status { status: 429, .. }) => "429",
            Some(FaultEffect::Status {
                status: 503,
                retry_after: Some(_),
            }) => "503+retry-after",
            Some(FaultEffect::Status { status: 503, .. }) => "503",
            Some(FaultEffect::Status { status, .. }) if status >= 500 => "5xx",
            Some(FaultEffect::Reset) => "reset",
            Some(FaultEffect::Close) => "close",
            Some(FaultEffect::Stall(_)) => "stall",
            Some(FaultEffect::MalformedBody) => "malformed",
            Some(FaultEffect::EmptyBody) => "empty",
            Some(FaultEffect::SlowBody) => "slow-body",
            _ => continue,
        };
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out.sort_by_key(|l| KIND_LABELS.iter().position(|k| k == l));
    out
}

/// Counts over the runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Scenarios run.
    pub scenarios: usize,
    /// Per fault kind: scenarios that had it, and runs in which the client was served it.
    pub kinds: BTreeMap<&'static str, (usize, usize)>,
    /// Per outcome class (`success`, `declined`, `expired`, `system_error`, `never`).
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Scenarios ending by poll count, and by time.
    pub end_by_polls: usize,
    pub end_by_time: usize,
    /// Scenarios with a create fault.
    pub create_faults: usize,
    /// The longest `Retry-After` served, in seconds.
    pub max_retry_after: u64,
}

fn outcome_class(r: &Run) -> &'static str {
    match r.scenario.outcome.and_then(|o| o.failure_status()) {
        _ if r.scenario.outcome.is_none() => "never",
        Some("declined") => "declined",
        Some("expired") => "expired",
        Some(_) => "system_error",
        None => "success",
    }
}

pub fn of(runs: &[Run]) -> Coverage {
    let mut c = Coverage::default();
    for label in KIND_LABELS {
        c.kinds.insert(label, (0, 0));
    }
    for r in runs.iter().filter(|r| r.index.is_some()) {
        c.scenarios += 1;
        let mut had: Vec<&'static str> = r.scenario.faults().map(|(_, f)| f.kind.label()).collect();
        had.sort_unstable();
        had.dedup();
        for k in had {
            c.kinds.entry(k).or_default().0 += 1;
        }
        for k in &r.served {
            c.kinds.entry(k).or_default().1 += 1;
        }
        *c.outcomes.entry(outcome_class(r)).or_default() += 1;
        match r.scenario.phases.last() {
            Some(super::generate::Limit::Polls(_)) => c.end_by_polls += 1,
            Some(super::generate::Limit::Time(_)) => c.end_by_time += 1,
            _ => {}
        }
        c.create_faults += usize::from(r.scenario.create_fault.is_some());
        c.max_retry_after = c.max_retry_after.max(r.scenario.max_retry_after());
    }
    c
}

impl Coverage {
    /// The fault kinds no run's client was served, in label order.
    pub fn unserved(&self) -> Vec<&'static str> {
        self.kinds
            .iter()
            .filter(|(_, (_, served))| *served == 0)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The report's lines: what was tried, what was not, and what never is.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let kinds: Vec<String> = self
            .kinds
            .iter()
            .filter(|(_, (_, served))| *served > 0)
            .map(|(k, (had, served))| format!("{k} {served}/{had}"))
            .collect();
        s.push_str(&format!(
            "  fault kinds served (runs served/scenarios with it): {}\n",
            if kinds.is_empty() {
                "none".to_string()
            } else {
                kinds.join(", ")
            }
        ));
        let missing = self.unserved();
        if !missing.is_empty() {
            s.push_str(&format!(
                "  fault kinds NOT served in this exploration: {}\n",
                missing.join(", ")
            ));
        }
        let outcomes: Vec<String> = ["success", "declined", "expired", "system_error", "never"]
            .iter()
            .map(|o| format!("{o} {}", self.outcomes.get(o).copied().unwrap_or(0)))
            .collect();
        s.push_str(&format!(
            "  outcomes: {} (never = pending until the client gives up)\n",
            outcomes.join(", ")
        ));
        s.push_str(&format!(
            "  endings: {} by poll count, {} by time; {} with a create fault; longest Retry-After {}s\n",
            self.end_by_polls, self.end_by_time, self.create_faults, self.max_retry_after
        ));
        s.push_str(&format!(
            "  never tried (by design): more than {MAX_FAILURES_IN_A_ROW} failed polls in a row (the fixed case `outage` covers it), more than one create fault, Retry-After outside {}-{} s or more than one over {LONG_RETRY_AFTER} s, several validations per run, scenario switches and brown-outs\n",
            RETRY_AFTER_RANGE.0, RETRY_AFTER_RANGE.1
        ));
        s
    }
}
