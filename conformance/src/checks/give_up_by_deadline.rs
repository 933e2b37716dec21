//! Rule `give-up-by-deadline`: Gives up within its deadline.

use super::common::{over, plural};
use crate::catalogue::ExpectedStatus;
use crate::client::ClientEnd;
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn give_up_by_deadline(t: &Trace) -> Vec<Finding> {
    // A client that sent nothing is client-completes' finding, whatever kept it running.
    if t.case.expect.validation_status != ExpectedStatus::Pending || t.requests.is_empty() {
        return Vec::new();
    }
    let limit = t.settings.deadline + t.settings.deadline_slack;
    if t.client.end == ClientEnd::Killed {
        return vec![Finding::new(
            format!(
                "the client never gave up: it was still running at the case limit, {} after it started (deadline {})",
                fmt_secs(t.client.ended.saturating_sub(t.client.started)),
                fmt_secs(t.settings.deadline)
            ),
            vec![],
        )];
    }
    // Measured from the client's first request, not its process start: interpreter start-up on
    // a loaded machine is not the client's polling.
    let start = t.requests.first().map_or(t.client.started, |r| r.received);
    let late: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| r.received.saturating_sub(start) > limit)
        .collect();
    over(late, |n| {
        format!(
            "{} after the deadline of {} (+{} slack) from the client's first request",
            plural(n, "request came", "requests came"),
            fmt_secs(t.settings.deadline),
            fmt_secs(t.settings.deadline_slack)
        )
    })
}
