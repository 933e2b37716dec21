//! The Web Adapter: the browser-facing endpoints the stand-in SDK calls, under
//! `/web-adapter/v1/validations/{validation_id}`.
//!
//! Authorised by the validation id alone, because the real SDK carries no API key (the id is
//! the capability), and open to any origin (CORS `*`, no credentials) because the SDK runs on
//! the integrator's page. Reads never count as backend polls. Every error is Truora's envelope
//! with a message the SDK shows to the user.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};
use truidentidad_scenarios::Outcome;

use super::journey::{self, Action, CancelReason, Device, JourneyError};
use super::qr;
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::form::truncate;
use crate::ids::ValidationId;
use crate::reply::{Reply, json_response};
use crate::request_body::read_body;
use crate::router::{self, AdapterEndpoint as A, AdapterRoute, Route};
use crate::state::AppState;
use crate::store::View;

/// Largest liveness video accepted. Real clips of a few seconds are well under this; the
/// limit exists so a runaway recorder cannot fill the mock's memory.
pub const MAX_VIDEO_BYTES: usize = 8 * 1024 * 1024;

/// Answers a Web Adapter request.
pub async fn route(state: &AppState, req: Request<Incoming>, ex: &mut Exchange) -> Reply {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    // The request moved into this handler's boxed future, and a route borrows the path it was
    // read from: route this copy of the path again rather than carry a borrow through the
    // service (routing is a few comparisons; this is not a hot path).
    let route = match router::route(&method, &path) {
        Route::Adapter(route) => route,
        _ => AdapterRoute::NoId,
    };
    let (raw_id, endpoint) = match route {
        AdapterRoute::Preflight => return with_cors(Reply::Response(preflight())),
        AdapterRoute::NoId => {
            return with_cors(
                ApiError::not_found(
                    "give a validation_id: /web-adapter/v1/validations/{validation_id}",
                )
                .into(),
            );
        }
        AdapterRoute::At { id, endpoint } => (id, endpoint),
    };
    let result = async {
        let id = parse_id(raw_id)?;
        ex.validation_id = Some(id);
        match endpoint {
            A::State => {
                let view = state
                    .store()
                    .get(id, state.clock.now())?
                    .ok_or_else(|| unknown(id))?;
                Ok(state_json(&view))
            }
            A::Open => {
                let body = json_body(state, req).await?;
                let device = device_of(&body)?;
                let document = optional_str(&body, "document_number")?.map(String::from);
                update(state, id, |r, now| {
                    journey::open(r, &state.catalogue, now, device, document.clone())
                })
            }
            A::Liveness => {
                let device = device_param(req.uri().query())?;
                check_video_type(req.headers())?;
                let video = read_video(state, req).await?;
                let bytes = video.len() as u64;
                update(state, id, |r, now| {
                    journey::apply(r, &state.catalogue, now, device, Action::Liveness(bytes))
                })
            }
            A::Step(step) => {
                let body = json_body(state, req).await?;
                let device = device_of(&body)?;
                let action = action_of(step, &body)?;
                update(state, id, |r, now| {
                    journey::apply(r, &state.catalogue, now, device, action.clone())
                })
            }
            A::Handoff => {
                state
                    .store()
                    .get(id, state.clock.now())?
                    .ok_or_else(|| unknown(id))?;
                let lang = lang_param(req.uri().query())?;
                let url = handoff_url(req.headers(), id, lang);
                // The link is built from the Host header; one too long for a QR code is the
                // client's input, so it is a 400, not a server error.
                let svg = qr::svg(&url).map_err(|e| {
                    ApiError::bad_request(format!(
                        "cannot draw the handoff QR code for this Host header: {e}"
                    ))
                })?;
                let mut r = json_response(StatusCode::OK, svg);
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("image/svg+xml"),
                );
                Ok(Reply::Response(r))
            }
            A::WrongMethod(allow) => Err(ApiError::method_not_allowed(&method, &path, allow)),
            A::Unknown => Err(ApiError::not_found(format!(
                "no Web Adapter endpoint {method} {}",
                truncate(&path, 128)
            ))),
        }
    }
    .await;
    with_cors(result.unwrap_or_else(Reply::from))
}

