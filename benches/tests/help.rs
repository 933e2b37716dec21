//! What `truidentidad-mock load` prints for help and for a wrong command line: one subcommand
//! per mode, each listing only its options, `-h` short and `--help` full (snapshots), and the
//! old single-command form still parsed for a release.

use clap::{CommandFactory, Parser, Subcommand};
use truidentidad_load::cli::{LoadAction, LoadArgs};

/// The binary's command line, as far as `load` goes.
#[derive(Debug, Parser)]
#[command(name = "truidentidad-mock")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Load tests: the polling model, raw endpoints, your fleet of pollers; merge reports.
    Load(Box<LoadArgs>),
}

/// What clap prints for `argv` (help or an error).
fn printed(argv: &[&str]) -> String {
    match Cli::try_parse_from(argv) {
        Ok(cli) => panic!("{argv:?} parsed: {cli:?}"),
        Err(e) => e.render().to_string(),
    }
}

fn parsed(argv: &[&str]) -> LoadArgs {
    let Cmd::Load(args) = Cli::try_parse_from(argv).expect("valid arguments").command;
    *args
}

#[test]
fn the_command_line_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn load_help_lists_the_modes_not_every_option() {
    let long = printed(&["truidentidad-mock", "load", "--help"]);
    insta::assert_snapshot!("load_long", long);
    let short = printed(&["truidentidad-mock", "load", "-h"]);
    insta::assert_snapshot!("load_short", short);
    // The single list of every mode's options was 199 lines (`-h`: 133).
    assert!(long.lines().count() < 40, "{long}");
}

#[test]
fn each_mode_has_short_and_full_help() {
    for mode in ["run", "raw", "fleet", "merge"] {
        let short = printed(&["truidentidad-mock", "load", mode, "-h"]);
        let long = printed(&["truidentidad-mock", "load", mode, "--help"]);
        insta::assert_snapshot!(format!("{mode}_short"), short);
        insta::assert_snapshot!(format!("{mode}_long"), long);
        assert!(short.lines().count() < long.lines().count(), "{mode}");
    }
}

#[test]
fn a_fleet_needs_a_client_and_options_of_another_mode_are_refused() {
    insta::assert_snapshot!(printed(&[
        "truidentidad-mock",
        "load",
        "fleet",
        "--rate",
        "5"
    ]));
    insta::assert_snapshot!(printed(&[
        "truidentidad-mock",
        "load",
        "run",
        "--client",
        "x"
    ]));
}

#[test]
fn a_mode_turns_into_the_options_the_run_is_planned_from() {
    let fleet = parsed(&[
        "truidentidad-mock",
        "load",
        "fleet",
        "--client-url",
        "http://127.0.0.1:9/follow",
        "--rate",
        "5",
        "--mock-port",
        "18081",
        "--hold",
    ]);
    let Some(LoadAction::Fleet(f)) = fleet.action else {
        panic!("a fleet run: {fleet:?}");
    };
    let f = LoadArgs::from(*f);
    assert_eq!(f.client_url.as_deref(), Some("http://127.0.0.1:9/follow"));
    assert_eq!(
        (f.rate, f.mock_port, f.hold),
        (Some(5.0), Some(18081), true)
    );

    let run = parsed(&[
        "truidentidad-mock",
        "load",
        "run",
        "--rate",
        "7",
        "--json",
        "r.json",
    ]);
    let Some(LoadAction::Run(r)) = run.action else {
        panic!("a polling run: {run:?}");
    };
    let r = LoadArgs::from(*r);
    assert_eq!(r.rate, Some(7.0));
    assert_eq!(r.target.as_deref(), Some("http://127.0.0.1:8080"));
    assert!(r.client.is_none() && r.json.is_some());
}

#[test]
fn the_old_single_command_form_still_parses() {
    let old = parsed(&[
        "truidentidad-mock",
        "load",
        "--target",
        "http://127.0.0.1:9",
        "--rate",
        "5",
        "--duration",
        "2s",
    ]);
    assert!(old.action.is_none());
    assert_eq!(old.rate, Some(5.0));
}
