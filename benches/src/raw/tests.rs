use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use proptest::prelude::*;
use tokio::io::{AsyncRead, ReadBuf};

use super::*;
use crate::client::create_form;
use crate::http1::*;

/// A reader that hands out scripted pieces, one per read (split further if the buffer is
/// smaller), then an error or end of stream. Every read is ready, so no runtime is needed.
struct Script(VecDeque<Result<Vec<u8>, io::ErrorKind>>);

impl Script {
    fn new(pieces: &[&[u8]]) -> Self {
        Script(
            pieces
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| Ok(p.to_vec()))
                .collect(),
        )
    }

    /// After the pieces, fail: proves the reader did not read past a complete response.
    fn then_fail(mut self) -> Self {
        self.0.push_back(Err(io::ErrorKind::Other));
        self
    }
}

impl AsyncRead for Script {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.0.front_mut() {
            None => Poll::Ready(Ok(())),
            Some(Err(kind)) => {
                let kind = *kind;
                self.0.pop_front();
                Poll::Ready(Err(kind.into()))
            }
            Some(Ok(piece)) => {
                let n = piece.len().min(buf.remaining());
                buf.put_slice(&piece[..n]);
                piece.drain(..n);
                if piece.is_empty() {
                    self.0.pop_front();
                }
                Poll::Ready(Ok(()))
            }
        }
    }
}

/// Runs a future whose reads are all ready.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("scripted reads never wait"),
    }
}

struct Read {
    result: Result<Head, WireError>,
    body: Vec<u8>,
    leftover: bool,
}

fn read(script: Script) -> Read {
    let mut script = script;
    let mut reader = ResponseReader::default();
    let mut body = Vec::new();
    let result = ready(reader.read(&mut script, Some(&mut body)));
    Read {
        result,
        body,
        leftover: reader.has_leftover(),
    }
}

/// `wire` cut at `cuts` (positions, any order, out of range ones wrapped).
fn split(wire: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    at.push(0);
    at.push(wire.len());
    at.sort_unstable();
    at.windows(2).map(|w| wire[w[0]..w[1]].to_vec()).collect()
}

fn pieces(parts: &[Vec<u8>]) -> Vec<&[u8]> {
    parts.iter().map(Vec::as_slice).collect()
}

const FLOOR_BODY: &str =
    r#"{"validation_id":"VLD0123456789abcdef0123456789abcdef","validation_status":"success"}"#;

fn floor() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\ndate: Wed, 26 Nov 2025 14:00:00 GMT\r\n\r\n{FLOOR_BODY}",
        FLOOR_BODY.len()
    )
    .into_bytes()
}

/// Responses that end on their own, with what they must parse to.
fn canned() -> Vec<(Vec<u8>, Head, &'static [u8])> {
    let ok = |status| Head {
        status,
        close: false,
        retry_after: None,
    };
    let floor_body: &'static [u8] = FLOOR_BODY.as_bytes();
    vec![
        (floor(), ok(200), floor_body),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n".to_vec(),
            ok(200),
            b"hello world",
        ),
        (b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n".to_vec(), ok(201), b""),
        (b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), ok(204), b""),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            Head { status: 429, close: false, retry_after: Some(Duration::from_secs(2)) },
            b"{}",
        ),
        (
            b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 3\r\n\r\nerr".to_vec(),
            Head { status: 500, close: true, retry_after: None },
            b"err",
        ),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Head { status: 200, close: true, retry_after: None },
            b"ok",
        ),
        (
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 12, 12\r\n\r\nhello world!".to_vec(),
            ok(200),
            b"hello world!",
        ),
    ]
}

#[test]
fn every_split_point_gives_the_same_response() {
    for (wire, head, body) in canned() {
        for k in 0..=wire.len() {
            // Fails if the reader reads once more after the response is complete.
            let r = read(Script::new(&[&wire[..k], &wire[k..]]).then_fail());
            let text = String::from_utf8_lossy(&wire);
            assert_eq!(r.result, Ok(head), "split at {k} of {text}");
            assert_eq!(r.body, body, "split at {k} of {text}");
            assert!(!r.leftover, "split at {k} of {text}");
        }
    }
}

