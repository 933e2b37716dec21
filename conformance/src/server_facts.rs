//! The facts `conformance server` checks: each one a row of `docs/fidelity.md` whose certainty
//! is *documented*, *Truora's code* or *third-party*, under a short id. A check names the facts
//! it covers, and the report counts them, so a stand-in (or a recording of real exchanges)
//! is graded against what is actually known about Truora, and a fact nobody checks shows.

/// One fact about Truora's API, as `docs/fidelity.md` states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// Stable id, also written in `docs/fidelity.md` (section "Facts checked by
    /// `conformance server`").
    pub id: &'static str,
    /// Certainty tag, as in `docs/fidelity.md`.
    pub tag: &'static str,
    pub text: &'static str,
}

/// Every API fact of `docs/fidelity.md` a server can be checked for. Facts about the Web SDK
/// or about clients (polling schedules) are checked by the browser tests and the client suite.
pub const FACTS: &[Fact] = &[
    Fact {
        id: "F-create-path",
        tag: "documented",
        text: "create is POST /v1/validations",
    },
    Fact {
        id: "F-poll-path",
        tag: "Truora's code",
        text: "poll is GET /v1/validations/{validation_id}",
    },
    Fact {
        id: "F-key-header",
        tag: "documented",
        text: "every call carries Truora-API-Key; a missing key is a 401",
    },
    Fact {
        id: "F-poll-key-only",
        tag: "Truora's code",
        text: "a poll needs only the key header (no Content-Type, no Accept)",
    },
    Fact {
        id: "F-form-body",
        tag: "documented",
        text: "the create body is form-encoded, not JSON",
    },
    Fact {
        id: "F-create-200",
        tag: "Truora's code",
        text: "a successful create answers 200 (never 201)",
    },
    Fact {
        id: "F-type-government",
        tag: "documented",
        text: "type=government selects TruIdentidad",
    },
    Fact {
        id: "F-account-id",
        tag: "documented",
        text: "an account_id of [a-zA-Z0-9_.-]+ is kept; when absent one is generated",
    },
    Fact {
        id: "F-ids",
        tag: "third-party",
        text: "validation ids are VLD + 32 lowercase hex; generated account ids ACC + 32 hex",
    },
    Fact {
        id: "F-creation-date",
        tag: "documented",
        text: "creation_date is RFC 3339 UTC with nanoseconds",
    },
    Fact {
        id: "F-show-details",
        tag: "Truora's code",
        text: "show_details=true adds a details object",
    },
    Fact {
        id: "F-status-values",
        tag: "documented",
        text: "validation_status is pending, success or failure; there is no expired status",
    },
    Fact {
        id: "F-failure-fields",
        tag: "Truora's code",
        text: "a failure carries failure_status declined, expired or system_error, with declined_reason / expired_reason",
    },
    Fact {
        id: "F-declined-reasons",
        tag: "documented",
        text: "declined reasons come from Truora's published list",
    },
    Fact {
        id: "F-expired-reasons",
        tag: "documented",
        text: "expired reasons (face): input_file_not_uploaded, manual_review_expired, face_validation_not_started",
    },
    Fact {
        id: "F-timeout-range",
        tag: "documented",
        text: "timeout is in seconds, from 1 to 21600",
    },
    Fact {
        id: "F-timeout-expiry",
        tag: "documented",
        text: "a validation not finished by its timeout ends failure / expired",
    },
    Fact {
        id: "F-error-envelope",
        tag: "documented",
        text: "error bodies are {code, http_code, message}",
    },
    Fact {
        id: "F-unknown-id-404",
        tag: "third-party",
        text: "an unknown validation id is a 404",
    },
    Fact {
        id: "F-expired-key-403",
        tag: "Truora's code",
        text: "an expired API key is answered 403",
    },
];

/// The fact with this id.
pub fn fact(id: &str) -> Option<&'static Fact> {
    FACTS.iter().find(|f| f.id == id)
}
