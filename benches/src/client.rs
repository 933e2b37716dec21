//! The TruIdentidad HTTP client the load tool drives: create a validation, read one back.
//!
//! It knows only the public API (form-encoded create with `Truora-API-Key`, JSON reads) so it
//! can load the mock, a proxy in front of it, or anything else that speaks the API. Failures
//! are values sorted into the classes the report counts; nothing here panics on a bad reply.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;

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

    fn of_status(s: StatusCode) -> Option<Self> {
        Self::of_code(s.as_u16())
    }

    /// The class of a final status code (`None` for 2xx). Raw mode reads codes off the wire,
    /// so it classifies the number directly, with the same table as the pooled client.
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

/// What a read of a validation showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pending,
    /// Terminal: `success`, or the `failure_status` (`declined`, `expired`, …). Truora's SDK
    /// treats a present `failure_status` as terminal even while the status says pending.
    Terminal(String),
}

#[derive(serde::Deserialize)]
struct ValidationJson {
    validation_id: Option<String>,
    validation_status: Option<String>,
    failure_status: Option<String>,
}

impl ValidationJson {
    fn status(&self) -> Status {
        match (
            self.validation_status.as_deref(),
            self.failure_status.as_deref(),
        ) {
            (_, Some(f)) if !f.is_empty() => Status::Terminal(f.to_string()),
            (Some("success"), _) => Status::Terminal("success".into()),
            (Some("failure"), _) => Status::Terminal("failure".into()),
            _ => Status::Pending,
        }
    }
}

/// Why the client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("--target `{0}` is not a URL like http://127.0.0.1:8080")]
    BadUrl(String),
    #[error(
        "--target `{0}`: only plain http:// is supported (the mock and local proxies speak HTTP/1.1 without TLS)"
    )]
    NotHttp(String),
    #[error("--api-key must be a non-empty header value")]
    BadKey,
}

/// A pooled keep-alive HTTP/1.1 client bound to one target and API key.
#[derive(Debug, Clone)]
pub struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    /// Caps requests in flight, and so the pool's connections: the pool opens a connection
    /// whenever none is idle, so an uncapped burst grows it without limit.
    connections: Arc<Semaphore>,
    base: String,
    authority: String,
    api_key: HeaderValue,
    timeout: Duration,
}

impl Api {
    pub fn new(
        target: &str,
        api_key: &str,
        timeout: Duration,
        max_connections: usize,
    ) -> Result<Self, TargetError> {
        let uri: Uri = target
            .parse()
            .map_err(|_| TargetError::BadUrl(target.into()))?;
        if uri.scheme_str() != Some("http") {
            return Err(TargetError::NotHttp(target.into()));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| TargetError::BadUrl(target.into()))?
            .to_string();
        let api_key = HeaderValue::from_str(api_key)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or(TargetError::BadKey)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Api {
            client,
            connections: Arc::new(Semaphore::new(max_connections.max(1))),
            base: target.trim_end_matches('/').to_string(),
            authority,
            api_key,
            timeout,
        })
    }

    /// `host:port` of the target, for the reachability check.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The target URL's path prefix without a trailing `/` (usually empty): raw mode writes
    /// request lines itself, in origin form.
    pub(crate) fn path_prefix(&self) -> String {
        self.base
            .parse::<Uri>()
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }

    /// The API key as sent on the wire (visible ASCII: `HeaderValue::from_str` checked it).
    pub(crate) fn api_key_bytes(&self) -> &[u8] {
        self.api_key.as_bytes()
    }

    /// `host:port` to connect to (port 80 when the URL has none).
    pub(crate) fn socket_addr(&self) -> String {
        if self
            .authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            self.authority.clone()
        } else {
            format!("{}:80", self.authority)
        }
    }

    /// `--request-timeout`.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `POST /v1/validations` with `type=government`, the given `account_id` and, if set, the
    /// `X-Mock-Scenario` header. Returns the new `validation_id`.
    pub async fn create(
        &self,
        account_id: &str,
        scenario_header: Option<&str>,
    ) -> Result<String, RequestError> {
        let body = create_form(account_id);
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/v1/validations", self.base))
            .header("Truora-API-Key", self.api_key.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(s) = scenario_header {
            req = req.header("X-Mock-Scenario", s);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| RequestError::of(ErrorClass::Other))?;
        let bytes = self.send(req).await?;
        created_id(&bytes)
    }

    /// `GET /v1/validations/{id}`: what the poll saw.
    pub async fn get(&self, id: &str) -> Result<Status, RequestError> {
        let bytes = self.get_raw(id).await?;
        let v: ValidationJson =
            serde_json::from_slice(&bytes).map_err(|_| RequestError::of(ErrorClass::Other))?;
        Ok(v.status())
    }

    /// `GET /v1/validations/{id}` without looking at the body (raw mode, as wrk does).
    pub async fn get_raw(&self, id: &str) -> Result<Bytes, RequestError> {
        let req = Request::builder()
            .method(Method::GET)
            .uri(format!("{}/v1/validations/{id}", self.base))
            .header("Truora-API-Key", self.api_key.clone())
            .body(Full::new(Bytes::new()))
            .map_err(|_| RequestError::of(ErrorClass::Other))?;
        self.send(req).await
    }

    async fn send(&self, req: Request<Full<Bytes>>) -> Result<Bytes, RequestError> {
        // Waiting for a connection is client-side queueing: outside the request timeout, but
        // inside the measured latency (which runs from the intended send time).
        let _permit = self
            .connections
            .acquire()
            .await
            .map_err(|_| RequestError::of(ErrorClass::Other))?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                RequestError::of(if e.is_connect() {
                    ErrorClass::Connect
                } else {
                    ErrorClass::Other
                })
            })?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|_| RequestError::of(ErrorClass::Other))?
                .to_bytes();
            match ErrorClass::of_status(status) {
                None => Ok(body),
                Some(class) => Err(RequestError { class, retry_after }),
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(RequestError::of(ErrorClass::Timeout)))
    }
}

