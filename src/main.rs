//! `truidentidad-mock`: the one user-facing binary. A thin layer over the libraries: parse
//! the command line, build a configuration, call into `truidentidad-mock-server` or
//! `truidentidad-scenarios`, and turn errors into messages and exit codes.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
