//! Rule `backoff-on-errors`: Back off on 5xx, resets and timeouts.
//!
//! A heuristic over each run of consecutive retryable failures without a Retry-After, as the
//! waits that followed them. It must give a client the same verdict on every run, so:
//!
//! * **Enough waits.** A run is judged only with at least [`BACKOFF_MIN_WAITS`] (7) waits,
//!   i.e. 7 failures in a row each followed by a retry. That is already past `retries-capped`
//!   (at most 6 retries by default), so the heuristic only ever judges a client that keeps
//!   retrying, and that is where the evidence is: one that does not back off makes many
//!   retries in a case's time (a fixed 1 s wait: about 9 in `outage`'s 13 s), one that does
//!   makes few (doubling from 1 s: 3 waits take 7 s). With fewer waits, full jitter
//!   (wait = random(0, base·2ⁿ), floored at 1 s) too often draws only short waits to tell it
//!   from no back-off: 1 % of runs of 5 waits, 0.15 % of 6, 0.003 % of 7.
//! * **Growth, robustly.** The run grew when its longest wait in the later half is at least
//!   [`BACKOFF_GROWTH`] (1.25) times its shortest wait in the earlier half, plus
//!   [`BACKOFF_LOAD_MARGIN`] (0.5 s). Comparing extremes of halves, not the last wait to the
//!   first, lets full jitter's last draw be short. The shortest earlier wait is what the
//!   client chose (a loaded machine only ever lengthens a wait); the margin covers one wait
//!   stretched by load (in a reference run on a loaded machine, one wait of a client that
//!   always waits 1.1 s came out past 1.375 s, which alone made it "grow" by 25 %); 1.25 is above what ×1.1–1.3 jitter of a
//!   constant wait reaches (1.3/1.1 ≈ 1.18). So a wait held constant is flagged with or
//!   without jitter, even with every wait stretched by up to 0.5 s, and any doubling passes
//!   by far. The price: full jitter floored at 1 s is flagged when every draw of the later
//!   half stayed under 1.75 s (see the figures above).

use std::time::Duration;

use super::common::{gaps, plural, sequences};
use super::jitter::{TRUORA_SDK_SCHEDULE_MS, grid_point};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

/// Fewer waits than this in a run of errors are not enough to judge.
pub const BACKOFF_MIN_WAITS: usize = 7;
/// The later half's longest wait must be at least this times the earlier half's shortest…
pub const BACKOFF_GROWTH: f64 = 1.25;
/// … plus this: how much load may stretch one wait.
pub const BACKOFF_LOAD_MARGIN: Duration = Duration::from_millis(500);

/// The heuristic itself, over the waits after consecutive errors in order: `None` when too
/// few to judge, else whether they grew (see the module's doc).
pub fn backoff_grew(waits: &[Duration]) -> Option<bool> {
    if waits.len() < BACKOFF_MIN_WAITS {
        return None;
    }
    let (earlier, later) = waits.split_at(waits.len() / 2);
    let shortest = earlier.iter().min()?;
    let longest = later.iter().max()?;
    Some(*longest >= shortest.mul_f64(BACKOFF_GROWTH) + BACKOFF_LOAD_MARGIN)
}

/// Runs of consecutive failures without a Retry-After, as the waits that followed each.
fn error_runs<'a>(
    seq: &[&'a Request],
    close_slack: Duration,
) -> Vec<Vec<(&'a Request, &'a Request, Duration)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (prev, next, gap) in gaps(seq, close_slack) {
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
        for run in error_runs(&seq, t.settings.request_timeout_slack) {
            let waits: Vec<Duration> = run.iter().map(|(_, _, g)| *g).collect();
            let (Some(false), Some(first)) = (backoff_grew(&waits), run.first()) else {
                continue;
            };
            let shown: Vec<String> = waits.iter().map(|g| fmt_secs(*g)).collect();
            let mut message = format!(
                "after {} in a row the waits did not grow ({}), from {} on: the longest wait of the later half is under {}× the shortest of the earlier half + {}",
                plural(run.len(), "error", "errors"),
                shown.join(", "),
                first.0.label(),
                BACKOFF_GROWTH,
                fmt_secs(BACKOFF_LOAD_MARGIN)
            );
            // Truora's SDK ends on a fixed 30 s wait, whatever the answer.
            let steady = TRUORA_SDK_SCHEDULE_MS[TRUORA_SDK_SCHEDULE_MS.len() - 1];
            if waits.iter().all(|w| grid_point(*w) == Some(steady)) {
                message.push_str(
                    "; Truora's own SDK does the same (after 16 s it polls every 30 s, whatever the answer), so it is a WARNING, not a defect of the integration",
                );
            }
            out.push(Finding::new(
                message,
                run.iter().map(|(_, n, _)| n.seq).collect(),
            ));
        }
    }
    out
}
