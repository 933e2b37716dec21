//! The TruIdentidad mock server.
//!
//! It emulates Truora's validations API for `type=government` (TruIdentidad): `POST
//! /v1/validations` and `GET /v1/validations/{id}`, with outcomes driven by scenarios
//! ([`truidentidad_scenarios`]), plus a control API under `/_mock/`.
//!
//! Layout, in the order a request meets it (`ARCHITECTURE.md` draws it):
//! - [`server`]: accept loop, connection limits, [`MockServer`] for in-process tests.
//! - [`conn`]: the socket wrapper that turns a scenario's "reset" into a real TCP RST.
//! - [`service`]: one request's path, stage to stage; [`exchange`]: what it learns on the way.
//! - [`router`]: method and path to a [`router::Route`], the only module that knows paths.
//! - [`auth`]: API key and admin token. [`request_body`]: bodies within size and time limits.
//! - [`api`]: create and poll. [`form`]: the create form. [`document`]: the document-number rule. [`ids`]: `VLD…`/`ACC…` ids.
//! - [`faults`]: a scenario's fault applied to a response. [`recorder`]: journal and log.
//! - [`backend`]: what replicas share, in memory or Redis. [`store`]: the store trait and its two stores. [`clock`]: injected time.
//! - [`render`]: response bodies; [`dates`]: the one date format. [`error`]: Truora's error envelope. [`reply`]: answers.
//! - [`response_body`]: whole or slowly dribbled bodies.
//! - [`control`]: the `/_mock/` API. [`journal`]: the bounded, typed request journal.
//! - [`metrics`]: Prometheus counters the recorder feeds, served at `/_mock/metrics`.
//! - [`persist`]: `--state-file`, saving and restoring across restarts.
//! - [`web`]: the browser side: Web SDK stand-in, Web Adapter, dashboard, demo.

pub mod api;
pub mod auth;
pub mod backend;
pub mod clock;
pub mod conditions;
pub mod config;
pub mod conn;
pub mod control;
pub mod dates;
pub mod document;
pub mod error;
pub mod exchange;
pub mod faults;
pub mod form;
pub mod ids;
pub mod journal;
pub mod jwt;
pub mod log_sink;
pub mod metrics;
pub mod persist;
pub mod recorder;
pub mod render;
pub mod reply;
pub mod request_body;
pub mod response_body;
pub mod router;
pub mod saved;
pub mod server;
pub mod service;
pub mod snapshotter;
pub mod state;
pub mod stop;
pub mod store;
pub mod text;
pub mod traffic;
pub mod web;

pub use config::{ClockMode, ServerConfig};
pub use server::{MockServer, MockServerBuilder, ServeError, bind, serve};
pub use state::AppState;
