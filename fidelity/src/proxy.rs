//! The recording proxy: forwards Truora's API calls to an upstream unchanged and records them.
//!
//! What the client gets is what the upstream sent: status, headers and body as they came, at
//! the time they came (the body is passed on frame by frame; the proxy adds no wait of its
//! own and no timeout). The upstream may be `http://` or `https://` ([`crate::upstream_tls`]).
//! Connection faults
//! pass through too: an upstream reset (or an answer cut short) resets the client's
//! connection; an upstream that stalls leaves the client stalled until it gives up. Only an
//! upstream that cannot be reached at all, or whose TLS certificate is refused, is answered by
//! the proxy itself: 502 in Truora's error envelope, and the reason is logged. Only `POST /v1/validations` and `GET /v1/validations/{id}` are recorded;
//! anything else is forwarded and not kept.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use truidentidad_conformance::http::describe;
use truidentidad_mock_server::conn::{ConnControl, FaultableStream};
use truidentidad_mock_server::error::ApiError;

use crate::recording::{
    CallKind, Failure, RawExchange, RecordedRequest, RecordedResponse, Recorder, RecordingError,
};
use crate::upstream_tls::{self, CaError};

/// A source of "now" for the timing offsets: real time by default; tests pass the upstream
/// mock's manual clock so offsets are virtual seconds.
pub type NowFn = Arc<dyn Fn() -> Duration + Send + Sync>;

/// How long a connection to the upstream may take to open before the client gets a 502.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often changed timelines are written while exchanges arrive (and once at the end).
const TIMELINES_EVERY: Duration = Duration::from_millis(500);

/// How often `recording.har`, which holds every exchange, is rewritten (and once at the end):
/// rarely, since it grows with the recording; the timelines are the running record.
const HAR_EVERY: Duration = Duration::from_secs(60);

/// How long an idle connection to the upstream is kept for reuse.
const POOL_IDLE: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct ProxyConfig {
    /// `http(s)://host[:port]` of the service to record, optionally with a base path.
    pub upstream: String,
    /// PEM roots trusted besides Mozilla's for an `https://` upstream.
    pub upstream_ca: Option<PathBuf>,
    pub out: PathBuf,
    pub listen: SocketAddr,
    pub now: Option<NowFn>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("--upstream `{0}` is not an http(s)://host[:port] URL")]
    Upstream(String),
    #[error(transparent)]
    Tls(#[from] CaError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Recording(#[from] RecordingError),
}

struct ProxyState {
    /// Scheme, authority and base path, no trailing slash.
    base: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    recorder: Recorder,
    now: NowFn,
}

/// A running proxy (for tests and the CLI).
pub struct RecordingProxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingProxy {
    pub async fn start(config: ProxyConfig) -> Result<Self, ProxyError> {
        let base = upstream_base(&config.upstream)?;
        let now = config.now.clone().unwrap_or_else(|| {
            let start = Instant::now();
            Arc::new(move || start.elapsed())
        });
        let epoch = SystemTime::now() - now();
        let recorder = Recorder::create(&config.out, epoch, &base)?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let connector = upstream_tls::connector(connector, config.upstream_ca.as_deref())?;
        // Idle upstream connections are dropped after 5 s, before servers drop them (the
        // mock after 10 s, load balancers after 60 s): reusing one the upstream is closing
        // fails the request, which the proxy would pass on as a reset it did not see happen.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(connector);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ProxyError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: config.listen,
            source,
        })?;
        let state = Arc::new(ProxyState {
            base,
            client,
            recorder,
            now,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Ok(RecordingProxy {
            addr,
            state,
            stop: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`: where the client under test points instead of Truora.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The recording's directory.
    pub fn out(&self) -> &std::path::Path {
        self.state.recorder.dir()
    }

    /// Stops accepting, then writes `recording.har` a last time.
    pub async fn shutdown(mut self) -> Result<(), ProxyError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        self.state.recorder.flush()?;
        Ok(())
    }

    /// Runs until `stop` completes (the CLI passes Ctrl-C), then writes the HAR.
    pub async fn run_until(mut self, stop: impl Future<Output = ()>) -> Result<(), ProxyError> {
        tokio::select! {
            () = stop => {}
            _ = &mut self.task => {}
        }
        self.shutdown().await
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `http(s)://host[:port][/base]` without a trailing slash.
fn upstream_base(url: &str) -> Result<String, ProxyError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| ProxyError::Upstream(url.to_string()))?;
    if !matches!(uri.scheme_str(), Some("http" | "https"))
        || uri.host().is_none()
        || uri.query().is_some()
    {
        return Err(ProxyError::Upstream(url.to_string()));
    }
    Ok(url.trim_end_matches('/').to_string())
}

async fn serve(listener: TcpListener, state: Arc<ProxyState>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut timelines_tick = tokio::time::interval(TIMELINES_EVERY);
    let mut har_tick = tokio::time::interval(HAR_EVERY);
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = timelines_tick.tick() => {
                write_off_the_loop(&state, Recorder::flush_timelines);
                continue;
            }
            _ = har_tick.tick() => {
                write_off_the_loop(&state, Recorder::flush_har);
                continue;
            }
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let control = Arc::new(ConnControl::default());
            let io = TokioIo::new(FaultableStream::new(stream, control.clone()));
            let svc = service_fn(move |req| handle(state.clone(), control.clone(), req));
            let _ = http1::Builder::new().serve_connection(io, svc).await;
        });
    }
}

