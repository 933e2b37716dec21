//! The one list of metric names: what `--threshold` accepts, what `--compare` prints, and how
//! each is read and shown (a latency takes a unit, a ratio takes `%`). Thresholds, the compare
//! table and their error messages all read it, so a name cannot exist in one and not another.

/// What a metric measures, which decides how a threshold's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Milliseconds; a threshold gives a unit (`ms`, `s`, `us`).
    Latency,
    /// A fraction; a threshold may give `%`.
    Ratio,
    /// Any other number (a count, a rate, seconds).
    Number,
}

/// Which reports have a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Polling, raw and merged server runs.
    Server,
    /// Fleet runs (`load fleet`).
    Fleet,
    /// Both.
    Both,
}

/// The statistics of every latency group.
pub const LATENCY_STATS: [&str; 6] = ["p50", "p90", "p99", "p999", "max", "mean"];

/// Latency groups, each with every one of [`LATENCY_STATS`].
pub const LATENCY_GROUPS: &[(&str, Scope, &str)] = &[
    ("create", Scope::Server, "create latency"),
    ("poll", Scope::Server, "poll latency"),
    ("ttt", Scope::Server, "time to terminal"),
    ("detection_lag", Scope::Fleet, "detection lag"),
    ("e2e", Scope::Fleet, "client run, end to end"),
    ("start_delay", Scope::Fleet, "wait for a --concurrency slot"),
];

/// Every metric that is not a latency.
pub const SCALARS: &[(&str, Kind, Scope)] = &[
    ("requests.per_second", Kind::Number, Scope::Both),
    ("requests.total", Kind::Number, Scope::Both),
    ("drain.seconds", Kind::Number, Scope::Both),
    ("drain.requests", Kind::Number, Scope::Both),
    ("peak_to_mean", Kind::Number, Scope::Both),
    ("errors.total", Kind::Number, Scope::Server),
    ("errors.rate", Kind::Ratio, Scope::Server),
    ("validations.dropped", Kind::Number, Scope::Server),
    ("arrivals.achieved_ratio", Kind::Ratio, Scope::Server),
    ("polls_per_validation.mean", Kind::Number, Scope::Fleet),
    ("polls_per_validation.p50", Kind::Number, Scope::Fleet),
    ("polls_per_validation.p99", Kind::Number, Scope::Fleet),
    ("polls_per_validation.max", Kind::Number, Scope::Fleet),
    ("requests.after_terminal", Kind::Number, Scope::Fleet),
    ("retries.total", Kind::Number, Scope::Fleet),
    ("throttled.total", Kind::Number, Scope::Fleet),
    ("retry_after.honoured", Kind::Ratio, Scope::Fleet),
    ("wrong_outcomes.total", Kind::Number, Scope::Fleet),
    ("undetected.total", Kind::Number, Scope::Fleet),
    ("gave_up.total", Kind::Number, Scope::Fleet),
    ("deadline.total", Kind::Number, Scope::Fleet),
    ("client_errors.total", Kind::Number, Scope::Fleet),
];

/// The rows `--compare` prints, in order.
pub const COMPARED: &[&str] = &[
    "requests.per_second",
    "drain.seconds",
    "create.p50",
    "create.p99",
    "poll.p50",
    "poll.p99",
    "poll.p999",
    "ttt.p99",
    "errors.total",
    "validations.dropped",
];

/// The kind of a known metric, `None` for an unknown name.
pub fn kind(metric: &str) -> Option<Kind> {
    if let Some((group, stat)) = metric.split_once('.')
        && LATENCY_GROUPS.iter().any(|(g, _, _)| *g == group)
        && LATENCY_STATS.contains(&stat)
    {
        return Some(Kind::Latency);
    }
    SCALARS
        .iter()
        .find(|(name, _, _)| *name == metric)
        .map(|(_, k, _)| *k)
}

/// The unit `--compare` writes after a value.
pub fn unit(metric: &str) -> &'static str {
    match (kind(metric), metric) {
        (Some(Kind::Latency), _) => " ms",
        (_, "requests.per_second") => "/s",
        (_, "drain.seconds") => " s",
        _ => "",
    }
}

/// Every name, for an error message: server metrics first, then the fleet's.
pub fn describe() -> String {
    let stats = format!("{{{}}}", LATENCY_STATS.join(","));
    let list = |scope: Scope| -> Vec<String> {
        LATENCY_GROUPS
            .iter()
            .filter(|(_, s, _)| *s == scope)
            .map(|(g, _, what)| format!("{g}.{stats} ({what})"))
            .chain(
                SCALARS
                    .iter()
                    .filter(|(_, _, s)| {
                        *s == scope || (*s == Scope::Both && scope == Scope::Server)
                    })
                    .map(|(n, _, _)| n.to_string()),
            )
            .collect()
    };
    format!(
        "{}; fleet runs: {}",
        list(Scope::Server).join(", "),
        list(Scope::Fleet).join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compared_row_is_a_known_metric() {
        for m in COMPARED {
            assert!(kind(m).is_some(), "{m}");
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("poll.p99"), Some(Kind::Latency));
        assert_eq!(kind("detection_lag.max"), Some(Kind::Latency));
        assert_eq!(kind("errors.rate"), Some(Kind::Ratio));
        assert_eq!(kind("peak_to_mean"), Some(Kind::Number));
        assert_eq!(kind("poll.p98"), None);
        assert_eq!(kind("nonsense"), None);
    }
}
