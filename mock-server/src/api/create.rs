//! `POST /v1/validations`: the head's checks (key, content type, scenario header) while
//! routing, then the body, the form, the scenario, the store, and any create fault.

use std::pin::Pin;
use std::sync::Arc;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::engine::RequestFacts;
use truidentidad_scenarios::{Fault, FaultAction, RequestKind, rng};

use crate::api::throttle;
use crate::auth::{Owner, authenticate};
use crate::error::ApiError;
use crate::exchange::{Chosen, ConnInfo, Exchange};
use crate::faults;
use crate::form::{self, truncate};
use crate::ids::{ValidationId, derive_account_id};
use crate::journal::{FormFields, Observed};
use crate::render;
use crate::reply::{Reply, json_response};
use crate::request_body::{declared_length, read_incoming};
use crate::state::AppState;
use crate::store::{ChosenBy, CreateParams, InsertError, NewValidation};

/// The header that picks a scenario on create.
pub const SCENARIO_HEADER: &str = "x-mock-scenario";

/// The response header of a create whose magic `account_id` prefix is a typo away from a
/// scenario name: which scenario it probably meant, and what the validation got instead.
pub const WARNING_HEADER: &str = "x-mock-warning";

/// The header that turns await-person mode on (`true`) or off (`false`) for one validation.
pub const AWAIT_PERSON_HEADER: &str = "x-mock-await-person";

// As a `HeaderName`: looking a header up by `&str` parses the name on every request.
static SCENARIO_NAME: http::header::HeaderName =
    http::header::HeaderName::from_static(SCENARIO_HEADER);
static AWAIT_PERSON_NAME: http::header::HeaderName =
    http::header::HeaderName::from_static(AWAIT_PERSON_HEADER);
static WARNING_NAME: http::header::HeaderName =
    http::header::HeaderName::from_static(WARNING_HEADER);

/// What a create needs once its head has passed the checks: the body to read and the
/// scenario header. The request itself is not kept: the boxed future of every create holds
/// this, and the smaller it is the cheaper the box (one of a few kilobytes no longer fits
/// the allocator's fast per-thread cache).
pub struct CreateHead {
    body: Incoming,
    /// Added latency from a brown-out ([`throttle`]).
    brownout_delay: Option<std::time::Duration>,
    declared: Option<u64>,
    header_scenario: Option<String>,
    /// `X-Mock-Await-Person`, when sent.
    await_person: Option<bool>,
    /// The key's tenant under `--key-isolation`.
    owner: Owner,
}

/// The synchronous part of a create, done while routing: the API key, the content type and
/// the scenario header, in that order.
pub fn check_create(
    state: &AppState,
    req: Request<Incoming>,
    ex: &mut Exchange,
) -> Result<CreateHead, ApiError> {
    let owner = authenticate(state, req.headers(), ex)?;
    let brownout_delay = throttle::check(state, req.headers(), ex)?;
    form::check_content_type(
        ex.content_type
            .as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .as_deref(),
    )?;
    let header_scenario = req
        .headers()
        .get(&SCENARIO_NAME)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let await_person = req
        .headers()
        .get(&AWAIT_PERSON_NAME)
        .map(|v| parse_await_person(v.as_bytes()))
        .transpose()?;
    let declared = declared_length(&req);
    Ok(CreateHead {
        brownout_delay,
        body: req.into_body(),
        declared,
        header_scenario,
        await_person,
        owner,
    })
}

fn parse_await_person(v: &[u8]) -> Result<bool, ApiError> {
    match v.trim_ascii() {
        b"true" | b"1" => Ok(true),
        b"false" | b"0" => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "X-Mock-Await-Person must be true or false, got `{}`",
            truncate(&String::from_utf8_lossy(other), 32)
        ))),
    }
}

