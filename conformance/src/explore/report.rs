//! What explore prints and writes: the scenario list with verdicts, the shrunk failure with its
//! scenario file and one-line replay command, the usual reports of the minimal case, and its
//! reach (scenarios, runs per minute, coverage).

use std::fmt::Write as _;

use super::{Exploration, Found, Options, coverage};
use crate::client::ClientSpec;
use crate::settings::settings_report;
use crate::trace::fmt_secs;
use crate::verdict::RunReport;

/// The client as `conformance run` takes it on a command line.
pub fn client_arg(client: &ClientSpec) -> String {
    match client {
        ClientSpec::Command(c) => format!("--client '{}'", c.replace('\'', r"'\''")),
        ClientSpec::Url(u) => format!("--client-url {u}"),
    }
}

/// The scenario name of a minimal file.
pub fn minimal_name(seed: u64, f: &Found) -> String {
    format!(
        "explore-min-{seed}-{}",
        f.source.rsplit(':').next().unwrap_or("0")
    )
}

/// The command that replays a minimal scenario file as an ordinary case.
pub fn replay_command(opts: &Options, file: &str) -> String {
    format!(
        "truidentidad-mock conformance run {} --case-file {file}{}",
        client_arg(&opts.client),
        deadline_arg(opts)
    )
}

/// `--outcome-deadline`, when explore's differs from `conformance run`'s default, so the replay
/// hands the client the same deadline.
fn deadline_arg(opts: &Options) -> String {
    let d = opts.settings.outcome_deadline;
    if d == crate::settings::Settings::default().outcome_deadline {
        String::new()
    } else {
        format!(" --outcome-deadline {}s", d.as_secs())
    }
}

/// The minimal scenario as a scenario file, with a header saying where it came from.
pub fn minimal_toml(opts: &Options, f: &Found) -> String {
    let header = format!(
        "Minimal scenario found by `truidentidad-mock conformance explore --seed {seed}` (scenario {src}).\n\
         It FAILS rule `{rule}` for client {client}.\n\
         Shrunk from: {orig}\n\
         Replay: truidentidad-mock conformance run {arg} --case-file <this file>{deadline}",
        seed = opts.seed,
        src = f.source,
        rule = f.rule,
        client = opts.label,
        orig = f.original.summary(),
        arg = client_arg(&opts.client),
        deadline = deadline_arg(opts),
    );
    f.minimal.to_toml(&minimal_name(opts.seed, f), &header)
}

/// The minimal case as a one-case run report (JSON, JUnit, HTML and terminal renderings).
pub fn minimal_run_report(opts: &Options, f: &Found) -> RunReport {
    let mut case = f.minimal_report.clone();
    if f.source.contains(':') {
        case.id = minimal_name(opts.seed, f);
        case.scenario = case.id.clone();
    }
    let cases = vec![case];
    RunReport {
        schema: 1,
        suite: "truidentidad-conformance",
        version: env!("CARGO_PKG_VERSION"),
        client: opts.label.clone(),
        settings: settings_report(&opts.settings, &opts.skip),
        summary: RunReport::summarize(&cases),
        expect: None,
        wall_time: f.minimal_report.duration,
        cases,
    }
}

