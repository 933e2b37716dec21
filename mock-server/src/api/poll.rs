//! `GET /v1/validations/{id}`: the key, the query, the store's read-observe-update, and the
//! fault (if any) the scenario sets on this poll. Answered synchronously unless a fault has to
//! wait, so the common poll costs hyper no boxed future.

use http::{Request, StatusCode};
use hyper::body::Incoming;
use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::engine::RequestFacts;
use truidentidad_scenarios::model::Delay;
use truidentidad_scenarios::{Fault, FaultAction, RequestKind, rng};

use crate::api::throttle;
use crate::auth::{Owner, authenticate, may_see};
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::form::truncate;
use crate::ids::ValidationId;
use crate::journal::Observed;
use crate::render;
use crate::reply::{Reply, json_response};
use crate::state::AppState;
use crate::store::{Unavailable, View};

/// A poll's answer: ready, or a fault still to apply to the body it replaces or delays.
pub enum Polled {
    Ready(Reply),
    Fault(PendingFault),
    /// The backend must be awaited (Redis): [`poll_remote`] finishes the poll.
    Remote(Asked),
}

/// A fault on a poll, and what the fault needs to run.
pub struct PendingFault {
    pub scenario: ScenarioId,
    pub fault: Fault,
    pub entropy: u64,
    pub ok_body: Vec<u8>,
}

impl From<ApiError> for Polled {
    fn from(e: ApiError) -> Self {
        Polled::Ready(e.into())
    }
}

/// `show_details`: `true`/`1` or `false`/`0`/empty. Repeated with different values it is a
/// 400, the rule the create form applies to a repeated field: silently using one of two
/// contradictory values would hide a client bug.
fn parse_show_details(query: Option<&str>) -> Result<bool, ApiError> {
    let Some(q) = query else { return Ok(false) };
    let mut first: Option<std::borrow::Cow<str>> = None;
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        if k != "show_details" {
            continue;
        }
        match &first {
            Some(f) if *f != v => {
                return Err(ApiError::bad_request(format!(
                    "query parameter show_details is given more than once with different values (`{}` and `{}`); send it once",
                    truncate(f, 32),
                    truncate(&v, 32)
                )));
            }
            Some(_) => {}
            None => first = Some(v),
        }
    }
    match first.as_deref() {
        None | Some("false" | "0" | "") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "query parameter show_details must be true or false, got `{}`",
            truncate(other, 32)
        ))),
    }
}

/// A latency brown-out as a fault: the normal answer, `d` later.
fn delay_only(d: std::time::Duration) -> Fault {
    Fault {
        request: RequestKind::Poll,
        phase: None,
        nth: Vec::new(),
        chance: 1.0,
        delay: Some(Delay::Fixed(d)),
        action: FaultAction::DelayOnly,
    }
}

/// What a poll asked for, once its head passed the checks.
pub struct Asked {
    id: ValidationId,
    owner: Owner,
    show_details: bool,
    brownout_delay: Option<std::time::Duration>,
    /// The id as sent, for the 404's message (only kept for a poll that waits).
    raw: String,
}

fn unknown(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "validation {} not found; use the validation_id returned by POST /v1/validations (VLD followed by 32 hex digits)",
        truncate(id, 64)
    ))
}

/// Answers a poll of `id` (as sent in the path): at once on a backend that answers at once
/// (memory), or [`Polled::Remote`] for [`poll_remote`] to await.
pub fn poll(state: &AppState, req: &Request<Incoming>, id: &str, ex: &mut Exchange) -> Polled {
    let owner = match authenticate(state, req.headers(), ex) {
        Ok(owner) => owner,
        Err(e) => return e.into(),
    };
    let show_details = match parse_show_details(req.uri().query()) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let Ok(vid) = ValidationId::from_path(id) else {
        return unknown(id).into();
    };
    ex.validation_id = Some(vid);
    // After the id is known (so the journal ties a throttled poll to its validation), before
    // the store counts the poll.
    let brownout_delay = match throttle::check(state, req.headers(), ex) {
        Ok(d) => d,
        Err(e) => return e.into(),
    };
    let asked = |id: &str| Asked {
        id: vid,
        owner,
        show_details,
        brownout_delay,
        raw: id.to_string(),
    };
    // Another tenant's validation is a 404, checked before the poll is counted so a foreign
    // key's reads never move a poll-driven scenario.
    if owner.is_some() {
        let Some(seen) = state.backend.get_now(vid, state.clock.now()) else {
            return Polled::Remote(asked(id));
        };
        if let Err(e) = may_poll(owner, seen) {
            return e.unwrap_or_else(|| unknown(id)).into();
        }
    }
    match state.backend.poll_now(vid, &|| state.clock.now()) {
        Some(polled) => answer(state, polled, show_details, brownout_delay, id, ex),
        None => Polled::Remote(asked(id)),
    }
}

