//! Rule `create-not-resent-blindly`: an ambiguous create is re-sent at most once after a
//! wait, or reported.
//!
//! When a create got no response or a 5xx other than 503, the validation may exist. The
//! contract (README, "When a create's outcome is unknown") allows two answers and this rule
//! alone grades the choice: re-send once, at least the minimum interval later; or stop and
//! report it (exit code [`EXIT_DELIBERATE_ERROR`], last line with `validation_status`
//! `error`). A re-send at once, or more than one, is flagged; so is a stop that is not reported
//! as the contract says. All are this rule's SHOULD findings, so a client that stops safely
//! never looks worse than one that re-sends at once.

use super::common::{at_least, is_ambiguous_create, plural, stopped_on_ambiguous_create};
use crate::client::{ClientEnd, EXIT_DELIBERATE_ERROR};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn create_not_resent_blindly(t: &Trace) -> Vec<Finding> {
    if let Some(failed) = stopped_on_ambiguous_create(t) {
        return stopped(t, failed);
    }
    let creates: Vec<&Request> = t.requests.iter().filter(|r| r.is_create()).collect();
    let Some(pos) = creates.iter().position(|r| is_ambiguous_create(r)) else {
        return Vec::new();
    };
    let failed = creates[pos];
    let resent = &creates[pos + 1..];
    let mut out = Vec::new();
    if resent.len() > 1 {
        out.push(Finding::new(
            format!(
                "after the ambiguous failure of {} the create was re-sent {} (each may create another validation)",
                failed.label(),
                plural(resent.len(), "time", "times")
            ),
            resent.iter().map(|r| r.seq).collect(),
        ));
    }
    if let Some(next) = resent.first() {
        let gap = next.received.saturating_sub(failed.sent);
        if gap + t.settings.tolerance < t.settings.min_interval {
            out.push(Finding::new(
                format!(
                    "{} re-sent the create only {} after the ambiguous failure of {}; {}",
                    next.label(),
                    fmt_secs(gap),
                    failed.label(),
                    at_least(t.settings.min_interval, t.settings.tolerance)
                ),
                vec![failed.seq, next.seq],
            ));
        }
    }
    out
}

/// The client stopped on the ambiguous create: fine when it said so as the contract asks.
fn stopped(t: &Trace, failed: &Request) -> Vec<Finding> {
    let code = match t.client.end {
        ClientEnd::Exited { code } => code,
        _ => None,
    };
    let status = t
        .client
        .report
        .as_ref()
        .and_then(|r| r.validation_status.as_deref());
    if code == Some(EXIT_DELIBERATE_ERROR) && status == Some("error") {
        return Vec::new();
    }
    let got = format!(
        "it exited with {} and its last line {}",
        code.map_or("a signal".to_string(), |c| format!("code {c}")),
        match (status, &t.client.report_error) {
            (Some(s), _) => format!("had validation_status `{s}`"),
            (None, Some(e)) => format!("was unusable ({e})"),
            (None, None) => "had no validation_status".to_string(),
        }
    );
    vec![Finding::new(
        format!(
            "the client stopped after the ambiguous failure of {} without re-sending the create (safe), but did not report it as the contract says: exit with code {EXIT_DELIBERATE_ERROR} and print {{\"validation_status\": \"error\", \"error\": \"create_outcome_unknown\"}} as the last line; {got}",
            failed.label()
        ),
        vec![failed.seq],
    )]
}
