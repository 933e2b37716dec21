//! The one list of metric names: what `--threshold` accepts, what `--compare` prints, and how
//! each is read and shown (a latency takes a unit, a ratio takes `%`). Thresholds, the compare
//! table and their error messages all read it, so a name cannot exist in one and not another.
//! The Prometheus exporter takes its family names from [`EXPORTED`] here too, each tied to the
//! registry metric a threshold reads for the same figure.

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
    ("polls_per_validation.mean", Kind::Number, Scope::Both),
    ("polls_per_validation.p50", Kind::Number, Scope::Fleet),
    ("polls_per_validation.p99", Kind::Number, Scope::Fleet),
    ("polls_per_validation.max", Kind::Number, Scope::Fleet),
    ("requests.after_terminal", Kind::Number, Scope::Fleet),
    ("retries.total", Kind::Number, Scope::Fleet),
    ("throttled.total", Kind::Number, Scope::Both),
    ("retry_after.honoured", Kind::Ratio, Scope::Fleet),
    ("wrong_outcomes.total", Kind::Number, Scope::Fleet),
    ("undetected.total", Kind::Number, Scope::Fleet),
    ("gave_up.total", Kind::Number, Scope::Fleet),
    ("deadline.total", Kind::Number, Scope::Both),
    ("client_errors.total", Kind::Number, Scope::Fleet),
];

/// The rows `--compare` prints, in order; each run prints the rows its mode measures (a fleet
/// run has no `poll.p99`, a polling run no `detection_lag.p99`).
pub const COMPARED: &[&str] = &[
    "requests.per_second",
    "drain.seconds",
    "create.p50",
    "create.p99",
    "poll.p50",
    "poll.p99",
    "poll.p999",
    "ttt.p99",
    "detection_lag.p50",
    "detection_lag.p99",
    "e2e.p99",
    "polls_per_validation.mean",
    "errors.total",
    "validations.dropped",
    "wrong_outcomes.total",
    "gave_up.total",
    "client_errors.total",
];

/// A family the Prometheus exporter (`load --metrics-addr`) serves live. Its name and help
/// live here so the exporter cannot invent a name the rest of the registry does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// The family's name after the `truidentidad_load_` prefix (prometheus-client adds
    /// `_total` to counters and the unit to the latency family).
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// The registry metric a `--threshold` reads for the same figure at the end of the run;
    /// `None` for a figure that only means something live (how many are in flight now).
    pub metric: Option<&'static str>,
}

impl Exported {
    const fn new(name: &'static str, help: &'static str, metric: Option<&'static str>) -> Self {
        Exported { name, help, metric }
    }
}

/// Requests sent, labelled by `kind` (create, poll).
pub const EXPORT_REQUESTS: Exported =
    Exported::new("requests", "Requests sent, by kind", Some("requests.total"));
/// Failed requests, labelled by `class`.
pub const EXPORT_ERRORS: Exported = Exported::new(
    "errors",
    "Failed requests, by class (connect, timeout, 429, 4xx, 5xx, other)",
    Some("errors.total"),
);
/// Validations whose create was sent.
pub const EXPORT_STARTED: Exported = Exported::new(
    "validations_started",
    "Validations whose create was sent",
    None,
);
/// Validations followed to the end.
pub const EXPORT_FINISHED: Exported = Exported::new(
    "validations_finished",
    "Validations followed to a terminal state or the deadline",
    None,
);
/// Arrivals dropped at `--max-in-flight`.
pub const EXPORT_DROPPED: Exported = Exported::new(
    "validations_dropped",
    "Arrivals dropped because --max-in-flight was reached",
    Some("validations.dropped"),
);
/// Validations being followed at the moment of the scrape.
pub const EXPORT_IN_FLIGHT: Exported = Exported::new(
    "validations_in_flight",
    "Validations being followed now",
    None,
);
/// Validations finished, labelled by `outcome`.
pub const EXPORT_OUTCOMES: Exported =
    Exported::new("outcomes", "Validations finished, by outcome", None);
/// Latency quantiles, labelled by `kind` (one of [`EXPORTED_LATENCY`]) and `quantile`.
pub const EXPORT_LATENCY: Exported = Exported::new(
    "latency",
    "Latency quantiles since the start of the run, by kind",
    None,
);

/// Every family the exporter serves, in the order it writes them.
pub const EXPORTED: &[Exported] = &[
    EXPORT_REQUESTS,
    EXPORT_ERRORS,
    EXPORT_STARTED,
    EXPORT_FINISHED,
    EXPORT_DROPPED,
    EXPORT_IN_FLIGHT,
    EXPORT_OUTCOMES,
    EXPORT_LATENCY,
];

/// The latency groups the exporter serves: (group in [`LATENCY_GROUPS`], its `kind` label).
/// The label keeps its long spelling so existing dashboards still match.
pub const EXPORTED_LATENCY: &[(&str, &str)] = &[
    ("create", "create"),
    ("poll", "poll"),
    ("ttt", "time_to_terminal"),
];

/// The quantiles the exporter serves: (its `quantile` label, the stat in [`LATENCY_STATS`]).
pub const EXPORTED_QUANTILES: &[(&str, &str)] = &[
    ("0.5", "p50"),
    ("0.9", "p90"),
    ("0.99", "p99"),
    ("0.999", "p999"),
];

/// Every registry name the exporter serves: the scalars and `group.stat` for each latency
/// quantile, each one a name `--threshold` accepts.
pub fn exported_metrics() -> Vec<String> {
    EXPORTED
        .iter()
        .filter_map(|e| e.metric.map(str::to_string))
        .chain(EXPORTED_LATENCY.iter().flat_map(|(group, _)| {
            EXPORTED_QUANTILES
                .iter()
                .map(move |(_, stat)| format!("{group}.{stat}"))
        }))
        .collect()
}

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
