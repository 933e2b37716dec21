//! How one request ended, as every part of the load tool counts it: the error classes of the
//! report, a failed request with its `Retry-After`, and an id that cannot be sent. A leaf, so
//! the client, the pool, raw mode and the statistics share it without importing one another.

use std::time::Duration;

/// Why one request failed, as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// No TCP connection could be made (refused, unreachable).
    Connect,
    /// No complete response within `--request-timeout`.
    Timeout,
    /// 429 Too Many Requests (counted apart from other 4xx: it is the target pushing back).
    TooMany,
    /// Any other 4xx.
    Client4xx,
    /// 5xx.
    Server5xx,
    /// The connection broke mid-exchange, or the body was not the API's JSON.
    Other,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 6] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Client4xx,
        ErrorClass::TooMany,
        ErrorClass::Server5xx,
        ErrorClass::Other,
    ];

    /// The key in the report's `errors` object.
    pub fn key(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::TooMany => "429",
            ErrorClass::Client4xx => "4xx",
            ErrorClass::Server5xx => "5xx",
            ErrorClass::Other => "other",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The class of a final status code (`None` for 2xx), read off the wire: 1xx interim
    /// answers never get here, and 101 or 3xx are not the API's answers (`other`).
    pub(crate) fn of_code(code: u16) -> Option<Self> {
        match code {
            429 => Some(ErrorClass::TooMany),
            400..=499 => Some(ErrorClass::Client4xx),
            500..=599 => Some(ErrorClass::Server5xx),
            200..=299 => None,
            _ => Some(ErrorClass::Other),
        }
    }
}

/// A failed request: its class and, for 429/503, the `Retry-After` seconds to honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestError {
    pub class: ErrorClass,
    pub retry_after: Option<Duration>,
}

impl RequestError {
    pub(crate) fn of(class: ErrorClass) -> Self {
        RequestError {
            class,
            retry_after: None,
        }
    }
}

/// A validation id that cannot go in a request path.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "validation id `{0}` cannot go in a request path (visible ASCII only, no spaces, `?` or `#`)"
)]
pub struct BadValidationId(pub String);
