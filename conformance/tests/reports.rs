//! The JUnit XML, HTML and terminal reports of one fixed, hand-built run, snapshot so a change
//! in what users' CI systems parse (or what people read) shows up in review; plus a structural
//! check of the JUnit XML with the counts and attributes CI reporters (Jenkins, GitLab, GitHub
//! test reporters) rely on, over the fixture and over arbitrary text.
//!
//! No client runs and no clock is read: every duration is a fixed value in the model, and the
//! renderers read nothing else (no timestamps, hostnames or paths), so the snapshots need no
//! redactions or filters. The JSON report is already snapshot by `reference_clients.rs`.
//!
//! The JUnit XML is read with `roxmltree` (see [`xml`] below), a conforming parser, so what the
//! tests compare is what CI tools get.

use std::time::Duration;

use proptest::prelude::*;
use truidentidad_conformance::catalogue::{Expect, ExpectedStatus, Level};
use truidentidad_conformance::client::{ClientEnd, ClientReport, ClientRun};
use truidentidad_conformance::report::{self, html, junit, terminal, timeline};
use truidentidad_conformance::trace::{Request, Seen};
use truidentidad_conformance::verdict::{
    CaseReport, ExpectSummary, GradedRequest, RuleFinding, RunReport, SettingsReport, Verdict,
};
use truidentidad_mock_server::journal::{AppliedFault, KeyState, Kind};

const VLD: &str = "VLD0123456789abcdef0123456789abcdef";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn case(
    id: &str,
    title: &str,
    scenario: &str,
    status: ExpectedStatus,
    verdict: Verdict,
) -> CaseReport {
    CaseReport {
        id: id.into(),
        title: title.into(),
        scenario: scenario.into(),
        account_id: format!("{scenario}.{id}"),
        expect: Expect {
            validation_status: status,
            failure_status: None,
        },
        verdict,
        seed: None,
        reason: None,
        duration: Duration::ZERO,
        findings: Vec::new(),
        skipped_rules: Vec::new(),
        client: None,
        requests: Vec::new(),
    }
}

fn finding(rule: &str, level: Level, message: &str) -> RuleFinding {
    RuleFinding {
        rule: rule.into(),
        title: format!("Title of {rule}"),
        level,
        verdict: match level {
            Level::Must => Verdict::Failed,
            Level::Should => Verdict::Warning,
        },
        message: message.into(),
        requests: Vec::new(),
        fix: format!("Fix for {rule}."),
        source: "conformance/README.md".into(),
        expected: false,
    }
}

fn client(status: &str) -> ClientRun {
    ClientRun {
        started: ms(2),
        ended: ms(6_100),
        first_request: Some(ms(1_402)),
        end: ClientEnd::Exited { code: Some(0) },
        report: Some(ClientReport {
            validation_id: Some(VLD.into()),
            validation_status: Some(status.into()),
            failure_status: None,
        }),
        report_error: None,
        stderr_tail: String::new(),
    }
}

/// A graded request received `at` milliseconds after the case's mock started, answered 1 ms
/// later; #1 is the create, the rest are polls.
fn request(seq: u64, at: u64, status: u16, seen: Seen, verdict: Verdict) -> GradedRequest {
    let create = seq == 1;
    GradedRequest {
        request: Request {
            seq,
            received: ms(at),
            sent: ms(at + 1),
            method: if create { "POST" } else { "GET" }.into(),
            path: if create {
                "/v1/validations".into()
            } else {
                format!("/v1/validations/{VLD}")
            },
            kind: if create { Kind::Create } else { Kind::Poll },
            validation_id: Some(VLD.into()),
            status,
            fault: if status == 429 {
                "http_error 429".parse().unwrap()
            } else {
                AppliedFault::default()
            },
            api_key: KeyState::Accepted,
            content_type: create.then(|| "application/x-www-form-urlencoded".into()),
            form: if create {
                vec![("type".into(), "government".into())]
            } else {
                Vec::new()
            },
            retry_after: (status == 429).then(|| Duration::from_secs(2)),
            seen,
            poll_counted: !create,
            transport_retry: false,
        },
        verdict,
        rules: if verdict == Verdict::Passed {
            Vec::new()
        } else {
            vec!["honour-retry-after".into()]
        },
    }
}

