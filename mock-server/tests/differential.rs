//! Differential testing of the two stores: random sequences of what integrators, the browser
//! journey and tests do, sent through the public HTTP API and the control API to a server on
//! the in-memory store and to one on Redis (a real `redis-server` this test starts), must get
//! the same answer to every request: status, `Retry-After`, body, the control API's views, the
//! journal and `/_mock/metrics`. Only what differs by construction is masked: validation ids
//! (each server's own, numbered in order of appearance), wall-clock dates, client ports and
//! latency histograms.
//!
//! proptest shrinks a difference to a shortest sequence and records its seed in
//! `differential.proptest-regressions` beside this file (replayed first on every run); the
//! divergences it found are also kept as readable sequences in [`regressions`].
//!
//! Bounded for CI: `DIFFERENTIAL_CASES` sequences (default 128) of up to 40 steps; the run
//! prints how many it ran, the longest, the answers by status, and how long it took.
//!
//! Needs Debian's `redis-server` (see `support/redis.rs`).

mod common;
#[path = "support/redis.rs"]
mod redis_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::{FORM, Resp, request};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use redis_support::Redis;
use serde_json::Value;
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::config::StoreConfig;
use truidentidad_scenarios::identities::TABLE;

/// Scenarios the sequences pick from: time- and poll-driven, faults on polls, expiry, a
/// browser journey that decides, and one that never completes.
const SCENARIOS: &[&str] = &[
    "success",
    "slow-success",
    "never-completes",
    "success-after-polls",
    "flaky-5xx-then-success",
    "rate-limited",
    "declined-liveness",
    "expired-not-started",
    "system-error",
    "declined-geolocation-denied",
];

/// Small, so sequences reach eviction.
const CAPACITY: usize = 4;
/// Two tenants under `--key-isolation`.
const KEYS: [&str; 2] = ["tenant-a", "tenant-b"];

/// How a create picks its scenario.
#[derive(Debug, Clone)]
enum Pick {
    Default,
    AccountId(usize),
    Header(usize),
    /// A test identity's document number (a row of the identities table).
    Document(usize),
}

/// One step of a sequence. `v` picks a validation created earlier (modulo how many).
#[derive(Debug, Clone)]
enum Op {
    Create {
        pick: Pick,
        key: usize,
        timeout: Option<u32>,
        await_person: bool,
    },
    Poll {
        v: usize,
        key: usize,
        details: bool,
    },
    Detail {
        v: usize,
    },
    Complete {
        v: usize,
        outcome: usize,
    },
    Switch {
        v: usize,
        scenario: usize,
    },
    Arm {
        scenario: usize,
        count: u8,
    },
    Advance {
        seconds: u16,
    },
    Reset,
    Journey {
        v: usize,
        step: usize,
    },
    List {
        status: Option<usize>,
    },
    Dashboard,
    Journal,
    Metrics,
}

const OUTCOMES: &[&str] = &[
    "status=success",
    "status=failure&failure_status=system_error",
    "status=failure&failure_status=expired",
    "status=failure&failure_status=declined&declined_reason=similarity_threshold_not_passed",
];

