//! Scenarios explore generates: a compact description ([`Generated`]) drawn from a seed, and
//! its scenario file (TOML in the format of `scenarios/README.md`).
//!
//! Only behaviour the real service can show is drawn, and each fault names the fact that allows
//! it ([`FaultKind::allowed_by`]):
//! - a validation stays `pending` through 1 to 3 phases, then turns terminal once and stays so
//!   (the engine never moves a status backwards); its outcome and reason come from Truora's
//!   documented codes (`scenarios/src/reasons.rs`);
//! - errors carry Truora's envelope (the mock renders every error status with it);
//! - the validation's `timeout` is modelled as its `failure/expired` outcome at the drawn
//!   moment: the mock takes the timeout from the client's create form, so explore moves the
//!   moment the service reports the expiry instead.
//!
//! Bounds (documented in conformance/README.md, "Explore"), chosen so a polite client can
//! always finish: at most 2 failed requests in a row (the reference clients give up after 3,
//! which `retries-capped` allows); at most one create fault; `Retry-After` from 1 to 15 s, at
//! most one of them over 5 s.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use truidentidad_scenarios::Outcome;
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};
use truidentidad_scenarios::rng;

/// Smallest and largest `Retry-After` drawn, in seconds.
pub const RETRY_AFTER_RANGE: (u64, u64) = (1, 15);
/// A `Retry-After` above this counts as long; a scenario has at most one.
pub const LONG_RETRY_AFTER: u64 = 5;
/// Most failed requests in a row a scenario serves.
pub const MAX_FAILURES_IN_A_ROW: u32 = 2;
/// Most polls that see `pending` when a scenario ends by poll count. With at most 2 failures
/// in a row after them, Truora's SDK schedule (1, 2, 4, 8, 16, 30 s, an error taking the next
/// step) still sees the outcome within 61 s, inside explore's outcome deadline
/// ([`OUTCOME_DEADLINE`]).
pub const MAX_PENDING_POLLS: u64 = 3;
/// The polling deadline explore hands the client when the scenario has an outcome: longer than
/// `conformance run`'s 60 s, so the slowest polite schedule fits (see [`MAX_PENDING_POLLS`]).
pub const OUTCOME_DEADLINE: Duration = Duration::from_secs(120);

/// Where a pending phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// At this time since creation.
    Time(#[serde(serialize_with = "crate::secs::secs")] Duration),
    /// After this many polls (the next poll sees the next phase).
    Polls(u32),
    /// Never (the validation never completes).
    Forever,
}

/// What a fault does to the request it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After` (seconds, or an HTTP-date).
    TooManyRequests {
        retry_after: u64,
        http_date: bool,
    },
    /// 503, with or without `Retry-After`.
    Unavailable {
        retry_after: Option<u64>,
    },
    /// 500, 502 or 504.
    ServerError {
        status: u16,
    },
    Reset,
    Close,
    /// No answer until the client gives up.
    Stall,
    /// A 200 whose JSON is cut in half.
    Malformed,
    /// A 200 with no body.
    Empty,
    /// The right body, dribbled slowly.
    SlowBody,
}

/// Every kind, by its coverage label, in report order.
pub const KIND_LABELS: &[&str] = &[
    "429",
    "503+retry-after",
    "503",
    "5xx",
    "reset",
    "close",
    "stall",
    "malformed",
    "empty",
    "slow-body",
];

