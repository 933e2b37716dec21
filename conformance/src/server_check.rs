//! `conformance server`: checks a TruIdentidad server's answers (status codes, the error
//! envelope, field formats, the pending → terminal state machine) with the same rules an
//! integrator relies on, so the mock's fidelity is graded the way the real sandbox would be.
//! The checks themselves live one per file under `checks/server/`; this module runs them and
//! writes the report.

use serde::Serialize;

use crate::checks::server::run_checks;
pub use crate::checks::server::{
    ServerCheck, ServerCheckId, ServerPlan, check_envelope, check_validation_body, is_truora_date,
    is_validation_id,
};
use crate::server_facts::{FACTS, Fact};
use crate::verdict::Verdict;

/// Runs every check against `plan.base_url` (see [`crate::checks::server`]).
pub async fn run(plan: &ServerPlan) -> ServerReport {
    ServerReport {
        base_url: plan.base_url.clone(),
        checks: run_checks(plan).await,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub base_url: String,
    pub checks: Vec<ServerCheck>,
}

impl ServerReport {
    pub fn passed(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Failed | Verdict::Interrupted))
    }

    /// Facts covered by a check that ran (passed or failed), and those no check reached.
    pub fn coverage(&self) -> (Vec<&'static Fact>, Vec<&'static Fact>) {
        FACTS.iter().partition(|f| {
            self.checks
                .iter()
                .any(|c| c.verdict != Verdict::Skipped && c.covers.contains(&f.id))
        })
    }

    pub fn render(&self) -> String {
        let mut s = format!("TruIdentidad server conformance: {}\n\n", self.base_url);
        for c in &self.checks {
            s.push_str(&format!(
                "  {:11}  {:28}  {}\n",
                c.verdict.as_str(),
                c.id,
                c.detail
            ));
        }
        let (covered, missed) = self.coverage();
        s.push_str("\nFacts (docs/fidelity.md):\n");
        for f in FACTS {
            let by: Vec<&str> = self
                .checks
                .iter()
                .filter(|c| c.verdict != Verdict::Skipped && c.covers.contains(&f.id))
                .map(|c| c.id)
                .collect();
            let by = if by.is_empty() {
                "NOT COVERED".to_string()
            } else {
                by.join(", ")
            };
            s.push_str(&format!("  {:20}  {:13}  {}\n", f.id.as_str(), f.tag, by));
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.verdict == Verdict::Failed)
            .count();
        let ran = self
            .checks
            .iter()
            .filter(|c| c.verdict != Verdict::Skipped)
            .count();
        s.push_str(&format!(
            "\n{}: {} checks ({} ran, {} failed), {} of {} facts covered{}\n",
            if self.passed() {
                "RESULT PASSED"
            } else {
                "RESULT FAILED"
            },
            self.checks.len(),
            ran,
            failed,
            covered.len(),
            FACTS.len(),
            if missed.is_empty() {
                String::new()
            } else {
                format!(
                    " (not covered: {})",
                    missed
                        .iter()
                        .map(|f| f.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
        s
    }
}
