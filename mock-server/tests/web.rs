//! The browser side over real HTTP on loopback: the Web Adapter the SDK calls (journey, CORS,
//! errors the SDK shows), the dashboard's data API and the embedded pages. The journeys in a
//! real browser are in `e2e/`.

mod common;

use std::time::Duration;

use common::*;
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::web::adapter::MAX_VIDEO_BYTES;

fn adapter(id: &str, rest: &str) -> String {
    format!("/web-adapter/v1/validations/{id}{rest}")
}

async fn step(server: &MockServer, id: &str, name: &str, json: &str) -> Resp {
    post_json(server, &adapter(id, &format!("/steps/{name}")), json).await
}

async fn upload(server: &MockServer, id: &str, content_type: &str, video: &[u8]) -> Resp {
    request(
        server.address(),
        "POST",
        &adapter(id, "/steps/liveness"),
        &[("Content-Type", content_type)],
        video,
    )
    .await
}

/// Opens the journey and answers every screen up to the video.
async fn walk_to_liveness(server: &MockServer, id: &str) {
    for (name, body) in [
        ("intro", "{}"),
        ("document", r#"{"document_number":"1020304050"}"#),
        ("consent", r#"{"accepted":true}"#),
        (
            "geolocation",
            r#"{"granted":true,"latitude":4.61,"longitude":-74.08}"#,
        ),
    ] {
        let r = step(server, id, name, body).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
    }
}

#[tokio::test]
async fn the_journey_holds_the_outcome_until_the_video_and_the_backend_agrees() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=success.web").await;
    let opened = post_json(&server, &adapter(&id, "/open"), r#"{"device":"desktop"}"#).await;
    assert_eq!(opened.status, 200, "{}", opened.text());
    assert_eq!(opened.header("access-control-allow-origin"), Some("*"));
    redactions().bind(|| insta::assert_json_snapshot!("adapter_state_opened", opened.json()));

    walk_to_liveness(&server, &id).await;
    // A person takes a while: the `success` scenario's 3 s must not run out meanwhile.
    server.advance(Duration::from_secs(60));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );

    let up = upload(&server, &id, "video/webm", &[7u8; 2048]).await;
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(up.json()["journey"]["step"], "processing");
    server.advance(Duration::from_secs(3));
    let backend = poll(&server, &id).await.json();
    let sdk = get(&server, &adapter(&id, "")).await.json();
    assert_eq!(backend["validation_status"], "success");
    assert_eq!(
        (sdk["validation_status"].as_str(), sdk["result"].as_str()),
        (Some("success"), Some("succeeded"))
    );

    // The control API shows where the user went, and the journal has the adapter's requests.
    let detail = get(&server, &format!("/_mock/validations/{id}"))
        .await
        .json();
    let events: Vec<&str> = detail["journey"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "opened",
            "started",
            "document_entered",
            "consent_accepted",
            "geolocation_granted",
            "video_uploaded"
        ]
    );
    assert_eq!(detail["journey"]["video_bytes"], 2048);
    let kinds: Vec<&str> = detail["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "web-adapter").count(),
        7,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn denials_end_the_validation_with_documented_reasons() {
    let server = manual_server().await;
    for (steps, reason) in [
        (
            &[("consent", r#"{"accepted":false}"#)][..],
            "data_authorization_not_provided",
        ),
        (
            &[
                ("consent", r#"{"accepted":true}"#),
                ("geolocation", r#"{"granted":false}"#),
            ][..],
            "geolocation_denied",
        ),
        (
            &[("cancel", r#"{"reason":"unwanted_camera_permissions"}"#)][..],
            "unwanted_camera_permissions",
        ),
    ] {
        let id = create_id(&server, "type=government&account_id=success.web").await;
        post_json(
            &server,
            &adapter(&id, "/open"),
            r#"{"document_number":"1020304050"}"#,
        )
        .await;
        assert_eq!(step(&server, &id, "intro", "{}").await.status, 200);
        let mut last = None;
        for (name, body) in steps {
            last = Some(step(&server, &id, name, body).await);
        }
        let last = last.unwrap().json();
        assert_eq!(
            (last["result"].as_str(), last["declined_reason"].as_str()),
            (Some("failed"), Some(reason))
        );
        let backend = poll(&server, &id).await.json();
        assert_eq!(backend["failure_status"], "declined");
        assert_eq!(backend["declined_reason"], reason);
    }
}

#[tokio::test]
async fn bad_input_gets_clear_errors_the_sdk_can_show() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=success.web").await;
    let mut seen = Vec::new();
    let mut note = |label: &str, r: Resp| {
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("*"),
            "{label}"
        );
        seen.push(serde_json::json!({ "case": label, "status": r.status, "body": r.json() }));
    };
    note(
        "unknown validation",
        get(&server, &adapter("VLD0123456789abcdef0123456789abcdef", "")).await,
    );
    note("malformed id", get(&server, &adapter("nope", "")).await);
    note("step before open", step(&server, &id, "intro", "{}").await);
    post_json(&server, &adapter(&id, "/open"), "{}").await;
    note(
        "step out of order",
        upload(&server, &id, "video/webm", b"abc").await,
    );
    note("unknown step", step(&server, &id, "selfie", "{}").await);
    note("bad JSON", step(&server, &id, "intro", "{").await);
    step(&server, &id, "intro", "{}").await;
    note(
        "bad document number",
        step(&server, &id, "document", r#"{"document_number":"12-ab"}"#).await,
    );
    note(
        "bad device",
        step(
            &server,
            &id,
            "document",
            r#"{"document_number":"1020304050","device":"tv"}"#,
        )
        .await,
    );
    walk_to_liveness_from_document(&server, &id).await;
    note(
        "not a video",
        upload(&server, &id, "text/plain", b"abc").await,
    );
    note("empty video", upload(&server, &id, "video/webm", b"").await);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: video/webm\r\nContent-Length: {}\r\n\r\n",
        adapter(&id, "/steps/liveness"),
        MAX_VIDEO_BYTES + 1
    );
    match raw(server.address(), head.as_bytes(), Duration::from_secs(10)).await {
        Outcome::Response(r) => note("oversized video", r),
        other => panic!("oversized upload: {other:?}"),
    }
    server.advance(Duration::from_secs(301));
    note(
        "finished validation",
        step(&server, &id, "cancel", "{}").await,
    );
    redactions().bind(|| insta::assert_json_snapshot!("adapter_errors", seen));
}

async fn walk_to_liveness_from_document(server: &MockServer, id: &str) {
    for (name, body) in [
        ("document", r#"{"document_number":"1020304050"}"#),
        ("consent", r#"{"accepted":true}"#),
        (
            "geolocation",
            r#"{"granted":true,"latitude":4.61,"longitude":-74.08}"#,
        ),
    ] {
        assert_eq!(step(server, id, name, body).await.status, 200, "{name}");
    }
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let server = manual_server().await;
    let r = request(
        server.address(),
        "OPTIONS",
        &adapter("VLD0123456789abcdef0123456789abcdef", "/steps/consent"),
        &[
            ("Origin", "http://shop.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
}

#[tokio::test]
async fn the_dashboard_api_filters_and_stays_out_of_the_journal() {
    let server = manual_server().await;
    let a = create_id(&server, "type=government&account_id=success.alice").await;
    let b = create_id(&server, "type=government&account_id=declined-deceased.bob").await;
    server.advance(Duration::from_secs(5));
    let before = get(&server, "/_mock/journal").await.json()["entries"]
        .as_array()
        .unwrap()
        .len();

    let all = get(&server, "/dashboard/api/validations").await.json();
    let ids: Vec<&str> = all["validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["validation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b.as_str(), a.as_str()], "newest first");
    let by_id = get(
        &server,
        &format!("/dashboard/api/validations?validation_id={a}"),
    )
    .await
    .json();
    assert_eq!(by_id["count"], 1);
    assert_eq!(by_id["validations"][0]["validation_id"], a.as_str());
    let failed = get(&server, "/dashboard/api/validations?status=failure")
        .await
        .json();
    assert_eq!(
        failed["validations"][0]["declined_reason"],
        "identity_belongs_to_dead_person"
    );
    let bob = get(
        &server,
        "/dashboard/api/validations?account_id=declined-deceased.bob",
    )
    .await
    .json();
    assert_eq!(bob["count"], 1);
    let detail = get(&server, &format!("/dashboard/api/validations/{a}"))
        .await
        .json();
    assert_eq!(
        detail["timeline"].as_array().unwrap().last().unwrap()["state"],
        "current"
    );
    assert_eq!(
        detail["requests"].as_array().unwrap().len(),
        1,
        "only the create"
    );
    let bad = get(&server, "/dashboard/api/validations?status=done").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap()
            .contains("pending, success or failure")
    );

    // The two list calls before this read were journaled only if the dashboard leaked into it.
    let after = get(&server, "/_mock/journal").await.json()["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        after,
        before + 1,
        "only the previous /_mock/journal read was added"
    );
}

#[tokio::test]
async fn pages_and_the_sdk_are_served_from_the_binary() {
    let server = manual_server().await;
    let sdk = get(&server, "/truorasdk.js").await;
    assert_eq!(sdk.status, 200);
    assert_eq!(
        sdk.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        sdk.header("access-control-allow-origin"),
        Some("*"),
        "module scripts load with CORS"
    );
    assert!(sdk.text().contains("window.TruoraSDK = { init: init"));
    let css = get(&server, "/truorasdk.css").await;
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    for page in [
        "/demo",
        "/dashboard",
        "/journey/VLD0123456789abcdef0123456789abcdef",
    ] {
        let r = get(&server, page).await;
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some("text/html; charset=utf-8")),
            "{page}"
        );
    }
    let id = create_id(&server, "type=government").await;
    let qr = get(&server, &adapter(&id, "/handoff.svg")).await;
    assert_eq!(qr.header("content-type"), Some("image/svg+xml"));
    assert!(qr.text().starts_with("<svg"));
    assert_eq!(get(&server, "/assets/nope.js").await.status, 404);
}

#[tokio::test]
async fn the_dashboard_data_needs_the_admin_token_when_one_is_set() {
    let server = MockServer::builder()
        .manual_clock()
        .configure(|c| c.admin_token = Some("s3cret".into()))
        .start()
        .await
        .expect("start");
    assert_eq!(get(&server, "/dashboard/api/validations").await.status, 401);
    assert_eq!(
        get(&server, "/dashboard/api/validations?admin_token=s3cret")
            .await
            .status,
        200
    );
    // The pages and the SDK carry no data and stay open; the adapter is authorised by the id.
    assert_eq!(get(&server, "/dashboard").await.status, 200);
    assert_eq!(get(&server, "/truorasdk.js").await.status, 200);
}

/// Creates with `X-Mock-Await-Person: value`.
async fn create_awaiting(server: &MockServer, form: &str, value: &str) -> Resp {
    request(
        server.address(),
        "POST",
        "/v1/validations",
        &[
            ("Truora-API-Key", KEY),
            ("Content-Type", FORM),
            ("X-Mock-Await-Person", value),
        ],
        form.as_bytes(),
    )
    .await
}

#[tokio::test]
async fn await_person_mode_waits_for_the_video_however_late_the_sdk_opens() {
    let server = manual_server().await;
    let r = create_awaiting(&server, "type=government&account_id=success.late", "true").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["validation_id"].as_str().unwrap().to_string();
    // The person reads the integrator's page for two minutes before the SDK opens.
    server.advance(Duration::from_secs(120));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
    let detail = get(&server, &format!("/_mock/validations/{id}"))
        .await
        .json();
    assert_eq!(detail["journey"]["awaits_person"], true);
    assert_eq!(detail["journey"]["opened"], false);
    let opened = post_json(&server, &adapter(&id, "/open"), r#"{"device":"desktop"}"#).await;
    assert_eq!(opened.json()["journey"]["step"], "intro");
    walk_to_liveness(&server, &id).await;
    assert_eq!(
        upload(&server, &id, "video/webm", &[7u8; 512]).await.status,
        200
    );
    server.advance(Duration::from_millis(2900));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
    server.advance(Duration::from_millis(100));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "success"
    );
}

#[tokio::test]
async fn the_fast_path_stays_the_default_and_the_server_flag_turns_the_mode_on() {
    let fast = manual_server().await;
    let id = create_id(&fast, "type=government&account_id=success.fast").await;
    fast.advance(Duration::from_secs(3));
    assert_eq!(
        poll(&fast, &id).await.json()["validation_status"],
        "success"
    );

    let awaiting = MockServer::builder()
        .seed(1)
        .manual_clock()
        .await_person(true)
        .start()
        .await
        .unwrap();
    let id = create_id(&awaiting, "type=government&account_id=success.flag").await;
    awaiting.advance(Duration::from_secs(30));
    assert_eq!(
        poll(&awaiting, &id).await.json()["validation_status"],
        "pending"
    );
    awaiting.advance(Duration::from_secs(300));
    let expired = poll(&awaiting, &id).await.json();
    assert_eq!(
        (
            expired["failure_status"].as_str(),
            expired["expired_reason"].as_str()
        ),
        (Some("expired"), Some("face_validation_not_started")),
        "never opened: the person did not start"
    );
    // The header turns it off for one validation.
    let r = create_awaiting(&awaiting, "type=government&account_id=success.off", "false").await;
    let id = r.json()["validation_id"].as_str().unwrap().to_string();
    awaiting.advance(Duration::from_secs(3));
    assert_eq!(
        poll(&awaiting, &id).await.json()["validation_status"],
        "success"
    );
}

#[tokio::test]
async fn a_bad_await_person_header_or_handoff_lang_is_a_clear_400() {
    let server = manual_server().await;
    let r = create_awaiting(&server, "type=government", "yes").await;
    assert_eq!(r.status, 400);
    insta::assert_snapshot!(r.json()["message"].as_str().unwrap(), @"X-Mock-Await-Person must be true or false, got `yes`");
    let id = create_id(&server, "type=government").await;
    let r = get(&server, &adapter(&id, "/handoff.svg?lang=fr")).await;
    assert_eq!(r.status, 400);
    insta::assert_snapshot!(r.json()["message"].as_str().unwrap(), @"lang must be es or en, got `fr`");
    let r = get(&server, &adapter(&id, "/handoff.svg?lang=en")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_document_rule_is_the_same_for_the_api_and_the_journey() {
    let server = manual_server().await;
    for (doc, ok) in [
        ("1.020.304.050", true),
        ("123", true),
        ("12", false),
        ("1234567890123456", false),
    ] {
        let api = create(&server, &format!("type=government&document_number={doc}")).await;
        let id = create_id(&server, "type=government").await;
        assert_eq!(
            post_json(&server, &adapter(&id, "/open"), "{}")
                .await
                .status,
            200
        );
        assert_eq!(step(&server, &id, "intro", "{}").await.status, 200);
        let journey = step(
            &server,
            &id,
            "document",
            &format!(r#"{{"document_number":"{doc}"}}"#),
        )
        .await;
        assert_eq!(
            (api.status == 200, journey.status == 200),
            (ok, ok),
            "{doc}"
        );
    }
}
