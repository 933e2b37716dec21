//! Bad and hostile input, limits, the admin token, real connection faults, and restarts.
//! Raw sockets throughout, so the test sees what a client's TCP stack sees.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use truidentidad_mock_server::{MockServer, ServeError};
use truidentidad_scenarios::Catalogue;

// ---------- the control API is not an open door ----------

#[tokio::test]
async fn admin_token_guards_every_control_call() {
    let server = MockServer::builder()
        .seed(1)
        .configure(|c| c.admin_token = Some("s3cret".into()))
        .start()
        .await
        .unwrap();
    let addr = server.address();
    let id = create_id(&server, "type=government").await;
    for path in [
        "/_mock/validations",
        &format!("/_mock/validations/{id}"),
        "/_mock/journal",
        "/_mock/scenarios",
        "/_mock/clock",
    ] {
        let r = request(addr, "GET", path, &[], b"").await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["http_code"], 401);
        let wrong = request(addr, "GET", path, &[("X-Mock-Admin-Token", "guess")], b"").await;
        assert_eq!(wrong.status, 401, "{path}");
        assert_eq!(
            request(addr, "GET", path, &[("X-Mock-Admin-Token", "s3cret")], b"")
                .await
                .status,
            200,
            "{path}"
        );
        assert_eq!(
            request(
                addr,
                "GET",
                path,
                &[("Authorization", "Bearer s3cret")],
                b""
            )
            .await
            .status,
            200,
            "{path}"
        );
    }
    let reset = request(addr, "POST", "/_mock/reset", &[], b"").await;
    assert_eq!(reset.status, 401);
    insta::assert_snapshot!(reset.json()["message"].as_str().unwrap(), @"this control endpoint needs the admin token: send X-Mock-Admin-Token: <token> or Authorization: Bearer <token> (the server was started with --admin-token)");
    // Nothing was reset, and readiness probes still work without the token.
    assert_eq!(poll(&server, &id).await.status, 200);
    assert_eq!(get(&server, "/_mock/health").await.status, 200);
}

#[tokio::test]
async fn refuses_to_listen_off_loopback_without_a_token() {
    let err = MockServer::builder()
        .configure(|c| c.bind = "0.0.0.0".parse().unwrap())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::Config(_)));
    insta::assert_snapshot!(err.to_string(), @"refusing to listen on 0.0.0.0 without --admin-token: off loopback, anyone who can reach the port could change outcomes and read every request through /_mock/; pass --admin-token TOKEN (or bind 127.0.0.1)");
}

#[tokio::test]
async fn api_keys_never_reach_the_journal_or_control_api() {
    let server = manual_server().await;
    let secret = "sk_live_do_not_leak_42";
    let r = request(
        server.address(),
        "POST",
        "/v1/validations",
        &[("Truora-API-Key", secret), ("Content-Type", FORM)],
        b"type=government&account_id=a1",
    )
    .await;
    let id = r.json()["validation_id"].as_str().unwrap().to_string();
    request(
        server.address(),
        "GET",
        &format!("/v1/validations/{id}"),
        &[("Truora-API-Key", secret)],
        b"",
    )
    .await;
    for path in [
        "/_mock/journal",
        &format!("/_mock/validations/{id}"),
        "/_mock/validations",
    ] {
        let body = get(&server, path).await.text();
        assert!(!body.contains(secret), "{path} leaks the API key: {body}");
        assert!(
            body.contains("accepted") || path == "/_mock/validations",
            "{path}"
        );
    }
}

// ---------- limits ----------

#[tokio::test]
async fn oversized_headers_are_refused() {
    let server = MockServer::builder()
        .configure(|c| c.max_header_bytes = 8192)
        .start()
        .await
        .unwrap();
    let big = "x".repeat(20_000);
    let req = format!("GET /_mock/health HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n");
    match raw(server.address(), req.as_bytes(), Duration::from_secs(5)).await {
        Outcome::Response(r) => assert_eq!(r.status, 431),
        Outcome::Closed | Outcome::Reset => {}
        Outcome::TimedOut => panic!("an oversized head must not hang the connection"),
    }
    // The server still serves others.
    assert_eq!(get(&server, "/_mock/health").await.status, 200);
}

#[tokio::test]
async fn slow_loris_clients_are_dropped() {
    let server = MockServer::builder()
        .configure(|c| c.header_read_timeout = Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.address()).await.unwrap();
    s.write_all(b"GET /_mock/health HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    // Never finish the head: the server must close the connection on its own.
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("the server kept a half-sent request open for 10 s");
    let got = n
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
        .unwrap_or_default();
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 408"),
        "unexpected: {got:?}"
    );
}

