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
    /// Moves a manual clock forward and returns its new reading. Refused on clocks that
    /// follow real time, and past [`MAX_READING`].
    fn advance(&self, by: Duration) -> Result<Duration, AdvanceError>;
    /// Which kind of clock this is, for the control API.
    fn mode(&self) -> ClockMode;

    /// Wall-clock time of an instant read from [`Clock::now`].
    fn wall(&self, at: Duration) -> SystemTime {
        self.started_at() + at
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The furthest a manual clock can read: it counts nanoseconds in 64 bits (about 584 years).
/// An advance past it is refused whole rather than saturating, so the clock never stops
/// silently while the control API keeps answering 200.
pub const MAX_READING: Duration = Duration::from_nanos(u64::MAX);

/// Why a clock did not move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdvanceError {
    #[error("the server runs on the real clock; start it with --clock manual to move time by hand")]
    RealTime,
    #[error(
        "the manual clock reads {} s and cannot pass {} s (about 584 years: it counts nanoseconds in 64 bits), so it can move at most {} s more; restart the server to start it again",
        now.as_secs(),
        MAX_READING.as_secs(),
        MAX_READING.saturating_sub(*now).as_secs()
    )]
    PastLimit { now: Duration },
    /// The manual clock shared by replicas (`--store redis://…`) lives in Redis, which counts
    /// in signed 64 bits: half the in-process clock's range.
    #[error(
        "the manual clock kept in Redis reads {} s and cannot pass {} s (about 292 years: Redis counts nanoseconds in signed 64 bits), so it can move at most {} s more; reset the clock's key in Redis (or flush the database) to start it again",
        now.as_secs(),
        MAX_SHARED_READING.as_secs(),
        MAX_SHARED_READING.saturating_sub(*now).as_secs()
    )]
    PastSharedLimit { now: Duration },
    /// The clock lives in Redis, which did not answer; the store's health says why.
    #[error("the clock could not be advanced in Redis")]
    Unavailable,
}

/// The furthest the manual clock kept in Redis can read (Redis integers are `i64`).
pub const MAX_SHARED_READING: Duration = Duration::from_nanos(i64::MAX as u64);

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
    fn advance(&self, _by: Duration) -> Result<Duration, AdvanceError> {
        Err(AdvanceError::RealTime)
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
    fn advance(&self, by: Duration) -> Result<Duration, AdvanceError> {
        let add = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_add(add))
            .map(|before| Duration::from_nanos(before + add))
            .map_err(|now| AdvanceError::PastLimit {
                now: Duration::from_nanos(now),
            })
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
            Ok(Duration::from_secs(5))
        );
        assert_eq!(c.now(), Duration::from_secs(5));
    }

    #[test]
    fn real_clock_refuses_to_advance() {
        assert_eq!(
            RealClock::new().advance(Duration::from_secs(1)),
            Err(AdvanceError::RealTime)
        );
    }

    #[test]
    fn manual_clock_refuses_to_pass_its_limit_and_keeps_its_reading() {
        let c = ManualClock::resuming(
            SystemTime::UNIX_EPOCH,
            MAX_READING - Duration::from_secs(10),
        );
        let before = c.now();
        let err = c.advance(Duration::from_secs(11)).unwrap_err();
        assert_eq!(err, AdvanceError::PastLimit { now: before });
        assert_eq!(c.now(), before, "a refused advance moves nothing");
        assert!(err.to_string().contains("at most 10 s more"), "{err}");
        assert_eq!(c.advance(Duration::from_secs(10)), Ok(MAX_READING));
    }
}
