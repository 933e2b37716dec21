//! `--html FILE`: a run's report as one self-contained page, to attach to a ticket.
//!
//! Everything is in the file: the styles, and charts drawn here as inline SVG. No script, no
//! font, no image is fetched, so it opens offline and from an email attachment. Each chart has
//! a title and description for screen readers and a table with the same figures under it; the
//! page has headings for every section, and a print style that keeps charts and tables whole.

use std::fmt::Write as _;

use truidentidad_conformance::report::escape as esc;

use crate::report::{Report, ThresholdResult};
use crate::series::{LatencyPerSecond, PerSecond};
use crate::stats::Percentiles;

/// A period of the run to shade on the request-rate chart (a rate limit, a brown-out).
#[derive(Debug, Clone, PartialEq)]
pub struct Shade {
    pub from_s: f64,
    pub to_s: f64,
    pub label: String,
}

/// What the page shows beyond the report: the periods to shade (the report holds the rest,
/// command line and seed included).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub shades: Vec<Shade>,
}

/// The answer classes of the stacked chart: label, colour (contrast ≥ 4.5:1 on white).
const ANSWERS: [(&str, &str); 5] = [
    ("2xx", "#2e7d32"),
    ("429", "#b34700"),
    ("5xx", "#c62828"),
    ("no answer", "#555555"),
    ("other", "#6a1b9a"),
];

/// The page of any run: each section the report's mode filled, in one order.
pub fn page(r: &Report, ctx: &Context) -> String {
    let title = match &r.fleet {
        Some(f) => format!("Fleet load of {}", f.client),
        None => format!("Load run against {} ({})", r.target, r.mode),
    };
    let mut p = Page::new(&title);
    let w = &r.windows;
    let intro = match &r.fleet {
        Some(f) => format!(
            "{} validations in {:.1} s. Requests at the mock",
            f.run, r.elapsed_s
        ),
        None => format!("{:.1} s in all. Requests", r.elapsed_s),
    };
    p.para(&format!(
        "{intro}: {}. {}.",
        w.describe(),
        sentence(&r.rate.describe())
    ));
    p.rate_chart(&r.per_second, w.arrivals.seconds, &ctx.shades);
    p.latency_chart(&r.latency_per_second);
    let endpoints: Vec<(&str, &Percentiles)> = [("create", &r.create), ("poll", &r.poll)]
        .into_iter()
        .filter_map(|(name, e)| e.as_ref().map(|e| (name, &e.latency_ms)))
        .collect();
    if !endpoints.is_empty() {
        p.percentiles("create-poll", "Request latency", &endpoints);
    }
    let polling = r.mode == "polling";
    if let Some(ttt) = r.time_to_terminal_ms.as_ref().filter(|_| polling) {
        p.percentiles("ttt", "Time to terminal", &[("to terminal", ttt)]);
    }
    let lags: Vec<(&str, &Percentiles)> = [
        ("detection lag", &r.detection_lag_ms),
        ("end to end", &r.end_to_end_ms),
        ("start delay", &r.start_delay_ms),
    ]
    .into_iter()
    .filter_map(|(name, p)| p.as_ref().map(|p| (name, p)))
    .collect();
    if !lags.is_empty() {
        p.percentiles("lag", "Detection lag and client run time", &lags);
    }
    // Polls per validation: a fleet run has its distribution, a polling run its mean.
    let polls: Vec<(String, f64)> = ["mean", "p50", "p99", "max"]
        .iter()
        .filter_map(|stat| {
            r.value(&format!("polls_per_validation.{stat}"))
                .map(|v| (stat.to_string(), v))
        })
        .collect();
    if polling || r.fleet.is_some() {
        p.bars("polls", "Polls per validation", "polls", &polls);
    }
    if let Some(f) = &r.fleet {
        let rows: Vec<(String, f64)> = crate::report::FLEET_OUTCOMES
            .iter()
            .map(|(key, _)| {
                let n = r.outcomes.get(*key).copied().unwrap_or(0);
                (key.replace('_', " "), n as f64)
            })
            .collect();
        p.bars(
            "outcomes",
            "Outcomes: what the clients reported against what the mock had",
            "client runs",
            &rows,
        );
        let pairs: Vec<(String, f64)> = f
            .said_vs_mock
            .iter()
            .map(|o| (format!("{} → {}", o.said, o.mock), o.count as f64))
            .collect();
        p.bars("said", "Client said → mock had", "client runs", &pairs);
    } else if polling {
        let rows: Vec<(String, f64)> = r
            .outcomes
            .iter()
            .map(|(k, n)| (k.clone(), *n as f64))
            .collect();
        p.bars("outcomes", "Outcomes", "validations", &rows);
        if r.outcomes.get("deadline").is_some_and(|n| *n > 0) {
            p.para(&format!(
                "deadline: still pending at --poll-deadline {}s, so the tool stopped polling them; an expired-* scenario ends at the validation's timeout, 300 s by default.",
                r.poll_deadline_s
            ));
        }
    }
    p.thresholds(&r.thresholds);
    let mut facts = vec![("mode", r.mode.clone()), ("target", r.target.clone())];
    if let Some(f) = &r.fleet {
        facts = vec![("client", f.client.clone()), ("mock", r.target.clone())];
    }
    p.run_facts(r, &facts);
    p.finish()
}

