//! The evidence module's own rules, on hand-made requests and journal entries.

use super::*;
use truidentidad_scenarios::model::RetryAfter;

fn request(seq: u64, kind: Kind, id: Option<&str>, received: u64, sent: u64) -> Request {
    let ms = Duration::from_millis;
    Request::answered(seq, kind, id, (ms(received), ms(sent)), 200)
}

/// Polls wait from the last response about their validation, creates from the last
/// create's; the first of each sequence has no gap.
#[test]
fn gaps_are_measured_within_each_validation_and_between_creates() {
    let a = Some("VLDa");
    let b = Some("VLDb");
    let reqs = [
        request(1, Kind::Create, None, 0, 10),
        request(2, Kind::Create, a, 1_010, 1_020),
        request(3, Kind::Poll, a, 2_022, 2_030),
        request(4, Kind::Create, b, 2_100, 2_110),
        request(5, Kind::Poll, b, 2_500, 2_510),
        request(6, Kind::Poll, a, 3_530, 3_540),
        request(7, Kind::Poll, Some("VLDunknown"), 4_000, 4_001),
    ];
    let ms = |n| Some(Duration::from_millis(n));
    assert_eq!(
        gaps_before(&reqs),
        [
            None,
            ms(1_000),
            ms(1_002),
            ms(1_080),
            ms(390),
            ms(1_500),
            None
        ]
    );
}

fn poll(seq: u64, received: u64, status: u16) -> Request {
    let ms = Duration::from_millis;
    Request::answered(
        seq,
        Kind::Poll,
        Some("VLDa"),
        (ms(received), ms(received + 5)),
        status,
    )
}

fn terminal(mut r: Request) -> Request {
    r.seen = Seen::Terminal {
        validation_status: "success".into(),
        failure_status: None,
    };
    r
}

/// The rules over one validation where they are easy to get wrong: a 503's Retry-After counts
/// like a 429's; a re-send that fails too is still one attempt, so the poll after it is one
/// retry; polls in flight together have no wait between them; and a poll that arrived before
/// the terminal answer was sent is not "after" it.
#[test]
fn facts_apply_each_rule_once() {
    let mut unavailable = poll(1, 1_000, 503);
    unavailable.fault.effect = Some(FaultEffect::Status {
        status: 503,
        retry_after: Some(RetryAfter::Seconds(3)),
    });
    unavailable.retry_after = Some(Duration::from_secs(3));
    let mut reqs = vec![
        request(0, Kind::Create, Some("VLDa"), 0, 5),
        unavailable,
        poll(2, 4_100, 0),
        poll(3, 4_200, 0),
        poll(4, 5_300, 200),
        terminal(poll(5, 5_302, 200)),
        terminal(poll(6, 5_306, 200)),
    ];
    let settings = Settings::default();
    mark_transport_retries(&mut reqs, &settings);
    let refs: Vec<&Request> = reqs.iter().collect();
    assert_eq!(
        Facts::of(&refs, &settings),
        Facts {
            requests: 7,
            polls: 6,
            counted_polls: 6,
            transport_retries: 1,
            retries: 2,
            after_terminal: 0,
            throttled: 0,
            server_errors: 1,
            no_answer: 2,
            retry_after_followed: 1,
            retry_after_honoured: 1,
            waits_after_failure: vec![Duration::from_millis(3_095)],
        }
    );
    let (end, after) = after_terminal(&refs).unwrap();
    assert_eq!((end.seq, after.len()), (5, 0));
}

fn throttled(seq: u64, received: u64, retry_after: u64, counted: bool) -> Request {
    let mut r = poll(seq, received, 429);
    r.fault.effect = Some(FaultEffect::Status {
        status: 429,
        retry_after: Some(RetryAfter::Seconds(retry_after)),
    });
    r.retry_after = Some(Duration::from_secs(retry_after));
    r.poll_counted = counted;
    r
}

/// The control API's JSON reads back to the same request the in-process journal gives, with
/// the store's own `poll_counted`; an older mock's JSON without it falls back to the status
/// guess, which takes a scenario's own 429 for a refused one.
#[test]
fn a_control_entry_reads_poll_counted_and_falls_back_to_the_guess_without_it() {
    let json = |extra: &str| {
        format!(
            r#"{{"seq":3,"received":2.2,"sent":2.205,"method":"GET","path":"/v1/validations/VLDa",
            "kind":"poll","validation_id":"VLDa","status":429,"fault":"http_error 429",
            "api_key":"accepted","remote":"127.0.0.1:1","retry_after_seconds":2{extra}}}"#
        )
    };
    let read = |text: String| {
        serde_json::from_str::<ControlEntry>(&text)
            .unwrap()
            .into_request()
            .unwrap()
            .unwrap()
    };
    let counted = read(json(r#","poll_counted":true"#));
    assert!(counted.poll_counted);
    assert_eq!(counted.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(
        counted.answer(),
        Answer::Throttled {
            retry_after: Some(2)
        }
    );
    assert_eq!(counted.fault, throttled(3, 2_200, 2, true).fault);
    assert!(
        !read(json("")).poll_counted,
        "the guess: a 429 did not reach the store"
    );

    let web = r#"{"seq":9,"received":1.0,"sent":1.0,"method":"GET","path":"/","kind":"web",
        "status":200,"api_key":"not_required","remote":"127.0.0.1:1"}"#;
    let web = serde_json::from_str::<ControlEntry>(web).unwrap();
    assert_eq!(web.seq(), 9);
    assert_eq!(web.into_request(), Ok(None));
    let bad = json(r#","fault":"http_error teapot""#).replace(r#""fault":"http_error 429","#, "");
    let bad = serde_json::from_str::<ControlEntry>(&bad).unwrap();
    assert!(bad.into_request().unwrap_err().contains("teapot"));
}
