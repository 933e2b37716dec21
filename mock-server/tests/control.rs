//! The control API under `/_mock/`: catalogue, listing and filtering, forcing outcomes,
//! switching and arming scenarios, virtual time, reset, journal, and the `--mix` draw.

mod common;

use std::time::Duration;

use common::*;
use truidentidad_mock_server::MockServer;

#[tokio::test]
async fn catalogue_lists_every_scenario() {
    let server = manual_server().await;
    let v = get(&server, "/_mock/scenarios").await.json();
    assert_eq!(v["default"], "success");
    let list = v["scenarios"].as_array().unwrap();
    assert_eq!(list.len(), server.state().catalogue().len());
    let flaky = list
        .iter()
        .find(|s| s["name"] == "flaky-5xx-then-success")
        .unwrap();
    insta::assert_json_snapshot!(flaky);
}

#[tokio::test]
async fn validation_detail_shows_scenario_timeline_and_requests() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=slow-success.u").await;
    poll(&server, &id).await;
    server.advance(Duration::from_secs(50));
    poll(&server, &id).await;
    let v = get(&server, &format!("/_mock/validations/{id}"))
        .await
        .json();
    redactions().bind(|| {
        insta::assert_json_snapshot!(v, {
            ".requests[].received" => "[t]",
            ".requests[].sent" => "[t]",
            ".age_seconds" => "[t]",
        })
    });
}

#[tokio::test]
async fn list_filters_by_status_account_and_scenario() {
    let server = manual_server().await;
    let a = create_id(&server, "type=government&account_id=system-error.a").await;
    let b = create_id(&server, "type=government&account_id=never-completes.b").await;
    server.advance(Duration::from_secs(5));
    let ids = |path: &str| {
        let server = &server;
        let path = path.to_string();
        async move {
            get(server, &path).await.json()["validations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["validation_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids("/_mock/validations").await,
        vec![b.clone(), a.clone()],
        "newest first"
    );
    assert_eq!(
        ids("/_mock/validations?status=failure").await,
        vec![a.clone()]
    );
    assert_eq!(
        ids("/_mock/validations?status=pending").await,
        vec![b.clone()]
    );
    assert_eq!(
        ids("/_mock/validations?account_id=never-completes.b").await,
        vec![b.clone()]
    );
    assert_eq!(
        ids("/_mock/validations?scenario=system-error").await,
        vec![a.clone()]
    );
    assert_eq!(ids("/_mock/validations?limit=1").await, vec![b.clone()]);
    let bad = get(&server, "/_mock/validations?status=done").await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json()["message"],
        "status filter must be pending, success or failure, got `done`"
    );
}

#[tokio::test]
async fn complete_forces_an_outcome_once() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=never-completes.x").await;
    let path = format!("/_mock/validations/{id}/complete");
    let r = post_json(&server, &path, r#"{"status":"failure","failure_status":"declined","declined_reason":"document_unregistered"}"#).await;
    assert_eq!(r.status, 200);
    let polled = poll(&server, &id).await.json();
    assert_eq!(polled["declined_reason"], "document_unregistered");
    // Terminal is final.
    let again = post_json(&server, &path, r#"{"status":"success"}"#).await;
    assert_eq!(again.status, 409);
    // Form bodies and query strings work too; bad outcomes are explained.
    let other = create_id(&server, "type=government&account_id=never-completes.y").await;
    let form = request(
        server.address(),
        "POST",
        &format!("/_mock/validations/{other}/complete?status=success"),
        &[],
        b"",
    )
    .await;
    assert_eq!(form.status, 200);
    assert_eq!(
        poll(&server, &other).await.json()["validation_status"],
        "success"
    );
    let third = create_id(&server, "type=government&account_id=never-completes.z").await;
    let mut out = String::new();
    for body in [
        r#"{}"#,
        r#"{"status":"failure"}"#,
        r#"{"status":"failure","failure_status":"declined"}"#,
        r#"{"status":"failure","failure_status":"declined","declined_reason":"bad_luck"}"#,
        r#"{"status":"done"}"#,
        r#"not json"#,
    ] {
        let r = post_json(
            &server,
            &format!("/_mock/validations/{third}/complete"),
            body,
        )
        .await;
        assert_eq!(r.status, 400, "{body}");
        out.push_str(&format!(
            "{body} -> {}\n",
            r.json()["message"].as_str().unwrap()
        ));
    }
    insta::assert_snapshot!(out);
    let missing = post_json(
        &server,
        "/_mock/validations/VLD00000000000000000000000000000000/complete",
        r#"{"status":"success"}"#,
    )
    .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn switching_scenario_restarts_the_timeline() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=never-completes.s").await;
    server.advance(Duration::from_secs(100));
    let r = post_json(
        &server,
        &format!("/_mock/validations/{id}/scenario"),
        r#"{"scenario":"declined-liveness"}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["scenario"], "declined-liveness");
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "pending"
    );
    server.advance(Duration::from_secs(3));
    assert_eq!(
        poll(&server, &id).await.json()["failure_status"],
        "declined"
    );
    let unknown = post_json(
        &server,
        &format!("/_mock/validations/{id}/scenario"),
        r#"{"scenario":"nope"}"#,
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown scenario `nope`; known scenarios: success,")
    );
}

#[tokio::test]
async fn armed_scenarios_apply_to_the_next_creates_only() {
    let server = manual_server().await;
    let r = post_json(
        &server,
        "/_mock/arm",
        r#"{"scenario":"system-error","count":2}"#,
    )
    .await;
    assert_eq!(r.json()["armed"], 2);
    let a = create_id(&server, "type=government&account_id=plain-1").await;
    // A magic account_id wins over the armed scenario and does not consume it.
    let m = create_id(&server, "type=government&account_id=declined-deceased.m").await;
    let b = create_id(&server, "type=government&account_id=plain-2").await;
    let c = create_id(&server, "type=government&account_id=plain-3").await;
    server.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&server, &a).await.json()["failure_status"],
        "system_error"
    );
    assert_eq!(poll(&server, &m).await.json()["failure_status"], "declined");
    assert_eq!(
        poll(&server, &b).await.json()["failure_status"],
        "system_error"
    );
    assert_eq!(
        poll(&server, &c).await.json()["validation_status"],
        "success"
    );
}

