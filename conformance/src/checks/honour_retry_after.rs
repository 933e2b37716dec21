//! Rule `honour-retry-after`: No request sooner than a Retry-After.

use super::common::{at_least, breaks_retry_after, gaps, paced_sequences};
use crate::trace::{Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn honour_retry_after(t: &Trace) -> Vec<Finding> {
    let tol = t.settings.tolerance;
    let mut out = Vec::new();
    for seq in paced_sequences(t) {
        for (prev, next, gap) in gaps(&seq, t.settings.request_timeout_slack) {
            let Some(ra) = prev.retry_after else { continue };
            if breaks_retry_after(prev, next, gap, tol) {
                out.push(Finding::new(
                    format!(
                        "{} came {} after a {} with Retry-After: {} ({}); {}",
                        next.label(),
                        fmt_secs(gap),
                        prev.status,
                        ra.as_secs(),
                        prev.label(),
                        at_least(ra, tol)
                    ),
                    vec![prev.seq, next.seq],
                ));
            }
        }
    }
    out
}
