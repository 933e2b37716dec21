//! Driving the client under test, once per case, and reading what it reports.
//!
//! Contract (conformance/README.md): the client gets `TRUORA_API_BASE_URL`, `TRUORA_API_KEY`,
//! `TRUORA_ACCOUNT_ID` (and the optional `TRUORA_POLL_DEADLINE_SECONDS`), creates one
//! validation, follows it, prints one JSON object as the last line of stdout and exits 0.
//! A service client (`--client-url`) gets the same values as a JSON POST and answers with the
//! same object.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::http;

/// The exit code of a client that stops on purpose with an error it reports (README, "The
/// client contract"): an ambiguous create it chose not to re-send, a request the API rejected.
pub const EXIT_DELIBERATE_ERROR: i32 = 3;

/// How often the run re-reads whether the client's first request has arrived.
const LIMIT_TICK: Duration = Duration::from_millis(100);

/// Most bytes kept from each of the client's stdout and stderr (the tail is kept).
const OUTPUT_KEEP: usize = 16 * 1024;

/// How to reach the client under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSpec {
    /// A shell command line, run with `sh -c`.
    Command(String),
    /// A service: the suite POSTs the case's settings to this URL.
    Url(String),
}

/// What one case hands the client.
#[derive(Debug, Clone)]
pub struct ClientEnv {
    pub base_url: String,
    pub api_key: String,
    pub account_id: String,
    /// The case's polling deadline ([`crate::settings::Settings::deadline_for`]), handed over
    /// in `TRUORA_POLL_DEADLINE_SECONDS` / `poll_deadline_seconds`.
    pub deadline: Duration,
}

/// What the client reported on its last line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_status: Option<String>,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum ClientEnd {
    /// The process exited (or the service answered) with this code / HTTP status.
    Exited { code: Option<i32> },
    /// Killed at the case's wall-clock limit.
    Killed,
    /// The client could not be started or reached at all.
    Unreachable { reason: String },
}

/// One run of the client.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRun {
    /// Mock-clock seconds when the client was started and when it ended.
    #[serde(serialize_with = "crate::secs::secs")]
    pub started: Duration,
    #[serde(serialize_with = "crate::secs::secs")]
    pub ended: Duration,
    /// Mock-clock seconds when the client's first request arrived: the case limit runs from
    /// here, so a slow runtime start (a JVM on a busy machine) does not eat it.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secs::opt_secs"
    )]
    pub first_request: Option<Duration>,
    #[serde(flatten)]
    pub end: ClientEnd,
    /// The parsed last line, when it was a JSON object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ClientReport>,
    /// Why the last line could not be used, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_error: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
}

impl ClientRun {
    pub fn exited_zero(&self) -> bool {
        self.end == ClientEnd::Exited { code: Some(0) }
    }

    /// How long the client took from its start to its first request (its start-up), when it
    /// sent one.
    pub fn startup(&self) -> Option<Duration> {
        self.first_request.map(|f| f.saturating_sub(self.started))
    }
}

/// The two wall-clock limits of a run: `startup` from the start to the first request, then
/// `case` from the first request on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub startup: Duration,
    pub case: Duration,
}

impl Limits {
    /// When the run must end, on the mock's clock: `case` after the first request, or, before
    /// any, `startup` after the start.
    pub fn kill_at(&self, started: Duration, first_request: Option<Duration>) -> Duration {
        match first_request {
            Some(f) => f + self.case,
            None => started + self.startup,
        }
    }
}