#[tokio::test]
async fn header_selects_a_scenario() {
    let server = manual_server().await;
    let r = request(
        server.address(),
        "POST",
        "/v1/validations",
        &[
            ("Truora-API-Key", KEY),
            ("Content-Type", FORM),
            ("X-Mock-Scenario", "system-error"),
        ],
        b"type=government&account_id=declined-deceased.h",
    )
    .await;
    let id = r.json()["validation_id"].as_str().unwrap().to_string();
    server.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&server, &id).await.json()["failure_status"],
        "system_error",
        "the header wins"
    );
}

#[tokio::test]
async fn clock_moves_only_in_manual_mode() {
    let server = manual_server().await;
    let before = get(&server, "/_mock/clock").await.json();
    assert_eq!(before["mode"], "manual");
    assert_eq!(before["now_seconds"], 0.0);
    let after = request(
        server.address(),
        "POST",
        "/_mock/clock/advance?seconds=2.5",
        &[],
        b"",
    )
    .await
    .json();
    assert_eq!(after["now_seconds"], 2.5);
    let bad = request(
        server.address(),
        "POST",
        "/_mock/clock/advance?seconds=-1",
        &[],
        b"",
    )
    .await;
    assert_eq!(bad.status, 400);

    let real = MockServer::builder().start().await.unwrap();
    let r = request(
        real.address(),
        "POST",
        "/_mock/clock/advance?seconds=1",
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 409);
    insta::assert_snapshot!(r.json()["message"].as_str().unwrap(), @"the server runs on the real clock; start it with --clock manual to move time by hand");
}

#[tokio::test]
async fn reset_forgets_everything() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government").await;
    post_json(&server, "/_mock/arm", r#"{"scenario":"system-error"}"#).await;
    assert_eq!(
        request(server.address(), "POST", "/_mock/reset", &[], b"")
            .await
            .status,
        200
    );
    assert_eq!(poll(&server, &id).await.status, 404);
    let journal = get(&server, "/_mock/journal").await.json();
    // Only the reset call itself (journaled after it ran) and the poll after it remain.
    let paths: Vec<&str> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec!["/_mock/reset".to_string(), format!("/v1/validations/{id}")]
    );
    // The armed scenario is gone too: a new validation gets the default.
    let fresh = create_id(&server, "type=government").await;
    // ...under an id never handed out before: the old one may still sit in a client's
    // database.
    assert_ne!(fresh, id);
    server.advance(Duration::from_secs(5));
    assert_eq!(
        poll(&server, &fresh).await.json()["validation_status"],
        "success"
    );
}

#[tokio::test]
async fn journal_is_queryable_by_validation() {
    let server = manual_server().await;
    let a = create_id(&server, "type=government").await;
    let b = create_id(&server, "type=government").await;
    poll(&server, &a).await;
    poll(&server, &b).await;
    poll(&server, &a).await;
    let v = get(&server, &format!("/_mock/journal?validation_id={a}"))
        .await
        .json();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e["validation_id"] == a.as_str()));
    assert_eq!(entries[0]["kind"], "create");
    assert_eq!(
        entries[0]["form"],
        serde_json::json!([["type", "government"]])
    );
    assert_eq!(v["capacity"], 10_000);
}