#[test]
fn one_byte_per_read() {
    for (wire, head, body) in canned() {
        let parts: Vec<Vec<u8>> = wire.iter().map(|b| vec![*b]).collect();
        let r = read(Script::new(&pieces(&parts)).then_fail());
        assert_eq!((r.result, r.body.as_slice()), (Ok(head), body));
    }
}

proptest! {
    #[test]
    fn any_cuts_give_the_same_response(which in 0usize..8, cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let all = canned();
        let (wire, head, body) = &all[which % all.len()];
        let parts = split(wire, &cuts);
        let r = read(Script::new(&pieces(&parts)).then_fail());
        prop_assert_eq!(r.result, Ok(*head));
        prop_assert_eq!(r.body.as_slice(), *body);
        prop_assert!(!r.leftover);
    }

    #[test]
    fn chunked_bodies_reassemble(
        body in prop::collection::vec(any::<u8>(), 0..3000),
        sizes in prop::collection::vec(1usize..700, 1..10),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec();
        let mut rest = body.as_slice();
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            wire.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
            wire.extend_from_slice(chunk);
            wire.extend_from_slice(b"\r\n");
            rest = tail;
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        let parts = split(&wire, &cuts);
        let r = read(Script::new(&pieces(&parts)).then_fail());
        prop_assert_eq!(r.result, Ok(Head { status: 200, close: false, retry_after: None }));
        prop_assert_eq!(r.body, body);
    }

    #[test]
    fn a_cut_response_is_an_error(which in 0usize..8, cut in any::<usize>()) {
        let all = canned();
        let (wire, _, _) = &all[which % all.len()];
        let k = cut % wire.len();
        let r = read(Script::new(&[&wire[..k]]));
        let want = if k == 0 { WireError::ClosedBeforeResponse } else { WireError::ClosedMidResponse };
        prop_assert_eq!(r.result, Err(want));
    }
}

#[test]
fn content_length_zero_needs_no_more_reads() {
    let r = read(Script::new(&[b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]).then_fail());
    assert_eq!(
        r.result,
        Ok(Head {
            status: 200,
            close: false,
            retry_after: None
        })
    );
    assert!(r.body.is_empty());
}

#[test]
fn body_without_length_runs_to_the_close() {
    let r = read(Script::new(&[b"HTTP/1.1 200 OK\r\n\r\nall of ", b"this"]));
    assert_eq!(
        r.result,
        Ok(Head {
            status: 200,
            close: true,
            retry_after: None
        })
    );
    assert_eq!(r.body, b"all of this");
    // A transfer coding that is not chunked last also runs to the close.
    let r = read(Script::new(&[
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabc",
    ]));
    assert_eq!(r.body, b"abc");
}

#[test]
fn status_codes_are_classified_as_the_pooled_client_does() {
    for (code, class) in [
        (200, None),
        (201, None),
        (429, Some(ErrorClass::TooMany)),
        (404, Some(ErrorClass::Client4xx)),
        (400, Some(ErrorClass::Client4xx)),
        (500, Some(ErrorClass::Server5xx)),
        (503, Some(ErrorClass::Server5xx)),
        (302, Some(ErrorClass::Other)),
    ] {
        let wire = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
        let head = read(Script::new(&[wire.as_bytes()]))
            .result
            .map(|h| h.status);
        assert_eq!(head, Ok(code));
        assert_eq!(ErrorClass::of_code(code), class, "{code}");
    }
}

