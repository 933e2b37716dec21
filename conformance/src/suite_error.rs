//! The errors that stop the suite itself, and the runtime every subcommand runs on.
//!
//! A leaf below `cli` and `explore::cli`, so that both can return the same error without
//! importing each other.

use std::path::PathBuf;

use crate::catalogue::CatalogueError;
use crate::expect::ExpectError;

/// Errors that stop the suite itself (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("the conformance catalogue is invalid: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Expect(#[from] ExpectError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown case `{0}`; run `truidentidad-mock conformance list` for the cases")]
    UnknownCase(String),
    #[error("unknown rule `{0}` in --skip; run `truidentidad-mock conformance list` for the rules")]
    UnknownRule(String),
    #[error("--jobs must be at least 1")]
    NoJobs,
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot connect to the client service at {url} (is it running and listening there?)")]
    ClientUnreachable { url: String, source: std::io::Error },
    #[error("{0}")]
    CaseFile(#[from] crate::explore::case_file::CaseFileError),
}

/// The runtime `run`, `server` and `explore` share, so that each starts it the same way.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, SuiteError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(SuiteError::Runtime)
}