#[tokio::test]
async fn slow_bodies_get_408() {
    let server = MockServer::builder()
        .configure(|c| c.body_read_timeout = Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.address()).await.unwrap();
    s.write_all(
        format!("POST /v1/validations HTTP/1.1\r\nHost: t\r\nTruora-API-Key: k\r\nContent-Type: {FORM}\r\nContent-Length: 100\r\n\r\ntype=gov").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("no answer");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"http_code\":408"), "{text}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_frees() {
    let server = MockServer::builder()
        .configure(|c| c.max_connections = 1)
        .start()
        .await
        .unwrap();
    let idle = TcpStream::connect(server.address()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let addr = server.address();
    let waiting =
        tokio::spawn(async move { request(addr, "GET", "/_mock/health", &[], b"").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the second connection was served while the cap was reached"
    );
    drop(idle);
    let r = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("never served")
        .unwrap();
    assert_eq!(r.status, 200);
}

// ---------- bad input ----------

#[tokio::test]
async fn hostile_paths_and_ids_get_precise_404s() {
    let server = manual_server().await;
    let long = format!("/v1/validations/VLD{}", "a".repeat(5000));
    let mut out = String::new();
    for path in [
        "/v1/validations/../../etc/passwd",
        "/v1/validations/..%2F..%2Fetc%2Fpasswd",
        "/v1/validations/VLD%00",
        "/v1/validations/%ff%fe",
        long.as_str(),
        "/v1/validations//",
    ] {
        let r = request(
            server.address(),
            "GET",
            path,
            &[("Truora-API-Key", KEY)],
            b"",
        )
        .await;
        assert_eq!(r.status, 404, "{path}");
        out.push_str(&format!("{}\n", r.json()["message"].as_str().unwrap()));
    }
    insta::assert_snapshot!(out);
}

#[tokio::test]
async fn broken_form_bodies_get_400s_naming_the_problem() {
    let server = manual_server().await;
    let mut out = String::new();
    for body in [
        &b"type=government&account_id=%zz"[..],
        b"type=government&type=face-recognition",
        b"type=gov\xffernment",
        b"type=government&user_authorized=maybe&user_authorized=maybe",
        b"&&&=&",
    ] {
        let r = request(
            server.address(),
            "POST",
            "/v1/validations",
            &[("Truora-API-Key", KEY), ("Content-Type", FORM)],
            body,
        )
        .await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        out.push_str(&format!("{}\n", r.json()["message"].as_str().unwrap()));
    }
    insta::assert_snapshot!(out);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Well-framed requests with arbitrary method, path, headers and body: the server answers
    /// every one (errors in Truora's envelope) and keeps serving.
    #[test]
    fn any_framed_request_gets_an_answer(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("PATCH")],
        path in "/[a-zA-Z0-9_./%-]{0,80}",
        header_value in "[ -~]{0,60}",
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = MockServer::builder().seed(3).manual_clock().start().await.unwrap();
            let prefixes = ["", "/v1/validations", "/_mock"];
            for prefix in prefixes {
                let full = format!("{prefix}{path}");
                let r = request(
                    server.address(),
                    method,
                    &full,
                    &[("Truora-API-Key", &header_value), ("Content-Type", FORM), ("X-Mock-Scenario", &header_value)],
                    &body,
                ).await;
                if r.status >= 400 {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("error bodies are JSON");
                    assert_eq!(v["http_code"].as_u64(), Some(u64::from(r.status)));
                    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
                }
            }
            assert_eq!(get(&server, "/_mock/health").await.status, 200);
        });
    }
}

// ---------- connection faults behave like real ones ----------

fn fault_catalogue() -> Arc<Catalogue> {
    let mut c = Catalogue::builtin();
    c.load_file(
        "faults.toml",
        r#"
[[scenario]]
name = "close-first"
description = "first poll closed with FIN"
[[scenario.phase]]
until = "3s"
[scenario.outcome]
status = "success"
[[scenario.fault]]
nth = 1
connection = "close"

[[scenario]]
name = "reset-first"
description = "first poll reset with RST"
[[scenario.phase]]
until = "3s"
[scenario.outcome]
status = "success"
[[scenario.fault]]
nth = 1
connection = "reset"

[[scenario]]
name = "stall-first"
description = "first poll stalls 1 s"
[[scenario.phase]]
until = "3s"
[scenario.outcome]
status = "success"
[[scenario.fault]]
nth = 1
connection = "stall"
stall_for = "1s"
"#,
    )
    .unwrap();
    Arc::new(c)
}

