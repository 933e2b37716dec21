//! `--store redis://HOST:PORT/DB?namespace=NAME&timeout_ms=N`: where the shared store is.

use std::str::FromStr;
use std::time::Duration;

/// Where the Redis store lives, and how long one call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// The URL without its query, as the `redis` crate reads it.
    url: String,
    /// Prefix of every key, so several mocks (or test runs) can share one Redis database.
    pub namespace: String,
    /// Longest wait for Redis per call (connect, send or answer) before a 503.
    pub timeout: Duration,
}

/// The namespace when the URL names none.
pub const DEFAULT_NAMESPACE: &str = "tim";
/// The per-call timeout when the URL names none: long enough for a busy Redis, short enough
/// that a client's own timeout (often 5 to 30 s) sees a clear 503 first.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisUrlError {
    #[error(
        "--store must be `memory` or redis://HOST:PORT/DB (e.g. redis://127.0.0.1:6379/0), got `{0}`"
    )]
    Scheme(String),
    #[error("--store: unknown option `{0}`; the options are namespace=NAME and timeout_ms=N")]
    Option(String),
    #[error("--store: {0}")]
    Invalid(String),
}

impl FromStr for RedisUrl {
    type Err = RedisUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.starts_with("redis://") {
            return Err(RedisUrlError::Scheme(s.to_string()));
        }
        let (url, query) = s.split_once('?').unwrap_or((s, ""));
        let mut out = RedisUrl {
            url: url.to_string(),
            namespace: DEFAULT_NAMESPACE.to_string(),
            timeout: DEFAULT_TIMEOUT,
        };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "namespace" if !v.is_empty() && !v.contains(char::is_whitespace) => {
                    out.namespace = v.into_owned();
                }
                "namespace" => {
                    return Err(RedisUrlError::Invalid(format!(
                        "namespace must be a non-empty word, got `{v}`"
                    )));
                }
                "timeout_ms" => {
                    let ms = v.parse::<u64>().ok().filter(|ms| (1..=60_000).contains(ms));
                    out.timeout = Duration::from_millis(ms.ok_or_else(|| {
                        RedisUrlError::Invalid(format!(
                            "timeout_ms must be a whole number from 1 to 60000, got `{v}`"
                        ))
                    })?);
                }
                other => return Err(RedisUrlError::Option(other.to_string())),
            }
        }
        out.client()?;
        Ok(out)
    }
}

impl RedisUrl {
    pub(crate) fn client(&self) -> Result<redis::Client, RedisUrlError> {
        redis::Client::open(self.url.as_str()).map_err(|e| RedisUrlError::Invalid(e.to_string()))
    }

    /// `HOST:PORT/DB`, for messages (never a password).
    pub fn addr(&self) -> String {
        let rest = self.url.trim_start_matches("redis://");
        rest.rsplit_once('@').map_or(rest, |(_, r)| r).to_string()
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redis://{}", self.addr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_address_namespace_and_timeout() {
        let u: RedisUrl = "redis://127.0.0.1:6380/2?namespace=ci&timeout_ms=250"
            .parse()
            .unwrap();
        assert_eq!(u.addr(), "127.0.0.1:6380/2");
        assert_eq!(u.namespace, "ci");
        assert_eq!(u.timeout, Duration::from_millis(250));
        let d: RedisUrl = "redis://:secret@db:6379/0".parse().unwrap();
        assert_eq!(
            (d.addr().as_str(), d.namespace.as_str()),
            ("db:6379/0", "tim")
        );
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        let errs: Vec<String> = [
            "http://x",
            "redis://h:1/0?nope=1",
            "redis://h:1/0?timeout_ms=0",
            "redis://h:1/0?namespace=",
        ]
        .iter()
        .map(|s| s.parse::<RedisUrl>().unwrap_err().to_string())
        .collect();
        insta::assert_snapshot!(errs.join("\n"));
    }
}
