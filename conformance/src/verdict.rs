//! Verdicts and the report model every renderer reads.
//!
//! Kept apart from how cases run so reports can be built and snapshot-tested from plain data.

use std::time::Duration;

use serde::Serialize;

use crate::catalogue::{Expect, Level};
use crate::check_id::CheckId;
use crate::client::ClientRun;
pub use crate::settings::SettingsReport;
use crate::trace::{Request, secs};

/// A case's result, worst first in [`Verdict::rank`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum Verdict {
    #[serde(rename = "PASSED")]
    Passed,
    #[serde(rename = "SKIPPED")]
    Skipped,
    #[serde(rename = "WARNING")]
    Warning,
    #[serde(rename = "INTERRUPTED")]
    Interrupted,
    #[serde(rename = "FAILED")]
    Failed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Warning => "WARNING",
            Verdict::Skipped => "SKIPPED",
            Verdict::Interrupted => "INTERRUPTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Verdict::Passed,
            Verdict::Failed,
            Verdict::Warning,
            Verdict::Skipped,
            Verdict::Interrupted,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

/// What a check reports: a message and the requests that show it (journal sequence numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub message: String,
    pub requests: Vec<u64>,
    /// More specific checks that own this defect: when one of them (run, not skipped) finds
    /// anything in the case, this finding is dropped, so one decision of the client is one
    /// finding (a client killed while waiting on a stall is `abort-stalled-request`'s, not
    /// also `client-completes`').
    pub unless: Vec<CheckId>,
}

impl Finding {
    pub fn new(message: impl Into<String>, requests: Vec<u64>) -> Self {
        Finding {
            message: message.into(),
            requests,
            unless: Vec::new(),
        }
    }

    /// Drops this finding when `more_specific` reports anything in the same case.
    pub fn unless(mut self, more_specific: CheckId) -> Self {
        self.unless.push(more_specific);
        self
    }
}

/// A finding tied to its rule, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct RuleFinding {
    pub rule: String,
    pub title: String,
    pub level: Level,
    /// FAILED for MUST rules, WARNING for SHOULD rules.
    pub verdict: Verdict,
    pub message: String,
    /// Journal sequence numbers of the requests that broke the rule.
    pub requests: Vec<u64>,
    pub fix: String,
    pub source: String,
    /// Listed in the `--expect` file, so it does not fail the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expected: bool,
}

/// A request with the rules it broke.
#[derive(Debug, Clone, Serialize)]
pub struct GradedRequest {
    #[serde(flatten)]
    pub request: Request,
    /// The worst verdict among the findings that name this request; [`Verdict::Passed`] when
    /// none does, which reports show as `ok` (see [`GradedRequest::verdict_label`]).
    #[serde(serialize_with = "request_verdict")]
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

impl GradedRequest {
    /// `ok` for a request no finding names, else the verdict (`FAILED`, `WARNING`).
    pub fn verdict_label(&self) -> &'static str {
        request_verdict_label(self.verdict)
    }
}

fn request_verdict_label(v: Verdict) -> &'static str {
    if v == Verdict::Passed {
        "ok"
    } else {
        v.as_str()
    }
}

fn request_verdict<S: serde::Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(request_verdict_label(*v))
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub id: String,
    pub title: String,
    pub scenario: String,
    pub account_id: String,
    pub expect: Expect,
    pub verdict: Verdict,
    /// The seed of the case's mock, derived from the run's `--seed` and the case id
    /// ([`crate::settings::case_seed`]): ids differ between cases and repeat between runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Why the case was interrupted or skipped, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    pub findings: Vec<RuleFinding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_rules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientRun>,
    pub requests: Vec<GradedRequest>,
}

impl CaseReport {
    /// Whether a FAILED finding not listed in `--expect` is among this case's: such a case
    /// fails the run; one FAILED only on listed findings keeps its verdict but does not.
    pub fn has_unexpected_failure(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.verdict == Verdict::Failed && !f.expected)
    }

    /// A case that never reached the client, or that was not run.
    pub fn not_run(
        case: &crate::catalogue::Case,
        account_id: String,
        verdict: Verdict,
        reason: String,
    ) -> Self {
        CaseReport {
            id: case.id.clone(),
            title: case.title.clone(),
            scenario: case.scenario.clone(),
            account_id,
            expect: case.expect.clone(),
            verdict,
            seed: None,
            reason: Some(reason),
            duration: Duration::ZERO,
            findings: Vec::new(),
            skipped_rules: Vec::new(),
            client: None,
            requests: Vec::new(),
        }
    }
}

/// Counts per verdict.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    /// Of `failed`, the cases whose every FAILED finding is listed in `--expect`: they keep
    /// their verdict but do not fail the run, and a summary that only said "1 failed" next
    /// to "RESULT PASSED" left readers guessing which.
    pub failed_expected: usize,
    pub warning: usize,
    pub skipped: usize,
    pub interrupted: usize,
}

/// The `--expect` outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExpectSummary {
    pub file: String,
    /// Entries that matched no finding: stale, so they fail the run.
    pub unused: Vec<String>,
    /// Findings that matched an entry.
    pub matched: usize,
}

/// Everything one run found: what the JSON report holds.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Version of this report's layout (conformance/README.md documents it).
    pub schema: u32,
    pub suite: &'static str,
    pub version: &'static str,
    pub client: String,
    pub settings: SettingsReport,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectSummary>,
    /// The run's wall time, from the first case started to the last one graded: with `--jobs`
    /// cases overlap, so this is less than the sum of their durations.
    #[serde(serialize_with = "secs")]
    pub wall_time: Duration,
    pub cases: Vec<CaseReport>,
}

impl RunReport {
    pub fn summarize(cases: &[CaseReport]) -> Summary {
        let mut s = Summary::default();
        for c in cases {
            match c.verdict {
                Verdict::Passed => s.passed += 1,
                Verdict::Failed => {
                    s.failed += 1;
                    let any_failed = c.findings.iter().any(|f| f.verdict == Verdict::Failed);
                    if any_failed && !c.has_unexpected_failure() {
                        s.failed_expected += 1;
                    }
                }
                Verdict::Warning => s.warning += 1,
                Verdict::Skipped => s.skipped += 1,
                Verdict::Interrupted => s.interrupted += 1,
            }
        }
        s
    }

    /// Whether the run passes: nothing unexpected FAILED or was INTERRUPTED, and no stale
    /// `--expect` entry.
    pub fn passed(&self) -> bool {
        let unexpected = self
            .cases
            .iter()
            .any(|c| c.verdict == Verdict::Interrupted || c.has_unexpected_failure());
        !unexpected && self.expect.as_ref().is_none_or(|e| e.unused.is_empty())
    }
}
