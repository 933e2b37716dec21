//! Polling load generator and benchmarks for TruIdentidad servers (issue #5).
//!
//! `truidentidad-mock load` creates validations at a scheduled rate and polls each to its end,
//! as a real integration does, and reports latency percentiles that include queueing delay.
//! It is an HTTP client only: it knows the public API and the magic `account_id` convention,
//! nothing of the mock's insides, so it loads any server or proxy that speaks the API.
//!
//! Layout, in the order a run uses it:
//! - [`cli`]: options, checks, exit codes (`99` when a threshold fails).
//! - [`spec`]: parsers for rates, ramp stages and scenario mixes.
//! - [`schedule`]: when each validation is due (open model, computed, not paced).
//! - [`run`]: the polling model and the raw fixed-concurrency mode.
//! - [`client`]: the API client (create, poll), on [`pool`]'s bounded pool of keep-alive
//!   connections. [`raw`]: raw mode's own loop on a socket per worker, lean enough to be
//!   compared with wrk. Both speak [`http1`] (the response parser and reader, the timer) and
//!   count failures as [`outcome`] classes; those two are leaves, so nothing imports in a circle.
//! - [`stats`]: HdrHistograms and counters. [`progress`]: the live display. [`exporter`]:
//!   the same figures for Prometheus (`--metrics-addr`).
//! - [`report`]: the summary text and the `--json` schema. [`threshold`]: pass/fail gates.
//!
//! The `floor-server` binary is the benchmarks' baseline: the least an HTTP server on the same
//! stack (tokio + hyper) can do per request, to measure the mock against.

/// `benches/SCHEMA.md`, embedded: `truidentidad-mock docs SCHEMA` prints it, so the help that
/// points to it holds wherever the binary is installed.
pub const SCHEMA_MD: &str = include_str!("../SCHEMA.md");

pub mod cli;
pub mod client;
pub mod exporter;
pub mod fleet;
pub mod html;
pub mod http1;
pub mod merge;
pub mod metrics;
pub mod outcome;
pub mod pool;
pub mod progress;
pub mod raw;
pub mod report;
pub mod run;
pub mod schedule;
pub mod series;
pub mod spec;
pub mod stats;
pub mod summary;
pub mod threshold;
