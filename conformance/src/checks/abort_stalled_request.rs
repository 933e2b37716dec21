//! Rule `abort-stalled-request`: A stalled request is abandoned.

use truidentidad_scenarios::model::{ConnectionFault, FaultAction};

use super::common::at_most;
use crate::client::ClientEnd;
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

fn stalls(t: &Trace) -> bool {
    t.scenario
        .faults
        .iter()
        .any(|f| matches!(f.action, FaultAction::Connection(ConnectionFault::Stall(_))))
}

pub(super) fn abort_stalled_request(t: &Trace) -> Vec<Finding> {
    // A client that sent nothing never met the stall: client-completes reports it.
    if !stalls(t) || t.requests.is_empty() {
        return Vec::new();
    }
    let polled = t.requests.iter().any(|r| r.is_poll());
    if t.client.end == ClientEnd::Killed {
        // One message whether or not the stalled poll made it into the journal: it is
        // journaled when the killed client's socket closes, which may come after the trace.
        return vec![Finding::new(
            format!(
                "the client was killed at the case limit while waiting on a request the mock never answered; give every request a timeout of at most {}",
                fmt_secs(t.settings.request_timeout_limit)
            ),
            vec![],
        )];
    }
    if !polled {
        return vec![Finding::new(
            "after the stalled poll the client never polled again (the stall is not in the journal: the mock is still holding it)",
            vec![],
        )];
    }
    // The mock journals a request the client abandoned when the client closes the socket, so
    // `sent - received` is how long the client waited before giving up, plus the close and the
    // scheduling on both sides: the slack covers those, so a client whose timeout is exactly
    // the limit passes.
    let limit = t.settings.request_timeout_limit;
    let slack = t.settings.request_timeout_slack;
    let slow: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| r.fault.is_stall() && r.sent.saturating_sub(r.received) > limit + slack)
        .collect();
    slow.iter()
        .map(|r| {
            Finding::new(
                format!(
                    "{} waited {} for a stalled response before giving up; {}",
                    r.label(),
                    fmt_secs(r.sent.saturating_sub(r.received)),
                    at_most(limit, slack)
                ),
                vec![r.seq],
            )
        })
        .collect()
}
