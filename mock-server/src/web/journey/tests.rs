use std::sync::Arc;
use std::time::Duration;

use truidentidad_scenarios::Catalogue;

use super::*;
use crate::ids::ValidationId;
use crate::store::{MemoryStore, NewValidation, ValidationStore};

const ID: ValidationId = ValidationId(42);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn store_with(scenario: &str, timeout: u64) -> Box<dyn ValidationStore> {
    store_in(scenario, timeout, false)
}

/// A store holding one validation created at 0 s, in await-person mode when `await_person`.
fn store_in(scenario: &str, timeout: u64, await_person: bool) -> Box<dyn ValidationStore> {
    let c = Arc::new(Catalogue::builtin());
    let s = Box::new(MemoryStore::new(64, c.clone()));
    let new = NewValidation {
        account_id: "acc".into(),
        scenario: c.id_of(scenario).unwrap(),
        chosen_by: crate::store::ChosenBy::Default,
        timeout: Duration::from_secs(timeout),
        ip: "127.0.0.1".parse().unwrap(),
        params: None,
        await_person,
    };
    s.insert(ID, 0, new, Duration::ZERO).unwrap();
    s
}

fn act(s: &dyn ValidationStore, at: f64, action: Action) -> Result<(), JourneyError> {
    let c = Catalogue::builtin();
    s.update(
        ID,
        || secs(at),
        |r, now| apply(r, &c, now, Device::Desktop, action.clone()),
    )
    .unwrap()
    .unwrap()
}

fn open_at(s: &dyn ValidationStore, at: f64, document: Option<&str>) -> Result<(), JourneyError> {
    let c = Catalogue::builtin();
    s.update(
        ID,
        || secs(at),
        |r, now| open(r, &c, now, Device::Desktop, document.map(String::from)),
    )
    .unwrap()
    .unwrap()
}

fn status(s: &dyn ValidationStore, at: f64) -> String {
    let v = s.get(ID, secs(at)).unwrap().unwrap();
    v.observation
        .outcome
        .map_or_else(|| "pending".into(), |o| o.label())
}

fn walk_to_liveness(s: &dyn ValidationStore, at: f64) {
    act(s, at, Action::Intro).unwrap();
    act(s, at, Action::Document("1020304050".into())).unwrap();
    act(s, at, Action::Consent(true)).unwrap();
    act(s, at, Action::Geolocation(Some((4.6, -74.08)))).unwrap();
}

#[test]
fn the_outcome_waits_for_the_video() {
    // `success` is pending for 3 s of scenario time. One second passes before the SDK opens
    // the journey; the user then takes 20 s; success comes 2 s after the upload.
    let s = store_with("success", 300);
    open_at(&*s, 1.0, None).unwrap();
    walk_to_liveness(&*s, 10.0);
    assert_eq!(
        status(&*s, 20.0),
        "pending",
        "no outcome while the user is in the journey"
    );
    act(&*s, 21.0, Action::Liveness(1234)).unwrap();
    assert_eq!(status(&*s, 22.9), "pending");
    assert_eq!(status(&*s, 23.0), "success");
}

#[test]
fn polls_during_the_journey_do_not_move_poll_driven_phases() {
    let s = store_with("success-after-polls", 300);
    open_at(&*s, 0.0, Some("1020304050")).unwrap();
    for i in 0..5 {
        s.poll(ID, &|| secs(1.0 + f64::from(i))).unwrap().unwrap();
    }
    assert_eq!(status(&*s, 6.0), "pending");
    act(&*s, 6.0, Action::Intro).unwrap();
    act(&*s, 6.0, Action::Consent(true)).unwrap();
    act(&*s, 6.0, Action::Geolocation(Some((4.6, -74.08)))).unwrap();
    act(&*s, 7.0, Action::Liveness(10)).unwrap();
    for i in 0..3 {
        s.poll(ID, &|| secs(8.0 + f64::from(i))).unwrap().unwrap();
    }
    assert_eq!(status(&*s, 11.0), "success");
}

