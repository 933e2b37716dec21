//! The dashboard's data: `/dashboard/api/validations[/{id}]`, the control API's list and detail
//! plus a `validation_id` filter. Its requests stay out of the journal so that a dashboard left
//! open does not crowd out the requests it is there to show.

use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::auth::authorize_admin;
use crate::control::{detail_json, summary_json};
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::form::truncate;
use crate::ids::ValidationId;
use crate::reply::{Reply, json_response};
use crate::router::DashboardRoute;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 200;

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
        DashboardRoute::Detail(id) => detail(state, id),
        DashboardRoute::WrongMethod => Err(ApiError::method_not_allowed(
            req.method(),
            req.uri().path().trim_end_matches('/'),
            "GET",
        )),
    };
    match result {
        Ok(v) => Reply::Response(json_response(StatusCode::OK, v.to_string())),
        Err(e) => e.into(),
    }
}

fn parse_id(raw: &str) -> Result<ValidationId, ApiError> {
    raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`{}` is not a validation_id (VLD followed by 32 hex digits)",
            truncate(raw, 64)
        ))
    })
}

fn detail(state: &AppState, raw: &str) -> Result<Value, ApiError> {
    let id = parse_id(raw)?;
    let view = state
        .store
        .get(id, state.clock.now())
        .ok_or_else(|| ApiError::not_found(format!("validation {id} not found in this mock")))?;
    Ok(detail_json(state, &view))
}

fn list(state: &AppState, query: Option<&str>) -> Result<Value, ApiError> {
    let q: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let get = |k: &str| {
        q.iter()
            .rev()
            .find(|(key, v)| key == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    };
    let status = get("status")
        .map(crate::control::status_filter)
        .transpose()?;
    let id = get("validation_id").map(parse_id).transpose()?;
    let account = get("account_id");
    let limit = match get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=10_000).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be 1 to 10000, got `{}`",
                    truncate(l, 32)
                ))
            })?,
    };
    let views = state.store.list(state.clock.now(), limit, &|r, o| {
        id.is_none_or(|id| r.id == id)
            && account.is_none_or(|a| &*r.account_id == a)
            && status.is_none_or(|s| o.status == s)
    });
    let list: Vec<Value> = views.iter().map(|v| summary_json(state, v)).collect();
    Ok(json!({
        "count": list.len(),
        "total": state.store.len(),
        "clock": state.clock.mode().as_str(),
        "validations": list,
    }))
}
