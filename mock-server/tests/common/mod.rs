//! A tiny HTTP/1.1 client over a raw socket, so tests see exactly what the server sends
//! (including broken bodies and closed connections) without a client library in between.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use truidentidad_mock_server::MockServer;

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How a raw exchange ended.
#[derive(Debug)]
pub enum Outcome {
    Response(Resp),
    /// The server closed the connection (FIN) without a response.
    Closed,
    /// The connection was reset (RST).
    Reset,
    /// Nothing arrived within the deadline.
    TimedOut,
}

/// Sends raw bytes and reads until the server closes, with a deadline.
pub async fn raw(addr: SocketAddr, bytes: &[u8], deadline: Duration) -> Outcome {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(deadline, async {
        let mut chunk = [0u8; 8192];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) => return Ok(()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    match read {
        Err(_) if buf.is_empty() => Outcome::TimedOut,
        Err(_) => Outcome::Response(parse(&buf)),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Outcome::Reset,
        Ok(Err(e)) => panic!("read error: {e}"),
        Ok(Ok(())) if buf.is_empty() => Outcome::Closed,
        Ok(Ok(())) => Outcome::Response(parse(&buf)),
    }
}

fn parse(buf: &[u8]) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(i) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        let start = i + 2;
        out.extend_from_slice(&b[start..(start + n).min(b.len())]);
        b = &b[(start + n + 2).min(b.len())..];
    }
}

/// One request with `Connection: close`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    match raw(addr, &bytes, Duration::from_secs(10)).await {
        Outcome::Response(r) => r,
        other => panic!("{method} {path}: expected a response, got {other:?}"),
    }
}

pub const KEY: &str = "test-key";
pub const FORM: &str = "application/x-www-form-urlencoded";

/// `POST /v1/validations` with a form body and the test key.
pub async fn create(server: &MockServer, form: &str) -> Resp {
    request(
        server.address(),
        "POST",
        "/v1/validations",
        &[("Truora-API-Key", KEY), ("Content-Type", FORM)],
        form.as_bytes(),
    )
    .await
}

/// Creates a validation and returns its id.
pub async fn create_id(server: &MockServer, form: &str) -> String {
    let r = create(server, form).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["validation_id"]
        .as_str()
        .expect("validation_id")
        .to_string()
}

/// `GET /v1/validations/{id}` with the test key.
pub async fn poll(server: &MockServer, id: &str) -> Resp {
    request(
        server.address(),
        "GET",
        &format!("/v1/validations/{id}"),
        &[("Truora-API-Key", KEY)],
        b"",
    )
    .await
}

pub async fn get(server: &MockServer, path: &str) -> Resp {
    request(server.address(), "GET", path, &[], b"").await
}

pub async fn post_json(server: &MockServer, path: &str, json: &str) -> Resp {
    request(
        server.address(),
        "POST",
        path,
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
    .await
}

/// A manual-clock server with a fixed seed.
pub async fn manual_server() -> MockServer {
    MockServer::builder()
        .seed(42)
        .manual_clock()
        .start()
        .await
        .expect("start")
}

/// Insta settings that hide what changes between runs (ids, dates, addresses, timings).
pub fn redactions() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"VLD[0-9a-f]{32}", "[validation_id]");
    s.add_filter(r"ACC[0-9a-f]{32}", "[account_id]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[date]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    s.add_filter(
        r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
        "[http-date]",
    );
    s
}