fn terminal_seen(status: &str) -> Seen {
    Seen::Terminal {
        validation_status: status.into(),
        failure_status: None,
    }
}

/// One case per thing a renderer treats differently: PASSED, FAILED with a multi-line message
/// and a warning beside it, WARNING only, FAILED only by an `--expect`-ed finding, SKIPPED,
/// INTERRUPTED, and a FAILED case whose every field needs escaping.
fn fixture() -> RunReport {
    let mut passed = case(
        "success",
        "Pending for 3 s, then success",
        "conformance-success",
        ExpectedStatus::Success,
        Verdict::Passed,
    );
    passed.duration = ms(4_012);
    passed.client = Some(client("success"));
    passed.requests = vec![
        request(1, 1, 200, Seen::Pending, Verdict::Passed),
        request(2, 1_105, 200, Seen::Pending, Verdict::Passed),
        request(3, 3_120, 200, terminal_seen("success"), Verdict::Passed),
    ];

    let mut failed = case(
        "rate-limited",
        "429 with Retry-After: 2 on the first two polls",
        "conformance-rate-limited",
        ExpectedStatus::Success,
        Verdict::Failed,
    );
    failed.duration = ms(8_431);
    failed.client = Some(client("success"));
    failed.requests = vec![
        request(1, 1, 200, Seen::Pending, Verdict::Passed),
        request(2, 1_002, 429, Seen::Error, Verdict::Passed),
        request(3, 1_403, 429, Seen::Error, Verdict::Failed),
        request(4, 2_404, 200, terminal_seen("success"), Verdict::Failed),
    ];
    let mut retry = finding(
        "honour-retry-after",
        Level::Must,
        "#3 GET /v1/validations/VLD… at t=1.403s came 0.400s after #2 answered 429 with Retry-After: 2s\n\
         #4 GET /v1/validations/VLD… at t=2.404s came 1.000s after #3 answered 429 with Retry-After: 2s",
    );
    retry.requests = vec![3, 4];
    failed.findings = vec![
        retry,
        finding(
            "jitter",
            Level::Should,
            "gaps after errors were all equal (1.000s, 1.000s): add random jitter",
        ),
    ];

    let mut warning = case(
        "declined",
        "Declined: the face does not match",
        "conformance-declined",
        ExpectedStatus::Failure,
        Verdict::Warning,
    );
    warning.duration = ms(3_507);
    warning.findings = vec![finding(
        "jitter",
        Level::Should,
        "every poll came exactly 1.000s after the last answer",
    )];

    let mut excused = case(
        "outage",
        "Five 503s in a row, then success",
        "conformance-outage",
        ExpectedStatus::Error,
        Verdict::Failed,
    );
    excused.duration = ms(12_250);
    let mut known = finding(
        "retries-capped",
        Level::Must,
        "7 failed requests in a row (cap 6)",
    );
    known.expected = true;
    excused.findings = vec![known];

    let mut skipped = case(
        "stalled-poll",
        "A poll that never answers",
        "conformance-stalled-poll",
        ExpectedStatus::Success,
        Verdict::Skipped,
    );
    skipped.reason = Some("not selected (--case)".into());

    let mut interrupted = case(
        "never-completes",
        "A validation that stays pending",
        "conformance-never-completes",
        ExpectedStatus::Pending,
        Verdict::Interrupted,
    );
    interrupted.reason = Some(
        "could not reach the client at http://127.0.0.1:9/never?a=1&b=2: Connection refused".into(),
    );

    let mut odd = case(
        "escaping-é",
        "Markup <b>, \"double\" and 'single' quotes & ampersands in café",
        "conformance-<odd>&\"scenario\"",
        ExpectedStatus::Success,
        Verdict::Failed,
    );
    odd.duration = ms(999);
    odd.account_id = "acc'é<&>".into();
    odd.client = Some(ClientRun {
        report: None,
        report_error: Some("the last line is not JSON: <html>&nbsp;</html>".into()),
        stderr_tail: "Traceback: KeyError: 'validation_id'\n\u{1b}[31mboom\u{1b}[0m".into(),
        ..client("success")
    });
    odd.findings = vec![RuleFinding {
        rule: "rule-<&>\"'é".into(),
        title: "A <title> & \"more\"".into(),
        level: Level::Must,
        verdict: Verdict::Failed,
        message: "line one: <b>bold</b> & \"double\" 'single' café\n\
                  line two: ]]> ends CDATA; NUL \u{0}, ESC \u{1b}, noncharacter \u{FFFF}"
            .into(),
        requests: Vec::new(),
        fix: "Write &amp; literally, or <![CDATA[ x ]]>.".into(),
        source: "RFC 9110 §10.2.3 <https://example.invalid/?a=1&b=2>".into(),
        expected: false,
    }];

    let cases = vec![passed, failed, warning, excused, skipped, interrupted, odd];
    RunReport {
        schema: 1,
        suite: "truidentidad-conformance",
        version: "0.0.0-fixture",
        client: "`python3 client.py --name \"<me>\" & 'you' é`".into(),
        settings: SettingsReport {
            min_interval: 1.0,
            tolerance: 0.05,
            quiet_window: 2.0,
            deadline: 13.0,
            outcome_deadline: 60.0,
            deadline_slack: 2.0,
            case_limit: 30.0,
            startup_limit: 60.0,
            request_timeout_limit: 10.0,
            request_timeout_slack: 0.5,
            max_retries: 6,
            skipped_rules: Vec::new(),
        },
        summary: RunReport::summarize(&cases),
        expect: Some(ExpectSummary {
            file: "known-deviations.toml".into(),
            unused: Vec::new(),
            matched: 1,
        }),
        // Less than the sum of the cases' durations (29.199s): they ran in parallel.
        wall_time: ms(12_873),
        cases,
    }
}

