//! The pool against scripted loopback servers: the cap, replacement of broken connections,
//! connections the server closes while idle or just as they are reused (and which requests
//! are then resent), timeouts, connect failures, and the bytes sent.
//! No test depends on how fast anything runs: waits are on events, with generous bounds only
//! to fail instead of hanging.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::*;
use crate::client::{Api, Status};

/// What the scripted server does with one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    /// Write these bytes and keep the connection.
    Send(&'static [u8]),
    /// Write these bytes, then close the connection.
    SendClose(&'static [u8]),
    /// Never answer (the connection stays open).
    Hold,
    /// Write these bytes, then keep the connection open without reading from it again, so
    /// a client's half-close gets no close back.
    SendStayOpen(&'static [u8]),
    /// Close without answering (FIN), as a server dropping an idle keep-alive connection does
    /// when the request arrives at the moment it closes.
    Close,
    /// The same with a reset (RST): the client's read fails with `ECONNRESET`.
    Reset,
}

const PENDING: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 54\r\n\r\n{\"validation_id\":\"VLD1\",\"validation_status\":\"pending\"}";

/// A loopback server answering each request (read up to its blank line, plus a body of its
/// `Content-Length`) with the next scripted reply, whatever the connection; [`PENDING`] once
/// the script runs out. It counts connections accepted, open now and open at most, and keeps
/// every request it read.
struct Server {
    url: String,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl Server {
    /// `gate`: replies wait until this many connections are open at once (0: no wait).
    async fn start(script: Vec<Reply>, gate: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let server = Server {
            url,
            accepted: Arc::default(),
            open: Arc::default(),
            max_open: Arc::default(),
            requests: Arc::default(),
        };
        let (accepted, open, max_open, requests) = (
            server.accepted.clone(),
            server.open.clone(),
            server.max_open.clone(),
            server.requests.clone(),
        );
        let script = Arc::new(std::sync::Mutex::new(VecDeque::from(script)));
        let (opened_tx, opened_rx) = watch::channel(0usize);
        let opened_tx = Arc::new(opened_tx);
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                max_open.fetch_max(now, Ordering::SeqCst);
                opened_tx.send_modify(|n| *n = (*n).max(now));
                let (open, script, requests) = (open.clone(), script.clone(), requests.clone());
                let mut opened = opened_rx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    'conn: loop {
                        let end = loop {
                            if let Some(end) = request_end(&buf) {
                                break end;
                            }
                            match s.read(&mut chunk).await {
                                Ok(0) | Err(_) => break 'conn,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let request: Vec<u8> = buf.drain(..end).collect();
                        if let Ok(mut r) = requests.lock() {
                            r.push(request);
                        }
                        // Held until enough connections were open at once.
                        if opened.wait_for(|n| *n >= gate).await.is_err() {
                            break;
                        }
                        let next = script.lock().ok().and_then(|mut r| r.pop_front());
                        match next.unwrap_or(Reply::Send(PENDING)) {
                            Reply::Send(bytes) => {
                                if s.write_all(bytes).await.is_err() {
                                    break;
                                }
                            }
                            Reply::SendClose(bytes) => {
                                let _ = s.write_all(bytes).await;
                                break;
                            }
                            Reply::Hold => {
                                // Until the client gives up on the connection.
                                while s.read(&mut chunk).await.is_ok_and(|n| n > 0) {}
                                break;
                            }
                            Reply::SendStayOpen(bytes) => {
                                let _ = s.write_all(bytes).await;
                                // Open until the test's runtime ends.
                                std::future::pending::<()>().await;
                            }
                            Reply::Close => break,
                            Reply::Reset => {
                                let _ = s.set_zero_linger();
                                break;
                            }
                        }
                    }
                    drop(s);
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        server
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Where the first request in `buf` ends (head and `Content-Length` body), if it is all in.
fn request_end(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(&buf[..head]).ok()?;
    let len = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head + len).then_some(head + len)
}

fn api(url: &str, timeout: Duration, max: usize) -> Api {
    Api::new(url, "bench-key", timeout, max).expect("valid test target")
}

/// Runs `f` with a bound, so a broken pool fails the test instead of hanging it.
async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("finished within 30 s")
}

/// The request as HTTP compares it: method, path, header fields (names without case, in
/// order of name), body.
type Parsed = (String, String, BTreeMap<String, String>, String);

fn parse_request(wire: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(head)) = req.parse(wire) else {
        panic!("request parses: {}", String::from_utf8_lossy(wire));
    };
    let fields = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect::<BTreeMap<_, _>>();
    assert_eq!(fields.len(), req.headers.len(), "no header field twice");
    (
        req.method.unwrap_or_default().to_string(),
        req.path.unwrap_or_default().to_string(),
        fields,
        String::from_utf8_lossy(&wire[head..]).into_owned(),
    )
}

/// The requests are those the hyper client sent. Expected values were captured from it (a
/// loopback listener printing what `Api` wrote, before the change):
///
/// ```text
/// POST /v1/validations HTTP/1.1\r\ntruora-api-key: bench-key\r\ncontent-type: application/x-www-form-urlencoded\r\nhost: 127.0.0.1:46625\r\ncontent-length: 75\r\n\r\ntype=government&account_id=success.load-7-1&user_authorized=true&country=CO
/// POST /v1/validations HTTP/1.1\r\ntruora-api-key: bench-key\r\ncontent-type: application/x-www-form-urlencoded\r\nx-mock-scenario: quick-declined\r\nhost: 127.0.0.1:46625\r\ncontent-length: 67\r\n\r\ntype=government&account_id=load-7-2&user_authorized=true&country=CO
/// GET /v1/validations/VLD1 HTTP/1.1\r\ntruora-api-key: bench-key\r\nhost: 127.0.0.1:46625\r\n\r\n
/// ```
///
/// and the same paths under `/api` for the target `http://127.0.0.1:46625/api/`.
#[tokio::test]
async fn requests_are_the_hyper_clients() {
    let server = Server::start(vec![], 0).await;
    let host = server.url.trim_start_matches("http://").to_string();
    for base in [server.url.clone(), format!("{}/api/", server.url)] {
        let api = api(&base, Duration::from_secs(10), 4);
        bounded(async {
            assert_eq!(
                api.create("success.load-7-1", None).await,
                Ok("VLD1".into())
            );
            assert_eq!(
                api.create("load-7-2", Some("quick-declined")).await,
                Ok("VLD1".into())
            );
            assert_eq!(api.get("VLD1").await, Ok(Status::Pending));
        })
        .await;
    }
    let fields = |extra: &[(&str, &str)]| -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> =
            [("truora-api-key", "bench-key"), ("host", host.as_str())]
                .iter()
                .chain(extra)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        m.retain(|_, v| !v.is_empty());
        m
    };
    let form = "application/x-www-form-urlencoded";
    let mut want = Vec::new();
    for prefix in ["", "/api"] {
        want.push((
            "POST".to_string(),
            format!("{prefix}/v1/validations"),
            fields(&[("content-type", form), ("content-length", "75")]),
            "type=government&account_id=success.load-7-1&user_authorized=true&country=CO".into(),
        ));
        want.push((
            "POST".to_string(),
            format!("{prefix}/v1/validations"),
            fields(&[
                ("content-type", form),
                ("x-mock-scenario", "quick-declined"),
                ("content-length", "67"),
            ]),
            "type=government&account_id=load-7-2&user_authorized=true&country=CO".into(),
        ));
        want.push((
            "GET".to_string(),
            format!("{prefix}/v1/validations/VLD1"),
            fields(&[]),
            String::new(),
        ));
    }
    let got: Vec<Parsed> = server.requests().iter().map(|r| parse_request(r)).collect();
    assert_eq!(got, want);
}

#[test]
fn host_header_and_address_follow_hyper_util() {
    let get = |url: &str| {
        let a = api(url, Duration::from_secs(1), 1);
        let wire = a.get_bytes("V").expect("valid id");
        (
            parse_request(&wire).2["host"].clone(),
            a.socket_addr().to_string(),
        )
    };
    // The port only when it is not http's default, as hyper-util's Host; always when
    // connecting.
    assert_eq!(
        get("http://localhost"),
        ("localhost".into(), "localhost:80".into())
    );
    assert_eq!(
        get("http://localhost:80/"),
        ("localhost".into(), "localhost:80".into())
    );
    assert_eq!(
        get("http://127.0.0.1:8080"),
        ("127.0.0.1:8080".into(), "127.0.0.1:8080".into())
    );
    assert_eq!(get("http://[::1]:9/"), ("[::1]:9".into(), "[::1]:9".into()));
    assert_eq!(get("http://u:p@h:81"), ("h:81".into(), "h:81".into()));
}

#[tokio::test]
async fn the_cap_is_reached_under_demand_and_never_passed() {
    // Replies wait until three connections are open at once, so the pool must open as many
    // as the cap allows, and any it opened beyond the cap would show in `max_open`.
    let server = Server::start(vec![], 3).await;
    let api = Arc::new(api(&server.url, Duration::from_secs(60), 3));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let api = api.clone();
        tasks.spawn(async move { api.get("VLD1").await });
    }
    let results = bounded(tasks.join_all()).await;
    assert!(results.iter().all(|r| *r == Ok(Status::Pending)));
    assert_eq!(server.max_open.load(Ordering::SeqCst), 3);
    assert_eq!(server.accepted(), 3, "kept-alive connections were reused");
    assert_eq!(api.pool.idle_count(), 3);
    assert_eq!(server.requests().len(), 40);
}

#[tokio::test]
async fn broken_connections_are_replaced_and_status_classes_counted() {
    let server = Server::start(
        vec![
            Reply::Send(PENDING),
            // Statuses are classified, with Retry-After; the connection is kept.
            Reply::Send(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n"),
            Reply::Send(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n"),
            Reply::Send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"),
            // A 200 whose body is not the API's JSON: `other`, but the exchange was whole.
            Reply::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnot"),
            // Cut mid-body: `other`, and the connection is replaced (2nd connection).
            Reply::SendClose(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"valid"),
            Reply::Send(PENDING),
            // `Connection: close` is a success, and then a new connection (3rd).
            Reply::Send(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 31\r\n\r\n{\"validation_status\":\"success\"}"),
            Reply::Send(PENDING),
            // Not HTTP: `other`, replaced (4th).
            Reply::Send(b"garbage\r\n\r\n"),
            Reply::Send(PENDING),
        ],
        0,
    )
    .await;
    let api = api(&server.url, Duration::from_secs(10), 2);
    let mut seen = Vec::new();
    bounded(async {
        for _ in 0..11 {
            seen.push(api.get("VLD1").await);
        }
    })
    .await;
    let err = |class, secs: Option<u64>| {
        Err(RequestError {
            class,
            retry_after: secs.map(Duration::from_secs),
        })
    };
    assert_eq!(
        seen,
        [
            Ok(Status::Pending),
            err(ErrorClass::TooMany, Some(3)),
            err(ErrorClass::Server5xx, None),
            err(ErrorClass::Client4xx, None),
            err(ErrorClass::Other, None),
            err(ErrorClass::Other, None),
            Ok(Status::Pending),
            Ok(Status::Terminal("success".into())),
            Ok(Status::Pending),
            err(ErrorClass::Other, None),
            Ok(Status::Pending),
        ]
    );
    assert_eq!(server.accepted(), 4);
}

#[tokio::test]
async fn idle_connection_closed_by_the_server_is_replaced_without_an_error() {
    // Each connection answers once, then the server closes it while the pool holds it idle.
    let server = Server::start(
        vec![Reply::SendClose(PENDING), Reply::SendClose(PENDING)],
        0,
    )
    .await;
    let api = api(&server.url, Duration::from_secs(10), 1);
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    assert_eq!(api.pool.idle_count(), 1, "no close header: kept idle");
    // Wait for the close to reach the idle connection, as it does between two polls.
    bounded(async {
        loop {
            let closed = api
                .pool
                .idle()
                .back()
                .is_some_and(|c| !c.io.stream.as_ref().is_some_and(idle_and_open));
            if closed {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    assert_eq!(server.accepted(), 2);
}

#[tokio::test]
async fn a_timeout_drops_the_connection_and_frees_its_slot() {
    let server = Server::start(vec![Reply::Hold], 0).await;
    // A cap of one: a slot not given back after the timeout would hang the second request.
    let api = api(&server.url, Duration::from_millis(200), 1);
    assert_eq!(
        bounded(api.get("VLD1")).await,
        Err(RequestError::of(ErrorClass::Timeout))
    );
    assert_eq!(
        api.pool.idle_count(),
        0,
        "a timed-out connection is not reused"
    );
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    assert_eq!(server.accepted(), 2);
}

#[tokio::test]
async fn connect_failures_are_connect_and_free_their_slot() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let api = api(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(5),
        1,
    );
    for _ in 0..3 {
        assert_eq!(
            bounded(api.get("VLD1")).await,
            Err(RequestError::of(ErrorClass::Connect))
        );
    }
    assert_eq!(api.pool.idle_count(), 0);
}

#[tokio::test]
async fn long_idle_connections_are_closed_not_reused() {
    let server = Server::start(vec![], 0).await;
    let api = api(&server.url, Duration::from_secs(10), 4);
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    // As if it had sat idle past the timeout.
    if let Some(c) = api.pool.idle().back_mut() {
        c.idle_since = Instant::now() - IDLE_TIMEOUT - Duration::from_secs(1);
    }
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    assert_eq!(server.accepted(), 2);
    assert_eq!(api.pool.idle_count(), 1);
}

#[tokio::test]
async fn unsendable_requests_fail_before_any_io() {
    // Nothing listens: anything sent would count `connect`, not `other`.
    let api = api("http://127.0.0.1:9", Duration::from_secs(1), 1);
    assert_eq!(
        api.get("VLD 1").await,
        Err(RequestError::of(ErrorClass::Other))
    );
    assert_eq!(
        api.create("a", Some("bad\r\nX-Injected: 1")).await,
        Err(RequestError::of(ErrorClass::Other))
    );
}

#[test]
fn header_values_are_checked_as_http_checks_them() {
    for b in 0..=255u8 {
        let s = [b'a', b, b'z'];
        let Ok(text) = std::str::from_utf8(&s) else {
            continue;
        };
        assert_eq!(
            crate::client::is_header_value(text),
            http::HeaderValue::from_str(text).is_ok(),
            "byte {b}"
        );
    }
    for text in ["", " x ", "quick-declined", "ñandú", "a\tb", "a\u{7f}"] {
        assert_eq!(
            crate::client::is_header_value(text),
            http::HeaderValue::from_str(text).is_ok(),
            "{text:?}"
        );
    }
}

#[test]
fn create_wire_has_the_length_of_its_form() {
    let mut scratch = Vec::new();
    let w = Wire::Create {
        head: b"POST /v1/validations HTTP/1.1\r\n",
        scenario: Some("s"),
        form: "a=b",
    };
    assert_eq!(
        w.bytes(&mut scratch),
        b"POST /v1/validations HTTP/1.1\r\nX-Mock-Scenario: s\r\nContent-Length: 3\r\n\r\na=b"
    );
}

/// A create and a poll, each as the run sends them.
async fn create(api: &Api) -> Result<String, RequestError> {
    api.create("success.load-1-1", None).await
}

#[tokio::test]
async fn a_get_on_a_reused_connection_closed_unanswered_is_resent_on_a_new_one() {
    for close in [Reply::Close, Reply::Reset] {
        // The first GET is answered on connection 1; the second, on the same connection, is
        // read and met by a close instead of an answer; the resend gets the default answer.
        let server = Server::start(vec![Reply::Send(PENDING), close], 0).await;
        let api = api(&server.url, Duration::from_secs(10), 1);
        assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
        assert_eq!(api.pool.idle_count(), 1, "kept for reuse");
        assert_eq!(
            bounded(api.get("VLD1")).await,
            Ok(Status::Pending),
            "{close:?}"
        );
        assert_eq!(
            server.requests().len(),
            3,
            "{close:?}: sent twice, answered once"
        );
        assert_eq!(
            server.accepted(),
            2,
            "{close:?}: the resend went on a new connection"
        );
        assert_eq!(api.pool.retried(), 1, "{close:?}");
        assert_eq!(
            api.pool.idle_count(),
            1,
            "{close:?}: the new connection is kept"
        );
    }
}

#[tokio::test]
async fn a_create_written_in_full_on_a_reused_connection_is_never_resent() {
    for close in [Reply::Close, Reply::Reset] {
        // The server read the whole second create before closing: it might have created the
        // validation, so resending could create a second one.
        let server = Server::start(vec![Reply::Send(PENDING), close], 0).await;
        let api = api(&server.url, Duration::from_secs(10), 1);
        assert_eq!(bounded(create(&api)).await, Ok("VLD1".into()));
        assert_eq!(
            bounded(create(&api)).await,
            Err(RequestError::of(ErrorClass::Other)),
            "{close:?}"
        );
        assert_eq!(
            server.requests().len(),
            2,
            "{close:?}: the create went out once"
        );
        assert_eq!(server.accepted(), 1, "{close:?}");
        assert_eq!(api.pool.retried(), 0, "{close:?}");
        assert_eq!(
            api.pool.idle_count(),
            0,
            "{close:?}: the closed connection is dropped"
        );
    }
}

#[tokio::test]
async fn a_new_connection_closed_unanswered_is_not_retried() {
    for close in [Reply::Close, Reply::Reset] {
        // A new connection's failure is the server's answer, whatever the method.
        let server = Server::start(vec![close, close], 0).await;
        let api = api(&server.url, Duration::from_secs(10), 1);
        assert_eq!(
            bounded(api.get("VLD1")).await,
            Err(RequestError::of(ErrorClass::Other)),
            "{close:?}"
        );
        assert_eq!(
            bounded(create(&api)).await,
            Err(RequestError::of(ErrorClass::Other)),
            "{close:?}"
        );
        assert_eq!(server.requests().len(), 2, "{close:?}: each sent once");
        assert_eq!(server.accepted(), 2, "{close:?}");
        assert_eq!(api.pool.retried(), 0, "{close:?}");
    }
}

#[tokio::test]
async fn a_resend_happens_at_most_once_and_a_cut_response_is_never_resent() {
    let server = Server::start(
        vec![
            Reply::Send(PENDING),
            // Reused connection closed unanswered, and the resend's new connection too: the
            // second failure is an error, not a second resend.
            Reply::Close,
            Reply::Close,
            Reply::Send(PENDING),
            // A reused connection cut after the response began: the server answered, so the
            // poll is not resent.
            Reply::SendClose(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"valid"),
        ],
        0,
    )
    .await;
    let api = api(&server.url, Duration::from_secs(10), 1);
    let mut seen = Vec::new();
    bounded(async {
        for _ in 0..4 {
            seen.push(api.get("VLD1").await);
        }
    })
    .await;
    let other = Err(RequestError::of(ErrorClass::Other));
    assert_eq!(
        seen,
        [
            Ok(Status::Pending),
            other.clone(),
            Ok(Status::Pending),
            other
        ]
    );
    assert_eq!(server.requests().len(), 5);
    assert_eq!(server.accepted(), 3);
    assert_eq!(api.pool.retried(), 1);
}

#[tokio::test]
async fn a_request_whose_write_failed_on_a_reused_connection_is_resent_even_a_create() {
    // The first create is answered and the server then leaves the connection open without
    // reading; the test shuts down the pool's writing half, so the next write fails with
    // EPIPE as a write to a connection the server closed does, deterministically. Nothing
    // of the second create reached the server, so it is safe to resend.
    let server = Server::start(vec![Reply::SendStayOpen(PENDING)], 0).await;
    let api = api(&server.url, Duration::from_secs(10), 1);
    assert_eq!(bounded(create(&api)).await, Ok("VLD1".into()));
    let mut conn = api.pool.idle().pop_back().expect("kept idle");
    let stream = conn.io.stream.as_mut().expect("open");
    bounded(stream.shutdown()).await.expect("half-close");
    api.pool.idle().push_back(conn);
    assert_eq!(bounded(create(&api)).await, Ok("VLD1".into()));
    assert_eq!(
        server.requests().len(),
        2,
        "the failed write delivered nothing"
    );
    assert_eq!(server.accepted(), 2);
    assert_eq!(api.pool.retried(), 1);
}

#[tokio::test]
async fn a_resend_stays_under_the_request_timeout() {
    // The resend's new connection never answers: the request ends as a timeout (the one
    // deadline covers both attempts) and its slot is free again.
    let server = Server::start(vec![Reply::Send(PENDING), Reply::Close, Reply::Hold], 0).await;
    let api = api(&server.url, Duration::from_millis(200), 1);
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    assert_eq!(
        bounded(api.get("VLD1")).await,
        Err(RequestError::of(ErrorClass::Timeout))
    );
    assert_eq!(api.pool.retried(), 1);
    assert_eq!(bounded(api.get("VLD1")).await, Ok(Status::Pending));
    assert_eq!(server.accepted(), 3);
}

#[test]
fn only_a_get_or_an_unsent_request_may_be_resent() {
    let get = Wire::Ready(b"GET /v1/validations/V HTTP/1.1\r\n\r\n");
    let post_ready = Wire::Ready(b"POST /v1/validations HTTP/1.1\r\n\r\n");
    let create = Wire::Create {
        head: b"POST /v1/validations HTTP/1.1\r\n",
        scenario: None,
        form: "a=b",
    };
    let closed = [io::ErrorKind::ConnectionReset, io::ErrorKind::BrokenPipe];
    for kind in closed {
        let write = Failure::of_write(&io::Error::from(kind));
        assert_eq!(write, Failure::Unsent);
        let read = Failure::of_read(WireError::IoBeforeResponse(kind));
        assert_eq!(read, Failure::Unanswered);
        assert_eq!(Failure::of_read(WireError::Io(kind)), Failure::Broken);
    }
    assert_eq!(
        Failure::of_read(WireError::ClosedBeforeResponse),
        Failure::Unanswered
    );
    for other in [
        Failure::of_write(&io::Error::from(io::ErrorKind::TimedOut)),
        Failure::of_read(WireError::IoBeforeResponse(io::ErrorKind::TimedOut)),
        Failure::of_read(WireError::ClosedMidResponse),
        Failure::of_read(WireError::Malformed(httparse::Error::Status)),
    ] {
        assert_eq!(other, Failure::Broken);
    }
    for w in [get, post_ready, create] {
        assert!(Failure::Unsent.may_resend(w));
        assert!(!Failure::Broken.may_resend(w));
        assert!(!Failure::Connect.may_resend(w));
    }
    assert!(Failure::Unanswered.may_resend(get));
    assert!(!Failure::Unanswered.may_resend(post_ready));
    assert!(!Failure::Unanswered.may_resend(create));
}