/// The terminal report.
pub fn render(x: &Exploration, opts: &Options, replay: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "explore: seed {}, client {}, {} scenario(s) run, {} at a time",
        x.seed,
        x.client,
        x.runs.len(),
        opts.settings.jobs
    );
    let _ = writeln!(
        s,
        "  {:<18} {:<11} {:>8}  SCENARIO",
        "RUN", "VERDICT", "TIME"
    );
    for r in &x.runs {
        let rules = if r.failed_rules.is_empty() && r.warned_rules.is_empty() {
            String::new()
        } else {
            let mut all = r.failed_rules.clone();
            all.extend(r.warned_rules.iter().cloned());
            format!("  [{}]", all.join(", "))
        };
        let _ = writeln!(
            s,
            "  {:<18} {:<11} {:>8}  {}{rules}",
            r.source,
            r.verdict.as_str(),
            fmt_secs(r.duration),
            r.summary
        );
    }
    let minutes = x.wall_time.as_secs_f64() / 60.0;
    let per_minute = if minutes > 0.0 {
        x.runs.len() as f64 / minutes
    } else {
        0.0
    };
    let cov = coverage::of(&x.runs);
    let _ = writeln!(
        s,
        "\nREACH: {} scenario(s) in {} ({per_minute:.1} runs/min), {} client run(s) in all; stopped by {}",
        x.runs.len(),
        fmt_secs(x.wall_time),
        x.client_runs,
        x.stopped_by
    );
    s.push_str(&cov.render());
    match &x.found {
        Some(f) => {
            let _ = writeln!(
                s,
                "\nFOUND {} FAILED rule `{}`: {}",
                f.source,
                f.rule,
                f.original.summary()
            );
            let _ = writeln!(
                s,
                "  shrunk in {} client run(s), {} step(s){}, to {} fault(s) and {} phase(s): {}",
                f.shrink_runs,
                f.shrink_steps,
                if f.shrink_budget_hit {
                    " (stopped by --shrink-runs: it may shrink further)"
                } else {
                    ""
                },
                f.minimal.fault_count(),
                f.minimal.phases.len(),
                f.minimal_summary
            );
            if let Some(file) = &f.file {
                let _ = writeln!(s, "  minimal scenario: {file}");
            }
            if let Some(cmd) = replay {
                let _ = writeln!(s, "  replay: {cmd}");
            }
            if f.source.contains(':') {
                let _ = writeln!(
                    s,
                    "  run it again as generated: truidentidad-mock conformance explore {} --replay {}",
                    client_arg(&opts.client),
                    f.source
                );
            }
            s.push('\n');
            s.push_str(&crate::report::terminal::render(&minimal_run_report(
                opts, f,
            )));
            let _ = writeln!(
                s,
                "RESULT FAILED: seed {} scenario {} breaks `{}`",
                x.seed, f.source, f.rule
            );
        }
        None if x.passed() => {
            let _ = writeln!(
                s,
                "\nRESULT PASSED: no FAILED in {} scenario(s) (seed {}). Not a proof: only the reach above was tried.",
                x.runs.len(),
                x.seed
            );
        }
        None => {
            let _ = writeln!(
                s,
                "\nRESULT FAILED: a run was INTERRUPTED (seed {}); see its line above",
                x.seed
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::explore::generate::generate;
    use crate::explore::{Exploration, Run};
    use crate::settings::Settings;
    use crate::verdict::Verdict;

    fn opts() -> Options {
        Options {
            client: ClientSpec::Command("python3 client.py".into()),
            label: "`python3 client.py`".into(),
            seed: 7,
            runs: 3,
            max_time: Duration::from_secs(60),
            only_index: None,
            shrink_tries: 2,
            shrink_budget: 80,
            corpus: None,
            skip: Vec::new(),
            settings: Settings::default(),
        }
    }

    /// "Nothing found" lists what was tried (served kinds, outcomes, endings) and what was
    /// not, and says it is not a proof.
    #[test]
    fn nothing_found_says_what_was_and_was_not_tried() {
        let runs: Vec<Run> = (0..3)
            .map(|i| {
                let g = generate(7, i);
                Run {
                    index: Some(i),
                    source: format!("7:{i}"),
                    summary: g.summary(),
                    served: g.faults().map(|(_, f)| f.kind.label()).take(1).collect(),
                    scenario: g,
                    verdict: Verdict::Passed,
                    failed_rules: Vec::new(),
                    warned_rules: Vec::new(),
                    duration: Duration::from_millis(9_500),
                }
            })
            .collect();
        let x = Exploration {
            seed: 7,
            client: "`python3 client.py`".into(),
            runs,
            found: None,
            stopped_by: "runs",
            wall_time: Duration::from_secs(30),
            client_runs: 3,
        };
        insta::assert_snapshot!(render(&x, &opts(), None));
    }

    #[test]
    fn the_replay_command_quotes_the_client_and_passes_a_longer_deadline() {
        let mut o = opts();
        o.client = ClientSpec::Command("python3 it's.py".into());
        assert_eq!(
            replay_command(&o, "out/minimal.toml"),
            r"truidentidad-mock conformance run --client 'python3 it'\''s.py' --case-file out/minimal.toml"
        );
        o.settings.outcome_deadline = Duration::from_secs(120);
        assert!(
            replay_command(&o, "m.toml").ends_with(" --case-file m.toml --outcome-deadline 120s")
        );
    }
}
