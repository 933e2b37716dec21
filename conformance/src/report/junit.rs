//! JUnit XML: one `<testcase>` per case, so CI systems show the suite like any test run.
//! FAILED cases carry a `<failure>` whose message is the first broken rule; INTERRUPTED ones
//! an `<error>`; warnings and expected deviations go to `<system-out>`.

use std::fmt::Write;

use super::escape;
use crate::verdict::{RunReport, Verdict};

pub fn render(report: &RunReport) -> String {
    let sum = &report.summary;
    let total: f64 = report.cases.iter().map(|c| c.duration.as_secs_f64()).sum();
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<testsuites name="truidentidad-conformance" tests="{}" failures="{}" errors="{}" skipped="{}" time="{total:.3}">"#,
        report.cases.len(),
        sum.failed,
        sum.interrupted,
        sum.skipped
    );
    let _ = writeln!(
        s,
        r#"  <testsuite name="truidentidad-conformance" tests="{}" failures="{}" errors="{}" skipped="{}" time="{total:.3}">"#,
        report.cases.len(),
        sum.failed,
        sum.interrupted,
        sum.skipped
    );
    for c in &report.cases {
        let _ = writeln!(
            s,
            r#"    <testcase classname="conformance.{}" name="{}" time="{:.3}">"#,
            escape(&c.scenario),
            escape(&c.id),
            c.duration.as_secs_f64()
        );
        match c.verdict {
            Verdict::Failed
                if c.findings
                    .iter()
                    .any(|f| f.verdict == Verdict::Failed && !f.expected) =>
            {
                // Expected deviations (--expect) are not JUnit failures: they do not fail the run.
                let failing: Vec<_> = c
                    .findings
                    .iter()
                    .filter(|f| f.verdict == Verdict::Failed && !f.expected)
                    .collect();
                let first = failing
                    .first()
                    .map(|f| format!("{}: {}", f.rule, f.message))
                    .unwrap_or_default();
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
                let _ = writeln!(
                    s,
                    r#"      <failure type="FAILED" message="{}">{}</failure>"#,
                    escape(&first),
                    escape(&body.join("\n\n"))
                );
            }
            Verdict::Interrupted => {
                let _ = writeln!(
                    s,
                    r#"      <error type="INTERRUPTED" message="{}"/>"#,
                    escape(
                        c.reason
                            .as_deref()
                            .unwrap_or("the run never reached the client")
                    )
                );
            }
            Verdict::Skipped => {
                let _ = writeln!(
                    s,
                    r#"      <skipped message="{}"/>"#,
                    escape(c.reason.as_deref().unwrap_or("skipped"))
                );
            }
            Verdict::Passed | Verdict::Warning | Verdict::Failed => {}
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
