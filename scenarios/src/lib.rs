//! Scenarios: how one TruIdentidad validation moves from `pending` to its outcome, and which
//! faults the mock injects on the way. Pure logic, no I/O, no clock: callers pass in "how long
//! since creation" and "how many polls so far", so the same code drives the server, the
//! conformance suite and property tests.
//!
//! Layout:
//! - [`model`]: the scenario types (phases, outcome, faults).
//! - [`reasons`]: Truora's documented status and reason codes.
//! - [`format`]: the TOML file format, with `file:line:column` errors.
//! - [`engine`]: [`engine::observe`], the one function that says what a poll sees.
//! - [`catalogue`]: the built-in scenarios and name lookup (magic `account_id`s, mixes).
//! - [`near_miss`]: magic `account_id` prefixes a typo away from a scenario name.
//! - [`identities`]: test document numbers that select an outcome, and synthetic test people.
//! - [`rng`]: the seeded, version-stable random stream behind ids, mixes and jitter.

pub mod catalogue;
pub mod engine;
pub mod format;
pub mod identities;
pub mod model;
pub mod near_miss;
pub mod reasons;
pub mod rng;

pub use catalogue::{Catalogue, Mix, MixError, MixSpec};
pub use engine::{Observation, ValidationFacts, observe, select_fault};
pub use format::{FormatError, parse_scenarios};
pub use model::{
    ConnectionFault, Delay, Fault, FaultAction, Outcome, Phase, RequestKind, Scenario,
    ValidationStatus,
};
