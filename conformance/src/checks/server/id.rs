//! The names of the server checks: typed, as the client checks' [`crate::check_id::CheckId`]
//! is, so a report, a test or a skip cannot name a check that does not exist. Each check's
//! title and the facts it covers sit here beside its name, so the check's own file holds only
//! what it sends and how it judges the answer.

use crate::server_facts::FactId;

/// A server check, in the order `conformance server` runs and reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerCheckId {
    CreateRequiresKey,
    CreateReturnsValidation,
    CreateGeneratesAccountId,
    CreateRejectsJson,
    CreateRequiresType,
    TimeoutRange,
    UnknownId404,
    ExpiredKey403,
    TimeoutExpires,
    PollRequiresKey,
    PollKeyOnly,
    ShowDetails,
    StateMachine,
    MockForcedOutcomes,
}

impl ServerCheckId {
    /// Every server check, in the order they run.
    pub const ALL: [ServerCheckId; 14] = [
        ServerCheckId::CreateRequiresKey,
        ServerCheckId::CreateReturnsValidation,
        ServerCheckId::CreateGeneratesAccountId,
        ServerCheckId::CreateRejectsJson,
        ServerCheckId::CreateRequiresType,
        ServerCheckId::TimeoutRange,
        ServerCheckId::UnknownId404,
        ServerCheckId::ExpiredKey403,
        ServerCheckId::TimeoutExpires,
        ServerCheckId::PollRequiresKey,
        ServerCheckId::PollKeyOnly,
        ServerCheckId::ShowDetails,
        ServerCheckId::StateMachine,
        ServerCheckId::MockForcedOutcomes,
    ];

    /// The id the report prints (kebab-case; the check's file under `src/checks/server/` is
    /// the same name in snake_case). Checks that need the mock's control API start `mock-`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerCheckId::CreateRequiresKey => "create-requires-key",
            ServerCheckId::CreateReturnsValidation => "create-returns-validation",
            ServerCheckId::CreateGeneratesAccountId => "create-generates-account-id",
            ServerCheckId::CreateRejectsJson => "create-rejects-json",
            ServerCheckId::CreateRequiresType => "create-requires-type",
            ServerCheckId::TimeoutRange => "timeout-range",
            ServerCheckId::UnknownId404 => "unknown-id-404",
            ServerCheckId::ExpiredKey403 => "expired-key-403",
            ServerCheckId::TimeoutExpires => "timeout-expires",
            ServerCheckId::PollRequiresKey => "poll-requires-key",
            ServerCheckId::PollKeyOnly => "poll-key-only",
            ServerCheckId::ShowDetails => "show-details",
            ServerCheckId::StateMachine => "state-machine",
            ServerCheckId::MockForcedOutcomes => "mock-forced-outcomes",
        }
    }

    /// What the check holds the server to, in one sentence.
    pub fn title(self) -> &'static str {
        match self {
            ServerCheckId::CreateRequiresKey => {
                "A create without Truora-API-Key gets 401 with the error envelope"
            }
            ServerCheckId::CreateReturnsValidation => {
                "A form-encoded create (type=government) answers 200 with a pending validation: VLD id, the account_id sent, RFC 3339 nanosecond date"
            }
            ServerCheckId::CreateGeneratesAccountId => {
                "A create without account_id gets a generated ACC + 32 hex account_id"
            }
            ServerCheckId::CreateRejectsJson => {
                "A JSON create body gets 400 with the error envelope"
            }
            ServerCheckId::CreateRequiresType => {
                "A create without type gets 400 with the error envelope"
            }
            ServerCheckId::TimeoutRange => {
                "timeout=1 and timeout=21600 (the documented bounds) are accepted"
            }
            ServerCheckId::UnknownId404 => {
                "An unknown validation_id gets 404 with the error envelope"
            }
            ServerCheckId::ExpiredKey403 => "An expired API key gets 403 with the error envelope",
            ServerCheckId::TimeoutExpires => {
                "A validation left alone past timeout=1 ends failure/expired with a documented expired_reason"
            }
            ServerCheckId::PollRequiresKey => {
                "A poll without Truora-API-Key gets 401 with the error envelope"
            }
            ServerCheckId::PollKeyOnly => {
                "GET /v1/validations/{id} with only the key header answers 200 with the validation"
            }
            ServerCheckId::ShowDetails => {
                "show_details=true adds a details object; without it there is none"
            }
            ServerCheckId::StateMachine => {
                "pending moves to success or failure, and stays there; failure fields only on failure"
            }
            ServerCheckId::MockForcedOutcomes => {
                "(mock only, uses /_mock/) each forced ending polls with Truora's fields and reason codes"
            }
        }
    }

    /// The facts of `docs/fidelity.md` the check covers when it runs.
    pub fn covers(self) -> &'static [FactId] {
        match self {
            ServerCheckId::CreateRequiresKey | ServerCheckId::PollRequiresKey => {
                &[FactId::KeyHeader, FactId::ErrorEnvelope]
            }
            ServerCheckId::CreateReturnsValidation => &[
                FactId::CreatePath,
                FactId::Create200,
                FactId::FormBody,
                FactId::TypeGovernment,
                FactId::AccountId,
                FactId::Ids,
                FactId::CreationDate,
                FactId::StatusValues,
            ],
            ServerCheckId::CreateGeneratesAccountId => &[FactId::AccountId, FactId::Ids],
            ServerCheckId::CreateRejectsJson => &[FactId::FormBody, FactId::ErrorEnvelope],
            ServerCheckId::CreateRequiresType => &[FactId::TypeGovernment, FactId::ErrorEnvelope],
            ServerCheckId::TimeoutRange => &[FactId::TimeoutRange],
            ServerCheckId::UnknownId404 => &[FactId::UnknownId404, FactId::ErrorEnvelope],
            ServerCheckId::ExpiredKey403 => &[FactId::ExpiredKey403, FactId::ErrorEnvelope],
            ServerCheckId::TimeoutExpires => &[
                FactId::TimeoutExpiry,
                FactId::ExpiredReasons,
                FactId::FailureFields,
                FactId::StatusValues,
            ],
            ServerCheckId::PollKeyOnly => &[FactId::PollPath, FactId::PollKeyOnly],
            ServerCheckId::ShowDetails => &[FactId::ShowDetails],
            ServerCheckId::StateMachine => &[FactId::StatusValues, FactId::FailureFields],
            ServerCheckId::MockForcedOutcomes => &[
                FactId::FailureFields,
                FactId::DeclinedReasons,
                FactId::ExpiredReasons,
            ],
        }
    }
}

impl std::fmt::Display for ServerCheckId {
    /// Pads like a `&str`, so the report's `{:28}` column lines up as before.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl serde::Serialize for ServerCheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
