//! Parsers for the load tool's option values: rates, ramp stages and scenario mixes.
//!
//! They are plain functions from `&str` so clap can use them as value parsers and proptest can
//! throw arbitrary text at them: bad input must give a message that says what to type instead,
//! never a panic.

use std::time::Duration;

/// A value that could not be parsed; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

fn err(msg: impl Into<String>) -> SpecError {
    SpecError(msg.into())
}

/// Parses an arrival rate: `200`, `200/s`, `12000/m` or `1.5/s`. Returns arrivals per second.
pub fn parse_rate(s: &str) -> Result<f64, SpecError> {
    let s = s.trim();
    let (num, per) = match s.split_once('/') {
        Some((n, unit)) => {
            let per = match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                other => {
                    return Err(err(format!(
                        "rate `{s}`: unknown unit `/{other}`; use N/s, N/m or N/h (e.g. 200/s)"
                    )));
                }
            };
            (n.trim(), per)
        }
        None => (s, 1.0),
    };
    let n: f64 = num.parse().map_err(|_| {
        err(format!(
            "rate `{s}` is not a number of arrivals per second (e.g. 200 or 200/s)"
        ))
    })?;
    if !n.is_finite() || n < 0.0 {
        return Err(err(format!("rate `{s}` must be zero or a positive number")));
    }
    Ok(n / per)
}

/// Parses a duration such as `30s`, `1m30s` or `250ms`.
pub fn parse_duration(s: &str) -> Result<Duration, SpecError> {
    humantime::parse_duration(s.trim())
        .map_err(|e| err(format!("duration `{s}`: {e} (write e.g. 30s, 2m or 250ms)")))
}

/// One ramp stage: over `duration`, the arrival rate moves linearly to `target` per second
/// (k6's `ramping-arrival-rate` stages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: f64,
}

/// Parses `30s:100,60s:500,30s:0`.
pub fn parse_stages(s: &str) -> Result<Vec<Stage>, SpecError> {
    let mut stages = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((d, r)) = part.split_once(':') else {
            return Err(err(format!(
                "stage `{part}` must be DURATION:RATE, e.g. 30s:100 (ramp to 100/s over 30 s)"
            )));
        };
        let duration = parse_duration(d)?;
        if duration.is_zero() {
            return Err(err(format!("stage `{part}` has a zero duration")));
        }
        stages.push(Stage {
            duration,
            target: parse_rate(r)?,
        });
    }
    if stages.is_empty() {
        return Err(err(
            "--stages needs at least one DURATION:RATE stage, e.g. 30s:100,60s:500,30s:0",
        ));
    }
    Ok(stages)
}

/// A weighted scenario mix: each validation picks a scenario name in proportion to its weight,
/// and sends it as the magic `account_id` (`<scenario>.load-<n>`) or the `X-Mock-Scenario`
/// header. The names are the target's business; the tool only checks they are legal in an
/// `account_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    entries: Vec<(String, u32)>,
    total: u64,
}

impl Mix {
    /// One scenario for every validation.
    pub fn single(name: &str) -> Self {
        Mix {
            entries: vec![(name.to_string(), 1)],
            total: 1,
        }
    }

    /// Parses `success=80,declined-face-mismatch=15,expired=5` (a bare name has weight 1).
    pub fn parse(s: &str) -> Result<Self, SpecError> {
        let mut entries: Vec<(String, u32)> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = match part.split_once('=') {
                Some((n, w)) => {
                    let w: u32 = w.trim().parse().map_err(|_| {
                        err(format!(
                            "mix entry `{part}`: the weight must be a whole number, e.g. success=80"
                        ))
                    })?;
                    (n.trim(), w)
                }
                None => (part, 1),
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
            {
                return Err(err(format!(
                    "mix entry `{part}`: scenario names use letters, digits, `-` and `_` only"
                )));
            }
            if entries.iter().any(|(n, _)| n == name) {
                return Err(err(format!(
                    "mix names `{name}` twice; give each scenario once"
                )));
            }
            entries.push((name.to_string(), weight));
        }
        let total: u64 = entries.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return Err(err(
                "--mix needs at least one scenario with a weight above 0, e.g. success=80,declined-face-mismatch=20",
            ));
        }
        Ok(Mix { entries, total })
    }

    /// The scenario for validation number `n`. Every block of `total weight` consecutive
    /// validations holds each scenario exactly `weight` times, spread out by a stride coprime
    /// to the total, so even a short run matches the mix and the outcomes are interleaved.
    pub fn pick(&self, n: u64) -> &str {
        let stride = coprime_stride(self.total);
        let mut point = ((n % self.total) as u128 * stride as u128 % self.total as u128) as u64;
        for (name, w) in &self.entries {
            if point < u64::from(*w) {
                return name;
            }
            point -= u64::from(*w);
        }
        // point < total = sum of weights, so the loop always returns; keep a value anyway.
        self.entries.first().map_or("success", |(n, _)| n.as_str())
    }

    pub fn entries(&self) -> &[(String, u32)] {
        &self.entries
    }
}

