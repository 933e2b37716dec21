//! One request's path through the server:
//! route → auth → parse → store + observe → fault → render → journal → log.
//!
//! Every error is an [`ApiError`] value rendered in one place; connection faults are the only
//! way a request ends without a response, and they are chosen by a scenario, never by a bug.

use std::net::SocketAddr;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::engine::RequestFacts;
use truidentidad_scenarios::model::RetryAfter;
use truidentidad_scenarios::{ConnectionFault, Fault, FaultAction, RequestKind, rng};

use crate::body::ResponseBody;
use crate::config::ClockMode;
use crate::conn::ConnControl;
use crate::error::ApiError;
use crate::form::{self, truncate};
use crate::ids::{ValidationId, derive_account_id};
use crate::journal::{FormFields, JournalEntry, KeyState};
use crate::state::AppState;
use crate::store::{CreateParams, NewValidation};
use crate::{control, render};

/// The header carrying the API key, as Truora names it.
pub const API_KEY_HEADER: &str = "truora-api-key";
/// The header that picks a scenario on create.
pub const SCENARIO_HEADER: &str = "x-mock-scenario";

// The same names as `HeaderName`s: looking a header up by `&str` parses and validates the
// name on every request.
static API_KEY_NAME: header::HeaderName = header::HeaderName::from_static(API_KEY_HEADER);
static SCENARIO_NAME: header::HeaderName = header::HeaderName::from_static(SCENARIO_HEADER);

/// What the accept loop knows about a connection.
#[derive(Debug)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    pub control: Arc<ConnControl>,
}

/// Returned to hyper to end a connection without a response (a scenario's connection fault).
#[derive(Debug, thiserror::Error)]
#[error("connection ended by a scenario fault ({0})")]
pub struct Aborted(&'static str);

/// How a request ends.
pub enum Reply {
    Response(Response<ResponseBody>),
    Abort(ConnectionFault),
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        Reply::Response(error_response(&e))
    }
}

/// What the journal and the log learn about a request while it is handled.
#[derive(Debug)]
pub struct Exchange {
    pub received: Duration,
    pub method: Method,
    /// The request target; cloning a `Uri` shares its bytes, so this costs no allocation
    /// until the journal copies the path out of it.
    pub uri: http::Uri,
    pub kind: &'static str,
    pub validation_id: Option<ValidationId>,
    pub api_key: KeyState,
    /// Kept as the header value (sharing the request's bytes) and turned into text only
    /// when the journal records it.
    pub content_type: Option<HeaderValue>,
    pub form: FormFields,
    pub fault: Option<String>,
    /// Leaves the request out of the journal: the dashboard's own refreshes would otherwise
    /// crowd out the requests an integrator is looking for.
    pub skip_journal: bool,
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

pub fn error_response(e: &ApiError) -> Response<ResponseBody> {
    let mut r = json_response(e.status, e.body());
    for (name, value) in &e.headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().insert(name.clone(), v);
        }
    }
    r
}

/// Boxes the work of a deferred path together with its recorder, which journals and logs the
/// request once the work's reply is ready (or when hyper drops the future mid-way).
macro_rules! later {
    ($record:ident, $conn:ident, |$state:ident, $ex:ident| $work:expr) => {
        Box::pin(async move {
            let reply = {
                let $state = &*$record.state;
                let $ex = &mut $record.ex;
                $work.await
            };
            $record.answer(&$conn, reply)
        })
    };
}