/// Whether `owner` may poll the validation `seen` shows: `Err(None)` for a 404 (unknown, or
/// another tenant's), `Err(Some(_))` for a store that did not answer.
fn may_poll(owner: Owner, seen: Result<Option<View>, Unavailable>) -> Result<(), Option<ApiError>> {
    match seen {
        Ok(Some(v)) if may_see(owner, v.record.params.as_ref().and_then(|p| p.owner)) => Ok(()),
        Ok(_) => Err(None),
        Err(e) => Err(Some(ApiError::from(e))),
    }
}

/// A poll the backend answers by awaiting (Redis): the same steps as [`poll`], then the
/// scenario's fault, if any.
pub async fn poll_remote(state: &AppState, asked: Asked, ex: &mut Exchange) -> Reply {
    if asked.owner.is_some() {
        let seen = state.backend.get(asked.id, state.clock.now()).await;
        if let Err(e) = may_poll(asked.owner, seen) {
            return e.unwrap_or_else(|| unknown(&asked.raw)).into();
        }
    }
    let polled = state.backend.poll(asked.id, &|| state.clock.now()).await;
    match answer(
        state,
        polled,
        asked.show_details,
        asked.brownout_delay,
        &asked.raw,
        ex,
    ) {
        Polled::Ready(reply) => reply,
        Polled::Fault(f) => {
            let scenario = &state.catalogue.get(f.scenario).name;
            crate::faults::apply(&f.fault, f.entropy, scenario, f.ok_body, ex).await
        }
        // `answer` never defers.
        Polled::Remote(_) => ApiError::from(Unavailable(std::sync::Arc::from(
            "the poll could not be answered",
        )))
        .into(),
    }
}

/// The answer to a poll the store counted (or did not find): the body, and the scenario's
/// fault or a brown-out's delay on it.
fn answer(
    state: &AppState,
    polled: Result<Option<(View, u32)>, Unavailable>,
    show_details: bool,
    brownout_delay: Option<std::time::Duration>,
    id: &str,
    ex: &mut Exchange,
) -> Polled {
    let (view, nth) = match polled {
        Ok(Some(polled)) => polled,
        Ok(None) => return unknown(id).into(),
        Err(e) => return ApiError::from(e).into(),
    };
    ex.poll_counted = true;
    ex.observed = Some(Observed {
        status: view.observation.status,
        outcome: view.observation.outcome,
    });
    let scenario = state.catalogue.get(view.record.scenario);
    let body = render::validation(&view, state.clock.as_ref(), show_details);
    let entropy = rng::derive(state.seed, &[view.record.seq, u64::from(nth)]);
    let facts = RequestFacts {
        kind: RequestKind::Poll,
        nth,
        phase: view.observation.phase,
        entropy,
    };
    // A scenario's own fault on this poll wins over a latency brown-out's delay.
    let fault = truidentidad_scenarios::select_fault(scenario, &facts)
        .cloned()
        .or_else(|| brownout_delay.map(delay_only));
    match fault {
        Some(fault) => Polled::Fault(PendingFault {
            scenario: view.record.scenario,
            fault,
            entropy,
            ok_body: body,
        }),
        None => Polled::Ready(Reply::Response(json_response(StatusCode::OK, body))),
    }
}
