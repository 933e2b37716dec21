//! `--threshold 'poll.p99<50ms'`: pass/fail criteria checked against the report, as k6's
//! thresholds are, so a CI job fails (exit code 99) when the target gets slower or flakier.

use std::fmt;

use crate::metrics::{self, Kind};
use crate::report::{Report, ThresholdResult};
use crate::spec::SpecError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// One parsed threshold. Latency limits are kept in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub text: String,
    pub metric: String,
    pub op: Op,
    pub limit: f64,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn is_latency(metric: &str) -> bool {
    metrics::kind(metric) == Some(Kind::Latency)
}

fn is_ratio(metric: &str) -> bool {
    metrics::kind(metric) == Some(Kind::Ratio)
}

/// Parses `poll.p99<50ms`, `errors.rate<=1%`, `requests.per_second>=1000`.
pub fn parse(s: &str) -> Result<Threshold, SpecError> {
    let text = s.trim();
    let pos = text.find(['<', '>']).ok_or_else(|| {
        SpecError(format!(
            "threshold `{text}` needs a comparison, e.g. poll.p99<50ms"
        ))
    })?;
    let metric = text[..pos].trim();
    let rest = &text[pos..];
    // `rest` starts with the ASCII `<` or `>` found above, so slicing after it is safe.
    let less = rest.starts_with('<');
    let (or_equal, value) = match rest[1..].strip_prefix('=') {
        Some(v) => (true, v),
        None => (false, &rest[1..]),
    };
    let op = match (less, or_equal) {
        (true, false) => Op::Lt,
        (true, true) => Op::Le,
        (false, false) => Op::Gt,
        (false, true) => Op::Ge,
    };
    if metrics::kind(metric).is_none() {
        return Err(SpecError(format!(
            "threshold `{text}`: unknown metric `{metric}`; known metrics: {}",
            metrics::describe()
        )));
    }
    let value = value.trim();
    let bad_value = || SpecError(format!("threshold `{text}`: `{value}` is not a number"));
    let limit = if is_latency(metric) {
        let (num, scale) = if let Some(n) = value.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = value
            .strip_suffix("us")
            .or_else(|| value.strip_suffix("µs"))
        {
            (n, 0.001)
        } else if let Some(n) = value.strip_suffix('s') {
            (n, 1000.0)
        } else {
            return Err(SpecError(format!(
                "threshold `{text}`: give the latency a unit, e.g. {metric}<50ms (ms, s or us)"
            )));
        };
        num.trim().parse::<f64>().map_err(|_| bad_value())? * scale
    } else if let Some(n) = value.strip_suffix('%') {
        if !is_ratio(metric) {
            return Err(SpecError(format!(
                "threshold `{text}`: `%` only applies to ratios ({})",
                metrics::SCALARS
                    .iter()
                    .filter(|(_, k, _)| *k == Kind::Ratio)
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        n.trim().parse::<f64>().map_err(|_| bad_value())? / 100.0
    } else {
        value.parse::<f64>().map_err(|_| bad_value())?
    };
    if !limit.is_finite() {
        return Err(bad_value());
    }
    Ok(Threshold {
        text: text.to_string(),
        metric: metric.to_string(),
        op,
        limit,
    })
}

/// The outcome of one threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub threshold: Threshold,
    pub actual: f64,
    pub passed: bool,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric = self.threshold.metric.as_str();
        let actual = if is_latency(metric) {
            format!("{} ms", round3(self.actual))
        } else if is_ratio(metric) {
            format!("{}%", round3(self.actual * 100.0))
        } else {
            round3(self.actual).to_string()
        };
        write!(
            f,
            "  {} {:<28} actual {actual}",
            if self.passed { "ok  " } else { "FAIL" },
            self.threshold.text,
        )
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Verdict {
    /// The verdict as the report's `thresholds` section records it.
    pub fn result(&self) -> ThresholdResult {
        ThresholdResult {
            threshold: self.threshold.text.clone(),
            actual: self.actual.is_finite().then_some(self.actual),
            passed: self.passed,
        }
    }
}

/// Checks `thresholds` against a report of any mode ([`Report::value`]); a metric the run
/// does not measure (a fleet metric on a server run, say) reads as NaN and fails.
pub fn check(report: &Report, thresholds: &[Threshold]) -> Vec<Verdict> {
    thresholds
        .iter()
        .map(|t| {
            let actual = report.value(&t.metric).unwrap_or(f64::NAN);
            let passed = match t.op {
                Op::Lt => actual < t.limit,
                Op::Le => actual <= t.limit,
                Op::Gt => actual > t.limit,
                Op::Ge => actual >= t.limit,
            };
            Verdict {
                threshold: t.clone(),
                actual,
                passed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;
    use proptest::prelude::*;

    #[test]
    fn parses_units_and_ops() {
        let t = parse("poll.p99<50ms").unwrap();
        assert_eq!(
            (t.metric.as_str(), t.op, t.limit),
            ("poll.p99", Op::Lt, 50.0)
        );
        assert_eq!(parse("create.max <= 2s").unwrap().limit, 2000.0);
        assert_eq!(parse("poll.p50<500us").unwrap().limit, 0.5);
        assert_eq!(parse("errors.rate<1%").unwrap().limit, 0.01);
        assert_eq!(parse("requests.per_second>=1000").unwrap().op, Op::Ge);
    }

    #[test]
    fn clear_errors() {
        assert!(
            parse("poll.p99")
                .unwrap_err()
                .0
                .contains("needs a comparison")
        );
        assert!(
            parse("poll.p98<5ms")
                .unwrap_err()
                .0
                .contains("unknown metric `poll.p98`")
        );
        assert!(
            parse("poll.p99<50")
                .unwrap_err()
                .0
                .contains("give the latency a unit")
        );
        assert!(
            parse("errors.total<lots")
                .unwrap_err()
                .0
                .contains("not a number")
        );
    }

    #[test]
    fn verdicts_on_a_known_report() {
        // sample(): poll p99 = 0.5 ms, errors 3 of 42000, dropped 10.
        let ts: Vec<Threshold> = [
            "poll.p99<1ms",
            "poll.p99<0.5ms",
            "errors.rate<0.01%",
            "validations.dropped<=10",
        ]
        .iter()
        .map(|s| parse(s).unwrap())
        .collect();
        let v = check(&sample(), &ts);
        let passed: Vec<bool> = v.iter().map(|v| v.passed).collect();
        assert_eq!(passed, [true, false, true, true]);
        insta::assert_snapshot!(
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }
    }
}
