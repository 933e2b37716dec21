//! Command-line definitions and dispatch.

mod docs;
mod health;
mod identities;
mod log;
mod scenarios;
mod serve;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

const ABOUT: &str = "Offline simulator and conformance harness for Truora's TruIdentidad \
(face validation against Colombia's Registraduría).";

/// `--version`: the crate version and the commit it was built from (see build.rs). The
/// Python and Node.js helpers read the version from it to check they match the binary.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TRUIDENTIDAD_MOCK_COMMIT"),
    ")"
);

const AFTER_HELP: &str = "\
Examples:
  truidentidad-mock serve                          # mock API on http://127.0.0.1:8080
  truidentidad-mock serve --port 0 --seed 42       # free port, reproducible ids
  truidentidad-mock serve --clock manual           # time moves only via POST /_mock/clock/advance
  truidentidad-mock scenarios list                 # the built-in scenario catalogue
  truidentidad-mock scenarios check my.toml        # validate a scenario file
  truidentidad-mock identities --count 12 --format csv   # test people, one per outcome

Force an outcome from unchanged client code with a magic account_id:
  curl -s -X POST http://127.0.0.1:8080/v1/validations -H 'Truora-API-Key: test' \\
       -d type=government -d account_id=declined-deceased.user-42

Documentation, embedded in this binary: truidentidad-mock docs (README, SCHEMA, ...).";

#[derive(Debug, Parser)]
#[command(name = "truidentidad-mock", version = VERSION, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the mock TruIdentidad API (and its control API under /_mock/).
    // Boxed, as Load is: option structs several times the size of the rest.
    Serve(Box<serve::ServeArgs>),
    /// List, show and check scenarios.
    #[command(subcommand)]
    Scenarios(scenarios::ScenariosCommand),
    /// Grade a TruIdentidad client (or server) against the spec.
    Conformance(truidentidad_conformance::cli::ConformanceArgs),
    /// Load tests: the polling model (`load run`), raw endpoints, your fleet of pollers; merge.
    Load(Box<truidentidad_load::cli::LoadArgs>),
    /// Print synthetic Colombian test people whose document numbers select an outcome.
    Identities(identities::IdentitiesArgs),
    /// Exit 0 if a running mock answers GET /_mock/health (for container HEALTHCHECKs).
    Health(health::HealthArgs),
    /// Proxy to the real TruIdentidad API and record each validation's exchanges, redacted.
    Record(truidentidad_fidelity::cli::RecordArgs),
    /// Compare a recording with the mock: structural diff, and the facts it bears on.
    #[command(subcommand)]
    Fidelity(truidentidad_fidelity::cli::FidelityCommand),
    /// Print the documentation the help refers to (embedded: no checkout needed).
    Docs(docs::DocsArgs),
}

/// Parses the command line. `serve -h` lists each option with its first sentence only (about
/// 40 options: the full text is `serve --help`); elsewhere `-h` and `--help` are the same.
pub fn parse() -> Cli {
    let command = Cli::command().mut_subcommand("serve", |serve| serve.mut_args(first_sentence));
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Keeps an option's full help for `--help` and gives `-h` its first sentence.
fn first_sentence(arg: clap::Arg) -> clap::Arg {
    let Some(full) = arg.get_help().map(|h| h.to_string()) else {
        return arg;
    };
    if arg.get_long_help().is_some() {
        return arg;
    }
    // A sentence ends at ". " before a capital: "e.g. success=70" does not end one.
    let end = full
        .match_indices(". ")
        .find(|(i, _)| full[i + 2..].starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|(i, _)| i);
    let short = end.map_or_else(|| full.clone(), |i| full[..i].to_string());
    arg.long_help(full).help(short)
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Scenarios(cmd) => scenarios::run(cmd),
        Command::Conformance(args) => Ok(truidentidad_conformance::cli::run(args)?),
        Command::Load(args) => Ok(truidentidad_load::cli::run(*args)?),
        Command::Identities(args) => identities::run(args),
        Command::Health(args) => health::run(args),
        Command::Record(args) => {
            record_logging();
            Ok(truidentidad_fidelity::cli::run_record(
                args,
                serve::shutdown_signal(),
            )?)
        }
        Command::Fidelity(cmd) => Ok(truidentidad_fidelity::cli::run_fidelity(cmd)?),
        Command::Docs(args) => docs::run(args),
    }
}

/// The recording proxy's warnings (why a request got a 502: an upstream it cannot reach, a
/// certificate it refused) go to stderr; `RUST_LOG` widens or narrows them.
fn record_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
