//! One case's evidence: the API requests the mock journaled, each annotated with what the
//! client could have seen in the response, plus what the client reported.
//!
//! The reduction of journal entries to [`Request`]s and every rule about them (transport
//! retries, waits, Retry-After, requests after a terminal answer) live in [`crate::evidence`],
//! which the load tool's fleet mode reads too; a trace is that evidence plus the case it was
//! recorded for.

use std::time::Duration;

use truidentidad_mock_server::AppState;
use truidentidad_mock_server::journal::Kind;
use truidentidad_scenarios::model::Scenario;

use crate::catalogue::Case;
use crate::client::ClientRun;
pub use crate::evidence::{
    Request, Seen, gaps_before, is_transport_retry, mark_transport_retries, polled_id,
};
pub use crate::secs::{fmt_secs, secs};
use crate::settings::Settings;

/// Everything a check may look at.
#[derive(Debug, Clone)]
pub struct Trace {
    pub case: Case,
    pub scenario: Scenario,
    pub settings: Settings,
    /// `TRUORA_ACCOUNT_ID` as handed to the client.
    pub account_id: String,
    /// API requests (creates and polls), oldest first.
    pub requests: Vec<Request>,
    pub client: ClientRun,
}

impl Trace {
    /// A trace over `requests` (oldest first), with transport retries marked (see
    /// [`mark_transport_retries`]): every trace is built here, so every rule sees the same
    /// tolerance.
    pub fn new(
        case: Case,
        scenario: Scenario,
        settings: Settings,
        account_id: String,
        mut requests: Vec<Request>,
        client: ClientRun,
    ) -> Trace {
        mark_transport_retries(&mut requests, &settings);
        Trace {
            case,
            scenario,
            settings,
            account_id,
            requests,
            client,
        }
    }

    /// The polling deadline this case handed the client (see [`Settings::deadline_for`]).
    pub fn deadline(&self) -> Duration {
        self.settings.deadline_for(&self.case)
    }

    /// Validation ids returned by successful creates, in order.
    pub fn created_ids(&self) -> Vec<&str> {
        self.requests
            .iter()
            .filter(|r| r.is_create() && r.status == 200)
            .filter_map(|r| r.validation_id.as_deref())
            .collect()
    }

    /// The requests about one validation: its create (if answered) and its polls.
    pub fn timeline(&self, id: &str) -> Vec<&Request> {
        self.requests
            .iter()
            .filter(|r| r.validation_id.as_deref() == Some(id))
            .collect()
    }

    /// Every validation the journal mentions (created or polled), in first-seen order.
    pub fn validation_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for id in self
            .requests
            .iter()
            .filter_map(|r| r.validation_id.as_deref())
        {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
}

/// Builds the annotated request list from a mock's journal.
pub fn collect(state: &AppState) -> Vec<Request> {
    state
        .journal()
        .query(usize::MAX, |e| matches!(e.kind, Kind::Create | Kind::Poll))
        .iter()
        .map(Request::from_entry)
        .collect()
}
