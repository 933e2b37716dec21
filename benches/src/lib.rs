//! Polling load generator (issue #5).

pub mod cli;