/// `POST /v1/validations` once its head passed [`check_create`]: reads the body, then
/// creates (or fails as the scenario says).
pub async fn create(
    state: &AppState,
    conn: &ConnInfo,
    head: CreateHead,
    ex: &mut Exchange,
) -> Reply {
    if let Some(d) = head.brownout_delay {
        tokio::time::sleep(d).await;
    }
    let body = match read_incoming(state, head.body, head.declared).await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let await_person = head.await_person.unwrap_or(state.config.await_person);
    let mut reply = match create_from_body(
        state,
        conn,
        head.header_scenario.as_deref(),
        (await_person, head.owner),
        &body,
        ex,
    )
    .await
    {
        Created::Done(reply) => reply,
        Created::Fault(fault) => fault.await,
    };
    if let (Some(chosen), Reply::Response(response)) = (ex.chosen, &mut reply)
        && let Some(warning) = near_miss_warning(state, chosen)
    {
        response.headers_mut().insert(WARNING_NAME.clone(), warning);
    }
    reply
}

/// The `X-Mock-Warning` of a near-miss create. It names only scenarios, never the account id
/// as typed, so the value is always a valid header.
fn near_miss_warning(state: &AppState, chosen: Chosen) -> Option<http::HeaderValue> {
    let meant = &state.catalogue.get(chosen.near_miss?).name;
    let got = &state.catalogue.get(chosen.scenario).name;
    http::HeaderValue::from_str(&format!(
        "account_id prefix is not a scenario name; did you mean `{meant}`? \
         This validation got `{got}` (chosen by {})",
        chosen.by.as_str()
    ))
    .ok()
}

/// The end of a create: done, or a fault still to apply (boxed: a cold path, and inline its
/// state would enlarge every create's future).
enum Created<'a> {
    Done(Reply),
    Fault(Pin<Box<dyn Future<Output = Reply> + Send + 'a>>),
}

impl From<ApiError> for Created<'_> {
    fn from(e: ApiError) -> Self {
        Created::Done(e.into())
    }
}