/// Journey requests: (method, path after the id, body, content type).
const JOURNEY: &[(&str, &str, &str, &str)] = &[
    ("POST", "/open", r#"{"device":"phone"}"#, "application/json"),
    ("POST", "/steps/intro", "{}", "application/json"),
    (
        "POST",
        "/steps/document",
        r#"{"document_number":"9930000001"}"#,
        "application/json",
    ),
    (
        "POST",
        "/steps/consent",
        r#"{"accepted":true}"#,
        "application/json",
    ),
    (
        "POST",
        "/steps/geolocation",
        r#"{"granted":false}"#,
        "application/json",
    ),
    (
        "POST",
        "/steps/liveness",
        "not really a video",
        "video/webm",
    ),
    ("POST", "/steps/cancel", "{}", "application/json"),
    ("GET", "", "", ""),
];

fn op() -> impl Strategy<Value = Op> {
    let scenario = 0..SCENARIOS.len();
    let pick = prop_oneof![
        Just(Pick::Default),
        scenario.clone().prop_map(Pick::AccountId),
        scenario.clone().prop_map(Pick::Header),
        (0..TABLE.len()).prop_map(Pick::Document),
    ];
    let v = 0..64usize;
    prop_oneof![
        6 => (pick, 0..2usize, proptest::option::weighted(0.2, 1u32..120), proptest::bool::weighted(0.15))
            .prop_map(|(pick, key, timeout, await_person)| Op::Create { pick, key, timeout, await_person }),
        8 => (v.clone(), proptest::bool::weighted(0.85).prop_map(|own| usize::from(!own)), any::<bool>())
            .prop_map(|(v, key, details)| Op::Poll { v, key, details }),
        2 => v.clone().prop_map(|v| Op::Detail { v }),
        2 => (v.clone(), 0..OUTCOMES.len()).prop_map(|(v, outcome)| Op::Complete { v, outcome }),
        2 => (v.clone(), scenario.clone()).prop_map(|(v, scenario)| Op::Switch { v, scenario }),
        1 => (scenario, 1u8..3).prop_map(|(scenario, count)| Op::Arm { scenario, count }),
        4 => prop_oneof![1u16..5, 5u16..400].prop_map(|seconds| Op::Advance { seconds }),
        1 => Just(Op::Reset),
        4 => (v, 0..JOURNEY.len()).prop_map(|(v, step)| Op::Journey { v, step }),
        1 => proptest::option::of(0..3usize).prop_map(|status| Op::List { status }),
        1 => Just(Op::Dashboard),
        1 => Just(Op::Journal),
        1 => Just(Op::Metrics),
    ]
}

/// One server under test and the ids it handed out, in order.
struct Side {
    server: MockServer,
    ids: Vec<String>,
}

/// What one request got, masked: comparable across the two servers.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

impl Side {
    fn id(&self, v: usize) -> String {
        if self.ids.is_empty() {
            return format!("VLD{}", "0".repeat(32));
        }
        self.ids[v % self.ids.len()].clone()
    }

    async fn send(&mut self, op: &Op) -> Answer {
        let addr = self.server.address();
        let r = match op {
            Op::Create {
                pick,
                key,
                timeout,
                await_person,
            } => {
                let mut form = String::from("type=government");
                let mut headers = vec![("Truora-API-Key", KEYS[*key]), ("Content-Type", FORM)];
                match pick {
                    Pick::Default => {}
                    Pick::AccountId(s) => {
                        form.push_str(&format!("&account_id={}.x", SCENARIOS[*s]))
                    }
                    Pick::Header(s) => headers.push(("X-Mock-Scenario", SCENARIOS[*s])),
                    Pick::Document(row) => {
                        form.push_str(&format!("&document_number={}", TABLE[*row].example()))
                    }
                }
                if let Some(t) = timeout {
                    form.push_str(&format!("&timeout={t}"));
                }
                if *await_person {
                    headers.push(("X-Mock-Await-Person", "true"));
                }
                let r = request(addr, "POST", "/v1/validations", &headers, form.as_bytes()).await;
                if r.status == 200
                    && let Some(id) = serde_json::from_slice::<Value>(&r.body)
                        .ok()
                        .and_then(|v| v["validation_id"].as_str().map(str::to_owned))
                {
                    self.ids.push(id);
                }
                r
            }
            Op::Poll { v, key, details } => {
                let q = if *details { "?show_details=true" } else { "" };
                let path = format!("/v1/validations/{}{q}", self.id(*v));
                request(addr, "GET", &path, &[("Truora-API-Key", KEYS[*key])], b"").await
            }
            Op::Detail { v } => {
                let path = format!("/_mock/validations/{}", self.id(*v));
                request(addr, "GET", &path, &[], b"").await
            }
            Op::Complete { v, outcome } => {
                let path = format!("/_mock/validations/{}/complete", self.id(*v));
                post(addr, &path, OUTCOMES[*outcome]).await
            }
            Op::Switch { v, scenario } => {
                let path = format!("/_mock/validations/{}/scenario", self.id(*v));
                post(addr, &path, &format!("scenario={}", SCENARIOS[*scenario])).await
            }
            Op::Arm { scenario, count } => {
                let form = format!("scenario={}&count={count}", SCENARIOS[*scenario]);
                post(addr, "/_mock/arm", &form).await
            }
            Op::Advance { seconds } => {
                post(addr, "/_mock/clock/advance", &format!("seconds={seconds}")).await
            }
            Op::Reset => post(addr, "/_mock/reset", "").await,
            Op::Journey { v, step } => {
                let (method, tail, body, ct) = JOURNEY[*step];
                let path = format!("/web-adapter/v1/validations/{}{tail}", self.id(*v));
                let headers: &[(&str, &str)] = if ct.is_empty() {
                    &[]
                } else {
                    &[("Content-Type", ct)]
                };
                request(addr, method, &path, headers, body.as_bytes()).await
            }
            Op::List { status } => {
                let path = match status {
                    None => "/_mock/validations?limit=100".to_string(),
                    Some(s) => format!(
                        "/_mock/validations?limit=100&status={}",
                        ["pending", "success", "failure"][*s]
                    ),
                };
                request(addr, "GET", &path, &[], b"").await
            }
            Op::Dashboard => request(addr, "GET", "/dashboard/api/validations", &[], b"").await,
            Op::Journal => request(addr, "GET", "/_mock/journal?limit=1000", &[], b"").await,
            Op::Metrics => {
                let r = request(addr, "GET", "/_mock/metrics", &[], b"").await;
                return Answer {
                    status: r.status,
                    retry_after: None,
                    body: metrics_lines(&r.text()),
                };
            }
        };
        self.answer(r)
    }

    fn answer(&self, r: Resp) -> Answer {
        let body = match serde_json::from_slice::<Value>(&r.body) {
            Ok(v) => mask(v, &self.ids).to_string(),
            Err(_) => self.mask_text(&r.text()),
        };
        Answer {
            status: r.status,
            retry_after: r.header("retry-after").map(|h| {
                // An HTTP-date is wall time: only its presence is compared.
                if h.parse::<u64>().is_ok() {
                    h.to_string()
                } else {
                    "[http-date]".to_string()
                }
            }),
            body,
        }
    }

    fn mask_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (i, id) in self.ids.iter().enumerate() {
            out = out.replace(id, &format!("[v{i}]"));
        }
        out
    }
}

