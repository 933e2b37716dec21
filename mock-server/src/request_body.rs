//! Reading a request body within the size (`--max-body-bytes`) and time
//! (`--body-read-timeout`) limits, so a slow or oversized upload gets a precise error instead
//! of holding a connection or memory.

use std::pin::Pin;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::ApiError;
use crate::state::AppState;

/// Reads a request body within the size and time limits.
///
/// Not an `async fn`: the request is taken apart here, so the returned future holds only the
/// body stream, not the whole request (futures are moved on every request; size matters).
pub fn read_body<'a>(
    state: &'a AppState,
    req: Request<Incoming>,
) -> impl Future<Output = Result<Bytes, ApiError>> + 'a {
    let declared = declared_length(&req);
    read_incoming(state, req.into_body(), declared)
}

/// The body length the request's `Content-Length` declares, if it is a number.
pub fn declared_length(req: &Request<Incoming>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

pub async fn read_incoming(
    state: &AppState,
    mut body: Incoming,
    declared: Option<u64>,
) -> Result<Bytes, ApiError> {
    let max = state.config.max_body_bytes;
    let too_large = |n: String| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is {n} bytes; the limit is {max} bytes (--max-body-bytes)"),
        )
    };
    if let Some(n) = declared.filter(|n| *n > max as u64) {
        return Err(too_large(n.to_string()));
    }
    // Armed only once a frame has to be waited for: usually the whole body came with the
    // head, and a timer costs a clock read and a runtime handle to make and drop.
    let mut deadline = None;
    // A form body usually arrives in one frame: keep it as it came, copy only when it spans
    // several.
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut total = 0usize;
    loop {
        let ready = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(http_body::Body::poll_frame(Pin::new(&mut body), cx))
        })
        .await;
        let next = match ready {
            std::task::Poll::Ready(next) => next,
            std::task::Poll::Pending => {
                let at = *deadline.get_or_insert_with(|| {
                    tokio::time::Instant::now() + state.config.body_read_timeout
                });
                match tokio::time::timeout_at(at, body.frame()).await {
                    Ok(next) => next,
                    Err(_) => {
                        return Err(ApiError::new(
                            StatusCode::REQUEST_TIMEOUT,
                            format!(
                                "the request body did not arrive within {}",
                                humantime::format_duration(state.config.body_read_timeout)
                            ),
                        ));
                    }
                }
            }
        };
        let frame = match next {
            None => break,
            Some(Err(e)) => {
                return Err(ApiError::bad_request(format!(
                    "could not read the request body: {e}"
                )));
            }
            Some(Ok(frame)) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing the API reads
        };
        total = total.saturating_add(data.len());
        if total > max {
            return Err(too_large(format!("more than {max}")));
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            Some(earlier) => {
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&data);
            }
            None => joined.extend_from_slice(&data),
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}
