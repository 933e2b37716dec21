//! Where a fleet run reads what the mock saw: the journal of its own in-process mock, or the
//! control API of an external one (`load --client … --target URL`, e.g. a shared mock or
//! replicas behind a balancer), as one neutral record per request and per validation.
//!
//! Both give the same facts: each request reduced by the conformance suite's one reading of
//! the journal ([`truidentidad_conformance::evidence`]: [`Request::from_entry`] in-process,
//! [`ControlEntry`] over the control API, with the recorded `poll_counted`), and a
//! validation's status and the moment it became terminal, on the mock's own clock. So the
//! figures are computed the same way whichever mock served.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use truidentidad_conformance::evidence::{ControlEntry, Request};
use truidentidad_conformance::http::{self, Method, Req as HttpReq};
use truidentidad_conformance::secs::from_secs;
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::ids::ValidationId;

/// A validation as the mock has it at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub status: String,
    pub failure_status: Option<String>,
    /// When it became terminal, on the mock's clock.
    pub terminal_at: Option<Duration>,
}

/// The in-process mock's view of one validation, its terminal moment replayed from `polls`
/// (the poll arrivals the store counted).
pub fn local_truth(server: &MockServer, id: ValidationId, polls: &[Duration]) -> Option<Truth> {
    let view = server.validation(id)?;
    let o = view.observation;
    Some(Truth {
        status: o.status.as_str().to_string(),
        failure_status: o.outcome.and_then(|o| o.failure_status()).map(String::from),
        terminal_at: view
            .record
            .terminal_since(server.state().catalogue(), polls, server.now()),
    })
}

/// Why an external mock cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{what} at {url}: {source}")]
    Unreachable {
        what: &'static str,
        url: String,
        #[source]
        source: http::HttpError,
    },
    #[error(
        "{url} answered {status}: a fleet run reads the target's /_mock/ control API, so the target must be a truidentidad-mock{hint}"
    )]
    Refused {
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error("{url} answered something that is not the control API's JSON: {detail}")]
    Unreadable { url: String, detail: String },
}

/// An external truidentidad-mock, read through its control API.
#[derive(Debug, Clone)]
pub struct Remote {
    base: String,
    admin_token: Option<String>,
}

/// Journal entries asked for per page.
const PAGE: usize = 10_000;
/// Validations read at once after the run.
const PARALLEL_READS: usize = 16;
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct JournalPage {
    next_seq: u64,
    entries: Vec<ControlEntry>,
}

#[derive(Deserialize)]
struct RemoteValidation {
    validation_status: String,
    failure_status: Option<String>,
    terminal_at_seconds: Option<f64>,
}

#[derive(Deserialize)]
struct RemoteClock {
    now_seconds: f64,
}

impl Remote {
    pub fn new(base: &str, admin_token: Option<String>) -> Remote {
        Remote {
            base: base.trim_end_matches('/').to_string(),
            admin_token,
        }
    }

    /// The mock's base URL, as its API's clients are given it.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
    ) -> Result<T, RemoteError> {
        let url = format!("{}{path}", self.base);
        let headers = self
            .admin_token
            .iter()
            .map(|t| ("X-Mock-Admin-Token".to_string(), t.clone()))
            .collect();
        let resp = http::send(
            HttpReq {
                method: Method::GET,
                url: url.clone(),
                headers,
                body: Vec::new(),
            },
            CONTROL_TIMEOUT,
        )
        .await
        .map_err(|source| RemoteError::Unreachable {
            what,
            url: url.clone(),
            source,
        })?;
        if resp.status != 200 {
            let hint = match resp.status {
                401 => " (pass its admin token with --admin-token)",
                _ => "",
            };
            return Err(RemoteError::Refused {
                url,
                status: resp.status,
                hint,
            });
        }
        serde_json::from_slice(&resp.body).map_err(|e| RemoteError::Unreadable {
            url,
            detail: e.to_string(),
        })
    }

    /// The mock's clock now.
    pub async fn now(&self) -> Result<Duration, RemoteError> {
        let c: RemoteClock = self.get("reading the clock", "/_mock/clock").await?;
        Ok(from_secs(c.now_seconds))
    }

    /// The sequence number the next journal entry will get: where a run's requests start.
    pub async fn next_seq(&self) -> Result<u64, RemoteError> {
        let p: JournalPage = self
            .get("reading the journal", "/_mock/journal?limit=1")
            .await?;
        Ok(p.next_seq)
    }

    /// Every create and poll recorded from `from` on, and whether some fell out of the
    /// journal before they could be read (the figures are then incomplete).
    pub async fn requests_since(&self, from: u64) -> Result<(Vec<Request>, bool), RemoteError> {
        let mut out = Vec::new();
        let mut next = from;
        let mut lost = false;
        loop {
            let page: JournalPage = self
                .get(
                    "reading the journal",
                    &format!("/_mock/journal?kind=create,poll&from_seq={next}&limit={PAGE}"),
                )
                .await?;
            if next == from {
                // The oldest entry kept is past where the run started (other traffic counts
                // too, so only a first entry beyond the start proves a loss).
                lost = page.entries.first().is_some_and(|e| e.seq() > from)
                    && self.oldest_seq().await? > from;
            }
            let full = page.entries.len() == PAGE;
            for e in page.entries {
                let read = e.into_request().map_err(|detail| RemoteError::Unreadable {
                    url: format!("{}/_mock/journal", self.base),
                    detail,
                })?;
                out.extend(read);
            }
            if !full || page.next_seq <= next {
                break;
            }
            next = page.next_seq;
        }
        Ok((out, lost))
    }

    /// The sequence number of the oldest entry of any kind the journal still has.
    async fn oldest_seq(&self) -> Result<u64, RemoteError> {
        let p: JournalPage = self
            .get("reading the journal", "/_mock/journal?from_seq=0&limit=1")
            .await?;
        Ok(p.entries.first().map_or(p.next_seq, |e| e.seq()))
    }

    /// The mock's view of each of `ids`, a few read at once.
    pub async fn truths(
        &self,
        ids: Vec<ValidationId>,
    ) -> Result<HashMap<ValidationId, Truth>, RemoteError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(PARALLEL_READS) {
            let mut reads = tokio::task::JoinSet::new();
            for id in chunk.iter().copied() {
                let remote = self.clone();
                reads.spawn(async move {
                    let v: RemoteValidation = remote
                        .get("reading a validation", &format!("/_mock/validations/{id}"))
                        .await?;
                    Ok::<_, RemoteError>((id, v))
                });
            }
            while let Some(joined) = reads.join_next().await {
                let Ok(read) = joined else { continue };
                let (id, v) = read?;
                out.insert(
                    id,
                    Truth {
                        status: v.validation_status,
                        failure_status: v.failure_status,
                        terminal_at: v.terminal_at_seconds.map(from_secs),
                    },
                );
            }
        }
        Ok(out)
    }
}