/// A client that crashes on start: every case FAILED with the same finding and the same
/// stderr, except `outage`, whose stderr differs, and `declined`, with a second finding.
fn crashing() -> RunReport {
    let mut report = fixture();
    let crash = "the client exited with code 1 and printed no result line";
    let stderr = "Traceback (most recent call last):\n  File \"client.py\", line 3, in <module>\n    import requests\nModuleNotFoundError: No module named 'requests'\n";
    let ids = ["success", "rate-limited", "declined", "outage"];
    report.cases = ids
        .iter()
        .map(|id| {
            let mut c = case(
                id,
                "title",
                &format!("conformance-{id}"),
                ExpectedStatus::Success,
                Verdict::Failed,
            );
            c.duration = ms(120);
            c.client = Some(ClientRun {
                end: ClientEnd::Exited { code: Some(1) },
                report: None,
                report_error: Some("no output".into()),
                stderr_tail: if *id == "outage" {
                    "Killed\n".into()
                } else {
                    stderr.into()
                },
                ..client("success")
            });
            c.findings = vec![finding("client-completes", Level::Must, crash)];
            c
        })
        .collect();
    report.cases[2].findings.push(finding(
        "outcome-matches",
        Level::Must,
        "the client reported nothing; expected `failure`",
    ));
    let mut passed = case(
        "invalid-api-key",
        "title",
        "conformance-invalid-api-key",
        ExpectedStatus::Error,
        Verdict::Passed,
    );
    passed.duration = ms(80);
    report.cases.push(passed);
    report.summary = RunReport::summarize(&report.cases);
    report.expect = None;
    report
}

