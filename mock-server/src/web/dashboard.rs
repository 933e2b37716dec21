//! The dashboard's data: `/dashboard/api/validations[/{id}]`, the control API's list and detail
//! with partial (substring) search, paging, and answers a refresh can revalidate. Its requests
//! stay out of the journal so that a dashboard left open does not crowd out the requests it is
//! there to show.
//!
//! The page refetches every 2 s. Every answer carries a strong `ETag` of its body, so an
//! unchanged list or detail costs a `304` with no body; nothing in a body changes with the
//! mere passing of time (no ages), only with what happened to a validation. Bodies are
//! gzipped when the browser accepts it.

use http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::http_cache::{self, accepts_gzip, etag_of, none_match, set_validators};

use crate::auth::authorize_admin;
use crate::control::{detail_json, summary_json};
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::form::truncate;
use crate::ids::ValidationId;
use crate::reply::{Reply, json_response};
use crate::router::DashboardRoute;
use crate::state::AppState;
use crate::store::View;

const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 10_000;

/// Answers a dashboard data request.
pub fn route(
    state: &AppState,
    req: &Request<Incoming>,
    route: DashboardRoute<'_>,
    ex: &mut Exchange,
) -> Reply {
    ex.skip_journal = true;
    // Same data as the control API, so the same admin token guards it (`--admin-token`).
    if let Err(e) = authorize_admin(state, req.headers(), req.uri().query()) {
        return e.into();
    }
    let result = match route {
        DashboardRoute::List => list(state, req.uri().query()),
        DashboardRoute::Traffic => traffic(state, req.uri().query()),
        DashboardRoute::Detail(id) => detail(state, id),
        DashboardRoute::WrongMethod => Err(ApiError::method_not_allowed(
            req.method(),
            req.uri().path().trim_end_matches('/'),
            "GET",
        )),
    };
    match result {
        Ok(v) => Reply::Response(revalidated_json(req.headers(), v.to_string())),
        Err(e) => e.into(),
    }
}

