//! Conformance suite (issue #4): grades a TruIdentidad client against the spec.
//!
//! Each case starts its own in-process mock ([`truidentidad_mock_server::MockServer`]), runs
//! the client under test once against it, then grades the mock's journal with named checks.
//!
//! Layout, in the order a run uses it:
//! - [`catalogue`]: rules and cases, loaded from `catalogue.toml` (and the suite's scenarios);
//!   [`check_id`]: the names its rules give their checks.
//! - [`settings`]: the tunable limits (minimum interval, deadline, quiet window, ...).
//! - [`client`]: driving the client under test (a command, or a service URL) and reading its
//!   result line.
//! - [`trace`]: the journal of one case, reduced to the API requests plus what each one showed;
//!   [`secs`]: how instants and durations are written.
//! - [`checks`]: one small function per rule, over a [`trace::Trace`].
//! - [`runner`]: runs cases in parallel and turns findings into verdicts.
//! - [`verdict`]: verdicts, findings and the run's report model.
//! - [`expect`]: known deviations (`--expect`).
//! - [`report`]: terminal, JSON, JUnit and HTML renderings (the HTML with an SVG timeline per
//!   case); findings repeated across cases are grouped.
//! - [`explore`]: `conformance explore`, generated scenarios, shrinking, and
//!   `conformance run --case-file`.
//! - [`server_check`]: `conformance server`, the same spirit for a server implementation.
//! - [`http`]: a minimal HTTP/1 client shared by the URL driver and the server checks.

/// `conformance/README.md`, embedded: `truidentidad-mock docs conformance` prints it, so the
/// help that points to it holds wherever the binary is installed.
pub const README_MD: &str = include_str!("../README.md");

pub mod catalogue;
pub mod check_id;
pub mod checks;
pub mod cli;
pub mod client;
pub mod client_args;
pub mod evidence;
pub mod expect;
pub mod explore;
pub mod http;
pub mod report;
pub mod runner;
pub mod secs;
pub mod server_check;
pub mod server_facts;
pub mod settings;
pub mod suite_error;
pub mod trace;
pub mod verdict;
