//! `conformance explore`: property-based conformance. Generates scenarios from the scenario
//! model ([`generate`]), runs the client against each (several at once) until a budget ends,
//! grades every run with the suite's own rules and verdicts ([`crate::runner::run_case`]),
//! shrinks the first FAILED to a minimal scenario ([`shrink`]) and writes it as a scenario
//! file that `conformance run --case-file` replays as an ordinary case ([`case_file`]).
//!
//! Layout: [`generate`] (what is drawn, and why each fault is allowed), [`shrink`] (the policy
//! for nondeterministic clients), [`coverage`] (what the runs reached), [`report`] (what the
//! user reads), [`cli`] (the options).

pub mod case_file;
pub mod cli;
pub mod coverage;
pub mod generate;
pub mod report;
pub mod shrink;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::catalogue::Catalogue;
use crate::client::ClientSpec;
use crate::runner::{self, Plan};
use crate::settings::Settings;
use crate::verdict::{CaseReport, Verdict};
use generate::Generated;

/// What to explore, and how long.
#[derive(Debug, Clone)]
pub struct Options {
    pub client: ClientSpec,
    /// How reports name the client.
    pub label: String,
    pub seed: u64,
    /// Most generated scenarios to run.
    pub runs: u64,
    /// Stop starting new scenarios after this long.
    pub max_time: Duration,
    /// Only this generated index (`--replay SEED:INDEX`).
    pub only_index: Option<u64>,
    /// Runs per shrink candidate, at most (the policy in [`shrink`]).
    pub shrink_tries: u32,
    /// Most client runs the shrink may take.
    pub shrink_budget: u32,
    /// Saved failures, re-run first; a new failure is saved here.
    pub corpus: Option<PathBuf>,
    pub skip: Vec<String>,
    /// Limits, as for `conformance run` (`jobs` is how many runs go at once).
    pub settings: Settings,
}

/// Everything a run needs, shared by the tasks.
pub(crate) struct Ctx {
    pub catalogue: Arc<Catalogue>,
    pub opts: Options,
    /// Client runs so far (explore and shrink).
    pub client_runs: AtomicU32,
}

/// One scenario run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Its index in the seed's sequence; `None` for a corpus file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// `seed:index`, or the corpus file.
    pub source: String,
    pub scenario: Generated,
    pub summary: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warned_rules: Vec<String>,
    /// Fault kinds the client was actually served (by [`generate::KIND_LABELS`]).
    pub served: Vec<&'static str>,
    #[serde(serialize_with = "crate::secs::secs")]
    pub duration: Duration,
}

/// The first FAILED, shrunk.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub source: String,
    /// The rule the shrink kept failing (the first FAILED rule of the original run).
    pub rule: String,
    pub original: Generated,
    pub minimal: Generated,
    pub minimal_summary: String,
    /// Client runs the shrink took, and the steps it accepted.
    pub shrink_runs: u32,
    pub shrink_steps: u32,
    /// Whether the shrink stopped on its budget (the scenario may shrink further).
    pub shrink_budget_hit: bool,
    /// The minimal run's case report (what the usual reports render).
    #[serde(skip)]
    pub minimal_report: CaseReport,
    /// Where the minimal scenario was written, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The whole exploration.
#[derive(Debug, Clone, Serialize)]
pub struct Exploration {
    pub seed: u64,
    pub client: String,
    pub runs: Vec<Run>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<Found>,
    /// Why it stopped: `found`, `runs`, `max-time` or `interrupted`.
    pub stopped_by: &'static str,
    #[serde(serialize_with = "crate::secs::secs")]
    pub wall_time: Duration,
    /// Client runs in all, shrink included.
    pub client_runs: u32,
}

impl Exploration {
    /// Nothing FAILED or was INTERRUPTED.
    pub fn passed(&self) -> bool {
        self.found.is_none()
            && !self
                .runs
                .iter()
                .any(|r| matches!(r.verdict, Verdict::Failed | Verdict::Interrupted))
    }
}

/// The scenario name used for runs of `g` (the mock is per run, so names never clash).
fn scenario_name(tag: &str) -> String {
    format!("explore-{tag}")
}

/// Runs the client once against `g` and grades it.
pub(crate) async fn run_one(ctx: &Ctx, g: &Generated, tag: &str) -> CaseReport {
    let name = scenario_name(tag);
    let toml = g.to_toml(&name, "");
    run_toml(ctx, &name, &toml).await
}

/// A report for a scenario file that could not run (it names why).
fn not_run(file: &str, why: String) -> CaseReport {
    let case = crate::catalogue::Case {
        id: file.to_string(),
        title: String::new(),
        scenario: String::new(),
        expect: crate::catalogue::Expect {
            validation_status: crate::catalogue::ExpectedStatus::Error,
            failure_status: None,
        },
        api_key: None,
    };
    CaseReport::not_run(&case, String::new(), Verdict::Interrupted, why)
}

/// Runs the client once against the one scenario of a scenario file.
async fn run_toml(ctx: &Ctx, file: &str, toml: &str) -> CaseReport {
    ctx.client_runs.fetch_add(1, Ordering::Relaxed);
    let catalogue = match case_file::catalogue_with(&ctx.catalogue, file, toml) {
        Ok(c) => c,
        Err(e) => return not_run(file, e.to_string()),
    };
    let Some(case) = catalogue.cases.first().cloned() else {
        return not_run(file, "no scenario in the file".into());
    };
    let scenario = catalogue
        .scenarios
        .id_of(&case.scenario)
        .map(|id| catalogue.scenarios.get(id).clone());
    let settings = match &scenario {
        Some(s) => case_file::settings_for(&[s], &ctx.opts.settings),
        None => ctx.opts.settings.clone(),
    };
    let plan = Plan {
        catalogue: Arc::new(catalogue),
        client: ctx.opts.client.clone(),
        settings,
        skip: ctx.opts.skip.clone(),
        only: Vec::new(),
    };
    runner::run_case(&plan, &case).await
}