/// A finding repeated across cases is said once, with its cases; the per-case lines stay.
#[test]
fn repeated_findings_are_reported_once() {
    let report = crashing();
    let summary = terminal::render(&report);
    let crash = &report.cases[0].findings[0].message;
    assert_eq!(summary.matches(crash.as_str()).count(), 1, "{summary}");
    insta::assert_snapshot!("terminal_repeated", summary);

    // The JSON keeps every finding in its case, and adds the grouped view.
    let json: serde_json::Value = serde_json::from_str(&report::json(&report)).unwrap();
    assert_eq!(json["cases"][3]["findings"][0]["message"], crash.as_str());
    assert_eq!(json["wall_time"], 12.873);
    let per_case: Vec<serde_json::Value> = ["success", "rate-limited", "declined", "outage"]
        .map(|case| serde_json::json!({"case": case, "message": crash}))
        .into();
    assert_eq!(
        json["finding_groups"],
        serde_json::json!([
            {"rule": "client-completes", "verdict": "FAILED", "message": crash,
             "cases": ["success", "rate-limited", "declined", "outage"],
             "per_case": per_case},
            {"rule": "outcome-matches", "verdict": "FAILED",
             "message": "the client reported nothing; expected `failure`", "cases": ["declined"],
             "per_case": [{"case": "declined",
                           "message": "the client reported nothing; expected `failure`"}]},
        ])
    );

    let page = html::render(&report);
    assert_eq!(page.matches(crash.as_str()).count(), 1);
    assert_eq!(page.matches("href=\"#repeated-0\"").count(), 4);
    insta::assert_snapshot!("html_repeated", page.replace("><", ">\n<"));
}

/// A small case drawn as a timeline: a create, a 429 with Retry-After: 2, a poll inside the
/// window (FAILED: honour-retry-after), a stalled poll the client abandoned, and the terminal
/// answer. The SVG is well-formed XML, names the broken rule at its request, and is
/// snapshot one element per line.
#[test]
fn timeline_svg_snapshot() {
    let mut c = case(
        "rate-limited",
        "429 with Retry-After: 2 on the first poll, then a stall",
        "conformance-rate-limited",
        ExpectedStatus::Success,
        Verdict::Failed,
    );
    c.client = Some(ClientRun {
        ended: ms(9_450),
        ..client("success")
    });
    let mut stalled = request(4, 3_405, 0, Seen::Error, Verdict::Passed);
    stalled.request.sent = ms(8_405);
    stalled.request.fault = "stall 5s; client closed the connection before the response"
        .parse()
        .unwrap();
    c.requests = vec![
        request(1, 1, 200, Seen::Pending, Verdict::Passed),
        request(2, 1_002, 429, Seen::Error, Verdict::Passed),
        request(3, 1_403, 429, Seen::Error, Verdict::Failed),
        stalled,
        request(5, 9_406, 200, terminal_seen("success"), Verdict::Passed),
    ];
    let mut broken = finding(
        "honour-retry-after",
        Level::Must,
        "#3 came 0.400s after #2 answered 429 with Retry-After: 2s",
    );
    broken.requests = vec![3];
    c.findings = vec![broken];

    let svg = timeline::svg(&c).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("#3 GET") && t.ends_with("FAILED: honour-retry-after")),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"FAILED honour-retry-after: #3"),
        "{titles:?}"
    );
    assert!(!svg.contains("<script") && !svg.contains("href"));
    insta::assert_snapshot!("timeline_svg", svg.replace("><", ">\n<"));
    assert!(
        timeline::svg(&case(
            "x",
            "t",
            "s",
            ExpectedStatus::Success,
            Verdict::Passed
        ))
        .is_none()
    );
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit", junit::render(&fixture()));
}

/// The HTML is written as one line; the snapshot breaks it before every tag so a change shows
/// as a readable diff. Escaped text has no `<` or `>`, so every `><` is between two tags and
/// the split is undone by joining the lines back.
#[test]
fn html_snapshot() {
    let page = html::render(&fixture());
    assert!(!page.contains(">\n<"), "the split would not be reversible");
    let lines = page.replace("><", ">\n<");
    assert_eq!(lines.replace(">\n<", "><"), page);
    insta::assert_snapshot!("html", lines);
}

/// `reference_clients.rs` snapshots the JSON report only; this is the terminal summary's.
/// The fixture's client wrote ANSI colours to its stderr and a finding quotes NUL and ESC:
/// the summary, read in terminals and CI logs, shows them as `\u{..}` instead of sending them.
#[test]
fn terminal_snapshot() {
    let summary = terminal::render(&fixture());
    let raw: Vec<char> = summary
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        raw.is_empty(),
        "control characters reached the terminal: {raw:?}"
    );
    insta::assert_snapshot!("terminal", summary);
}