/// The service function: handles one request and records it.
///
/// Not an `async fn`: the poll path (and every error) is answered synchronously and handed to
/// hyper as a ready future a few dozen bytes large. Only work that has to wait (a body to
/// read, a fault's delay, the control API, the browser side) is boxed. See [`Routed`].
pub fn handle(state: &Arc<AppState>, conn: &Arc<ConnInfo>, req: Request<Incoming>) -> Handled {
    let received = state.clock.now();
    // The log's latency is the clock's own `sent - received` when the clock follows real
    // time (one clock read fewer at each end); a manual clock stands still, so then it needs
    // a monotonic reading of its own.
    let started = (state.config.request_log && state.config.clock == ClockMode::Manual)
        .then(std::time::Instant::now);
    let mut ex = Exchange {
        received,
        method: req.method().clone(),
        uri: req.uri().clone(),
        kind: "other",
        validation_id: None,
        api_key: KeyState::NotRequired,
        content_type: req.headers().get(header::CONTENT_TYPE).cloned(),
        form: FormFields::default(),
        fault: None,
        skip_journal: false,
    };
    let routed = route(state, req, &mut ex);
    // The state and connection are shared with the boxed work only: the ready path borrows
    // them, so the common case touches no reference count (with several worker threads,
    // a shared count's cache line moves between cores on every request).
    match routed {
        Routed::Ready(reply) => Handled::Now(Some(
            Recorder::new(&**state, conn, started, ex).answer(conn, reply),
        )),
        // One boxed future per path, each only as large as its own state: a single future
        // over all of them was 3.4 KB, allocated and copied on every create.
        Routed::Deferred(work) => Handled::Later({
            let mut record = Recorder::new(Arc::clone(state), conn, started, ex);
            let conn = Arc::clone(conn);
            match work {
                Deferred::Create(head) => {
                    later!(record, conn, |state, ex| create(state, &conn, head, ex))
                }
                Deferred::Web(req) => {
                    later!(record, conn, |state, ex| crate::web::route(state, req, ex))
                }
                Deferred::Control(req) => {
                    later!(record, conn, |state, ex| control::route(state, req, ex))
                }
                Deferred::PollFault {
                    scenario,
                    fault,
                    entropy,
                    ok_body,
                } => later!(record, conn, |state, ex| apply_fault(
                    &fault,
                    entropy,
                    &state.catalogue.get(scenario).name,
                    ok_body,
                    ex
                )),
            }
        }),
    }
}

/// What hyper awaits for one request: an answer already made, or boxed work.
pub enum Handled {
    Now(Option<Result<Response<ResponseBody>, Aborted>>),
    Later(Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Aborted>> + Send>>),
}

impl Future for Handled {
    type Output = Result<Response<ResponseBody>, Aborted>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            // Polled again after it completed (a contract violation): end the connection.
            Handled::Now(answer) => {
                std::task::Poll::Ready(answer.take().unwrap_or(Err(Aborted("close"))))
            }
            Handled::Later(work) => work.as_mut().poll(cx),
        }
    }
}

/// Journals and logs a request exactly once: when it is answered, or, if the client closes
/// the connection first (hyper then drops the handler mid-way, e.g. during a stall or a
/// delay), when the handler is dropped. Without this, the requests a client gave up on, the
/// very ones a per-request-timeout check needs, would vanish from the journal.
///
/// `S` is how the state is held: borrowed while answering synchronously, an `Arc` inside
/// boxed work.
struct Recorder<S: Deref<Target = AppState>> {
    state: S,
    remote: SocketAddr,
    /// When the request arrived, for the log's latency under a manual clock (see
    /// [`handle`]).
    started: Option<std::time::Instant>,
    ex: Exchange,
    done: bool,
}

impl<S: Deref<Target = AppState>> Recorder<S> {
    fn new(state: S, conn: &ConnInfo, started: Option<std::time::Instant>, ex: Exchange) -> Self {
        Recorder {
            state,
            remote: conn.remote,
            started,
            ex,
            done: false,
        }
    }

    /// Records the reply and turns it into what hyper expects.
    fn answer(&mut self, conn: &ConnInfo, reply: Reply) -> Result<Response<ResponseBody>, Aborted> {
        self.finish(match &reply {
            Reply::Response(r) => r.status().as_u16(),
            Reply::Abort(_) => 0,
        });
        match reply {
            Reply::Response(r) => Ok(r),
            Reply::Abort(ConnectionFault::Reset) => {
                conn.control.reset_on_close();
                Err(Aborted("reset"))
            }
            Reply::Abort(_) => Err(Aborted("close")),
        }
    }

