//! `record --upstream https://…`: the proxy speaks TLS to the upstream itself. The upstream here
//! is the mock behind a real TLS server on loopback (rustls, a certificate from a CA this test
//! makes), so no network is needed. Through the proxy, with that CA passed as
//! `--upstream-ca`, a client gets what it would get straight from the mock, and the recording
//! holds it; without the CA, the certificate is refused and the client gets a 502 in Truora's
//! envelope that says so.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::*;
use truidentidad_conformance::http::Method;
use truidentidad_fidelity::proxy::{ProxyConfig, RecordingProxy};
use truidentidad_fidelity::recording::{Failure, read_har, read_timelines};
use truidentidad_mock_server::MockServer;

/// A CA, and a certificate for 127.0.0.1 and localhost it signed.
struct Pki {
    ca_pem: String,
    leaf: CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "truidentidad-mock test CA");
    let ca = ca.self_signed(&ca_key).expect("CA certificate");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf certificate");
    Pki {
        ca_pem: ca.pem(),
        leaf: leaf.der().clone(),
        leaf_key: leaf_key.serialize_der(),
    }
}

/// A TLS server on 127.0.0.1:0 that hands each decrypted connection to `upstream`; how many
/// handshakes it completed.
async fn tls_front(pki: &Pki, upstream: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    #[allow(deprecated)] // the ring provider, as the proxy uses (see upstream_tls.rs)
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(
            vec![pki.leaf.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.leaf_key.clone())),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                // A refused handshake just ends this connection.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    (addr, handshakes)
}

async fn upstream() -> MockServer {
    MockServer::builder()
        .seed(5)
        .manual_clock()
        .api_key(KEY)
        .start()
        .await
        .expect("upstream starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_upstream_is_recorded_and_passed_through() {
    let pki = pki();
    let up = upstream().await;
    let (front, handshakes) = tls_front(&pki, up.address()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("CA file");
    let out = dir.path().join("rec");
    let url = format!("https://{front}");
    let p = proxy_trusting(&url, Some(ca), &up, &out).await;

    let id = create(&p.uri(), "success.https").await;
    let statuses = follow(&p.uri(), &up, &id).await;
    assert_eq!(statuses.last(), Some(&200));
    // Passed through unchanged: the last answer is the upstream's own, byte for byte.
    let path = format!("/v1/validations/{id}");
    let via = send(&p.uri(), Method::GET, &path, KEY, "", T)
        .await
        .expect("answered through the proxy");
    let direct = send(&up.uri(), Method::GET, &path, KEY, "", T)
        .await
        .expect("answered by the mock");
    assert_eq!(via.status, direct.status);
    assert_eq!(via.body, direct.body);
    assert_eq!(via.header("content-type"), direct.header("content-type"));
    assert!(
        handshakes.load(Ordering::SeqCst) >= 1,
        "the proxy reached the mock through TLS"
    );
    p.shutdown().await.expect("written");

    let t = read_timelines(&out).expect("timelines");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].validation_id.as_deref(), Some(id.as_str()));
    // The create, each poll of `follow` and the last one.
    assert_eq!(t[0].exchanges.len(), 1 + statuses.len() + 1);
    assert!(t[0].exchanges.iter().all(|x| x.failure.is_none()));
    let har = read_har(&out).expect("HAR");
    let har_text = serde_json::to_string(&har).expect("HAR text");
    assert!(
        har_text.contains(&format!("{url}/v1/validations/{id}")),
        "the HAR names the https upstream"
    );
    for secret in [KEY, DOCUMENT, NAME] {
        assert!(!har_text.contains(secret), "{secret} redacted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_certificate_is_a_502_in_truoras_envelope_that_says_why() {
    let pki = pki();
    let up = upstream().await;
    let (front, handshakes) = tls_front(&pki, up.address()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("https://{front}");
    // No --upstream-ca: the test CA is not among the built-in roots.
    let p = proxy_trusting(&url, None, &up, dir.path()).await;
    let r = send(
        &p.uri(),
        Method::POST,
        "/v1/validations",
        KEY,
        "type=government",
        T,
    )
    .await
    .expect("the proxy answers");
    let msg = bad_gateway_message(&r);
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
    insta::assert_snapshot!(msg.replace(&front.to_string(), "127.0.0.1:PORT"));
    p.shutdown().await.expect("written");
    let t = read_timelines(dir.path()).expect("timelines");
    assert_eq!(t[0].exchanges[0].failure, Some(Failure::Unreachable));
}

#[tokio::test]
async fn an_unusable_ca_file_stops_the_proxy_before_it_listens() {
    let up = upstream().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").expect("write");
    let state = up.state().clone();
    let e = RecordingProxy::start(ProxyConfig {
        upstream: "https://127.0.0.1:1".to_string(),
        upstream_ca: Some(ca.clone()),
        out: dir.path().join("rec"),
        listen: "127.0.0.1:0".parse().expect("addr"),
        now: Some(Arc::new(move || state.now())),
    })
    .await
    .err()
    .expect("refused");
    assert_eq!(
        e.to_string(),
        format!(
            "--upstream-ca {}: no `BEGIN CERTIFICATE` block in the file",
            ca.display()
        )
    );
}
