//! `truidentidad-mock conformance …` arguments and entry point.

use std::process::ExitCode;

/// Arguments of `truidentidad-mock conformance`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {}

/// Errors that stop the suite itself.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("the conformance suite is not built yet")]
    NotBuilt,
}

pub fn run(_args: ConformanceArgs) -> Result<ExitCode, SuiteError> {
    Err(SuiteError::NotBuilt)
}