    fn finish(&mut self, status: u16) {
        self.done = true;
        let state = &*self.state;
        let ex = &mut self.ex;
        let journaled = state.journal.enabled() && !ex.skip_journal;
        // One clock reading serves the journal's `sent` and the log's latency.
        let sent = if journaled || state.config.request_log {
            state.clock.now()
        } else {
            Duration::ZERO
        };
        if state.config.request_log {
            let path = ex.uri.path_and_query().map_or("/", |p| p.as_str());
            let latency = match self.started {
                Some(s) => s.elapsed(),
                None => sent.saturating_sub(ex.received),
            };
            match &state.config.log_sink {
                Some(sink) => sink.request_line(&ex.method, path, status, latency),
                None => tracing::info!(
                    target: "truidentidad_mock::request",
                    "method={} path={path} status={status} latency_ms={:.3}",
                    ex.method,
                    latency.as_secs_f64() * 1e3,
                ),
            }
        }
        if journaled {
            state.journal.push(JournalEntry {
                seq: 0,
                received: ex.received,
                sent,
                // Taken, not cloned: the exchange is finished.
                method: std::mem::replace(&mut ex.method, Method::GET),
                path: truncate_bytes(ex.uri.path_and_query().map_or("/", |p| p.as_str()), 512),
                kind: ex.kind,
                validation_id: ex.validation_id,
                status,
                fault: ex.fault.take(),
                api_key: ex.api_key,
                content_type: ex
                    .content_type
                    .take()
                    .map(|v| truncate(&String::from_utf8_lossy(v.as_bytes()), 128)),
                form: std::mem::take(&mut ex.form),
                remote: self.remote,
            });
        }
    }
}

impl<S: Deref<Target = AppState>> Drop for Recorder<S> {
    fn drop(&mut self) {
        if !self.done {
            let note = "client closed the connection before the response";
            self.ex.fault = Some(match self.ex.fault.take() {
                Some(f) => format!("{f}; {note}"),
                None => note.to_string(),
            });
            self.finish(0);
        }
    }
}

fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// A request's answer: ready at once (the poll path, every error), or work that has to wait
/// (reading a body, a fault's delay, the control API, the browser side).
///
/// Why not one `async fn`: hyper moves each request's future into place, and an `async`
/// dispatcher's future is as large as the largest path it might take (over 2 KB here), so
/// every poll paid for copying the create, control and fault paths' state. Routing is
/// synchronous instead, and only the paths that wait box their future.
enum Routed {
    Ready(Reply),
    Deferred(Deferred),
}

/// The paths that wait, and what each needs besides the server state and the exchange.
enum Deferred {
    /// A create whose head passed the checks: only the body is left to read.
    Create(CreateHead),
    Web(Request<Incoming>),
    Control(Request<Incoming>),
    /// A fault on a poll: `ok_body` is the answer it replaces or delays.
    PollFault {
        scenario: ScenarioId,
        fault: Fault,
        entropy: u64,
        ok_body: Vec<u8>,
    },
}

impl From<Reply> for Routed {
    fn from(r: Reply) -> Self {
        Routed::Ready(r)
    }
}

impl From<ApiError> for Routed {
    fn from(e: ApiError) -> Self {
        Routed::Ready(e.into())
    }
}

fn route(state: &AppState, req: Request<Incoming>, ex: &mut Exchange) -> Routed {
    // The exchange already holds the target; lend it out for routing rather than clone it
    // once more (each clone of a `Uri` takes and releases a shared count).
    let uri = std::mem::take(&mut ex.uri);
    let routed = route_path(state, req, uri.path(), ex);
    ex.uri = uri;
    routed
}

fn route_path(state: &AppState, req: Request<Incoming>, path: &str, ex: &mut Exchange) -> Routed {
    let method = req.method().clone();
    if path == "/v1/validations" {
        ex.kind = "create";
        if method != Method::POST {
            return ApiError::method_not_allowed(&method, path, "POST").into();
        }
        return match check_create(state, req, ex) {
            Ok(head) => Routed::Deferred(Deferred::Create(head)),
            Err(e) => e.into(),
        };
    }
    if let Some(id) = path.strip_prefix("/v1/validations/") {
        ex.kind = "poll";
        if id.is_empty() || id.contains('/') {
            return not_found(&method, path).into();
        }
        if method != Method::GET {
            return ApiError::method_not_allowed(&method, path, "GET").into();
        }
        return poll(state, &req, id, ex);
    }
    if crate::web::handles(path) {
        ex.kind = "web";
        return Routed::Deferred(Deferred::Web(req));
    }
    if path == "/_mock" || path.starts_with("/_mock/") {
        ex.kind = "control";
        // Health and the OpenAPI document reveal nothing and must work for readiness probes.
        if !matches!(path, "/_mock/health" | "/_mock/openapi.yaml")
            && let Err(e) = authorize_admin(state, req.headers(), req.uri().query())
        {
            return e.into();
        }
        return Routed::Deferred(Deferred::Control(req));
    }
    if path == "/" && method == Method::GET {
        let body = serde_json::json!({
            "name": "truidentidad-mock",
            "api": ["POST /v1/validations", "GET /v1/validations/{validation_id}"],
            "control": "/_mock/",
            "openapi": "/_mock/openapi.yaml",
        });
        return Reply::Response(json_response(StatusCode::OK, body.to_string())).into();
    }
    not_found(&method, path).into()
}