#[test]
fn oversized_or_malformed_heads_are_errors() {
    let big = format!(
        "HTTP/1.1 200 OK\r\nx-big: {}\r\nContent-Length: 0\r\n\r\n",
        "a".repeat(MAX_HEAD)
    );
    assert_eq!(
        read(Script::new(&[big.as_bytes()])).result,
        Err(WireError::HeadTooLarge)
    );
    // Never ending: the reader stops at the limit instead of buffering forever.
    let endless = format!("HTTP/1.1 200 OK\r\nx-big: {}", "a".repeat(3 * MAX_HEAD));
    assert_eq!(
        read(Script::new(&[endless.as_bytes()])).result,
        Err(WireError::HeadTooLarge)
    );
    let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: 1\r\n")).collect();
    let many = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
    assert_eq!(
        read(Script::new(&[many.as_bytes()])).result,
        Err(WireError::TooManyHeaders)
    );
    assert!(matches!(
        read(Script::new(&[b"HTTP/1.1 2x0 OK\r\n\r\n"])).result,
        Err(WireError::Malformed(_))
    ));
    assert!(matches!(
        read(Script::new(&[b"SSH-2.0-OpenSSH\r\n\r\n"])).result,
        Err(WireError::Malformed(_))
    ));
    assert_eq!(
        read(Script::new(&[b"HTTP/1.1 101 Switching\r\n\r\n"])).result,
        Err(WireError::Upgrade)
    );
}

#[test]
fn bad_framing_is_an_error() {
    for wire in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
    ] {
        assert_eq!(
            read(Script::new(&[wire])).result,
            Err(WireError::BadContentLength)
        );
    }
    for wire in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
    ] {
        assert_eq!(read(Script::new(&[wire])).result, Err(WireError::BadChunk));
    }
}

#[test]
fn io_errors_and_kept_body_limit() {
    let mut script = Script::new(&[b"HTTP/1.1 200 OK\r\n"]);
    script.0.push_back(Err(io::ErrorKind::ConnectionReset));
    assert_eq!(
        read(script).result,
        Err(WireError::Io(io::ErrorKind::ConnectionReset))
    );
    // Before any byte of the response: told apart, as the pool's resend decision needs.
    let mut script = Script::new(&[]);
    script.0.push_back(Err(io::ErrorKind::ConnectionReset));
    assert_eq!(
        read(script).result,
        Err(WireError::IoBeforeResponse(io::ErrorKind::ConnectionReset))
    );
    // A single byte is enough to make it a cut response.
    let mut script = Script::new(&[b"H"]);
    script.0.push_back(Err(io::ErrorKind::ConnectionReset));
    assert_eq!(
        read(script).result,
        Err(WireError::Io(io::ErrorKind::ConnectionReset))
    );
    let wire = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        MAX_KEPT_BODY + 1
    );
    let body = vec![b'x'; MAX_KEPT_BODY + 1];
    assert_eq!(
        read(Script::new(&[wire.as_bytes(), &body])).result,
        Err(WireError::BodyTooLarge)
    );
    // The same body is fine when only skipped.
    let mut s = Script::new(&[wire.as_bytes(), &body]);
    let mut reader = ResponseReader::default();
    assert_eq!(
        ready(reader.read(&mut s, None)),
        Ok(Head {
            status: 200,
            close: false,
            retry_after: None
        })
    );
}

#[test]
fn bytes_after_the_response_are_left_over() {
    let mut wire = floor();
    wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    let r = read(Script::new(&[&wire]));
    assert_eq!(r.result.map(|h| h.status), Ok(200));
    assert!(r.leftover);
}

#[test]
fn reader_reuses_its_buffer_across_responses() {
    let mut reader = ResponseReader::default();
    let wire = floor();
    for _ in 0..3 {
        let mut s = Script::new(&[&wire[..40], &wire[40..]]);
        assert_eq!(ready(reader.read(&mut s, None)).map(|h| h.status), Ok(200));
        assert!(!reader.has_leftover());
    }
    assert_eq!(reader.buf.len(), INITIAL_BUFFER);
}

fn api(target: &str, timeout: Duration) -> Api {
    Api::new(target, "bench-key", timeout, 8).expect("valid test target")
}

