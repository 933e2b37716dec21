//! `truidentidad-mock health`: asks a running mock whether it is up.
//!
//! Container runtime images carry no curl; a HEALTHCHECK runs this instead. Plain HTTP/1.1
//! over a std socket is enough for one loopback GET, so the binary gains no HTTP client.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;

const AFTER_HELP: &str = "\
Examples:
  truidentidad-mock health
  truidentidad-mock health --url http://127.0.0.1:9090 --timeout 2s

Without --url it asks http://127.0.0.1:$TRUIDENTIDAD_MOCK_PORT (8080 when unset), the port
`serve` listens on with the same environment. Exits 0 when GET /_mock/health answers 200, 1 otherwise (the reason goes to stderr).";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct HealthArgs {
    /// Base URL of the mock (http only), e.g. http://127.0.0.1:8080.
    #[arg(long, env = "TRUIDENTIDAD_MOCK_URL")]
    url: Option<String>,
    /// Give up after this long (connect, send and read each).
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

pub fn run(args: HealthArgs) -> anyhow::Result<ExitCode> {
    // The port `serve` reads from the same variable, so a container that moves the port
    // moves its health check along.
    let url = args.url.unwrap_or_else(|| {
        let port = std::env::var("TRUIDENTIDAD_MOCK_PORT").unwrap_or_else(|_| "8080".into());
        format!("http://127.0.0.1:{port}")
    });
    match check(&url, args.timeout) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("unhealthy: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("--url must start with http://, got `{url}`");
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("--url has no host: `{url}`");
    }
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .with_context(|| format!("resolving {with_port}"))?
        .next()
        .with_context(|| format!("{with_port} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /_mock/health HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .context("sending the request")?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        let n = stream
            .read(&mut head[got..])
            .context("reading the answer")?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let line = String::from_utf8_lossy(&head[..got]);
    match line.split(' ').nth(1) {
        Some("200") => Ok(()),
        Some(status) => bail!("GET {url}/_mock/health answered {status}"),
        None => bail!("GET {url}/_mock/health sent no HTTP status line"),
    }
}
