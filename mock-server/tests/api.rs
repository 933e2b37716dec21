//! The emulated TruIdentidad API over real HTTP on loopback: every endpoint, every error case,
//! and concurrent polling of one validation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use truidentidad_mock_server::MockServer;

#[tokio::test]
async fn create_then_poll_to_success() {
    let server = manual_server().await;
    let created = create(
        &server,
        "type=government&account_id=user-1&user_authorized=true",
    )
    .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let body = created.json();
    let id = body["validation_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("VLD") && id.len() == 35);
    assert_eq!(body["ip_address"], "127.0.0.1");
    redactions().bind(|| insta::assert_json_snapshot!("create_response", body));

    let pending = poll(&server, &id).await;
    assert_eq!(pending.json()["validation_status"], "pending");
    server.advance(Duration::from_secs(3));
    let done = poll(&server, &id).await;
    redactions().bind(|| insta::assert_json_snapshot!("poll_success", done.json()));
    let details = request(
        server.address(),
        "GET",
        &format!("/v1/validations/{id}?show_details=true"),
        &[("Truora-API-Key", KEY)],
        b"",
    )
    .await;
    redactions().bind(|| insta::assert_json_snapshot!("poll_success_details", details.json()));
}

#[tokio::test]
async fn generated_account_ids_and_creation_dates_look_like_truora() {
    let server = manual_server().await;
    let body = create(&server, "type=government").await.json();
    let acc = body["account_id"].as_str().unwrap();
    assert!(acc.starts_with("ACC") && acc.len() == 35, "{acc}");
    let date = body["creation_date"].as_str().unwrap();
    // RFC 3339, UTC, nanoseconds: 2024-05-22T23:32:01.272290601Z
    assert_eq!(date.len(), 30, "{date}");
    assert!(date.ends_with('Z'));
}

#[tokio::test]
async fn same_seed_same_ids() {
    let a = MockServer::builder()
        .seed(9)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let b = MockServer::builder()
        .seed(9)
        .manual_clock()
        .start()
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            create_id(&a, "type=government").await,
            create_id(&b, "type=government").await
        );
    }
}

#[tokio::test]
async fn declined_with_magic_account_id() {
    let server = manual_server().await;
    let id = create_id(
        &server,
        "type=government&account_id=declined-deceased.user-42",
    )
    .await;
    server.advance(Duration::from_secs(10));
    let body = poll(&server, &id).await.json();
    assert_eq!(body["validation_status"], "failure");
    assert_eq!(body["failure_status"], "declined");
    assert_eq!(body["declined_reason"], "identity_belongs_to_dead_person");
}

#[tokio::test]
async fn expires_after_its_timeout() {
    let server = manual_server().await;
    let id = create_id(
        &server,
        "type=government&account_id=expired-not-started&timeout=60",
    )
    .await;
    server.advance(Duration::from_secs(59));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
    server.advance(Duration::from_secs(1));
    let body = poll(&server, &id).await.json();
    redactions().bind(|| insta::assert_json_snapshot!("poll_expired", body));
}

#[tokio::test]
async fn default_timeout_expires_a_stuck_validation_at_300s() {
    let server = MockServer::builder()
        .seed(1)
        .manual_clock()
        .default_scenario("expired-not-finished")
        .start()
        .await
        .unwrap();
    let id = create_id(&server, "type=government").await;
    server.advance(Duration::from_secs(299));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
    server.advance(Duration::from_secs(1));
    let body = poll(&server, &id).await.json();
    assert_eq!(body["failure_status"], "expired");
    assert_eq!(body["expired_reason"], "input_file_not_uploaded");
}

/// name, method, path, headers, body
type ErrorCase<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, &'a [u8]);

