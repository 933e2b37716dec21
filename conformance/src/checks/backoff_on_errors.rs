//! Rule `backoff-on-errors`: Back off on 5xx, resets and timeouts.

use std::time::Duration;

use super::common::{gaps, plural, sequences};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

/// Runs of consecutive failures without a Retry-After, as the waits that followed each.
fn error_runs<'a>(seq: &[&'a Request]) -> Vec<Vec<(&'a Request, &'a Request, Duration)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (prev, next, gap) in gaps(seq) {
        if prev.is_retryable_failure() && prev.retry_after.is_none() {
            cur.push((prev, next, gap));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

pub(super) fn backoff_on_errors(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for seq in sequences(t) {
        for run in error_runs(&seq) {
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            // A wait held constant still varies by a few milliseconds of scheduling, so
            // "grew" means by a clear margin: the last wait at least a quarter longer than
            // the first. (Comparing them exactly made a fixed-wait client pass about half
            // the time.) Any real back-off (doubling, even with jitter) clears it easily.
            if run.len() >= 2 && last.2 < first.2 + first.2 / 4 {
                let waits: Vec<String> = run.iter().map(|(_, _, g)| fmt_secs(*g)).collect();
                out.push(Finding::new(
                    format!(
                        "after {} in a row the waits did not grow ({}), from {} on",
                        plural(run.len(), "error", "errors"),
                        waits.join(", "),
                        first.0.label()
                    ),
                    run.iter().map(|(_, n, _)| n.seq).collect(),
                ));
            }
        }
    }
    out
}
