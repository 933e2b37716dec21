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

/// Which tenant a request's key belongs to, for `--key-isolation`: a fingerprint of the key,
/// or `None` when isolation is off (then every key sees every validation).
pub type Owner = Option<u64>;

/// Checks `Truora-API-Key` against the configured keys and, with `--key-expiry`, the `exp` of
/// a JWT-shaped key against the mock's clock. Returns the key's [`Owner`].
pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    ex: &mut Exchange,
) -> Result<Owner, ApiError> {
    let Some(value) = headers.get(&API_KEY_NAME).filter(|v| !v.is_empty()) else {
        ex.api_key = KeyState::Missing;
        return Err(ApiError::unauthorized(
            "missing Truora-API-Key header: send your API key in the Truora-API-Key header on every request",
        ));
    };
    let key = match value.to_str() {
        Ok(key)
            if state.config.api_keys.is_empty()
                || state.config.api_keys.iter().any(|k| k == key) =>
        {
            key
        }
        _ => {
            ex.api_key = KeyState::Rejected;
            return Err(ApiError::unauthorized(
                "the Truora-API-Key is not accepted by this server; use one of the keys it was started with (--api-key)",
            ));
        }
    };
    if state.config.key_expiry {
        check_expiry(state, key).inspect_err(|_| ex.api_key = KeyState::Rejected)?;
    }
    ex.api_key = KeyState::Accepted;
    Ok(state.config.key_isolation.then(|| fingerprint(key)))
}

/// Whether a request of `owner` may see a validation created by `created_by`.
pub fn may_see(owner: Owner, created_by: Owner) -> bool {
    owner.is_none() || owner == created_by
}

/// 401 for a JWT-shaped key whose claims cannot be read; 403 once its `exp` has passed on
/// the mock's clock (Truora's SDK handles a 403 for an expired key). RFC 7519: a token is
/// not accepted on or after its `exp`.
fn check_expiry(state: &AppState, key: &str) -> Result<(), ApiError> {
    let exp = crate::jwt::expiry(key).map_err(|e| {
        ApiError::unauthorized(format!(
            "the Truora-API-Key looks like a JWT (three parts joined by dots) but {e}"
        ))
    })?;
    let Some(exp) = exp else { return Ok(()) };
    let now = state.clock.wall(state.clock.now());
    let now_secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    if now_secs < exp {
        return Ok(());
    }
    let at = std::time::Duration::try_from_secs_f64(exp)
        .ok()
        .and_then(|d| std::time::UNIX_EPOCH.checked_add(d))
        .filter(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() <= crate::dates::MAX_RFC3339_SECS)
        })
        .map_or_else(
            || exp.to_string(),
            |t| humantime::format_rfc3339(t).to_string(),
        );
    Err(ApiError::new(
        http::StatusCode::FORBIDDEN,
        format!(
            "the Truora-API-Key expired at {at} (its exp claim; the mock's clock reads {}); create a new key",
            humantime::format_rfc3339_seconds(now)
        ),
    ))
}

/// FNV-1a of the key: stable across runs (a state file keeps owners) and never the key
/// itself, so neither memory dumps nor state files hold it.
fn fingerprint(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
