//! `truidentidad-mock load merge a.json b.json …`: one report from runs made at the same time
//! on several machines against one target.
//!
//! Percentiles cannot be averaged: the p99 of two runs is not the mean of their p99s. Each
//! report embeds its HdrHistograms ([`crate::report::EncodedHistograms`]), so the merged
//! latencies are those of one histogram holding every request, exact as a single run's. Counts
//! add up; rates add up too, since the runs went on side by side; the elapsed time is the
//! longest run's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::report::{
    Arrivals, EncodedHistograms, Endpoint, Errors, ReadError, Report, Requests, SCHEMA_VERSION,
    Validations, round_p, round3,
};
use crate::series::{PerSecond, Window, Windows};
use crate::stats::{DecodeError, Latency};

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("give at least two reports to merge (got {0})")]
    TooFew(usize),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "{path} was written with schema version {found}, whose rates were over the whole run; merge reports of version 2 or {SCHEMA_VERSION} (re-run it)"
    )]
    OldSchema { path: PathBuf, found: u32 },
    #[error(
        "{path} is a fleet report: fleet runs follow one mock's journal and are not merged (merge polling or raw runs)"
    )]
    Fleet { path: PathBuf },
    #[error(
        "{path} has no histograms (written by a version before `load merge`): its percentiles cannot be combined exactly; re-run it"
    )]
    NoHistograms { path: PathBuf },
    #[error("{path}: the {which} histogram is damaged: {source}")]
    Damaged {
        path: PathBuf,
        which: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error("{path} is a `{theirs}` run and {first} a `{ours}` run: merge runs of one mode")]
    Modes {
        path: PathBuf,
        theirs: String,
        first: PathBuf,
        ours: String,
    },
}

/// Reads and merges the reports at `paths`.
pub fn merge_files(paths: &[PathBuf]) -> Result<Report, MergeError> {
    if paths.len() < 2 {
        return Err(MergeError::TooFew(paths.len()));
    }
    let reports = paths
        .iter()
        .map(|p| read(p).map(|r| (p.clone(), r)))
        .collect::<Result<Vec<_>, _>>()?;
    merge(&reports)
}

fn read(path: &Path) -> Result<Report, MergeError> {
    let report = crate::report::read(path)?;
    if report.is_fleet() {
        return Err(MergeError::Fleet { path: path.into() });
    }
    Ok(report)
}

