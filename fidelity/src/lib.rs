//! Keeping the mock honest against the real TruIdentidad service.
//!
//! - [`proxy`]: `record`, a proxy that forwards to the upstream (HTTP or HTTPS:
//!   [`upstream_tls`]) unchanged and records each validation's exchanges ([`exchange`],
//!   [`recording`]), redacted as they are captured
//!   ([`redact`], whose learned values are searched at once by [`learned`]), as HAR 1.2
//!   ([`har`], [`har_export`]) and one timeline per validation.
//! - [`diff`]: `fidelity diff`, each recorded validation replayed on an in-process mock
//!   ([`replay`]) with the scenario [`pick`] chooses, compared by structure ([`shape`]).
//! - [`facts`]: `fidelity facts`, the facts of `docs/fidelity.md` a recording confirms or
//!   contradicts. [`report`]: terminal, JSON, JUnit and HTML renderings. [`cli`]: the flags.

pub mod cli;
pub mod diff;
pub mod exchange;
pub mod facts;
pub mod har;
pub mod har_export;
pub mod learned;
pub mod pick;
pub mod proxy;
pub mod recording;
pub mod redact;
pub mod replay;
pub mod report;
pub mod shape;
pub mod toml_file;
pub mod upstream_tls;
