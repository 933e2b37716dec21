//! A case drawn as a timeline: inline SVG for the HTML report (no scripts, no external
//! assets), one lane per validation.
//!
//! - Requests are marks where they were received: squares for creates, circles for polls,
//!   coloured by status (2xx, 429, 5xx, no response, other 4xx).
//! - Behind them, the validation's state as the responses showed it (`seen`): a pending band
//!   from the first response that showed it pending, a terminal band from the first that
//!   showed it finished.
//! - A faulted request is a bar from received to sent (a stall is a long one); a Retry-After
//!   is a shaded window after the response that carried it.
//! - A request a finding names is ringed in the verdict's colour, and each broken rule has a
//!   row under the axis with a pointer up to every request it names.
//!
//! Every mark, band and pointer has a `<title>` (a tooltip in browsers). All text is escaped.

use std::fmt::Write;
use std::time::Duration;

use super::escape;
use crate::evidence::Answer;
use crate::trace::{Request, Seen, fmt_secs, gaps_before};
use crate::verdict::{CaseReport, Verdict};

const WIDTH: f64 = 720.0;
/// Room for lane and rule labels.
const LEFT: f64 = 150.0;
/// Space between the labels and time 0, so a mark at 0 is not cut.
const PAD: f64 = 8.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 4.0;
const LANE: f64 = 26.0;
const AXIS: f64 = 24.0;
const RULE_ROW: f64 = 14.0;
/// Validations drawn in lanes of their own; requests about others share one more lane.
const MAX_LANES: usize = 6;
const FONT: &str = "font-family=\"system-ui,sans-serif\" font-size=\"10\"";

const PENDING: &str = "#fcefc0";
const TERMINAL: &str = "#d3eed8";
const RETRY_AFTER: &str = "#e08a00";
const OK: &str = "#2f6db5";
const TOO_MANY: &str = "#e08a00";
const SERVER_ERROR: &str = "#c62828";
const NO_RESPONSE: &str = "#6d4c41";
const CLIENT_ERROR: &str = "#8e44ad";

fn verdict_colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Failed => "#b00020",
        Verdict::Warning => "#9a6700",
        _ => "#555",
    }
}

/// A request's colour by its answer's class ([`Answer`], the fleet report's classes too).
fn answer_colour(answer: Answer) -> &'static str {
    match answer {
        Answer::NoAnswer => NO_RESPONSE,
        Answer::Throttled { .. } => TOO_MANY,
        Answer::ServerError => SERVER_ERROR,
        Answer::ClientError => CLIENT_ERROR,
        Answer::Ok { .. } => OK,
    }
}

/// A tick step giving at most ten ticks over `end`.
fn tick_step(end: f64) -> f64 {
    [0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0]
        .into_iter()
        .find(|s| end / s <= 10.0)
        .unwrap_or(600.0)
}

/// Maps seconds to x.
struct Scale {
    end: f64,
}

impl Scale {
    fn x(&self, t: Duration) -> f64 {
        LEFT + PAD + t.as_secs_f64().min(self.end) / self.end * (WIDTH - LEFT - PAD - RIGHT)
    }
}

/// A label cut to `max` characters (the full text is in its `<title>`).
fn short(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    } else {
        text.to_string()
    }
}

