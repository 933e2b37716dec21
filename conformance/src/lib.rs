//! Conformance suite (issue #4): grades a TruIdentidad client against the spec.

pub mod cli;
