//! Rule `min-poll-interval`: No poll sooner than the minimum interval.

use std::time::Duration;

use super::common::{at_least, gaps, list, plural, seqs, sequences};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn min_poll_interval(t: &Trace) -> Vec<Finding> {
    let min = t.settings.min_interval;
    // Passes at exactly `min - tolerance`; fails below it.
    let floor = min.saturating_sub(t.settings.tolerance);
    let mut bad: Vec<(&Request, Duration)> = Vec::new();
    for seq in sequences(t) {
        for (_, next, gap) in gaps(&seq) {
            if next.is_poll() && gap < floor {
                bad.push((next, gap));
            }
        }
    }
    if bad.is_empty() {
        return Vec::new();
    }
    let shortest = bad.iter().map(|(_, g)| *g).min().unwrap_or_default();
    let reqs: Vec<&Request> = bad.iter().map(|(r, _)| *r).collect();
    vec![Finding::new(
        format!(
            "{} sooner than {} after the previous response (shortest wait {}; {}): {}",
            plural(reqs.len(), "poll came", "polls came"),
            fmt_secs(min),
            fmt_secs(shortest),
            at_least(min, t.settings.tolerance),
            list(&reqs)
        ),
        seqs(&reqs),
    )]
}
