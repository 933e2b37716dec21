//! Memory stays bounded under continuous load: the store and the journal never exceed their
//! caps, the oldest finished validations are the ones evicted, and recent ones stay readable.
//! (RSS over a long soak is measured by `benches/`, not asserted here.)

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use truidentidad_mock_server::MockServer;

/// Sends `n` keep-alive requests produced by `req(i)` on one connection and returns the
/// bodies.
async fn pipeline(
    addr: std::net::SocketAddr,
    n: usize,
    req: impl Fn(usize) -> String,
) -> Vec<String> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut bodies = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for i in 0..n {
        s.write_all(req(i).as_bytes()).await.unwrap();
        // Read one response: head, then Content-Length bytes.
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    bodies.push(String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned());
                    buf.drain(..end + 4 + len);
                    break;
                }
            }
            let mut chunk = [0u8; 16384];
            let k = s.read(&mut chunk).await.unwrap();
            assert!(k > 0, "server closed the connection mid-run");
            buf.extend_from_slice(&chunk[..k]);
        }
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_and_journal_stay_under_their_caps() {
    let server = MockServer::builder()
        .seed(11)
        .manual_clock()
        .configure(|c| {
            c.max_validations = 640;
            c.journal_capacity = 1_000;
        })
        .start()
        .await
        .unwrap();
    let addr = server.address();
    let creates = 5_000;
    let form = "type=government&account_id=soak";
    let bodies = pipeline(addr, creates, |_| {
        format!(
            "POST /v1/validations HTTP/1.1\r\nHost: t\r\nTruora-API-Key: {KEY}\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
    })
    .await;
    let ids: Vec<String> = bodies
        .iter()
        .map(|b| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["validation_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Finish everything created so far, then poll the newest ones.
    server.advance(Duration::from_secs(10));
    let recent = &ids[ids.len() - 100..];
    let polls = pipeline(addr, recent.len(), |i| {
        format!(
            "GET /v1/validations/{} HTTP/1.1\r\nHost: t\r\nTruora-API-Key: {KEY}\r\n\r\n",
            recent[i]
        )
    })
    .await;
    assert!(
        polls
            .iter()
            .all(|b| b.contains("\"validation_status\":\"success\""))
    );

    let state = server.state();
    assert!(
        state.store().len().unwrap() <= state.store().capacity(),
        "{} > {}",
        state.store().len().unwrap(),
        state.store().capacity()
    );
    assert!(state.store().evicted() >= (creates - state.store().capacity()) as u64);
    assert_eq!(state.journal().len(), 1_000);
    assert_eq!(state.journal().dropped(), (creates + 100 - 1_000) as u64);
    // The oldest validation is gone, with a clear 404.
    let gone = poll(&server, &ids[0]).await;
    assert_eq!(gone.status, 404);
}
