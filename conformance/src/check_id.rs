//! The names of the checks, as `catalogue.toml` spells them. Its own module so the catalogue
//! can parse rules without depending on the checks themselves (which read traces, which name
//! cases from the catalogue); `checks` gives each name its function.

use serde::{Deserialize, Serialize};

/// A check, as a rule's `check` names it in `catalogue.toml` (snake_case). An unknown name
/// fails when the catalogue is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    ClientCompletes,
    ApiKeyOnEveryRequest,
    CreateFormEncoded,
    CreateTypeGovernment,
    CreateAccountId,
    UserAuthorized,
    PollUsesValidationId,
    MinPollInterval,
    HonourRetryAfter,
    SlowDownPersists,
    BackoffOnErrors,
    Jitter,
    OnePollInFlight,
    RetriesCapped,
    // serde's snake_case would spell it `no_retry_unchanged4xx`.
    #[serde(rename = "no_retry_unchanged_4xx")]
    NoRetryUnchanged4xx,
    CreateNotResentBlindly,
    StopAfterTerminal,
    GiveUpByDeadline,
    AbortStalledRequest,
    OutcomeMatches,
}

impl CheckId {
    /// Every check, in the catalogue's order.
    pub const ALL: [CheckId; 20] = [
        CheckId::ClientCompletes,
        CheckId::ApiKeyOnEveryRequest,
        CheckId::CreateFormEncoded,
        CheckId::CreateTypeGovernment,
        CheckId::CreateAccountId,
        CheckId::UserAuthorized,
        CheckId::PollUsesValidationId,
        CheckId::MinPollInterval,
        CheckId::HonourRetryAfter,
        CheckId::SlowDownPersists,
        CheckId::BackoffOnErrors,
        CheckId::Jitter,
        CheckId::OnePollInFlight,
        CheckId::RetriesCapped,
        CheckId::NoRetryUnchanged4xx,
        CheckId::CreateNotResentBlindly,
        CheckId::StopAfterTerminal,
        CheckId::GiveUpByDeadline,
        CheckId::AbortStalledRequest,
        CheckId::OutcomeMatches,
    ];

    /// The name `catalogue.toml` uses (also the check's file name under `src/checks/`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::ClientCompletes => "client_completes",
            CheckId::ApiKeyOnEveryRequest => "api_key_on_every_request",
            CheckId::CreateFormEncoded => "create_form_encoded",
            CheckId::CreateTypeGovernment => "create_type_government",
            CheckId::CreateAccountId => "create_account_id",
            CheckId::UserAuthorized => "user_authorized",
            CheckId::PollUsesValidationId => "poll_uses_validation_id",
            CheckId::MinPollInterval => "min_poll_interval",
            CheckId::HonourRetryAfter => "honour_retry_after",
            CheckId::SlowDownPersists => "slow_down_persists",
            CheckId::BackoffOnErrors => "backoff_on_errors",
            CheckId::Jitter => "jitter",
            CheckId::OnePollInFlight => "one_poll_in_flight",
            CheckId::RetriesCapped => "retries_capped",
            CheckId::NoRetryUnchanged4xx => "no_retry_unchanged_4xx",
            CheckId::CreateNotResentBlindly => "create_not_resent_blindly",
            CheckId::StopAfterTerminal => "stop_after_terminal",
            CheckId::GiveUpByDeadline => "give_up_by_deadline",
            CheckId::AbortStalledRequest => "abort_stalled_request",
            CheckId::OutcomeMatches => "outcome_matches",
        }
    }
}
