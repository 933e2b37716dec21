//! The benchmarks' floor: a hyper server that answers every request with one fixed
//! validation body, on the same runtime and HTTP stack as the mock. What it sustains is the
//! most the mock could, so the mock is measured as a fraction of it.
//!
//! ```text
//! floor-server --port 0            # prints `listening on http://127.0.0.1:PORT`
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use clap::Parser;
use http::{Request, Response, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A body the size and shape of the mock's `GET /v1/validations/{id}` answer.
const BODY: &[u8] = br#"{"validation_id":"VLD0123456789abcdef0123456789abcdef","ip_address":"127.0.0.1","account_id":"success.load-1-1","type":"government","validation_status":"success","creation_date":"2026-01-01T00:00:00.000000000Z"}"#;

#[derive(Debug, Parser)]
#[command(
    about = "Minimal hyper server returning a fixed validation body (the benchmarks' floor)."
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

async fn answer(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(BODY)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = match rt.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let listener = match TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(a) => println!("listening on http://{a}"),
            Err(e) => eprintln!("warning: {e}"),
        }
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    })
}