/// Merges reports of runs made side by side; each is named by its path in errors.
pub fn merge(reports: &[(PathBuf, Report)]) -> Result<Report, MergeError> {
    let Some((first_path, first)) = reports.first() else {
        return Err(MergeError::TooFew(0));
    };
    let mut create = Latency::default();
    let mut poll = Latency::default();
    let mut terminal = Latency::default();
    for (path, r) in reports {
        // Version 2 server reports differ from version 3 only by sections they lack (`run`,
        // `thresholds`), so they merge as they are; version 1 rates were over the whole run.
        if r.schema_version < 2 {
            return Err(MergeError::OldSchema {
                path: path.clone(),
                found: r.schema_version,
            });
        }
        if r.mode != first.mode {
            return Err(MergeError::Modes {
                path: path.clone(),
                theirs: r.mode.clone(),
                first: first_path.clone(),
                ours: first.mode.clone(),
            });
        }
        let h = r
            .histograms
            .as_ref()
            .ok_or_else(|| MergeError::NoHistograms { path: path.clone() })?;
        for (which, text, into) in [
            ("create", &h.create, &mut create),
            ("poll", &h.poll, &mut poll),
            ("time_to_terminal", &h.time_to_terminal, &mut terminal),
        ] {
            let decoded = Latency::decode(text).map_err(|source| MergeError::Damaged {
                path: path.clone(),
                which,
                source,
            })?;
            into.add(&decoded);
        }
    }
    let sum = |f: fn(&Report) -> u64| reports.iter().map(|(_, r)| f(r)).sum::<u64>();
    let sum_f = |f: fn(&Report) -> f64| round3(reports.iter().map(|(_, r)| f(r)).sum::<f64>());
    // Validations that got an id, recovered from each run's polls per validation.
    let with_id: f64 = reports
        .iter()
        .map(|(_, r)| (r.validations.unwrap_or_default(), count(&r.poll)))
        .filter(|(v, _)| v.polls_per_validation > 0.0)
        .map(|(v, polls)| (polls as f64 / v.polls_per_validation).round())
        .sum();
    let mut targets: Vec<&str> = reports.iter().map(|(_, r)| r.target.as_str()).collect();
    targets.dedup();
    let mut outcomes = BTreeMap::new();
    for (_, r) in reports {
        for (k, v) in &r.outcomes {
            *outcomes.entry(k.clone()).or_insert(0) += v;
        }
    }
    let polls = sum(|r| count(&r.poll));
    let mut per_second = PerSecond::default();
    for (_, r) in reports {
        per_second.merge(&r.per_second);
    }
    // Side by side: each window lasts as long as the longest run's, and holds every run's
    // requests.
    let longest = |f: fn(&Report) -> f64| reports.iter().map(|(_, r)| f(r)).fold(0.0, f64::max);
    let arrivals = longest(|r| r.windows.arrivals.seconds);
    let windows = Windows {
        arrivals: Window::of(arrivals, sum(|r| r.windows.arrivals.requests)),
        drain: Window::of(
            longest(|r| r.windows.drain.seconds),
            sum(|r| r.windows.drain.requests),
        ),
    };
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        mode: first.mode.clone(),
        target: targets.join(", "),
        elapsed_s: longest(|r| r.elapsed_s),
        rate: per_second.peaks(std::time::Duration::from_secs_f64(arrivals)),
        per_second,
        latency_per_second: Default::default(),
        windows,
        poll_deadline_s: longest(|r| r.poll_deadline_s),
        run: Default::default(),
        arrivals: Some(Arrivals {
            target_per_second: sum_f(|r| scheduled_arrivals(r).target_per_second),
            achieved_per_second: sum_f(|r| scheduled_arrivals(r).achieved_per_second),
            scheduled: sum(|r| scheduled_arrivals(r).scheduled),
        }),
        requests: Requests {
            total: sum(|r| r.requests.total),
            per_second: windows.arrivals.per_second,
            retried: Some(sum(|r| r.requests.retried.unwrap_or(0))),
            after_terminal: None,
            retries: None,
        },
        create: Some(Endpoint {
            count: sum(|r| count(&r.create)),
            latency_ms: round_p(create.summary()),
        }),
        poll: Some(Endpoint {
            count: polls,
            latency_ms: round_p(poll.summary()),
        }),
        time_to_terminal_ms: Some(round_p(terminal.summary())),
        detection_lag_ms: None,
        end_to_end_ms: None,
        start_delay_ms: None,
        validations: Some(Validations {
            started: sum(|r| validations(r).started),
            finished: sum(|r| validations(r).finished),
            dropped: sum(|r| validations(r).dropped),
            polls_per_validation: if with_id > 0.0 {
                round3(polls as f64 / with_id)
            } else {
                0.0
            },
        }),
        outcomes,
        errors: Some(Errors {
            total: sum(|r| errors(r).total),
            connect: sum(|r| errors(r).connect),
            timeout: sum(|r| errors(r).timeout),
            client_4xx: sum(|r| errors(r).client_4xx),
            too_many: sum(|r| errors(r).too_many),
            server_5xx: sum(|r| errors(r).server_5xx),
            other: sum(|r| errors(r).other),
        }),
        pushback: None,
        fleet: None,
        thresholds: Vec::new(),
        histograms: Some(EncodedHistograms {
            create: create.encode(),
            poll: poll.encode(),
            time_to_terminal: terminal.encode(),
        }),
    })
}

/// A server report's sections, read as zeros where a run left one out.
fn count(e: &Option<Endpoint>) -> u64 {
    e.map_or(0, |e| e.count)
}

fn scheduled_arrivals(r: &Report) -> Arrivals {
    r.arrivals.unwrap_or_default()
}

fn validations(r: &Report) -> Validations {
    r.validations.unwrap_or_default()
}

fn errors(r: &Report) -> Errors {
    r.errors.unwrap_or_default()
}