/// What the client gets: the upstream's body as it streams, or the proxy's own 502.
type Answer = Either<Tee, Full<Bytes>>;

/// Runs a file write on the blocking pool, so the accept loop and the requests never wait
/// for the disk.
fn write_off_the_loop(state: &Arc<ProxyState>, write: fn(&Recorder) -> Result<(), RecordingError>) {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = write(&state.recorder) {
            tracing::warn!("{e}");
        }
    });
}

/// The service's error: the client's connection is closed (reset when the flag is set).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Abort(String);

/// Hop-by-hop headers, which belong to one connection and are not forwarded.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// An exchange being proxied. Captured when it ends; if the client hangs up first, hyper drops
/// the handler and `Drop` captures it as [`Failure::ClientGaveUp`].
struct InFlight {
    state: Arc<ProxyState>,
    at: Duration,
    request: Option<RecordedRequest>,
}

impl InFlight {
    fn finish(&mut self, response: Option<RecordedResponse>, failure: Option<Failure>) {
        let Some(request) = self.request.take() else {
            return;
        };
        let now = (self.state.now)();
        let raw = RawExchange {
            at: self.at,
            duration: now.saturating_sub(self.at),
            request,
            response,
            failure,
        };
        self.state.recorder.capture(raw);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.finish(None, Some(Failure::ClientGaveUp));
    }
}

async fn handle(
    state: Arc<ProxyState>,
    control: Arc<ConnControl>,
    req: Request<Incoming>,
) -> Result<Response<Answer>, Abort> {
    let at = (state.now)();
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| Abort(format!("reading the client's body: {e}")))?
        .to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let method = parts.method.clone();
    let recorded = CallKind::of(method.as_str(), &path) != CallKind::Other;
    let mut flight = InFlight {
        state: state.clone(),
        at,
        request: recorded.then(|| RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            headers: pairs(&parts.headers),
            body: String::from_utf8_lossy(&body).into_owned(),
        }),
    };

    let mut upstream = Request::builder()
        .method(method)
        .uri(format!("{}{path}", state.base));
    for (k, v) in &parts.headers {
        if !hop_by_hop(k.as_str()) {
            upstream = upstream.header(k, v);
        }
    }
    let upstream = upstream
        .body(Full::new(body))
        .map_err(|e| Abort(format!("building the upstream request: {e}")))?;

    let resp = match state.client.request(upstream).await {
        Ok(resp) => resp,
        Err(e) if e.is_connect() => {
            let why = match upstream_tls::tls_failure(&e) {
                Some(tls) => format!(
                    "TLS handshake failed: {tls} (a private or corporate CA is trusted with --upstream-ca FILE)"
                ),
                None => describe(&e),
            };
            tracing::warn!(
                "502 to the client: could not reach the upstream {}: {why}",
                state.base
            );
            flight.finish(None, Some(Failure::Unreachable));
            return Ok(unreachable(&state.base, &why));
        }
        Err(e) => {
            // The upstream closed or reset the connection without an answer.
            flight.finish(None, Some(Failure::Reset));
            control.reset_on_close();
            return Err(Abort(describe(&e)));
        }
    };
    let (head, body) = resp.into_parts();
    let mut out = Response::builder().status(head.status);
    for (k, v) in &head.headers {
        if !hop_by_hop(k.as_str()) {
            out = out.header(k, v);
        }
    }
    let mut tee = Tee {
        inner: body,
        kept: Vec::new(),
        status: head.status.as_u16(),
        headers: pairs(&head.headers),
        flight,
        control,
    };
    if tee.inner.is_end_stream() {
        // No body at all: hyper will not poll for one.
        let response = RecordedResponse {
            status: tee.status,
            headers: std::mem::take(&mut tee.headers),
            body: String::new(),
        };
        tee.flight.finish(Some(response), None);
    }
    out.body(Either::Left(tee))
        .map_err(|e| Abort(format!("building the answer: {e}")))
}

/// The upstream's body, passed to the client frame by frame as it comes (a slow body stays
/// slow) and kept for the recording, which is captured when it ends. An upstream that breaks
/// off mid-body resets the client's connection.
struct Tee {
    inner: Incoming,
    kept: Vec<u8>,
    status: u16,
    headers: Vec<(String, String)>,
    flight: InFlight,
    control: Arc<ConnControl>,
}

impl Body for Tee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.kept.extend_from_slice(data);
                }
                // With a Content-Length, hyper stops asking once it has that many bytes.
                this.inner.is_end_stream()
            }
            Poll::Ready(Some(Err(_))) => {
                this.flight.finish(None, Some(Failure::Reset));
                this.control.reset_on_close();
                false
            }
            Poll::Ready(None) => true,
            Poll::Pending => false,
        };
        if ended {
            let response = RecordedResponse {
                status: this.status,
                headers: std::mem::take(&mut this.headers),
                body: String::from_utf8_lossy(&this.kept).into_owned(),
            };
            this.flight.finish(Some(response), None);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// 502 in Truora's envelope: the proxy, not the upstream, is speaking.
fn unreachable(base: &str, why: &str) -> Response<Answer> {
    let e = ApiError::new(
        StatusCode::BAD_GATEWAY,
        format!("the recording proxy could not reach the upstream {base}: {why}"),
    );
    let mut resp = Response::new(Either::Right(Full::new(Bytes::from(e.body()))));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}
