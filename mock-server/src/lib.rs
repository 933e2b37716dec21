//! The TruIdentidad mock server.
//!
//! It emulates Truora's validations API for `type=government` (TruIdentidad): `POST
//! /v1/validations` and `GET /v1/validations/{id}`, with outcomes driven by scenarios
//! ([`truidentidad_scenarios`]), plus a control API under `/_mock/`.
//!
//! Layout, in the order a request meets it:
//! - [`server`]: accept loop, connection limits, [`MockServer`] for in-process tests.
//! - [`conn`]: the socket wrapper that turns a scenario's "reset" into a real TCP RST.
//! - [`service`]: routing, auth, faults, journal and log for one request.
//! - [`form`]: the create form and its checks. [`ids`]: `VLD…`/`ACC…` ids.
//! - [`store`]: the sharded, bounded validation store. [`clock`]: injected time.
//! - [`render`]: response bodies. [`error`]: Truora's error envelope. [`body`]: slow bodies.
//! - [`control`]: the `/_mock/` API. [`journal`]: the bounded request journal.
//! - [`persist`]: `--state-file`, saving and restoring across restarts.
//! - [`web`]: the browser side: Web SDK stand-in, Web Adapter, dashboard, demo.

pub mod body;
pub mod clock;
pub mod config;
pub mod conn;
pub mod control;
pub mod error;
pub mod form;
pub mod ids;
pub mod journal;
pub mod log_sink;
pub mod persist;
pub mod render;
pub mod server;
pub mod service;
pub mod state;
pub mod stop;
pub mod store;
pub mod web;

pub use config::{ClockMode, ServerConfig};
pub use server::{MockServer, MockServerBuilder, ServeError, bind, serve};
pub use state::AppState;