fn not_found(method: &Method, path: &str) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {method} {}; the mock serves POST /v1/validations, GET /v1/validations/{{validation_id}} and its control API under /_mock/",
        truncate(path, 128)
    ))
}

/// The header carrying the admin token (alternatives: `Authorization: Bearer`, or the
/// `admin_token` query parameter for pages opened in a browser).
pub const ADMIN_TOKEN_HEADER: &str = "x-mock-admin-token";

/// Checks the admin token when one is configured (control API, dashboard, journal).
pub fn authorize_admin(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(), ApiError> {
    let Some(expected) = state.config.admin_token.as_deref() else {
        return Ok(());
    };
    let from_header = headers
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let from_query = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "admin_token")
            .map(|(_, v)| v.into_owned())
    });
    match from_header.or(from_bearer).or(from_query) {
        Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "the admin token is wrong; send the token the server was started with (--admin-token)",
        )),
        None => Err(ApiError::unauthorized(
            "this control endpoint needs the admin token: send X-Mock-Admin-Token: <token> or Authorization: Bearer <token> (the server was started with --admin-token)",
        )),
    }
}

/// Compares without an early exit, so response time does not leak how much of a guess matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `Truora-API-Key` against the configured keys.
pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    ex: &mut Exchange,
) -> Result<(), ApiError> {
    let Some(value) = headers.get(&API_KEY_NAME).filter(|v| !v.is_empty()) else {
        ex.api_key = KeyState::Missing;
        return Err(ApiError::unauthorized(
            "missing Truora-API-Key header: send your API key in the Truora-API-Key header on every request",
        ));
    };
    let ok = match value.to_str() {
        Ok(key) => {
            state.config.api_keys.is_empty() || state.config.api_keys.iter().any(|k| k == key)
        }
        Err(_) => false,
    };
    if ok {
        ex.api_key = KeyState::Accepted;
        Ok(())
    } else {
        ex.api_key = KeyState::Rejected;
        Err(ApiError::unauthorized(
            "the Truora-API-Key is not accepted by this server; use one of the keys it was started with (--api-key)",
        ))
    }
}

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
fn declared_length(req: &Request<Incoming>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

async fn read_incoming(
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

/// What a create needs once its head has passed the checks: the body to read and the
/// scenario header. The request itself is not kept: the boxed future of every create holds
/// this, and the smaller it is the cheaper the box (one of a few kilobytes no longer fits
/// the allocator's fast per-thread cache).
struct CreateHead {
    body: Incoming,
    declared: Option<u64>,
    header_scenario: Option<String>,
}

/// The synchronous part of a create, done while routing: the API key, the content type and
/// the scenario header, in that order.
fn check_create(
    state: &AppState,
    req: Request<Incoming>,
    ex: &mut Exchange,
) -> Result<CreateHead, ApiError> {
    authenticate(state, req.headers(), ex)?;
    form::check_content_type(
        ex.content_type
            .as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .as_deref(),
    )?;
    let header_scenario = req
        .headers()
        .get(&SCENARIO_NAME)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let declared = declared_length(&req);
    Ok(CreateHead {
        body: req.into_body(),
        declared,
        header_scenario,
    })
}

/// `POST /v1/validations` once its head passed [`check_create`]: reads the body, then
/// creates (or fails as the scenario says).
async fn create(state: &AppState, conn: &ConnInfo, head: CreateHead, ex: &mut Exchange) -> Reply {
    let body = match read_incoming(state, head.body, head.declared).await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    match create_from_body(state, conn, head.header_scenario.as_deref(), &body, ex) {
        Created::Done(reply) => reply,
        Created::Fault(fault) => fault.await,
    }
}

/// The end of a create: done, or a fault still to apply (boxed: a cold path, and inline its
/// state would enlarge every create's future).
enum Created<'a> {
    Done(Reply),
    Fault(Pin<Box<dyn Future<Output = Reply> + Send + 'a>>),
}

impl From<ApiError> for Created<'_> {
    fn from(e: ApiError) -> Self {
        Created::Done(e.into())
    }
}

/// Everything after the body arrived, synchronously: parse, pick the scenario, store,
/// render.
fn create_from_body<'a>(
    state: &'a AppState,
    conn: &ConnInfo,
    header_scenario: Option<&str>,
    body: &[u8],
    ex: &'a mut Exchange,
) -> Created<'a> {
    let form = match form::parse_create(body) {
        Ok(f) => f,
        Err(e) => return e.into(),
    };
    if state.journal.enabled() {
        // `parse_create` accepted the body, so it is UTF-8.
        ex.form = FormFields::from_urlencoded(std::str::from_utf8(body).unwrap_or_default());
    }

    let seq = state.next_seq();
    let scenario_id = match choose_scenario(state, header_scenario, form.account_id.as_deref(), seq)
    {
        Ok(id) => id,
        Err(e) => return e.into(),
    };
    let scenario = state.catalogue.get(scenario_id);
    let account_id: Arc<str> = match &form.account_id {
        Some(a) => Arc::clone(a),
        None => Arc::from(derive_account_id(state.seed, seq)),
    };

    let fault = if scenario
        .faults
        .iter()
        .any(|f| f.request == RequestKind::Create)
    {
        let nth = state.count_create(&account_id);
        let entropy = rng::derive(state.seed, &[0x4352_4541_5445, seq]);
        truidentidad_scenarios::select_fault(
            scenario,
            &RequestFacts {
                kind: RequestKind::Create,
                nth,
                phase: 0,
                entropy,
            },
        )
        .map(|f| (f, entropy))
    } else {
        None
    };
    // An HTTP error means nothing was created: answer before storing.
    if let Some((
        f @ Fault {
            action: FaultAction::HttpError { .. },
            ..
        },
        entropy,
    )) = fault
    {
        return Created::Fault(Box::pin(apply_fault(
            f,
            entropy,
            &scenario.name,
            Vec::new(),
            ex,
        )));
    }

    let mut new = NewValidation {
        account_id,
        scenario: scenario_id,
        timeout: form.timeout,
        ip: conn.remote.ip(),
        // Creates without optional fields (most) store none: no allocation to make or free.
        params: (form.params != CreateParams::default()).then(|| Arc::new(form.params)),
    };
    let now = state.clock.now();
    let mut attempt_seq = seq;
    let view = loop {
        let id = ValidationId::derive(state.seed, attempt_seq);
        match state.store.insert(id, seq, new, now) {
            Ok(v) => break v,
            Err(back) => new = back,
        }
        // Ids derive from the seed and a counter that never restarts, so a taken id means a
        // state file saved under another seed was restored; step past it.
        attempt_seq = attempt_seq.wrapping_add(1 << 40);
    };
    ex.validation_id = Some(view.record.id);
    let body = render::validation(&view, state.clock.as_ref(), false);
    match fault {
        Some((f, entropy)) => {
            Created::Fault(Box::pin(apply_fault(f, entropy, &scenario.name, body, ex)))
        }
        None => Created::Done(Reply::Response(json_response(StatusCode::OK, body))),
    }
}

