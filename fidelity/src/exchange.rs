//! One recorded exchange and a validation's timeline of them: the data a recording holds,
//! below both the recorder that writes it and the HAR export that renders it.

use serde::{Deserialize, Serialize};

/// Which API call an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    Create,
    Poll,
    Other,
}

impl CallKind {
    pub fn of(method: &str, path: &str) -> Self {
        let path = path.split('?').next().unwrap_or_default();
        match (method, path.strip_prefix("/v1/validations")) {
            ("POST", Some("" | "/")) => CallKind::Create,
            ("GET", Some(rest)) if rest.len() > 1 && !rest[1..].contains('/') => CallKind::Poll,
            _ => CallKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Create => "create",
            CallKind::Poll => "poll",
            CallKind::Other => "other",
        }
    }
}

/// The validation id a poll path names.
pub fn polled_id(path: &str) -> Option<&str> {
    let path = path.split('?').next()?;
    path.strip_prefix("/v1/validations/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RecordedResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// The first value of a header, by case-insensitive name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why an exchange has no upstream answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// The upstream reset the connection (or closed it mid-answer); the client was reset too.
    Reset,
    /// The client hung up before the upstream answered (a stall the client timed out on).
    ClientGaveUp,
    /// The upstream could not be reached; the proxy answered 502 itself.
    Unreachable,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Reset => "reset",
            Failure::ClientGaveUp => "client-gave-up",
            Failure::Unreachable => "upstream-unreachable",
        }
    }
}

/// One request and what came of it, redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub kind: CallKind,
    /// Milliseconds from the timeline's first request to this one's arrival.
    pub offset_ms: u64,
    /// Milliseconds from arrival to the answer (or to the failure).
    pub duration_ms: u64,
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// One validation's exchanges, as `timelines/<name>.json` holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The file's stem: the validation id, or `loose-NNNN`.
    pub name: String,
    pub validation_id: Option<String>,
    /// Wall-clock time of the first request, RFC 3339.
    pub started: String,
    pub exchanges: Vec<Exchange>,
}
