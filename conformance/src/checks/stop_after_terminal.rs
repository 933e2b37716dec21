//! Rule `stop-after-terminal`: Polling stops once success or failure is returned.

use super::common::list;
use crate::evidence::after_terminal;
use crate::trace::{Seen, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn stop_after_terminal(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in t.validation_ids() {
        // Only requests sent after the client could have read the terminal response count: one
        // already in flight when it was sent is `one-poll-in-flight`'s business.
        let Some((end, after)) = after_terminal(&t.timeline(id)) else {
            continue;
        };
        if let (
            Some(first),
            Seen::Terminal {
                validation_status, ..
            },
        ) = (after.first(), &end.seen)
        {
            out.push(Finding::new(
                format!(
                    "{} more {} after {} returned {validation_status}; the first came {} later: {}",
                    after.len(),
                    if after.len() == 1 {
                        "request"
                    } else {
                        "requests"
                    },
                    end.label(),
                    fmt_secs(first.received.saturating_sub(end.sent)),
                    list(&after)
                ),
                std::iter::once(end.seq)
                    .chain(after.iter().map(|r| r.seq))
                    .collect(),
            ));
        }
    }
    out
}