/// Picks the scenario of a new validation: the `X-Mock-Scenario` header, else a magic
/// `account_id`, else the next armed scenario, else the mix or the default.
fn choose_scenario(
    state: &AppState,
    header: Option<&str>,
    account_id: Option<&str>,
    seq: u64,
) -> Result<ScenarioId, ApiError> {
    if let Some(name) = header {
        return state.catalogue.id_of(name.trim()).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown scenario `{}` in X-Mock-Scenario; known scenarios: {}",
                truncate(name, 64),
                state.catalogue.names()
            ))
        });
    }
    if let Some(id) = account_id.and_then(|a| state.catalogue.from_account_id(a)) {
        return Ok(id);
    }
    if let Some(id) = state.take_armed() {
        return Ok(id);
    }
    Ok(match &state.mix {
        Some(mix) => mix.pick(state.seed, seq),
        None => state.default_scenario,
    })
}

fn parse_show_details(query: Option<&str>) -> Result<bool, ApiError> {
    let Some(q) = query else { return Ok(false) };
    let mut show = false;
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        if k == "show_details" {
            show = match v.as_ref() {
                "true" | "1" => true,
                "false" | "0" | "" => false,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "query parameter show_details must be true or false, got `{}`",
                        truncate(other, 32)
                    )));
                }
            };
        }
    }
    Ok(show)
}

