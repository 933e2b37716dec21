//! API requests per second over the last few minutes: what the dashboard charts live while a
//! fleet load test runs, so a team sees its pollers' waves and the throttling they meet as
//! they happen.
//!
//! Counted apart from the journal, which a load test may turn off or fill: a fixed ring of
//! per-second slots of atomic counters, one slot per second of the server's clock (by the
//! request's arrival), so recording costs two relaxed atomic adds and no lock on the request
//! path. When a slot is reused for a new second, the increments that race with its reset can
//! be lost; the chart is a live view, and the exact figures come from the journal.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Seconds kept: more than any chart shows.
pub const WINDOW_SECONDS: usize = 300;

#[derive(Debug)]
pub struct Traffic {
    slots: Box<[Slot]>,
}

#[derive(Debug, Default)]
struct Slot {
    /// The second this slot counts, plus one (0: never used).
    tag: AtomicU64,
    requests: AtomicU32,
    throttled: AtomicU32,
    server_errors: AtomicU32,
}

/// One second of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Second {
    /// Whole seconds of the server's clock (as the journal's `received`).
    pub t: u64,
    /// API requests (creates and polls) that arrived in it.
    pub requests: u32,
    /// Of those, answered 429.
    pub throttled: u32,
    /// Of those, answered 5xx or not answered (a dropped connection).
    pub server_errors: u32,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            slots: (0..WINDOW_SECONDS).map(|_| Slot::default()).collect(),
        }
    }
}

impl Traffic {
    /// Counts one API request that arrived at `at` and was answered `status` (0: none).
    pub fn record(&self, at: Duration, status: u16) {
        let second = at.as_secs();
        let slot = &self.slots[(second % WINDOW_SECONDS as u64) as usize];
        let tag = second + 1;
        let current = slot.tag.load(Ordering::Relaxed);
        if current != tag {
            if current > tag {
                // A request that took longer than the window to answer: its second is gone.
                return;
            }
            if slot
                .tag
                .compare_exchange(current, tag, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                slot.requests.store(0, Ordering::Relaxed);
                slot.throttled.store(0, Ordering::Relaxed);
                slot.server_errors.store(0, Ordering::Relaxed);
            }
        }
        slot.requests.fetch_add(1, Ordering::Relaxed);
        match status {
            429 => {
                slot.throttled.fetch_add(1, Ordering::Relaxed);
            }
            0 | 500.. => {
                slot.server_errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// The last `seconds` whole seconds before `now` (the second in progress left out, as it
    /// is not over), oldest first, with empty seconds as zeros.
    pub fn series(&self, now: Duration, seconds: usize) -> Vec<Second> {
        let seconds = seconds.min(WINDOW_SECONDS - 1) as u64;
        let end = now.as_secs();
        (end.saturating_sub(seconds)..end)
            .map(|t| {
                let slot = &self.slots[(t % WINDOW_SECONDS as u64) as usize];
                if slot.tag.load(Ordering::Acquire) != t + 1 {
                    return Second {
                        t,
                        requests: 0,
                        throttled: 0,
                        server_errors: 0,
                    };
                }
                Second {
                    t,
                    requests: slot.requests.load(Ordering::Relaxed),
                    throttled: slot.throttled.load(Ordering::Relaxed),
                    server_errors: slot.server_errors.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Forgets everything (`POST /_mock/reset`).
    pub fn clear(&self) {
        for slot in self.slots.iter() {
            slot.tag.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn counts_each_second_and_what_was_refused() {
        let t = Traffic::default();
        t.record(at(1_000), 200);
        t.record(at(1_999), 429);
        t.record(at(2_500), 503);
        t.record(at(2_600), 0);
        let s = t.series(at(4_200), 4);
        let counts: Vec<(u64, u32, u32, u32)> = s
            .iter()
            .map(|s| (s.t, s.requests, s.throttled, s.server_errors))
            .collect();
        assert_eq!(
            counts,
            vec![(0, 0, 0, 0), (1, 2, 1, 0), (2, 2, 0, 2), (3, 0, 0, 0)]
        );
    }

    #[test]
    fn a_reused_slot_starts_from_zero_and_old_seconds_do_not_leak() {
        let t = Traffic::default();
        t.record(at(5_000), 200);
        let later = at((5 + WINDOW_SECONDS as u64) * 1000);
        t.record(later, 200);
        // Second 5 was overwritten by second 305; a late request for second 5 is dropped.
        t.record(at(5_100), 200);
        let s = t.series(later + at(1_000), 1);
        assert_eq!(s[0].requests, 1);
        assert_eq!(t.series(at(6_000), 1)[0].requests, 0);
    }

    proptest! {
        /// Within the window, every request is counted exactly once, in its own second.
        #[test]
        fn series_adds_up_to_what_was_recorded(arrivals in proptest::collection::vec(0u64..120_000, 0..300)) {
            let t = Traffic::default();
            for &ms in &arrivals {
                t.record(at(ms), 200);
            }
            let s = t.series(at(121_000), 121);
            prop_assert_eq!(s.iter().map(|s| s.requests as usize).sum::<usize>(), arrivals.len());
            for second in &s {
                let expected = arrivals.iter().filter(|&&ms| ms / 1000 == second.t).count();
                prop_assert_eq!(second.requests as usize, expected);
            }
        }
    }
}