/// Parses the client's result from its output: the last non-empty line must be a JSON object.
pub fn parse_report(stdout: &str) -> Result<ClientReport, String> {
    let Some(line) = stdout.lines().rev().map(str::trim).find(|l| !l.is_empty()) else {
        return Err(
            "the client printed nothing on stdout; print one JSON object as the last line".into(),
        );
    };
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
        format!(
            "the last line of stdout is not JSON ({e}): `{}`",
            shorten(line, 120)
        )
    })?;
    let Some(obj) = value.as_object() else {
        return Err(format!(
            "the last line of stdout is JSON but not an object: `{}`",
            shorten(line, 120)
        ));
    };
    let text = |k: &str| -> Result<Option<String>, String> {
        match obj.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "`{k}` in the result line must be a string, got {other}"
            )),
        }
    };
    Ok(ClientReport {
        validation_id: text("validation_id")?,
        validation_status: text("validation_status")?,
        failure_status: text("failure_status")?,
    })
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// Runs the client once. `now` reads the case's mock clock so the run's start and end line up
/// with the journal's timestamps; `first_request` reads when the mock received the client's
/// first request, if it has (the limits run from it, see [`Limits`]).
///
/// `linger` is the quiet window: after the client ends, its process group (or, for a service,
/// the mock) stays up that long so polls that should not come are seen before anything is
/// killed.
pub async fn run(
    spec: &ClientSpec,
    env: &ClientEnv,
    limits: Limits,
    linger: Duration,
    now: impl Fn() -> Duration,
    first_request: impl Fn() -> Option<Duration>,
) -> ClientRun {
    let started = now();
    let (end, stdout, stderr, ended) = match spec {
        ClientSpec::Command(cmd) => {
            run_command(cmd, env, limits, linger, &now, &first_request).await
        }
        ClientSpec::Url(url) => {
            // A service is already running: no start-up to allow for.
            let (end, out, err) = run_url(url, env, limits.case).await;
            let ended = now();
            tokio::time::sleep(linger).await;
            (end, out, err, ended)
        }
    };
    let (report, report_error) = match &end {
        ClientEnd::Unreachable { .. } => (None, None),
        _ => match parse_report(&stdout) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        },
    };
    ClientRun {
        started,
        ended,
        first_request: first_request(),
        end,
        report,
        report_error,
        stderr_tail: tail(&stderr, 2048),
    }
}

fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.trim_end().to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", s[start..].trim_end())
}

async fn run_command(
    cmd: &str,
    env: &ClientEnv,
    limits: Limits,
    linger: Duration,
    now: &impl Fn() -> Duration,
    first_request: &impl Fn() -> Option<Duration>,
) -> (ClientEnd, String, String, Duration) {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .env("TRUORA_API_BASE_URL", &env.base_url)
        .env("TRUORA_API_KEY", &env.api_key)
        .env("TRUORA_ACCOUNT_ID", &env.account_id)
        .env(
            "TRUORA_POLL_DEADLINE_SECONDS",
            env.deadline.as_secs().to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout kills the whole tree (an interpreter under `sh`).
    #[cfg(unix)]
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return (
                ClientEnd::Unreachable {
                    reason: format!("could not start `sh -c {cmd}`: {e}"),
                },
                String::new(),
                String::new(),
                now(),
            );
        }
    };
    let out = Arc::new(tailbuf::Buf::default());
    let err = Arc::new(tailbuf::Buf::default());
    let out_task = child
        .stdout
        .take()
        .map(|s| tokio::spawn(pump(s, out.clone())));
    let err_task = child
        .stderr
        .take()
        .map(|s| tokio::spawn(pump(s, err.clone())));
    let pid = child.id();
    let started = now();
    let end = loop {
        // Re-read the limit at each tick: it moves once the first request arrives.
        let left = limits
            .kill_at(started, first_request())
            .saturating_sub(now());
        if left.is_zero() {
            break ClientEnd::Killed;
        }
        match tokio::time::timeout(left.min(LIMIT_TICK), child.wait()).await {
            Ok(Ok(status)) => {
                break ClientEnd::Exited {
                    code: status.code(),
                };
            }
            Ok(Err(e)) => {
                break ClientEnd::Unreachable {
                    reason: format!("could not wait for the client: {e}"),
                };
            }
            Err(_) => continue,
        }
    };
    let ended = now();
    if matches!(end, ClientEnd::Exited { .. }) {
        tokio::time::sleep(linger).await;
    }
    // Whatever is left of the group (background children, or everything on timeout) goes.
    if let Some(pid) = pid {
        kill_group(pid);
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    // Readers end at EOF; a grandchild holding the pipe cannot keep the suite waiting.
    let deadline = Instant::now() + Duration::from_millis(500);
    for task in [out_task, err_task].into_iter().flatten() {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, task).await.is_err() {
            break;
        }
    }
    (end, out.take(), err.take(), ended)
}

