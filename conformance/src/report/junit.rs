//! JUnit XML: one `<testcase>` per case, so CI systems show the suite like any test run.
//! FAILED cases carry a `<failure>` whose message is the first broken rule; INTERRUPTED ones
//! an `<error>`; warnings and expected deviations go to `<system-out>`.

use std::fmt::Write;

use super::escape;
use crate::verdict::{CaseReport, RunReport, Verdict};

/// The child element a case gets, decided once per case so the suite's `failures`, `errors`
/// and `skipped` counts are counts of the elements actually written. Some CI reporters read
/// the counts, others count the elements: they must agree. (A case FAILED only by findings
/// listed in `--expect` keeps its FAILED verdict but gets no `<failure>`, so it cannot be
/// counted from the summary.)
enum Outcome {
    Failure { message: String, body: String },
    Error(String),
    Skipped(String),
    Ok,
}

fn outcome(c: &CaseReport) -> Outcome {
    match c.verdict {
        Verdict::Failed => {
            // Expected deviations (--expect) are not JUnit failures: they do not fail the run.
            let failing: Vec<_> = c
                .findings
                .iter()
                .filter(|f| f.verdict == Verdict::Failed && !f.expected)
                .collect();
            let Some(first) = failing.first() else {
                return Outcome::Ok;
            };
            let body: Vec<String> = failing
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}): {}\nfix: {}",
                        f.rule,
                        f.level.as_str(),
                        f.message,
                        f.fix
                    )
                })
                .collect();
            Outcome::Failure {
                message: format!("{}: {}", first.rule, first.message),
                body: body.join("\n\n"),
            }
        }
        Verdict::Interrupted => Outcome::Error(
            c.reason
                .clone()
                .unwrap_or_else(|| "the run never reached the client".into()),
        ),
        Verdict::Skipped => Outcome::Skipped(c.reason.clone().unwrap_or_else(|| "skipped".into())),
        Verdict::Passed | Verdict::Warning => Outcome::Ok,
    }
}

pub fn render(report: &RunReport) -> String {
    let outcomes: Vec<Outcome> = report.cases.iter().map(outcome).collect();
    let count = |want: fn(&Outcome) -> bool| outcomes.iter().filter(|o| want(o)).count();
    let failures = count(|o| matches!(o, Outcome::Failure { .. }));
    let errors = count(|o| matches!(o, Outcome::Error(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    // The run's wall time, not the sum of the cases': with `--jobs` they overlap, and CI
    // systems show the suite's time as how long it took.
    let total = report.wall_time.as_secs_f64();
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<testsuites name="truidentidad-conformance" tests="{}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{total:.3}">"#,
        report.cases.len(),
    );
    let _ = writeln!(
        s,
        r#"  <testsuite name="truidentidad-conformance" tests="{}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{total:.3}">"#,
        report.cases.len(),
    );
    for (c, o) in report.cases.iter().zip(&outcomes) {
        let _ = writeln!(
            s,
            r#"    <testcase classname="conformance.{}" name="{}" time="{:.3}">"#,
            escape(&c.scenario),
            escape(&c.id),
            c.duration.as_secs_f64()
        );
        match o {
            Outcome::Failure { message, body } => {
                let _ = writeln!(
                    s,
                    r#"      <failure type="FAILED" message="{}">{}</failure>"#,
                    escape(message),
                    escape(body)
                );
            }
            Outcome::Error(reason) => {
                let _ = writeln!(
                    s,
                    r#"      <error type="INTERRUPTED" message="{}"/>"#,
                    escape(reason)
                );
            }
            Outcome::Skipped(reason) => {
                let _ = writeln!(s, r#"      <skipped message="{}"/>"#, escape(reason));
            }
            Outcome::Ok => {}
        }
        let notes: Vec<String> = c
            .findings
            .iter()
            .filter(|f| f.verdict == Verdict::Warning || f.expected)
            .map(|f| {
                let tag = if f.expected {
                    "EXPECTED"
                } else {
                    f.verdict.as_str()
                };
                format!("{tag} {} ({}): {}", f.rule, f.level.as_str(), f.message)
            })
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(
                s,
                "      <system-out>{}</system-out>",
                escape(&notes.join("\n"))
            );
        }
        let _ = writeln!(s, "    </testcase>");
    }
    let _ = writeln!(s, "  </testsuite>");
    let _ = writeln!(s, "</testsuites>");
    s
}
