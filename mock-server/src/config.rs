//! Server settings. The CLI's `serve` options map one to one onto [`ServerConfig`], and the
//! in-process [`crate::MockServer`] builder sets the same fields, so tests and users run the
//! same server.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_scenarios::{Catalogue, Mix, MixSpec};

pub use crate::clock::ClockMode;

/// Everything a server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Seed for ids, mixes and random delays; `None` draws one from the time of day.
    pub seed: Option<u64>,
    /// Accepted `Truora-API-Key` values; empty accepts any non-empty key.
    pub api_keys: Vec<String>,
    pub clock: ClockMode,
    /// Scenarios known to the server (built-in plus files).
    pub catalogue: Arc<Catalogue>,
    /// Name of the scenario used when nothing selects one. A name, not a `ScenarioId`: the
    /// catalogue it refers to may still change (files added, a test's own catalogue), so it is
    /// resolved, and an unknown name refused, when the server is built ([`Self::resolve`]).
    pub default_scenario: String,
    /// Weighted mix replacing the default scenario, if set: syntax checked when it is parsed
    /// (`--mix` fails at the command line), names resolved with the default scenario's.
    pub mix: Option<MixSpec>,
    /// Most validations kept in memory before the oldest finished ones are evicted.
    pub max_validations: usize,
    /// Journal entries kept (0 disables the journal).
    pub journal_capacity: usize,
    /// One log line per request on stderr.
    pub request_log: bool,
    /// Where request lines go when `request_log` is on: a batching sink (what `serve` uses),
    /// or, when `None`, one tracing event per request (what embedders and tests get).
    pub log_sink: Option<Arc<crate::log_sink::LogSink>>,
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers) accepted.
    pub max_header_bytes: usize,
    /// Time allowed to receive a request head, so slow clients cannot hold a connection
    /// (zero turns the limit off).
    pub header_read_timeout: Duration,
    /// Time allowed to receive a request body.
    pub body_read_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Token every control-API, dashboard and journal request must carry
    /// (`Authorization: Bearer …` or `X-Mock-Admin-Token`). Required when binding off loopback,
    /// because that API can change outcomes and shows every request.
    pub admin_token: Option<String>,
    /// Where validations and the journal are saved on shutdown and loaded on start.
    pub state_file: Option<std::path::PathBuf>,
    /// Also save the state file this often while serving (`--snapshot-every`), so a crash
    /// (SIGKILL, out of memory, power cut) loses at most that window.
    pub snapshot_every: Option<Duration>,
    /// A fleet-wide rate limit on API requests (`--rate-limit`), answered 429 with Retry-After.
    pub rate_limit: Option<crate::conditions::RateLimit>,
    /// Periods of added latency or 503s on every API request (`--brownout`).
    pub brownouts: Vec<crate::conditions::Brownout>,
    /// Await-person mode for every validation (a create's `X-Mock-Await-Person` header
    /// overrides it): the scenario's clock waits until the person uploads the video, however
    /// late the SDK opens. Off by default so backend-only tests keep the fast path.
    pub await_person: bool,
    /// Where validations live: in this process (the default) or in Redis, shared by replicas.
    pub store: StoreConfig,
    /// `--key-isolation`: a validation is visible only to the API key that created it; to any
    /// other key it is a 404, as if another Truora tenant's. Off by default (any key sees all).
    pub key_isolation: bool,
    /// `--key-expiry`: a JWT-shaped API key is refused with 403 once its `exp` claim has
    /// passed on the mock's clock. Off by default (any non-empty key passes).
    pub key_expiry: bool,
}

/// Where validations live (`--store`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreConfig {
    /// In this process's memory: the fastest, and lost when the process stops (unless
    /// `--state-file` saves it).
    #[default]
    Memory,
    /// In Redis, so several replicas behind a load balancer answer any request identically
    /// (see docs/scale-out.md).
    Redis(crate::store::redis::RedisUrl),
}

impl std::str::FromStr for StoreConfig {
    type Err = crate::store::redis::RedisUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "memory" {
            return Ok(StoreConfig::Memory);
        }
        s.parse().map(StoreConfig::Redis)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            seed: None,
            api_keys: Vec::new(),
            clock: ClockMode::Real,
            catalogue: Arc::new(Catalogue::builtin()),
            default_scenario: truidentidad_scenarios::catalogue::DEFAULT_SCENARIO.to_string(),
            mix: None,
            max_validations: 1_000_000,
            journal_capacity: 10_000,
            request_log: true,
            log_sink: None,
            max_body_bytes: 64 * 1024,
            max_header_bytes: 16 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            admin_token: None,
            state_file: None,
            snapshot_every: None,
            rate_limit: None,
            brownouts: Vec::new(),
            await_person: false,
            store: StoreConfig::Memory,
            key_isolation: false,
            key_expiry: false,
        }
    }
}

/// A configuration that cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown default scenario `{name}`; known scenarios: {known}")]
    UnknownDefault { name: String, known: String },
    #[error("invalid --mix: {0}")]
    Mix(#[from] truidentidad_scenarios::MixError),
    #[error("--api-key values must not be empty")]
    EmptyApiKey,
    #[error("--max-validations must be at least 1")]
    NoCapacity,
    #[error(
        "refusing to listen on {0} without --admin-token: off loopback, anyone who can reach the port could change outcomes and read every request through /_mock/; pass --admin-token TOKEN (or bind 127.0.0.1)"
    )]
    AdminTokenRequired(IpAddr),
    #[error("--admin-token must not be empty")]
    EmptyAdminToken,
    #[error(
        "--state-file cannot be combined with --store redis://…: Redis keeps the validations itself (choose its persistence, see docs/scale-out.md)"
    )]
    StateFileWithRedis,
    #[error(
        "cannot reach the Redis store: {0}; start Redis first, or check --store (the server waited for it before giving up)"
    )]
    StoreUnavailable(String),
}

impl ServerConfig {
    /// Checks the settings that can be wrong, and resolves names against the catalogue.
    pub fn resolve(&self) -> Result<(u16, Option<Mix>), ConfigError> {
        let default = self
            .catalogue
            .id_of(&self.default_scenario)
            .ok_or_else(|| ConfigError::UnknownDefault {
                name: self.default_scenario.clone(),
                known: self.catalogue.names(),
            })?;
        let mix = self
            .mix
            .as_ref()
            .map(|m| m.resolve(&self.catalogue))
            .transpose()?;
        if self.api_keys.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyApiKey);
        }
        if self.max_validations == 0 {
            return Err(ConfigError::NoCapacity);
        }
        if self.state_file.is_some() && matches!(self.store, StoreConfig::Redis(_)) {
            return Err(ConfigError::StateFileWithRedis);
        }
        match &self.admin_token {
            Some(t) if t.is_empty() => return Err(ConfigError::EmptyAdminToken),
            None if !self.bind.is_loopback() => {
                return Err(ConfigError::AdminTokenRequired(self.bind));
            }
            _ => {}
        }
        Ok((default, mix))
    }
}
