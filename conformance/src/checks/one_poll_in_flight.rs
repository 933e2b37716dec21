//! Rule `one-poll-in-flight`: One poll in flight per validation.

use super::common::{over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn one_poll_in_flight(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in t.validation_ids() {
        let mut polls: Vec<&Request> = t.timeline(id).into_iter().filter(|r| r.is_poll()).collect();
        polls.sort_by_key(|r| r.received);
        let overlapping: Vec<&Request> = polls
            .windows(2)
            .filter(|w| w[1].received < w[0].sent)
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