fn preflight() -> http::Response<crate::response_body::ResponseBody> {
    let mut r = json_response(StatusCode::NO_CONTENT, Bytes::new());
    let h = r.headers_mut();
    h.remove(header::CONTENT_TYPE);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

/// Adds the CORS header the integrator's page needs to read the answer.
pub fn with_cors(reply: Reply) -> Reply {
    match reply {
        Reply::Response(mut r) => {
            r.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            Reply::Response(r)
        }
        other => other,
    }
}

fn unknown(id: ValidationId) -> ApiError {
    ApiError::not_found(format!(
        "validation {id} not found in this mock; create it with POST /v1/validations and pass its validation_id to the SDK"
    ))
}

fn parse_id(raw: &str) -> Result<ValidationId, ApiError> {
    ValidationId::from_path(raw).map_err(|_| {
        ApiError::not_found(format!(
            "validation {} not found; a validation_id is VLD followed by 32 hex digits",
            truncate(raw, 64)
        ))
    })
}

/// Runs a journey change under the store lock and answers with the new state.
fn update(
    state: &AppState,
    id: ValidationId,
    f: impl Fn(&mut crate::store::Record, Duration) -> Result<(), JourneyError>,
) -> Result<Reply, ApiError> {
    let view = state
        .store()
        .update(
            id,
            || state.clock.now(),
            |r, now| {
                f(r, now).map(|()| View {
                    observation: r.observe(&state.catalogue, now),
                    record: r.clone(),
                    now,
                })
            },
        )?
        .ok_or_else(|| unknown(id))?
        .map_err(journey_error)?;
    Ok(state_json(&view))
}

fn journey_error(e: JourneyError) -> ApiError {
    let status = match e {
        JourneyError::Finished(_) | JourneyError::NotOpened | JourneyError::OutOfOrder { .. } => {
            StatusCode::CONFLICT
        }
        JourneyError::BadDocument(_) | JourneyError::EmptyVideo => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, e.to_string())
}

/// What the SDK needs to draw the next screen and to fire its callbacks.
fn state_json(view: &View) -> Reply {
    let o = &view.observation;
    let result = match o.outcome {
        None => "pending",
        Some(Outcome::Success) => "succeeded",
        Some(Outcome::Expired { .. }) => "expired",
        Some(_) => "failed",
    };
    let j = view.record.journey.as_deref();
    let body = json!({
        "validation_id": view.record.id,
        "validation_status": o.status.as_str(),
        "failure_status": o.outcome.and_then(|o| o.failure_status()),
        "declined_reason": o.outcome.and_then(|o| o.declined_reason()),
        "expired_reason": o.outcome.and_then(|o| o.expired_reason()),
        "result": result,
        "journey": j.map(|j| json!({
            "step": j.step.as_str(),
            "device": j.device.as_str(),
            "document_known": j.document_number.is_some(),
        })),
        "expires_in_seconds": view.record.timeout.saturating_sub(view.now.saturating_sub(view.record.created)).as_secs_f64(),
        "max_video_bytes": MAX_VIDEO_BYTES,
    });
    Reply::Response(json_response(StatusCode::OK, body.to_string()))
}

async fn json_body(state: &AppState, req: Request<Incoming>) -> Result<Value, ApiError> {
    let body = read_body(state, req).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// An optional string field: absent is `None`, and any other JSON type is a 400 rather than
/// silently ignored (a client sending a number or an object has a bug worth hearing about).
fn optional_str<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "field {key} must be a string, got {}",
            truncate(&other.to_string(), 32)
        ))),
    }
}

fn device_from(s: Option<&str>) -> Result<Device, ApiError> {
    match s {
        None => Ok(Device::Desktop),
        Some(d) => Device::parse(d).ok_or_else(|| {
            ApiError::bad_request(format!(
                "device must be desktop or phone, got `{}`",
                truncate(d, 32)
            ))
        }),
    }
}

fn device_of(body: &Value) -> Result<Device, ApiError> {
    device_from(optional_str(body, "device")?)
}

fn device_param(query: Option<&str>) -> Result<Device, ApiError> {
    let d = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "device")
            .map(|(_, v)| v.into_owned())
    });
    device_from(d.as_deref())
}

fn bool_field(body: &Value, key: &str) -> Result<bool, ApiError> {
    body.get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::bad_request(format!("missing field {key}: true or false")))
}

fn action_of(step: &str, body: &Value) -> Result<Action, ApiError> {
    Ok(match step {
        "intro" => Action::Intro,
        "document" => Action::Document(
            str_field(body, "document_number")
                .ok_or_else(|| ApiError::bad_request("missing field document_number"))?
                .to_string(),
        ),
        "consent" => Action::Consent(bool_field(body, "accepted")?),
        "geolocation" => {
            if bool_field(body, "granted")? {
                let coord = |k: &str, max: f64| {
                    body.get(k)
                        .and_then(Value::as_f64)
                        .filter(|v| v.abs() <= max)
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "{k} must be a number within ±{max} when granted is true"
                            ))
                        })
                };
                Action::Geolocation(Some((coord("latitude", 90.0)?, coord("longitude", 180.0)?)))
            } else {
                Action::Geolocation(None)
            }
        }
        "cancel" => {
            let reason = str_field(body, "reason").unwrap_or("canceled");
            Action::Cancel(CancelReason::parse(reason).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "reason must be canceled or unwanted_camera_permissions, got `{}`",
                    truncate(reason, 48)
                ))
            })?)
        }
        other => {
            return Err(ApiError::not_found(format!(
                "unknown step `{}`; steps are intro, document, consent, geolocation, liveness and cancel",
                truncate(other, 32)
            )));
        }
    })
}

fn check_video_type(headers: &http::HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("video/") || ct.starts_with("application/octet-stream") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "the liveness upload must be a video (Content-Type video/webm or video/mp4), got `{}`",
                truncate(ct, 64)
            ),
        ))
    }
}

/// Reads the video within [`MAX_VIDEO_BYTES`] (not the API's smaller body limit).
async fn read_video(state: &AppState, req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the video is too large; the limit is {} MiB: record a shorter clip",
                MAX_VIDEO_BYTES / (1024 * 1024)
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_VIDEO_BYTES as u64) {
        return Err(too_large());
    }
    let limited = Limited::new(req.into_body(), MAX_VIDEO_BYTES);
    match tokio::time::timeout(state.config.body_read_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the video upload did not finish in time; try again",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::bad_request(format!(
            "could not read the video: {e}"
        ))),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// `?lang=` of the handoff QR code: the phone continues in the language the desktop used.
fn lang_param(query: Option<&str>) -> Result<&'static str, ApiError> {
    let lang = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.into_owned())
    });
    match lang.as_deref() {
        None | Some("es") => Ok("es"),
        Some("en") => Ok("en"),
        Some(other) => Err(ApiError::bad_request(format!(
            "lang must be es or en, got `{}`",
            truncate(other, 16)
        ))),
    }
}

/// The phone handoff link, keeping the journey's language. Built from the Host the browser
/// used, so it works wherever the mock is reachable (bind to a LAN address with `--bind` for
/// a real phone).
pub fn handoff_url(headers: &http::HeaderMap, id: ValidationId, lang: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}/journey/{id}?lang={lang}")
}
