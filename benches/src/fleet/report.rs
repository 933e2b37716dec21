//! A fleet run's [`Report`]: the one report type, with the sections a fleet run measures
//! (client results, detection lag, pushback) filled from the journal's figures.

use super::FleetRun;
use crate::report::{FleetSection, Report, Requests, RunInfo, SCHEMA_VERSION, SaidVsMock};

impl Report {
    /// The report of a finished fleet run of `client`.
    pub fn from_fleet(run: &FleetRun, client: &str, info: RunInfo) -> Self {
        let f = &run.figures;
        let right = f.reported.saturating_sub(f.wrong_outcomes);
        let outcomes = [
            ("right", right),
            ("wrong", f.wrong_outcomes),
            ("deadline", f.deadline),
            ("gave_up", f.gave_up),
            ("failed", f.client_failed),
            ("killed", f.client_killed),
            ("unreachable", f.client_unreachable),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_string(), n as u64))
        .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            mode: "fleet".into(),
            target: run.mock_url.clone(),
            elapsed_s: crate::report::round3(run.wall.as_secs_f64()),
            run: info,
            windows: f.windows,
            rate: f.rate,
            per_second: f.per_second.clone(),
            latency_per_second: Default::default(),
            poll_deadline_s: 0.0,
            arrivals: None,
            requests: Requests {
                total: f.requests,
                per_second: f.windows.arrivals.per_second,
                retried: None,
                after_terminal: Some(f.after_terminal),
                retries: Some(f.retries),
            },
            create: None,
            poll: None,
            time_to_terminal_ms: None,
            detection_lag_ms: Some(f.detection_lag.summary()),
            end_to_end_ms: Some(f.end_to_end.summary()),
            start_delay_ms: Some(f.start_delay.summary()),
            validations: None,
            outcomes,
            errors: None,
            pushback: Some(f.pushback),
            fleet: Some(FleetSection {
                client: client.to_string(),
                planned: run.planned,
                run: f.validations as u64,
                reported: f.reported as u64,
                undetected: f.undetected as u64,
                said_vs_mock: f
                    .said_vs_mock
                    .iter()
                    .map(|((said, mock), count)| SaidVsMock {
                        said: said.clone(),
                        mock: mock.clone(),
                        count: *count,
                    })
                    .collect(),
                polls_per_validation: f.polls_per_validation,
                journal_overflow: run.journal_overflow,
                problems: run.problems.clone(),
            }),
            histograms: None,
            thresholds: Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fleet::analysis::test_requests::request;
    use crate::fleet::analysis::{Answer, ClientResult, Followed, figures};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One client run of each kind, as the summary names them.
    fn fleet() -> Vec<Followed> {
        let run = |result, said: Option<&str>, mock: Option<&str>, at: u64| Followed {
            requests: vec![
                request(ms(at), ms(at + 2), false, Answer::Ok { terminal: false }),
                request(
                    ms(at + 1_500),
                    ms(at + 1_502),
                    true,
                    Answer::Ok {
                        terminal: mock.is_some_and(|m| m != "pending"),
                    },
                ),
            ],
            terminal_at: mock.filter(|m| *m != "pending").map(|_| ms(at + 800)),
            elapsed: ms(1_500),
            start_delay: ms(0),
            result,
            said: said.map(String::from),
            mock: mock.map(String::from),
        };
        vec![
            run(
                ClientResult::Reported { right: true },
                Some("success"),
                Some("success"),
                0,
            ),
            run(
                ClientResult::Reported { right: false },
                Some("success"),
                Some("declined"),
                100,
            ),
            run(
                ClientResult::Deadline,
                Some("pending"),
                Some("pending"),
                200,
            ),
            run(ClientResult::GaveUp, Some("pending"), Some("expired"), 300),
            run(ClientResult::Failed, None, Some("success"), 400),
            run(ClientResult::Killed, None, Some("pending"), 500),
            run(ClientResult::Unreachable, None, None, 600),
        ]
    }

    /// A fleet run's report with one client run of each kind.
    pub(crate) fn report() -> Report {
        let run = FleetRun {
            figures: figures(&fleet(), &[], ms(1_000), ms(4_000)),
            wall: ms(4_000),
            arrivals: ms(1_000),
            planned: 7,
            mock_url: "http://127.0.0.1:40000".into(),
            journal_overflow: false,
            problems: Vec::new(),
        };
        Report::from_fleet(&run, "python3 service.py", RunInfo::default())
    }

    #[test]
    fn the_summary_names_every_outcome_and_both_windows() {
        insta::assert_snapshot!(report().to_text());
    }

    #[test]
    fn the_json_has_the_fleet_sections_and_no_server_ones() {
        insta::assert_json_snapshot!(report());
    }

    #[test]
    fn the_json_reads_back_as_the_same_report() {
        // What `--compare` reads from a fleet baseline.
        let r = report();
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_fleet_run_compares_with_a_fleet_run() {
        let base = report();
        let mut now = report();
        if let Some(lag) = now.detection_lag_ms.as_mut() {
            lag.p99 *= 2.0;
        }
        insta::assert_snapshot!(crate::report::compare(&base, &now).unwrap());
    }

    #[test]
    fn every_registry_metric_reads_on_the_modes_that_measure_it() {
        use crate::metrics::{LATENCY_GROUPS, LATENCY_STATS, SCALARS, Scope};
        let server = crate::report::tests::sample();
        let fleet = report();
        let names = LATENCY_GROUPS
            .iter()
            .flat_map(|(g, scope, _)| {
                LATENCY_STATS
                    .iter()
                    .map(move |s| (format!("{g}.{s}"), *scope))
            })
            .chain(SCALARS.iter().map(|(n, _, scope)| (n.to_string(), *scope)));
        for (name, scope) in names {
            let on_server = matches!(scope, Scope::Server | Scope::Both);
            let on_fleet = matches!(scope, Scope::Fleet | Scope::Both);
            assert_eq!(
                server.value(&name).is_some(),
                on_server,
                "{name} on a polling run"
            );
            assert_eq!(
                fleet.value(&name).is_some(),
                on_fleet,
                "{name} on a fleet run"
            );
        }
    }

    #[test]
    fn every_outcome_has_a_threshold_value() {
        let r = report();
        assert_eq!(r.value("deadline.total"), Some(1.0));
        assert_eq!(r.value("gave_up.total"), Some(1.0));
        assert_eq!(r.value("wrong_outcomes.total"), Some(1.0));
        assert_eq!(r.value("client_errors.total"), Some(3.0));
        // 7 creates within the 1 s of arrivals, and 7 polls a second later, in the drain.
        assert_eq!(r.value("drain.requests"), Some(7.0));
        assert_eq!(r.requests.per_second, 7.0);
        // A fleet run does not measure a server run's figures: their thresholds fail (NaN).
        assert_eq!(r.value("poll.p99"), None);
        assert_eq!(r.value("errors.rate"), None);
        assert_eq!(r.schema_version, crate::report::SCHEMA_VERSION);
    }
}
