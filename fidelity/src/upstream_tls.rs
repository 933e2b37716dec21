//! The proxy's TLS client, so `record --upstream https://api.validations.truora.com` works with
//! nothing in between.
//!
//! rustls on the `ring` provider (no cmake, no system OpenSSL). The roots trusted are Mozilla's,
//! compiled in (`webpki-roots`), so the proxy behaves the same in a bare container as on a
//! laptop; `--upstream-ca FILE` adds PEM roots of one's own: a corporate TLS-inspecting proxy,
//! or a test's self-signed CA. The same connector speaks plain HTTP to an `http://` upstream.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why the extra roots of `--upstream-ca` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("--upstream-ca {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--upstream-ca {path}: not PEM certificates: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("--upstream-ca {path}: no `BEGIN CERTIFICATE` block in the file")]
    Empty { path: PathBuf },
    #[error("--upstream-ca {path}: certificate {index} is not a usable root: {message}")]
    Root {
        path: PathBuf,
        index: usize,
        message: String,
    },
    #[error("TLS set-up: {0}")]
    Config(String),
}

/// Mozilla's roots plus every certificate in `extra_ca` (PEM).
fn roots(extra_ca: Option<&Path>) -> Result<rustls::RootCertStore, CaError> {
    let mut store = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let Some(path) = extra_ca else {
        return Ok(store);
    };
    let pem = std::fs::read(path).map_err(|source| CaError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| CaError::Pem {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CaError::Empty {
            path: path.to_path_buf(),
        });
    }
    for (i, cert) in certs.into_iter().enumerate() {
        store.add(cert).map_err(|e| CaError::Root {
            path: path.to_path_buf(),
            index: i + 1,
            message: e.to_string(),
        })?;
    }
    Ok(store)
}

/// A connector for `http://` and `https://` upstreams over `http`, which keeps its own
/// settings (connect timeout, `TCP_NODELAY`).
pub fn connector(
    mut http: HttpConnector,
    extra_ca: Option<&Path>,
) -> Result<HttpsConnector<HttpConnector>, CaError> {
    // rustls 0.23.48 deprecated the ring provider because it has no post-quantum key exchange;
    // the alternative, aws-lc-rs, needs cmake and minutes of C build on CI. Classical X25519
    // and P-256 are what a recording session needs; revisit if rustls drops ring.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CaError::Config(e.to_string()))?
        .with_root_certificates(roots(extra_ca)?)
        .with_no_client_auth();
    http.enforce_http(false);
    Ok(HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

/// The TLS failure behind a failed connect, if that is what it was: the handshake reached the
/// upstream, and it was refused (a certificate not trusted, expired, for another name…).
pub fn tls_failure<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = as_tls(c) {
            return Some(tls);
        }
        cause = c.source();
    }
    None
}

/// rustls' error reaches hyper inside an `io::Error` (tokio-rustls) inside another
/// (hyper-rustls); `io::Error::source()` skips the error it wraps, so each layer is unwrapped
/// by type.
fn as_tls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    as_tls(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_ca_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem");
        let e = roots(Some(&missing)).expect_err("missing");
        assert!(e.to_string().starts_with("--upstream-ca "), "{e}");

        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "hello\n").expect("write");
        let e = roots(Some(&not_pem)).expect_err("no certificate");
        assert_eq!(
            e.to_string(),
            format!(
                "--upstream-ca {}: no `BEGIN CERTIFICATE` block in the file",
                not_pem.display()
            )
        );
    }

    #[test]
    fn mozillas_roots_are_trusted_without_a_file() {
        assert!(roots(None).expect("roots").len() > 100);
    }
}
