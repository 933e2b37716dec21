//! The benchmarks' floor: a hyper server that answers every request with one fixed
//! validation body, on the same runtime and HTTP stack as the mock. What it sustains is the
//! most the mock could, so the mock is measured as a fraction of it.
//!
//! ```text
//! floor-server --port 0            # prints `listening on http://127.0.0.1:PORT`
//! floor-server --port 0 --store 1000000   # POST does a minimal create (see `MiniStore`)
//! ```

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use clap::Parser;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full};
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
    /// Make POST a minimal create holding at most this many records (0: fixed body).
    ///
    /// A second floor for `POST /v1/validations`: read the form, keep its `account_id`
    /// under a new id in a bounded first-in-first-out map, answer with the id. Whatever a
    /// server that stores creates must do at least this; comparing the mock with it
    /// separates the cost of storing at all from the mock's own overhead.
    #[arg(long, default_value_t = 0)]
    store: usize,
}

/// The least a create can do: a bounded map from id to what was sent, oldest evicted first.
struct MiniStore {
    records: HashMap<u128, (Box<str>, u64), BuildMul>,
    order: VecDeque<u128>,
    cap: usize,
    next: u64,
}

/// Ids are drawn here from a counter through splitmix64, so one multiply spreads them.
#[derive(Default, Clone, Copy)]
struct BuildMul;
struct MulHasher(u64);
impl std::hash::BuildHasher for BuildMul {
    type Hasher = MulHasher;
    fn build_hasher(&self) -> MulHasher {
        MulHasher(0)
    }
}
impl std::hash::Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = (n as u64 ^ (n >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl MiniStore {
    fn create(&mut self, account_id: &str) -> u128 {
        self.next += 1;
        let id = (u128::from(splitmix(self.next)) << 64) | u128::from(splitmix(!self.next));
        if self.order.len() >= self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.records.remove(&old);
        }
        self.records.insert(id, (account_id.into(), self.next));
        self.order.push_back(id);
        id
    }
}

async fn create(
    store: Arc<Mutex<MiniStore>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let account_id = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "account_id")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let id = match store.lock() {
        Ok(mut s) => s.create(&account_id),
        Err(_) => 0,
    };
    let mut out = String::with_capacity(256);
    let _ = write!(
        out,
        r#"{{"validation_id":"VLD{id:032x}","ip_address":"127.0.0.1","account_id":"{account_id}","type":"government","validation_status":"success","creation_date":"2026-01-01T00:00:00.000000000Z"}}"#
    );
    let mut resp = Response::new(Full::new(Bytes::from(out)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
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
    let store = (args.store > 0).then(|| {
        Arc::new(Mutex::new(MiniStore {
            records: HashMap::default(),
            order: VecDeque::new(),
            cap: args.store,
            next: 0,
        }))
    });
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
            let io = TokioIo::new(stream);
            // The fixed-body floor keeps its plain service: nothing per request but the answer.
            match store.clone() {
                None => tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(io, service_fn(answer))
                        .await;
                }),
                Some(store) => tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let store = Arc::clone(&store);
                        async move {
                            if req.method() == http::Method::POST {
                                create(store, req).await
                            } else {
                                answer(req).await
                            }
                        }
                    });
                    let _ = http1::Builder::new().serve_connection(io, service).await;
                }),
            };
        }
    })
}
