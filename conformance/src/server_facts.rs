//! The facts `conformance server` checks: each one a row of `docs/fidelity.md` whose certainty
//! is *documented*, *Truora's code* or *third-party*, under a short id. A check names the facts
//! it covers, and the report counts them, so a stand-in (or a recording of real exchanges)
//! is graded against what is actually known about Truora, and a fact nobody checks shows.

/// A fact's id: typed, so a check cannot name a fact that does not exist (the compiler holds
/// it, where a `debug_assert` over strings used to); [`FactId::as_str`] is the id
/// `docs/fidelity.md` spells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactId {
    CreatePath,
    PollPath,
    KeyHeader,
    PollKeyOnly,
    FormBody,
    Create200,
    TypeGovernment,
    AccountId,
    Ids,
    CreationDate,
    ShowDetails,
    StatusValues,
    FailureFields,
    DeclinedReasons,
    ExpiredReasons,
    TimeoutRange,
    TimeoutExpiry,
    ErrorEnvelope,
    UnknownId404,
    ExpiredKey403,
}

impl FactId {
    /// Every fact id, in `FACTS`' order.
    pub const ALL: [FactId; 20] = [
        FactId::CreatePath,
        FactId::PollPath,
        FactId::KeyHeader,
        FactId::PollKeyOnly,
        FactId::FormBody,
        FactId::Create200,
        FactId::TypeGovernment,
        FactId::AccountId,
        FactId::Ids,
        FactId::CreationDate,
        FactId::ShowDetails,
        FactId::StatusValues,
        FactId::FailureFields,
        FactId::DeclinedReasons,
        FactId::ExpiredReasons,
        FactId::TimeoutRange,
        FactId::TimeoutExpiry,
        FactId::ErrorEnvelope,
        FactId::UnknownId404,
        FactId::ExpiredKey403,
    ];

    /// The id as `docs/fidelity.md` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FactId::CreatePath => "F-create-path",
            FactId::PollPath => "F-poll-path",
            FactId::KeyHeader => "F-key-header",
            FactId::PollKeyOnly => "F-poll-key-only",
            FactId::FormBody => "F-form-body",
            FactId::Create200 => "F-create-200",
            FactId::TypeGovernment => "F-type-government",
            FactId::AccountId => "F-account-id",
            FactId::Ids => "F-ids",
            FactId::CreationDate => "F-creation-date",
            FactId::ShowDetails => "F-show-details",
            FactId::StatusValues => "F-status-values",
            FactId::FailureFields => "F-failure-fields",
            FactId::DeclinedReasons => "F-declined-reasons",
            FactId::ExpiredReasons => "F-expired-reasons",
            FactId::TimeoutRange => "F-timeout-range",
            FactId::TimeoutExpiry => "F-timeout-expiry",
            FactId::ErrorEnvelope => "F-error-envelope",
            FactId::UnknownId404 => "F-unknown-id-404",
            FactId::ExpiredKey403 => "F-expired-key-403",
        }
    }
}

impl std::fmt::Display for FactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for FactId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One fact about Truora's API, as `docs/fidelity.md` states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// Stable id, also written in `docs/fidelity.md` (section "Facts checked by
    /// `conformance server`").
    pub id: FactId,
    /// Certainty tag, as in `docs/fidelity.md`.
    pub tag: &'static str,
    pub text: &'static str,
}

/// Every API fact of `docs/fidelity.md` a server can be checked for. Facts about the Web SDK
/// or about clients (polling schedules) are checked by the browser tests and the client suite.
pub const FACTS: &[Fact] = &[
    Fact {
        id: FactId::CreatePath,
        tag: "documented",
        text: "create is POST /v1/validations",
    },
    Fact {
        id: FactId::PollPath,
        tag: "Truora's code",
        text: "poll is GET /v1/validations/{validation_id}",
    },
    Fact {
        id: FactId::KeyHeader,
        tag: "documented",
        text: "every call carries Truora-API-Key; a missing key is a 401",
    },
    Fact {
        id: FactId::PollKeyOnly,
        tag: "Truora's code",
        text: "a poll needs only the key header (no Content-Type, no Accept)",
    },
    Fact {
        id: FactId::FormBody,
        tag: "documented",
        text: "the create body is form-encoded, not JSON",
    },
    Fact {
        id: FactId::Create200,
        tag: "Truora's code",
        text: "a successful create answers 200 (never 201)",
    },
    Fact {
        id: FactId::TypeGovernment,
        tag: "documented",
        text: "type=government selects TruIdentidad",
    },
    Fact {
        id: FactId::AccountId,
        tag: "documented",
        text: "an account_id of [a-zA-Z0-9_.-]+ is kept; when absent one is generated",
    },
    Fact {
        id: FactId::Ids,
        tag: "third-party",
        text: "validation ids are VLD + 32 lowercase hex; generated account ids ACC + 32 hex",
    },
    Fact {
        id: FactId::CreationDate,
        tag: "documented",
        text: "creation_date is RFC 3339 UTC with nanoseconds",
    },
    Fact {
        id: FactId::ShowDetails,
        tag: "Truora's code",
        text: "show_details=true adds a details object",
    },
    Fact {
        id: FactId::StatusValues,
        tag: "documented",
        text: "validation_status is pending, success or failure; there is no expired status",
    },
    Fact {
        id: FactId::FailureFields,
        tag: "Truora's code",
        text: "a failure carries failure_status declined, expired or system_error, with declined_reason / expired_reason",
    },
    Fact {
        id: FactId::DeclinedReasons,
        tag: "documented",
        text: "declined reasons come from Truora's published list",
    },
    Fact {
        id: FactId::ExpiredReasons,
        tag: "documented",
        text: "expired reasons (face): input_file_not_uploaded, manual_review_expired, face_validation_not_started",
    },
    Fact {
        id: FactId::TimeoutRange,
        tag: "documented",
        text: "timeout is in seconds, from 1 to 21600",
    },
    Fact {
        id: FactId::TimeoutExpiry,
        tag: "documented",
        text: "a validation not finished by its timeout ends failure / expired",
    },
    Fact {
        id: FactId::ErrorEnvelope,
        tag: "documented",
        text: "error bodies are {code, http_code, message}",
    },
    Fact {
        id: FactId::UnknownId404,
        tag: "third-party",
        text: "an unknown validation id is a 404",
    },
    Fact {
        id: FactId::ExpiredKey403,
        tag: "Truora's code",
        text: "an expired API key is answered 403",
    },
];

/// The fact with this id.
pub fn fact(id: FactId) -> Option<&'static Fact> {
    FACTS.iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every typed id has exactly one fact, in the same order, and every fact a typed id.
    #[test]
    fn every_fact_id_has_one_fact() {
        let ids: Vec<FactId> = FACTS.iter().map(|f| f.id).collect();
        assert_eq!(ids, FactId::ALL);
        for id in FactId::ALL {
            assert_eq!(fact(id).map(|f| f.id), Some(id));
        }
    }
}
