//! The scenario file format (TOML), documented in `scenarios/README.md`.
//!
//! Parsing happens in two passes: `toml` + serde turn text into spanned documents (syntax and
//! type errors, unknown keys), then [`Builder`] checks meaning (reachable phases, known
//! reasons, one action per fault) and collects *every* error with its position, so
//! `scenarios check` can list them all at once.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    ConnectionFault, Delay, Fault, FaultAction, Outcome, Phase, RequestKind, RetryAfter, Scenario,
};
use crate::reasons::{DECLINED_REASONS, DEFAULT_EXPIRED_REASON, EXPIRED_REASONS};

/// One problem in a scenario file, located by line and column (both 1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct FormatError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending source line, for the caret display.
    pub source_line: String,
    /// Width of the underlined span on that line (at least 1).
    pub width: usize,
}

impl FormatError {
    fn at(file: &str, src: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = span.start.min(src.len());
        let before = &src[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = src[line_start..start].chars().count() + 1;
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let source_line = src[line_start..line_end].trim_end_matches('\r').to_string();
        let end = span.end.clamp(start, line_end);
        let width = src[start..end].chars().count().max(1);
        FormatError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            source_line,
            width,
        }
    }

    /// A rustc-style rendering with the source line and a caret under the problem.
    pub fn render(&self) -> String {
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        let indent: String = self
            .source_line
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!(
            "error: {msg}\n{pad}--> {file}:{line}:{col}\n{pad} |\n{line} | {src}\n{pad} | {indent}{carets}\n",
            msg = self.message,
            file = self.file,
            line = self.line,
            col = self.column,
            src = self.source_line,
            carets = "^".repeat(self.width),
        )
    }
}

/// All the errors of one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FormatErrors(pub Vec<FormatError>);