/// The form of a create: `type=government`, the account id, `user_authorized`, `country=CO`.
pub(crate) fn create_form(account_id: &str) -> String {
    form_urlencoded_pairs(&[
        ("type", "government"),
        ("account_id", account_id),
        ("user_authorized", "true"),
        ("country", "CO"),
    ])
}

/// The `validation_id` of a create's answer; a body without one counts as `Other`, as a reply
/// that is not the API's JSON (shared with raw create so both count the same way).
pub(crate) fn created_id(body: &[u8]) -> Result<String, RequestError> {
    let v: ValidationJson =
        serde_json::from_slice(body).map_err(|_| RequestError::of(ErrorClass::Other))?;
    v.validation_id
        .filter(|id| !id.is_empty())
        .ok_or(RequestError::of(ErrorClass::Other))
}

/// `a=b&c=d`, percent-encoding only what needs it (the values here are ASCII tokens).
pub(crate) fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        for (j, s) in [k, v].into_iter().enumerate() {
            if j == 1 {
                out.push('=');
            }
            for b in s.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: &str) -> Status {
        serde_json::from_str::<ValidationJson>(json)
            .unwrap()
            .status()
    }

    #[test]
    fn terminal_states() {
        assert_eq!(
            status(r#"{"validation_status":"pending"}"#),
            Status::Pending
        );
        assert_eq!(
            status(r#"{"validation_status":"success"}"#),
            Status::Terminal("success".into())
        );
        assert_eq!(
            status(r#"{"validation_status":"failure","failure_status":"declined"}"#),
            Status::Terminal("declined".into())
        );
        // A failure_status ends the validation even while the status still says pending.
        assert_eq!(
            status(r#"{"validation_status":"pending","failure_status":"expired"}"#),
            Status::Terminal("expired".into())
        );
    }

    #[test]
    fn status_classes() {
        assert_eq!(ErrorClass::of_status(StatusCode::OK), None);
        assert_eq!(
            ErrorClass::of_status(StatusCode::TOO_MANY_REQUESTS),
            Some(ErrorClass::TooMany)
        );
        assert_eq!(
            ErrorClass::of_status(StatusCode::NOT_FOUND),
            Some(ErrorClass::Client4xx)
        );
        assert_eq!(
            ErrorClass::of_status(StatusCode::BAD_GATEWAY),
            Some(ErrorClass::Server5xx)
        );
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_urlencoded_pairs(&[("type", "government"), ("a", "x y&")]),
            "type=government&a=x%20y%26"
        );
    }

    #[test]
    fn targets() {
        assert!(matches!(
            Api::new("https://x", "k", Duration::from_secs(1), 8),
            Err(TargetError::NotHttp(_))
        ));
        assert!(matches!(
            Api::new("not a url", "k", Duration::from_secs(1), 8),
            Err(TargetError::BadUrl(_))
        ));
        assert!(matches!(
            Api::new("http://127.0.0.1:1", "", Duration::from_secs(1), 8),
            Err(TargetError::BadKey)
        ));
    }
}