fn count_attr(el: &xml::Element, name: &str) -> usize {
    let v = el
        .attr(name)
        .unwrap_or_else(|| panic!("<{}> has no `{name}`", el.name));
    v.parse()
        .unwrap_or_else(|e| panic!("<{}> {name}={v:?}: {e}", el.name))
}

/// The structure CI reporters rely on, checked on any rendering: `<testsuites>` wrapping one
/// `<testsuite>`, whose `tests`, `failures`, `errors` and `skipped` equal the number of
/// `<testcase>` elements and of their `<failure>`, `<error>` and `<skipped>` children (the
/// wrapper's too), and every `<testcase>` with a non-empty `name` and `classname` and at most
/// one outcome element. Returns the suite.
fn check_junit_structure(doc: &str) -> xml::Element {
    let root = xml::parse(doc).unwrap_or_else(|e| panic!("not well-formed: {e}\n{doc}"));
    assert_eq!(root.name, "testsuites");
    let suites = root.children("testsuite");
    assert_eq!(suites.len(), 1, "one <testsuite>");
    assert_eq!(root.children.len(), 1, "nothing but the <testsuite>");
    let suite = suites[0];
    let cases = suite.children("testcase");
    assert_eq!(suite.children.len(), cases.len(), "nothing but <testcase>s");
    let with = |child: &str| {
        cases
            .iter()
            .filter(|c| !c.children(child).is_empty())
            .count()
    };
    for el in [&root, suite] {
        assert_eq!(count_attr(el, "tests"), cases.len(), "<{}> tests", el.name);
        assert_eq!(
            count_attr(el, "failures"),
            with("failure"),
            "<{}> failures",
            el.name
        );
        assert_eq!(
            count_attr(el, "errors"),
            with("error"),
            "<{}> errors",
            el.name
        );
        assert_eq!(
            count_attr(el, "skipped"),
            with("skipped"),
            "<{}> skipped",
            el.name
        );
        assert!(el.attr("name").is_some_and(|n| !n.is_empty()));
    }
    for c in &cases {
        assert!(c.attr("name").is_some_and(|n| !n.is_empty()), "{c:?}");
        assert!(c.attr("classname").is_some_and(|n| !n.is_empty()), "{c:?}");
        let time = c.attr("time").unwrap_or_default();
        assert!(time.parse::<f64>().is_ok_and(|t| t >= 0.0), "time={time:?}");
        let outcomes = ["failure", "error", "skipped"]
            .iter()
            .map(|n| c.children(n).len())
            .sum::<usize>();
        assert!(outcomes <= 1, "more than one outcome in {c:?}");
        for o in c.children("failure").into_iter().chain(c.children("error")) {
            assert!(
                o.attr("message").is_some() && o.attr("type").is_some(),
                "{o:?}"
            );
        }
        for child in &c.children {
            assert!(
                ["failure", "error", "skipped", "system-out"].contains(&child.name.as_str()),
                "unexpected <{}>",
                child.name
            );
        }
    }
    suite.clone()
}