/// A `200` with `body` (gzipped when accepted), or a `304` when the browser already has it.
fn revalidated_json(
    req: &HeaderMap,
    body: String,
) -> http::Response<crate::response_body::ResponseBody> {
    let gzip = if accepts_gzip(req) {
        http_cache::gzip(body.as_bytes())
    } else {
        None
    };
    let etag = etag_of(body.as_bytes(), if gzip.is_some() { "-gz" } else { "" });
    if none_match(req, &etag) {
        return http_cache::not_modified(&etag, "no-cache");
    }
    let mut r = match gzip {
        Some(gz) => {
            let mut r = json_response(StatusCode::OK, gz);
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        None => json_response(StatusCode::OK, body),
    };
    set_validators(r.headers_mut(), &etag, "no-cache");
    r
}

/// What the dashboard shows of the journey in one phrase. A journey whose validation has
/// finished says so, rather than the screen it was last on (`processing` is only true while
/// the outcome is pending).
fn journey_label(view: &View) -> Option<String> {
    let j = view.record.journey.as_deref()?;
    let step = j.step.as_str();
    let device = j.device.as_str();
    Some(if !view.observation.status.is_terminal() {
        format!("{step} ({device})")
    } else if matches!(step, "processing" | "ended") {
        format!("finished ({device})")
    } else {
        format!("stopped at {step} ({device})")
    })
}

/// A row of the list: the control API's summary without what changes on its own (the age)
/// and with the journey as one label rather than its event list.
fn row_json(state: &AppState, view: &View) -> Value {
    let mut v = summary_json(state, view);
    if let Some(o) = v.as_object_mut() {
        o.remove("age_seconds");
        o.remove("journey");
        o.insert("journey_label".into(), json!(journey_label(view)));
    }
    v
}

fn parse_id(raw: &str) -> Result<ValidationId, ApiError> {
    ValidationId::from_path(raw.trim()).map_err(|_| {
        ApiError::bad_request(format!(
            "`{}` is not a validation_id (VLD followed by 32 hex digits)",
            truncate(raw, 64)
        ))
    })
}

fn detail(state: &AppState, raw: &str) -> Result<Value, ApiError> {
    let id = parse_id(raw)?;
    let view = state
        .store()
        .get(id, state.clock.now())?
        .ok_or_else(|| ApiError::not_found(format!("validation {id} not found in this mock")))?;
    let mut v = detail_json(state, &view);
    if let Some(o) = v.as_object_mut() {
        o.remove("age_seconds");
        o.insert("journey_label".into(), json!(journey_label(&view)));
    }
    Ok(v)
}

/// Seconds the chart shows unless asked otherwise.
const DEFAULT_TRAFFIC_SECONDS: usize = 120;

/// API requests per second over the last `seconds` (default 120), oldest first, for the live
/// chart; with the busiest second and the mean since the first second with traffic (a wave
/// of pollers in step shows as a peak far above the mean). With no traffic in the window the
/// answer is the same every time, so an idle dashboard's check of it is a `304`.
fn traffic(state: &AppState, query: Option<&str>) -> Result<Value, ApiError> {
    let q: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let asked = q
        .iter()
        .rev()
        .find(|(k, _)| k == "seconds")
        .map(|(_, v)| v.as_str());
    let seconds = number(asked, "seconds", 1, crate::traffic::WINDOW_SECONDS - 1)?
        .unwrap_or(DEFAULT_TRAFFIC_SECONDS);
    let now = state.clock.now();
    let series = state.traffic.series(now, seconds);
    let busy: Vec<u32> = series
        .iter()
        .map(|s| s.requests)
        .skip_while(|&n| n == 0)
        .collect();
    let total: u64 = busy.iter().map(|&n| u64::from(n)).sum();
    let peak = busy.iter().copied().max().unwrap_or(0);
    let mean = if busy.is_empty() {
        0.0
    } else {
        total as f64 / busy.len() as f64
    };
    if total == 0 {
        return Ok(json!({ "seconds": [], "total": 0, "peak": 0, "mean": 0.0 }));
    }
    // Nothing finer than the whole seconds counted: checks within one second cost a `304`.
    Ok(json!({
        "seconds": series,
        "total": total,
        "peak": peak,
        "mean": (mean * 10.0).round() / 10.0,
    }))
}

fn list(state: &AppState, query: Option<&str>) -> Result<Value, ApiError> {
    let q: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    // Each filter once: the list could only guess which of two values was meant.
    for name in ["validation_id", "account_id", "status", "limit", "offset"] {
        if q.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(ApiError::bad_request(format!(
                "query parameter {name} is given more than once; send it once"
            )));
        }
    }
    // Values as sent, with no trimming: `status=%C2%85` is a status outside the enum (400),
    // not an absent filter once U+0085 is trimmed as whitespace. The page trims what is typed
    // and leaves out empty fields; an empty value still means no filter.
    let get = |k: &str| {
        q.iter()
            .find(|(key, v)| key == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let status = get("status")
        .map(crate::control::status_filter)
        .transpose()?;
    // Substring matches, case-insensitive: a partial id or account finds what it is part of.
    let id = get("validation_id").map(str::to_ascii_lowercase);
    let account = get("account_id").map(str::to_lowercase);
    // Numbers as sent, empty included: `offset=` is no whole number (a 400, as the OpenAPI
    // document's integer type says), and the page never sends an empty one.
    let sent = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let limit = number(sent("limit"), "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    // Bounded so the documented range is one every platform's `usize` holds.
    let offset = number(sent("offset"), "offset", 0, u32::MAX as usize)?.unwrap_or(0);
    let views = state.store().list(state.clock.now(), usize::MAX, &|r, o| {
        id.as_deref()
            .is_none_or(|id| r.id.to_string().to_ascii_lowercase().contains(id))
            && account
                .as_deref()
                .is_none_or(|a| r.account_id.to_lowercase().contains(a))
            && status.is_none_or(|s| o.status == s)
    })?;
    let matched = views.len();
    let list: Vec<Value> = views
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| row_json(state, v))
        .collect();
    Ok(json!({
        "count": list.len(),
        "matched": matched,
        "offset": offset,
        "limit": limit,
        "total": state.store().len()?,
        "clock": state.clock.mode().as_str(),
        "validations": list,
    }))
}

/// A whole-number query parameter within `min..=max`, if given.
fn number(
    raw: Option<&str>,
    name: &str,
    min: usize,
    max: usize,
) -> Result<Option<usize>, ApiError> {
    raw.map(|l| {
        l.parse::<usize>()
            .ok()
            .filter(|l| (min..=max).contains(l))
            .ok_or_else(|| {
                let range = if max == usize::MAX {
                    format!("{min} or more")
                } else {
                    format!("{min} to {max}")
                };
                ApiError::bad_request(format!(
                    "{name} must be a whole number, {range}, got `{}`",
                    crate::text::shown(l, 32)
                ))
            })
    })
    .transpose()
}