#[test]
fn the_timeout_still_runs_during_the_journey() {
    let s = store_with("success", 30);
    open_at(&*s, 0.5, None).unwrap();
    assert_eq!(status(&*s, 29.9), "pending");
    assert_eq!(status(&*s, 30.0), "failure/expired/input_file_not_uploaded");
    assert!(matches!(
        act(&*s, 31.0, Action::Intro),
        Err(JourneyError::Finished(_))
    ));
}

#[test]
fn steps_must_come_in_order() {
    let s = store_with("success", 300);
    assert_eq!(act(&*s, 0.0, Action::Intro), Err(JourneyError::NotOpened));
    open_at(&*s, 0.0, None).unwrap();
    assert_eq!(
        act(&*s, 1.0, Action::Liveness(10)),
        Err(JourneyError::OutOfOrder {
            at: "intro",
            got: "liveness"
        })
    );
    act(&*s, 1.0, Action::Intro).unwrap();
    assert_eq!(
        act(&*s, 1.0, Action::Consent(true)),
        Err(JourneyError::OutOfOrder {
            at: "document",
            got: "consent"
        })
    );
    assert_eq!(
        act(&*s, 1.0, Action::Document("12ab".into())),
        Err(JourneyError::BadDocument(crate::document::BadDocument(
            "12ab".into()
        )))
    );
}

#[test]
fn a_known_document_number_skips_its_screen() {
    let s = store_with("success", 300);
    open_at(&*s, 0.0, Some("1020304050")).unwrap();
    act(&*s, 0.0, Action::Intro).unwrap();
    let step = s
        .get(ID, secs(0.0))
        .unwrap()
        .unwrap()
        .record
        .journey
        .unwrap()
        .step;
    assert_eq!(step, Step::Consent);
}

#[test]
fn declining_ends_with_the_documented_reason() {
    for (action, label) in [
        (
            Action::Geolocation(None),
            "failure/declined/geolocation_denied",
        ),
        (
            Action::Cancel(CancelReason::CameraDenied),
            "failure/declined/unwanted_camera_permissions",
        ),
    ] {
        let s = store_with("success", 300);
        open_at(&*s, 0.0, None).unwrap();
        act(&*s, 0.0, Action::Intro).unwrap();
        act(&*s, 0.0, Action::Document("1020304050".into())).unwrap();
        act(&*s, 0.0, Action::Consent(true)).unwrap();
        act(&*s, 1.0, action).unwrap();
        assert_eq!(status(&*s, 1.0), label);
    }
    let s = store_with("success", 300);
    open_at(&*s, 0.0, Some("1020304050")).unwrap();
    act(&*s, 0.0, Action::Intro).unwrap();
    act(&*s, 0.0, Action::Consent(false)).unwrap();
    assert_eq!(
        status(&*s, 0.0),
        "failure/declined/data_authorization_not_provided"
    );
}

#[test]
fn events_are_bounded() {
    let s = store_with("success", 300);
    for i in 0..(MAX_EVENTS + 5) {
        open_at(&*s, i as f64 * 0.01, None).unwrap();
    }
    let j = s
        .get(ID, secs(1.0))
        .unwrap()
        .unwrap()
        .record
        .journey
        .unwrap();
    assert_eq!((j.events.len(), j.events_dropped), (MAX_EVENTS, 5));
}

/// The whole journey, opened at `open` and uploaded at `upload` (steps in between at `open`).
fn journey(s: &dyn ValidationStore, open: f64, upload: f64) {
    open_at(s, open, None).unwrap();
    walk_to_liveness(s, open);
    act(s, upload, Action::Liveness(1000)).unwrap();
}

#[test]
fn awaiting_the_person_the_outcome_waits_however_late_the_sdk_opens() {
    // The SDK opens a minute after the create: in the fast path `success` would be over.
    let s = store_in("success", 300, true);
    assert_eq!(status(&*s, 59.0), "pending");
    journey(&*s, 60.0, 90.0);
    assert_eq!(
        status(&*s, 92.9),
        "pending",
        "the scenario clock starts at the upload"
    );
    assert_eq!(status(&*s, 93.0), "success");
    let fast = store_with("success", 300);
    assert_eq!(status(&*fast, 3.0), "success", "the fast path is unchanged");
}

