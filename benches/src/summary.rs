//! The summary printed at the end of a run, from the one [`Report`]: a server run's (polling,
//! raw, merged) and a fleet run's, each naming the sections its mode fills.

use std::fmt::Write as _;

use crate::report::{FLEET_OUTCOMES, FleetSection, Report, is_terminal_kind};
use crate::stats::Percentiles;

impl Report {
    /// The summary printed at the end of a run.
    pub fn to_text(&self) -> String {
        match &self.fleet {
            Some(fleet) => self.fleet_text(fleet),
            None => self.server_text(),
        }
    }

    /// The summary of a polling, raw or merged run.
    fn server_text(&self) -> String {
        let mut s = String::new();
        let w = &self.windows;
        let _ = writeln!(
            s,
            "Load run against {} ({}), {:.1} s: {:.1} s of arrivals, then {:.1} s of drain",
            self.target, self.mode, self.elapsed_s, w.arrivals.seconds, w.drain.seconds
        );
        if self.mode == "polling" {
            let arrivals = self.arrivals.unwrap_or_default();
            let _ = writeln!(
                s,
                "  arrivals      {:.1}/s achieved of {:.1}/s target ({} scheduled)",
                arrivals.achieved_per_second, arrivals.target_per_second, arrivals.scheduled
            );
            let v = self.validations.unwrap_or_default();
            let _ = writeln!(
                s,
                "  validations   {} started, {} finished, {} dropped (in-flight cap), {:.2} polls each",
                v.started, v.finished, v.dropped, v.polls_per_validation
            );
        }
        let _ = write!(
            s,
            "  requests      {} total: {}",
            self.requests.total,
            w.describe()
        );
        // Only when it happened: a resend is rare, and the line stays as it was otherwise.
        if let Some(retried) = self.requests.retried.filter(|n| *n > 0) {
            let _ = write!(
                s,
                ", {retried} retried on a new connection (a kept-alive one closed unanswered)"
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "  waves         {}", self.rate.describe());
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  latency (ms)      count        p50        p90        p99      p99.9        max"
        );
        let mut row = |name: &str, count: u64, p: &Percentiles| {
            if count > 0 {
                let _ = writeln!(
                    s,
                    "  {name:<14}{count:>9}{:>11.3}{:>11.3}{:>11.3}{:>11.3}{:>11.3}",
                    p.p50, p.p90, p.p99, p.p999, p.max
                );
            }
        };
        for (name, endpoint) in [("create", &self.create), ("poll", &self.poll)] {
            if let Some(e) = endpoint {
                row(name, e.count, &e.latency_ms);
            }
        }
        if let Some(p) = &self.time_to_terminal_ms {
            row(
                "to terminal",
                self.outcomes
                    .iter()
                    .filter(|(k, _)| is_terminal_kind(k))
                    .map(|(_, n)| n)
                    .sum(),
                p,
            );
        }
        if !self.outcomes.is_empty() {
            let _ = writeln!(s);
            let list: Vec<String> = self
                .outcomes
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(s, "  outcomes      {}", list.join(", "));
            if let Some(n) = self.outcomes.get("deadline").filter(|n| **n > 0) {
                let _ = writeln!(
                    s,
                    "  deadline      {n} still pending at --poll-deadline {}s: the tool stopped polling them, the target had not ended them (an expired-* scenario ends at the validation's timeout, 300 s by default; a longer --poll-deadline sees it)",
                    self.poll_deadline_s
                );
            }
        }
        let e = self.errors.unwrap_or_default();
        if e.total == 0 {
            let _ = writeln!(s, "  errors        none");
        } else {
            let _ = writeln!(
                s,
                "  errors        {} (connect {}, timeout {}, 4xx {}, 429 {}, 5xx {}, other {})",
                e.total, e.connect, e.timeout, e.client_4xx, e.too_many, e.server_5xx, e.other
            );
        }
        s
    }

    /// The summary of a fleet run.
    fn fleet_text(&self, f: &FleetSection) -> String {
        let none = Percentiles::default();
        let p = |x: &Option<Percentiles>| {
            let x = x.as_ref().unwrap_or(&none);
            format!(
                "p50 {:.0}  p90 {:.0}  p99 {:.0}  max {:.0}  mean {:.0}",
                x.p50, x.p90, x.p99, x.max, x.mean
            )
        };
        let mut out = String::new();
        let w = &self.windows;
        let _ = writeln!(
            out,
            "TruIdentidad fleet load: client `{}`, {} validations in {:.1} s ({:.1} s of arrivals, then {:.1} s of drain) against {}\n",
            f.client, f.run, self.elapsed_s, w.arrivals.seconds, w.drain.seconds, self.target
        );
        let _ = writeln!(
            out,
            "  detection lag (ms)      {}",
            p(&self.detection_lag_ms)
        );
        let _ = writeln!(out, "  end to end (ms)         {}", p(&self.end_to_end_ms));
        let _ = writeln!(out, "  start delay (ms)        {}", p(&self.start_delay_ms));
        let c = &f.polls_per_validation;
        let _ = writeln!(
            out,
            "  polls per validation    mean {:.1}  p50 {}  p99 {}  max {}",
            c.mean, c.p50, c.p99, c.max
        );
        let _ = writeln!(
            out,
            "  requests at the mock    {} total: {}",
            self.requests.total,
            w.describe()
        );
        let _ = writeln!(out, "  waves                   {}", self.rate.describe());
        let _ = writeln!(
            out,
            "  after a terminal answer {}   retries {}",
            self.requests.after_terminal.unwrap_or(0),
            self.requests.retries.unwrap_or(0)
        );
        let b = self.pushback.unwrap_or_default();
        let _ = writeln!(
            out,
            "  pushback                429s {}  5xx {}  no answer {}; Retry-After honoured {:.0}%; median wait after a 429/5xx {:.0} ms",
            b.throttled,
            b.server_errors,
            b.no_answer,
            b.retry_after_honoured * 100.0,
            b.wait_after_failure_p50_ms
        );
        let classes: Vec<String> = FLEET_OUTCOMES
            .iter()
            .map(|(key, says)| format!("{} {says}", self.outcomes.get(*key).copied().unwrap_or(0)))
            .collect();
        let _ = writeln!(
            out,
            "  clients                 {}; {} outcome{} never seen",
            classes.join(", "),
            f.undetected,
            if f.undetected == 1 { "" } else { "s" },
        );
        if !f.said_vs_mock.is_empty() {
            let pairs: Vec<String> = f
                .said_vs_mock
                .iter()
                .map(|o| format!("{} → {} {}", o.said, o.mock, o.count))
                .collect();
            let _ = writeln!(out, "  client said → mock had  {}", pairs.join(", "));
        }
        for p in &f.problems {
            let _ = writeln!(out, "  problem: {}: {}", p.account_id, p.what);
            if let Some(last) = p.stderr_tail.lines().last() {
                let _ = writeln!(out, "           stderr: {last}");
            }
        }
        if f.journal_overflow {
            out.push_str("\n  WARNING: the mock's journal overflowed; the figures miss the oldest requests\n");
        }
        out
    }
}