/// A page being written.
struct Page {
    html: String,
}

const STYLE: &str = "\
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;background:#fff;margin:0}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #ccc}
svg{width:100%;height:auto;display:block}figure{margin:0}figcaption{font-size:.85rem;color:#444}
.legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;padding:0;margin:.25rem 0;font-size:.85rem}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:600}
.pass{color:#1b5e20;font-weight:600}.fail{color:#b71c1c;font-weight:600}
code{font-size:.85rem;word-break:break-all}dt{font-weight:600}dd{margin:0 0 .4rem 1rem}
details summary{cursor:pointer;color:#0b4f9c}
@media print{main{max-width:none}section{break-inside:avoid}details{display:block}details>summary{display:none}}
";

impl Page {
    fn new(title: &str) -> Page {
        let mut html = String::with_capacity(32 * 1024);
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{t}</h1>\n",
            t = esc(title)
        );
        Page { html }
    }

    fn para(&mut self, text: &str) {
        let _ = writeln!(self.html, "<p>{}</p>", esc(text));
    }

    fn section(&mut self, id: &str, title: &str) {
        let _ = writeln!(
            self.html,
            "<section aria-labelledby=\"h-{id}\">\n<h2 id=\"h-{id}\">{}</h2>",
            esc(title)
        );
    }

    fn end_section(&mut self) {
        self.html.push_str("</section>\n");
    }

    /// Requests per second, stacked by answer, with shaded periods and the end of arrivals.
    fn rate_chart(&mut self, s: &PerSecond, arrivals_s: f64, shades: &[Shade]) {
        self.section("rate", "Requests per second, by answer");
        if s.is_empty() {
            self.para("No requests were recorded.");
            self.end_section();
            return;
        }
        let columns = [&s.ok, &s.throttled, &s.server_error, &s.no_answer, &s.other];
        let totals = s.totals();
        let n = totals.len();
        let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
        let c = Chart::new(n as f64, max);
        let mut svg = c.open(
            "rate",
            "Requests per second by answer",
            &format!(
                "{n} seconds; at most {} requests in one second; arrivals end at {arrivals_s:.1} s{}",
                max as u64,
                shades
                    .iter()
                    .map(|s| format!(
                        "; {} from {:.0} s to {:.0} s",
                        s.label,
                        s.from_s.min(n as f64),
                        s.to_s.min(n as f64)
                    ))
                    .collect::<String>()
            ),
        );
        for sh in shades {
            let (x0, x1) = (c.x(sh.from_s.min(n as f64)), c.x(sh.to_s.min(n as f64)));
            let _ = write!(
                svg,
                "<rect x=\"{x0:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"#1565c0\" fill-opacity=\"0.12\"><title>{}</title></rect>",
                Chart::TOP,
                (x1 - x0).max(1.0),
                Chart::PLOT_H,
                esc(&sh.label)
            );
        }
        let bw = (Chart::PLOT_W / n as f64).max(0.5);
        for (i, _) in totals.iter().enumerate() {
            let mut base = 0u64;
            for (col, (label, colour)) in columns.iter().zip(ANSWERS) {
                let v = col.get(i).copied().unwrap_or(0);
                if v == 0 {
                    continue;
                }
                let (y0, y1) = (c.y((base + v) as f64), c.y(base as f64));
                let _ = write!(
                    svg,
                    "<rect x=\"{:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{i} s: {v} {label}</title></rect>",
                    c.x(i as f64),
                    (bw - 0.5).max(0.5),
                    y1 - y0
                );
                base += v;
            }
        }
        let xa = c.x(arrivals_s.min(n as f64));
        let _ = write!(
            svg,
            "<line x1=\"{xa:.1}\" x2=\"{xa:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#1a1a1a\" stroke-dasharray=\"4 3\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"11\">arrivals end</text>",
            Chart::TOP,
            Chart::TOP + Chart::PLOT_H,
            xa + 3.0,
            Chart::TOP + 10.0
        );
        svg.push_str(&c.axes("s", "requests"));
        svg.push_str("</svg>");
        self.html.push_str("<figure>");
        self.html.push_str(&svg);
        self.html
            .push_str("<ul class=\"legend\" aria-label=\"Legend\">");
        for (label, colour) in ANSWERS {
            let _ = write!(
                self.html,
                "<li><span style=\"background:{colour}\"></span>{label}</li>"
            );
        }
        if !shades.is_empty() {
            self.html.push_str(
                "<li><span style=\"background:#1565c0;opacity:.25\"></span>rate limit / brown-out</li>",
            );
        }
        self.html.push_str("</ul></figure>\n");
        let rows: Vec<Vec<String>> = (0..n)
            .map(|i| {
                std::iter::once(i.to_string())
                    .chain(
                        columns
                            .iter()
                            .map(|c| c.get(i).copied().unwrap_or(0).to_string()),
                    )
                    .chain(std::iter::once(totals[i].to_string()))
                    .collect()
            })
            .collect();
        self.table_in_details(
            "Requests per second, as a table",
            &["second", "2xx", "429", "5xx", "no answer", "other", "total"],
            &rows,
        );
        self.end_section();
    }

    /// p50/p90/p99 per second.
    fn latency_chart(&mut self, l: &LatencyPerSecond) {
        if l.is_empty() {
            return;
        }
        self.section("latency", "Latency per second (p50, p90, p99)");
        let n = l.p50.len();
        let max = l.p99.iter().copied().fold(0.0, f64::max).max(0.001);
        let c = Chart::new(n as f64, max);
        let mut svg = c.open(
            "latency",
            "Request latency percentiles per second",
            &format!("{n} seconds; the highest p99 is {max:.1} ms"),
        );
        for (series, colour, dash) in [
            (&l.p50, "#2e7d32", ""),
            (&l.p90, "#b34700", " stroke-dasharray=\"6 3\""),
            (&l.p99, "#c62828", " stroke-dasharray=\"2 2\""),
        ] {
            let mut d = String::new();
            let mut pen_down = false;
            for (i, v) in series.iter().enumerate() {
                if *v <= 0.0 {
                    pen_down = false;
                    continue;
                }
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    c.x(i as f64 + 0.5),
                    c.y(*v)
                );
                pen_down = true;
            }
            let _ = write!(
                svg,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"{dash}/>"
            );
        }
        svg.push_str(&c.axes("s", "ms"));
        svg.push_str("</svg>");
        self.html.push_str("<figure>");
        self.html.push_str(&svg);
        self.html.push_str("<ul class=\"legend\" aria-label=\"Legend\"><li><span style=\"background:#2e7d32\"></span>p50</li><li><span style=\"background:#b34700\"></span>p90 (dashed)</li><li><span style=\"background:#c62828\"></span>p99 (dotted)</li></ul>");
        self.html.push_str("<figcaption>From one HdrHistogram per second (1 % precision, about 10 KiB per second that saw requests).</figcaption></figure>\n");
        let rows: Vec<Vec<String>> = (0..n)
            .map(|i| {
                vec![
                    i.to_string(),
                    format!("{:.3}", l.p50[i]),
                    format!("{:.3}", l.p90[i]),
                    format!("{:.3}", l.p99[i]),
                ]
            })
            .collect();
        self.table_in_details(
            "Latency per second, as a table (ms)",
            &["second", "p50", "p90", "p99"],
            &rows,
        );
        self.end_section();
    }

    /// A distribution as its percentiles, one group of bars per row.
    fn percentiles(&mut self, id: &str, title: &str, rows: &[(&str, &Percentiles)]) {
        self.section(id, &format!("{title} (ms)"));
        let bars: Vec<(String, f64)> = rows
            .iter()
            .flat_map(|(name, p)| {
                [
                    ("p50", p.p50),
                    ("p90", p.p90),
                    ("p99", p.p99),
                    ("p99.9", p.p999),
                    ("max", p.max),
                ]
                .map(|(q, v)| (format!("{name} {q}"), v))
            })
            .collect();
        self.bar_svg(id, title, "ms", &bars);
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(name, p)| {
                vec![
                    name.to_string(),
                    format!("{:.3}", p.p50),
                    format!("{:.3}", p.p90),
                    format!("{:.3}", p.p99),
                    format!("{:.3}", p.p999),
                    format!("{:.3}", p.max),
                    format!("{:.3}", p.mean),
                ]
            })
            .collect();
        self.table(
            &format!("{title} (ms)"),
            &["of", "p50", "p90", "p99", "p99.9", "max", "mean"],
            &table,
        );
        self.end_section();
    }

    fn bars(&mut self, id: &str, title: &str, unit: &str, rows: &[(String, f64)]) {
        self.section(id, title);
        if rows.is_empty() {
            self.para("None.");
        } else {
            self.bar_svg(id, title, unit, rows);
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(k, v)| vec![k.clone(), trim(*v)])
                .collect();
            self.table(title, &["what", unit], &table);
        }
        self.end_section();
    }

    /// Horizontal bars, one per row, labelled with their values.
    fn bar_svg(&mut self, id: &str, title: &str, unit: &str, rows: &[(String, f64)]) {
        let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
        let (label_w, bar_h, width) = (170.0, 18.0, 760.0);
        let height = rows.len() as f64 * (bar_h + 6.0) + 8.0;
        let _ = write!(
            self.html,
            "<figure><svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"t-{id} d-{id}\"><title id=\"t-{id}\">{}</title><desc id=\"d-{id}\">{}</desc>",
            esc(title),
            esc(&rows
                .iter()
                .map(|(k, v)| format!("{k}: {} {unit}", trim(*v)))
                .collect::<Vec<_>>()
                .join("; "))
        );
        for (i, (k, v)) in rows.iter().enumerate() {
            let y = 4.0 + i as f64 * (bar_h + 6.0);
            let w = (v / max * (width - label_w - 90.0)).max(if *v > 0.0 { 1.0 } else { 0.0 });
            let _ = write!(
                self.html,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"#0b4f9c\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
                label_w - 6.0,
                y + 13.0,
                esc(k),
                label_w + w + 5.0,
                y + 13.0,
                esc(&trim(*v))
            );
        }
        self.html.push_str("</svg></figure>\n");
    }

    fn thresholds(&mut self, verdicts: &[ThresholdResult]) {
        self.section("thresholds", "Thresholds");
        if verdicts.is_empty() {
            self.para("No --threshold was given.");
        } else {
            let failed = verdicts.iter().filter(|v| !v.passed).count();
            self.para(&format!(
                "{} of {} passed.",
                verdicts.len() - failed,
                verdicts.len()
            ));
            self.html.push_str("<table><caption>Thresholds</caption><thead><tr><th scope=\"col\">threshold</th><th scope=\"col\">actual</th><th scope=\"col\">result</th></tr></thead><tbody>");
            for v in verdicts {
                let (class, word) = if v.passed {
                    ("pass", "pass")
                } else {
                    ("fail", "FAIL")
                };
                let _ = write!(
                    self.html,
                    "<tr><td><code>{}</code></td><td>{}</td><td class=\"{class}\">{word}</td></tr>",
                    esc(&v.threshold),
                    trim(v.actual.unwrap_or(f64::NAN))
                );
            }
            self.html.push_str("</tbody></table>\n");
        }
        self.end_section();
    }

    fn run_facts(&mut self, r: &Report, extra: &[(&str, String)]) {
        self.section("run", "The run");
        self.html.push_str("<dl>");
        let mut facts: Vec<(&str, String)> = vec![
            ("command line", r.run.command_line.clone()),
            (
                "truidentidad-mock",
                format!(
                    "{} (load report schema {})",
                    r.run.version, r.schema_version
                ),
            ),
            (
                "seed",
                r.run
                    .seed
                    .map_or("from the time of day".into(), |s| s.to_string()),
            ),
        ];
        facts.extend(extra.iter().cloned());
        for (k, v) in facts {
            let _ = write!(
                self.html,
                "<dt>{}</dt><dd><code>{}</code></dd>",
                esc(k),
                esc(&v)
            );
        }
        self.html.push_str("</dl>\n");
        self.end_section();
    }

    fn table(&mut self, caption: &str, head: &[&str], rows: &[Vec<String>]) {
        let _ = write!(
            self.html,
            "<table><caption>{}</caption><thead><tr>",
            esc(caption)
        );
        for h in head {
            let _ = write!(self.html, "<th scope=\"col\">{}</th>", esc(h));
        }
        self.html.push_str("</tr></thead><tbody>");
        for r in rows {
            self.html.push_str("<tr>");
            for (i, cell) in r.iter().enumerate() {
                if i == 0 {
                    let _ = write!(self.html, "<th scope=\"row\">{}</th>", esc(cell));
                } else {
                    let _ = write!(self.html, "<td>{}</td>", esc(cell));
                }
            }
            self.html.push_str("</tr>");
        }
        self.html.push_str("</tbody></table>\n");
    }

    fn table_in_details(&mut self, caption: &str, head: &[&str], rows: &[Vec<String>]) {
        let _ = write!(self.html, "<details><summary>{}</summary>", esc(caption));
        self.table(caption, head, rows);
        self.html.push_str("</details>\n");
    }

    fn finish(mut self) -> String {
        self.html.push_str("</main>\n</body>\n</html>\n");
        self.html
    }
}