#[test]
fn awaiting_the_person_polls_before_the_upload_do_not_count() {
    let s = store_in("success-after-polls", 300, true);
    let c = Catalogue::builtin();
    for i in 0..10 {
        s.poll(ID, &|| secs(i as f64)).unwrap().unwrap();
    }
    assert_eq!(status(&*s, 10.0), "pending");
    journey(&*s, 11.0, 12.0);
    let polls = c.get(c.id_of("success-after-polls").unwrap()).phases[0]
        .until_polls
        .unwrap();
    for i in 0..polls {
        assert_eq!(status(&*s, 13.0), "pending", "after {i} polls");
        s.poll(ID, &|| secs(13.0)).unwrap().unwrap();
    }
    assert_eq!(status(&*s, 13.0), "success");
}

#[test]
fn awaiting_the_person_expiry_says_what_the_person_did() {
    let never_opened = store_in("success", 30, true);
    assert_eq!(
        status(&*never_opened, 30.0),
        "failure/expired/face_validation_not_started"
    );
    let opened = store_in("expired-not-started", 30, true);
    open_at(&*opened, 5.0, None).unwrap();
    assert_eq!(status(&*opened, 29.9), "pending");
    assert_eq!(
        status(&*opened, 30.0),
        "failure/expired/input_file_not_uploaded"
    );
}

#[test]
fn a_person_who_acted_is_never_contradicted_by_the_scenario() {
    // Scenarios whose ending is a person's choice give way to `success` (3 s after the upload)
    // once the person accepted, allowed and recorded, in both modes.
    for scenario in [
        "declined-data-authorization",
        "declined-geolocation-denied",
        "expired-not-finished",
        "expired-not-started",
    ] {
        for await_person in [true, false] {
            let s = store_in(scenario, 30, await_person);
            journey(&*s, 0.5, 20.0);
            // Fast path: the 0.5 s before the SDK opened count as scenario time.
            let first = if await_person { 22.9 } else { 22.4 };
            assert_eq!(status(&*s, first), "pending", "{scenario} {await_person}");
            assert_eq!(status(&*s, 23.0), "success", "{scenario} {await_person}");
            assert_eq!(
                status(&*s, 100.0),
                "success",
                "the timeout is the person's deadline, met at the upload"
            );
        }
    }
}

#[test]
fn registry_and_face_results_still_come_from_the_scenario() {
    for (scenario, label) in [
        (
            "declined-face-mismatch",
            "failure/declined/similarity_threshold_not_passed",
        ),
        (
            "declined-deceased",
            "failure/declined/identity_belongs_to_dead_person",
        ),
        ("system-error", "failure/system_error"),
    ] {
        let s = store_in(scenario, 300, true);
        journey(&*s, 120.0, 150.0);
        assert_eq!(status(&*s, 152.9), "pending", "{scenario}");
        assert_eq!(status(&*s, 153.0), label, "{scenario}");
    }
}

#[test]
fn the_persons_own_declines_decide_in_await_person_mode() {
    let s = store_in("declined-face-mismatch", 300, true);
    open_at(&*s, 40.0, Some("1020304050")).unwrap();
    act(&*s, 41.0, Action::Intro).unwrap();
    act(&*s, 42.0, Action::Consent(false)).unwrap();
    assert_eq!(
        status(&*s, 42.0),
        "failure/declined/data_authorization_not_provided"
    );
}

#[test]
fn documents_follow_the_shared_rule() {
    let s = store_with("success", 300);
    open_at(&*s, 0.0, None).unwrap();
    act(&*s, 0.0, Action::Intro).unwrap();
    assert!(matches!(
        act(&*s, 0.0, Action::Document("12".into())),
        Err(JourneyError::BadDocument(_))
    ));
    act(&*s, 0.0, Action::Document("1.020.304.050".into())).unwrap();
    let j = s
        .get(ID, secs(0.0))
        .unwrap()
        .unwrap()
        .record
        .journey
        .unwrap();
    assert_eq!(j.document_number.as_deref(), Some("1020304050"));
}