fn poll(state: &AppState, req: &Request<Incoming>, id: &str, ex: &mut Exchange) -> Routed {
    if let Err(e) = authenticate(state, req.headers(), ex) {
        return e.into();
    }
    let show_details = match parse_show_details(req.uri().query()) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let unknown = || {
        ApiError::not_found(format!(
            "validation {} not found; use the validation_id returned by POST /v1/validations (VLD followed by 32 hex digits)",
            truncate(id, 64)
        ))
    };
    let Ok(vid) = id.parse::<ValidationId>() else {
        return unknown().into();
    };
    ex.validation_id = Some(vid);
    let Some((view, nth)) = state.store.poll(vid, || state.clock.now()) else {
        return unknown().into();
    };
    let scenario = state.catalogue.get(view.record.scenario);
    let body = render::validation(&view, state.clock.as_ref(), show_details);
    let entropy = rng::derive(state.seed, &[view.record.seq, u64::from(nth)]);
    let facts = RequestFacts {
        kind: RequestKind::Poll,
        nth,
        phase: view.observation.phase,
        entropy,
    };
    match truidentidad_scenarios::select_fault(scenario, &facts) {
        Some(f) => Routed::Deferred(Deferred::PollFault {
            scenario: view.record.scenario,
            fault: f.clone(),
            entropy,
            ok_body: body,
        }),
        None => Reply::Response(json_response(StatusCode::OK, body)).into(),
    }
}

/// Applies a fault to a response whose normal body is `ok_body`.
async fn apply_fault(
    fault: &Fault,
    entropy: u64,
    scenario: &str,
    ok_body: Vec<u8>,
    ex: &mut Exchange,
) -> Reply {
    let mut notes = Vec::new();
    if let Some(delay) = &fault.delay {
        let d = delay.sample(entropy);
        notes.push(format!("delay {}ms", d.as_millis()));
        // Noted before waiting: if the client gives up meanwhile, the journal still says why.
        ex.fault = Some(notes.join(", "));
        tokio::time::sleep(d).await;
    }
    let reply = match &fault.action {
        FaultAction::DelayOnly => Reply::Response(json_response(StatusCode::OK, ok_body)),
        FaultAction::HttpError {
            status,
            message,
            retry_after,
        } => {
            notes.push(format!("http_error {status}"));
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
            err.into()
        }
        FaultAction::SlowBody { chunk_bytes, every } => {
            notes.push("slow_body".into());
            let mut r = json_response(StatusCode::OK, Bytes::new());
            *r.body_mut() = ResponseBody::dribble(ok_body, *chunk_bytes, *every);
            Reply::Response(r)
        }
        FaultAction::MalformedBody => {
            notes.push("malformed_body".into());
            let half = ok_body.len() / 2;
            Reply::Response(json_response(StatusCode::OK, ok_body[..half].to_vec()))
        }
        FaultAction::EmptyBody => {
            notes.push("empty_body".into());
            Reply::Response(json_response(StatusCode::OK, Bytes::new()))
        }
        FaultAction::Connection(c) => {
            match c {
                ConnectionFault::Reset => notes.push("connection_reset".into()),
                ConnectionFault::Close => notes.push("connection_close".into()),
                ConnectionFault::Stall(d) => {
                    notes.push(format!("stall {}", humantime::format_duration(*d)));
                    ex.fault = Some(notes.join(", "));
                    tokio::time::sleep(*d).await;
                }
            }
            Reply::Abort(*c)
        }
    };
    ex.fault = Some(notes.join(", "));
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
