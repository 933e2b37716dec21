//! The control API under `/_mock/`: what tests and people use to look inside the mock and
//! steer it (documented in the README and `mock-server/openapi.yaml`).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use hyper::body::Incoming;
use serde_json::{Value, json};
use truidentidad_scenarios::{FaultAction, Outcome, Scenario, ValidationStatus};

use crate::clock::AdvanceError;
use crate::dates::rfc3339_nanos;
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::form::truncate;
use crate::ids::ValidationId;
use crate::journal::{JournalEntry, Kind};
use crate::render;
use crate::reply::{Reply, json_response};
use crate::request_body::read_body;
use crate::router::{self, ControlEndpoint as C, ControlRoute, Route};
use crate::state::AppState;
use crate::store::{StoreError, View};

/// The OpenAPI document of everything the server answers.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

const DEFAULT_LIST_LIMIT: usize = 100;
const MAX_LIST_LIMIT: usize = 10_000;

/// Answers a control API request; the service checked the admin token already.
pub async fn route(state: &AppState, req: Request<Incoming>, ex: &mut Exchange) -> Reply {
    let full_path = req.uri().path().to_string();
    let path = full_path.trim_end_matches('/');
    let method = req.method().clone();
    // The request moved into this handler's boxed future, and a route borrows the path it was
    // read from: route this copy of the path again rather than carry a borrow through the
    // service (routing is a few comparisons; this is not a hot path).
    let endpoint = match router::route(&method, &full_path) {
        Route::Control(ControlRoute { endpoint, .. }) => endpoint,
        _ => C::Unknown,
    };
    let result: Result<Reply, ApiError> = async {
        match endpoint {
            C::Health => Ok(health(state)),
            C::OpenApi => {
                let mut r = json_response(StatusCode::OK, Bytes::from_static(OPENAPI_YAML.as_bytes()));
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml"));
                Ok(Reply::Response(r))
            }
            C::Scenarios => {
                let list: Vec<Value> = state.catalogue.iter().map(|(_, s)| scenario_json(s)).collect();
                Ok(ok_json(json!({ "default": state.catalogue.get(state.default_scenario).name, "scenarios": list })))
            }
            C::Validations => {
                list_validations(state, req.uri().query())
            }
            C::Validation(id) => {
                let id = parse_id(id)?;
                ex.validation_id = Some(id);
                let view = state.store().get(id, state.clock.now())?.ok_or_else(|| unknown(id))?;
                Ok(ok_json(detail_json(state, &view)))
            }
            C::Complete(id) => {
                let id = parse_id(id)?;
                ex.validation_id = Some(id);
                let params = params(state, req).await?;
                let outcome = outcome_from(&params)?;
                let view = state
                    .store()
                    .complete(id, outcome, state.clock.now())
                    .map_err(|e| store_error(e, id))?;
                Ok(ok_json(detail_json(state, &view)))
            }
            C::SetScenario(id) => {
                let id = parse_id(id)?;
                ex.validation_id = Some(id);
                let params = params(state, req).await?;
                let scenario = scenario_param(state, &params)?;
                let view = state
                    .store()
                    .set_scenario(id, scenario, state.clock.now())
                    .map_err(|e| store_error(e, id))?;
                Ok(ok_json(detail_json(state, &view)))
            }
            C::Arm => {
                let params = params(state, req).await?;
                let scenario = scenario_param(state, &params)?;
                let count = match get(&params, "count") {
                    None => 1,
                    Some(c) => c
                        .parse::<usize>()
                        .ok()
                        .filter(|c| (1..=10_000).contains(c))
                        .ok_or_else(|| ApiError::bad_request(format!("count must be a whole number from 1 to 10000, got `{}`", truncate(c, 32))))?,
                };
                let armed = state.arm(scenario, count)?;
                Ok(ok_json(json!({ "armed": armed, "scenario": state.catalogue.get(scenario).name })))
            }
            C::Clock => {
                Ok(ok_json(clock_json(state)))
            }
            C::ClockAdvance => {
                let params = params(state, req).await?;
                let raw = get(&params, "seconds").ok_or_else(|| ApiError::bad_request("missing seconds: POST /_mock/clock/advance?seconds=N"))?;
                let secs = raw
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && (0.0..=MAX_ADVANCE_SECS).contains(s))
                    .ok_or_else(|| ApiError::bad_request(format!("seconds must be a number from 0 to {MAX_ADVANCE_SECS} (about 31 years per call), got `{}`", truncate(raw, 32))))?;
                match state.clock.advance(Duration::from_secs_f64(secs)) {
                    Ok(_) => {}
                    // Only a clock kept in Redis fails to move for want of Redis: say why (503).
                    Err(AdvanceError::Unavailable) => {
                        state.store().ready()?;
                        return Err(crate::store::Unavailable("the clock could not be advanced in Redis".into()).into());
                    }
                    // The other refusals are the clock's state, not the request's shape: 409.
                    Err(e) => return Err(ApiError::conflict(e.to_string())),
                }
                Ok(ok_json(clock_json(state)))
            }
            C::Reset => {
                state.reset()?;
                Ok(ok_json(json!({ "reset": true })))
            }
            C::Journal => {
                journal(state, req.uri().query())
            }
            C::Metrics => {
                // A scraper calls every few seconds; its calls would crowd the journal.
                ex.skip_journal = true;
                let mut r = json_response(StatusCode::OK, state.metrics_text());
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE));
                Ok(Reply::Response(r))
            }
            C::WrongMethod(allow) => Err(ApiError::method_not_allowed(&method, path, allow)),
            C::Unknown => Err(ApiError::not_found(format!(
                "no control endpoint {method} {}; see GET /_mock/openapi.yaml for the list",
                truncate(path, 128)
            ))),
        }
    }
    .await;
    result.unwrap_or_else(Reply::from)
}