impl fmt::Display for FormatErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    scenario: Vec<Spanned<ScenarioDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioDoc {
    name: Spanned<String>,
    description: Spanned<String>,
    #[serde(default)]
    expires: Option<bool>,
    #[serde(default)]
    expired_reason: Option<Spanned<String>>,
    #[serde(default)]
    phase: Vec<Spanned<PhaseDoc>>,
    #[serde(default)]
    outcome: Option<Spanned<OutcomeDoc>>,
    #[serde(default)]
    fault: Vec<Spanned<FaultDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseDoc {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    until: Option<Spanned<String>>,
    #[serde(default)]
    until_polls: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeDoc {
    status: Spanned<String>,
    #[serde(default)]
    failure_status: Option<Spanned<String>>,
    #[serde(default)]
    declined_reason: Option<Spanned<String>>,
    #[serde(default)]
    expired_reason: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DelayDoc {
    Fixed(String),
    Range { min: String, max: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlowBodyDoc {
    #[serde(default)]
    chunk_bytes: Option<i64>,
    every: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NthDoc {
    One(i64),
    Many(Vec<i64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultDoc {
    #[serde(default)]
    request: Option<Spanned<String>>,
    #[serde(default)]
    phase: Option<Spanned<String>>,
    #[serde(default)]
    nth: Option<Spanned<NthDoc>>,
    #[serde(default)]
    chance: Option<Spanned<f64>>,
    #[serde(default)]
    delay: Option<Spanned<DelayDoc>>,
    #[serde(default)]
    status: Option<Spanned<i64>>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retry_after: Option<Spanned<String>>,
    #[serde(default)]
    retry_after_format: Option<Spanned<String>>,
    #[serde(default)]
    slow_body: Option<Spanned<SlowBodyDoc>>,
    #[serde(default)]
    connection: Option<Spanned<String>>,
    #[serde(default)]
    stall_for: Option<Spanned<String>>,
    #[serde(default)]
    body: Option<Spanned<String>>,
}

/// A scenario name must be usable as an `account_id` prefix and in a URL: lowercase letters,
/// digits and `-`, starting with a letter or digit, and no `.` (the magic separator).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// Parses every `[[scenario]]` in `src`. `file` names the source in error messages.
pub fn parse_scenarios(file: &str, src: &str) -> Result<Vec<Scenario>, FormatErrors> {
    let doc: FileDoc = toml::from_str(src).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim_end().replace('\n', " ");
        FormatErrors(vec![FormatError::at(file, src, span, msg)])
    })?;
    let mut b = Builder {
        file,
        src,
        errors: Vec::new(),
    };
    let mut out = Vec::new();
    let mut seen: Vec<(String, Range<usize>)> = Vec::new();
    if doc.scenario.is_empty() {
        b.err(
            0..0,
            "no scenarios in this file; expected at least one `[[scenario]]` table",
        );
    }
    for s in doc.scenario {
        let s = s.into_inner();
        if let Some((_, first)) = seen.iter().find(|(n, _)| n == s.name.get_ref()) {
            let (line, _) = line_col(src, first.start);
            b.err(
                s.name.span(),
                format!(
                    "duplicate scenario name `{}` (first defined on line {line})",
                    s.name.get_ref()
                ),
            );
        }
        seen.push((s.name.get_ref().clone(), s.name.span()));
        if let Some(scenario) = b.scenario(s) {
            out.push(scenario);
        }
    }
    if b.errors.is_empty() {
        Ok(out)
    } else {
        Err(FormatErrors(b.errors))
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

struct Builder<'a> {
    file: &'a str,
    src: &'a str,
    errors: Vec<FormatError>,
}

impl Builder<'_> {
    fn err(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.errors
            .push(FormatError::at(self.file, self.src, span, msg));
    }

    fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<Duration> {
        match humantime::parse_duration(s.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(
                    s.span(),
                    format!("invalid {what} `{}`: {e}; expected a duration such as \"3s\", \"500ms\" or \"1m 30s\"", s.get_ref()),
                );
                None
            }
        }
    }

    fn reason(
        &mut self,
        s: &Spanned<String>,
        known: &[&'static str],
        what: &str,
    ) -> Option<&'static str> {
        match known.iter().find(|k| **k == s.get_ref().as_str()) {
            Some(k) => Some(*k),
            None => {
                self.err(
                    s.span(),
                    format!(
                        "unknown {what} `{}`; expected one of: {}",
                        s.get_ref(),
                        known.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn scenario(&mut self, s: ScenarioDoc) -> Option<Scenario> {
        let errors_before = self.errors.len();
        if !is_valid_name(s.name.get_ref()) {
            self.err(
                s.name.span(),
                format!(
                    "invalid scenario name `{}`: use 1 to 64 lowercase letters, digits and `-`, not starting with `-` (names are used in account_id values and URLs)",
                    s.name.get_ref()
                ),
            );
        }
        if s.description.get_ref().trim().is_empty() {
            self.err(
                s.description.span(),
                "description is empty; say in one line what this scenario does",
            );
        }
        let expired_reason = match &s.expired_reason {
            Some(r) => self
                .reason(r, EXPIRED_REASONS, "expired_reason")
                .unwrap_or(DEFAULT_EXPIRED_REASON),
            None => DEFAULT_EXPIRED_REASON,
        };
        let phases = self.phases(&s.phase);
        let outcome = s.outcome.as_ref().and_then(|o| self.outcome(o));
        if let (Some(o), Some(last)) = (&s.outcome, s.phase.last()) {
            let p = last.get_ref();
            if p.until.is_none() && p.until_polls.is_none() {
                self.err(
                    o.span(),
                    "the outcome is unreachable: the last phase has neither `until` nor `until_polls`",
                );
            }
        }
        let phase_names: Vec<String> = phases.iter().map(|p| p.name.clone()).collect();
        let faults: Vec<Fault> = s
            .fault
            .iter()
            .filter_map(|f| self.fault(f, &phase_names))
            .collect();
        (self.errors.len() == errors_before).then(|| Scenario {
            name: s.name.into_inner(),
            description: s.description.into_inner(),
            phases,
            outcome,
            expires: s.expires.unwrap_or(true),
            expired_reason,
            faults,
        })
    }

    fn phases(&mut self, docs: &[Spanned<PhaseDoc>]) -> Vec<Phase> {
        let mut out: Vec<Phase> = Vec::new();
        let mut prev_until: Option<Duration> = None;
        let mut prev_polls: Option<u32> = None;
        for (i, d) in docs.iter().enumerate() {
            let p = d.get_ref();
            let name = p
                .name
                .as_ref()
                .map_or_else(|| format!("phase-{}", i + 1), |n| n.get_ref().clone());
            if let Some(n) = &p.name
                && (out.iter().any(|o| &o.name == n.get_ref()) || n.get_ref() == "outcome")
            {
                self.err(
                    n.span(),
                    format!("duplicate or reserved phase name `{}`", n.get_ref()),
                );
            }
            let until = p.until.as_ref().and_then(|u| self.duration(u, "until"));
            let until_polls = match &p.until_polls {
                Some(n) if *n.get_ref() < 0 || *n.get_ref() > i64::from(u32::MAX) => {
                    self.err(
                        n.span(),
                        format!(
                            "until_polls must be between 0 and {}, got {}",
                            u32::MAX,
                            n.get_ref()
                        ),
                    );
                    None
                }
                Some(n) => Some(*n.get_ref() as u32),
                None => None,
            };
            if until.is_none() && until_polls.is_none() && i + 1 < docs.len() && p.until.is_none() {
                self.err(
                    d.span(),
                    "this phase never ends (no `until` or `until_polls`), so the phases after it are unreachable",
                );
            }
            if let (Some(u), Some(prev), Some(span)) = (until, prev_until, p.until.as_ref())
                && u < prev
            {
                self.err(
                        span.span(),
                        format!(
                            "`until` is measured from creation and must not go backwards: {} is before the previous phase's {}",
                            humantime::format_duration(u),
                            humantime::format_duration(prev)
                        ),
                    );
            }
            if let (Some(n), Some(prev), Some(span)) =
                (until_polls, prev_polls, p.until_polls.as_ref())
                && n < prev
            {
                self.err(
                        span.span(),
                        format!("`until_polls` counts from creation and must not go backwards: {n} is below the previous phase's {prev}"),
                    );
            }
            prev_until = until.or(prev_until);
            prev_polls = until_polls.or(prev_polls);
            out.push(Phase {
                name,
                until,
                until_polls,
            });
        }
        out
    }

    fn outcome(&mut self, o: &Spanned<OutcomeDoc>) -> Option<Outcome> {
        let d = o.get_ref();
        let reject = |b: &mut Self, field: &Option<Spanned<String>>, why: &str| {
            if let Some(f) = field {
                b.err(f.span(), why.to_string());
            }
        };
        match d.status.get_ref().as_str() {
            "success" => {
                reject(
                    self,
                    &d.failure_status,
                    "failure_status is only allowed with status = \"failure\"",
                );
                reject(
                    self,
                    &d.declined_reason,
                    "declined_reason is only allowed with failure_status = \"declined\"",
                );
                reject(
                    self,
                    &d.expired_reason,
                    "expired_reason is only allowed with failure_status = \"expired\"",
                );
                Some(Outcome::Success)
            }
            "failure" => {
                let Some(fs) = &d.failure_status else {
                    self.err(
                        o.span(),
                        "status = \"failure\" needs failure_status = \"declined\", \"expired\" or \"system_error\"",
                    );
                    return None;
                };
                match fs.get_ref().as_str() {
                    "declined" => {
                        reject(
                            self,
                            &d.expired_reason,
                            "expired_reason is only allowed with failure_status = \"expired\"",
                        );
                        match &d.declined_reason {
                            Some(r) => self
                                .reason(r, DECLINED_REASONS, "declined_reason")
                                .map(|reason| Outcome::Declined { reason }),
                            None => {
                                self.err(
                                    fs.span(),
                                    "failure_status = \"declined\" needs a declined_reason",
                                );
                                None
                            }
                        }
                    }
                    "expired" => {
                        reject(
                            self,
                            &d.declined_reason,
                            "declined_reason is only allowed with failure_status = \"declined\"",
                        );
                        match &d.expired_reason {
                            Some(r) => self
                                .reason(r, EXPIRED_REASONS, "expired_reason")
                                .map(|reason| Outcome::Expired { reason }),
                            None => Some(Outcome::Expired {
                                reason: DEFAULT_EXPIRED_REASON,
                            }),
                        }
                    }
                    "system_error" => {
                        reject(
                            self,
                            &d.declined_reason,
                            "declined_reason is only allowed with failure_status = \"declined\"",
                        );
                        reject(
                            self,
                            &d.expired_reason,
                            "expired_reason is only allowed with failure_status = \"expired\"",
                        );
                        Some(Outcome::SystemError)
                    }
                    other => {
                        self.err(
                            fs.span(),
                            format!("unknown failure_status `{other}`; expected one of: declined, expired, system_error"),
                        );
                        None
                    }
                }
            }
            other => {
                self.err(
                    d.status.span(),
                    format!("unknown outcome status `{other}`; expected \"success\" or \"failure\" (a scenario that never finishes simply has no [outcome])"),
                );
                None
            }
        }
    }

    fn fault(&mut self, f: &Spanned<FaultDoc>, phase_names: &[String]) -> Option<Fault> {
        let errors_before = self.errors.len();
        let d = f.get_ref();
        let request = match d.request.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
            None | Some(("poll", _)) => RequestKind::Poll,
            Some(("create", _)) => RequestKind::Create,
            Some((other, span)) => {
                self.err(
                    span,
                    format!("unknown request kind `{other}`; expected \"create\" or \"poll\""),
                );
                RequestKind::Poll
            }
        };
        let phase = match &d.phase {
            None => None,
            Some(p) if request == RequestKind::Create => {
                self.err(p.span(), "`phase` does not apply to create faults: a validation has no phase before it exists");
                None
            }
            Some(p) if p.get_ref() == "outcome" => Some(phase_names.len()),
            Some(p) => match phase_names.iter().position(|n| n == p.get_ref()) {
                Some(i) => Some(i),
                None => {
                    let mut known: Vec<&str> = phase_names.iter().map(String::as_str).collect();
                    known.push("outcome");
                    self.err(
                        p.span(),
                        format!(
                            "unknown phase `{}`; expected one of: {}",
                            p.get_ref(),
                            known.join(", ")
                        ),
                    );
                    None
                }
            },
        };
        let nth = match &d.nth {
            None => Vec::new(),
            Some(n) => {
                let list = match n.get_ref() {
                    NthDoc::One(x) => vec![*x],
                    NthDoc::Many(xs) => xs.clone(),
                };
                if list.is_empty() || list.iter().any(|x| *x < 1 || *x > i64::from(u32::MAX)) {
                    self.err(
                        n.span(),
                        "nth lists 1-based request numbers, e.g. nth = 1 or nth = [1, 2]",
                    );
                }
                list.into_iter()
                    .map(|x| x.clamp(1, i64::from(u32::MAX)) as u32)
                    .collect()
            }
        };
        let chance = match &d.chance {
            None => 1.0,
            Some(c) if (0.0..=1.0).contains(c.get_ref()) => *c.get_ref(),
            Some(c) => {
                self.err(
                    c.span(),
                    format!(
                        "chance is a probability between 0 and 1, got {}",
                        c.get_ref()
                    ),
                );
                1.0
            }
        };
        let delay = d.delay.as_ref().and_then(|dl| {
            let span = dl.span();
            let parse = |b: &mut Self, s: &str| {
                humantime::parse_duration(s).map_err(|e| {
                    b.err(span.clone(), format!("invalid delay `{s}`: {e}; expected e.g. \"500ms\" or {{ min = \"100ms\", max = \"2s\" }}"));
                })
            };
            match dl.get_ref() {
                DelayDoc::Fixed(s) => parse(self, s).ok().map(Delay::Fixed),
                DelayDoc::Range { min, max } => {
                    let (lo, hi) = (parse(self, min).ok()?, parse(self, max).ok()?);
                    if lo > hi {
                        self.err(span, "delay min is greater than max");
                        return None;
                    }
                    Some(Delay::Uniform { min: lo, max: hi })
                }
            }
        });

        let mut actions: Vec<(Range<usize>, FaultAction)> = Vec::new();
        if let Some(s) = &d.status {
            let code = *s.get_ref();
            if !(400..=599).contains(&code) {
                self.err(
                    s.span(),
                    format!("status must be an HTTP error between 400 and 599, got {code}"),
                );
            }
            let retry_after = d.retry_after.as_ref().and_then(|r| {
                let secs = self.duration(r, "retry_after")?.as_secs();
                match d.retry_after_format.as_ref().map(|f| (f.get_ref().as_str(), f.span())) {
                    None | Some(("seconds", _)) => Some(RetryAfter::Seconds(secs)),
                    Some(("http-date", _)) => Some(RetryAfter::HttpDate(secs)),
                    Some((other, span)) => {
                        self.err(span, format!("unknown retry_after_format `{other}`; expected \"seconds\" or \"http-date\""));
                        None
                    }
                }
            });
            actions.push((
                s.span(),
                FaultAction::HttpError {
                    status: code.clamp(400, 599) as u16,
                    message: d.message.clone(),
                    retry_after,
                },
            ));
        } else {
            for (field, name) in [
                (&d.retry_after, "retry_after"),
                (&d.retry_after_format, "retry_after_format"),
            ] {
                if let Some(f) = field {
                    self.err(
                        f.span(),
                        format!("{name} needs `status` (usually 429 or 503)"),
                    );
                }
            }
        }
        if let Some(sb) = &d.slow_body {
            let doc = sb.get_ref();
            let every = humantime::parse_duration(&doc.every).map_err(|e| {
                self.err(
                    sb.span(),
                    format!("invalid slow_body.every `{}`: {e}", doc.every),
                );
            });
            let chunk = doc.chunk_bytes.unwrap_or(16);
            if chunk < 1 {
                self.err(sb.span(), "slow_body.chunk_bytes must be at least 1");
            }
            if let Ok(every) = every {
                actions.push((
                    sb.span(),
                    FaultAction::SlowBody {
                        chunk_bytes: chunk.max(1) as usize,
                        every,
                    },
                ));
            }
        }
        if let Some(c) = &d.connection {
            let stall_for = d
                .stall_for
                .as_ref()
                .and_then(|s| self.duration(s, "stall_for"));
            let fault = match c.get_ref().as_str() {
                "reset" => Some(ConnectionFault::Reset),
                "close" => Some(ConnectionFault::Close),
                "stall" => Some(ConnectionFault::Stall(
                    stall_for.unwrap_or(Duration::from_secs(300)),
                )),
                other => {
                    self.err(c.span(), format!("unknown connection fault `{other}`; expected \"reset\", \"close\" or \"stall\""));
                    None
                }
            };
            if let Some(fault) = fault {
                actions.push((c.span(), FaultAction::Connection(fault)));
            }
        } else if let Some(s) = &d.stall_for {
            self.err(s.span(), "stall_for needs connection = \"stall\"");
        }
        if let Some(b) = &d.body {
            match b.get_ref().as_str() {
                "malformed" => actions.push((b.span(), FaultAction::MalformedBody)),
                "empty" => actions.push((b.span(), FaultAction::EmptyBody)),
                other => self.err(
                    b.span(),
                    format!("unknown body fault `{other}`; expected \"malformed\" or \"empty\""),
                ),
            }
        }
        let action = match actions.len() {
            0 if delay.is_some() => FaultAction::DelayOnly,
            0 => {
                if self.errors.len() == errors_before {
                    self.err(
                        f.span(),
                        "this fault does nothing; give one of: status, delay, slow_body, connection, body",
                    );
                }
                return None;
            }
            1 => actions.pop().map(|(_, a)| a)?,
            _ => {
                let span = actions[1].0.clone();
                self.err(
                    span,
                    "a fault takes one action: status, slow_body, connection or body (delay may be combined with any); split it into two [[scenario.fault]] entries",
                );
                return None;
            }
        };
        (self.errors.len() == errors_before).then_some(Fault {
            request,
            phase,
            nth,
            chance,
            delay,
            action,
        })
    }
}

#[cfg(test)]
mod tests;