/// A stride near `total × 0.618` that shares no factor with `total`: stepping by it visits
/// every point of `0..total` once per block, far from its neighbours.
fn coprime_stride(total: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut k = ((total as f64 * 0.618_033_988_749_894_9) as u64).max(1);
    while gcd(k, total) != 1 {
        k += 1;
    }
    k
}

/// `--stages`, as one clap value.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages(pub Vec<Stage>);

impl Stages {
    pub fn parse(s: &str) -> Result<Self, SpecError> {
        parse_stages(s).map(Stages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("200"), Ok(200.0));
        assert_eq!(parse_rate("200/s"), Ok(200.0));
        assert_eq!(parse_rate("120/m"), Ok(2.0));
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(
            parse_rate("5/d").unwrap_err().0,
            "rate `5/d`: unknown unit `/d`; use N/s, N/m or N/h (e.g. 200/s)"
        );
    }

    #[test]
    fn stages() {
        let s = parse_stages("30s:100, 1m:500/s,30s:0").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].duration, Duration::from_secs(60));
        assert_eq!(s[1].target, 500.0);
        assert!(parse_stages("30s").unwrap_err().0.contains("DURATION:RATE"));
        assert!(parse_stages("").is_err());
        assert!(parse_stages("0s:5").is_err());
    }

    #[test]
    fn mix_follows_weights() {
        let mix = Mix::parse("success=80,declined-face-mismatch=15,expired=5").unwrap();
        let mut counts = std::collections::HashMap::new();
        for n in 0..1000 {
            *counts.entry(mix.pick(n)).or_insert(0u32) += 1;
        }
        // Exact over whole blocks of 100 (the total weight).
        assert_eq!(counts["success"], 800, "{counts:?}");
        assert_eq!(counts["declined-face-mismatch"], 150, "{counts:?}");
        assert_eq!(counts["expired"], 50, "{counts:?}");
        // And interleaved: the first 20 validations already hold a declined one.
        assert!((0..20).any(|n| mix.pick(n) == "declined-face-mismatch"));
    }

    #[test]
    fn mix_errors() {
        assert!(
            Mix::parse("success=0")
                .unwrap_err()
                .0
                .contains("weight above 0")
        );
        assert!(Mix::parse("a=1,a=2").unwrap_err().0.contains("twice"));
        assert!(Mix::parse("bad name=1").unwrap_err().0.contains("letters"));
        assert!(Mix::parse("x=lots").unwrap_err().0.contains("whole number"));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = parse_rate(&s);
            let _ = parse_stages(&s);
            let _ = Mix::parse(&s);
        }

        #[test]
        fn every_block_matches_the_weights(ws in proptest::collection::vec(0u32..50, 1..6), block in 0u64..1000) {
            let spec: Vec<String> = ws.iter().enumerate().map(|(i, w)| format!("s{i}={w}")).collect();
            let Ok(mix) = Mix::parse(&spec.join(",")) else { return Ok(()); };
            let total: u64 = ws.iter().map(|w| u64::from(*w)).sum();
            let mut counts = vec![0u32; ws.len()];
            for n in block * total..(block + 1) * total {
                let name = mix.pick(n);
                counts[name[1..].parse::<usize>().unwrap()] += 1;
            }
            prop_assert_eq!(counts, ws);
        }

        #[test]
        fn zero_weight_is_never_picked(n in any::<u64>()) {
            let mix = Mix::parse("a=3,b=0,c=1").unwrap();
            prop_assert_ne!(mix.pick(n), "b");
        }
    }
}