#[test]
fn junit_has_what_ci_reporters_rely_on() {
    let report = fixture();
    let doc = junit::render(&report);
    let suite = check_junit_structure(&doc);
    let cases = suite.children("testcase");
    // The suite's time is the run's wall time (cases overlap with --jobs), each case's its own.
    let root = xml::parse(&doc).unwrap_or_default();
    assert_eq!(root.attr("time"), Some("12.873"));
    assert_eq!(suite.attr("time"), Some("12.873"));
    let sum: f64 = cases
        .iter()
        .map(|c| c.attr("time").unwrap_or("0").parse::<f64>().unwrap_or(0.0))
        .sum();
    assert!((sum - 29.199).abs() < 1e-9, "{sum}");
    // Names and classnames come back exactly: nothing was lost or double-escaped.
    let names: Vec<_> = cases.iter().map(|c| c.attr("name").unwrap_or("")).collect();
    let ids: Vec<_> = report.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(names, ids);
    let escaping = cases[6];
    assert_eq!(
        escaping.attr("classname"),
        Some("conformance.conformance-<odd>&\"scenario\"")
    );
    let outcome =
        |i: usize| -> Vec<&str> { cases[i].children.iter().map(|c| c.name.as_str()).collect() };
    assert_eq!(outcome(0), Vec::<&str>::new(), "PASSED");
    assert_eq!(
        outcome(1),
        ["failure", "system-out"],
        "FAILED with a warning"
    );
    assert_eq!(outcome(2), ["system-out"], "WARNING");
    // FAILED only by a finding listed in --expect: not a JUnit failure, and not counted as one.
    assert_eq!(outcome(3), ["system-out"], "FAILED but expected");
    assert_eq!(count_attr(&suite, "failures"), 2);
    assert_eq!(outcome(4), ["skipped"], "SKIPPED");
    assert_eq!(outcome(5), ["error"], "INTERRUPTED");
    assert_eq!(outcome(6), ["failure"], "FAILED, escaped");

    // The multi-line message keeps its lines in the failure's text; the `message` attribute is
    // one line, as attribute-value normalization makes it for every parser.
    let failure = cases[1].children("failure")[0];
    let message = &report.cases[1].findings[0].message;
    assert!(message.contains('\n'));
    assert_eq!(
        failure.attr("message"),
        Some(format!("honour-retry-after: {}", message.replace('\n', " ")).as_str())
    );
    assert_eq!(
        failure.text,
        format!("honour-retry-after (MUST): {message}\nfix: Fix for honour-retry-after.")
    );
    // Characters XML 1.0 forbids, even escaped, become U+FFFD; everything else comes back.
    let odd = &report.cases[6].findings[0];
    let legal: String = odd
        .message
        .chars()
        .map(|c| if xml::is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    assert_eq!(
        cases[6].children("failure")[0].text,
        format!("{} (MUST): {legal}\nfix: {}", odd.rule, odd.fix)
    );
    assert_eq!(
        cases[5].children("error")[0].attr("message"),
        report.cases[5].reason.as_deref()
    );
}

/// Any Unicode, with the fragments markup is made of mixed in: `]]>`, entity-like text,
/// CR LF, control characters and the noncharacters XML forbids.
fn any_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => any::<char>().prop_map(String::from),
        1 => prop::sample::select(vec![
            "]]>", "<![CDATA[", "&amp;", "&#0;", "&", "<", ">", "\"", "'", "\r\n", "\r", "\n",
            "\t", "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{FFFE}", "\u{FFFF}", "é", "</testcase>",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// What a conforming parser hands back for `s` written as an attribute value: illegal
/// characters replaced, line ends normalized, then literal whitespace made a space.
fn as_attribute(s: &str) -> String {
    as_text(s).replace(['\n', '\t'], " ")
}

/// What a conforming parser hands back for `s` written as character data.
fn as_text(s: &str) -> String {
    let legal: String = s
        .chars()
        .map(|c| if xml::is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    legal.replace("\r\n", "\n").replace('\r', "\n")
}

proptest! {
    // No failure file: an integration test has no lib.rs beside it to put one next to.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever names and explanations a catalogue, a client or an OS error puts in a report,
    /// the JUnit file stays well-formed, its counts match, and every value comes back.
    #[test]
    fn junit_stays_well_formed_for_any_text(
        // Case ids come from the built-in catalogue, never empty.
        id in any_text().prop_map(|s| format!("case {s}")),
        scenario in any_text(),
        rule in any_text(),
        message in any_text(),
        fix in any_text(),
        reason in any_text(),
        verdicts in prop::collection::vec(
            prop::sample::select(vec![
                Verdict::Passed, Verdict::Failed, Verdict::Warning, Verdict::Skipped,
                Verdict::Interrupted,
            ]),
            0..6,
        ),
    ) {
        let mut report = fixture();
        report.cases = verdicts
            .iter()
            .map(|v| {
                let mut c = case(&id, "title", &scenario, ExpectedStatus::Success, *v);
                c.reason = matches!(v, Verdict::Skipped | Verdict::Interrupted)
                    .then(|| reason.clone());
                if matches!(v, Verdict::Failed | Verdict::Warning) {
                    let level = if *v == Verdict::Failed { Level::Must } else { Level::Should };
                    let mut f = finding(&rule, level, &message);
                    f.fix = fix.clone();
                    c.findings.push(f);
                }
                c
            })
            .collect();
        report.summary = RunReport::summarize(&report.cases);
        let doc = junit::render(&report);
        let suite = check_junit_structure(&doc);
        let cases = suite.children("testcase");
        prop_assert_eq!(cases.len(), verdicts.len());
        for (c, v) in cases.iter().zip(&verdicts) {
            prop_assert_eq!(c.attr("name").map(str::to_owned), Some(as_attribute(&id)));
            prop_assert_eq!(
                c.attr("classname").map(str::to_owned),
                Some(as_attribute(&format!("conformance.{scenario}")))
            );
            match v {
                Verdict::Failed => {
                    let f = c.children("failure");
                    prop_assert_eq!(f.len(), 1);
                    prop_assert_eq!(
                        f[0].attr("message").map(str::to_owned),
                        Some(as_attribute(&format!("{rule}: {message}")))
                    );
                    prop_assert_eq!(
                        &f[0].text,
                        &as_text(&format!("{rule} (MUST): {message}\nfix: {fix}"))
                    );
                }
                Verdict::Warning => {
                    let out = c.children("system-out");
                    prop_assert_eq!(out.len(), 1);
                    prop_assert_eq!(
                        &out[0].text,
                        &as_text(&format!("WARNING {rule} (SHOULD): {message}"))
                    );
                }
                Verdict::Skipped => prop_assert_eq!(
                    c.children("skipped")[0].attr("message").map(str::to_owned),
                    Some(as_attribute(&reason))
                ),
                Verdict::Interrupted => prop_assert_eq!(
                    c.children("error")[0].attr("message").map(str::to_owned),
                    Some(as_attribute(&reason))
                ),
                Verdict::Passed => prop_assert!(c.children.is_empty()),
            }
        }
    }
}

/// The reader must reject what a conforming parser rejects, or the tests above prove nothing.
#[test]
fn the_xml_reader_rejects_what_parsers_reject() {
    let ok = |body: &str| xml::parse(&format!("{}{body}", xml::DECL));
    assert!(ok(r#"<a x="1 &amp; &lt;2&gt; &quot;&apos; &#233;&#xE9;"><b/>t &amp; u</a>"#).is_ok());
    for bad in [
        "<a>&</a>",
        "<a>&nbsp;</a>",
        "<a>&#0;</a>",
        "<a>&#xFFFE;</a>",
        "<a>x < y</a>",
        "<a>]]></a>",
        r#"<a x="<"/>"#,
        r#"<a x="&"/>"#,
        r#"<a x="1" x="2"/>"#,
        r#"<a x="1"y="2"/>"#,
        "<a>\u{1b}</a>",
        "<a>\u{FFFF}</a>",
        "<a><b></a></b>",
        "<a>",
        "<a></a><b/>",
        "<a><!-- c --></a>",
    ] {
        assert!(ok(bad).is_err(), "accepted {bad:?}");
    }
    assert!(xml::parse("<a/>").is_err(), "no declaration");
}

mod xml {
    //! The JUnit document as a conforming parser ([`roxmltree`]) reads it, reduced to what the
    //! tests compare: elements, their attributes and their character data. Comments,
    //! processing instructions and DOCTYPEs are rejected too: the renderer never writes them,
    //! so finding one means something leaked through unescaped.

    /// The XML declaration the renderer writes, the only one accepted.
    pub const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

    #[derive(Debug, Clone, Default)]
    pub struct Element {
        pub name: String,
        pub attrs: Vec<(String, String)>,
        pub children: Vec<Element>,
        /// Character data directly inside this element, references resolved.
        pub text: String,
    }

    impl Element {
        pub fn attr(&self, name: &str) -> Option<&str> {
            self.attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }

        pub fn children(&self, name: &str) -> Vec<&Element> {
            self.children.iter().filter(|c| c.name == name).collect()
        }
    }

    /// XML 1.0 §2.2 `Char`: a document may contain nothing else, even as a reference.
    pub fn is_xml_char(c: char) -> bool {
        matches!(
            c,
            '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..
        )
    }

    /// Parses `doc` with roxmltree (a conforming processor: end-of-line and attribute-value
    /// normalization included, so values compare with what CI tools get).
    pub fn parse(doc: &str) -> Result<Element, String> {
        if let Some((i, c)) = doc.char_indices().find(|(_, c)| !is_xml_char(*c)) {
            return Err(format!("byte {i}: {c:?} is not an XML 1.0 character"));
        }
        if !doc.starts_with(DECL) {
            return Err("no XML declaration at the start".into());
        }
        // XML 1.0 §2.11: CR LF and lone CR become LF before parsing. Done here as well because
        // roxmltree 0.21 leaves a raw CR as is when a reference follows it (`\r&amp;` reads
        // back as "\r&"), which is not what other parsers give.
        let doc = doc.replace("\r\n", "\n").replace('\r', "\n");
        let parsed = roxmltree::Document::parse(&doc).map_err(|e| e.to_string())?;
        for node in parsed.root().children() {
            reject_markup(node)?;
        }
        element(parsed.root_element())
    }

    fn reject_markup(node: roxmltree::Node<'_, '_>) -> Result<(), String> {
        match node.node_type() {
            roxmltree::NodeType::Comment | roxmltree::NodeType::PI => Err(format!(
                "comment or processing instruction at byte {}",
                node.range().start
            )),
            _ => Ok(()),
        }
    }

    fn element(node: roxmltree::Node<'_, '_>) -> Result<Element, String> {
        let mut el = Element {
            name: node.tag_name().name().to_string(),
            attrs: node
                .attributes()
                .map(|a| (a.name().to_string(), a.value().to_string()))
                .collect(),
            ..Element::default()
        };
        for child in node.children() {
            reject_markup(child)?;
            if child.is_element() {
                el.children.push(element(child)?);
            } else if let Some(text) = child.text() {
                el.text.push_str(text);
            }
        }
        Ok(el)
    }
}

/// A tight-loop client: `min-poll-interval` FAILED in three cases, each with its own request
/// numbers and waits. Reports say it once per rule ("FAILED in 3 cases", each case listed), with
/// the first case's message standing for the group and each case's own message folded under it.
fn tight_loop() -> RunReport {
    let mut report = crashing();
    let ids = ["success", "rate-limited", "declined"];
    for (i, c) in report.cases.iter_mut().enumerate() {
        c.findings.clear();
        c.client = Some(client("success"));
        if let Some(id) = ids.get(i) {
            c.findings.push(finding(
                "min-poll-interval",
                Level::Must,
                &format!(
                    "{n} polls came sooner than 1.000s after the previous response (shortest wait 0.05{i}s; the limit is 1.000s minus 0.050s slack): #2 GET /v1/validations/VLD{i} at t=1.0{i}0s ({id})",
                    n = 10 + i
                ),
            ));
        } else {
            c.verdict = Verdict::Passed;
        }
    }
    report.summary = RunReport::summarize(&report.cases);
    report
}

#[test]
fn findings_are_grouped_by_rule_with_each_case_underneath() {
    let report = tight_loop();
    let summary = terminal::render(&report);
    assert!(
        summary.contains("  FAILED in 3 cases: success, rate-limited, declined\n"),
        "{summary}"
    );
    assert_eq!(
        summary.matches("FAILED min-poll-interval (MUST)").count(),
        1
    );
    insta::assert_snapshot!("terminal_by_rule", summary);
    let json: serde_json::Value = serde_json::from_str(&report::json(&report)).unwrap();
    let groups = json["finding_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(
        groups[0]["cases"],
        serde_json::json!(["success", "rate-limited", "declined"])
    );
    assert_eq!(groups[0]["per_case"].as_array().unwrap().len(), 3);
    assert_eq!(groups[0]["message"], groups[0]["per_case"][0]["message"]);
    let page = html::render(&report);
    assert!(page.contains("FAILED in 3 cases"), "{page}");
    insta::assert_snapshot!("html_by_rule", page.replace("><", ">\n<"));
}
