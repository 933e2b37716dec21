//! The TruIdentidad HTTP client the load tool drives: create a validation, read one back.
//!
//! It knows only the public API (form-encoded create with `Truora-API-Key`, JSON reads) so it
//! can load the mock, a proxy in front of it, or anything else that speaks the API. Failures
//! are values sorted into the classes the report counts; nothing here panics on a bad reply.
//!
//! Requests go out on the load tool's own bounded pool of keep-alive connections
//! ([`crate::pool`]), serialized ahead and written in one piece, with the responses parsed in
//! place ([`crate::http1`]): the bytes on the wire are those the hyper client this replaced sent
//! (header names aside, which HTTP compares without case), and every outcome is counted as it
//! counted them.

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderValue, Uri};

use crate::outcome::{BadValidationId, ErrorClass, RequestError};
use crate::pool::{Pool, Wire};

/// What a read of a validation showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pending,
    /// Terminal: `success`, or the `failure_status` (`declined`, `expired`, …). Truora's SDK
    /// treats a present `failure_status` as terminal even while the status says pending.
    Terminal(String),
}

/// The fields a read or a create answer is judged by. Strings are borrowed from the body
/// unless they hold escapes, so judging a poll allocates nothing; what is accepted and
/// rejected is exactly what owned `String` fields accepted (wrong types, duplicate keys and
/// bad JSON are errors, `null` is absent).
#[derive(serde::Deserialize)]
struct ValidationJson<'a> {
    #[serde(borrow)]
    validation_id: Option<Text<'a>>,
    #[serde(borrow)]
    validation_status: Option<Text<'a>>,
    #[serde(borrow)]
    failure_status: Option<Text<'a>>,
}

/// A JSON string. (`#[serde(borrow)]` on `Option<Cow<str>>` itself would still copy: serde
/// borrows only a `Cow` that is the field's whole type, hence the newtype.)
#[derive(serde::Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl ValidationJson<'_> {
    fn status(&self) -> Status {
        match (
            self.validation_status.as_ref().map(Text::as_str),
            self.failure_status.as_ref().map(Text::as_str),
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

/// The API client for one target and API key: a bounded pool of keep-alive HTTP/1.1
/// connections ([`Pool`]) and the requests serialized once per run.
#[derive(Debug)]
pub struct Api {
    authority: String,
    /// `host:port` to connect to.
    addr: String,
    timeout: Duration,
    /// `GET {prefix}/v1/validations/`: a poll is this, the id, and [`Api::get_end`].
    get_start: Box<[u8]>,
    /// ` HTTP/1.1` and the headers after the id, through the blank line.
    get_end: Box<[u8]>,
    /// `POST {prefix}/v1/validations HTTP/1.1` through the `Content-Type` line.
    create_head: Box<[u8]>,
    pub(crate) pool: Pool,
}

/// A validation's `GET /v1/validations/{id}`, serialized once and sent at every poll.
#[derive(Debug, Clone)]
pub struct PollRequest(Option<Box<[u8]>>);

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
            .ok_or_else(|| TargetError::BadUrl(target.into()))?;
        let api_key = HeaderValue::from_str(api_key)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or(TargetError::BadKey)?;
        let host = authority.host();
        let port = authority.port_u16();
        // The Host header as hyper-util wrote it: the port only when it is not http's 80.
        let host_header = match port {
            Some(p) if p != 80 => format!("{host}:{p}"),
            _ => host.to_string(),
        };
        let addr = format!("{host}:{}", port.unwrap_or(80));
        // The target's path without a trailing `/` (usually empty) prefixes every request
        // path, as the hyper client's `{target}/v1/...` URLs did.
        let prefix = uri.path().trim_end_matches('/');
        let mut headers = format!("Host: {host_header}\r\nTruora-API-Key: ").into_bytes();
        headers.extend_from_slice(api_key.as_bytes());
        headers.extend_from_slice(b"\r\n");
        let mut get_end = b" HTTP/1.1\r\n".to_vec();
        get_end.extend_from_slice(&headers);
        get_end.extend_from_slice(b"\r\n");
        let mut create_head = format!("POST {prefix}/v1/validations HTTP/1.1\r\n").into_bytes();
        create_head.extend_from_slice(&headers);
        create_head.extend_from_slice(b"Content-Type: application/x-www-form-urlencoded\r\n");
        Ok(Api {
            authority: authority.to_string(),
            pool: Pool::new(addr.clone(), timeout, max_connections),
            addr,
            timeout,
            get_start: format!("GET {prefix}/v1/validations/").into_bytes().into(),
            get_end: get_end.into(),
            create_head: create_head.into(),
        })
    }

    /// `host:port` of the target as given.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `host:port` to connect to (port 80 when the URL has none).
    pub(crate) fn socket_addr(&self) -> &str {
        &self.addr
    }

    /// `--request-timeout`.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A create's request line and headers through `Content-Type` (raw create appends its
    /// own `Content-Length`).
    pub(crate) fn create_head(&self) -> &[u8] {
        &self.create_head
    }

    /// The whole `GET {prefix}/v1/validations/{id}` request.
    pub(crate) fn get_bytes(&self, id: &str) -> Result<Box<[u8]>, BadValidationId> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#'))
        {
            return Err(BadValidationId(id.into()));
        }
        let mut r = Vec::with_capacity(self.get_start.len() + id.len() + self.get_end.len());
        r.extend_from_slice(&self.get_start);
        r.extend_from_slice(id.as_bytes());
        r.extend_from_slice(&self.get_end);
        Ok(r.into())
    }

    /// The poll of validation `id`, serialized once for all its polls. An id that cannot be
    /// written in a request path (only a server outside the API would send one) makes every
    /// poll fail as `other` without being sent, as the hyper client's URL check did.
    pub fn poll_request(&self, id: &str) -> PollRequest {
        PollRequest(self.get_bytes(id).ok())
    }

    /// `POST /v1/validations` with `type=government`, the given `account_id` and, if set, the
    /// `X-Mock-Scenario` header. Returns the new `validation_id`.
    pub async fn create(
        &self,
        account_id: &str,
        scenario_header: Option<&str>,
    ) -> Result<String, RequestError> {
        self.create_with(account_id, scenario_header, None).await
    }

    /// [`Api::create`], also sending `document_number` when given (a test identity).
    pub async fn create_with(
        &self,
        account_id: &str,
        scenario_header: Option<&str>,
        document_number: Option<&str>,
    ) -> Result<String, RequestError> {
        // A value that cannot be a header fails before anything is sent, as building the
        // hyper request did.
        if scenario_header.is_some_and(|s| !is_header_value(s)) {
            return Err(RequestError::of(ErrorClass::Other));
        }
        let form = create_form(account_id, document_number);
        let request = Wire::Create {
            head: &self.create_head,
            scenario: scenario_header,
            form: &form,
        };
        self.pool.send(request, created_id).await
    }

    /// `GET /v1/validations/{id}`: what the poll saw.
    pub async fn poll(&self, request: &PollRequest) -> Result<Status, RequestError> {
        let Some(bytes) = &request.0 else {
            return Err(RequestError::of(ErrorClass::Other));
        };
        self.pool.send(Wire::Ready(bytes), read_status).await
    }

    /// [`Api::poll`] for a one-off read.
    pub async fn get(&self, id: &str) -> Result<Status, RequestError> {
        self.poll(&self.poll_request(id)).await
    }
}

