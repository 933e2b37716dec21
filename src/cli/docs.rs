//! `truidentidad-mock docs [NAME]`: the documentation the help text points to, embedded in the
//! binary, so that a `--help` reference holds after `pip install`, `npm install` or
//! `cargo install`, with no checkout around.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

/// Name, what it covers, text. The help of every subcommand names these, never a path.
pub const DOCS: &[(&str, &str, &str)] = &[
    (
        "README",
        "overview, set-up, the API, the control API, the helpers per stack",
        include_str!("../../README.md"),
    ),
    (
        "SCHEMA",
        "the JSON report of `load --json`, field by field",
        truidentidad_load::SCHEMA_MD,
    ),
    (
        "conformance",
        "the conformance suite: the client contract, cases, reports",
        truidentidad_conformance::README_MD,
    ),
    (
        "scale-out",
        "replicas sharing one Redis behind a balancer",
        include_str!("../../docs/scale-out.md"),
    ),
    (
        "record",
        "recording the real service through `record`; `fidelity diff` and `fidelity facts`",
        include_str!("../../docs/record.md"),
    ),
    (
        "packaging",
        "the pip and npm packages: release matrix, building them",
        include_str!("../../docs/packaging.md"),
    ),
];

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  truidentidad-mock docs\n  truidentidad-mock docs SCHEMA | less"
)]
pub struct DocsArgs {
    /// The document to print (case does not matter); without it, the list.
    name: Option<String>,
}

pub fn run(args: DocsArgs) -> anyhow::Result<ExitCode> {
    let Some(name) = args.name else {
        let width = DOCS.iter().map(|(n, ..)| n.len()).max().unwrap_or(0);
        for (name, about, _) in DOCS {
            println!("{name:width$}  {about}");
        }
        return Ok(ExitCode::SUCCESS);
    };
    match DOCS.iter().find(|(n, ..)| n.eq_ignore_ascii_case(&name)) {
        Some((_, _, text)) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => bail!(
            "no document `{name}`; known: {}",
            DOCS.iter().map(|(n, ..)| *n).collect::<Vec<_>>().join(", ")
        ),
    }
}
