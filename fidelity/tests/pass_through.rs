//! The proxy passes the upstream's faults through as they happened: a 429 and 5xx unchanged,
//! a reset as a reset, a stall as a stall, and an upstream it cannot reach as a 502 in
//! Truora's envelope. Each is also in the recording, as what it was.

mod support;

use std::time::Duration;

use support::*;
use truidentidad_conformance::http::{HttpError, Method};
use truidentidad_fidelity::recording::{Failure, read_timelines};
use truidentidad_mock_server::MockServer;

async fn upstream() -> MockServer {
    MockServer::builder()
        .seed(3)
        .manual_clock()
        .api_key(KEY)
        .start()
        .await
        .expect("upstream starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_and_5xx_reach_the_client_unchanged() {
    let up = upstream().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = proxy(&up.uri(), &up, dir.path()).await;

    for (account, expect) in [
        ("rate-limited.a", [429u16, 429]),
        ("flaky-5xx-then-success.b", [503, 500]),
    ] {
        let id = create(&p.uri(), account).await;
        for want in expect {
            up.advance(Duration::from_secs(1));
            let path = format!("/v1/validations/{id}");
            let via = send(&p.uri(), Method::GET, &path, KEY, "", T)
                .await
                .expect("answered");
            assert_eq!(via.status, want, "{account}");
            let v = via.json().expect("the upstream's envelope");
            assert_eq!(v["http_code"], want);
            assert_eq!(v["code"], 20_000 + u64::from(want));
            if want == 429 {
                assert!(via.header("retry-after").is_some(), "Retry-After kept");
            }
        }
    }
    p.shutdown().await.expect("written");
    let statuses: Vec<u16> = read_timelines(dir.path())
        .expect("timelines")
        .iter()
        .flat_map(|t| t.exchanges.iter().filter_map(|x| x.response.as_ref()))
        .map(|r| r.status)
        .filter(|s| *s != 200)
        .collect();
    assert_eq!(statuses, [429, 429, 503, 500]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_reset_resets_the_client() {
    let up = upstream().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = proxy(&up.uri(), &up, dir.path()).await;
    let id = create(&p.uri(), "connection-reset-mid-poll.c").await;
    let path = format!("/v1/validations/{id}");
    up.advance(Duration::from_secs(1));
    let first = send(&p.uri(), Method::GET, &path, KEY, "", T).await;
    assert_eq!(first.expect("first poll answered").status, 200);
    up.advance(Duration::from_secs(1));
    let second = send(&p.uri(), Method::GET, &path, KEY, "", T).await;
    match second {
        Err(HttpError::Transport(msg)) => assert!(
            msg.contains("reset") || msg.contains("closed"),
            "a reset, not an answer: {msg}"
        ),
        other => panic!("the client should see the reset, got {other:?}"),
    }
    p.shutdown().await.expect("written");
    let t = read_timelines(dir.path()).expect("timelines");
    assert_eq!(t[0].exchanges[2].failure, Some(Failure::Reset));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_stall_stalls_the_client() {
    let up = upstream().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = proxy(&up.uri(), &up, dir.path()).await;
    let id = create(&p.uri(), "stalled-poll.d").await;
    let path = format!("/v1/validations/{id}");
    up.advance(Duration::from_secs(1));
    // The client's own deadline is what ends it: the proxy adds none.
    let r = send(
        &p.uri(),
        Method::GET,
        &path,
        KEY,
        "",
        Duration::from_millis(300),
    )
    .await;
    assert!(matches!(r, Err(HttpError::Timeout(_))), "{r:?}");
    // The proxy records the poll once it sees the client hang up.
    let file = dir.path().join("timelines").join(format!("{id}.json"));
    for _ in 0..200 {
        // Timelines are written every half second: none may be there yet.
        let t = read_timelines(dir.path()).unwrap_or_default();
        if t.first().is_some_and(|t| t.exchanges.len() == 2) {
            assert_eq!(t[0].exchanges[1].failure, Some(Failure::ClientGaveUp));
            assert!(t[0].exchanges[1].response.is_none());
            p.shutdown().await.expect("written");
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} never recorded the stalled poll", file.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_502_in_truoras_envelope() {
    let clock = upstream().await;
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let upstream = format!("http://127.0.0.1:{port}");
    let p = proxy(&upstream, &clock, dir.path()).await;
    let r = send(
        &p.uri(),
        Method::POST,
        "/v1/validations",
        KEY,
        "type=government",
        T,
    )
    .await
    .expect("the proxy answers");
    let msg = bad_gateway_message(&r);
    assert!(
        msg.starts_with(&format!(
            "the recording proxy could not reach the upstream {upstream}: "
        )),
        "{msg}"
    );
    p.shutdown().await.expect("written");
    let t = read_timelines(dir.path()).expect("timelines");
    assert_eq!(t[0].exchanges[0].failure, Some(Failure::Unreachable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_reaches_the_client_piece_by_piece() {
    use http_body_util::BodyExt;
    let up = upstream().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = proxy(&up.uri(), &up, dir.path()).await;
    let id = create(&p.uri(), "slow-body.e").await;
    up.advance(Duration::from_secs(1));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let req = hyper::Request::get(format!("{}/v1/validations/{id}", p.uri()))
        .header("Truora-API-Key", KEY)
        .body(http_body_util::Empty::new())
        .expect("request");
    let mut body = client.request(req).await.expect("answered").into_body();
    // The upstream writes 16 bytes at a time; a proxy that waited for the whole body would
    // hand it on as one piece.
    let mut pieces = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("a frame").into_data() {
            pieces.push(data.len());
        }
    }
    assert!(pieces.len() > 1, "{pieces:?}");
    assert!(pieces.iter().all(|n| *n <= 16), "{pieces:?}");
    p.shutdown().await.expect("written");
    let t = read_timelines(dir.path()).expect("timelines");
    let recorded = t[0].exchanges[1].response.as_ref().expect("recorded");
    let v = recorded.json().expect("the whole body, put back together");
    assert_eq!(v["validation_id"], id.as_str());
}
