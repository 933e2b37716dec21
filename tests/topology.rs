//! Scale-out as an operator runs it: Redis, two `serve --store redis://…` replicas and nginx
//! (with docs/ops/nginx.conf) on loopback ports. Through the balancer, the conformance suite's
//! good Python client follows validations to their ends and the load tool runs, while:
//!
//! - one replica is killed mid-run: the other keeps serving, every acknowledged validation is
//!   still there, and the good clients still reach the outcomes their scenarios promise;
//! - Redis is killed and started again (with an append-only file, `appendfsync always`):
//!   requests get clear 503s in Truora's envelope, then service resumes by itself with no
//!   validation lost, and both replicas answer every validation identically.
//!
//! Needs `redis-server`, `nginx` and `python3` (`.ci/run` installs the first two); a machine
//! without them fails with what to install.

#[path = "support/process_group.rs"]
#[allow(dead_code)] // only spawn and the drop are needed here
mod process_group;
#[path = "../mock-server/tests/support/redis.rs"]
mod redis_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use process_group::ProcessGroup;
use redis_support::{Redis, free_port, require};

const BIN: &str = env!("CARGO_BIN_EXE_truidentidad-mock");
const KEY: &str = "topology-key";

/// A child process killed (and reaped) when dropped.
struct Proc(Child);

impl Proc {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// SIGTERM, then SIGKILL if it is still there after 5 s: nginx's master stops its workers
    /// on SIGTERM, while a SIGKILL would leave them running, orphaned.
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }
}

/// nginx, stopped with SIGTERM so its workers go with it.
struct Nginx(Proc);

