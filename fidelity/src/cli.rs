//! The `record` and `fidelity` subcommands' flags and what they run.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::diff::{self, Baseline, DiffError};
use crate::facts;
use crate::pick::{Mapping, MappingError};
use crate::proxy::{ProxyConfig, ProxyError, RecordingProxy};
use crate::recording::RecordingError;
use crate::report;

/// `truidentidad-mock record`.
#[derive(Debug, Args)]
#[command(after_help = "\
Point your backend at the proxy instead of https://api.validations.truora.com, run it as usual,
then stop the proxy with Ctrl-C. DIR gets recording.har and timelines/<validation>.json, with
API keys hashed and document numbers, names, IP addresses and media URLs redacted.

Example:
  truidentidad-mock record --upstream https://api.validations.truora.com --out recording/

HTTPS upstreams are verified against Mozilla's root certificates, built in; a certificate the
proxy refuses gives your client a 502 saying why. The proxy itself listens on plain HTTP.

The guide (what is redacted, the diff, sending a finding back): truidentidad-mock docs record")]
pub struct RecordArgs {
    /// The service to record: https://api.validations.truora.com, or any http(s)://host[:port]
    /// (a sandbox, a mock).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// PEM file of CA certificates to trust for an https upstream, besides the built-in roots
    /// (a corporate TLS-inspecting proxy, a private CA).
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    /// Directory the recording is written to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Where the proxy listens; port 0 picks a free one (printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
}

/// `truidentidad-mock fidelity …`.
#[derive(Debug, Subcommand)]
pub enum FidelityCommand {
    /// Replay a recording on the mock and list the structural differences (exit 1 on a new one).
    Diff(DiffArgs),
    /// Which documented facts about Truora's API (those `conformance server` checks) a
    /// recording confirms, contradicts or does not touch.
    Facts(FactsArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A directory written by `truidentidad-mock record`.
    pub dir: PathBuf,
    /// TOML `[scenarios]` table: validation id or outcome label → mock scenario name.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// TOML `accepted = [...]`: differences that do not fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write a baseline accepting every difference found now.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// A directory written by `truidentidad-mock record`.
    pub dir: PathBuf,
    /// Also write the table as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum FidelityError {
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Baseline(#[from] crate::toml_file::TomlFileError),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

fn runtime() -> Result<tokio::runtime::Runtime, FidelityError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(FidelityError::Runtime)
}

fn write(path: &Path, text: &str) -> Result<(), FidelityError> {
    std::fs::write(path, text).map_err(|source| FidelityError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Runs the proxy until `stop` completes.
pub fn run_record(
    args: RecordArgs,
    stop: impl Future<Output = ()>,
) -> Result<ExitCode, FidelityError> {
    runtime()?.block_on(async {
        let proxy = RecordingProxy::start(ProxyConfig {
            upstream: args.upstream.clone(),
            upstream_ca: args.upstream_ca.clone(),
            out: args.out.clone(),
            listen: args.listen,
            now: None,
        })
        .await?;
        println!(
            "recording {} -> {} into {} (Ctrl-C to stop)",
            proxy.uri(),
            args.upstream,
            args.out.display()
        );
        let _ = std::io::stdout().flush();
        proxy.run_until(stop).await?;
        eprintln!("recording written to {}", args.out.display());
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run_fidelity(cmd: FidelityCommand) -> Result<ExitCode, FidelityError> {
    match cmd {
        FidelityCommand::Diff(a) => run_diff(a),
        FidelityCommand::Facts(a) => {
            let r = facts::facts(&a.dir)?;
            print!("{}", r.render());
            if let Some(p) = &a.json {
                let text = serde_json::to_string_pretty(&r).unwrap_or_default();
                write(p, &text)?;
            }
            Ok(if r.contradicted() > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn run_diff(a: DiffArgs) -> Result<ExitCode, FidelityError> {
    let catalogue = truidentidad_scenarios::catalogue::Catalogue::builtin();
    let mapping = match &a.mapping {
        Some(p) => Mapping::load(p, &catalogue)?,
        None => Mapping::default(),
    };
    let baseline = match &a.baseline {
        Some(p) => Baseline::load(p)?,
        None => Baseline::default(),
    };
    let r = runtime()?.block_on(diff::diff(&a.dir, &mapping, &baseline))?;
    print!("{}", report::terminal(&r));
    for (path, text) in [
        (&a.json, report::json(&r)),
        (&a.junit, report::junit(&r)),
        (&a.html, report::html(&r)),
        (&a.write_baseline, Baseline::render(&r)),
    ] {
        if let Some(p) = path {
            write(p, &text)?;
        }
    }
    Ok(if r.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
