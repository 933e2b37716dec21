//! Rule `jitter`: Waits are jittered.
//!
//! A heuristic over the waits the client chose itself (those after a response without a
//! Retry-After). It must give a client the same verdict on every run, whatever the machine's
//! load and whatever its jitter happened to draw, so it only flags what a jittered client
//! cannot plausibly produce and judges only with enough waits:
//!
//! * **On the grid.** Every wait lies within [`GRID_EARLY`] before to [`GRID_LATE`] past a
//!   multiple of 0.5 s. The gap is measured from the previous response's `sent` to the next
//!   request's arrival, so it is the client's wait plus its own overhead (timer, connect): a
//!   few ms to tens of ms, one-sided. The suite's 250 ms poll delay is *not* in it.
//!   The window is narrower than the ×1.1–1.3 jitter the catalogue recommends: a jittered
//!   wait of nominal 1 s (1.1–1.3 s, plus less than 180 ms of overhead) never lands on it.
//! * **A deterministic pattern.** The waits, rounded to the grid, never shrink and each one
//!   repeats the previous or doubles it (or is the step from 16 s to 30 s of Truora's SDK).
//!   A random draw that lands on the grid lands on an arbitrary grid point, which rarely
//!   fits: this keeps full jitter from being flagged by chance (measured: 0.24 % of runs of
//!   4 waits, 0.02 % of 5; ×1.1–1.3 jitter on a fixed 2 s wait, 5 waits: 0.18 %).
//! * **Enough waits.** At least [`JITTER_MIN_WAITS`] (5): with 4, full jitter was flagged in
//!   0.24 % of runs, often enough to flip a polite client's verdict now and then across a
//!   team's CI runs; with 5, 0.02 %. A run of waits at the minimum
//!   interval (nominal 1 s) needs [`JITTER_MIN_WAITS_AT_FLOOR`] (8): that is also what full
//!   jitter with a 1 s floor produces whenever its draws fall below the floor, which they
//!   often do early in a back-off, never eight times running.
//!
//! Truora's own SDK polls after 1, 2, 4, 8, 16 s and then every 30 s, without jitter: when the
//! flagged waits are that schedule, the message says so (a WARNING, not a defect of the
//! integration). With the suite's 13 s give-up deadline that schedule makes 3 waits (1, 2,
//! 4 s), too few to judge, so it is never flagged by the default settings (it needs a
//! deadline of 32 s or more, for waits of 1, 2, 4, 8 and 16 s).

use std::time::Duration;

use super::common::{gaps, sequences};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

/// The grid's step: waits on it are whole or half seconds.
const GRID: Duration = Duration::from_millis(500);
/// How far before a grid point a wait still counts as on it (a coarse timer firing early).
pub const GRID_EARLY: Duration = Duration::from_millis(20);
/// How far past a grid point a wait still counts as on it: the client's own overhead. Below
/// 100 ms, so that ×1.1 jitter on a 1 s wait (1.1 s) is never on it.
pub const GRID_LATE: Duration = Duration::from_millis(90);
/// Fewer unhinted waits than this are not enough to judge.
pub const JITTER_MIN_WAITS: usize = 5;
/// Waits all at the minimum interval (nominal 1 s) need this many to be judged.
pub const JITTER_MIN_WAITS_AT_FLOOR: usize = 8;
/// Truora's SDK: the waits before its 1st, 2nd, … poll (ms); the last one repeats.
pub const TRUORA_SDK_SCHEDULE_MS: [u64; 6] = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/// The grid point (a multiple of 0.5 s, in ms) that `d` lies on, if it lies within
/// [`GRID_EARLY`] before to [`GRID_LATE`] past one.
pub fn grid_point(d: Duration) -> Option<u64> {
    let ms = d.as_millis() as u64;
    let step = GRID.as_millis() as u64;
    let below = ms / step * step;
    let above = below + step;
    if ms - below <= GRID_LATE.as_millis() as u64 && below > 0 {
        Some(below)
    } else if above - ms <= GRID_EARLY.as_millis() as u64 {
        Some(above)
    } else {
        None
    }
}

/// Whether `d` lies on the half-second grid (see [`grid_point`]).
pub fn on_half_second_grid(d: Duration) -> bool {
    grid_point(d).is_some()
}

/// Whether nominal waits (ms) follow Truora's SDK schedule: each one of its waits, each the
/// one after the previous (1, 2, 4, 8, 16 s, then 30 s again and again), from any of them.
pub fn is_truora_schedule(nominal: &[u64]) -> bool {
    let step = |n: u64| TRUORA_SDK_SCHEDULE_MS.iter().position(|s| *s == n);
    let last = TRUORA_SDK_SCHEDULE_MS.len() - 1;
    nominal.iter().all(|n| step(*n).is_some())
        && nominal.windows(2).all(|w| match (step(w[0]), step(w[1])) {
            (Some(a), Some(b)) => b == (a + 1).min(last),
            _ => false,
        })
}

/// What [`unjittered`] found: the waits' grid points (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjittered {
    pub nominal: Vec<u64>,
}

impl Unjittered {
    /// Whether the waits are Truora's own SDK schedule.
    pub fn is_truora_schedule(&self) -> bool {
        is_truora_schedule(&self.nominal)
    }
}

/// The heuristic itself, over a client's unhinted waits in order: `Some` when they look
/// unjittered (see the module's doc), `None` when they do not or are too few to judge.
pub fn unjittered(waits: &[Duration]) -> Option<Unjittered> {
    if waits.len() < JITTER_MIN_WAITS {
        return None;
    }
    let nominal: Vec<u64> = waits
        .iter()
        .map(|w| grid_point(*w))
        .collect::<Option<_>>()?;
    let pattern = nominal
        .windows(2)
        .all(|w| w[1] == w[0] || w[1] == 2 * w[0] || (w[0] == 16_000 && w[1] == 30_000));
    if !pattern {
        return None;
    }
    if nominal.iter().all(|n| *n == 1_000) && waits.len() < JITTER_MIN_WAITS_AT_FLOOR {
        return None;
    }
    Some(Unjittered { nominal })
}

pub(super) fn jitter(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for seq in sequences(t) {
        let waits: Vec<(&Request, Duration)> = gaps(&seq, t.settings.request_timeout_slack)
            .into_iter()
            .filter(|(prev, _, gap)| {
                prev.retry_after.is_none() && *gap >= Duration::from_millis(400)
            })
            .map(|(_, next, gap)| (next, gap))
            .collect();
        let durations: Vec<Duration> = waits.iter().map(|(_, g)| *g).collect();
        let Some(found) = unjittered(&durations) else {
            continue;
        };
        let shown: Vec<String> = durations.iter().map(|g| fmt_secs(*g)).collect();
        let mut message = format!(
            "all {} waits without a server hint were within {} ms before to {} ms past a whole or half second, repeating or doubling ({}): clients started together would poll in lockstep",
            waits.len(),
            GRID_EARLY.as_millis(),
            GRID_LATE.as_millis(),
            shown.join(", ")
        );
        if found.is_truora_schedule() {
            message.push_str(
                "; this is the schedule of Truora's own SDK, which polls after 1, 2, 4, 8, 16 s and then every 30 s without jitter, so it is a WARNING, not a defect of the integration",
            );
        }
        out.push(Finding::new(
            message,
            waits.iter().map(|(r, _)| r.seq).collect(),
        ));
    }
    out
}