/// The frame of a time chart: x in seconds, y from 0 to `max`.
struct Chart {
    n: f64,
    max: f64,
}

impl Chart {
    const W: f64 = 760.0;
    const LEFT: f64 = 56.0;
    const TOP: f64 = 10.0;
    const PLOT_W: f64 = 690.0;
    const PLOT_H: f64 = 200.0;
    const H: f64 = 250.0;

    fn new(n: f64, max: f64) -> Chart {
        Chart {
            n: n.max(1.0),
            max: max.max(1e-9),
        }
    }

    fn x(&self, s: f64) -> f64 {
        Self::LEFT + s / self.n * Self::PLOT_W
    }

    fn y(&self, v: f64) -> f64 {
        Self::TOP + Self::PLOT_H - v / self.max * Self::PLOT_H
    }

    fn open(&self, id: &str, title: &str, desc: &str) -> String {
        format!(
            "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"t-{id} d-{id}\"><title id=\"t-{id}\">{}</title><desc id=\"d-{id}\">{}</desc>",
            Self::W,
            Self::H,
            esc(title),
            esc(desc)
        )
    }

    fn axes(&self, x_unit: &str, y_unit: &str) -> String {
        let mut s = String::new();
        let (x0, y0) = (Self::LEFT, Self::TOP + Self::PLOT_H);
        let _ = write!(
            s,
            "<g stroke=\"#1a1a1a\"><line x1=\"{x0}\" x2=\"{}\" y1=\"{y0}\" y2=\"{y0}\"/><line x1=\"{x0}\" x2=\"{x0}\" y1=\"{}\" y2=\"{y0}\"/></g><g font-size=\"11\" fill=\"#1a1a1a\">",
            x0 + Self::PLOT_W,
            Self::TOP
        );
        for frac in [0.0, 0.5, 1.0] {
            let v = self.max * frac;
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x0 - 4.0,
                self.y(v) + 4.0,
                trim(v)
            );
        }
        let step = nice_step(self.n / 8.0);
        let mut t = 0.0;
        while t <= self.n {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                self.x(t),
                y0 + 14.0,
                t as u64
            );
            t += step;
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">time ({x_unit})</text><text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{y_unit}</text></g>",
            x0 + Self::PLOT_W / 2.0,
            y0 + 32.0,
            Self::TOP + Self::PLOT_H / 2.0,
            Self::TOP + Self::PLOT_H / 2.0
        );
        s
    }
}