#[test]
fn get_request_is_serialized_once_in_origin_form() {
    let t = RawTarget::get(&api("http://127.0.0.1:9", Duration::from_secs(1)), "VLD1")
        .expect("valid id");
    let mut scratch = Vec::new();
    assert_eq!(
        String::from_utf8_lossy(t.requests.write(&mut scratch, 0, 0)),
        "GET /v1/validations/VLD1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nTruora-API-Key: bench-key\r\n\r\n"
    );
    let t = RawTarget::get(&api("http://localhost/api/", Duration::from_secs(1)), "V")
        .expect("valid id");
    assert!(
        t.requests
            .write(&mut scratch, 0, 0)
            .starts_with(b"GET /api/v1/validations/V HTTP/1.1\r\nHost: localhost\r\n")
    );
    assert_eq!(t.addr, "localhost:80");
    for bad in ["", "VLD 1", "VLD1\r\nX: y", "a?b", "a#b"] {
        assert!(
            RawTarget::get(&api("http://127.0.0.1:9", Duration::from_secs(1)), bad).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn create_requests_carry_the_pooled_clients_form() {
    let t = RawTarget::create(
        &api("http://127.0.0.1:9/p", Duration::from_secs(1)),
        "success",
    );
    let mut scratch = Vec::new();
    for (worker, n) in [(0, 0), (3, 9), (3, 10), (63, 99), (7, 100), (1, u64::MAX)] {
        let wire = t.requests.write(&mut scratch, worker, n).to_vec();
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut req = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = req.parse(&wire) else {
            panic!("request parses: {}", String::from_utf8_lossy(&wire));
        };
        assert_eq!(req.method, Some("POST"));
        assert_eq!(req.path, Some("/p/v1/validations"));
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        let body = &wire[head_len..];
        assert_eq!(header("host").as_deref(), Some("127.0.0.1:9"));
        assert_eq!(header("truora-api-key").as_deref(), Some("bench-key"));
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(header("content-length"), Some(body.len().to_string()));
        assert_eq!(
            String::from_utf8_lossy(body),
            create_form(&format!("success.raw-{worker}-{n}"), None)
        );
    }
}

#[tokio::test]
async fn within_moves_an_early_timer_and_fires_at_the_deadline() {
    let start = Instant::now();
    // A timer left at an earlier, already passed deadline does not cut a later request short.
    let mut timer = Box::pin(tokio::time::sleep_until(start));
    let quick = tokio::time::sleep(Duration::from_millis(20));
    let out = within(timer.as_mut(), start + Duration::from_secs(30), quick).await;
    assert_eq!(out, Some(()));
    assert_eq!(timer.deadline(), start + Duration::from_secs(30));
    // A timer later than the deadline is pulled in, and a request that never ends times out.
    let never = std::future::pending::<()>();
    let out = within(
        timer.as_mut(),
        Instant::now() + Duration::from_millis(20),
        never,
    )
    .await;
    assert_eq!(out, None);
}

/// A loopback server that answers each request (read up to its blank line) with the next of
/// `replies`, whatever the connection: the bytes, then a close if the flag says so. Once the
/// replies run out it holds requests unanswered. Returns its URL and a count of accepted
/// connections.
async fn scripted_server(
    replies: Vec<(&'static [u8], bool)>,
) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let replies = Arc::new(std::sync::Mutex::new(VecDeque::from(replies)));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let replies = replies.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.clear();
                    let next = replies.lock().ok().and_then(|mut r| r.pop_front());
                    let Some((reply, close)) = next else {
                        return std::future::pending::<()>().await;
                    };
                    if s.write_all(reply).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    (url, accepted)
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

#[tokio::test]
async fn worker_counts_classes_and_reconnects_after_breaks() {
    use std::sync::atomic::Ordering;
    let (url, accepted) = scripted_server(vec![
        (OK, false),
        (
            b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (
            b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        // Cut mid-body: `other`, and the next request goes out on a new connection.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{", true),
        (OK, false),
        // Connection: close is a success; the client then opens a new connection.
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
            false,
        ),
        (OK, false),
        (b"garbage\r\n\r\n", false),
    ])
    .await;
    let target =
        Arc::new(RawTarget::get(&api(&url, Duration::from_secs(10)), "VLD1").expect("valid id"));
    let mut w = RawWorker::new(target, 0);
    let mut classes = Vec::new();
    for _ in 0..9 {
        classes.push(w.send(Instant::now()).await.err().map(|e| e.class));
    }
    assert_eq!(
        classes,
        [
            None,
            Some(ErrorClass::TooMany),
            Some(ErrorClass::Server5xx),
            Some(ErrorClass::Client4xx),
            Some(ErrorClass::Other),
            None,
            None,
            None,
            Some(ErrorClass::Other),
        ]
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn idle_connection_closed_by_the_server_is_replaced_without_an_error() {
    use std::sync::atomic::Ordering;
    // The server answers once per connection, then closes it while the client is idle.
    let (url, accepted) = scripted_server(vec![(OK, true), (OK, true)]).await;
    let target =
        Arc::new(RawTarget::get(&api(&url, Duration::from_secs(10)), "VLD1").expect("valid id"));
    let mut w = RawWorker::new(target, 0);
    assert_eq!(w.send(Instant::now()).await, Ok(()));
    // Give the close time to arrive, as it does between two requests of an idle worker.
    let mut waited = 0;
    while waited < 100 && w.session.conn.as_ref().is_some_and(idle_and_open) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(w.send(Instant::now()).await, Ok(()));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn worker_times_out_and_connect_failures_are_connect() {
    // No replies scripted: the server holds the request unanswered.
    let (url, _) = scripted_server(vec![]).await;
    let target =
        Arc::new(RawTarget::get(&api(&url, Duration::from_millis(100)), "VLD1").expect("valid id"));
    let mut w = RawWorker::new(target, 0);
    assert_eq!(
        w.send(Instant::now()).await.map_err(|e| e.class),
        Err(ErrorClass::Timeout)
    );
    assert!(
        w.session.conn.is_none(),
        "a timed-out connection is dropped"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let target = Arc::new(
        RawTarget::get(
            &api(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)),
            "VLD1",
        )
        .expect("valid id"),
    );
    let mut w = RawWorker::new(target, 0);
    assert_eq!(
        w.send(Instant::now()).await.map_err(|e| e.class),
        Err(ErrorClass::Connect)
    );
}

#[tokio::test]
async fn raw_create_checks_the_validation_id() {
    let (url, _) = scripted_server(vec![
        (b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n{\"validation_id\":\"V1\"}", false),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"validat\r\nD\r\nion_id\":\"V2\"}\r\n0\r\n\r\n", false),
    ])
    .await;
    let target = Arc::new(RawTarget::create(
        &api(&url, Duration::from_secs(10)),
        "success",
    ));
    let mut w = RawWorker::new(target, 0);
    assert_eq!(w.send(Instant::now()).await, Ok(()));
    assert_eq!(
        w.send(Instant::now()).await.map_err(|e| e.class),
        Err(ErrorClass::Other)
    );
    assert_eq!(w.send(Instant::now()).await, Ok(()));
}

#[test]
fn retry_after_is_read_as_the_hyper_client_read_it() {
    let after = |fields: &str| {
        let wire = format!("HTTP/1.1 429 Too Many Requests\r\n{fields}Content-Length: 0\r\n\r\n");
        read(Script::new(&[wire.as_bytes()]))
            .result
            .map(|h| h.retry_after)
    };
    let secs = |s| Ok(Some(Duration::from_secs(s)));
    assert_eq!(after("Retry-After: 2\r\n"), secs(2));
    assert_eq!(after("retry-after:   7  \r\n"), secs(7));
    // `u64::from_str` takes a leading `+`.
    assert_eq!(after("Retry-After: +5\r\n"), secs(5));
    // The first field counts, as `HeaderMap::get` returned it.
    assert_eq!(after("Retry-After: 1\r\nRetry-After: 9\r\n"), secs(1));
    assert_eq!(after("Retry-After: soon\r\nRetry-After: 9\r\n"), Ok(None));
    // HTTP dates, negatives and empty values are not delay-seconds.
    assert_eq!(
        after("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"),
        Ok(None)
    );
    assert_eq!(after("Retry-After: -1\r\n"), Ok(None));
    assert_eq!(after("Retry-After:\r\n"), Ok(None));
    assert_eq!(after(""), Ok(None));
}
