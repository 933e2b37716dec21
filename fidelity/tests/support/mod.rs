//! Shared pieces of the fidelity tests: an upstream mock on a manual clock, a recording proxy
//! timed by that clock, and a small client that polls by moving the clock.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use truidentidad_conformance::http::{self, HttpError, Method, Req, Resp};
use truidentidad_fidelity::proxy::{ProxyConfig, RecordingProxy};
use truidentidad_mock_server::MockServer;

pub const KEY: &str = "sk-live-real-key-123";
pub const DOCUMENT: &str = "1020304050";
pub const CLIENT_IP: &str = "203.0.113.7";
pub const NAME: &str = "Anastasia";

/// A proxy to `upstream_url` whose offsets are `clock`'s readings.
pub async fn proxy(upstream_url: &str, clock: &MockServer, out: &Path) -> RecordingProxy {
    proxy_trusting(upstream_url, None, clock, out).await
}

/// [`proxy`], trusting the PEM roots in `upstream_ca` as well (`--upstream-ca`).
pub async fn proxy_trusting(
    upstream_url: &str,
    upstream_ca: Option<PathBuf>,
    clock: &MockServer,
    out: &Path,
) -> RecordingProxy {
    let state = clock.state().clone();
    RecordingProxy::start(ProxyConfig {
        upstream: upstream_url.to_string(),
        upstream_ca,
        out: out.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        now: Some(Arc::new(move || state.now())),
    })
    .await
    .expect("proxy starts")
}

/// The message of the proxy's own 502, after checking it is in Truora's envelope.
pub fn bad_gateway_message(r: &Resp) -> String {
    assert_eq!(r.status, 502);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json().expect("JSON");
    assert_eq!(v["http_code"], 502);
    assert_eq!(v["code"], 20502);
    v["message"].as_str().expect("message").to_string()
}

pub async fn send(
    base: &str,
    method: Method,
    path: &str,
    key: &str,
    body: &str,
    timeout: Duration,
) -> Result<Resp, HttpError> {
    let mut headers = vec![
        ("Truora-API-Key".to_string(), key.to_string()),
        ("X-Forwarded-For".to_string(), CLIENT_IP.to_string()),
    ];
    if method == Method::POST {
        headers.push((
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ));
    }
    http::send(
        Req {
            method,
            url: format!("{base}{path}"),
            headers,
            body: body.as_bytes().to_vec(),
        },
        timeout,
    )
    .await
}

pub const T: Duration = Duration::from_secs(10);

/// Creates a validation for `account` with a document number and a name, as an integrator's
/// backend would; its id.
pub async fn create(base: &str, account: &str) -> String {
    let form = format!(
        "type=government&account_id={account}&user_authorized=true&document_number={DOCUMENT}&first_name={NAME}"
    );
    let r = send(base, Method::POST, "/v1/validations", KEY, &form, T)
        .await
        .expect("create answered");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
        .and_then(|v| v["validation_id"].as_str().map(str::to_string))
        .expect("validation_id")
}

/// Polls once a (virtual) second until the validation finishes; the statuses seen.
pub async fn follow(base: &str, clock: &MockServer, id: &str) -> Vec<u16> {
    let mut seen = Vec::new();
    for _ in 0..30 {
        clock.advance(Duration::from_secs(1));
        let r = send(
            base,
            Method::GET,
            &format!("/v1/validations/{id}"),
            KEY,
            "",
            T,
        )
        .await
        .expect("poll answered");
        seen.push(r.status);
        if r.status == 200
            && r.json()
                .is_some_and(|v| v["validation_status"] != "pending")
        {
            break;
        }
    }
    seen
}
