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
use crate::auth::{authenticate, may_see};
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::form::truncate;
use crate::ids::ValidationId;
use crate::journal::Observed;
use crate::render;
use crate::reply::{Reply, json_response};
use crate::state::AppState;

/// A poll's answer: ready, or a fault still to apply to the body it replaces or delays.
pub enum Polled {
    Ready(Reply),
    Fault(PendingFault),
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

/// Answers a poll of `id` (as sent in the path).
pub fn poll(state: &AppState, req: &Request<Incoming>, id: &str, ex: &mut Exchange) -> Polled {
    let owner = match authenticate(state, req.headers(), ex) {
        Ok(owner) => owner,
        Err(e) => return e.into(),
    };
    let show_details = match parse_show_details(req.uri().query()) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let unknown = || {
        ApiError::not_found(format!(
            "validation {} not found; use the validation_id returned by POST /v1/validations (VLD followed by 32 hex digits)",
            truncate(id, 64)
        ))
    };
    let Ok(vid) = ValidationId::from_path(id) else {
        return unknown().into();
    };
    ex.validation_id = Some(vid);
    // After the id is known (so the journal ties a throttled poll to its validation), before
    // the store counts the poll.
    let brownout_delay = match throttle::check(state, req.headers(), ex) {
        Ok(d) => d,
        Err(e) => return e.into(),
    };
    // Another tenant's validation is a 404, checked before the poll is counted so a foreign
    // key's reads never move a poll-driven scenario.
    if owner.is_some() {
        match state.store.get(vid, state.clock.now()) {
            Ok(Some(v)) if may_see(owner, v.record.params.as_ref().and_then(|p| p.owner)) => {}
            Ok(_) => return unknown().into(),
            Err(e) => return ApiError::from(e).into(),
        }
    }
    let (view, nth) = match state.store.poll(vid, &|| state.clock.now()) {
        Ok(Some(polled)) => polled,
        Ok(None) => return unknown().into(),
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
