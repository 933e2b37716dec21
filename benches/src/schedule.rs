//! The open-model arrival schedule: *when* each validation is meant to start.
//!
//! Arrivals are computed, not paced: the `n`-th validation's intended start is the instant at
//! which the integral of the rate reaches `n`. Latency is then measured from that intended
//! instant, so a slow target or a busy client cannot hide queueing (coordinated omission), and
//! the schedule can be checked without any clock at all.

use std::time::Duration;

use crate::spec::Stage;

/// Piecewise-linear arrival rate over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    start_rate: f64,
    stages: Vec<Stage>,
}

impl Schedule {
    /// A constant `rate` per second for `duration`.
    pub fn constant(rate: f64, duration: Duration) -> Self {
        Schedule {
            start_rate: rate,
            stages: vec![Stage {
                duration,
                target: rate,
            }],
        }
    }

    /// Ramps linearly from `start_rate` through each stage's target.
    pub fn ramp(start_rate: f64, stages: Vec<Stage>) -> Self {
        Schedule { start_rate, stages }
    }

    pub fn total_duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// Arrivals the whole schedule holds (the integral of the rate, rounded up).
    pub fn expected_arrivals(&self) -> u64 {
        let mut r0 = self.start_rate;
        let mut total = 0.0;
        for s in &self.stages {
            total += (r0 + s.target) / 2.0 * s.duration.as_secs_f64();
            r0 = s.target;
        }
        total.ceil() as u64
    }

    /// Mean of the rate over the whole schedule, per second.
    pub fn mean_rate(&self) -> f64 {
        let d = self.total_duration().as_secs_f64();
        if d > 0.0 {
            self.expected_arrivals() as f64 / d
        } else {
            0.0
        }
    }

    /// The offset from the start of the run at which arrival `n` (from 0) is due, or `None`
    /// once the schedule has no more arrivals.
    pub fn arrival_offset(&self, n: u64) -> Option<Duration> {
        let target = n as f64;
        let mut r0 = self.start_rate;
        let mut c0 = 0.0; // arrivals before this stage
        let mut t0 = 0.0; // start of this stage, seconds
        for s in &self.stages {
            let len = s.duration.as_secs_f64();
            let area = (r0 + s.target) / 2.0 * len;
            if target < c0 + area {
                // Solve a·t² + r0·t = Δ with a = (r1 - r0) / 2T, in the cancellation-free form.
                let delta = target - c0;
                let a = (s.target - r0) / (2.0 * len);
                let t = if delta <= 0.0 {
                    0.0
                } else {
                    let disc = (r0 * r0 + 4.0 * a * delta).max(0.0);
                    2.0 * delta / (r0 + disc.sqrt())
                };
                return Some(Duration::from_secs_f64(t0 + t.clamp(0.0, len)));
            }
            c0 += area;
            t0 += len;
            r0 = s.target;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn count(s: &Schedule) -> u64 {
        (0..).take_while(|n| s.arrival_offset(*n).is_some()).count() as u64
    }

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let s = Schedule::constant(200.0, Duration::from_secs(30));
        assert_eq!(count(&s), 6000);
        assert_eq!(s.expected_arrivals(), 6000);
        assert_eq!(s.arrival_offset(0), Some(Duration::ZERO));
        assert_eq!(s.arrival_offset(200), Some(Duration::from_secs(1)));
        assert_eq!(s.arrival_offset(6000), None);
    }

    #[test]
    fn ramp_up_and_down() {
        // 0 → 100/s over 10 s (500 arrivals), hold 100/s for 10 s (1000), 100 → 0 over 10 s (500).
        let stages = crate::spec::parse_stages("10s:100,10s:100,10s:0").unwrap();
        let s = Schedule::ramp(0.0, stages);
        assert_eq!(count(&s), 2000);
        // Half the ramp-up's arrivals come in its last 30 % (quadratic growth): arrival 125
        // (a quarter of 500) is due at 5 s.
        let t = s.arrival_offset(125).unwrap().as_secs_f64();
        assert!((t - 5.0).abs() < 1e-6, "{t}");
        // The hold stage is linear again.
        let t = s.arrival_offset(1000).unwrap().as_secs_f64();
        assert!((t - 15.0).abs() < 1e-6, "{t}");
    }

    #[test]
    fn zero_rate_has_no_arrivals() {
        let s = Schedule::constant(0.0, Duration::from_secs(10));
        assert_eq!(s.arrival_offset(0), None);
    }

    proptest! {
        #[test]
        fn arrivals_are_ordered_within_the_run_and_match_the_integral(
            start in 0.0f64..300.0,
            stages in proptest::collection::vec((1u64..20_000, 0.0f64..300.0), 1..4),
        ) {
            let stages: Vec<Stage> = stages
                .into_iter()
                .map(|(ms, r)| Stage { duration: Duration::from_millis(ms), target: r })
                .collect();
            let s = Schedule::ramp(start, stages);
            let total = s.total_duration();
            let mut prev = Duration::ZERO;
            let mut n = 0u64;
            while let Some(t) = s.arrival_offset(n) {
                prop_assert!(t >= prev, "arrival {} at {:?} before {:?}", n, t, prev);
                prop_assert!(t <= total);
                prev = t;
                n += 1;
            }
            let expected = s.expected_arrivals();
            prop_assert!(n.abs_diff(expected) <= 1, "{} arrivals, integral {}", n, expected);
        }
    }
}