/// The rules a report FAILED and WARNED, in catalogue order, each once.
pub fn rules_with(report: &CaseReport, verdict: Verdict) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in &report.findings {
        if f.verdict == verdict && !out.contains(&f.rule) {
            out.push(f.rule.clone());
        }
    }
    out
}

fn record(index: Option<u64>, source: String, g: Generated, report: &CaseReport) -> Run {
    Run {
        index,
        source,
        summary: g.summary(),
        scenario: g,
        verdict: report.verdict,
        failed_rules: rules_with(report, Verdict::Failed),
        warned_rules: rules_with(report, Verdict::Warning),
        served: coverage::served(report),
        duration: report.duration,
    }
}

/// A saved failure: its file and text.
struct Saved {
    path: PathBuf,
    toml: String,
}

/// The corpus's `*.toml` files, in name order.
fn read_corpus(dir: &Path) -> std::io::Result<Vec<Saved>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let toml = std::fs::read_to_string(&path)?;
            Ok(Saved { path, toml })
        })
        .collect()
}

/// Explores until the budget ends or a run FAILS, then shrinks that run.
pub async fn explore(catalogue: Arc<Catalogue>, opts: Options) -> std::io::Result<Exploration> {
    let started = Instant::now();
    let ctx = Arc::new(Ctx {
        catalogue,
        opts,
        client_runs: AtomicU32::new(0),
    });
    let mut runs: Vec<Run> = Vec::new();
    let mut failed: Option<(Run, CaseReport)> = None;
    let mut stopped_by = "runs";

    // Saved failures first, one after another (there are few, and each is small).
    if let Some(dir) = &ctx.opts.corpus {
        for saved in read_corpus(dir)? {
            let source = saved.path.display().to_string();
            let report = run_toml(&ctx, &source, &saved.toml).await;
            let mut run = record(None, source, Generated::default(), &report);
            run.summary = report.title.clone();
            let stop = run.verdict == Verdict::Failed;
            runs.push(run.clone());
            if stop {
                failed = Some((run, report));
                stopped_by = "found";
                break;
            }
        }
    }

    if failed.is_none() {
        let indices: Box<dyn Iterator<Item = u64> + Send> = match ctx.opts.only_index {
            Some(i) => Box::new(std::iter::once(i)),
            None => Box::new(0..ctx.opts.runs),
        };
        let (generated, reason) = run_generated(&ctx, indices, started).await;
        stopped_by = reason;
        for (run, report) in generated {
            let stop = run.verdict == Verdict::Failed && failed.is_none();
            runs.push(run.clone());
            if stop {
                failed = Some((run, report));
            }
        }
        if failed.is_some() {
            stopped_by = "found";
        }
    }

    let found = match failed {
        Some((run, report)) => Some(shrink::shrink(&ctx, run, report).await),
        None => None,
    };
    let mut found = found;
    if let (Some(f), Some(dir)) = (found.as_mut(), &ctx.opts.corpus)
        && f.source.contains(':')
    {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}-{}.toml", f.source.replace(':', "-"), f.rule));
        std::fs::write(&path, report::minimal_toml(&ctx.opts, f))?;
        f.file = Some(path.display().to_string());
    }
    Ok(Exploration {
        seed: ctx.opts.seed,
        client: ctx.opts.label.clone(),
        runs,
        found,
        stopped_by,
        wall_time: started.elapsed(),
        client_runs: ctx.client_runs.load(Ordering::Relaxed),
    })
}

/// Runs generated scenarios, `jobs` at once, in index order. Once one FAILS no new index
/// starts, and every index below it still finishes, so the run reported first is the lowest
/// failing index: the same one on every run of a deterministic client, whatever `--jobs` is.
async fn run_generated(
    ctx: &Arc<Ctx>,
    mut indices: impl Iterator<Item = u64>,
    started: Instant,
) -> (Vec<(Run, CaseReport)>, &'static str) {
    let jobs = ctx.opts.settings.jobs.max(1);
    let mut set: JoinSet<(u64, Run, CaseReport)> = JoinSet::new();
    let mut done: Vec<(u64, Run, CaseReport)> = Vec::new();
    let mut lowest_failure: Option<u64> = None;
    let mut reason = "runs";
    loop {
        while set.len() < jobs && lowest_failure.is_none() {
            if started.elapsed() >= ctx.opts.max_time {
                reason = "max-time";
                break;
            }
            let Some(i) = indices.next() else { break };
            let ctx = ctx.clone();
            set.spawn(async move {
                let g = generate::generate(ctx.opts.seed, i);
                let report = run_one(&ctx, &g, &i.to_string()).await;
                let run = record(Some(i), format!("{}:{i}", ctx.opts.seed), g, &report);
                (i, run, report)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let Ok((i, run, report)) = joined else {
            continue;
        };
        if run.verdict == Verdict::Interrupted {
            reason = "interrupted";
            lowest_failure = Some(lowest_failure.map_or(i, |l| l.min(i)));
        }
        if run.verdict == Verdict::Failed {
            lowest_failure = Some(lowest_failure.map_or(i, |l| l.min(i)));
        }
        done.push((i, run, report));
    }
    done.sort_by_key(|(i, _, _)| *i);
    // Runs above the lowest failure were only in flight: they are reported, but the failure
    // shrunk is the lowest.
    (done.into_iter().map(|(_, r, c)| (r, c)).collect(), reason)
}