/// Kills a process group by id, through `kill(1)` so the crate needs no libc bindings.
fn kill_group(pgid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

async fn pump(mut r: impl AsyncRead + Unpin, buf: Arc<tailbuf::Buf>) {
    let mut chunk = [0u8; 4096];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.push(&chunk[..n]),
        }
    }
}

/// A byte buffer that keeps only its last [`OUTPUT_KEEP`] bytes.
mod tailbuf {
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    pub struct Buf(Mutex<Vec<u8>>);

    impl Buf {
        pub fn push(&self, data: &[u8]) {
            let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
            v.extend_from_slice(data);
            if v.len() > 2 * super::OUTPUT_KEEP {
                let cut = v.len() - super::OUTPUT_KEEP;
                v.drain(..cut);
            }
        }

        pub fn take(&self) -> String {
            let v = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
            String::from_utf8_lossy(&v).into_owned()
        }
    }
}

async fn run_url(url: &str, env: &ClientEnv, limit: Duration) -> (ClientEnd, String, String) {
    let body = serde_json::json!({
        "account_id": env.account_id,
        "base_url": env.base_url,
        "api_key": env.api_key,
        "poll_deadline_seconds": env.deadline.as_secs(),
    });
    let req = http::Req {
        method: http::Method::POST,
        url: url.to_string(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    };
    match http::send(req, limit).await {
        Ok(resp) => {
            let code = if resp.status == 200 {
                Some(0)
            } else {
                Some(i32::from(resp.status))
            };
            (
                ClientEnd::Exited { code },
                String::from_utf8_lossy(&resp.body).into_owned(),
                String::new(),
            )
        }
        Err(http::HttpError::Timeout(_)) => (ClientEnd::Killed, String::new(), String::new()),
        Err(e) => (
            ClientEnd::Unreachable {
                reason: format!("could not reach the client at {url}: {e}"),
            },
            String::new(),
            String::new(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_last_non_empty_line() {
        let r = parse_report("log line\n{\"validation_id\":\"VLD1\",\"validation_status\":\"failure\",\"failure_status\":\"declined\"}\n\n").unwrap();
        assert_eq!(r.validation_id.as_deref(), Some("VLD1"));
        assert_eq!(r.validation_status.as_deref(), Some("failure"));
        assert_eq!(r.failure_status.as_deref(), Some("declined"));
    }

    #[test]
    fn explains_unusable_output() {
        assert_eq!(
            parse_report("").unwrap_err(),
            "the client printed nothing on stdout; print one JSON object as the last line"
        );
        assert!(
            parse_report("done: success")
                .unwrap_err()
                .starts_with("the last line of stdout is not JSON")
        );
        assert_eq!(
            parse_report("[1]").unwrap_err(),
            "the last line of stdout is JSON but not an object: `[1]`"
        );
        assert_eq!(
            parse_report("{\"validation_status\": 3}").unwrap_err(),
            "`validation_status` in the result line must be a string, got 3"
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_any_output(s in "\\PC*") {
            let _ = parse_report(&s);
        }

        #[test]
        fn a_valid_object_after_noise_is_always_found(noise in "[a-z \n]{0,40}", id in "VLD[0-9a-f]{4}") {
            let out = format!("{noise}\n{{\"validation_id\":\"{id}\",\"validation_status\":\"success\"}}\n");
            let r = parse_report(&out).unwrap();
            prop_assert_eq!(r.validation_id, Some(id));
        }
    }
}
