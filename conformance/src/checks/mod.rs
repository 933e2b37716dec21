//! The checks: one small function per rule, each over a [`Trace`], each returning findings.
//! Each lives in its own file, named after it; [`CheckId`] names them (as `catalogue.toml`
//! spells them) and dispatches to them.
//!
//! A check finds nothing when its trigger is absent (no 429, no stall), so every check runs on
//! every case and the catalogue decides only wording and severity. Checks compare server-side
//! instants: a gap is "next request received − previous response sent", which the client's own
//! clock cannot shorten.

pub use crate::check_id::CheckId;
use crate::trace::Trace;
use crate::verdict::Finding;

mod common;
pub mod server;

mod abort_stalled_request;
mod api_key_on_every_request;
mod backoff_on_errors;
mod client_completes;
mod create_account_id;
mod create_form_encoded;
mod create_not_resent_blindly;
mod create_type_government;
mod give_up_by_deadline;
mod honour_retry_after;
mod jitter;
mod min_poll_interval;
mod no_retry_unchanged_4xx;
mod one_poll_in_flight;
mod outcome_matches;
mod poll_uses_validation_id;
mod retries_capped;
mod slow_down_persists;
mod stop_after_terminal;
mod user_authorized;

use abort_stalled_request::abort_stalled_request;
use api_key_on_every_request::api_key_on_every_request;
use backoff_on_errors::backoff_on_errors;
pub use backoff_on_errors::{BACKOFF_GROWTH, BACKOFF_LOAD_MARGIN, BACKOFF_MIN_WAITS, backoff_grew};
use client_completes::client_completes;
use create_account_id::create_account_id;
use create_form_encoded::create_form_encoded;
use create_not_resent_blindly::create_not_resent_blindly;
use create_type_government::create_type_government;
use give_up_by_deadline::give_up_by_deadline;
use honour_retry_after::honour_retry_after;
use jitter::jitter;
pub use jitter::{
    GRID_EARLY, GRID_LATE, JITTER_MIN_WAITS, JITTER_MIN_WAITS_AT_FLOOR, Unjittered, grid_point,
    is_truora_schedule, on_half_second_grid, unjittered,
};
use min_poll_interval::min_poll_interval;
use no_retry_unchanged_4xx::no_retry_unchanged_4xx;
use one_poll_in_flight::one_poll_in_flight;
use outcome_matches::outcome_matches;
use poll_uses_validation_id::poll_uses_validation_id;
use retries_capped::retries_capped;
use slow_down_persists::slow_down_persists;
use stop_after_terminal::stop_after_terminal;
use user_authorized::user_authorized;

pub type Check = fn(&Trace) -> Vec<Finding>;

impl CheckId {
    /// The check's function.
    pub fn check(self) -> Check {
        match self {
            CheckId::ClientCompletes => client_completes,
            CheckId::ApiKeyOnEveryRequest => api_key_on_every_request,
            CheckId::CreateFormEncoded => create_form_encoded,
            CheckId::CreateTypeGovernment => create_type_government,
            CheckId::CreateAccountId => create_account_id,
            CheckId::UserAuthorized => user_authorized,
            CheckId::PollUsesValidationId => poll_uses_validation_id,
            CheckId::MinPollInterval => min_poll_interval,
            CheckId::HonourRetryAfter => honour_retry_after,
            CheckId::SlowDownPersists => slow_down_persists,
            CheckId::BackoffOnErrors => backoff_on_errors,
            CheckId::Jitter => jitter,
            CheckId::OnePollInFlight => one_poll_in_flight,
            CheckId::RetriesCapped => retries_capped,
            CheckId::NoRetryUnchanged4xx => no_retry_unchanged_4xx,
            CheckId::CreateNotResentBlindly => create_not_resent_blindly,
            CheckId::StopAfterTerminal => stop_after_terminal,
            CheckId::GiveUpByDeadline => give_up_by_deadline,
            CheckId::AbortStalledRequest => abort_stalled_request,
            CheckId::OutcomeMatches => outcome_matches,
        }
    }

    /// Runs the check over a trace.
    pub fn run(self, t: &Trace) -> Vec<Finding> {
        self.check()(t)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
