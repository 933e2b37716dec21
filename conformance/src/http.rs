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
fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}
