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
    let c = Arc::new(Catalogue::builtin());
    let s = Box::new(MemoryStore::new(64, c.clone()));
    let new = NewValidation {
        account_id: "acc".into(),
        scenario: c.id_of(scenario).unwrap(),
        timeout: Duration::from_secs(timeout),
        ip: "127.0.0.1".parse().unwrap(),
        params: None,
    };
    s.insert(ID, 0, new, Duration::ZERO).unwrap();
    s
}

fn act(s: &dyn ValidationStore, at: f64, action: Action) -> Result<(), JourneyError> {
    let c = Catalogue::builtin();
    s.update(
        ID,
        || secs(at),
        |r, now| apply(r, &c, now, Device::Desktop, action),
    )
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
}

fn status(s: &dyn ValidationStore, at: f64) -> String {
    let v = s.get(ID, secs(at)).unwrap();
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
        s.poll(ID, &|| secs(1.0 + f64::from(i))).unwrap();
    }
    assert_eq!(status(&*s, 6.0), "pending");
    act(&*s, 6.0, Action::Intro).unwrap();
    act(&*s, 6.0, Action::Consent(true)).unwrap();
    act(&*s, 6.0, Action::Geolocation(Some((4.6, -74.08)))).unwrap();
    act(&*s, 7.0, Action::Liveness(10)).unwrap();
    for i in 0..3 {
        s.poll(ID, &|| secs(8.0 + f64::from(i))).unwrap();
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
        Err(JourneyError::BadDocument("12ab".into()))
    );
}

#[test]
fn a_known_document_number_skips_its_screen() {
    let s = store_with("success", 300);
    open_at(&*s, 0.0, Some("1020304050")).unwrap();
    act(&*s, 0.0, Action::Intro).unwrap();
    let step = s.get(ID, secs(0.0)).unwrap().record.journey.unwrap().step;
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
    let j = s.get(ID, secs(1.0)).unwrap().record.journey.unwrap();
    assert_eq!((j.events.len(), j.events_dropped), (MAX_EVENTS, 5));
}