/// `GET /_mock/health`: 200 while the server can answer, 503 while its store cannot be
/// reached (a balancer then sends traffic to the other replicas).
fn health(state: &AppState) -> Reply {
    let store = state.store_kind();
    match state.store().ready().and_then(|()| state.store().len()) {
        Ok(validations) => ok_json(json!({
            "status": "ok",
            "validations": validations,
            "journal_entries": state.journal.len(),
            "clock": state.clock.mode().as_str(),
            "store": store,
        })),
        // Truora's envelope and `Retry-After`, as every request that needs the store gets.
        Err(e) => ApiError::from(e).into(),
    }
}

fn ok_json(v: Value) -> Reply {
    Reply::Response(json_response(StatusCode::OK, v.to_string()))
}

fn unknown(id: ValidationId) -> ApiError {
    ApiError::not_found(format!("validation {id} not found"))
}

/// The largest single advance: one call can move the clock by decades, and larger values
/// are more likely a unit mistake (milliseconds sent as seconds) than a wish.
const MAX_ADVANCE_SECS: f64 = 1e9;

fn parse_id(id: &str) -> Result<ValidationId, ApiError> {
    ValidationId::from_path(id).map_err(|_| {
        ApiError::not_found(format!(
            "validation {} not found; ids are VLD followed by 32 hex digits",
            truncate(id, 64)
        ))
    })
}

fn store_error(e: StoreError, id: ValidationId) -> ApiError {
    match e {
        StoreError::NotFound => unknown(id),
        StoreError::AlreadyFinished => ApiError::conflict(format!(
            "validation {id} already finished; terminal states are final"
        )),
        StoreError::Unavailable(u) => u.into(),
    }
}

/// Parameters from the query string and a JSON or form body, body winning.
async fn params(
    state: &AppState,
    req: Request<Incoming>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let body = read_body(state, req).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(out);
    }
    if is_json {
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the JSON body is invalid: {e}")))?;
        let Value::Object(map) = v else {
            return Err(ApiError::bad_request("the JSON body must be an object"));
        };
        for (k, v) in map {
            let s = match v {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            out.push((k, s));
        }
    } else {
        out.extend(form_urlencoded::parse(&body).into_owned());
    }
    Ok(out)
}

fn get<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn scenario_param(
    state: &AppState,
    params: &[(String, String)],
) -> Result<truidentidad_scenarios::catalogue::ScenarioId, ApiError> {
    let name = get(params, "scenario")
        .ok_or_else(|| ApiError::bad_request("missing field scenario: give a scenario name"))?;
    state.catalogue.id_of(name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown scenario `{}`; known scenarios: {}",
            truncate(name, 64),
            state.catalogue.names()
        ))
    })
}

