//! The `--client` / `--client-url` pair that `conformance run` and `conformance explore` both
//! take, declared once so the two commands cannot drift apart in wording, conflicts or the
//! wait for a service that is still binding its port.

use clap::Args;

use crate::client::ClientSpec;
use crate::suite_error::SuiteError;

/// Which client the suite drives: a command it starts, or a service it POSTs to.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The client under test: a command line, run with `sh -c` once per case (or per
    /// explored scenario).
    #[arg(
        long,
        value_name = "COMMAND",
        conflicts_with = "client_url",
        required_unless_present = "client_url"
    )]
    client: Option<String>,
    /// A client that is a service: the suite POSTs {"account_id", "base_url", "api_key",
    /// "poll_deadline_seconds"} as JSON and reads the result object from the response.
    #[arg(long, value_name = "URL")]
    client_url: Option<String>,
}

impl ClientArgs {
    /// The client, and how reports name it. clap requires one of the two flags; should a
    /// caller build the struct without either, the client is `false`, which every case fails
    /// loudly rather than passing by accident.
    pub fn spec(&self) -> (ClientSpec, String) {
        match (&self.client, &self.client_url) {
            (Some(cmd), _) => (ClientSpec::Command(cmd.clone()), format!("`{cmd}`")),
            (None, Some(url)) => (ClientSpec::Url(url.clone()), format!("service {url}")),
            (None, None) => (
                ClientSpec::Command("false".into()),
                "`false` (no --client given)".into(),
            ),
        }
    }
}

/// Waits for a client service started on the same command line (`service &`) to bind its
/// port, so the first case is not graded against a refused connection. A command client
/// needs no wait.
pub fn await_client(
    runtime: &tokio::runtime::Runtime,
    client: &ClientSpec,
) -> Result<(), SuiteError> {
    let ClientSpec::Url(url) = client else {
        return Ok(());
    };
    runtime
        .block_on(crate::http::await_listening(url, crate::http::LISTEN_GRACE))
        .map_err(|source| SuiteError::ClientUnreachable {
            url: url.clone(),
            source,
        })
}
