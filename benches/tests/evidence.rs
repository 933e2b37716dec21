//! One journal, three readers: the conformance suite's trace (`conformance run` and
//! `explore`), a fleet run over its own in-process mock, and a fleet run over another mock's
//! control API all reduce it through `conformance::evidence`, so they agree on what the client
//! did: the same requests, the same per-validation facts, and verdicts that match the fleet's
//! figures.

use std::time::Duration;

use truidentidad_conformance::catalogue::Catalogue;
use truidentidad_conformance::check_id::CheckId;
use truidentidad_conformance::client::{ClientEnd, ClientReport, ClientRun};
use truidentidad_conformance::evidence::{ControlEntry, Facts, Request};
use truidentidad_conformance::settings::Settings;
use truidentidad_conformance::trace::Trace;
use truidentidad_load::fleet::analysis::{ClientResult, Followed, figures, follow_requests};
use truidentidad_mock_server::journal::{
    AppliedFault, FaultEffect, FormFields, JournalEntry, KeyState, Kind, Observed,
};
use truidentidad_scenarios::model::RetryAfter;
use truidentidad_scenarios::{Outcome, ValidationStatus};

const ID: &str = "VLD00000000000000000000000000000001";
const ACCOUNT: &str = "success.fleet-000007-0";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One entry as the mock records it, answered 5 ms after it arrived.
fn entry(seq: u64, kind: Kind, at: u64, status: u16) -> JournalEntry {
    let create = kind == Kind::Create;
    JournalEntry {
        seq,
        received: ms(at),
        sent: ms(at + 5),
        method: if create {
            http::Method::POST
        } else {
            http::Method::GET
        },
        path: if create {
            "/v1/validations".into()
        } else {
            format!("/v1/validations/{ID}")
        },
        kind,
        validation_id: Some(ID.parse().unwrap()),
        status,
        fault: AppliedFault::default(),
        api_key: KeyState::Accepted,
        content_type: create.then(|| "application/x-www-form-urlencoded".into()),
        form: if create {
            FormFields::from_pairs([("type", "government"), ("account_id", ACCOUNT)])
        } else {
            FormFields::default()
        },
        remote: "127.0.0.1:40000".parse().unwrap(),
        observed: (status == 200).then_some(Observed {
            status: ValidationStatus::Pending,
            outcome: None,
        }),
        poll_counted: !create,
    }
}

fn with_fault(mut e: JournalEntry, effect: FaultEffect) -> JournalEntry {
    e.fault.effect = Some(effect);
    e
}

fn throttled(seq: u64, at: u64, retry_after: RetryAfter, counted: bool) -> JournalEntry {
    let mut e = with_fault(
        entry(seq, Kind::Poll, at, 429),
        FaultEffect::Status {
            status: 429,
            retry_after: Some(retry_after),
        },
    );
    e.poll_counted = counted;
    e
}

fn success(mut e: JournalEntry) -> JournalEntry {
    e.observed = Some(Observed {
        status: ValidationStatus::Success,
        outcome: Some(Outcome::Success),
    });
    e
}

/// A client's one validation: a reset its HTTP stack re-sent at once (a transport retry); a
/// 429 the scenario itself answered (the store counted the poll), honoured; a 429 from
/// `--rate-limit` (refused before the store, not counted), ignored; the success; and one poll
/// after it.
fn journal() -> Vec<JournalEntry> {
    vec![
        entry(0, Kind::Create, 0, 200),
        with_fault(entry(1, Kind::Poll, 1_000, 0), FaultEffect::Reset),
        entry(2, Kind::Poll, 1_100, 200),
        throttled(3, 2_200, RetryAfter::Seconds(2), true),
        throttled(4, 4_300, RetryAfter::Seconds(2), false),
        success(entry(5, Kind::Poll, 5_400, 200)),
        success(entry(6, Kind::Poll, 6_500, 200)),
    ]
}

/// The in-process reading (the suite's trace, and a fleet over its own mock).
fn in_process() -> Vec<Request> {
    journal().iter().map(Request::from_entry).collect()
}

/// The reading over the control API (a fleet run with `--target`): each entry as
/// `GET /_mock/journal` serves it, read back.
fn over_the_control_api() -> Vec<Request> {
    journal()
        .iter()
        .map(|e| {
            let served: ControlEntry = serde_json::from_value(e.to_json()).unwrap();
            served.into_request().unwrap().unwrap()
        })
        .collect()
}