/// The SVG of one case's requests, or `None` when it made none.
pub fn svg(case: &CaseReport) -> Option<String> {
    if case.requests.is_empty() {
        return None;
    }
    let reqs: Vec<&Request> = case.requests.iter().map(|r| &r.request).collect();
    // Lanes: validations in first-seen order, then one for the rest (creates that got no id,
    // validations past MAX_LANES).
    let mut ids: Vec<&str> = Vec::new();
    for id in reqs.iter().filter_map(|r| r.validation_id.as_deref()) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.truncate(MAX_LANES);
    let lane_of = |r: &Request| {
        r.validation_id
            .as_deref()
            .and_then(|id| ids.iter().position(|v| *v == id))
            .unwrap_or(ids.len())
    };
    let other_lane = reqs.iter().any(|r| lane_of(r) == ids.len());
    let lanes = ids.len() + usize::from(other_lane);

    let mut end = reqs
        .iter()
        .map(|r| r.sent + r.retry_after.unwrap_or_default())
        .max()
        .unwrap_or_default();
    if let Some(c) = &case.client {
        end = end.max(c.ended);
    }
    let step = tick_step(end.as_secs_f64().max(0.5));
    let scale = Scale {
        end: (end.as_secs_f64() / step).ceil().max(1.0) * step,
    };
    let lane_y = |i: usize| TOP + i as f64 * LANE;
    let axis_y = lane_y(lanes) + 2.0;

    // Broken rules, each with the requests its findings name, in finding order.
    let mut rules: Vec<(&str, Verdict, Vec<u64>)> = Vec::new();
    for f in case.findings.iter().filter(|f| !f.requests.is_empty()) {
        match rules.iter_mut().find(|(r, _, _)| *r == f.rule) {
            Some((_, v, seqs)) => {
                *v = (*v).max(f.verdict);
                for n in &f.requests {
                    if !seqs.contains(n) {
                        seqs.push(*n);
                    }
                }
            }
            None => rules.push((&f.rule, f.verdict, f.requests.clone())),
        }
    }
    let height = axis_y + AXIS + rules.len() as f64 * RULE_ROW + 2.0;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-label=\"Timeline of case {}\">",
        escape(&case.id)
    );
    // Lanes, with the validation's state behind its requests.
    for i in 0..lanes {
        let y = lane_y(i);
        let (label, full) = match ids.get(i) {
            Some(id) => (short(id, 20), (*id).to_string()),
            None => (
                "other".to_string(),
                "requests about no validation above (creates without an id, or more validations)"
                    .to_string(),
            ),
        };
        let _ = write!(
            s,
            "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{LANE}\" fill=\"#f7f7f7\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" {FONT}><title>{}</title>{}</text>",
            WIDTH - LEFT - RIGHT,
            LEFT - 6.0,
            y + LANE / 2.0 + 3.5,
            escape(&full),
            escape(&label)
        );
        if i < ids.len() {
            let lane: Vec<&Request> = reqs.iter().copied().filter(|r| lane_of(r) == i).collect();
            bands(&mut s, &scale, y, &lane);
        }
    }
    // Retry-After windows, then fault bars, then the marks on top.
    for r in &reqs {
        if let Some(ra) = r.retry_after {
            let y = lane_y(lane_of(r));
            let (x0, x1) = (scale.x(r.sent), scale.x(r.sent + ra));
            let _ = write!(
                s,
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{RETRY_AFTER}\" fill-opacity=\"0.22\"><title>Retry-After: {} from #{} (until t={})</title></rect>",
                y + 2.0,
                (x1 - x0).max(1.0),
                LANE - 4.0,
                fmt_secs(ra),
                r.seq,
                fmt_secs(r.sent + ra)
            );
        }
    }
    for r in reqs.iter().filter(|r| !r.fault.is_none()) {
        let y = lane_y(lane_of(r)) + LANE / 2.0;
        let (x0, x1) = (scale.x(r.received), scale.x(r.sent));
        let _ = write!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"6\" fill=\"{}\" fill-opacity=\"0.45\"><title>#{} fault: {} (t={} to {})</title></rect>",
            y - 3.0,
            (x1 - x0).max(2.0),
            answer_colour(r.answer()),
            r.seq,
            escape(&r.fault.to_string()),
            fmt_secs(r.received),
            fmt_secs(r.sent)
        );
    }
    let gaps = gaps_before(reqs.iter().copied());
    for (g, gap) in case.requests.iter().zip(gaps) {
        let r = &g.request;
        let x = scale.x(r.received);
        let y = lane_y(lane_of(r)) + LANE / 2.0;
        let mut title = format!("{}: {}", r.label(), r.status);
        if !r.fault.is_none() {
            let _ = write!(title, " ({})", r.fault);
        }
        if let Some(gap) = gap {
            let _ = write!(title, ", {} after the previous response", fmt_secs(gap));
        }
        if !g.rules.is_empty() {
            let _ = write!(title, "; {}: {}", g.verdict.as_str(), g.rules.join(", "));
        }
        let _ = write!(s, "<g><title>{}</title>", escape(&title));
        if g.verdict != Verdict::Passed {
            let _ = write!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7.5\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                verdict_colour(g.verdict)
            );
        }
        let fill = answer_colour(r.answer());
        if r.is_create() {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"{fill}\" stroke=\"#fff\"/>",
                x - 4.0,
                y - 4.0
            );
        } else {
            let _ = write!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#fff\"/>"
            );
        }
        let _ = write!(s, "</g>");
    }
    if let Some(c) = &case.client {
        let x = scale.x(c.ended);
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" stroke=\"#333\" stroke-dasharray=\"3 3\"><title>the client ended at t={}</title></line>",
            fmt_secs(c.ended)
        );
    }
    // The time axis.
    let _ = write!(
        s,
        "<line x1=\"{:.1}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" stroke=\"#888\"/>",
        LEFT + PAD,
        WIDTH - RIGHT
    );
    let ticks = (scale.end / step).round() as u64;
    for k in 0..=ticks {
        let t = k as f64 * step;
        let x = scale.x(Duration::from_secs_f64(t));
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#888\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" {FONT}>{t}s</text>",
            axis_y + 4.0,
            axis_y + 14.0
        );
    }
    // One row per broken rule, pointing up at its requests.
    for (i, (rule, verdict, seqs)) in rules.iter().enumerate() {
        let y = axis_y + AXIS + i as f64 * RULE_ROW + RULE_ROW / 2.0;
        let colour = verdict_colour(*verdict);
        let _ = write!(
            s,
            "<g><title>{} {}: #{}</title><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{colour}\" {FONT}>{}</text>",
            verdict.as_str(),
            escape(rule),
            seqs.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", #"),
            LEFT - 6.0,
            y + 3.5,
            escape(&short(rule, 26))
        );
        for r in reqs.iter().filter(|r| seqs.contains(&r.seq)) {
            let x = scale.x(r.received);
            let mark_y = lane_y(lane_of(r)) + LANE / 2.0 + 8.0;
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{mark_y:.1}\" stroke=\"{colour}\" stroke-opacity=\"0.5\" stroke-dasharray=\"2 2\"/><path d=\"M{x:.1} {:.1}l-4 6h8z\" fill=\"{colour}\"/>",
                y - 3.0,
                y - 3.0
            );
        }
        let _ = write!(s, "</g>");
    }
    s.push_str("</svg>");
    Some(s)
}

