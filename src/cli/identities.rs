//! `truidentidad-mock identities`: synthetic Colombian test people whose document numbers
//! select an outcome (the generator is `truidentidad_scenarios::identities`).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use truidentidad_scenarios::identities::{self, MAX_COUNT};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  truidentidad-mock identities --count 12 --seed 7 --format csv > people.csv
  truidentidad-mock identities --count 1000 --format json > people.json
  truidentidad-mock load run --identities people.csv --rate 20 --duration 30s

Person i gets the outcome of row i mod 12 of the README's table (\"Test identities\"), so any
12 consecutive people cover every outcome. The same seed always prints the same people.")]
pub struct IdentitiesArgs {
    /// How many people (1 to 1000000).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=MAX_COUNT))]
    count: u64,
    /// Seed of the names and numbers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format: a JSON array of objects, or CSV with a header line.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn run(args: IdentitiesArgs) -> anyhow::Result<ExitCode> {
    let people = identities::generate(args.count, args.seed);
    print!(
        "{}",
        match args.format {
            Format::Json => identities::to_json(&people),
            Format::Csv => identities::to_csv(&people),
        }
    );
    Ok(ExitCode::SUCCESS)
}
