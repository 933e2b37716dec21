//! The terminal summary: a table of cases and verdicts, then the details of every finding,
//! each said once with the cases it occurs in (see [`super::group_findings`]).

use std::borrow::Cow;
use std::fmt::Write;

use crate::trace::fmt_secs;
use crate::verdict::{CaseReport, RunReport, Verdict};

/// Text that came from the client (its stderr, what it reported) with control characters
/// written as `\u{..}`: the summary goes to terminals and CI logs, where a stray carriage
/// return, cursor move or colour code from a client would garble or hide the lines around it.
/// Tabs stay, and line breaks where the text may span lines.
fn printable(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let is_kept = |c: char| c == '\t' || (keep_newlines && c == '\n');
    if !text.chars().any(|c| c.is_control() && !is_kept(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() && !is_kept(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

pub fn render(report: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "TruIdentidad conformance: client {}", report.client);
    let _ = writeln!(s);
    let width = report
        .cases
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "  {:width$}  {:11}  {:>7}  {:>8}  RULES BROKEN",
        "CASE", "VERDICT", "TIME", "REQUESTS"
    );
    for c in &report.cases {
        let mut rules: Vec<String> = Vec::new();
        for f in &c.findings {
            let tag = if f.expected {
                format!("{} (expected)", f.rule)
            } else {
                f.rule.clone()
            };
            if !rules.contains(&tag) {
                rules.push(tag);
            }
        }
        let note = match (&c.reason, rules.is_empty()) {
            (Some(r), _) => printable(r, false).into_owned(),
            (None, false) => rules.join(", "),
            (None, true) => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:width$}  {:11}  {:>7}  {:>8}  {}",
            c.id,
            c.verdict.as_str(),
            fmt_secs(c.duration),
            c.requests.len(),
            note
        );
    }
    // The start-up allowance is separate from the case limit: say how close a case came.
    let slowest = report
        .cases
        .iter()
        .filter_map(|c| Some((c.client.as_ref()?.startup()?, c.id.as_str())))
        .max();
    if let Some((startup, id)) = slowest {
        let _ = writeln!(
            s,
            "  start-up (process start to first request): slowest {} ({id}); allowance {}, then {} per case",
            fmt_secs(startup),
            fmt_secs(std::time::Duration::from_secs_f64(
                report.settings.startup_limit
            )),
            fmt_secs(std::time::Duration::from_secs_f64(
                report.settings.case_limit
            ))
        );
    }
    let groups = super::group_findings(report);
    if !groups.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Details");
    }
    // A case's client stderr is shown once, after the first finding that names the case.
    let mut stderr_shown = vec![false; report.cases.len()];
    for g in &groups {
        let f = g.finding;
        let _ = writeln!(s);
        let expected = if f.expected {
            " [expected: listed in --expect]"
        } else {
            ""
        };
        let head = match g.cases.as_slice() {
            [one] => format!("{} {} / {}", f.verdict.as_str(), one.id, f.rule),
            _ => format!("{} {}", f.verdict.as_str(), f.rule),
        };
        let _ = writeln!(s, "{head} ({}): {}{expected}", f.level.as_str(), f.title);
        if g.cases.len() > 1 {
            let _ = writeln!(
                s,
                "  {} in {} cases: {}",
                f.verdict.as_str(),
                g.cases.len(),
                g.case_list()
            );
        }
        let _ = writeln!(s, "  what:   {}", shorten(&printable(&f.message, true)));
        let _ = writeln!(s, "  fix:    {}", f.fix);
        let _ = writeln!(s, "  source: {}", f.source);
        // Per case, one line each, when the cases' messages differ (the full text is in the
        // JSON and HTML reports).
        let per_case = g.per_case(report);
        if per_case.iter().any(|(_, m)| *m != f.message) {
            for (case, message) in per_case {
                let text = if message == f.message {
                    Cow::Borrowed("as above")
                } else {
                    shorten(&printable(message, false)).into_owned().into()
                };
                let _ = writeln!(s, "    {case}: {text}");
            }
        }
        // The failed cases' stderr not shown yet, identical tails once.
        let mut tails: Vec<(String, Vec<&str>)> = Vec::new();
        for &(ci, _) in &g.members {
            let c = &report.cases[ci];
            if std::mem::replace(&mut stderr_shown[ci], true) {
                continue;
            }
            let Some(tail) = stderr_tail(c) else {
                continue;
            };
            match tails.iter_mut().find(|(t, _)| *t == tail) {
                Some((_, ids)) => ids.push(&c.id),
                None => tails.push((tail, vec![&c.id])),
            }
        }
        let more = tails.len().saturating_sub(STDERR_TAILS);
        for (tail, ids) in tails.into_iter().take(STDERR_TAILS) {
            if ids.len() == g.cases.len() {
                let _ = writeln!(s, "  client stderr (last lines): {tail}");
            } else {
                let _ = writeln!(
                    s,
                    "  client stderr in {} (last lines): {tail}",
                    ids.join(", ")
                );
            }
        }
        if more > 0 {
            let _ = writeln!(
                s,
                "  client stderr of {more} more cases: in the JSON and HTML reports"
            );
        }
    }
    if let Some(e) = &report.expect {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Expectations ({}): {} finding(s) matched",
            e.file, e.matched
        );
        for u in &e.unused {
            let _ = writeln!(
                s,
                "  UNUSED entry (matched nothing; remove it or fix the case): {u}"
            );
        }
    }
    let sum = &report.summary;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{}: {} passed, {} failed{}, {} warning, {} skipped, {} interrupted",
        if report.passed() {
            "RESULT PASSED"
        } else {
            "RESULT FAILED"
        },
        sum.passed,
        sum.failed,
        super::expected_note(sum),
        sum.warning,
        sum.skipped,
        sum.interrupted
    );
    s
}

/// Most distinct client stderr tails shown under one finding; the rest are in the JSON and
/// HTML reports.
const STDERR_TAILS: usize = 3;

/// Longest message printed on one terminal line; the rest is in the JSON and HTML reports.
const MESSAGE_WIDTH: usize = 200;

/// `text` cut at [`MESSAGE_WIDTH`] characters, with `…` when cut.
fn shorten(text: &str) -> Cow<'_, str> {
    if text.chars().count() <= MESSAGE_WIDTH {
        return Cow::Borrowed(text);
    }
    let mut out: String = text.chars().take(MESSAGE_WIDTH - 1).collect();
    out.push('…');
    Cow::Owned(out)
}

/// The last three lines of a FAILED case's client stderr, joined with ` | `.
fn stderr_tail(c: &CaseReport) -> Option<String> {
    let client = c.client.as_ref()?;
    if c.verdict != Verdict::Failed || client.stderr_tail.is_empty() {
        return None;
    }
    let last: Vec<Cow<str>> = client
        .stderr_tail
        .lines()
        .rev()
        .take(3)
        .map(|l| printable(l, false))
        .collect();
    Some(last.into_iter().rev().collect::<Vec<_>>().join(" | "))
}