impl FaultKind {
    /// The name coverage counts it under (one of [`KIND_LABELS`]).
    pub fn label(self) -> &'static str {
        match self {
            FaultKind::TooManyRequests { .. } => "429",
            FaultKind::Unavailable {
                retry_after: Some(_),
            } => "503+retry-after",
            FaultKind::Unavailable { retry_after: None } => "503",
            FaultKind::ServerError { .. } => "5xx",
            FaultKind::Reset => "reset",
            FaultKind::Close => "close",
            FaultKind::Stall => "stall",
            FaultKind::Malformed => "malformed",
            FaultKind::Empty => "empty",
            FaultKind::SlowBody => "slow-body",
        }
    }

    /// The fact that lets the real service do this.
    pub fn allowed_by(self) -> &'static str {
        match self {
            FaultKind::TooManyRequests { .. } => {
                "docs/fidelity.md, Errors: Truora publishes no rate limit, so any request may get a 429; RFC 9110 10.2.3: it may carry Retry-After in seconds or as an HTTP-date"
            }
            FaultKind::Unavailable { .. } => {
                "docs/fidelity.md, Errors: error bodies are {code, http_code, message}; RFC 9110 15.6.4: a 503 may carry Retry-After"
            }
            FaultKind::ServerError { .. } => {
                "docs/fidelity.md, Errors: error bodies are {code, http_code, message}; any HTTP service can answer 5xx (truora-validations-sdk retries them)"
            }
            FaultKind::Reset | FaultKind::Close => {
                "RELIABILITY.md: a connection can drop before the answer (load balancer, deploy); TCP gives no answer then"
            }
            FaultKind::Stall => {
                "conformance catalogue, abort-stalled-request: a request may never be answered; the client's own timeout ends it"
            }
            FaultKind::Malformed | FaultKind::Empty => {
                "a 200 can arrive cut short when the connection drops mid-body (RFC 9112 6.3: a body shorter than its framing is incomplete)"
            }
            FaultKind::SlowBody => {
                "any response can arrive slowly over a congested network; the body is intact"
            }
        }
    }

    /// The `Retry-After` it carries, in seconds.
    pub fn retry_after(self) -> Option<u64> {
        match self {
            FaultKind::TooManyRequests { retry_after, .. } => Some(retry_after),
            FaultKind::Unavailable { retry_after } => retry_after,
            _ => None,
        }
    }

    fn with_retry_after(self, secs: u64) -> Self {
        match self {
            FaultKind::TooManyRequests { http_date, .. } => FaultKind::TooManyRequests {
                retry_after: secs,
                http_date,
            },
            FaultKind::Unavailable {
                retry_after: Some(_),
            } => FaultKind::Unavailable {
                retry_after: Some(secs),
            },
            other => other,
        }
    }

    /// Whether the request failed (the client has no answer).
    pub fn fails(self) -> bool {
        !matches!(self, FaultKind::SlowBody)
    }

    fn describe(self) -> String {
        match self {
            FaultKind::TooManyRequests {
                retry_after,
                http_date,
            } => format!(
                "429 Retry-After {retry_after}s{}",
                if http_date { " (HTTP-date)" } else { "" }
            ),
            FaultKind::Unavailable {
                retry_after: Some(s),
            } => format!("503 Retry-After {s}s"),
            FaultKind::Unavailable { retry_after: None } => "503".into(),
            FaultKind::ServerError { status } => status.to_string(),
            other => other.label().to_string(),
        }
    }
}

/// A fault on the n-th request of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenFault {
    /// 1-based: the n-th poll of the validation, or the n-th create.
    pub nth: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// One generated scenario (the default, empty one stands for a saved file explore did not
/// generate).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// Where each pending phase ends, in order (limits only grow).
    pub phases: Vec<Limit>,
    /// `None`: pending forever (the client must give up by its deadline).
    #[serde(serialize_with = "outcome_label")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_fault: Option<GenFault>,
    pub poll_faults: Vec<GenFault>,
}

fn outcome_label<S: serde::Serializer>(o: &Option<Outcome>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&o.map_or_else(|| "never".to_string(), |o| o.label()))
}

