//! The engine: what a validation looks like at a given moment.
//!
//! [`observe`] is pure. The caller (the server's store) supplies the few facts it keeps per
//! validation; nothing here reads a clock or holds state, so the same inputs always give the
//! same answer and property tests can explore every poll schedule.

use std::time::Duration;

use crate::model::{Delay, Fault, Outcome, RequestKind, Scenario, ValidationStatus};
use crate::rng;

/// What the store knows about one validation at the moment of a request.
#[derive(Debug, Clone, Copy)]
pub struct ValidationFacts {
    /// Time since the validation was created (drives expiry).
    pub since_creation: Duration,
    /// Time since the current scenario was attached. Equal to `since_creation` unless the
    /// control API switched scenarios mid-flight.
    pub since_scenario_start: Duration,
    /// Polls received since the scenario was attached *and before the timeout*, not counting
    /// the request being answered. Polls after the timeout do not count, so a poll-driven
    /// transition cannot undo an expiry.
    pub polls: u32,
    /// The validation's `timeout`.
    pub timeout: Duration,
    /// An outcome forced through the control API (or the Web Adapter); final once set.
    pub forced: Option<Outcome>,
}

/// What a request sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub status: ValidationStatus,
    /// Set exactly when `status` is terminal.
    pub outcome: Option<Outcome>,
    /// Index of the current phase; `scenario.phases.len()` once terminal.
    pub phase: usize,
}

impl Observation {
    fn terminal(outcome: Outcome, phases: usize) -> Self {
        Observation {
            status: outcome.status(),
            outcome: Some(outcome),
            phase: phases,
        }
    }
}

/// How many leading phases have ended at `(elapsed, polls)`. Phase limits are measured from
/// creation and only grow, so this count is monotone in both arguments.
fn phases_ended(scenario: &Scenario, elapsed: Duration, polls: u32) -> usize {
    scenario
        .phases
        .iter()
        .take_while(|p| {
            p.until.is_some_and(|t| elapsed >= t) || p.until_polls.is_some_and(|n| polls >= n)
        })
        .count()
}

/// The state of a validation, given its scenario and facts.
pub fn observe(scenario: &Scenario, facts: &ValidationFacts) -> Observation {
    let phases = scenario.phases.len();
    if let Some(forced) = facts.forced {
        return Observation::terminal(forced, phases);
    }
    let timed_out = scenario.expires && facts.since_creation >= facts.timeout;
    // On timeout, the timeline is frozen at the timeout instant (in scenario time).
    let elapsed = if timed_out {
        let overshoot = facts.since_creation - facts.timeout;
        facts.since_scenario_start.saturating_sub(overshoot)
    } else {
        facts.since_scenario_start
    };
    let ended = phases_ended(scenario, elapsed, facts.polls);
    if ended == phases
        && let Some(outcome) = scenario.outcome
    {
        return Observation::terminal(outcome, phases);
    }
    if timed_out {
        return Observation::terminal(
            Outcome::Expired {
                reason: scenario.expired_reason,
            },
            phases,
        );
    }
    Observation {
        status: ValidationStatus::Pending,
        outcome: None,
        phase: ended.min(phases.saturating_sub(1)),
    }
}

/// The request being answered, for fault selection.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts {
    pub kind: RequestKind,
    /// 1-based ordinal: the n-th poll of this validation, or the n-th create with this
    /// `account_id`.
    pub nth: u32,
    /// The phase the validation is in (`phases.len()` once terminal).
    pub phase: usize,
    /// A per-request random value, derived from the seed by the caller.
    pub entropy: u64,
}

/// The first fault rule that applies to this request, if any.
pub fn select_fault<'a>(scenario: &'a Scenario, req: &RequestFacts) -> Option<&'a Fault> {
    scenario.faults.iter().enumerate().find_map(|(i, f)| {
        let applies = f.request == req.kind
            && f.phase.is_none_or(|p| p == req.phase)
            && (f.nth.is_empty() || f.nth.contains(&req.nth))
            && (f.chance >= 1.0 || rng::unit_f64(rng::derive(req.entropy, &[i as u64])) < f.chance);
        applies.then_some(f)
    })
}

impl Delay {
    /// The delay for one request, drawn from `entropy` when random.
    pub fn sample(&self, entropy: u64) -> Duration {
        match *self {
            Delay::Fixed(d) => d,
            Delay::Uniform { min, max } => {
                let span = max.saturating_sub(min).as_secs_f64();
                min + Duration::from_secs_f64(span * rng::unit_f64(rng::mix64(entropy)))
            }
        }
    }
}

#[cfg(test)]
mod tests;
