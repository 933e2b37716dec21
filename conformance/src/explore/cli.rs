//! `truidentidad-mock conformance explore …` options and entry point.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{Options, report};
use crate::catalogue::Catalogue;
use crate::client_args::{ClientArgs, await_client};
use crate::settings::Settings;
use crate::suite_error::SuiteError;

pub const EXPLORE_HELP: &str = "\
Generates scenarios from the scenario model (outcomes, phases, 429/503 with Retry-After, 5xx,
resets, closes, stalls, malformed/empty/slow bodies, create faults), runs the client against
each (same contract as `conformance run`), grades every run with the same rules, and shrinks the
first FAILED to a minimal scenario file that `conformance run --case-file` replays.

The same --seed gives the same scenarios in the same order. Exit codes: 0 nothing FAILED,
1 a scenario FAILED (or a run was INTERRUPTED), 2 the suite itself could not run.

Examples:
  truidentidad-mock conformance explore --client 'python3 client.py' --seed 7 --runs 200
  truidentidad-mock conformance explore --client 'python3 client.py' --replay 7:23
  truidentidad-mock conformance explore --client-url http://127.0.0.1:9000/verify --max-time 5m
  truidentidad-mock conformance explore --client ./client.sh --corpus .explore-corpus";

#[derive(Debug, Args)]
pub struct ExploreArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Seed of the scenario sequence (printed in the report; default: drawn from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Most scenarios to generate and run.
    #[arg(long, default_value_t = 100, value_name = "N")]
    runs: u64,
    /// Start no new scenario after this long (shrinking still finishes).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    max_time: Duration,
    /// Scenarios (and shrink candidates) run at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    jobs: usize,
    /// Run only scenario INDEX of SEED (as a report's `SEED:INDEX` names it), then shrink it if
    /// it FAILS.
    #[arg(long, value_name = "SEED:INDEX", value_parser = parse_replay)]
    replay: Option<(u64, u64)>,
    /// Runs per shrink candidate: a candidate counts as failing if the rule fails in at least
    /// 1 of this many runs.
    #[arg(long, default_value_t = 2, value_name = "K")]
    shrink_tries: u32,
    /// Most client runs the shrink may take.
    #[arg(long, default_value_t = 80, value_name = "N")]
    shrink_runs: u32,
    /// Saved failures (scenario files): re-run first; a new failure's minimal scenario is
    /// saved here.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Where the minimal scenario (minimal.toml), its reports (report.json, junit.xml,
    /// report.html) and the exploration (explore.json) are written.
    #[arg(long, default_value = "explore-out", value_name = "DIR")]
    out: PathBuf,
    /// Do not check this rule (repeatable).
    #[arg(long = "skip", value_name = "RULE")]
    skip: Vec<String>,
}

/// `SEED:INDEX`.
fn parse_replay(arg: &str) -> Result<(u64, u64), String> {
    let (seed, index) = arg
        .split_once(':')
        .ok_or_else(|| format!("expected SEED:INDEX (e.g. 7:23), got `{arg}`"))?;
    let num = |s: &str, what: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("the {what} in `{arg}` is not a whole number"))
    };
    Ok((num(seed, "seed")?, num(index, "index")?))
}

fn write(path: PathBuf, text: &str) -> Result<(), SuiteError> {
    std::fs::write(&path, text).map_err(|source| SuiteError::Write { path, source })
}

pub fn run(a: ExploreArgs) -> Result<ExitCode, SuiteError> {
    let catalogue = Arc::new(Catalogue::builtin()?);
    for r in &a.skip {
        if catalogue.rule(r).is_none() {
            return Err(SuiteError::UnknownRule(r.clone()));
        }
    }
    if a.jobs == 0 {
        return Err(SuiteError::NoJobs);
    }
    let (client, label) = a.client.spec();
    let seed = a.replay.map(|(s, _)| s).or(a.seed).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() % 100_000)
    });
    let opts = Options {
        client,
        label,
        seed,
        runs: a.runs,
        max_time: a.max_time,
        only_index: a.replay.map(|(_, i)| i),
        shrink_tries: a.shrink_tries,
        shrink_budget: a.shrink_runs,
        corpus: a.corpus,
        skip: a.skip,
        settings: Settings {
            jobs: a.jobs,
            outcome_deadline: super::generate::OUTCOME_DEADLINE,
            ..Settings::default()
        },
    };
    let runtime = crate::suite_error::runtime()?;
    await_client(&runtime, &opts.client)?;
    eprintln!(
        "exploring with seed {seed}: up to {} scenario(s), {} at a time, for at most {}…",
        opts.only_index.map_or(opts.runs, |_| 1),
        opts.settings.jobs,
        humantime::format_duration(opts.max_time)
    );
    let mut x = runtime
        .block_on(super::explore(catalogue, opts.clone()))
        .map_err(|source| SuiteError::Read {
            path: opts.corpus.clone().unwrap_or_default(),
            source,
        })?;
    std::fs::create_dir_all(&a.out).map_err(|source| SuiteError::Write {
        path: a.out.clone(),
        source,
    })?;
    let mut replay = None;
    if let Some(f) = x.found.as_mut() {
        let file = a.out.join("minimal.toml");
        write(file.clone(), &report::minimal_toml(&opts, f))?;
        replay = Some(report::replay_command(&opts, &file.display().to_string()));
        if f.file.is_none() {
            f.file = Some(file.display().to_string());
        }
        let run = report::minimal_run_report(&opts, f);
        write(a.out.join("report.json"), &crate::report::json(&run))?;
        write(a.out.join("junit.xml"), &crate::report::junit::render(&run))?;
        write(
            a.out.join("report.html"),
            &crate::report::html::render(&run),
        )?;
    }
    write(
        a.out.join("explore.json"),
        &serde_json::to_string_pretty(&x).unwrap_or_default(),
    )?;
    print!("{}", report::render(&x, &opts, replay.as_deref()));
    Ok(if x.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_takes_seed_and_index() {
        assert_eq!(parse_replay("7:23"), Ok((7, 23)));
        assert_eq!(
            parse_replay("7").unwrap_err(),
            "expected SEED:INDEX (e.g. 7:23), got `7`"
        );
        assert_eq!(
            parse_replay("7:x").unwrap_err(),
            "the index in `7:x` is not a whole number"
        );
    }
}