/// The validation's state behind one lane: pending from the first response that showed it
/// pending, terminal from the first that showed it finished, to the end of the axis.
fn bands(s: &mut String, scale: &Scale, y: f64, lane: &[&Request]) {
    let mut marks: Vec<(Duration, &'static str, String)> = Vec::new();
    for r in lane {
        match &r.seen {
            Seen::Pending if marks.is_empty() => {
                marks.push((r.sent, PENDING, "pending".into()));
            }
            Seen::Terminal {
                validation_status,
                failure_status,
            } if marks.last().is_none_or(|m| m.1 == PENDING) => {
                let mut what = format!("terminal: {validation_status}");
                if let Some(f) = failure_status {
                    let _ = write!(what, " ({f})");
                }
                marks.push((r.sent, TERMINAL, what));
            }
            _ => {}
        }
    }
    let end = Duration::from_secs_f64(scale.end);
    for (i, (from, fill, what)) in marks.iter().enumerate() {
        let to = marks.get(i + 1).map_or(end, |m| m.0);
        let (x0, x1) = (scale.x(*from), scale.x(to));
        let _ = write!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"><title>{} from t={}</title></rect>",
            y + 2.0,
            (x1 - x0).max(0.0),
            LANE - 4.0,
            escape(what),
            fmt_secs(*from)
        );
    }
}

/// The key to every timeline, drawn once per report.
pub fn legend() -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"44\" viewBox=\"0 0 {WIDTH} 44\" role=\"img\" aria-label=\"Timeline legend\">"
    );
    let text = |s: &mut String, x: f64, y: f64, t: &str| {
        let _ = write!(s, "<text x=\"{x}\" y=\"{}\" {FONT}>{t}</text>", y + 3.5);
    };
    // Row 1: marks and their colours.
    let y = 10.0;
    let _ = write!(
        s,
        "<rect x=\"4\" y=\"{}\" width=\"8\" height=\"8\" fill=\"{OK}\"/>",
        y - 4.0
    );
    text(&mut s, 16.0, y, "create");
    let _ = write!(s, "<circle cx=\"66\" cy=\"{y}\" r=\"4\" fill=\"{OK}\"/>");
    text(&mut s, 74.0, y, "poll (2xx)");
    let mut x = 140.0;
    for (colour, label) in [
        (TOO_MANY, "429"),
        (SERVER_ERROR, "5xx"),
        (CLIENT_ERROR, "other 4xx"),
        (NO_RESPONSE, "no response"),
    ] {
        let _ = write!(
            s,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"{colour}\"/>"
        );
        text(&mut s, x + 8.0, y, label);
        x += 16.0 + 6.0 * label.len() as f64 + 14.0;
    }
    let _ = write!(
        s,
        "<circle cx=\"{x}\" cy=\"{y}\" r=\"7.5\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/><circle cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"{OK}\"/>",
        verdict_colour(Verdict::Failed)
    );
    text(&mut s, x + 12.0, y, "named by a broken rule");
    // Row 2: bands, windows and bars.
    let y = 32.0;
    for (x, height, fill, opacity, label) in [
        (4.0, 12.0, PENDING, "", "shown pending"),
        (110.0, 12.0, TERMINAL, "", "shown terminal"),
        (
            222.0,
            12.0,
            RETRY_AFTER,
            " fill-opacity=\"0.22\"",
            "Retry-After window",
        ),
        (
            360.0,
            6.0,
            NO_RESPONSE,
            " fill-opacity=\"0.45\"",
            "fault, received to sent (a stall)",
        ),
    ] {
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"24\" height=\"{height}\" fill=\"{fill}\"{opacity}/>",
            y - height / 2.0
        );
        text(&mut s, x + 28.0, y, label);
    }
    let _ = write!(
        s,
        "<line x1=\"568\" y1=\"{}\" x2=\"568\" y2=\"{}\" stroke=\"#333\" stroke-dasharray=\"3 3\"/>",
        y - 7.0,
        y + 7.0
    );
    text(&mut s, 574.0, y, "client ended");
    s.push_str("</svg>");
    s
}