impl Drop for Nginx {
    fn drop(&mut self) {
        self.0.terminate();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `serve` on `port`, storing in Redis; returns once it listens.
fn replica(store: &str, port: u16, dir: &Path, name: &str) -> Proc {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("replica log");
    let mut child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string(), "--store", store])
        .args(["--api-key", KEY, "--no-request-log"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listening line");
    assert!(line.starts_with("listening on"), "{name}: {line:?}");
    Proc(child)
}

/// docs/ops/nginx.conf with our ports in place of 8080, 8081 and 8082.
fn nginx_conf(listen: u16, upstreams: [u16; 2]) -> String {
    std::fs::read_to_string(repo().join("docs/ops/nginx.conf"))
        .expect("docs/ops/nginx.conf")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{listen}"))
        .replace("127.0.0.1:8081", &format!("127.0.0.1:{}", upstreams[0]))
        .replace("127.0.0.1:8082", &format!("127.0.0.1:{}", upstreams[1]))
}

/// nginx with docs/ops/nginx.conf, its ports replaced by ours.
fn nginx(dir: &Path, listen: u16, upstreams: [u16; 2]) -> Nginx {
    let bin = require("nginx", "nginx");
    let conf = nginx_conf(listen, upstreams);
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).expect("nginx dir");
    std::fs::write(prefix.join("nginx.conf"), conf).expect("write nginx.conf");
    let child = Command::new(bin)
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .arg("-e")
        .arg(prefix.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn nginx");
    Nginx(Proc(child))
}

/// A response: status, headers (lowercase names) and body.
struct Resp {
    status: u16,
    headers: String,
    body: String,
}

impl Resp {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One blocking request with `Connection: close`; `None` when no response came.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nTruora-API-Key: {KEY}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Resp {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

/// Waits (at most `limit`) for `ok`.
fn wait_for(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn healthy(port: u16) -> bool {
    http(port, "GET", "/_mock/health", "").is_some_and(|r| r.status == 200)
}

/// Creates a validation through `port`; its id when acknowledged.
fn create(port: u16, account: &str) -> Option<String> {
    let r = http(
        port,
        "POST",
        "/v1/validations",
        &format!("type=government&account_id={account}"),
    )?;
    (r.status == 200).then(|| r.json()["validation_id"].as_str().map(String::from))?
}

/// A validation as the control API of one replica shows it, without what legitimately
/// differs between two reads (its age, and the journal's growing request list).
fn detail(port: u16, id: &str) -> Option<serde_json::Value> {
    let r = http(port, "GET", &format!("/_mock/validations/{id}"), "")?;
    assert_eq!(r.status, 200, "{id} on :{port}: {}", r.body);
    let mut v = r.json();
    let o = v.as_object_mut()?;
    o.remove("age_seconds");
    o.remove("requests");
    Some(v)
}

/// The good Python reference client, following one validation through `base`.
fn good_client(base: &str, account: &str) -> Child {
    let python = require("python3", "python3");
    Command::new(python)
        .arg(repo().join("conformance/clients/python/good_client.py"))
        .env("TRUORA_API_BASE_URL", base)
        .env("TRUORA_API_KEY", KEY)
        .env("TRUORA_ACCOUNT_ID", account)
        .env("TRUORA_POLL_DEADLINE_SECONDS", "60")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the good client")
}

#[test]
fn replicas_behind_nginx_survive_a_replica_kill_and_a_redis_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut redis = Redis::start_durable();
    let store = redis.url("topology");
    let (pa, pb, lb) = (free_port(), free_port(), free_port());
    let mut a = replica(&store, pa, dir.path(), "a");
    let _b = replica(&store, pb, dir.path(), "b");
    let _nginx = nginx(dir.path(), lb, [pa, pb]);
    wait_for(Duration::from_secs(10), "nginx answers", || healthy(lb));
    let base = format!("http://127.0.0.1:{lb}");

    // The conformance suite's good client, one per outcome, and the load tool, through nginx.
    let expected = [
        ("success.topology-1", "success"),
        ("flaky-5xx-then-success.topology-2", "success"),
        ("rate-limited.topology-3", "success"),
        ("declined-face-mismatch.topology-4", "failure"),
    ];
    let clients: Vec<(Child, &str)> = expected
        .iter()
        .map(|(account, want)| (good_client(&base, account), *want))
        .collect();
    let load_json = dir.path().join("load.json");
    let mut load = Proc(
        Command::new(BIN)
            .args(["load", "--target", &base, "--api-key", KEY, "--quiet"])
            .args([
                "--rate",
                "50",
                "--duration",
                "4s",
                "--poll-interval",
                "300ms",
            ])
            .args(["--poll-deadline", "30s", "--seed", "17", "--json"])
            .arg(&load_json)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn load"),
    );

    // Validations acknowledged before and after one replica dies.
    let mut acked: Vec<String> = (0..30)
        .filter_map(|i| create(lb, &format!("success.before-{i}")))
        .collect();
    assert_eq!(acked.len(), 30, "every create before the kill succeeds");
    a.kill();
    let after: Vec<String> = (0..30)
        .filter_map(|i| create(lb, &format!("success.after-{i}")))
        .collect();
    assert_eq!(after.len(), 30, "the surviving replica serves every create");
    acked.extend(after);
    for id in &acked {
        let r = http(lb, "GET", &format!("/v1/validations/{id}"), "").expect("a poll answer");
        assert_eq!(
            r.status, 200,
            "{id} lost after the replica kill: {}",
            r.body
        );
    }

    // The good clients finish as their scenarios say, replica kill or not.
    for (mut child, want) in clients {
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("client output");
        let status = child.wait().expect("client exit");
        let last = out.lines().last().unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(last).expect("a JSON result line");
        assert!(status.success(), "good client failed: {out}");
        assert_eq!(v["validation_status"], want, "{out}");
        acked.push(v["validation_id"].as_str().expect("id").to_string());
    }
    wait_for(Duration::from_secs(60), "the load run ends", || {
        matches!(load.0.try_wait(), Ok(Some(_)))
    });
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&load_json).expect("the load report")).expect("JSON");
    assert!(
        report["create"]["count"].as_u64().unwrap_or(0) >= 150,
        "{report}"
    );
    assert!(
        report["outcomes"]["success"].as_u64().unwrap_or(0) > 0,
        "{report}"
    );

    // The killed replica comes back and rejoins.
    let _a = replica(&store, pa, dir.path(), "a2");
    wait_for(Duration::from_secs(10), "replica a is back", || healthy(pa));

    // Redis dies: clear, prompt 503s through the balancer, and health says so.
    redis.kill();
    let t = Instant::now();
    let down = http(lb, "POST", "/v1/validations", "type=government").expect("an answer");
    let health = http(lb, "GET", "/_mock/health", "").expect("an answer");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "no hang while Redis is down"
    );
    for r in [&down, &health] {
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(r.headers.contains("retry-after: 1"), "{}", r.headers);
    }
    let err = down.json();
    assert_eq!(
        (err["code"].clone(), err["http_code"].clone()),
        (20503.into(), 503.into())
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Redis"),
        "{err}"
    );

    // Redis is back with its append-only file: service resumes by itself, nothing lost, and
    // both replicas answer every validation identically.
    redis.restart();
    wait_for(Duration::from_secs(10), "service resumes", || healthy(lb));
    let mut divergent = BTreeMap::new();
    for id in &acked {
        let (from_a, from_b) = (detail(pa, id), detail(pb, id));
        assert!(from_a.is_some(), "{id} lost");
        if from_a != from_b {
            divergent.insert(id.clone(), (from_a, from_b));
        }
    }
    assert!(
        divergent.is_empty(),
        "divergent validations: {divergent:#?}"
    );
    eprintln!(
        "topology: {} validations checked, 0 lost, 0 divergent; load run: {} creates, {} polls",
        acked.len(),
        report["create"]["count"],
        report["poll"]["count"]
    );
}

/// docs/scale-out.md's commands, run as written (in a temp dir holding a copy of the nginx
/// configuration, with free ports in place of 6379, 8080, 8081 and 8082): a create through
/// the balancer reads the same through either replica.
#[test]
fn the_scale_out_commands_of_the_operators_page_run() {
    require("redis-server", "redis-server");
    require("nginx", "nginx");
    let doc = std::fs::read_to_string(repo().join("docs/scale-out.md")).expect("the page");
    let snippet = doc
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a sh block in docs/scale-out.md");
    let dir = tempfile::tempdir().expect("temp dir");
    let (redis, pa, pb, lb) = (free_port(), free_port(), free_port(), free_port());
    std::fs::create_dir_all(dir.path().join("docs/ops")).expect("docs/ops");
    std::fs::write(
        dir.path().join("docs/ops/nginx.conf"),
        nginx_conf(lb, [pa, pb]),
    )
    .expect("nginx.conf");
    let bin_dir = Path::new(BIN).parent().expect("the binary's dir");
    let script = snippet
        .replace("6379", &redis.to_string())
        .replace("8081", &pa.to_string())
        .replace("8082", &pb.to_string());
    // Its own process group, so every command it started stops with it.
    let _group = ProcessGroup::spawn(
        Command::new("sh")
            .args(["-c", &script])
            .current_dir(dir.path())
            .env("KEY", KEY)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("run the page's commands");
    wait_for(
        Duration::from_secs(15),
        "the page's balancer answers",
        || healthy(lb) && healthy(pa) && healthy(pb),
    );
    let id = create(lb, "success.from-the-docs").expect("a create through nginx");
    assert_eq!(detail(pa, &id), detail(pb, &id));
}
