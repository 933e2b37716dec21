//! A minimal HTTP/1 client (hyper) with a whole-exchange timeout: the `--client-url` driver
//! and `conformance server` need nothing more, and it keeps the crate off heavier clients.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub use ::http::Method;

/// One request.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One response, body read in full.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: ::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid URL `{0}`: use http://host:port/path")]
    Url(String),
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("{0}")]
    Transport(String),
}

/// Sends a request and reads the whole response within `timeout`.
pub async fn send(req: Req, timeout: Duration) -> Result<Resp, HttpError> {
    let uri: ::http::Uri = req
        .url
        .parse()
        .map_err(|_| HttpError::Url(req.url.clone()))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(HttpError::Url(req.url.clone()));
    }
    let mut builder = ::http::Request::builder().method(req.method).uri(uri);
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder
        .body(Full::new(Bytes::from(req.body)))
        .map_err(|e| HttpError::Transport(e.to_string()))?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let resp = client
            .request(request)
            .await
            .map_err(|e| HttpError::Transport(describe(&e)))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| HttpError::Transport(format!("reading the body: {e}")))?
            .to_bytes();
        Ok(Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HttpError::Timeout(timeout))?
}

/// The error and its causes on one line (hyper's top-level message alone says little).
pub fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// How long [`await_listening`] keeps retrying a refused connection.
pub const LISTEN_GRACE: Duration = Duration::from_secs(5);

/// Waits until something accepts TCP connections at `url`'s host and port, retrying a refused
/// connection every 50 ms for up to `grace`.
///
/// Why: the documented way to try a service is one line, `service.py 8099 & truidentidad-mock
/// load --client-url http://127.0.0.1:8099 …`, which starts both at once; the first connect can
/// come before the service has bound its port, and that must not read as a broken client. Only
/// a refusal is retried: any other error (a name that does not resolve, no route) is final.
pub async fn await_listening(url: &str, grace: Duration) -> std::io::Result<()> {
    let invalid = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{url}` is not an http://host:port URL"),
        )
    };
    let uri: ::http::Uri = url.parse().map_err(|_| invalid())?;
    let host = uri.host().ok_or_else(invalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        match tokio::net::TcpStream::connect((host, port)).await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionRefused
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port that was free a moment ago: connections to it are refused.
    fn refused_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(9)
    }

    #[tokio::test]
    async fn a_listener_that_binds_late_is_waited_for() {
        let port = refused_port();
        let url = format!("http://127.0.0.1:{port}/follow");
        let late = tokio::spawn(async move {
            // Let the first attempts be refused, then bind (a service still starting up).
            tokio::time::sleep(Duration::from_millis(150)).await;
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            listener.accept().await.map(|_| ())
        });
        await_listening(&url, LISTEN_GRACE)
            .await
            .expect("reached once it binds");
        late.await.expect("joined").expect("accepted");
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_listening_is_reported_after_the_grace() {
        let url = format!("http://127.0.0.1:{}", refused_port());
        let err = await_listening(&url, LISTEN_GRACE)
            .await
            .expect_err("nothing binds");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    #[tokio::test]
    async fn a_url_without_a_host_is_invalid_input() {
        let err = await_listening("not a url", LISTEN_GRACE)
            .await
            .expect_err("invalid");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("`not a url`"), "{err}");
    }
}