/// Everything after the body arrived: parse, pick the scenario, store, render. Only the
/// backend's steps are awaited (at once on the memory backend).
async fn create_from_body<'a>(
    state: &'a AppState,
    conn: &ConnInfo,
    header_scenario: Option<&str>,
    (await_person, owner): (bool, Owner),
    body: &[u8],
    ex: &'a mut Exchange,
) -> Created<'a> {
    let mut form = match form::parse_create(body) {
        Ok(f) => f,
        Err(e) => return e.into(),
    };
    form.params.owner = owner;
    if state.journal.enabled() {
        // `parse_create` accepted the body, so it is UTF-8.
        ex.form = FormFields::from_urlencoded(std::str::from_utf8(body).unwrap_or_default());
    }

    let seq = match state.next_seq().await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into(),
    };
    let (scenario_id, chosen_by) = match choose_scenario(
        state,
        Selectors {
            header: header_scenario,
            account_id: form.account_id.as_deref(),
            document_number: form.params.document_number.as_deref(),
        },
        seq,
    )
    .await
    {
        Ok(chosen) => chosen,
        Err(e) => return e.into(),
    };
    // Only when the account id chose nothing stronger did it (maybe) miss.
    let near_miss = match chosen_by {
        ChosenBy::Header | ChosenBy::AccountId => None,
        _ => form
            .account_id
            .as_deref()
            .and_then(|a| state.catalogue.near_miss_account_id(a)),
    };
    let scenario = state.catalogue.get(scenario_id);
    let account_id: Arc<str> = match &form.account_id {
        Some(a) => Arc::clone(a),
        None => Arc::from(derive_account_id(state.seed, seq)),
    };

    let fault = if scenario
        .faults
        .iter()
        .any(|f| f.request == RequestKind::Create)
    {
        let nth = match state.count_create(&account_id).await {
            Ok(n) => n,
            Err(e) => return ApiError::from(e).into(),
        };
        let entropy = rng::derive(state.seed, &[0x4352_4541_5445, seq]);
        truidentidad_scenarios::select_fault(
            scenario,
            &RequestFacts {
                kind: RequestKind::Create,
                nth,
                phase: 0,
                entropy,
            },
        )
        .map(|f| (f, entropy))
    } else {
        None
    };
    // An HTTP error means nothing was created: answer before storing.
    if let Some((
        f @ Fault {
            action: FaultAction::HttpError { .. },
            ..
        },
        entropy,
    )) = fault
    {
        return Created::Fault(Box::pin(faults::apply(
            f,
            entropy,
            &scenario.name,
            Vec::new(),
            ex,
        )));
    }

    let mut new = NewValidation {
        account_id,
        scenario: scenario_id,
        chosen_by,
        timeout: form.timeout,
        ip: conn.remote.ip(),
        // Creates without optional fields (most) store none: no allocation to make or free.
        params: (form.params != CreateParams::default()).then(|| Arc::new(form.params)),
        await_person,
    };
    let now = state.clock.now();
    let mut attempt_seq = seq;
    let view = loop {
        let id = ValidationId::derive(state.seed, attempt_seq);
        match state.backend.insert(id, seq, new, now).await {
            Ok(v) => break v,
            Err(InsertError::Taken(back)) => new = back,
            // Not stored, so not answered as created: the client retries after the delay.
            Err(InsertError::Unavailable(e)) => return ApiError::from(e).into(),
        }
        // Ids derive from the seed and a counter that never restarts, so a taken id means a
        // state file saved under another seed was restored; step past it.
        attempt_seq = attempt_seq.wrapping_add(1 << 40);
    };
    ex.validation_id = Some(view.record.id);
    ex.chosen = Some(Chosen {
        scenario: scenario_id,
        by: chosen_by,
        near_miss,
    });
    ex.observed = Some(Observed {
        status: view.observation.status,
        outcome: view.observation.outcome,
    });
    let body = render::validation(&view, state.clock.as_ref(), false);
    match fault {
        Some((f, entropy)) => Created::Fault(Box::pin(faults::apply(
            f,
            entropy,
            &scenario.name,
            body,
            ex,
        ))),
        None => Created::Done(Reply::Response(json_response(StatusCode::OK, body))),
    }
}

/// What a create carries that can pick its scenario.
struct Selectors<'a> {
    header: Option<&'a str>,
    account_id: Option<&'a str>,
    /// Already normalised by the form's document rule.
    document_number: Option<&'a str>,
}

/// Picks the scenario of a new validation, strongest first: the `X-Mock-Scenario` header, a
/// magic `account_id`, a test identity's `document_number`, the next armed scenario, the mix or
/// the default. The per-request selectors beat the arm queue (a queue the whole server shares),
/// and the arm is consumed only by a create that nothing stronger chose for.
async fn choose_scenario(
    state: &AppState,
    with: Selectors<'_>,
    seq: u64,
) -> Result<(ScenarioId, ChosenBy), ApiError> {
    if let Some(name) = with.header {
        return state
            .catalogue
            .id_of(name.trim())
            .map(|id| (id, ChosenBy::Header))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown scenario `{}` in X-Mock-Scenario; known scenarios: {}",
                    truncate(name, 64),
                    state.catalogue.names()
                ))
            });
    }
    if let Some(id) = with
        .account_id
        .and_then(|a| state.catalogue.from_account_id(a))
    {
        return Ok((id, ChosenBy::AccountId));
    }
    if let Some(id) = with
        .document_number
        .and_then(|d| state.catalogue.from_document_number(d))
    {
        return Ok((id, ChosenBy::Document));
    }
    if let Some(id) = state.take_armed().await? {
        return Ok((id, ChosenBy::Armed));
    }
    Ok((
        match &state.mix {
            Some(mix) => mix.pick(state.seed, seq),
            None => state.default_scenario,
        },
        ChosenBy::Default,
    ))
}
