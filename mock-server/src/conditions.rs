//! Conditions the real service can impose on a whole fleet rather than on one validation: a
//! rate limit (a token bucket, answered `429` with `Retry-After`) and brown-outs (added latency
//! or `503`s for a period).
//!
//! Scenarios fault the requests of one validation; these apply to every API request (creates
//! and polls), so a load test of an integrator's fleet shows how it takes throttling and an
//! outage it did not cause. Both read the server's injected clock, so tests drive them with a
//! manual clock. Pure bookkeeping: the request path ([`crate::api`]) asks [`Conditions::gate`]
//! and turns the answer into a reply.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

/// Requests admitted per second, as `serve --rate-limit 50/s` spells it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub scope: LimitScope,
}

/// Whom one bucket covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitScope {
    /// One bucket for every request the server receives.
    #[default]
    Global,
    /// One bucket per `Truora-API-Key`, as a per-account limit would be.
    PerKey,
}

impl RateLimit {
    /// Most requests let through at once after a quiet spell: one second's worth (at least
    /// one). Truora documents no burst size, so this is the plainest reading of "N per second".
    pub fn burst(&self) -> f64 {
        self.per_second.max(1.0)
    }
}

/// A malformed `--rate-limit` or `--brownout`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConditionError(String);

impl FromStr for RateLimit {
    type Err = ConditionError;

    /// `50/s`, `3000/m` or `50/s/key` (one bucket per API key).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ConditionError(format!(
                "rate limit `{s}`: write requests per second or minute, e.g. 50/s, 3000/m, or 50/s/key for one bucket per API key"
            ))
        };
        let mut parts = s.trim().split('/');
        let count: f64 = parts
            .next()
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(bad)?;
        let per_second = match parts.next().map(str::trim) {
            Some("s") => count,
            Some("m") => count / 60.0,
            _ => return Err(bad()),
        };
        let scope = match parts.next().map(str::trim) {
            None => LimitScope::Global,
            Some("key") => LimitScope::PerKey,
            Some(_) => return Err(bad()),
        };
        if parts.next().is_some() || !(per_second.is_finite() && per_second > 0.0) {
            return Err(bad());
        }
        Ok(RateLimit { per_second, scope })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.per_second)?;
        if self.scope == LimitScope::PerKey {
            f.write_str("/key")?;
        }
        Ok(())
    }
}

/// What a brown-out does to each API request while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrownoutEffect {
    /// The request is answered normally, this much later.
    Latency(Duration),
    /// The request is answered `503` (no `Retry-After`: an outage rarely announces its end).
    Unavailable,
}

/// A brown-out: `effect` on every API request from `start` for `length` (server clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brownout {
    pub start: Duration,
    pub length: Duration,
    pub effect: BrownoutEffect,
}

impl Brownout {
    fn covers(&self, now: Duration) -> bool {
        now >= self.start && now < self.start.saturating_add(self.length)
    }
}

impl FromStr for Brownout {
    type Err = ConditionError;

    /// `AT:FOR:EFFECT`, e.g. `20s:10s:503` or `20s:10s:+2s` (2 s of added latency), `AT`
    /// counted from the server's start.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            ConditionError(format!(
                "brown-out `{s}`: {why}; write AT:FOR:EFFECT, e.g. 20s:10s:503 (503s for 10 s from 20 s on) or 20s:10s:+2s (2 s of added latency)"
            ))
        };
        let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
        let [at, length, effect] = parts[..] else {
            return Err(bad("three parts are needed"));
        };
        let dur = |t: &str| humantime::parse_duration(t).map_err(|e| bad(&format!("`{t}`: {e}")));
        let effect = match effect {
            "503" => BrownoutEffect::Unavailable,
            e => match e.strip_prefix('+') {
                Some(d) => BrownoutEffect::Latency(dur(d)?),
                None => return Err(bad("the effect is 503 or +LATENCY")),
            },
        };
        let length = dur(length)?;
        if length.is_zero() {
            return Err(bad("FOR must be above 0"));
        }
        Ok(Brownout {
            start: dur(at)?,
            length,
            effect,
        })
    }
}

/// A token bucket: `tokens` left as of `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Duration,
}

/// What the conditions decide for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Answer it as usual.
    Pass,
    /// Answer it as usual, this much later (a latency brown-out).
    Delay(Duration),
    /// Refuse it with `429` and this `Retry-After` (whole seconds, at least 1).
    Throttled { retry_after_secs: u64 },
    /// Refuse it with `503` (an outage brown-out).
    Unavailable,
}

