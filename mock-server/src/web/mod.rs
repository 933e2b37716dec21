//! The browser side (issue #6): a stand-in for the TruIdentidad Web SDK, the Web Adapter it
//! talks to, a dashboard and a demo page, all served by the mock itself.
//!
//! Paths are the router's ([`crate::router`]); these modules answer what it routed.
//!
//! - [`assets`]: the embedded files (`/truorasdk.js`, `/truorasdk.css`, `/dashboard`, `/demo`,
//!   `/journey/{id}`, `/favicon.ico`), compiled in so `serve` works from any directory.
//! - [`adapter`]: `/web-adapter/v1/validations/{id}/…`, the SDK's backend.
//! - [`journey`]: the journey state on the validation record and its hold on scenario time.
//! - [`dashboard`]: `/dashboard/api/…`, the dashboard's data.
//! - [`http_cache`]: ETags, `304`s and gzip for the files and the dashboard's data.
//! - [`qr`]: the phone handoff QR code.
//!
//! The demo's "backend part" is the page's own script calling `POST /v1/validations` with a
//! demo API key (editable on the page). That is deliberate: it goes through exactly the API
//! path an integrator's backend uses (auth, scenarios, faults, journal), and the page shows the
//! request it sends, so it doubles as a worked example. A real integrator keeps that call and
//! the key on their server.

pub mod adapter;
pub mod assets;
pub mod dashboard;
pub mod http_cache;
pub mod journey;
pub mod qr;
