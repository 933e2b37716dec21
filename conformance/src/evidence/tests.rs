//! The evidence module's own rules, on hand-made requests and journal entries.

use super::*;
use truidentidad_scenarios::model::RetryAfter;

fn request(seq: u64, kind: Kind, id: Option<&str>, received: u64, sent: u64) -> Request {
    Request {
        seq,
        received: Duration::from_millis(received),
        sent: Duration::from_millis(sent),
        method: if kind == Kind::Create { "POST" } else { "GET" }.into(),
        path: "/v1/validations".into(),
        kind,
        validation_id: id.map(str::to_string),
        status: 200,
        fault: AppliedFault::default(),
        api_key: KeyState::Accepted,
        content_type: None,
        form: Vec::new(),
        retry_after: None,
        seen: Seen::Pending,
        poll_counted: kind == Kind::Poll,
        transport_retry: false,
    }
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
    let mut r = request(seq, Kind::Poll, Some("VLDa"), received, received + 5);
    r.path = "/v1/validations/VLDa".into();
    r.status = status;
    if status != 200 {
        r.seen = Seen::Error;
    }
    r
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

fn terminal(mut r: Request) -> Request {
    r.seen = Seen::Terminal {
        validation_status: "success".into(),
        failure_status: None,
    };
    r
}

/// Each rule counted once over one validation: a reset and the stack's re-send of it (one
/// attempt), a scenario's 429 (counted by the store) honoured, a rate-limit 429 (not counted)
/// ignored, and one poll after the terminal answer.
#[test]
fn facts_count_each_rule_once() {
    let mut reqs = vec![
        request(0, Kind::Create, Some("VLDa"), 0, 5),
        poll(1, 1_000, 0),
        poll(2, 1_100, 200),
        throttled(3, 2_200, 2, true),
        throttled(4, 4_300, 2, false),
        terminal(poll(5, 5_400, 200)),
        terminal(poll(6, 6_500, 200)),
    ];
    let settings = Settings::default();
    mark_transport_retries(&mut reqs, &settings);
    let refs: Vec<&Request> = reqs.iter().collect();
    let f = Facts::of(&refs, &settings);
    let ms = Duration::from_millis;
    assert_eq!(
        f,
        Facts {
            requests: 7,
            polls: 6,
            counted_polls: 5,
            transport_retries: 1,
            // After each 429; the re-send after the reset is the same attempt.
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
    let (end, after) = after_terminal(&refs).unwrap();
    assert_eq!((end.seq, after.len()), (5, 1));
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