/// The fleet-wide conditions of one server.
#[derive(Debug, Default)]
pub struct Conditions {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
    brownouts: RwLock<Vec<Brownout>>,
    /// Whether there is anything to apply: without a limit or a brown-out (the default), the
    /// request path asks one atomic load and no lock.
    active: AtomicBool,
}

impl Conditions {
    pub fn new(limit: Option<RateLimit>, brownouts: Vec<Brownout>) -> Self {
        Conditions {
            limit,
            buckets: Mutex::new(HashMap::new()),
            active: AtomicBool::new(limit.is_some() || !brownouts.is_empty()),
            brownouts: RwLock::new(brownouts),
        }
    }

    /// The rate limit, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Adds a brown-out (the load tool schedules its stages this way).
    pub fn add_brownout(&self, b: Brownout) {
        self.brownouts.write().push(b);
        self.active.store(true, Ordering::Release);
    }

    /// The brown-outs, in the order they were added.
    pub fn brownouts(&self) -> Vec<Brownout> {
        self.brownouts.read().clone()
    }

    /// What to do with an API request sent with `key` at `now`. A brown-out's 503 comes first
    /// (the service is down, whatever the caller's budget); a throttled request does not take
    /// a token, so a client that honours `Retry-After` gets through when it comes back.
    /// Whether any condition is set; when not, every request passes.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub fn gate(&self, key: &str, now: Duration) -> Gate {
        if !self.is_active() {
            return Gate::Pass;
        }
        let brownout = {
            let all = self.brownouts.read();
            all.iter().find(|b| b.covers(now)).map(|b| b.effect)
        };
        if brownout == Some(BrownoutEffect::Unavailable) {
            return Gate::Unavailable;
        }
        if let Some(limit) = self.limit {
            let bucket_key = match limit.scope {
                LimitScope::Global => "",
                LimitScope::PerKey => key,
            };
            if let Some(wait) = self.take(limit, bucket_key, now) {
                // Rounded up, so a client that waits exactly Retry-After finds a token.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return Gate::Throttled {
                    retry_after_secs: secs.max(1),
                };
            }
        }
        match brownout {
            Some(BrownoutEffect::Latency(d)) => Gate::Delay(d),
            _ => Gate::Pass,
        }
    }

    /// Takes a token from `key`'s bucket; `None` when there was one, else how long until the
    /// next one.
    fn take(&self, limit: RateLimit, key: &str, now: Duration) -> Option<Duration> {
        let burst = limit.burst();
        let mut buckets = self.buckets.lock();
        let bucket = match buckets.get_mut(key) {
            Some(b) => b,
            None => buckets.entry(key.to_string()).or_insert(Bucket {
                tokens: burst,
                at: now,
            }),
        };
        let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(burst);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / limit.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn parses_rates_and_scopes() {
        let r: RateLimit = "50/s".parse().unwrap();
        assert_eq!((r.per_second, r.scope), (50.0, LimitScope::Global));
        let r: RateLimit = "120/m/key".parse().unwrap();
        assert_eq!((r.per_second, r.scope), (2.0, LimitScope::PerKey));
        for bad in [
            "50",
            "0/s",
            "-1/s",
            "50/h",
            "x/s",
            "50/s/account",
            "50/s/key/x",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
        insta::assert_snapshot!("50/h".parse::<RateLimit>().unwrap_err(), @"rate limit `50/h`: write requests per second or minute, e.g. 50/s, 3000/m, or 50/s/key for one bucket per API key");
    }

    #[test]
    fn parses_brownouts() {
        let b: Brownout = "20s:10s:503".parse().unwrap();
        assert_eq!(
            b,
            Brownout {
                start: secs(20.0),
                length: secs(10.0),
                effect: BrownoutEffect::Unavailable
            }
        );
        let b: Brownout = "0s:1m:+1500ms".parse().unwrap();
        assert_eq!(b.effect, BrownoutEffect::Latency(secs(1.5)));
        insta::assert_snapshot!("20s:10s:500".parse::<Brownout>().unwrap_err(), @"brown-out `20s:10s:500`: the effect is 503 or +LATENCY; write AT:FOR:EFFECT, e.g. 20s:10s:503 (503s for 10 s from 20 s on) or 20s:10s:+2s (2 s of added latency)");
        assert!("20s:0s:503".parse::<Brownout>().is_err());
        assert!("20s:10s".parse::<Brownout>().is_err());
    }

    #[test]
    fn a_burst_is_let_through_then_throttled_with_a_retry_after_that_works() {
        let c = Conditions::new(Some("2/s".parse().unwrap()), vec![]);
        let t = secs(10.0);
        assert_eq!(c.gate("k", t), Gate::Pass);
        assert_eq!(c.gate("k", t), Gate::Pass);
        assert_eq!(
            c.gate("k", t),
            Gate::Throttled {
                retry_after_secs: 1
            }
        );
        // Throttled requests take no token: after Retry-After there is one again.
        assert_eq!(
            c.gate("k", t),
            Gate::Throttled {
                retry_after_secs: 1
            }
        );
        assert_eq!(c.gate("k", t + secs(1.0)), Gate::Pass);
    }

    #[test]
    fn per_key_buckets_are_independent_and_a_global_one_is_shared() {
        let per_key = Conditions::new(Some("1/s/key".parse().unwrap()), vec![]);
        assert_eq!(per_key.gate("a", secs(0.0)), Gate::Pass);
        assert_eq!(per_key.gate("b", secs(0.0)), Gate::Pass);
        assert!(matches!(
            per_key.gate("a", secs(0.0)),
            Gate::Throttled { .. }
        ));
        let global = Conditions::new(Some("1/s".parse().unwrap()), vec![]);
        assert_eq!(global.gate("a", secs(0.0)), Gate::Pass);
        assert!(matches!(
            global.gate("b", secs(0.0)),
            Gate::Throttled { .. }
        ));
    }

    #[test]
    fn a_slow_limit_asks_for_a_longer_wait() {
        let c = Conditions::new(Some("6/m".parse().unwrap()), vec![]);
        assert_eq!(c.gate("k", secs(0.0)), Gate::Pass);
        assert_eq!(
            c.gate("k", secs(0.0)),
            Gate::Throttled {
                retry_after_secs: 10
            }
        );
        assert_eq!(
            c.gate("k", secs(4.0)),
            Gate::Throttled {
                retry_after_secs: 6
            }
        );
    }

    #[test]
    fn brownouts_apply_only_within_their_window_and_503_beats_the_limit() {
        let c = Conditions::new(
            Some("1/s".parse().unwrap()),
            vec!["10s:5s:503".parse().unwrap(), "20s:5s:+2s".parse().unwrap()],
        );
        assert_eq!(c.gate("k", secs(9.9)), Gate::Pass);
        assert_eq!(c.gate("k", secs(10.0)), Gate::Unavailable);
        assert_eq!(c.gate("k", secs(14.9)), Gate::Unavailable);
        assert_eq!(c.gate("k", secs(15.0)), Gate::Pass);
        assert_eq!(c.gate("k", secs(21.0)), Gate::Delay(secs(2.0)));
        assert_eq!(c.gate("k", secs(25.0)), Gate::Pass);
    }

    proptest! {
        /// Over any window, a limit of N/s admits at most its burst plus N per elapsed second,
        /// however the requests are spread.
        #[test]
        fn never_admits_more_than_the_rate_allows(rate in 1u32..50, gaps in proptest::collection::vec(0u64..400, 1..400)) {
            let c = Conditions::new(Some(RateLimit { per_second: f64::from(rate), scope: LimitScope::Global }), vec![]);
            let mut now = Duration::ZERO;
            let mut admitted = 0u64;
            for g in &gaps {
                now += Duration::from_millis(*g);
                if c.gate("k", now) == Gate::Pass {
                    admitted += 1;
                }
            }
            let allowed = f64::from(rate).max(1.0) + now.as_secs_f64() * f64::from(rate);
            prop_assert!(admitted as f64 <= allowed + 1e-9, "{} admitted, {} allowed", admitted, allowed);
        }

        /// A client that waits the Retry-After it was given is admitted when it comes back
        /// (with no one else using the bucket).
        #[test]
        fn waiting_retry_after_is_enough(rate in 1u32..100, burst_used in 0u32..100) {
            let c = Conditions::new(Some(RateLimit { per_second: f64::from(rate) / 7.0, scope: LimitScope::Global }), vec![]);
            let t = Duration::from_secs(100);
            let mut last = Gate::Pass;
            for _ in 0..=burst_used.max(rate) {
                last = c.gate("k", t);
                if last != Gate::Pass { break; }
            }
            if let Gate::Throttled { retry_after_secs } = last {
                prop_assert_eq!(c.gate("k", t + Duration::from_secs(retry_after_secs)), Gate::Pass);
            }
        }
    }
}
