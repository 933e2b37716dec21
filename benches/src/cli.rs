//! `truidentidad-mock load …` arguments and entry point.

use std::process::ExitCode;

/// Arguments of `truidentidad-mock load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {}

/// Errors that stop a load run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the load generator is not built yet")]
    NotBuilt,
}

pub fn run(_args: LoadArgs) -> Result<ExitCode, LoadError> {
    Err(LoadError::NotBuilt)
}
