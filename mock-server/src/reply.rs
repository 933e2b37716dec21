//! How a handler answers: a response, or a deliberate connection fault. The one module every
//! surface (API, control, browser side) builds its answers with, so none of them needs the
//! service that dispatches to it.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use truidentidad_scenarios::ConnectionFault;

use crate::error::ApiError;
use crate::response_body::ResponseBody;

/// How a request ends.
pub enum Reply {
    Response(Response<ResponseBody>),
    /// No response: the connection is reset or closed, as a scenario's fault says.
    Abort(ConnectionFault),
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        Reply::Response(error_response(&e))
    }
}

impl Reply {
    /// A `200 OK` with a JSON body.
    pub fn json(body: impl Into<Bytes>) -> Self {
        Reply::Response(json_response(StatusCode::OK, body))
    }
}

pub fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Truora's error envelope, with the error's extra headers (`Allow`, `Retry-After`).
pub fn error_response(e: &ApiError) -> Response<ResponseBody> {
    let mut r = json_response(e.status, e.body());
    for (name, value) in &e.headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().insert(name.clone(), v);
        }
    }
    r
}