/// What `http::HeaderValue::from_str` accepts: tab, and any byte from space up except DEL
/// (bytes over 127 included).
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

/// The status a read's body shows; a body that is not the API's JSON counts as `other`.
fn read_status(body: &[u8]) -> Result<Status, RequestError> {
    serde_json::from_slice::<ValidationJson<'_>>(body)
        .map(|v| v.status())
        .map_err(|_| RequestError::of(ErrorClass::Other))
}

/// The form of a create: `type=government`, the account id, `user_authorized`, `country=CO`,
/// and the document number when there is one.
pub(crate) fn create_form(account_id: &str, document_number: Option<&str>) -> String {
    let mut pairs = vec![
        ("type", "government"),
        ("account_id", account_id),
        ("user_authorized", "true"),
        ("country", "CO"),
    ];
    pairs.extend(document_number.map(|d| ("document_number", d)));
    form_urlencoded_pairs(&pairs)
}

/// The `validation_id` of a create's answer; a body without one counts as `Other`, as a reply
/// that is not the API's JSON (shared with raw create so both count the same way).
pub(crate) fn created_id(body: &[u8]) -> Result<String, RequestError> {
    let v: ValidationJson<'_> =
        serde_json::from_slice(body).map_err(|_| RequestError::of(ErrorClass::Other))?;
    v.validation_id
        .map(|id| id.0.into_owned())
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
    fn judged_fields_borrow_unless_escaped_and_reject_what_strings_rejected() {
        let v: ValidationJson<'_> =
            serde_json::from_str(r#"{"validation_status":"pending","x":{"failure_status":"y"}}"#)
                .unwrap();
        assert!(matches!(
            v.validation_status,
            Some(Text(Cow::Borrowed("pending")))
        ));
        assert_eq!(v.status(), Status::Pending, "nested keys are not the field");
        assert_eq!(
            status(r#"{"validation_status":"failure","failure_status":"decl\u0069ned"}"#),
            Status::Terminal("declined".into())
        );
        assert_eq!(status(r#"{"failure_status":null}"#), Status::Pending);
        for bad in [
            r#"{"validation_status":1}"#,
            r#"{"validation_status":"pending","validation_status":"success"}"#,
            r#"{"validation_status":"pending""#,
            "",
        ] {
            assert_eq!(
                read_status(bad.as_bytes()),
                Err(RequestError::of(ErrorClass::Other)),
                "{bad}"
            );
        }
        assert_eq!(
            created_id(br#"{"validation_id":"V\u0031"}"#),
            Ok("V1".to_string())
        );
        assert_eq!(
            created_id(br#"{"validation_id":""}"#),
            Err(RequestError::of(ErrorClass::Other))
        );
    }

    #[test]
    fn status_classes() {
        use http::StatusCode;
        let of = |s: StatusCode| ErrorClass::of_code(s.as_u16());
        assert_eq!(of(StatusCode::OK), None);
        assert_eq!(of(StatusCode::TOO_MANY_REQUESTS), Some(ErrorClass::TooMany));
        assert_eq!(of(StatusCode::NOT_FOUND), Some(ErrorClass::Client4xx));
        assert_eq!(of(StatusCode::BAD_GATEWAY), Some(ErrorClass::Server5xx));
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