async fn first_poll(server: &MockServer, scenario: &str, deadline: Duration) -> Outcome {
    let id = create_id(server, &format!("type=government&account_id={scenario}")).await;
    let req =
        format!("GET /v1/validations/{id} HTTP/1.1\r\nHost: t\r\nTruora-API-Key: {KEY}\r\n\r\n");
    raw(server.address(), req.as_bytes(), deadline).await
}

#[tokio::test]
async fn reset_sends_rst_close_sends_fin_stall_holds() {
    let server = MockServer::builder()
        .seed(1)
        .manual_clock()
        .configure(|c| c.catalogue = fault_catalogue())
        .start()
        .await
        .unwrap();
    assert!(matches!(
        first_poll(&server, "reset-first", Duration::from_secs(5)).await,
        Outcome::Reset
    ));
    assert!(matches!(
        first_poll(&server, "close-first", Duration::from_secs(5)).await,
        Outcome::Closed
    ));
    // A client that gives up before the stall ends sees nothing at all...
    assert!(matches!(
        first_poll(&server, "stall-first", Duration::from_millis(300)).await,
        Outcome::TimedOut
    ));
    // ...and one that waits longer sees the connection closed, never a late response.
    assert!(matches!(
        first_poll(&server, "stall-first", Duration::from_secs(5)).await,
        Outcome::Closed
    ));
}

