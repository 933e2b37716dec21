//! Rule `min-poll-interval`: No poll sooner than the minimum interval.
//!
//! The interval runs from the last response the client had to the next poll (see
//! [`gaps`]); a poll sent while another was in flight has no such interval and is left to
//! `one-poll-in-flight`, one sooner than a `Retry-After` to `honour-retry-after`, and a
//! transport retry (one re-send by the HTTP stack after a reset or close with no response, see
//! [`crate::trace::is_transport_retry`]) has no interval at all. When the previous response was
//! the create's, the message says so: the first poll also waits the minimum interval.

use std::time::Duration;

use super::common::{at_least, breaks_retry_after, gaps, list, plural, seqs, sequences};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn min_poll_interval(t: &Trace) -> Vec<Finding> {
    let min = t.settings.min_interval;
    // Passes at exactly `min - tolerance`; fails below it.
    let floor = min.saturating_sub(t.settings.tolerance);
    let mut bad: Vec<(&Request, &Request, Duration)> = Vec::new();
    for seq in sequences(t) {
        for (prev, next, gap) in gaps(&seq, t.settings.request_timeout_slack) {
            // Sooner than a Retry-After is honour-retry-after's finding.
            if next.is_poll()
                && gap < floor
                && !breaks_retry_after(prev, next, gap, t.settings.tolerance)
            {
                bad.push((prev, next, gap));
            }
        }
    }
    if bad.is_empty() {
        return Vec::new();
    }
    let shortest = bad.iter().map(|(_, _, g)| *g).min().unwrap_or_default();
    let after_create = bad
        .iter()
        .find(|(prev, _, _)| prev.is_create())
        .map(|(prev, next, gap)| {
            format!(
                "; #{} came {} after the create's response ({}), and the create counts as the previous response",
                next.seq,
                fmt_secs(*gap),
                prev.label()
            )
        })
        .unwrap_or_default();
    let reqs: Vec<&Request> = bad.iter().map(|(_, r, _)| *r).collect();
    vec![Finding::new(
        format!(
            "{} sooner than {} after the previous response (shortest wait {}; {}{after_create}): {}",
            plural(reqs.len(), "poll came", "polls came"),
            fmt_secs(min),
            fmt_secs(shortest),
            at_least(min, t.settings.tolerance),
            list(&reqs)
        ),
        seqs(&reqs),
    )]
}
