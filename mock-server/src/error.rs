//! API errors as values. Every error the server answers with is an [`ApiError`], rendered in
//! one place ([`ApiError::body`]) to Truora's envelope `{"code", "http_code", "message"}`.

use http::StatusCode;

/// An error answered with Truora's error envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Extra headers (`Allow` on 405, `Retry-After` on 429/503).
    pub headers: Vec<(http::HeaderName, String)>,
}

/// Truora's validators API publishes no error codes. The Checks API writes a 5-digit code
/// made of a service prefix and the HTTP status (`10404`); the mock uses prefix `2` the same
/// way (`20404`), documented as a choice in the README's fidelity notes.
pub const ERROR_CODE_PREFIX: u32 = 20_000;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: http::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn method_not_allowed(method: &http::Method, path: &str, allow: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not allowed on {path}; allowed: {allow}"),
        )
        .with_header(http::header::ALLOW, allow)
    }

    pub fn code(&self) -> u32 {
        ERROR_CODE_PREFIX + u32::from(self.status.as_u16())
    }

    /// The JSON envelope.
    pub fn body(&self) -> Vec<u8> {
        let v = serde_json::json!({
            "code": self.code(),
            "http_code": self.status.as_u16(),
            "message": self.message,
        });
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

/// The store did not answer in time (Redis down, slow or restarting): 503 with `Retry-After`,
/// so clients back off and retry as they would for Truora's own brown-outs.
impl From<crate::store::Unavailable> for ApiError {
    fn from(e: crate::store::Unavailable) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the mock's shared store is unavailable ({e}); retry after the Retry-After delay"
            ),
        )
        .with_header(http::header::RETRY_AFTER, "1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_code_http_code_message() {
        let e = ApiError::not_found("validation VLDx not found");
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": 20404, "http_code": 404, "message": "validation VLDx not found"})
        );
    }
}