/// The outcome to force, from `status`, `failure_status` and the reason fields.
fn outcome_from(params: &[(String, String)]) -> Result<Outcome, ApiError> {
    use truidentidad_scenarios::reasons::{
        DECLINED_REASONS, DEFAULT_EXPIRED_REASON, EXPIRED_REASONS,
    };
    let status = get(params, "status")
        .ok_or_else(|| ApiError::bad_request("missing field status: \"success\" or \"failure\""))?;
    let reason = |field: &str, known: &[&'static str]| -> Result<Option<&'static str>, ApiError> {
        match get(params, field) {
            None => Ok(None),
            Some(r) => known
                .iter()
                .find(|k| **k == r)
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "unknown {field} `{}`; expected one of: {}",
                        truncate(r, 64),
                        known.join(", ")
                    ))
                }),
        }
    };
    match (status, get(params, "failure_status")) {
        ("success", None) => Ok(Outcome::Success),
        ("success", Some(_)) => Err(ApiError::bad_request(
            "failure_status is only allowed with status failure",
        )),
        ("failure", Some("declined")) => {
            let reason = reason("declined_reason", DECLINED_REASONS)?.ok_or_else(|| {
                ApiError::bad_request("failure_status declined needs a declined_reason")
            })?;
            Ok(Outcome::Declined { reason })
        }
        ("failure", Some("expired")) => Ok(Outcome::Expired {
            reason: reason("expired_reason", EXPIRED_REASONS)?.unwrap_or(DEFAULT_EXPIRED_REASON),
        }),
        ("failure", Some("system_error")) => Ok(Outcome::SystemError),
        ("failure", Some(other)) => Err(ApiError::bad_request(format!(
            "unknown failure_status `{}`; expected declined, expired or system_error",
            truncate(other, 32)
        ))),
        ("failure", None) => Err(ApiError::bad_request(
            "status failure needs failure_status: declined, expired or system_error",
        )),
        (other, _) => Err(ApiError::bad_request(format!(
            "status must be success or failure, got `{}`",
            truncate(other, 32)
        ))),
    }
}

fn clock_json(state: &AppState) -> Value {
    let now = state.clock.now();
    json!({
        "mode": state.clock.mode().as_str(),
        "now_seconds": now.as_secs_f64(),
        "now": rfc3339_nanos(state.clock.wall(now)),
    })
}

fn secs(d: Option<Duration>) -> Value {
    d.map_or(Value::Null, |d| json!(d.as_secs_f64()))
}

/// A scenario as the catalogue endpoint shows it.
pub fn scenario_json(s: &Scenario) -> Value {
    let phases: Vec<Value> = s
        .phases
        .iter()
        .map(|p| json!({ "name": p.name, "until_seconds": secs(p.until), "until_polls": p.until_polls }))
        .collect();
    let faults: Vec<Value> = s
        .faults
        .iter()
        .map(|f| {
            let action = match (&f.delay, &f.action) {
                (Some(d), FaultAction::DelayOnly) => d.to_string(),
                (Some(d), a) => format!("{d}, then {a}"),
                (None, a) => a.to_string(),
            };
            json!({
                "request": f.request.as_str(),
                "phase": f.phase.map(|i| s.phases.get(i).map_or("outcome", |p| p.name.as_str())),
                "nth": f.nth,
                "chance": f.chance,
                "action": action,
            })
        })
        .collect();
    json!({
        "name": s.name,
        "description": s.description,
        "outcome": s.outcome_label(),
        "expires": s.expires,
        "expired_reason": s.expired_reason,
        "phases": phases,
        "faults": faults,
    })
}

/// One validation as lists show it (also the dashboard's rows).
pub fn summary_json(state: &AppState, view: &View) -> Value {
    let r = &view.record;
    let o = &view.observation;
    let scenario = state.catalogue.get(r.scenario);
    json!({
        "validation_id": r.id,
        "account_id": &*r.account_id,
        "scenario": scenario.name,
        "validation_status": o.status.as_str(),
        "failure_status": o.outcome.and_then(|o| o.failure_status()),
        "declined_reason": o.outcome.and_then(|o| o.declined_reason()),
        "expired_reason": o.outcome.and_then(|o| o.expired_reason()),
        "phase": render::phase_name(scenario, o),
        "creation_date": rfc3339_nanos(state.clock.wall(r.created)),
        "age_seconds": view.now.saturating_sub(r.created).as_secs_f64(),
        "timeout_seconds": r.timeout.as_secs(),
        "polls": r.polls_total,
        "forced": r.forced().map(|(o, _)| o.label()),
        "journey": r.journey.as_deref().map(|j| crate::web::journey::to_json(j, state.clock.as_ref(), r.created)),
    })
}

