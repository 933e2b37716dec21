//! Rule `jitter`: Waits are jittered.

use std::time::Duration;

use super::common::{gaps, sequences};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

/// A wait at most this much past a multiple of half a second counts as "on the grid": an
/// unjittered client's waits land just past the grid point, by its own request overhead.
const GRID_OVERSHOOT: Duration = Duration::from_millis(80);
/// Fewer unhinted waits than this are not enough to judge.
const JITTER_MIN_WAITS: usize = 3;

/// Whether `d` lies at most [`GRID_OVERSHOOT`] past a multiple of 0.5 s.
pub fn on_half_second_grid(d: Duration) -> bool {
    (d.as_millis() % 500) as u64 <= GRID_OVERSHOOT.as_millis() as u64
}

pub(super) fn jitter(t: &Trace) -> Vec<Finding> {
    let mut waits: Vec<(&Request, Duration)> = Vec::new();
    for seq in sequences(t) {
        for (prev, next, gap) in gaps(&seq) {
            if prev.retry_after.is_none() && gap >= Duration::from_millis(400) {
                waits.push((next, gap));
            }
        }
    }
    if waits.len() < JITTER_MIN_WAITS || !waits.iter().all(|(_, g)| on_half_second_grid(*g)) {
        return Vec::new();
    }
    let shown: Vec<String> = waits.iter().map(|(_, g)| fmt_secs(*g)).collect();
    vec![Finding::new(
        format!(
            "every wait without a server hint was a whole or half second ({}): clients started together would poll in lockstep",
            shown.join(", ")
        ),
        waits.iter().map(|(r, _)| r.seq).collect(),
    )]
}
