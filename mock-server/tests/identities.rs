//! Test identities over real HTTP: the README's table, every row through the API, and the
//! precedence between the four ways to pick a scenario (header, magic `account_id`, document
//! number, the arm queue), on create and for a number typed in the journey. The same rows
//! through the browser journey: `e2e/tests/journey-identities.test.js`.

mod common;

use std::time::Duration;

use common::*;
use truidentidad_mock_server::MockServer;
use truidentidad_scenarios::identities::{Row, TABLE};

const README: &str = include_str!("../../README.md");

/// The README's identity rows: (document number, scenario), in order.
fn readme_rows() -> Vec<(String, String)> {
    README
        .lines()
        .filter(|l| l.starts_with("| `99"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            (cells[1].replace(['.', ' '], ""), cells[3].to_string())
        })
        .collect()
}

/// What a poll body says, in the words of [`Row::outcome`].
fn words(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    match (
        s("validation_status").as_str(),
        s("failure_status").as_str(),
    ) {
        ("success", _) => "success".into(),
        ("failure", "declined") => format!("declined: {}", s("declined_reason")),
        ("failure", "expired") => format!("expired: {}", s("expired_reason")),
        ("failure", other) => format!("failure: {other}"),
        (other, _) => other.into(),
    }
}

async fn scenario_of(server: &MockServer, id: &str) -> String {
    let v = get(server, &format!("/_mock/validations/{id}"))
        .await
        .json();
    v["scenario"].as_str().expect("scenario").to_string()
}

#[test]
fn the_readme_lists_every_identity_once_in_order() {
    let want: Vec<(String, String)> = TABLE
        .iter()
        .map(|r| (r.example(), r.scenario.to_string()))
        .collect();
    assert_eq!(readme_rows(), want);
}

#[tokio::test]
async fn every_readme_row_ends_as_documented_through_the_api() {
    let server = manual_server().await;
    let mut ids = Vec::new();
    for (number, scenario) in readme_rows() {
        // Written as a person would, with dots: the document rule removes them.
        let dotted = format!(
            "{}.{}.{}.{}",
            &number[..1],
            &number[1..4],
            &number[4..7],
            &number[7..]
        );
        let id = create_id(
            &server,
            &format!("type=government&account_id=plain&timeout=120&document_number={dotted}"),
        )
        .await;
        assert_eq!(scenario_of(&server, &id).await, scenario, "{number}");
        ids.push((number, id));
    }
    server.advance(Duration::from_secs(59));
    for (number, id) in &ids {
        let row: &Row = truidentidad_scenarios::identities::lookup(number).expect("a row");
        let pending = words(&poll(&server, id).await.json()) == "pending";
        // At 59 s only the slow success and the expiry (timeout 120 s) are still pending.
        assert_eq!(pending, matches!(row.code, "01" | "20"), "{number} at 59 s");
    }
    server.advance(Duration::from_secs(62));
    for (number, id) in &ids {
        let row = truidentidad_scenarios::identities::lookup(number).expect("a row");
        let got = words(&poll(&server, id).await.json());
        assert!(
            row.outcome.starts_with(&got),
            "{number}: {got} vs {}",
            row.outcome
        );
    }
}

/// The selectors, strongest first, and how each is sent on a create.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sel {
    Header,
    AccountId,
    Document,
    Arm,
}

const ORDER: [(Sel, &str); 4] = [
    (Sel::Header, "declined-liveness"),
    (Sel::AccountId, "declined-deceased"),
    (Sel::Document, "system-error"),
    (Sel::Arm, "declined-face-mismatch"),
];

