//! The README's "In your Rust tests" example, compiled and run. `my_app` stands in for the
//! reader's own Truora client (a few lines of hyper, as an integrator's backend would have);
//! everything after the marker line below is the README's block, verbatim, and
//! `the_readme_block_is_this_file` holds the two together.

mod my_app {
    //! A minimal Truora client: form-encoded create, poll by id, the key on every request.

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    pub type Error = Box<dyn std::error::Error + Send + Sync>;

    /// The fields of `GET /v1/validations/{id}` this app reads.
    #[derive(Debug, serde::Deserialize)]
    pub struct Validation {
        pub failure_status: Option<String>,
    }

    pub struct TruoraClient {
        base: String,
        api_key: String,
        http: Client<HttpConnector, Full<Bytes>>,
    }

    impl TruoraClient {
        pub fn new(base: &str, api_key: &str) -> Self {
            TruoraClient {
                base: base.trim_end_matches('/').to_string(),
                api_key: api_key.to_string(),
                http: Client::builder(TokioExecutor::new()).build_http(),
            }
        }

        /// `POST /v1/validations` (type=government); the new validation's id.
        pub async fn create_validation(&self, account_id: &str) -> Result<String, Error> {
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("type", "government")
                .append_pair("account_id", account_id)
                .append_pair("user_authorized", "true")
                .finish();
            let body = self
                .send(
                    http::Request::post(format!("{}/v1/validations", self.base))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Full::new(Bytes::from(form)))?,
                )
                .await?;
            let created: serde_json::Value = serde_json::from_slice(&body)?;
            created["validation_id"]
                .as_str()
                .map(String::from)
                .ok_or_else(|| format!("no validation_id in {created}").into())
        }

        /// `GET /v1/validations/{id}`.
        pub async fn poll(&self, id: &str) -> Result<Validation, Error> {
            let body = self
                .send(
                    http::Request::get(format!("{}/v1/validations/{id}", self.base))
                        .body(Full::new(Bytes::new()))?,
                )
                .await?;
            Ok(serde_json::from_slice(&body)?)
        }

        async fn send(&self, mut req: http::Request<Full<Bytes>>) -> Result<Bytes, Error> {
            req.headers_mut()
                .insert("truora-api-key", self.api_key.parse()?);
            let resp = self.http.request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            if !status.is_success() {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
            }
            Ok(body)
        }
    }
}

#[test]
fn the_readme_block_is_this_file() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("\n## In your Rust tests\n")
        .nth(1)
        .and_then(|s| s.split("```rust\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a ```rust block under `## In your Rust tests`");
    let this = include_str!("readme_rust.rs");
    let (_, tail) = this
        .split_once(MARKER)
        .expect("the marker line in this file");
    assert_eq!(tail.trim_start_matches('\n'), block);
}

const MARKER: &str = "// ---- the README's block, verbatim ----\n";

// ---- the README's block, verbatim ----

use std::time::Duration;
use truidentidad_mock_server::MockServer;

#[tokio::test]
async fn my_client_reports_a_decline() {
    let server = MockServer::builder()
        .seed(7)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let client = my_app::TruoraClient::new(&server.uri(), "test-key");
    let id = client
        .create_validation("declined-face-mismatch.user-1")
        .await
        .unwrap();
    server.advance(Duration::from_secs(5));
    assert_eq!(
        client.poll(&id).await.unwrap().failure_status.as_deref(),
        Some("declined")
    );
}