fn conformance_trace(requests: Vec<Request>) -> Trace {
    let cat = Catalogue::builtin().unwrap();
    let case = cat.case("success").unwrap().clone();
    let scenario = cat
        .scenarios
        .get(cat.scenarios.id_of(&case.scenario).unwrap())
        .clone();
    Trace::new(
        case,
        scenario,
        Settings::default(),
        ACCOUNT.into(),
        requests,
        ClientRun {
            started: Duration::ZERO,
            ended: ms(7_000),
            first_request: Some(Duration::ZERO),
            end: ClientEnd::Exited { code: Some(0) },
            report: Some(ClientReport {
                validation_id: Some(ID.into()),
                validation_status: Some("success".into()),
                failure_status: None,
            }),
            report_error: None,
            stderr_tail: String::new(),
        },
    )
}

fn fleet_followed(requests: Vec<Request>) -> Followed {
    Followed {
        requests: follow_requests(requests, Duration::ZERO),
        terminal_at: Some(ms(5_000)),
        elapsed: ms(7_000),
        start_delay: Duration::ZERO,
        result: ClientResult::Reported { right: true },
        said: Some("success".into()),
        mock: Some("success".into()),
    }
}

#[test]
fn the_control_api_gives_the_requests_the_in_process_journal_gives() {
    assert_eq!(over_the_control_api(), in_process());
}

#[test]
fn conformance_and_fleet_agree_on_what_the_client_did() {
    let trace = conformance_trace(in_process());
    let timeline = trace.timeline(ID);
    let graded = Facts::of(&timeline, &trace.settings);
    assert_eq!(
        graded,
        Facts {
            requests: 7,
            polls: 6,
            // The rate limit's 429 did not reach the store; the scenario's own 429 did.
            counted_polls: 5,
            transport_retries: 1,
            // One after each 429: the re-send after the reset is the same attempt.
            retries: 2,
            after_terminal: 1,
            throttled: 2,
            server_errors: 0,
            no_answer: 1,
            retry_after_followed: 2,
            retry_after_honoured: 1,
            waits_after_failure: vec![ms(2_095), ms(1_095)],
        }
    );
    let marked: Vec<u64> = trace
        .requests
        .iter()
        .filter(|r| r.transport_retry)
        .map(|r| r.seq)
        .collect();
    assert_eq!(marked, [2]);

    // A fleet reads the same facts, from its own mock and over the control API.
    for requests in [in_process(), over_the_control_api()] {
        assert_eq!(fleet_followed(requests).facts(), graded);
    }

    // The verdicts and the fleet's figures say the same thing.
    let stop = CheckId::StopAfterTerminal.run(&trace);
    assert_eq!(stop.len(), 1);
    assert_eq!(stop[0].requests, [5, 6], "{}", stop[0].message);
    let retry_after = CheckId::HonourRetryAfter.run(&trace);
    assert_eq!(retry_after.len(), 1);
    assert_eq!(
        retry_after[0].requests,
        [4, 5],
        "{}",
        retry_after[0].message
    );
    assert!(CheckId::RetriesCapped.run(&trace).is_empty());

    let fleet = figures(
        &[fleet_followed(over_the_control_api())],
        &[],
        ms(7_000),
        ms(7_000),
    );
    assert_eq!(fleet.after_terminal, 1);
    assert_eq!(fleet.retries, 2);
    assert_eq!(
        (
            fleet.pushback.throttled,
            fleet.pushback.server_errors,
            fleet.pushback.no_answer
        ),
        (2, 0, 1)
    );
    assert_eq!(fleet.pushback.retry_after_honoured, 0.5);
    assert_eq!(fleet.polls_per_validation.max, 6);
}

/// What the recorded `poll_counted` fixes: an older mock's JSON has no such field, and the
/// status guess it falls back to takes the scenario's own 429 for a refused one.
#[test]
fn without_poll_counted_the_control_api_reading_falls_back_to_the_status_guess() {
    let old: Vec<Request> = journal()
        .iter()
        .map(|e| {
            let mut served = e.to_json();
            served.as_object_mut().unwrap().remove("poll_counted");
            let served: ControlEntry = serde_json::from_value(served).unwrap();
            served.into_request().unwrap().unwrap()
        })
        .collect();
    let counted = |rs: &[Request]| {
        rs.iter()
            .filter(|r| r.poll_counted)
            .map(|r| r.seq)
            .collect()
    };
    let counted_now: Vec<u64> = counted(&over_the_control_api());
    let guessed: Vec<u64> = counted(&old);
    assert_eq!(counted_now, [1, 2, 3, 5, 6]);
    assert_eq!(guessed, [1, 2, 5, 6]);
    // Everything else reads the same.
    let strip = |rs: Vec<Request>| {
        rs.into_iter()
            .map(|mut r| {
                r.poll_counted = false;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(old), strip(in_process()));
}