async fn create_with(server: &MockServer, sels: &[Sel]) -> String {
    let name = |s: Sel| {
        ORDER
            .iter()
            .find(|(o, _)| *o == s)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    };
    let mut form = String::from("type=government");
    let mut headers = vec![("Truora-API-Key", KEY), ("Content-Type", FORM)];
    form.push_str(if sels.contains(&Sel::AccountId) {
        "&account_id=declined-deceased.p"
    } else {
        "&account_id=plain"
    });
    if sels.contains(&Sel::Document) {
        form.push_str("&document_number=9930000001");
    }
    if sels.contains(&Sel::Header) {
        headers.push(("X-Mock-Scenario", name(Sel::Header)));
    }
    if sels.contains(&Sel::Arm) {
        let r = post_json(
            server,
            "/_mock/arm",
            &format!(r#"{{"scenario":"{}"}}"#, name(Sel::Arm)),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = request(
        server.address(),
        "POST",
        "/v1/validations",
        &headers,
        form.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["validation_id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn on_create_the_stronger_selector_wins_every_pair() {
    let server = manual_server().await;
    for (i, (strong, strong_name)) in ORDER.iter().enumerate() {
        for (weak, _) in &ORDER[i + 1..] {
            let id = create_with(&server, &[*strong, *weak]).await;
            assert_eq!(
                &scenario_of(&server, &id).await,
                strong_name,
                "{strong:?} over {weak:?}"
            );
            if *weak == Sel::Arm {
                // The arm was not consumed: the next plain create takes it.
                let next = create_with(&server, &[]).await;
                assert_eq!(
                    scenario_of(&server, &next).await,
                    "declined-face-mismatch",
                    "{strong:?}"
                );
            }
        }
        // Alone, each selector picks its scenario.
        let id = create_with(&server, &[*strong]).await;
        assert_eq!(
            &scenario_of(&server, &id).await,
            strong_name,
            "{strong:?} alone"
        );
    }
    let id = create_with(&server, &[]).await;
    assert_eq!(
        scenario_of(&server, &id).await,
        "success",
        "nothing picks the default"
    );
}

fn adapter(id: &str, rest: &str) -> String {
    format!("/web-adapter/v1/validations/{id}{rest}")
}

/// Opens the journey of `id` and types `number` on the document screen.
async fn type_in_journey(server: &MockServer, id: &str, number: &str) {
    for (path, body) in [
        ("/open", r#"{"device":"phone"}"#.to_string()),
        ("/steps/intro", "{}".to_string()),
        (
            "/steps/document",
            format!(r#"{{"document_number":"{number}"}}"#),
        ),
    ] {
        let r = post_json(server, &adapter(id, path), &body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
}

#[tokio::test]
async fn a_number_typed_in_the_journey_replaces_only_the_arm_or_the_default() {
    let server = manual_server().await;
    // Replaced: the default, and a scenario the arm queue gave.
    for sels in [&[][..], &[Sel::Arm]] {
        let id = create_with(&server, sels).await;
        type_in_journey(&server, &id, "9.930.000.001").await;
        assert_eq!(scenario_of(&server, &id).await, "system-error", "{sels:?}");
    }
    // Kept: the header, a magic account_id, and the control API's switch.
    for (sels, want) in [
        (&[Sel::Header][..], "declined-liveness"),
        (&[Sel::AccountId], "declined-deceased"),
    ] {
        let id = create_with(&server, sels).await;
        type_in_journey(&server, &id, "9930000001").await;
        assert_eq!(scenario_of(&server, &id).await, want, "{sels:?}");
    }
    let id = create_with(&server, &[]).await;
    let r = post_json(
        &server,
        &format!("/_mock/validations/{id}/scenario"),
        r#"{"scenario":"declined-liveness"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    type_in_journey(&server, &id, "9930000001").await;
    assert_eq!(scenario_of(&server, &id).await, "declined-liveness");
    // A number given to the SDK's `init` (sent with the open) counts as typed.
    let id = create_with(&server, &[Sel::Arm]).await;
    let r = post_json(
        &server,
        &adapter(&id, "/open"),
        r#"{"device":"desktop","document_number":"9930000001"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(scenario_of(&server, &id).await, "system-error");
    // An ordinary number changes nothing.
    let id = create_with(&server, &[]).await;
    type_in_journey(&server, &id, "1020304050").await;
    assert_eq!(scenario_of(&server, &id).await, "success");
}

#[tokio::test]
async fn a_typed_identity_decides_the_outcome_after_the_video() {
    let server = manual_server().await;
    let id = create_with(&server, &[]).await;
    type_in_journey(&server, &id, "9910000001").await;
    for (path, body) in [
        ("/steps/consent", r#"{"accepted":true}"#),
        (
            "/steps/geolocation",
            r#"{"granted":true,"latitude":4.6,"longitude":-74.1}"#,
        ),
    ] {
        assert_eq!(
            post_json(&server, &adapter(&id, path), body).await.status,
            200
        );
    }
    let r = request(
        server.address(),
        "POST",
        &adapter(&id, "/steps/liveness"),
        &[("Content-Type", "video/webm")],
        b"video",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    server.advance(Duration::from_secs(4));
    assert_eq!(
        words(&poll(&server, &id).await.json()),
        "declined: similarity_threshold_not_passed"
    );
}
