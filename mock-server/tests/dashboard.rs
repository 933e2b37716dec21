//! The dashboard's data API as the page uses it: partial search, paging, refreshes that cost a
//! `304` when nothing changed, and a journey label that tells a finished journey apart.

mod common;

use std::time::Duration;

use common::*;
use truidentidad_mock_server::MockServer;

const LIST: &str = "/dashboard/api/validations";

async fn get_with(server: &MockServer, path: &str, headers: &[(&str, &str)]) -> Resp {
    request(server.address(), "GET", path, headers, b"").await
}

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["validation_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn partial_ids_and_accounts_find_what_they_are_part_of() {
    let server = manual_server().await;
    let a = create_id(&server, "type=government&account_id=success.Alice").await;
    let b = create_id(&server, "type=government&account_id=success.bob").await;

    // A slice of an id, in either case, finds that validation and no 400.
    let part = &a[10..18];
    let r = get(
        &server,
        &format!("{LIST}?validation_id={}", part.to_uppercase()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(ids(&r.json()), [a.as_str()]);

    let r = get(&server, &format!("{LIST}?account_id=alice"))
        .await
        .json();
    assert_eq!(ids(&r), [a.as_str()]);
    let r = get(&server, &format!("{LIST}?account_id=success."))
        .await
        .json();
    assert_eq!(ids(&r), [b.as_str(), a.as_str()], "newest first");

    // Something that matches nothing is an empty list, not an error.
    let none = get(&server, &format!("{LIST}?validation_id=not-an-id")).await;
    assert_eq!(none.status, 200);
    assert_eq!(
        (
            none.json()["count"].as_u64(),
            none.json()["matched"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn pages_go_past_the_first_and_bad_numbers_are_named() {
    let server = manual_server().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_id(&server, &format!("type=government&account_id=success.p{i}")).await);
    }
    created.reverse(); // newest first, as the list is
    let page = get(&server, &format!("{LIST}?limit=2&offset=2"))
        .await
        .json();
    assert_eq!(ids(&page), created[2..4]);
    assert_eq!(
        (
            page["count"].as_u64(),
            page["matched"].as_u64(),
            page["offset"].as_u64(),
            page["limit"].as_u64()
        ),
        (Some(2), Some(5), Some(2), Some(2))
    );
    let last = get(&server, &format!("{LIST}?limit=2&offset=4"))
        .await
        .json();
    assert_eq!(ids(&last), created[4..]);
    let past = get(&server, &format!("{LIST}?limit=2&offset=40"))
        .await
        .json();
    assert_eq!(
        (past["count"].as_u64(), past["matched"].as_u64()),
        (Some(0), Some(5))
    );

    let bad = get(&server, &format!("{LIST}?offset=-1")).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap()
            .contains("offset must be a whole number, 0 to 4294967295, got `-1`")
    );
    let bad = get(&server, &format!("{LIST}?limit=0")).await;
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap()
            .contains("limit must be a whole number, 1 to 10000")
    );
}

#[tokio::test]
async fn an_unchanged_list_or_detail_costs_a_304() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=success.etag").await;
    server.advance(Duration::from_secs(10)); // the scenario has finished

    for (path, enc) in [
        (LIST.to_string(), "gzip"),
        (LIST.to_string(), ""),
        (format!("{LIST}/{id}"), "gzip"),
    ] {
        let first = get_with(&server, &path, &[("Accept-Encoding", enc)]).await;
        assert_eq!(first.status, 200);
        assert_eq!(first.header("cache-control"), Some("no-cache"));
        assert_eq!(first.header("vary"), Some("Accept-Encoding"));
        assert_eq!(
            first.header("content-encoding"),
            (enc == "gzip").then_some("gzip"),
            "{path} {enc:?}"
        );
        let tag = first.header("etag").expect("an ETag").to_string();
        // Time passing alone changes nothing in a finished validation's body.
        server.advance(Duration::from_secs(30));
        let again = get_with(
            &server,
            &path,
            &[("Accept-Encoding", enc), ("If-None-Match", &tag)],
        )
        .await;
        assert_eq!(again.status, 304, "{path} {enc:?}");
        assert!(again.body.is_empty());
    }

    let tag = get(&server, LIST).await.header("etag").unwrap().to_string();
    create_id(&server, "type=government&account_id=success.etag2").await;
    let changed = get_with(&server, LIST, &[("If-None-Match", &tag)]).await;
    assert_eq!(changed.status, 200, "a new validation changes the list");
    assert_eq!(changed.json()["count"], 2);
    assert!(
        changed.json()["validations"][0]
            .get("age_seconds")
            .is_none()
    );
}

#[tokio::test]
async fn a_finished_journey_is_not_shown_as_processing() {
    let server = manual_server().await;
    let id = create_id(&server, "type=government&account_id=success.journey").await;
    let adapter = |rest: &str| format!("/web-adapter/v1/validations/{id}{rest}");
    assert_eq!(
        post_json(&server, &adapter("/open"), r#"{"device":"desktop"}"#)
            .await
            .status,
        200
    );
    let row = |list: serde_json::Value| list["validations"][0]["journey_label"].clone();
    assert_eq!(row(get(&server, LIST).await.json()), "intro (desktop)");

    for (name, body) in [
        ("intro", "{}"),
        ("document", r#"{"document_number":"1020304050"}"#),
        ("consent", r#"{"accepted":true}"#),
        (
            "geolocation",
            r#"{"granted":true,"latitude":4.61,"longitude":-74.08}"#,
        ),
    ] {
        let r = post_json(&server, &adapter(&format!("/steps/{name}")), body).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
    }
    let up = request(
        server.address(),
        "POST",
        &adapter("/steps/liveness"),
        &[("Content-Type", "video/webm")],
        &[7u8; 2048],
    )
    .await;
    assert_eq!(up.status, 200, "{}", up.text());
    server.advance(Duration::from_secs(60));
    assert_eq!(
        poll(&server, &id).await.json()["validation_status"],
        "success"
    );
    assert_eq!(row(get(&server, LIST).await.json()), "finished (desktop)");
    let detail = get(&server, &format!("{LIST}/{id}")).await.json();
    assert_eq!(detail["journey_label"], "finished (desktop)");
}

/// The live chart's data: API requests per whole second of the server's clock, the 429s
/// among them, the peak and the mean; an idle answer is always the same (a `304`).
#[tokio::test]
async fn traffic_counts_api_requests_per_second_and_idle_costs_a_304() {
    let server = MockServer::builder()
        .manual_clock()
        .configure(|c| c.rate_limit = Some("2/s".parse().unwrap()))
        .start()
        .await
        .unwrap();
    const TRAFFIC: &str = "/dashboard/api/traffic?seconds=3";
    let idle = get(&server, TRAFFIC).await;
    insta::assert_snapshot!(idle.text(), @r#"{"mean":0.0,"peak":0,"seconds":[],"total":0}"#);
    let tag = idle.header("etag").unwrap().to_string();
    server.advance(Duration::from_secs(1));
    assert_eq!(
        get_with(&server, TRAFFIC, &[("If-None-Match", &tag)])
            .await
            .status,
        304
    );

    // Second 1: three creates against 2 requests/s (the third is refused); second 2: one poll.
    // Dashboard and control requests are not API traffic.
    let id = create_id(&server, "type=government").await;
    create(&server, "type=government").await;
    assert_eq!(create(&server, "type=government").await.status, 429);
    get(&server, "/_mock/health").await;
    server.advance(Duration::from_secs(1));
    poll(&server, &id).await;
    server.advance(Duration::from_secs(1));
    let v = get(&server, TRAFFIC).await.json();
    let seconds: Vec<(u64, u64, u64)> = v["seconds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            (n("requests"), n("throttled"), n("server_errors"))
        })
        .collect();
    assert_eq!(seconds, [(0, 0, 0), (3, 1, 0), (1, 0, 0)]);
    assert_eq!(
        (v["total"].as_u64(), v["peak"].as_u64(), v["mean"].as_f64()),
        (Some(4), Some(3), Some(2.0))
    );

    let bad = get(&server, "/dashboard/api/traffic?seconds=0").await;
    assert_eq!(bad.status, 400);
    insta::assert_snapshot!(bad.json()["message"].as_str().unwrap(), @"seconds must be a whole number, 1 to 299, got `0`");
}

/// Enum-valued and numeric query parameters accept exactly their values: no trimming, so a
/// status padded with U+0085 (which Unicode trims as whitespace) is a 400 in Truora's envelope
/// rather than a filter that drops out and lists everything (found by Schemathesis), and an
/// empty number is no number (`offset=`, found by Schemathesis too).
#[tokio::test]
async fn query_values_outside_their_enum_are_400_even_when_they_trim_to_one() {
    let server = manual_server().await;
    create_id(&server, "type=government&account_id=success.a").await;
    let mut answers = String::new();
    for path in [
        format!("{LIST}?status=%C2%85"),
        format!("{LIST}?status=pending%C2%85"),
        format!("{LIST}?status=%20pending"),
        format!("{LIST}?status=Pending"),
        format!("{LIST}?limit=%C2%855"),
        format!("{LIST}?offset="),
        format!("{LIST}?limit="),
        "/dashboard/api/traffic?seconds=%C2%8510".to_string(),
        "/_mock/validations?status=%C2%85".to_string(),
        "/_mock/journal?kind=poll%C2%85".to_string(),
        "/_mock/journal?kind=create,%20poll".to_string(),
    ] {
        let r = get(&server, &path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        answers.push_str(&format!("GET {path}\n{}\n\n", r.text()));
    }
    insta::assert_snapshot!(answers);
    // The exact values still filter.
    let r = get(&server, &format!("{LIST}?status=pending")).await;
    assert_eq!((r.status, r.json()["count"].as_u64()), (200, Some(1)));
    let r = get(&server, &format!("{LIST}?status=success")).await;
    assert_eq!((r.status, r.json()["count"].as_u64()), (200, Some(0)));
}
