//! A self-contained HTML report (inline CSS and SVG, no scripts, no external assets), so it can
//! be attached to a CI run or mailed as one file.

use std::fmt::Write;

use super::{escape, timeline};
use crate::trace::{fmt_secs, gaps_before};
use crate::verdict::{RunReport, Verdict};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.PASSED{color:#17702a}.FAILED{color:#b00020;font-weight:bold}.WARNING{color:#9a6700}\
.SKIPPED,.INTERRUPTED{color:#555}code{font-size:90%}details{margin:.6em 0}summary{cursor:pointer}\
.finding{border-left:4px solid #b00020;padding:.2em .8em;margin:.5em 0}.finding.WARNING{border-color:#9a6700}\
.msg,pre{white-space:pre-wrap}pre{background:#f8f8f8;padding:.4em .6em;margin:.3em 0}\
.finding.FAILED,.finding.WARNING{color:inherit;font-weight:normal}";

pub fn render(report: &RunReport) -> String {
    let mut s = String::new();
    let sum = &report.summary;
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TruIdentidad conformance</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        s,
        "<h1>TruIdentidad conformance: <span class=\"{0}\">{0}</span></h1><p>Client: <code>{1}</code></p>",
        if report.passed() { "PASSED" } else { "FAILED" },
        // The label quotes the command in backticks for the terminal; code needs none.
        escape(report.client.trim_matches('`'))
    );
    let _ = write!(
        s,
        "<p>{} passed, {} failed{}, {} warning, {} skipped, {} interrupted. Minimum poll interval {}s, deadline {}s, quiet window {}s.</p>",
        sum.passed,
        sum.failed,
        super::expected_note(sum),
        sum.warning,
        sum.skipped,
        sum.interrupted,
        report.settings.min_interval,
        report.settings.deadline,
        report.settings.quiet_window
    );
    let _ = write!(
        s,
        "<table><tr><th>Case</th><th>Verdict</th><th>Time</th><th>Requests</th><th>Rules broken</th></tr>"
    );
    for c in &report.cases {
        let rules: Vec<&str> = c.findings.iter().map(|f| f.rule.as_str()).collect();
        let _ = write!(
            s,
            "<tr><td><a href=\"#{id}\">{id}</a></td><td class=\"{v}\">{v}</td><td>{t}</td><td>{n}</td><td>{r}</td></tr>",
            id = escape(&c.id),
            v = c.verdict.as_str(),
            t = fmt_secs(c.duration),
            n = c.requests.len(),
            r = escape(&rules.join(", "))
        );
    }
    let _ = write!(s, "</table>");
    // Findings that occur in more than one case are written once, here; each case links to
    // them. `repeated[case][finding]` is the index of the group a finding belongs to.
    let groups = super::group_findings(report);
    let mut repeated: Vec<Vec<Option<usize>>> = report
        .cases
        .iter()
        .map(|c| vec![None; c.findings.len()])
        .collect();
    let mut any_repeated = false;
    for (k, g) in groups.iter().enumerate() {
        if g.cases.len() < 2 {
            continue;
        }
        if !any_repeated {
            let _ = write!(s, "<h2>Rules broken in more than one case</h2>");
            any_repeated = true;
        }
        for &(ci, fi) in &g.members {
            repeated[ci][fi] = Some(k);
        }
        let links: Vec<String> = g
            .cases
            .iter()
            .map(|c| format!("<a href=\"#{0}\">{0}</a>", escape(&c.id)))
            .collect();
        let f = g.finding;
        let _ = write!(
            s,
            "<div class=\"finding {v}\" id=\"repeated-{k}\"><b class=\"{v}\">{v}</b> <code>{rule}</code> ({lvl}): {title}{exp}<br>{v} in {n} cases: {links}<br><span class=\"msg\">{msg}</span><br><i>Fix:</i> {fix}<br><small>Source: {src}</small><details><summary>Each case</summary><ul>{each}</ul></details></div>",
            v = f.verdict.as_str(),
            rule = escape(&f.rule),
            lvl = f.level.as_str(),
            title = escape(&f.title),
            exp = if f.expected { " <i>(expected)</i>" } else { "" },
            n = g.cases.len(),
            links = links.join(", "),
            msg = escape(&f.message),
            fix = escape(&f.fix),
            src = escape(&f.source),
            each = g
                .per_case(report)
                .iter()
                .map(|(case, m)| format!(
                    "<li><a href=\"#{0}\">{0}</a>: <span class=\"msg\">{1}</span></li>",
                    escape(case),
                    if *m == f.message {
                        "as above".to_string()
                    } else {
                        escape(m)
                    }
                ))
                .collect::<String>()
        );
    }
    if report.cases.iter().any(|c| !c.requests.is_empty()) {
        let _ = write!(
            s,
            "<p>Each case's requests are drawn on a timeline (seconds since its mock started; hover for details):</p>{}",
            timeline::legend()
        );
    }
    for (ci, c) in report.cases.iter().enumerate() {
        let _ = write!(
            s,
            "<h2 id=\"{id}\">{id} <span class=\"{v}\">{v}</span></h2><p>{title}. Scenario <code>{sc}</code>, account_id <code>{acc}</code>, expected <code>{exp}</code>.</p>",
            id = escape(&c.id),
            v = c.verdict.as_str(),
            title = escape(&c.title),
            sc = escape(&c.scenario),
            acc = escape(&c.account_id),
            exp = c.expect.validation_status.as_str(),
        );
        if let Some(r) = &c.reason {
            let _ = write!(s, "<p class=\"msg\">{}</p>", escape(r));
        }
        if let Some(svg) = timeline::svg(c) {
            let _ = write!(s, "<div class=\"timeline\">{svg}</div>");
        }
        for (fi, f) in c.findings.iter().enumerate() {
            if let Some(k) = repeated[ci][fi] {
                let _ = write!(
                    s,
                    "<div class=\"finding {v}\"><b class=\"{v}\">{v}</b> <code>{rule}</code> ({lvl}): {title}{exp}<br><a href=\"#repeated-{k}\">The same finding in {n} cases</a></div>",
                    v = f.verdict.as_str(),
                    rule = escape(&f.rule),
                    lvl = f.level.as_str(),
                    title = escape(&f.title),
                    exp = if f.expected { " <i>(expected)</i>" } else { "" },
                    n = groups[k].cases.len(),
                );
                continue;
            }
            let _ = write!(
                s,
                "<div class=\"finding {v}\"><b class=\"{v}\">{v}</b> <code>{rule}</code> ({lvl}): {title}{exp}<br><span class=\"msg\">{msg}</span><br><i>Fix:</i> {fix}<br><small>Source: {src}</small></div>",
                v = f.verdict.as_str(),
                rule = escape(&f.rule),
                lvl = f.level.as_str(),
                title = escape(&f.title),
                exp = if f.expected { " <i>(expected)</i>" } else { "" },
                msg = escape(&f.message),
                fix = escape(&f.fix),
                src = escape(&f.source)
            );
        }
        if let Some(client) = &c.client {
            let reported = client
                .report
                .as_ref()
                .and_then(|r| serde_json::to_string(r).ok())
                .unwrap_or_else(|| client.report_error.clone().unwrap_or_default());
            let _ = write!(
                s,
                "<p>Client reported: <code>{}</code></p>",
                escape(&reported)
            );
            // What the terminal summary shows for a failed case, kept line by line here.
            if !client.stderr_tail.is_empty() {
                let _ = write!(
                    s,
                    "<details{open}><summary>Client stderr (last lines)</summary><pre>{}</pre></details>",
                    escape(client.stderr_tail.trim_end()),
                    open = if c.verdict == Verdict::Failed {
                        " open"
                    } else {
                        ""
                    },
                );
            }
        }
        if !c.requests.is_empty() {
            let _ = write!(
                s,
                "<details><summary>{} requests</summary><table><tr><th>#</th><th>Received</th><th>Sent</th><th title=\"From the previous response about the same validation (for a create, the previous create's response) to this request\">Gap</th><th>Request</th><th>Status</th><th>Showed</th><th>Verdict</th></tr>",
                c.requests.len()
            );
            let gaps = gaps_before(c.requests.iter().map(|r| &r.request));
            for (r, gap) in c.requests.iter().zip(gaps) {
                let q = &r.request;
                let shown = serde_json::to_value(&q.seen)
                    .ok()
                    .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_string))
                    .unwrap_or_default();
                let class = r.verdict.as_str();
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{} {}</code></td><td>{}{}</td><td>{}</td><td class=\"{class}\">{} {}</td></tr>",
                    q.seq,
                    fmt_secs(q.received),
                    fmt_secs(q.sent),
                    gap.map(fmt_secs).unwrap_or_default(),
                    escape(&q.method),
                    escape(&q.path),
                    q.status,
                    if q.fault.is_none() {
                        String::new()
                    } else {
                        format!(" ({})", escape(&q.fault.to_string()))
                    },
                    escape(&shown),
                    escape(r.verdict_label()),
                    escape(&r.rules.join(", "))
                );
            }
            let _ = write!(s, "</table></details>");
        }
    }
    let _ = writeln!(s, "</body></html>");
    s
}
