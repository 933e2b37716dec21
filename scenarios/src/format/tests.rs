use super::*;

/// The ```toml block of scenarios/README.md ("A file"), as a user copies it: it parses, and
/// says what its comments say.
#[test]
fn the_readme_example_parses() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("## A file")
        .nth(1)
        .and_then(|s| s.split("```toml\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a toml block under `## A file`");
    let scenarios = parse_scenarios("README.md", block).expect("the README's example is valid");
    assert_eq!(scenarios.len(), 1);
    let s = &scenarios[0];
    assert_eq!(s.name, "declined-after-journey");
    assert_eq!(s.phases.len(), 2);
    assert_eq!(s.faults.len(), 1);
}

fn errors(src: &str) -> String {
    match parse_scenarios("broken.toml", src) {
        Ok(s) => panic!("expected errors, parsed {} scenarios", s.len()),
        Err(e) => {
            e.0.iter()
                .map(FormatError::render)
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[test]
fn parses_a_full_scenario() {
    let src = r#"
[[scenario]]
name = "custom"
description = "Two phases then declined."
expired_reason = "face_validation_not_started"
[[scenario.phase]]
name = "journey"
until = "2s"
[[scenario.phase]]
name = "processing"
until = "5s"
until_polls = 4
[scenario.outcome]
status = "failure"
failure_status = "declined"
declined_reason = "document_unregistered"
[[scenario.fault]]
phase = "processing"
nth = [2, 3]
chance = 0.5
delay = { min = "10ms", max = "20ms" }
status = 429
retry_after = "3s"
retry_after_format = "http-date"
"#;
    let s = parse_scenarios("ok.toml", src).unwrap();
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s.phases.len(), 2);
    assert_eq!(s.phases[1].until_polls, Some(4));
    assert_eq!(
        s.outcome,
        Some(Outcome::Declined {
            reason: "document_unregistered"
        })
    );
    assert_eq!(s.expired_reason, "face_validation_not_started");
    let f = &s.faults[0];
    assert_eq!(f.phase, Some(1));
    assert_eq!(f.nth, vec![2, 3]);
    assert_eq!(
        f.action,
        FaultAction::HttpError {
            status: 429,
            message: None,
            retry_after: Some(RetryAfter::HttpDate(3))
        }
    );
}

#[test]
fn syntax_error_has_position() {
    insta::assert_snapshot!(errors("[[scenario]]\nname = \"x\nfoo"));
}

#[test]
fn unknown_key_is_named() {
    insta::assert_snapshot!(errors(
        "[[scenario]]\nname = \"x\"\ndescription = \"d\"\npending = \"3s\"\n"
    ));
}

#[test]
fn every_semantic_error_is_reported() {
    insta::assert_snapshot!(errors(
        r#"[[scenario]]
name = "Bad.Name"
description = "d"
[[scenario.phase]]
name = "a"
until = "5 parsecs"
[[scenario.phase]]
until = "1s"
[scenario.outcome]
status = "failure"
failure_status = "declined"
declined_reason = "face_mismatch"
[[scenario.fault]]
phase = "nowhere"
status = 200
[[scenario.fault]]
connection = "reset"
body = "empty"
"#
    ));
}

#[test]
fn unreachable_phases_and_outcomes() {
    insta::assert_snapshot!(errors(
        r#"[[scenario]]
name = "stuck"
description = "d"
[[scenario.phase]]
name = "forever"
[[scenario.phase]]
name = "never"
until = "1s"
[scenario.outcome]
status = "success"
"#
    ));
}

#[test]
fn duplicate_names_and_empty_files() {
    insta::assert_snapshot!(errors(
        "[[scenario]]\nname = \"a\"\ndescription = \"d\"\n[[scenario]]\nname = \"a\"\ndescription = \"d\"\n"
    ));
    insta::assert_snapshot!(errors("# nothing here\n"));
}

#[test]
fn failure_needs_failure_status() {
    insta::assert_snapshot!(errors(
        "[[scenario]]\nname = \"f\"\ndescription = \"d\"\n[scenario.outcome]\nstatus = \"failure\"\n"
    ));
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the bytes, the parser answers with scenarios or positioned errors, never a
        /// panic, and every error position lies inside the input.
        #[test]
        fn never_panics_and_positions_are_in_range(src in "\\PC{0,300}") {
            if let Err(errs) = parse_scenarios("fuzz.toml", &src) {
                let lines = src.split('\n').count().max(1);
                for e in errs.0 {
                    prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {}", e.line, lines);
                    prop_assert!(e.column >= 1);
                }
            }
        }

        /// Mutating a valid file (dropping a byte range) still never panics.
        #[test]
        fn truncated_valid_files_never_panic(cut in 0usize..1500, len in 0usize..40) {
            let src = crate::catalogue::BUILTIN_FILES[1].1;
            let mut s = src.to_string();
            let start = cut.min(s.len());
            let end = (start + len).min(s.len());
            if s.is_char_boundary(start) && s.is_char_boundary(end) {
                s.replace_range(start..end, "");
                let _ = parse_scenarios("cut.toml", &s);
            }
        }
    }
}
