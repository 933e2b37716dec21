//! Injected time. The store, engine and journal read time only through [`Clock`], so tests
//! move a [`ManualClock`] forward instead of sleeping, and `--clock manual` gives integrators
//! the same power over HTTP (`POST /_mock/clock/advance`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Which clock the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Real time (the default).
    #[default]
    Real,
    /// Virtual time, moved only by `POST /_mock/clock/advance`.
    Manual,
}

impl ClockMode {
    /// `"real"` or `"manual"`, as the control API and `--clock` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockMode::Real => "real",
            ClockMode::Manual => "manual",
        }
    }
}

/// A source of "now", as time since the server started, plus the wall-clock instant that
/// start corresponds to (for `creation_date`).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Time elapsed since the clock's start.
    fn now(&self) -> Duration;
    /// The wall-clock time at the clock's start.
    fn started_at(&self) -> SystemTime;
    /// Moves a manual clock forward; `None` for clocks that follow real time.
    fn advance(&self, by: Duration) -> Option<Duration>;
    /// Which kind of clock this is, for the control API.
    fn mode(&self) -> ClockMode;

    /// Wall-clock time of an instant read from [`Clock::now`].
    fn wall(&self, at: Duration) -> SystemTime {
        self.started_at() + at
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Real time, read from the monotonic clock.
#[derive(Debug)]
pub struct RealClock {
    start: Instant,
    start_wall: SystemTime,
    /// Clock time at `start`: non-zero when resuming from a state file, so instants saved by
    /// the previous run keep their meaning.
    offset: Duration,
}

impl RealClock {
    pub fn new() -> Self {
        Self::resuming_at(Duration::ZERO)
    }

    /// A real clock whose `now()` starts at `offset` instead of zero.
    pub fn resuming_at(offset: Duration) -> Self {
        let now = SystemTime::now();
        RealClock {
            start: Instant::now(),
            start_wall: now.checked_sub(offset).unwrap_or(now),
            offset,
        }
    }
}

impl RealClock {
    /// A real clock counting from `epoch`, a wall instant replicas share (see
    /// `store::redis::cluster`): its readings, and the dates computed from them, are the
    /// same on every replica, to the nanosecond, as long as their wall clocks agree.
    pub fn since(epoch: SystemTime) -> Self {
        let now = SystemTime::now();
        RealClock {
            start: Instant::now(),
            start_wall: epoch,
            offset: now.duration_since(epoch).unwrap_or_default(),
        }
    }
}

impl Default for RealClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.offset + self.start.elapsed()
    }
    fn started_at(&self) -> SystemTime {
        self.start_wall
    }
    fn advance(&self, _by: Duration) -> Option<Duration> {
        None
    }
    fn mode(&self) -> ClockMode {
        ClockMode::Real
    }
}

/// Virtual time that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
    start_wall: SystemTime,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A manual clock whose start is a fixed wall-clock instant (for reproducible dates).
    pub fn starting_at(start_wall: SystemTime) -> Self {
        Self::resuming(start_wall, Duration::ZERO)
    }

    /// A manual clock that already reads `now` (resuming from a state file).
    pub fn resuming(start_wall: SystemTime, now: Duration) -> Self {
        ManualClock {
            nanos: AtomicU64::new(u64::try_from(now.as_nanos()).unwrap_or(u64::MAX)),
            start_wall,
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
    fn started_at(&self) -> SystemTime {
        self.start_wall
    }
    fn advance(&self, by: Duration) -> Option<Duration> {
        let add = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let before = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(add))
            })
            .unwrap_or_default();
        Some(Duration::from_nanos(before.saturating_add(add)))
    }
    fn mode(&self) -> ClockMode {
        ClockMode::Manual
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let c = ManualClock::new();
        assert_eq!(c.now(), Duration::ZERO);
        assert_eq!(
            c.advance(Duration::from_secs(5)),
            Some(Duration::from_secs(5))
        );
        assert_eq!(c.now(), Duration::from_secs(5));
    }

    #[test]
    fn real_clock_refuses_to_advance() {
        assert_eq!(RealClock::new().advance(Duration::from_secs(1)), None);
    }
}