/// `text` with a capital first letter, to start a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// 1, 2, 5, 10, 20, 50… at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let mut step = 1.0;
    while step < raw {
        for m in [2.0, 2.5, 2.0] {
            step *= m;
            if step >= raw {
                break;
            }
        }
    }
    step
}

/// A number without needless decimals.
fn trim(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = if v.abs() >= 100.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.3}")
        };
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;
    use crate::threshold;

    fn sample_page() -> String {
        let mut r = sample();
        let verdicts = threshold::check(
            &r,
            &[
                threshold::parse("poll.p99<1ms").unwrap(),
                threshold::parse("poll.p99<0.1ms").unwrap(),
            ],
        );
        r.thresholds = verdicts.iter().map(threshold::Verdict::result).collect();
        r.run = crate::report::RunInfo::new(
            "truidentidad-mock load run --rate 200 <script>".into(),
            Some(7),
        );
        page(
            &r,
            &Context {
                shades: vec![Shade {
                    from_s: 1.0,
                    to_s: 2.0,
                    label: "brown-out 503".into(),
                }],
            },
        )
    }

    #[test]
    fn the_page_is_self_contained_and_has_every_section() {
        let html = sample_page();
        for needle in ["http://", "https://", "<script", "src=", "@import", "url("] {
            // The only URL is the target, shown as text in the title and facts.
            let outside = html.replace("http://127.0.0.1:8080", "");
            assert!(!outside.contains(needle), "{needle} in the page");
        }
        for id in [
            "h-rate",
            "h-create-poll",
            "h-ttt",
            "h-polls",
            "h-outcomes",
            "h-thresholds",
            "h-run",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(
            html.contains("&lt;script&gt;"),
            "the command line is escaped"
        );
        assert!(html.contains("<title>brown-out 503</title>"));
        assert!(html.contains("1 of 2 passed."));
        assert!(html.contains("class=\"fail\">FAIL"));
    }

    #[test]
    fn every_second_is_drawn_stacked_by_answer() {
        let html = sample_page();
        // sample(): 3 seconds; second 1 has 1420 2xx, 2 429s and 1 without an answer.
        assert!(html.contains("<title>1 s: 1420 2xx</title>"));
        assert!(html.contains("<title>1 s: 2 429</title>"));
        assert!(html.contains("<title>1 s: 1 no answer</title>"));
        assert!(
            !html.contains("<title>0 s: 0 429</title>"),
            "empty classes are not drawn"
        );
        assert!(html.contains("<th scope=\"row\">2</th><td>1380</td>"));
    }

    #[test]
    fn a_fleet_run_gets_its_own_sections_from_the_same_page() {
        let html = page(&crate::fleet::report::tests::report(), &Context::default());
        for id in [
            "h-rate",
            "h-lag",
            "h-polls",
            "h-outcomes",
            "h-said",
            "h-run",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        for id in ["h-create-poll", "h-ttt"] {
            assert!(
                !html.contains(&format!("id=\"{id}\"")),
                "{id} on a fleet page"
            );
        }
        assert!(html.contains("<th scope=\"row\">gave up</th><td>1</td>"));
        assert!(html.contains("Fleet load of python3 service.py"));
    }

    #[test]
    fn numbers_lose_needless_decimals() {
        assert_eq!(trim(30.5), "30.5");
        assert_eq!(trim(61.0), "61");
        assert_eq!(trim(0.125), "0.125");
        assert_eq!(trim(1234.56), "1234.6");
        assert_eq!(trim(f64::NAN), "n/a");
        assert_eq!(sentence("busiest second"), "Busiest second");
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.3), 1.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(12.0), 20.0);
    }
}
