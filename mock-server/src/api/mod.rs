//! The emulated TruIdentidad API: the two endpoints an integrator's backend calls.

pub mod create;
pub mod poll;
pub mod throttle;
