//! `truidentidad-mock scenarios list|show|check`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use truidentidad_scenarios::Catalogue;
use truidentidad_scenarios::format::{FormatErrors, parse_scenarios};

#[derive(Debug, Subcommand)]
pub enum ScenariosCommand {
    /// Print the catalogue: one line per scenario with what it does.
    #[command(
        after_help = "Examples:\n  truidentidad-mock scenarios list\n  truidentidad-mock scenarios list --scenarios my.toml"
    )]
    List {
        /// Also load these files (as `serve --scenarios` would).
        #[arg(long = "scenarios")]
        files: Vec<PathBuf>,
    },
    /// Print one scenario's phases, outcome and faults.
    #[command(after_help = "Example:\n  truidentidad-mock scenarios show flaky-5xx-then-success")]
    Show {
        name: String,
        #[arg(long = "scenarios")]
        files: Vec<PathBuf>,
    },
    /// Check scenario files and report every error with file:line:column.
    #[command(
        after_help = "Example:\n  truidentidad-mock scenarios check my-scenarios.toml other.toml\n\nExit status: 0 when every file is valid, 1 when any has errors, 2 when a file cannot be read."
    )]
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// The built-in catalogue plus `files`, or every error in them.
pub fn load_catalogue(files: &[PathBuf], pending_for: Duration) -> anyhow::Result<Catalogue> {
    let mut catalogue = Catalogue::builtin().with_pending_for(pending_for);
    let mut report = String::new();
    for path in files {
        let src = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario file {}", path.display()))?;
        if let Err(errors) = catalogue.load_file(&path.display().to_string(), &src) {
            report.push_str(&render(&errors));
        }
    }
    if !report.is_empty() {
        bail!("invalid scenario file(s):\n{report}");
    }
    Ok(catalogue)
}

fn render(errors: &FormatErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| e.render())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(cmd: ScenariosCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ScenariosCommand::List { files } => {
            let c = load_catalogue(&files, Duration::from_secs(3))?;
            let width = c.iter().map(|(_, s)| s.name.len()).max().unwrap_or(0);
            for (_, s) in c.iter() {
                println!("{:width$}  {}", s.name, s.description);
            }
            Ok(ExitCode::SUCCESS)
        }
        ScenariosCommand::Show { name, files } => {
            let c = load_catalogue(&files, Duration::from_secs(3))?;
            let Some(id) = c.id_of(&name) else {
                bail!("unknown scenario `{name}`; known scenarios: {}", c.names());
            };
            print!("{}", describe(c.get(id)));
            Ok(ExitCode::SUCCESS)
        }
        ScenariosCommand::Check { files } => {
            let mut failed = false;
            for path in &files {
                let src = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                match parse_scenarios(&path.display().to_string(), &src) {
                    Ok(s) => println!(
                        "{}: ok ({} scenario{})",
                        path.display(),
                        s.len(),
                        if s.len() == 1 { "" } else { "s" }
                    ),
                    Err(errors) => {
                        failed = true;
                        eprint!("{}", render(&errors));
                        eprintln!(
                            "{}: {} error{}",
                            path.display(),
                            errors.0.len(),
                            if errors.0.len() == 1 { "" } else { "s" }
                        );
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn describe(s: &truidentidad_scenarios::Scenario) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", s.name, s.description);
    for p in &s.phases {
        let mut ends = Vec::new();
        if let Some(t) = p.until {
            ends.push(format!("{} after creation", humantime::format_duration(t)));
        }
        if let Some(n) = p.until_polls {
            ends.push(format!("after {n} poll{}", if n == 1 { "" } else { "s" }));
        }
        let ends = if ends.is_empty() {
            "never ends".to_string()
        } else {
            format!("ends {}", ends.join(" or "))
        };
        let _ = writeln!(out, "  pending  {:<18} {ends}", p.name);
    }
    let _ = writeln!(out, "  outcome  {}", s.outcome_label());
    for f in &s.faults {
        let which = if f.nth.is_empty() {
            format!("every {}", f.request.as_str())
        } else {
            let n: Vec<String> = f.nth.iter().map(|n| format!("#{n}")).collect();
            format!("{} {}", f.request.as_str(), n.join(", "))
        };
        let phase = f
            .phase
            .map(|i| {
                format!(
                    " in {}",
                    s.phases.get(i).map_or("outcome", |p| p.name.as_str())
                )
            })
            .unwrap_or_default();
        let chance = if f.chance < 1.0 {
            format!(" ({:.0}% of the time)", f.chance * 100.0)
        } else {
            String::new()
        };
        let action = match (&f.delay, &f.action) {
            (Some(d), truidentidad_scenarios::FaultAction::DelayOnly) => d.to_string(),
            (Some(d), a) => format!("{d}, then {a}"),
            (None, a) => a.to_string(),
        };
        let _ = writeln!(out, "  fault    {which}{phase}{chance}: {action}");
    }
    out
}
