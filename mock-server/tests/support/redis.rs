//! A real `redis-server` for a test: on a free loopback port, with no persistence, in a temp
//! dir, killed when dropped. Shared by the Redis store tests and the topology test
//! (`#[path]`-included, so both crates start Redis the same way).
//!
//! Needs Debian's `redis-server` (`apt-get install redis-server`; `.ci/run` installs it). A
//! machine without it fails the test with that message rather than skipping it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port: bound, read and released. Redis has no `--port 0`.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("read the bound port").port()
}

/// The path of a program on PATH (or the usual sbin dirs), or a panic saying what to install.
pub fn require(program: &str, package: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{program}` not found: this test needs it; install it with `apt-get install {package}` (.ci/run does)")
        })
}

pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    durable: bool,
}

impl Redis {
    /// A Redis that keeps nothing across a restart.
    pub fn start() -> Redis {
        Self::start_with(false)
    }

    /// A Redis that writes every change to its append-only file before answering
    /// (`appendfsync always`), so a kill and restart loses nothing it acknowledged.
    pub fn start_durable() -> Redis {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Redis {
        let mut r = Redis {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir for Redis"),
            durable,
        };
        r.spawn();
        r
    }

    /// `redis://127.0.0.1:PORT/0` with its own key namespace.
    pub fn url(&self, namespace: &str) -> String {
        format!(
            "redis://127.0.0.1:{}/0?namespace={namespace}&timeout_ms=500",
            self.port
        )
    }

    fn spawn(&mut self) {
        let bin = require("redis-server", "redis-server");
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("redis.log"))
            .expect("Redis log");
        let child = Command::new(bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--daemonize", "no"])
            .args(if self.durable {
                ["--appendonly", "yes", "--appendfsync", "always"]
            } else {
                ["--appendonly", "no", "--appendfsync", "everysec"]
            })
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("Redis log"))
            .stderr(log)
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits (at most 10 s) for `PING` to answer.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default();
        panic!("redis-server on port {} did not start: {log}", self.port);
    }

    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// Kills Redis (as a crash would: no save).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts Redis again on the same port: with what its append-only file kept when durable,
    /// empty otherwise.
    /// Freezes the server (`SIGSTOP`): connections stay open and nothing answers, as a Redis
    /// stalled by a fork or a full disk.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("Redis is running").id();
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
