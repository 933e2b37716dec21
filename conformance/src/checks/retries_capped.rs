//! Rule `retries-capped`: Retries are capped.
//!
//! Counts failed attempts in a row. A transport retry ([`Request::transport_retry`]) is the
//! HTTP stack repeating the attempt before it, so it is not another attempt: when it fails
//! too, the run does not grow, and when it succeeds, the run ends.

use super::common::{paced_sequences, seqs};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn retries_capped(t: &Trace) -> Vec<Finding> {
    let cap = t.settings.max_retries as usize + 1;
    let mut out = Vec::new();
    for seq in paced_sequences(t) {
        let mut run: Vec<&Request> = Vec::new();
        let mut worst: Vec<&Request> = Vec::new();
        for r in &seq {
            if r.transport_retry && r.is_retryable_failure() {
                continue;
            }
            if r.is_retryable_failure() {
                run.push(r);
                if run.len() > worst.len() {
                    worst = run.clone();
                }
            } else {
                run.clear();
            }
        }
        if worst.len() > cap {
            out.push(Finding::new(
                format!(
                    "{} failed requests in a row (at most {} allowed: 1 + --max-retries {}), from {} to {}",
                    worst.len(),
                    cap,
                    t.settings.max_retries,
                    worst[0].label(),
                    worst[worst.len() - 1].label()
                ),
                seqs(&worst),
            ));
        }
    }
    out
}
