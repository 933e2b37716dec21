//! `fidelity diff` reports: terminal, JSON, JUnit and HTML, all renderings of one
//! [`DiffReport`]. XML and HTML escaping is the conformance reports' own.

use std::fmt::Write;

use truidentidad_conformance::report::escape;

use crate::diff::{DiffReport, Finding, TerminalRow};

fn terminal_cell(t: Option<&TerminalRow>) -> String {
    match t {
        Some(t) => format!("{:.1} s, poll {}", t.offset_ms as f64 / 1000.0, t.polls),
        None => "-".into(),
    }
}

fn verdict(f: &Finding) -> &'static str {
    if f.accepted { "accepted" } else { "NEW" }
}

fn summary(r: &DiffReport) -> String {
    format!(
        "{}: {} difference(s), {} new, {} accepted by the baseline",
        if r.passed() {
            "RESULT PASSED"
        } else {
            "RESULT FAILED"
        },
        r.findings.len(),
        r.new_count(),
        r.findings.len() - r.new_count()
    )
}

/// What a person reads.
pub fn terminal(r: &DiffReport) -> String {
    let mut s = format!(
        "Fidelity diff: {} recorded validation(s) replayed on the mock\n\n",
        r.validations.len()
    );
    let _ = writeln!(
        s,
        "  {:36}  {:36}  {:48}  terminal: recorded | mock",
        "timeline", "scenario (chosen by)", "recorded outcome"
    );
    for v in &r.validations {
        let scenario = match (&v.scenario, v.chosen_by) {
            (Some(s), Some(by)) => format!("{s} ({})", by.as_str()),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "  {:36}  {:36}  {:48}  {} | {}",
            v.timeline,
            scenario,
            v.recorded_outcome.as_deref().unwrap_or("not finished"),
            terminal_cell(v.recorded_terminal.as_ref()),
            terminal_cell(v.mock_terminal.as_ref())
        );
    }
    if r.findings.is_empty() {
        s.push_str("\nNo differences.\n");
    } else {
        s.push_str("\nDifferences:\n");
        for f in &r.findings {
            let d = &f.difference;
            let _ = writeln!(
                s,
                "  {:9} {:16} {}\n            recorded: {}\n            mock:     {}\n            seen in:  {}",
                verdict(f),
                d.check.as_str(),
                d.subject,
                d.recorded,
                d.mock,
                f.seen_in.join(", ")
            );
        }
    }
    let _ = writeln!(s, "\n{}", summary(r));
    s
}

/// The report as JSON, with its counts.
pub fn json(r: &DiffReport) -> String {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        passed: bool,
        new: usize,
        accepted: usize,
        #[serde(flatten)]
        report: &'a DiffReport,
    }
    serde_json::to_string_pretty(&Out {
        passed: r.passed(),
        new: r.new_count(),
        accepted: r.findings.len() - r.new_count(),
        report: r,
    })
    .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the report: {e}\"}}"))
}

/// JUnit XML: one test case per difference (a `<failure>` when it is new) and one per
/// validation, so CI shows both what was compared and what differs.
pub fn junit(r: &DiffReport) -> String {
    let mut cases = String::new();
    for v in &r.validations {
        let _ = writeln!(
            cases,
            "    <testcase classname=\"fidelity.validation\" name=\"{}\"/>",
            escape(&v.timeline)
        );
    }
    for f in &r.findings {
        let d = &f.difference;
        let body = format!(
            "recorded: {}\nmock: {}\nseen in: {}",
            d.recorded,
            d.mock,
            f.seen_in.join(", ")
        );
        if f.accepted {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"fidelity.difference\" name=\"{}\"><system-out>accepted by the baseline\n{}</system-out></testcase>",
                escape(&f.key),
                escape(&body)
            );
        } else {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"fidelity.difference\" name=\"{}\"><failure message=\"{}\" type=\"{}\">{}</failure></testcase>",
                escape(&f.key),
                escape(&format!("{} {}", d.check.as_str(), d.subject)),
                d.check.as_str(),
                escape(&body)
            );
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"fidelity diff\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n</testsuites>\n",
        r.validations.len() + r.findings.len(),
        r.new_count()
    )
}

/// One self-contained HTML page.
pub fn html(r: &DiffReport) -> String {
    let mut rows = String::new();
    for v in &r.validations {
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&v.timeline),
            escape(v.scenario.as_deref().unwrap_or("-")),
            escape(v.recorded_outcome.as_deref().unwrap_or("not finished")),
            escape(&terminal_cell(v.recorded_terminal.as_ref())),
            escape(&terminal_cell(v.mock_terminal.as_ref()))
        );
    }
    let mut diffs = String::new();
    for f in &r.findings {
        let d = &f.difference;
        let _ = writeln!(
            diffs,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if f.accepted { "accepted" } else { "new" },
            verdict(f),
            d.check.as_str(),
            escape(&d.subject),
            escape(&d.recorded),
            escape(&d.mock),
            escape(&f.seen_in.join(", "))
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fidelity diff</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}tr.new td:first-child{{color:#b00;font-weight:bold}}</style></head><body>\n<h1>Fidelity diff</h1>\n<p>{}</p>\n<h2>Validations</h2>\n<table><tr><th>timeline</th><th>scenario</th><th>recorded outcome</th><th>recorded terminal</th><th>mock terminal</th></tr>\n{rows}</table>\n<h2>Differences</h2>\n<table><tr><th></th><th>check</th><th>subject</th><th>recorded</th><th>mock</th><th>seen in</th></tr>\n{diffs}</table>\n</body></html>\n",
        escape(&summary(r))
    )
}