/// One validation with its timeline and journal requests (also the dashboard's detail).
pub fn detail_json(state: &AppState, view: &View) -> Value {
    let mut v = summary_json(state, view);
    let scenario = state.catalogue.get(view.record.scenario);
    let current = view.observation.phase;
    let terminal = view.observation.status.is_terminal();
    let mut timeline: Vec<Value> = scenario
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let state = if terminal || i < current { "done" } else if i == current { "current" } else { "upcoming" };
            json!({ "phase": p.name, "until_seconds": secs(p.until), "until_polls": p.until_polls, "state": state })
        })
        .collect();
    timeline.push(json!({ "outcome": scenario.outcome_label(), "state": if terminal { "current" } else { "upcoming" } }));
    v["timeline"] = Value::Array(timeline);
    let requests = state.journal.for_validation(view.record.id, 1000);
    // When it became terminal, on the journal's clock (as `received`): what a load run
    // against this server measures detection lag from. Throttled polls did not count.
    let poll_arrivals: Vec<Duration> = requests
        .iter()
        .filter(|e| e.reached_store_as_poll())
        .map(|e| e.received)
        .collect();
    v["terminal_at_seconds"] = secs(view.record.terminal_since(
        &state.catalogue,
        &poll_arrivals,
        view.now,
    ));
    // `received` counts from the server's start; the dashboard's column and a reader want
    // seconds after this validation's create (the create itself reads 0).
    let created = view.record.created;
    v["requests"] = requests
        .iter()
        .map(|e| {
            let mut j = e.to_json();
            j["after_create_seconds"] = json!(e.received.saturating_sub(created).as_secs_f64());
            j
        })
        .collect();
    v
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn limit_param(q: &[(String, String)]) -> Result<usize, ApiError> {
    match get(q, "limit") {
        None => Ok(DEFAULT_LIST_LIMIT),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIST_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be a whole number from 1 to {MAX_LIST_LIMIT}, got `{}`",
                    crate::text::shown(l, 32)
                ))
            }),
    }
}

/// A `status` filter of the list endpoints (control API and dashboard).
pub fn status_filter(value: &str) -> Result<ValidationStatus, ApiError> {
    match value {
        "pending" => Ok(ValidationStatus::Pending),
        "success" => Ok(ValidationStatus::Success),
        "failure" => Ok(ValidationStatus::Failure),
        other => Err(ApiError::bad_request(format!(
            "status filter must be pending, success or failure, got `{}`",
            crate::text::shown(other, 32)
        ))),
    }
}

fn list_validations(state: &AppState, query: Option<&str>) -> Result<Reply, ApiError> {
    let q = query_pairs(query);
    let limit = limit_param(&q)?;
    let status = get(&q, "status").map(status_filter).transpose()?;
    let account = get(&q, "account_id");
    let scenario = get(&q, "scenario");
    let views = state.store().list(state.clock.now(), limit, &|r, o| {
        status.is_none_or(|s| o.status == s)
            && account.is_none_or(|a| &*r.account_id == a)
            && scenario.is_none_or(|s| state.catalogue.get(r.scenario).name == s)
    })?;
    let list: Vec<Value> = views.iter().map(|v| summary_json(state, v)).collect();
    Ok(ok_json(json!({ "count": list.len(), "validations": list })))
}

/// A `kind` filter of the journal: one kind or several, comma-separated (`kind=create,poll`
/// shows what an integrator's backend sent, without the Web SDK's own polling). Each kind as
/// named, untrimmed: a value outside the enum is a 400, never a filter that drops out.
fn kind_filter(value: &str) -> Result<Vec<Kind>, ApiError> {
    value
        .split(',')
        .map(|k| {
            Kind::parse(k).ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                ApiError::bad_request(format!(
                    "kind filter must be one or more of {}, comma-separated; got `{}`",
                    known.join(", "),
                    crate::text::shown(k, 32)
                ))
            })
        })
        .collect()
}

fn journal(state: &AppState, query: Option<&str>) -> Result<Reply, ApiError> {
    let q = query_pairs(query);
    let limit = limit_param(&q)?;
    let id = get(&q, "validation_id").map(parse_id).transpose()?;
    let kinds = get(&q, "kind").map(kind_filter).transpose()?;
    let from = get(&q, "from_seq")
        .map(|s| {
            s.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "from_seq must be a whole number (a `next_seq` from an earlier answer), got `{}`",
                    truncate(s, 32)
                ))
            })
        })
        .transpose()?;
    let wanted = |e: &JournalEntry| {
        id.is_none_or(|id| e.validation_id == Some(id))
            && kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
    };
    // Read the counter before the entries: an entry recorded in between is then paged again
    // from `next_seq` rather than skipped.
    let next_seq = state.journal.total_recorded();
    let entries = match from {
        // Oldest first from `from_seq`, so a reader can page forward through everything.
        Some(from) => state.journal.from_seq(from, limit, wanted),
        None => state.journal.query(limit, wanted),
    };
    let next = match (from, entries.last()) {
        (Some(_), Some(last)) if entries.len() == limit => last.seq + 1,
        _ => next_seq,
    };
    Ok(ok_json(json!({
        "capacity": state.journal.capacity(),
        "dropped": state.journal.dropped(),
        "next_seq": next,
        "entries": entries.iter().map(JournalEntry::to_json).collect::<Vec<_>>(),
    })))
}
