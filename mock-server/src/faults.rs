//! Applying a scenario's fault to a response: a delay, an HTTP error, a slow, malformed or
//! empty body, or a connection dropped, reset or stalled. What was applied is recorded on the
//! exchange as an [`AppliedFault`], before any wait, so a client that gives up mid-fault still
//! leaves a journal entry saying why.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{StatusCode, header};
use truidentidad_scenarios::model::RetryAfter;
use truidentidad_scenarios::{ConnectionFault, Fault, FaultAction};

use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::journal::FaultEffect;
use crate::reply::{Reply, json_response};
use crate::response_body::ResponseBody;

/// Applies `fault` to a response whose normal body is `ok_body`.
pub async fn apply(
    fault: &Fault,
    entropy: u64,
    scenario: &str,
    ok_body: Vec<u8>,
    ex: &mut Exchange,
) -> Reply {
    if let Some(delay) = &fault.delay {
        let d = delay.sample(entropy);
        // Recorded at millisecond precision, as the journal shows it.
        ex.fault.delay = Some(Duration::from_millis(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
        ));
        tokio::time::sleep(d).await;
    }
    let (effect, reply) = match &fault.action {
        FaultAction::DelayOnly => (None, Reply::json(ok_body)),
        FaultAction::HttpError {
            status,
            message,
            retry_after,
        } => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let text = message
                .clone()
                .unwrap_or_else(|| default_fault_message(code));
            let mut err = ApiError::new(
                code,
                format!("{text} (mock fault from scenario `{scenario}`)"),
            );
            if let Some(ra) = retry_after {
                err = err.with_header(header::RETRY_AFTER, retry_after_value(*ra));
            }
            let effect = FaultEffect::Status {
                status: *status,
                retry_after: *retry_after,
            };
            (Some(effect), err.into())
        }
        FaultAction::SlowBody { chunk_bytes, every } => {
            let mut r = json_response(StatusCode::OK, Bytes::new());
            *r.body_mut() = ResponseBody::dribble(ok_body, *chunk_bytes, *every);
            (Some(FaultEffect::SlowBody), Reply::Response(r))
        }
        FaultAction::MalformedBody => {
            let half = ok_body.len() / 2;
            (
                Some(FaultEffect::MalformedBody),
                Reply::json(ok_body[..half].to_vec()),
            )
        }
        FaultAction::EmptyBody => (Some(FaultEffect::EmptyBody), Reply::json(Bytes::new())),
        FaultAction::Connection(c) => {
            let effect = match c {
                ConnectionFault::Reset => FaultEffect::Reset,
                ConnectionFault::Close => FaultEffect::Close,
                ConnectionFault::Stall(d) => {
                    ex.fault.effect = Some(FaultEffect::Stall(*d));
                    ex.observed = None;
                    tokio::time::sleep(*d).await;
                    FaultEffect::Stall(*d)
                }
            };
            (Some(effect), Reply::Abort(*c))
        }
    };
    ex.fault.effect = effect;
    if effect.is_some_and(|e| !e.delivers_body()) {
        ex.observed = None;
    }
    reply
}

fn default_fault_message(code: StatusCode) -> String {
    match code.as_u16() {
        429 => "too many requests; wait for Retry-After before trying again".into(),
        500 => "internal error in the validation service".into(),
        502 => "bad gateway: the validation service could not reach the Registraduría".into(),
        503 => "the validation service is temporarily unavailable".into(),
        _ => code.canonical_reason().unwrap_or("error").to_lowercase(),
    }
}

fn retry_after_value(ra: RetryAfter) -> String {
    match ra {
        RetryAfter::Seconds(s) => s.to_string(),
        // Clients compare an HTTP-date with their own wall clock, so this uses real time even
        // when the server runs on a manual clock. Rounded up so the wait is never shorter.
        RetryAfter::HttpDate(s) => {
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(s + 1))
        }
    }
}