/// Every documented error case, with its status and Truora's envelope.
#[tokio::test]
async fn error_cases_use_truoras_envelope() {
    let server = MockServer::builder()
        .seed(1)
        .manual_clock()
        .api_key(KEY)
        .start()
        .await
        .unwrap();
    let addr = server.address();
    let id = create_id(&server, "type=government").await;
    let cases: Vec<ErrorCase> = vec![
        (
            "missing key",
            "POST",
            "/v1/validations",
            vec![("Content-Type", FORM)],
            b"type=government",
        ),
        (
            "rejected key",
            "GET",
            "/v1/validations/VLD00000000000000000000000000000000",
            vec![("Truora-API-Key", "wrong")],
            b"",
        ),
        (
            "json body",
            "POST",
            "/v1/validations",
            vec![
                ("Truora-API-Key", KEY),
                ("Content-Type", "application/json"),
            ],
            b"{\"type\":\"government\"}",
        ),
        (
            "no content type",
            "POST",
            "/v1/validations",
            vec![("Truora-API-Key", KEY)],
            b"type=government",
        ),
        (
            "missing type",
            "POST",
            "/v1/validations",
            vec![("Truora-API-Key", KEY), ("Content-Type", FORM)],
            b"account_id=x",
        ),
        (
            "other type",
            "POST",
            "/v1/validations",
            vec![("Truora-API-Key", KEY), ("Content-Type", FORM)],
            b"type=document-validation",
        ),
        (
            "bad account id",
            "POST",
            "/v1/validations",
            vec![("Truora-API-Key", KEY), ("Content-Type", FORM)],
            b"type=government&account_id=a/b",
        ),
        (
            "bad timeout",
            "POST",
            "/v1/validations",
            vec![("Truora-API-Key", KEY), ("Content-Type", FORM)],
            b"type=government&timeout=99999",
        ),
        (
            "unknown scenario header",
            "POST",
            "/v1/validations",
            vec![
                ("Truora-API-Key", KEY),
                ("Content-Type", FORM),
                ("X-Mock-Scenario", "nope"),
            ],
            b"type=government",
        ),
        (
            "unknown id",
            "GET",
            "/v1/validations/VLD00000000000000000000000000000000",
            vec![("Truora-API-Key", KEY)],
            b"",
        ),
        (
            "malformed id",
            "GET",
            "/v1/validations/12345",
            vec![("Truora-API-Key", KEY)],
            b"",
        ),
        (
            "bad show_details",
            "GET",
            "/v1/validations/VLD00000000000000000000000000000000?show_details=maybe",
            vec![("Truora-API-Key", KEY)],
            b"",
        ),
        (
            "wrong method on collection",
            "DELETE",
            "/v1/validations",
            vec![("Truora-API-Key", KEY)],
            b"",
        ),
        (
            "wrong method on item",
            "POST",
            "/v1/validations/VLD00000000000000000000000000000000",
            vec![("Truora-API-Key", KEY)],
            b"",
        ),
        (
            "unknown path",
            "GET",
            "/v2/validations",
            vec![("Truora-API-Key", KEY)],
            b"",
        ),
        ("unknown control path", "GET", "/_mock/nothing", vec![], b""),
    ];
    let mut transcript = String::new();
    for (name, method, path, headers, body) in cases {
        let r = request(addr, method, path, &headers, body).await;
        let v = r.json();
        assert_eq!(v["http_code"].as_u64(), Some(u64::from(r.status)), "{name}");
        assert_eq!(
            v["code"].as_u64(),
            Some(20_000 + u64::from(r.status)),
            "{name}"
        );
        assert!(r.status >= 400, "{name}");
        let allow = r
            .header("allow")
            .map(|a| format!(" (Allow: {a})"))
            .unwrap_or_default();
        transcript.push_str(&format!(
            "{name}: {}{allow}\n  {}\n",
            r.status,
            v["message"].as_str().unwrap()
        ));
    }
    // The validation created before the errors is untouched by them.
    assert_eq!(poll(&server, &id).await.status, 200);
    redactions().bind(|| insta::assert_snapshot!("error_cases", transcript));
}

#[tokio::test]
async fn oversized_bodies_get_413_without_being_read() {
    let server = MockServer::builder()
        .seed(1)
        .configure(|c| c.max_body_bytes = 1024)
        .start()
        .await
        .unwrap();
    let body = format!("type=government&account_id={}", "a".repeat(2000));
    let r = create(&server, &body).await;
    assert_eq!(r.status, 413);
    insta::assert_snapshot!(r.json()["message"].as_str().unwrap(), @"the request body is 2027 bytes; the limit is 1024 bytes (--max-body-bytes)");
    // A chunked body (no Content-Length) over the limit is cut off too.
    let mut req = format!(
        "POST /v1/validations HTTP/1.1\r\nHost: x\r\nTruora-API-Key: k\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    req.push_str(&format!("{:x}\r\n{}\r\n0\r\n\r\n", body.len(), body));
    match raw(server.address(), req.as_bytes(), Duration::from_secs(5)).await {
        Outcome::Response(r) => assert_eq!(r.status, 413),
        other => panic!("expected 413, got {other:?}"),
    }
}

#[tokio::test]
async fn any_key_is_accepted_without_api_key_option() {
    let server = manual_server().await;
    let r = request(
        server.address(),
        "POST",
        "/v1/validations",
        &[("Truora-API-Key", "anything"), ("Content-Type", FORM)],
        b"type=government",
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn health_and_index() {
    let server = manual_server().await;
    let h = get(&server, "/_mock/health").await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    let i = get(&server, "/").await;
    assert_eq!(i.json()["openapi"], "/_mock/openapi.yaml");
}

/// Hundreds of concurrent pollers of one validation, and of many, while time moves: each
/// poller sees a monotone sequence (never back to pending), and every poll is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_polls_see_consistent_monotone_state() {
    let server = Arc::new(manual_server().await);
    let shared = create_id(&server, "type=government&account_id=success-after-polls.x").await;
    let mut others = Vec::new();
    for i in 0..20 {
        others.push(create_id(&server, &format!("type=government&account_id=u{i}")).await);
    }
    let mut tasks = Vec::new();
    for t in 0..200 {
        let server = server.clone();
        let id = if t % 2 == 0 {
            shared.clone()
        } else {
            others[t % others.len()].clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..5 {
                let r = poll(&server, &id).await;
                assert_eq!(r.status, 200);
                seen.push(r.json()["validation_status"].as_str().unwrap().to_string());
                if t == 1 {
                    server.advance(Duration::from_millis(500));
                }
            }
            seen
        }));
    }
    for t in tasks {
        let seen = t.await.unwrap();
        if let Some(first_done) = seen.iter().position(|s| s != "pending") {
            assert!(
                seen[first_done..].iter().all(|s| s == &seen[first_done]),
                "{seen:?}"
            );
        }
    }
    let detail = get(&server, &format!("/_mock/validations/{shared}"))
        .await
        .json();
    assert_eq!(
        detail["polls"], 500,
        "every poll of the shared validation is counted"
    );
    assert_eq!(detail["validation_status"], "success");
}
