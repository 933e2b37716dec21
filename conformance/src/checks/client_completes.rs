//! Rule `client-completes`: The client runs to its own conclusion.
//!
//! It also owns the client that sent nothing at all (it crashed or exited before its first
//! request): that FAILS here in every case, and the rules about requests stay quiet.

use super::common::{stopped_on_ambiguous_create, stopped_on_rejection};
use crate::catalogue::ExpectedStatus;
use crate::check_id::CheckId;
use crate::client::ClientEnd;
use crate::trace::{Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn client_completes(t: &Trace) -> Vec<Finding> {
    let c = &t.client;
    let stderr = if c.stderr_tail.is_empty() {
        String::new()
    } else {
        format!(
            "; its stderr ends with: {}",
            c.stderr_tail.lines().last().unwrap_or("")
        )
    };
    let how = match &c.end {
        ClientEnd::Unreachable { .. } => return Vec::new(),
        ClientEnd::Killed => format!(
            "was killed at the start-up allowance ({} without a request; --startup-limit)",
            fmt_secs(t.settings.startup_limit)
        ),
        ClientEnd::Exited { code: Some(code) } => format!("exited with code {code}"),
        ClientEnd::Exited { code: None } => "was ended by a signal".to_string(),
    };
    if t.requests.is_empty() {
        return vec![Finding::new(
            format!(
                "the client sent no request at all (no create, no poll) and {how}{stderr}; it must create a validation at TRUORA_API_BASE_URL"
            ),
            vec![],
        )];
    }
    match &c.end {
        // A client killed while waiting on a stall, or polling past its deadline, is the more
        // specific rule's finding.
        ClientEnd::Killed => vec![
            Finding::new(
                format!(
                    "the client was still running {} after its first request (the case limit, --case-limit) and was killed",
                    fmt_secs(t.settings.case_limit)
                ),
                vec![],
            )
            .unless(CheckId::AbortStalledRequest)
            .unless(CheckId::GiveUpByDeadline),
        ],
        ClientEnd::Exited { .. } if t.case.expect.validation_status == ExpectedStatus::Error => {
            Vec::new()
        }
        ClientEnd::Exited { .. } if stopped_on_rejection(t).is_some() => Vec::new(),
        // Stopping on a create whose outcome is unknown is create-not-resent-blindly's to grade.
        ClientEnd::Exited { .. } if stopped_on_ambiguous_create(t).is_some() => Vec::new(),
        ClientEnd::Exited { code } if *code != Some(0) => {
            let code = code.map_or("a signal".to_string(), |c| format!("code {c}"));
            vec![Finding::new(
                format!("the client exited with {code} instead of 0{stderr}"),
                vec![],
            )]
        }
        ClientEnd::Exited { .. } => match (&c.report, &c.report_error) {
            (_, Some(e)) => vec![Finding::new(e.clone(), vec![])],
            (Some(r), None) if r.validation_id.is_none() || r.validation_status.is_none() => {
                vec![Finding::new(
                    "the result line lacks `validation_id` or `validation_status`",
                    vec![],
                )]
            }
            _ => Vec::new(),
        },
        ClientEnd::Unreachable { .. } => Vec::new(),
    }
}