/// A client that gives up on a stalled request still leaves a journal entry, with the time
/// it waited: that is what a per-request-timeout check reads.
#[tokio::test]
async fn requests_abandoned_by_the_client_are_journaled() {
    let server = MockServer::builder()
        .seed(1)
        .manual_clock()
        .configure(|c| c.catalogue = fault_catalogue())
        .start()
        .await
        .unwrap();
    let id = create_id(&server, "type=government&account_id=stall-first").await;
    let req =
        format!("GET /v1/validations/{id} HTTP/1.1\r\nHost: t\r\nTruora-API-Key: {KEY}\r\n\r\n");
    assert!(matches!(
        raw(server.address(), req.as_bytes(), Duration::from_millis(200)).await,
        Outcome::TimedOut
    ));
    // The server notices the closed socket and records the request without waiting for the
    // stall to end.
    let mut entry = serde_json::Value::Null;
    for _ in 0..50 {
        let j = get(&server, &format!("/_mock/journal?validation_id={id}"))
            .await
            .json();
        if let Some(e) = j["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "poll")
        {
            entry = e.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(entry["status"], 0, "{entry}");
    insta::assert_snapshot!(entry["fault"].as_str().unwrap(), @"stall 1s; client closed the connection before the response");
}

// ---------- restarts lose nothing ----------

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let start = || {
        let file = file.clone();
        async move {
            MockServer::builder()
                .seed(5)
                .manual_clock()
                .configure(|c| c.state_file = Some(file))
                .start()
                .await
                .unwrap()
        }
    };
    let server = start().await;
    let a = create_id(
        &server,
        "type=government&account_id=declined-deceased.a&document_number=1020304050",
    )
    .await;
    let b = create_id(&server, "type=government&account_id=never-completes.b").await;
    // A validation switched to another scenario after two polls: its timeline and poll
    // count restart at the switch, and must restart there again after the restart.
    let s = create_id(&server, "type=government&account_id=never-completes.s").await;
    // A validation followed through the browser journey: its steps, events and the scenario
    // a test identity chose are kept too (the state file once dropped the journey).
    let j = create_id(&server, "type=government&account_id=never-completes.j").await;
    for (step, body) in [
        ("open", r#"{"device":"phone"}"#),
        ("steps/intro", "{}"),
        ("steps/document", r#"{"document_number":"9930000001"}"#),
    ] {
        let path = format!("/web-adapter/v1/validations/{j}/{step}");
        assert_eq!(post_json(&server, &path, body).await.status, 200, "{step}");
    }
    poll(&server, &a).await;
    poll(&server, &s).await;
    poll(&server, &s).await;
    server.advance(Duration::from_secs(2));
    post_json(
        &server,
        &format!("/_mock/validations/{s}/scenario"),
        r#"{"scenario":"success-after-polls"}"#,
    )
    .await;
    post_json(
        &server,
        &format!("/_mock/validations/{b}/complete"),
        r#"{"status":"failure","failure_status":"system_error"}"#,
    )
    .await;
    let before_a = get(&server, &format!("/_mock/validations/{a}"))
        .await
        .json();
    let before_b = get(&server, &format!("/_mock/validations/{b}"))
        .await
        .json();
    let before_s = get(&server, &format!("/_mock/validations/{s}"))
        .await
        .json();
    let before_j = get(&server, &format!("/_mock/validations/{j}"))
        .await
        .json();
    assert_eq!(before_j["journey"]["step"], "consent", "{before_j}");
    let journal_before = get(&server, "/_mock/journal").await.json()["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        journal_before.iter().any(|e| e["form"].is_array()),
        "a create's form is in the journal"
    );
    server.shutdown().await;
    assert!(file.exists(), "the state file was written");

    let server = start().await;
    let after_a = get(&server, &format!("/_mock/validations/{a}"))
        .await
        .json();
    let after_b = get(&server, &format!("/_mock/validations/{b}"))
        .await
        .json();
    let after_s = get(&server, &format!("/_mock/validations/{s}"))
        .await
        .json();
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("requests");
        v
    };
    assert_eq!(strip(before_a), strip(after_a.clone()));
    assert_eq!(strip(before_b), strip(after_b));
    assert_eq!(before_s["scenario"], "success-after-polls");
    assert_eq!(strip(before_s), strip(after_s));
    let after_j = get(&server, &format!("/_mock/validations/{j}"))
        .await
        .json();
    assert_eq!(strip(before_j), strip(after_j));
    // The journal came back too (the reads above added entries after the restart).
    assert!(after_a["requests"].as_array().unwrap().len() >= 2);
    let journal_after = get(&server, "/_mock/journal").await.json()["entries"]
        .as_array()
        .unwrap()
        .clone();
    // Every entry, method and form fields included, reads back as it was saved.
    assert!(journal_after.len() > journal_before.len());
    assert_eq!(journal_after[..journal_before.len()], journal_before[..]);
    // Time goes on from where it stood: the declined outcome arrives on schedule.
    server.advance(Duration::from_secs(1));
    assert_eq!(
        poll(&server, &a).await.json()["declined_reason"],
        "identity_belongs_to_dead_person"
    );
    // The switched one still counts its polls from the switch: had the restart lost that,
    // the two polls before it would count and the second poll here would see success.
    for _ in 0..2 {
        assert_eq!(
            poll(&server, &s).await.json()["validation_status"],
            "pending"
        );
    }
    // New ids continue the sequence instead of repeating old ones.
    let c = create_id(&server, "type=government").await;
    assert!(c != a && c != b);
}

#[tokio::test]
async fn corrupt_state_file_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    std::fs::write(&file, b"{\"version\": 1, \"clock\": ").unwrap();
    let err = MockServer::builder()
        .configure(|c| c.state_file = Some(file.clone()))
        .start()
        .await
        .unwrap_err();
    let msg = err
        .to_string()
        .replace(&dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!(msg, @"state file [dir]/state.json is not a valid truidentidad-mock state file (EOF while parsing a value at line 1 column 24); it was left untouched: fix or move it, or start without --state-file");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"{\"version\": 1, \"clock\": "
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let mut c = Catalogue::builtin();
    c.load_file(
        "slow.toml",
        "[[scenario]]\nname = \"slow-create\"\ndescription = \"d\"\n[scenario.outcome]\nstatus = \"success\"\n[[scenario.fault]]\nrequest = \"create\"\ndelay = \"400ms\"\n",
    )
    .unwrap();
    let server = MockServer::builder()
        .seed(1)
        .configure(|cfg| cfg.catalogue = Arc::new(c))
        .start()
        .await
        .unwrap();
    let addr = server.address();
    let in_flight = tokio::spawn(async move {
        request(
            addr,
            "POST",
            "/v1/validations",
            &[("Truora-API-Key", KEY), ("Content-Type", FORM)],
            b"type=government&account_id=slow-create",
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shutdown().await;
    let r = in_flight.await.unwrap();
    assert_eq!(
        r.status, 200,
        "the request in flight at shutdown was answered"
    );
    // And the port no longer accepts connections.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_at_once() {
    // No header-read timeout, so nothing but the stop can close the idle connection.
    let server = MockServer::builder()
        .seed(1)
        .configure(|cfg| cfg.header_read_timeout = Duration::ZERO)
        .start()
        .await
        .unwrap();
    let mut idle = TcpStream::connect(server.address()).await.unwrap();
    idle.write_all(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // The connection now sits idle, kept alive. Stopping must end it, not wait out the
    // grace period meant for requests in flight (the server task would still be holding it
    // open after `shutdown` returned). The timeout only guards against a hang.
    server.shutdown().await;
    let closed = tokio::time::timeout(Duration::from_secs(30), idle.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "the idle connection was closed by the stop: {closed:?}"
    );
}