#[tokio::test]
async fn journal_filters_by_kind_to_hide_the_sdks_own_polling() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government").await;
    // The stand-in Web SDK polls the Web Adapter every second while the journey is open:
    // requests an integrator debugging their backend does not want in the way.
    for _ in 0..3 {
        get(&server, &format!("/web-adapter/v1/validations/{id}")).await;
    }
    poll(&server, &id).await;
    let kinds = |query: &str| {
        let server = &server;
        let query = query.to_string();
        async move {
            get(server, &format!("/_mock/journal?{query}")).await.json()["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["kind"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        kinds(&format!("validation_id={id}&kind=create,poll")).await,
        ["create", "poll"]
    );
    assert_eq!(
        kinds("kind=web-adapter").await,
        ["web-adapter", "web-adapter", "web-adapter"]
    );
    let bad = get(&server, "/_mock/journal?kind=polls").await;
    assert_eq!(bad.status, 400);
    insta::assert_snapshot!(bad.json()["message"].as_str().unwrap(), @"kind filter must be one or more of create, poll, web, web-adapter, control, other, comma-separated; got `polls`");
}

/// A reader outside the process (a fleet load run against a shared mock) pages forward from
/// where it started, and learns what each answer told the client and when each validation
/// ended, on the journal's clock.
#[tokio::test]
async fn journal_pages_forward_from_a_sequence_number_with_what_each_answer_said() {
    let server = manual_server().await;
    let before = get(&server, "/_mock/journal?limit=1").await.json()["next_seq"]
        .as_u64()
        .unwrap();
    let id = create_id(&server, "type=government").await;
    let created_at = server.now();
    server.advance(Duration::from_secs(10));
    poll(&server, &id).await;
    let page = |from: u64| {
        let server = &server;
        async move {
            get(
                server,
                &format!("/_mock/journal?kind=create,poll&from_seq={from}&limit=1"),
            )
            .await
            .json()
        }
    };
    let first = page(before).await;
    assert_eq!(first["entries"][0]["kind"], "create");
    assert_eq!(
        first["entries"][0]["observed"]["validation_status"],
        "pending"
    );
    let second = page(first["next_seq"].as_u64().unwrap()).await;
    assert_eq!(second["entries"][0]["kind"], "poll");
    assert_eq!(
        second["entries"][0]["observed"]["validation_status"],
        "success"
    );
    let third = page(second["next_seq"].as_u64().unwrap()).await;
    assert_eq!(third["entries"], serde_json::json!([]));

    // The default scenario is pending for 3 s: it ended then, not when the poll saw it.
    let detail = get(&server, &format!("/_mock/validations/{id}"))
        .await
        .json();
    let ended = detail["terminal_at_seconds"].as_f64().unwrap();
    let expected = (created_at + Duration::from_secs(3)).as_secs_f64();
    assert!((ended - expected).abs() < 0.002, "{ended} vs {expected}");

    let bad = get(&server, "/_mock/journal?from_seq=-1").await;
    assert_eq!(bad.status, 400);
    insta::assert_snapshot!(bad.json()["message"].as_str().unwrap(), @"from_seq must be a whole number (a `next_seq` from an earlier answer), got `-1`");
}

#[tokio::test]
async fn mix_draws_scenarios_by_weight_reproducibly() {
    let start = || async {
        MockServer::builder()
            .seed(99)
            .manual_clock()
            .configure(|c| c.mix = Some("system-error=1,declined-deceased=1".parse().unwrap()))
            .start()
            .await
            .unwrap()
    };
    let run = |server: MockServer| async move {
        let mut ids = Vec::new();
        for _ in 0..40 {
            ids.push(create_id(&server, "type=government").await);
        }
        server.advance(Duration::from_secs(5));
        let mut statuses = Vec::new();
        for id in &ids {
            statuses.push(
                poll(&server, id).await.json()["failure_status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        statuses
    };
    let first = run(start().await).await;
    let declined = first.iter().filter(|s| *s == "declined").count();
    assert!((8..=32).contains(&declined), "{declined} of 40 declined");
    assert_eq!(first, run(start().await).await, "same seed, same draw");
    let bad = MockServer::builder()
        .configure(|c| c.mix = Some("nope=1".parse().unwrap()))
        .start()
        .await
        .unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("invalid --mix: unknown scenario `nope` in mix")
    );
}