async fn post(addr: std::net::SocketAddr, path: &str, form: &str) -> Resp {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", FORM)],
        form.as_bytes(),
    )
    .await
}

/// The metrics that must agree: request counters, faults, validations, evictions, journal
/// losses (not the latency histograms or the open connections, which are this run's timing).
fn metrics_lines(text: &str) -> String {
    text.lines()
        .filter(|l| {
            [
                "truidentidad_mock_requests_total{",
                "truidentidad_mock_faults_injected_total{",
                "truidentidad_mock_validations{",
                "truidentidad_mock_evicted",
                "truidentidad_mock_journal_dropped",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Masks what differs between two servers by construction.
fn mask(v: Value, ids: &[String]) -> Value {
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    fn go(v: Value, key: Option<&str>, index: &HashMap<&str, usize>) -> Value {
        match v {
            Value::String(s) => {
                if key == Some("remote") {
                    return Value::String("[remote]".into());
                }
                if looks_like_date(&s) {
                    return Value::String("[date]".into());
                }
                let mut out = s;
                for (id, i) in index {
                    if out.contains(id) {
                        out = out.replace(id, &format!("[v{i}]"));
                    }
                }
                Value::String(out)
            }
            Value::Array(a) => Value::Array(a.into_iter().map(|x| go(x, None, index)).collect()),
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, x)| {
                        let x = go(x, Some(&k), index);
                        (k, x)
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    go(v, None, &index)
}

/// An RFC 3339 date-time (`2026-12-07T22:48:00Z`): wall time, which each server's clock
/// started at its own instant.
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[..4].iter().all(u8::is_ascii_digit)
}

/// Answers seen, by status: printed so a run shows it exercised more than errors.
static STATUSES: Mutex<BTreeMap<u16, usize>> = Mutex::new(BTreeMap::new());

/// Runs `ops` against a fresh memory server and a fresh Redis-backed one (its own namespace)
/// and returns the first step whose answers differ.
async fn run(redis: &Redis, namespace: &str, ops: &[Op]) -> Result<(), String> {
    let build = |store: Option<StoreConfig>| {
        MockServer::builder()
            .seed(11)
            .manual_clock()
            .configure(move |c| {
                c.max_validations = CAPACITY;
                c.key_isolation = true;
                if let Some(s) = store {
                    c.store = s;
                }
            })
            .start()
    };
    let url = redis.url(namespace).parse().expect("a valid --store URL");
    let mut memory = Side {
        server: build(None).await.expect("the memory server starts"),
        ids: Vec::new(),
    };
    let mut shared = Side {
        server: build(Some(StoreConfig::Redis(url)))
            .await
            .expect("the Redis server starts"),
        ids: Vec::new(),
    };
    let closing = [Op::List { status: None }, Op::Journal, Op::Metrics];
    for (i, op) in ops.iter().chain(&closing).enumerate() {
        let (a, b) = (memory.send(op).await, shared.send(op).await);
        *STATUSES
            .lock()
            .expect("statuses")
            .entry(a.status)
            .or_default() += 1;
        if a != b {
            return Err(format!(
                "step {i} ({op:?}) differs:\n memory: {a:?}\n  redis: {b:?}"
            ));
        }
    }
    Ok(())
}

/// Two workers: the Redis store's calls block in place, which needs a multi-threaded runtime.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn memory_and_redis_answer_every_sequence_alike() {
    let cases: u32 = std::env::var("DIFFERENTIAL_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(128);
    let rt = runtime();
    let redis = Redis::start();
    let config = Config {
        cases,
        source_file: Some(file!()),
        // `differential.proptest-regressions` beside this file.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let (ran, longest, steps) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let started = Instant::now();
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        let n = ran.fetch_add(1, Ordering::Relaxed);
        longest.fetch_max(ops.len(), Ordering::Relaxed);
        steps.fetch_add(ops.len(), Ordering::Relaxed);
        rt.block_on(run(&redis, &format!("diff{n}"), &ops))
            .map_err(TestCaseError::fail)
    });
    println!(
        "differential: {} sequences run (shrinking included), longest {} steps, {} steps in all, {:.1} s; answers by status {:?}",
        ran.load(Ordering::Relaxed),
        longest.load(Ordering::Relaxed),
        steps.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        STATUSES.lock().expect("statuses"),
    );
    match result {
        Ok(()) => {}
        Err(proptest::test_runner::TestError::Fail(why, ops)) => {
            panic!("the stores answered differently: {why}\nminimal sequence: {ops:#?}")
        }
        Err(e) => panic!("{e}"),
    }
}

/// Sequences the property found, kept readable: each was a difference, now fixed.
#[test]
fn regressions() {
    let rt = runtime();
    let redis = Redis::start();
    let create = |pick, await_person| Op::Create {
        pick,
        key: 0,
        timeout: None,
        await_person,
    };
    let found: Vec<(&str, Vec<Op>)> = vec![
        (
            // The memory store kept 64 shards of capacity/64 each and evicted within a shard:
            // at --max-validations 4, two of four creates in one shard evicted one. Now one
            // shard below 2,048, and one eviction rule (`store::eviction_victim`) for both.
            "four creates fit a store of four",
            vec![create(Pick::Default, false); 4],
        ),
        (
            // Past the capacity, both evict the oldest finished validation first (Redis
            // popped the oldest, finished or not).
            "eviction prefers the oldest finished validation",
            vec![
                create(Pick::Default, false),
                create(Pick::Default, false),
                create(Pick::Default, false),
                create(Pick::Default, false),
                Op::Complete { v: 1, outcome: 1 },
                create(Pick::Default, false),
            ],
        ),
        (
            // A test identity typed in the journey logs `test_identity`, which the journey's
            // list of event names lacked: Redis read it back as `event`.
            "a test identity's journey event reads back from Redis",
            vec![
                create(Pick::Document(0), true),
                Op::Journey { v: 0, step: 1 },
                Op::Journey { v: 0, step: 2 },
            ],
        ),
    ];
    for (i, (what, ops)) in found.into_iter().enumerate() {
        if let Err(e) = rt.block_on(run(&redis, &format!("reg{i}"), &ops)) {
            panic!("{what}: {e}");
        }
    }
}