/// A small seeded stream (SplitMix64 over the project's version-stable mixer).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        rng::mix64(self.0)
    }

    fn unit(&mut self) -> f64 {
        rng::unit_f64(self.next())
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// An index drawn by weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut x = self.next() % total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// The `index`-th scenario of `seed`: a pure function, so the same seed gives the same
/// scenarios in the same order, whatever `--jobs` is.
pub fn generate(seed: u64, index: u64) -> Generated {
    let mut d = Draw(rng::derive(seed, &[index]));
    let outcome = match d.weighted(&[45, 20, 10, 10, 15]) {
        0 => Some(Outcome::Success),
        1 => Some(Outcome::Declined {
            reason: d.pick(DECLINED_REASONS),
        }),
        2 => Some(Outcome::Expired {
            reason: d.pick(EXPIRED_REASONS),
        }),
        3 => Some(Outcome::SystemError),
        _ => None,
    };
    let n_phases = d.range(1, 3) as usize;
    let by_polls = d.unit() < 0.6;
    let mut phases = Vec::new();
    if outcome.is_none() {
        for i in 1..n_phases {
            phases.push(Limit::Time(Duration::from_millis(1_000 * i as u64)));
        }
        phases.push(Limit::Forever);
    } else if by_polls {
        let mut counts: Vec<u32> = (0..n_phases)
            .map(|_| d.range(1, MAX_PENDING_POLLS) as u32)
            .collect();
        counts.sort_unstable();
        phases.extend(counts.into_iter().map(Limit::Polls));
    } else {
        let mut ms: Vec<u64> = (0..n_phases).map(|_| d.range(3, 50) * 100).collect();
        ms.sort_unstable();
        phases.extend(
            ms.into_iter()
                .map(|m| Limit::Time(Duration::from_millis(m))),
        );
    }
    // Polls a polite client can reach: the pending ones, then at most 2 failed in a row
    // before the one that shows the outcome.
    let n_faults = d.weighted(&[10, 15, 25, 30, 20]) as u32;
    let reach = match phases.last() {
        Some(Limit::Polls(n)) => n + MAX_FAILURES_IN_A_ROW + 1,
        _ => 5,
    };
    // A walk: each fault 1 or 2 polls after the previous one, so faults come both in bursts
    // and spread out with answered polls between them.
    let mut nths: Vec<u32> = Vec::new();
    let mut at = if d.unit() < 0.6 {
        1
    } else {
        d.range(2, 3) as u32
    };
    while (nths.len() as u32) < n_faults && at <= reach {
        nths.push(at);
        at += d.range(1, 2) as u32;
    }
    let mut poll_faults: Vec<GenFault> = nths
        .into_iter()
        .map(|nth| GenFault {
            nth,
            kind: poll_kind(&mut d),
        })
        .collect();
    let create_fault = (d.unit() < 0.2).then(|| GenFault {
        nth: 1,
        kind: create_kind(&mut d),
    });
    keep_in_bounds(&mut poll_faults, create_fault);
    Generated {
        phases,
        outcome,
        create_fault,
        poll_faults,
    }
}

fn retry_after(d: &mut Draw) -> u64 {
    if d.unit() < 0.65 {
        d.range(RETRY_AFTER_RANGE.0, 3)
    } else {
        d.range(4, RETRY_AFTER_RANGE.1)
    }
}

fn poll_kind(d: &mut Draw) -> FaultKind {
    match d.weighted(&[18, 10, 10, 12, 10, 8, 7, 10, 7, 8]) {
        0 => FaultKind::TooManyRequests {
            retry_after: retry_after(d),
            http_date: d.unit() < 0.3,
        },
        1 => FaultKind::Unavailable {
            retry_after: Some(retry_after(d)),
        },
        2 => FaultKind::Unavailable { retry_after: None },
        3 => FaultKind::ServerError {
            status: d.pick(&[500, 502, 504]),
        },
        4 => FaultKind::Reset,
        5 => FaultKind::Close,
        6 => FaultKind::Stall,
        7 => FaultKind::Malformed,
        8 => FaultKind::Empty,
        _ => FaultKind::SlowBody,
    }
}

fn create_kind(d: &mut Draw) -> FaultKind {
    match d.weighted(&[30, 20, 20, 15, 15]) {
        0 => FaultKind::TooManyRequests {
            retry_after: d.range(1, 3),
            http_date: false,
        },
        1 => FaultKind::Unavailable {
            retry_after: Some(d.range(1, 3)),
        },
        2 => FaultKind::Unavailable { retry_after: None },
        3 => FaultKind::Reset,
        _ => FaultKind::ServerError { status: 500 },
    }
}

/// How many failing polls in a row end at `f`, given the faults before it (sorted by `nth`).
fn failures_in_a_row(before: &[GenFault], f: &GenFault) -> u32 {
    if !f.kind.fails() {
        return 0;
    }
    1 + before
        .iter()
        .rev()
        .enumerate()
        .take_while(|(i, k)| k.kind.fails() && k.nth + *i as u32 + 1 == f.nth)
        .count() as u32
}

/// At most [`MAX_FAILURES_IN_A_ROW`] failing polls in a row (the create has its own retry
/// budget in every client, so a create fault is apart), and at most one long `Retry-After`.
fn keep_in_bounds(faults: &mut Vec<GenFault>, create: Option<GenFault>) {
    let mut kept: Vec<GenFault> = Vec::new();
    for f in faults.drain(..) {
        if failures_in_a_row(&kept, &f) > MAX_FAILURES_IN_A_ROW {
            continue;
        }
        kept.push(f);
    }
    let mut long_seen = create
        .and_then(|c| c.kind.retry_after())
        .is_some_and(|s| s > LONG_RETRY_AFTER);
    for f in &mut kept {
        if let Some(s) = f.kind.retry_after()
            && s > LONG_RETRY_AFTER
        {
            if long_seen {
                f.kind = f.kind.with_retry_after(s % 3 + 1);
            }
            long_seen = true;
        }
    }
    *faults = kept;
}

impl Generated {
    /// Whether it keeps the generator's bounds (shrinking must not leave them: a scenario
    /// outside them can fail a polite client too).
    pub fn within_bounds(&self) -> bool {
        let sorted = self.poll_faults.windows(2).all(|w| w[0].nth < w[1].nth);
        let rows = (0..self.poll_faults.len()).all(|i| {
            failures_in_a_row(&self.poll_faults[..i], &self.poll_faults[i]) <= MAX_FAILURES_IN_A_ROW
        });
        let long = self
            .faults()
            .filter(|(_, f)| f.kind.retry_after().is_some_and(|s| s > LONG_RETRY_AFTER))
            .count();
        sorted && rows && long <= 1
    }

    /// Every fault, create first.
    pub fn faults(&self) -> impl Iterator<Item = (&'static str, &GenFault)> {
        self.create_fault
            .iter()
            .map(|f| ("create", f))
            .chain(self.poll_faults.iter().map(|f| ("poll", f)))
    }

    pub fn fault_count(&self) -> usize {
        self.poll_faults.len() + usize::from(self.create_fault.is_some())
    }

    /// The longest `Retry-After` it sends, in seconds.
    pub fn max_retry_after(&self) -> u64 {
        self.faults()
            .filter_map(|(_, f)| f.kind.retry_after())
            .max()
            .unwrap_or(0)
    }

    /// The outcome's label, `never` when it never completes.
    pub fn outcome_label(&self) -> String {
        self.outcome
            .map_or_else(|| "never".to_string(), |o| o.label())
    }

    /// One line: `success after 3 polls; poll 2: 503; poll 4: 429 Retry-After 2s`.
    pub fn summary(&self) -> String {
        let mut s = match (self.outcome, self.phases.last()) {
            (None, _) => "pending forever".to_string(),
            (Some(o), Some(Limit::Polls(n))) => format!("{} after {n} poll(s)", o.label()),
            (Some(o), Some(Limit::Time(t))) => {
                format!("{} after {}", o.label(), crate::secs::fmt_secs(*t))
            }
            (Some(o), _) => o.label(),
        };
        if self.phases.len() > 1 {
            let _ = write!(s, " ({} phases)", self.phases.len());
        }
        for (what, f) in self.faults() {
            let _ = write!(s, "; {what} {}: {}", f.nth, f.kind.describe());
        }
        s
    }

    /// The scenario file, one `[[scenario]]` named `name`. Each fault carries a comment with
    /// the fact that allows it. Every poll the mock answers takes 250 ms, as in the suite's own
    /// scenarios (conformance/scenarios.toml), so overlapping polls show in the journal.
    pub fn to_toml(&self, name: &str, header: &str) -> String {
        let mut t = String::new();
        for line in header.lines() {
            let _ = writeln!(t, "# {line}");
        }
        let _ = writeln!(t, "[[scenario]]");
        let _ = writeln!(t, "name = \"{name}\"");
        let _ = writeln!(t, "description = \"{}\"", self.summary().replace('"', "'"));
        if self.outcome.is_none() {
            let _ = writeln!(t, "expires = false");
        }
        for (i, p) in self.phases.iter().enumerate() {
            let _ = writeln!(t, "[[scenario.phase]]");
            let _ = writeln!(t, "name = \"phase-{}\"", i + 1);
            match p {
                Limit::Time(d) => {
                    let _ = writeln!(t, "until = \"{}ms\"", d.as_millis());
                }
                Limit::Polls(n) => {
                    let _ = writeln!(t, "until_polls = {n}");
                }
                Limit::Forever => {}
            }
        }
        if let Some(o) = self.outcome {
            let _ = writeln!(t, "[scenario.outcome]");
            let _ = writeln!(t, "status = \"{}\"", o.status().as_str());
            if let Some(fs) = o.failure_status() {
                let _ = writeln!(t, "failure_status = \"{fs}\"");
            }
            if let Some(r) = o.declined_reason() {
                let _ = writeln!(t, "declined_reason = \"{r}\"");
            }
            if let Some(r) = o.expired_reason() {
                let _ = writeln!(t, "expired_reason = \"{r}\"");
            }
        }
        for (what, f) in self.faults() {
            let _ = writeln!(t, "[[scenario.fault]]");
            let _ = writeln!(t, "# allowed by: {}", f.kind.allowed_by());
            let _ = writeln!(t, "request = \"{what}\"");
            let _ = writeln!(t, "nth = {}", f.nth);
            let delay = "delay = \"250ms\"";
            match f.kind {
                FaultKind::TooManyRequests {
                    retry_after,
                    http_date,
                } => {
                    let _ = writeln!(t, "status = 429\n{delay}\nretry_after = \"{retry_after}s\"");
                    if http_date {
                        let _ = writeln!(t, "retry_after_format = \"http-date\"");
                    }
                }
                FaultKind::Unavailable { retry_after } => {
                    let _ = writeln!(t, "status = 503\n{delay}");
                    if let Some(s) = retry_after {
                        let _ = writeln!(t, "retry_after = \"{s}s\"");
                    }
                }
                FaultKind::ServerError { status } => {
                    let _ = writeln!(t, "status = {status}\n{delay}");
                }
                FaultKind::Reset => {
                    let _ = writeln!(t, "connection = \"reset\"");
                }
                FaultKind::Close => {
                    let _ = writeln!(t, "connection = \"close\"");
                }
                FaultKind::Stall => {
                    let _ = writeln!(t, "connection = \"stall\"\nstall_for = \"2m\"");
                }
                FaultKind::Malformed => {
                    let _ = writeln!(t, "body = \"malformed\"\n{delay}");
                }
                FaultKind::Empty => {
                    let _ = writeln!(t, "body = \"empty\"\n{delay}");
                }
                FaultKind::SlowBody => {
                    let _ = writeln!(t, "slow_body = {{ chunk_bytes = 64, every = \"100ms\" }}");
                }
            }
        }
        let _ = writeln!(t, "[[scenario.fault]]");
        let _ = writeln!(t, "request = \"poll\"\ndelay = \"250ms\"");
        t
    }

    /// Smaller variants, most promising first: fewer faults, fewer and shorter phases, smaller
    /// `Retry-After`, an earlier end, simpler faults. Each differs from `self` in one thing.
    pub fn shrink_candidates(&self) -> Vec<Generated> {
        let mut out = Vec::new();
        if self.create_fault.is_some() {
            out.push(Generated {
                create_fault: None,
                ..self.clone()
            });
        }
        for i in 0..self.poll_faults.len() {
            let mut c = self.clone();
            c.poll_faults.remove(i);
            out.push(c);
        }
        if self.phases.len() > 1 {
            for i in 0..self.phases.len() - 1 {
                let mut c = self.clone();
                c.phases.remove(i);
                out.push(c);
            }
        }
        // Smaller Retry-After: the smallest first, then half.
        for (i, f) in self.poll_faults.iter().enumerate() {
            if let Some(s) = f.kind.retry_after() {
                for smaller in [1, s / 2, s - 1] {
                    if smaller >= 1 && smaller < s {
                        let mut c = self.clone();
                        c.poll_faults[i].kind = f.kind.with_retry_after(smaller);
                        if !out.contains(&c) {
                            out.push(c);
                        }
                    }
                }
            }
        }
        // An earlier end.
        if let Some(last) = self.phases.last().copied() {
            let earlier: Vec<Limit> = match last {
                // At least 1: a create never shows a terminal state on the real service.
                Limit::Polls(n) if n > 1 => vec![Limit::Polls((n / 2).max(1)), Limit::Polls(n - 1)],
                Limit::Time(t) if t > Duration::from_millis(300) => {
                    vec![Limit::Time(Duration::from_millis(300)), Limit::Time(t / 2)]
                }
                _ => Vec::new(),
            };
            for e in earlier {
                let mut c = self.clone();
                let n = c.phases.len();
                c.phases[n - 1] = e;
                let prev = c.phases[..n - 1].iter().all(|p| match (p, e) {
                    (Limit::Polls(a), Limit::Polls(b)) => *a <= b,
                    (Limit::Time(a), Limit::Time(b)) => *a <= b,
                    _ => true,
                });
                if prev && !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        // Faults earlier in the sequence.
        for (i, f) in self.poll_faults.iter().enumerate() {
            let before = if i == 0 {
                0
            } else {
                self.poll_faults[i - 1].nth
            };
            if f.nth > before + 1 {
                let mut c = self.clone();
                c.poll_faults[i].nth -= 1;
                out.push(c);
            }
        }
        out.retain(Generated::within_bounds);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use truidentidad_scenarios::parse_scenarios;

    #[test]
    fn the_same_seed_gives_the_same_scenarios_and_another_seed_others() {
        let a: Vec<Generated> = (0..50).map(|i| generate(7, i)).collect();
        let b: Vec<Generated> = (0..50).map(|i| generate(7, i)).collect();
        let c: Vec<Generated> = (0..50).map(|i| generate(8, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// Every generated scenario is a valid scenario file, within the documented bounds.
    #[test]
    fn generated_scenarios_are_valid_files_within_bounds() {
        for i in 0..2_000 {
            let g = generate(42, i);
            let toml = g.to_toml("explore-x", "generated");
            let parsed =
                parse_scenarios("gen.toml", &toml).unwrap_or_else(|e| panic!("{i}: {e}\n{toml}"));
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].outcome, g.outcome);
            assert!(g.fault_count() <= 5, "{i}");
            // Checked independently of within_bounds: no three consecutive failing polls.
            for w in g.poll_faults.windows(3) {
                let consecutive = w[1].nth == w[0].nth + 1 && w[2].nth == w[1].nth + 1;
                assert!(
                    !(consecutive && w.iter().all(|f| f.kind.fails())),
                    "{i}: {}",
                    g.summary()
                );
            }
            assert!(g.within_bounds(), "{i}: {}", g.summary());
            assert!(g.max_retry_after() <= RETRY_AFTER_RANGE.1);
        }
    }

    /// Over a few hundred draws every fault kind and every outcome shows up.
    #[test]
    fn the_generator_reaches_every_kind_and_outcome() {
        let gens: Vec<Generated> = (0..300).map(|i| generate(1, i)).collect();
        for label in KIND_LABELS {
            assert!(
                gens.iter()
                    .any(|g| g.faults().any(|(_, f)| f.kind.label() == *label)),
                "{label}"
            );
        }
        for o in [
            "success",
            "failure/declined",
            "failure/expired",
            "failure/system_error",
            "never",
        ] {
            assert!(gens.iter().any(|g| g.outcome_label().starts_with(o)), "{o}");
        }
        assert!(gens.iter().any(|g| g.create_fault.is_some()));
    }

    /// Every shrink candidate is smaller in one respect and still a valid scenario.
    #[test]
    fn shrink_candidates_are_valid_and_no_bigger() {
        for i in 0..300 {
            let g = generate(3, i);
            for c in g.shrink_candidates() {
                assert_ne!(c, g);
                assert!(c.fault_count() <= g.fault_count());
                assert!(c.phases.len() <= g.phases.len());
                assert!(c.max_retry_after() <= g.max_retry_after());
                assert!(!c.phases.contains(&Limit::Polls(0)), "{}", c.summary());
                parse_scenarios("c.toml", &c.to_toml("explore-c", ""))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}
