//! Rule `one-poll-in-flight`: One poll in flight per validation.
//!
//! A poll is in flight from its arrival until its response was sent or, for one the client
//! abandoned, until the client closed the socket (see [`done_at`]: a close the mock noticed late
//! must not make the client's next poll look concurrent).

use super::common::{done_at, over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn one_poll_in_flight(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in t.validation_ids() {
        let mut polls: Vec<&Request> = t.timeline(id).into_iter().filter(|r| r.is_poll()).collect();
        polls.sort_by_key(|r| r.received);
        let overlapping: Vec<&Request> = polls
            .windows(2)
            .filter(|w| w[1].received < done_at(w[0], t.settings.request_timeout_slack))
            .map(|w| w[1])
            .collect();
        out.extend(over(overlapping, |n| {
            format!(
                "{} sent while an earlier poll of {id} was still unanswered",
                plural(n, "poll was", "polls were")
            )
        }));
    }
    out
}
