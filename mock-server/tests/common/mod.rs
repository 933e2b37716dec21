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
        header(&self.headers, name)
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

/// Sends raw request bytes on a new connection and reads exactly one response: the head, then
/// `Content-Length` body bytes (the server may close right after, e.g. a 413), or, without a
/// length, everything up to EOF (de-chunked). A hang guard, not a speed check: the server
/// answers in milliseconds. Panics if the connection closes before a complete response.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Resp {
    let read = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect to the mock");
        stream.write_all(request).await.expect("send the request");
        read_response(&mut stream).await
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("no response within 60 s")
}

async fn read_response(stream: &mut TcpStream) -> Resp {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = head_end(&buf) {
            break i;
        }
        let n = stream
            .read(&mut chunk)
            .await
            .expect("read the response head");
        assert!(
            n > 0,
            "connection closed before a response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    assert!(
        std::str::from_utf8(&buf[..head_end]).is_ok(),
        "response head is UTF-8"
    );
    let (status, headers) = parse_head(&buf[..head_end]);
    let mut body = buf[head_end + 4..].to_vec();
    let length = header(&headers, "content-length")
        .map(|v| v.parse::<usize>().expect("numeric Content-Length"));
    match length {
        // Stop at the declared length: the server may close right after (e.g. a 413).
        Some(len) => {
            while body.len() < len {
                let n = stream
                    .read(&mut chunk)
                    .await
                    .expect("read the response body");
                assert!(
                    n > 0,
                    "connection closed after {} of {len} body bytes",
                    body.len()
                );
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(len);
        }
        None => {
            // Every request says `Connection: close`, so the body ends at EOF.
            let _ = stream.read_to_end(&mut body).await;
            if is_chunked(&headers) {
                body = dechunk(&body);
            }
        }
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// Where the head ends (the index of its blank line's `\r\n\r\n`).
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The status code and headers of a response head (without its blank line).
fn parse_head(head: &[u8]) -> (u16, Vec<(String, String)>) {
    let head = String::from_utf8_lossy(head).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
}

/// Parses a whole response read up to EOF (or a deadline).
fn parse(buf: &[u8]) -> Resp {
    let split = head_end(buf)
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let (status, headers) = parse_head(&buf[..split]);
    let mut body = buf[split + 4..].to_vec();
    if is_chunked(&headers) {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// Decodes a chunked body; a truncated one yields what arrived.
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

/// The bytes of a request with `Connection: close` and, when there is a body or the method
/// is POST, a `Content-Length` from the body.
pub fn request_bytes(
    host: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One request with `Connection: close`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let bytes = request_bytes(&addr.to_string(), method, path, headers, body);
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
