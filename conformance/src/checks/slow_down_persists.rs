//! Rule `slow-down-persists`: A slow-down lasts for the rest of the polling.

use std::time::Duration;

use super::common::{at_least, gaps, sequences};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn slow_down_persists(t: &Trace) -> Vec<Finding> {
    let tol = t.settings.tolerance;
    let mut out = Vec::new();
    for seq in sequences(t) {
        let mut floor: Option<(Duration, &Request)> = None;
        for (prev, next, gap) in gaps(&seq, t.settings.request_timeout_slack) {
            // The wait right after any response with a Retry-After is honour-retry-after's (a
            // second 429 repeats the signal); this rule is about the waits after later answers.
            if let Some((ra, signal)) = floor
                && prev.retry_after.is_none()
                && gap + tol < ra
            {
                out.push(Finding::new(
                    format!(
                        "{} came {} after the previous response, but {} asked for at least {}; {}",
                        next.label(),
                        fmt_secs(gap),
                        signal.label(),
                        fmt_secs(ra),
                        at_least(ra, tol)
                    ),
                    vec![signal.seq, next.seq],
                ));
                break;
            }
            if let Some(ra) = prev.retry_after
                && floor.is_none_or(|(f, _)| ra > f)
            {
                floor = Some((ra, prev));
            }
        }
    }
    out
}
