//! Rule `give-up-by-deadline`: Gives up within its deadline.

use super::common::{at_most, over, plural};
use crate::catalogue::ExpectedStatus;
use crate::client::ClientEnd;
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn give_up_by_deadline(t: &Trace) -> Vec<Finding> {
    // A client that sent nothing is client-completes' finding, whatever kept it running.
    if t.case.expect.validation_status != ExpectedStatus::Pending || t.requests.is_empty() {
        return Vec::new();
    }
    let deadline = t.deadline();
    let slack = t.settings.deadline_slack;
    if t.client.end == ClientEnd::Killed {
        return vec![Finding::new(
            format!(
                "the client never gave up: it was still running at the case limit, {} after its first request (deadline {})",
                fmt_secs(t.settings.case_limit),
                fmt_secs(deadline)
            ),
            vec![],
        )];
    }
    // Measured from the client's first request, not its process start: interpreter start-up on
    // a loaded machine is not the client's polling.
    let start = t.requests.first().map_or(t.client.started, |r| r.received);
    // Passes at exactly `deadline + slack` after the first request; fails past it.
    let late: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| r.received.saturating_sub(start) > deadline + slack)
        .collect();
    let latest = late
        .iter()
        .map(|r| r.received.saturating_sub(start))
        .max()
        .unwrap_or_default();
    over(late, |n| {
        format!(
            "{} past the deadline, the last {} after the client's first request ({})",
            plural(n, "request came", "requests came"),
            fmt_secs(latest),
            at_most(deadline, slack)
        )
    })
}
