//! Who may do what: the `Truora-API-Key` on the API, the admin token on the control API and
//! the dashboard.

use http::{HeaderMap, header};

use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::journal::KeyState;
use crate::state::AppState;

/// The header carrying the API key, as Truora names it.
pub const API_KEY_HEADER: &str = "truora-api-key";

// The same name as a `HeaderName`: looking a header up by `&str` parses and validates the
// name on every request.
static API_KEY_NAME: header::HeaderName = header::HeaderName::from_static(API_KEY_HEADER);

/// The header carrying the admin token (alternatives: `Authorization: Bearer`, or the
/// `admin_token` query parameter for scripts and old links; the mock's own pages send this
/// header, so the token stays out of URLs, history and logs).
pub const ADMIN_TOKEN_HEADER: &str = "x-mock-admin-token";

/// Checks the admin token when one is configured (control API, dashboard, journal).
pub fn authorize_admin(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(), ApiError> {
    let Some(expected) = state.config.admin_token.as_deref() else {
        return Ok(());
    };
    let from_header = headers
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let from_query = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "admin_token")
            .map(|(_, v)| v.into_owned())
    });
    match from_header.or(from_bearer).or(from_query) {
        Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "the admin token is wrong; send the token the server was started with (--admin-token)",
        )),
        None => Err(ApiError::unauthorized(
            "this control endpoint needs the admin token: send X-Mock-Admin-Token: <token> or Authorization: Bearer <token> (the server was started with --admin-token)",
        )),
    }
}

/// Compares without an early exit, so response time does not leak how much of a guess matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `Truora-API-Key` against the configured keys.
pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    ex: &mut Exchange,
) -> Result<(), ApiError> {
    let Some(value) = headers.get(&API_KEY_NAME).filter(|v| !v.is_empty()) else {
        ex.api_key = KeyState::Missing;
        return Err(ApiError::unauthorized(
            "missing Truora-API-Key header: send your API key in the Truora-API-Key header on every request",
        ));
    };
    let ok = match value.to_str() {
        Ok(key) => {
            state.config.api_keys.is_empty() || state.config.api_keys.iter().any(|k| k == key)
        }
        Err(_) => false,
    };
    if ok {
        ex.api_key = KeyState::Accepted;
        Ok(())
    } else {
        ex.api_key = KeyState::Rejected;
        Err(ApiError::unauthorized(
            "the Truora-API-Key is not accepted by this server; use one of the keys it was started with (--api-key)",
        ))
    }
}
