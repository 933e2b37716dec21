//! The fleet-wide conditions ([`crate::conditions`]) on the request path: after the key is
//! accepted and before the store is touched, so a throttled or browned-out request neither
//! creates a validation nor counts as a poll (a scenario's poll-driven phases stay as they
//! were), as a gateway in front of the real service would behave.

use std::time::Duration;

use http::{HeaderMap, StatusCode, header};
use truidentidad_scenarios::model::RetryAfter;

use crate::auth::API_KEY_HEADER;
use crate::conditions::Gate;
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::journal::FaultEffect;
use crate::state::AppState;

/// `Err` with the 429 or 503 to answer, `Ok(Some(d))` to answer `d` later, `Ok(None)` to go
/// on. What it applied is recorded on the exchange as a fault, so the journal and the
/// conformance suite see a throttled request as what it was.
pub fn check(
    state: &AppState,
    headers: &HeaderMap,
    ex: &mut Exchange,
) -> Result<Option<Duration>, ApiError> {
    if !state.conditions.is_active() {
        return Ok(None);
    }
    let key = headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match state.conditions.gate(key, state.clock.now()) {
        Gate::Pass => Ok(None),
        Gate::Delay(d) => {
            ex.fault.delay = Some(d);
            Ok(Some(d))
        }
        Gate::Throttled { retry_after_secs } => {
            ex.fault.effect = Some(FaultEffect::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(retry_after_secs)),
            });
            let limit = state
                .conditions
                .rate_limit()
                .map(|l| l.to_string())
                .unwrap_or_default();
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "rate limit of {limit} exceeded; wait {retry_after_secs} s (Retry-After) before the next request (mock --rate-limit)"
                ),
            )
            .with_header(header::RETRY_AFTER, retry_after_secs.to_string()))
        }
        Gate::Unavailable => {
            ex.fault.effect = Some(FaultEffect::Status {
                status: 503,
                retry_after: None,
            });
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the validation service is temporarily unavailable (mock --brownout)",
            ))
        }
    }
}
