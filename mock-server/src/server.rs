//! Listening, accepting and serving connections, and [`MockServer`], the in-process handle.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::config::{ClockMode, ConfigError, ServerConfig};
use crate::conn::{ConnControl, FaultableStream};
use crate::exchange::ConnInfo;
use crate::ids::ValidationId;
use crate::journal::{Journal, JournalEntry};
use crate::service::handle;
use crate::state::AppState;
use crate::stop::StopSignal;
use crate::store::View;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    State(#[from] crate::persist::PersistError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// How long in-flight requests get to finish when the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds the configured address and builds the state; nothing is served until [`serve`].
pub async fn bind(config: ServerConfig) -> Result<(TcpListener, Arc<AppState>), ServeError> {
    let addr = SocketAddr::new(config.bind, config.port);
    let saved = match &config.state_file {
        Some(path) => crate::persist::read(path)?,
        None => None,
    };
    let path = config.state_file.clone();
    let state =
        Arc::new(AppState::resuming(config, saved.as_ref().map(crate::persist::resume)).await?);
    if let (Some(file), Some(path)) = (saved, path) {
        let n = crate::persist::restore(&state, file, &path)?;
        tracing::info!("restored {n} validations from {}", path.display());
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok((listener, state))
}

/// Serves connections until `shutdown` completes, then lets in-flight requests finish for a
/// few seconds.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let stop = StopSignal::new();
    let snapshots = crate::snapshotter::start(&state);
    let limit = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut stop_watch = stop.watch();
        state.metrics.connection_opened();
        tokio::spawn(async move {
            let control = Arc::new(ConnControl::default());
            let io = TokioIo::new(FaultableStream::new(stream, control.clone()));
            let info = Arc::new(ConnInfo { remote, control });
            let svc_state = state.clone();
            let svc = service_fn(move |req| handle(&svc_state, &info, req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(
                    Some(state.config.header_read_timeout).filter(|t| !t.is_zero()),
                )
                .max_buf_size(state.config.max_header_bytes.max(8192))
                .serve_connection(io, svc);
            tokio::pin!(conn);
            // The stop is checked first on every wake-up: one atomic load (see `crate::stop`).
            let stopping = std::future::poll_fn(|cx| {
                if stop_watch.poll_stopped(cx) {
                    return Poll::Ready(true);
                }
                conn.as_mut().poll(cx).map(|_| false)
            })
            .await;
            drop(stop_watch);
            if stopping {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
            }
            state.metrics.connection_closed();
            drop(permit);
        });
    }
    drop(listener);
    stop.stop();
    // Every connection holds a permit: once all are back, nothing is in flight.
    let all = u32::try_from(state.config.max_connections.max(1)).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(
        SHUTDOWN_GRACE + Duration::from_secs(1),
        limit.acquire_many(all),
    )
    .await;
    if drained.is_err() {
        tracing::warn!("some connections were still open after the grace period");
    }
    // A periodic save still being written finishes first; the final save is then the last.
    if let Some(s) = snapshots {
        s.stop().await;
    }
    if let Some(path) = &state.config.state_file {
        match crate::persist::save(&state, path) {
            Ok(n) => tracing::info!("saved {n} validations to {}", path.display()),
            Err(e) => tracing::error!("{e}"),
        }
    }
}

/// A mock server running inside the current tokio runtime, for Rust tests.
///
/// It listens on a free loopback port and stops when dropped (the port is released at once,
/// in-flight requests get a short grace period).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use truidentidad_mock_server::MockServer;
///
/// let server = MockServer::builder().seed(7).manual_clock().start().await.unwrap();
/// // Point the client under test at `server.uri()`, e.g. `TRUORA_API_BASE_URL`.
/// assert!(server.uri().starts_with("http://127.0.0.1:"));
/// // Move virtual time instead of sleeping.
/// server.advance(std::time::Duration::from_secs(3));
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// A server with default settings on a free loopback port.
    ///
    /// # Panics
    /// If no loopback port can be bound; use [`MockServerBuilder::start`] to handle that.
    pub async fn start() -> Self {
        match Self::builder().start().await {
            Ok(s) => s,
            Err(e) => panic!("could not start the mock server: {e}"),
        }
    }

    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Base URL, e.g. `http://127.0.0.1:40123` (append `/v1/validations`).
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state: store, journal, clock. Shared, so it can be read after
    /// [`MockServer::shutdown`] (the conformance suite grades the journal once every handler
    /// has finished).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The request journal: what the server received and how it answered.
    pub fn journal(&self) -> &Journal {
        self.state.journal()
    }

    /// Journal entries matching `filter`, oldest first.
    pub fn requests(&self, filter: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        self.state.journal().query(usize::MAX, filter)
    }

    /// A validation as it stands now, without counting a poll.
    pub fn validation(&self, id: ValidationId) -> Option<View> {
        self.state.validation(id)
    }

    /// The server clock's reading now (time since the server started).
    pub fn now(&self) -> Duration {
        self.state.now()
    }

    /// Moves a manual clock forward. Returns `false` on the real clock, or past the manual
    /// clock's limit ([`crate::clock::MAX_READING`]).
    pub fn advance(&self, by: Duration) -> bool {
        self.state.clock.advance(by).is_ok()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for that.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Settings for an in-process [`MockServer`]; the same knobs as `truidentidad-mock serve`.
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    config: ServerConfig,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            config: ServerConfig {
                port: 0,
                request_log: false,
                ..ServerConfig::default()
            },
        }
    }
}

impl MockServerBuilder {
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Accept only this key (repeat to accept several).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_keys.push(key.into());
        self
    }

    /// Run on virtual time, moved by [`MockServer::advance`] or the control API.
    pub fn manual_clock(mut self) -> Self {
        self.config.clock = ClockMode::Manual;
        self
    }

    /// Await-person mode for every validation (see [`ServerConfig::await_person`]).
    pub fn await_person(mut self, on: bool) -> Self {
        self.config.await_person = on;
        self
    }

    pub fn default_scenario(mut self, name: impl Into<String>) -> Self {
        self.config.default_scenario = name.into();
        self
    }

    /// Any other setting.
    pub fn configure(mut self, f: impl FnOnce(&mut ServerConfig)) -> Self {
        f(&mut self.config);
        self
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    pub async fn start(self) -> Result<MockServer, ServeError> {
        let (listener, state) = bind(self.config).await?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: SocketAddr::new(state.config.bind, state.config.port),
            source,
        })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Ok(MockServer {
            addr,
            state,
            stop: Some(tx),
            task: Some(task),
        })
    }
}
