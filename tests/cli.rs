//! The `truidentidad-mock` binary as a user runs it: the startup line scripts depend on,
//! `scenarios check` messages, and a SIGTERM restart with `--state-file`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_truidentidad-mock");

/// Starts `serve` and returns the child and the base address from its first stdout line.
fn serve(args: &[&str]) -> (Child, String) {
    listening(
        Command::new(BIN)
            .arg("serve")
            .args(["--port", "0", "--no-request-log"])
            .args(args)
            .stderr(Stdio::null()),
    )
}

/// Spawns a prepared `serve` command and reads the base address from its first stdout line.
fn listening(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, addr)
}

/// A blocking one-shot HTTP request; returns the whole response text.
fn http(addr: &str, req: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn create(addr: &str, body: &str) -> String {
    let resp = http(
        addr,
        &format!(
            "POST /v1/validations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTruora-API-Key: k\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let start = resp
        .find("\"validation_id\":\"")
        .expect("validation_id in response")
        + 17;
    resp[start..start + 35].to_string()
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "serve exited with {exit:?} after SIGTERM");
}

#[test]
fn serve_prints_the_address_first_and_stops_cleanly_on_sigterm() {
    let (mut child, addr) = serve(&[]);
    let health = http(
        &addr,
        "GET /_mock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    terminate(&mut child);
}

/// Runs `serve` with its request log on (stderr captured), sends one unknown-id poll and
/// one create, stops it with SIGTERM and returns stderr.
fn serve_logging(env: &[(&str, &str)]) -> String {
    let (mut child, addr) = listening(
        Command::new(BIN)
            .args(["serve", "--port", "0", "--seed", "7"])
            .envs(env.iter().copied())
            .stderr(Stdio::piped()),
    );
    http(
        &addr,
        "GET /v1/validations/VLDnope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTruora-API-Key: k\r\n\r\n",
    );
    create(&addr, "type=government&account_id=success.log");
    let mut stderr = child.stderr.take().unwrap();
    terminate(&mut child);
    let mut text = String::new();
    stderr.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn serve_logs_one_line_per_request_to_stderr_and_flushes_it_on_exit() {
    let log = serve_logging(&[("RUST_LOG", "info")]);
    let requests: Vec<&str> = log.lines().filter(|l| l.contains(" method=")).collect();
    assert_eq!(requests.len(), 2, "{log}");
    // `<RFC 3339 time>  INFO method=… path=… status=… latency_ms=…`, in arrival order.
    for line in &requests {
        let time = line.split(' ').next().unwrap();
        assert!(humantime::parse_rfc3339(time).is_ok(), "{line}");
    }
    let rest = |l: &str| {
        l.split_once(' ')
            .unwrap()
            .1
            .rsplit_once(" latency_ms=")
            .unwrap()
            .0
            .to_string()
    };
    assert_eq!(
        requests.iter().map(|l| rest(l)).collect::<Vec<_>>(),
        [
            " INFO method=GET path=/v1/validations/VLDnope status=404",
            // A create says which validation it made and what chose its scenario.
            " INFO method=POST path=/v1/validations status=200 \
             validation_id=VLD69dac240c5d52d65e46dbfc50c29f4eb scenario=success chosen_by=account_id",
        ]
    );
    assert!(log.lines().any(|l| l.ends_with("INFO stopped")), "{log}");
    assert!(
        !log.contains("Truora-API-Key") && !log.contains(": k"),
        "{log}"
    );
}

#[test]
fn the_logged_latency_includes_the_time_a_response_was_held() {
    // A create held 80 ms by a scenario fault must log at least that: the latency is the
    // server clock's time from arrival to answer, not only the handler's own work.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("held.toml"),
        "[[scenario]]\nname = \"held\"\ndescription = \"creates answered after 80 ms\"\n\
         [scenario.outcome]\nstatus = \"success\"\n\
         [[scenario.fault]]\nrequest = \"create\"\ndelay = \"80ms\"\n",
    )
    .unwrap();
    let (mut child, addr) = listening(
        Command::new(BIN)
            .current_dir(dir.path())
            .args(["serve", "--port", "0", "--scenarios", "held.toml"])
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped()),
    );
    create(&addr, "type=government&account_id=held.latency");
    let mut stderr = child.stderr.take().unwrap();
    terminate(&mut child);
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    let post = log
        .lines()
        .find(|l| l.contains("method=POST"))
        .unwrap_or_else(|| panic!("no POST line in {log}"));
    let latency_ms: f64 = post.rsplit_once("latency_ms=").unwrap().1.parse().unwrap();
    assert!(latency_ms >= 80.0, "{post}");
}

#[test]
fn rust_log_warn_turns_the_request_lines_off() {
    let log = serve_logging(&[("RUST_LOG", "warn")]);
    assert!(!log.contains("method="), "{log}");
}

/// `--snapshot-every`: a SIGKILL (no shutdown save) still leaves what the last periodic
/// snapshot held, and a restart serves it.
#[test]
fn a_sigkilled_server_comes_back_with_what_was_snapshotted() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let args = [
        "--state-file",
        state_arg,
        "--snapshot-every",
        "100ms",
        "--clock",
        "manual",
    ];
    let (mut child, addr) = serve(&args);
    let id = create(&addr, "type=government&account_id=declined-liveness.u1");
    // Wait (bounded) for a snapshot that holds the validation, then kill without warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&state).is_ok_and(|s| s.contains(&id)) {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot with {id}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    restarted_server_declines(&args, &id);
}

#[test]
fn snapshot_every_needs_a_state_file() {
    let out = Command::new(BIN)
        .args(["serve", "--snapshot-every", "10s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--state-file"), "{err}");
}

#[test]
fn sigterm_saves_state_and_a_restart_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let (mut child, addr) = serve(&["--state-file", state_arg, "--clock", "manual"]);
    let id = create(&addr, "type=government&account_id=declined-liveness.u1");
    terminate(&mut child);
    assert!(state.exists());

    restarted_server_declines(&["--state-file", state_arg, "--clock", "manual"], &id);
}

/// Starts `serve` with `args` on a saved state, moves its manual clock 5 s on, and checks that
/// the `declined-liveness` validation `id` came back and reached its outcome.
fn restarted_server_declines(args: &[&str], id: &str) {
    let (mut child, addr) = serve(args);
    http(
        &addr,
        "POST /_mock/clock/advance?seconds=5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
    let poll = http(
        &addr,
        &format!(
            "GET /v1/validations/{id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTruora-API-Key: k\r\n\r\n"
        ),
    );
    assert!(
        poll.contains("\"declined_reason\":\"passive_liveness_verification_not_passed\""),
        "{poll}"
    );
    terminate(&mut child);
}

#[test]
fn serve_refuses_a_corrupt_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, "garbage").unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--port",
            "0",
            "--state-file",
            state.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not a valid truidentidad-mock state file"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "garbage");
}

#[test]
fn scenarios_check_reports_every_error_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[scenario]]\nname = \"x\"\ndescription = \"d\"\n[scenario.outcome]\nstatus = \"failure\"\nfailure_status = \"declined\"\ndeclined_reason = \"nope\"\n[[scenario.fault]]\nconnection = \"explode\"\n",
    )
    .unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[[scenario]]\nname = \"mine\"\ndescription = \"d\"\n[scenario.outcome]\nstatus = \"success\"\n").unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["scenarios", "check", "good.toml", "bad.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    insta::assert_snapshot!(format!("stdout:\n{stdout}\nstderr:\n{stderr}"));
}

#[test]
fn scenarios_list_and_show() {
    let out = Command::new(BIN)
        .args(["scenarios", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
    let out = Command::new(BIN)
        .args(["scenarios", "show", "rate-limited"])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
    let out = Command::new(BIN)
        .args(["scenarios", "show", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: unknown scenario `nope`; known scenarios: success,")
    );
}

#[test]
fn serve_rejects_broken_scenario_files_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[scenario]]\nname = \"Bad Name\"\ndescription = \"d\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--port", "0", "--scenarios", "bad.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "nothing may be printed on stdout before listening"
    );
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr));
}

/// `--deadline 7500ms` would reach the client as `TRUORA_POLL_DEADLINE_SECONDS=7`: refused
/// before anything runs, with the reason.
#[test]
fn conformance_run_refuses_a_deadline_that_is_not_whole_seconds() {
    let out = Command::new(BIN)
        .args([
            "conformance",
            "run",
            "--client",
            "true",
            "--deadline",
            "7500ms",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr));
}

#[test]
fn identities_prints_the_same_people_for_a_seed_in_both_formats() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("identities")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run(&["--count", "13", "--seed", "7", "--format", "csv"]);
    insta::assert_snapshot!("identities_csv", csv);
    let json = run(&["--count", "3", "--seed", "7", "--format", "json"]);
    insta::assert_snapshot!("identities_json", json);
    assert_eq!(
        run(&["--count", "13", "--seed", "7", "--format", "csv"]),
        csv
    );
    assert_ne!(
        run(&["--count", "13", "--seed", "8", "--format", "csv"]),
        csv
    );
    let out = Command::new(BIN)
        .args(["identities", "--count", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn health_exits_0_for_a_running_mock_and_1_otherwise() {
    let (mut child, addr) = serve(&[]);
    let out = Command::new(BIN)
        .args(["health", "--url", &format!("http://{addr}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    terminate(&mut child);

    // A port nobody listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = Command::new(BIN)
        .args([
            "health",
            "--timeout",
            "2s",
            "--url",
            &format!("http://{closed}"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("unhealthy: connecting to"), "{err}");

    let out = Command::new(BIN)
        .args(["health", "--url", "https://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("must start with http://"));
}

/// A service that never comes up is one clear error after the few seconds a just-started
/// one gets to bind its port, not fourteen interrupted cases.
#[test]
fn conformance_run_names_a_client_service_that_is_not_listening() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/follow");
    let out = Command::new(BIN)
        .args(["conformance", "run", "--client-url", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&port.to_string(), "PORT");
    insta::assert_snapshot!(stderr, @"error: cannot connect to the client service at http://127.0.0.1:PORT/follow (is it running and listening there?): Connection refused (os error 111)");
}

/// `load` without a mode still runs for a release, and says first which mode it now is.
#[test]
fn load_without_a_mode_names_its_new_form() {
    let out = Command::new(BIN)
        .args(["load", "--rate", "0", "--duration", "1s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr), @r"
    note: `load` without a mode is deprecated and goes in the next release: use `truidentidad-mock load run …` with the same options (`load --help` lists the modes)
    error: the schedule creates no validations: give --rate above 0 (e.g. --rate 50) or --stages with a rate above 0
    ");
}

#[test]
fn a_near_miss_magic_account_id_is_warned_about_in_the_header_and_the_log() {
    // `declined-decesed` is one letter from `declined-deceased`: the create gets what the id
    // asks for as written (the default scenario), and both the response and the log say
    // which scenario it probably meant.
    let (mut child, addr) = listening(
        Command::new(BIN)
            .args(["serve", "--port", "0", "--seed", "7"])
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped()),
    );
    let body = "type=government&account_id=declined-decesed.user-1";
    let resp = http(
        &addr,
        &format!(
            "POST /v1/validations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTruora-API-Key: k\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let mut stderr = child.stderr.take().unwrap();
    terminate(&mut child);
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    let header = resp
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("x-mock-warning:"))
        .unwrap_or_else(|| panic!("no X-Mock-Warning in {resp}"));
    // The log line without its time and latency, which change from run to run.
    let line = log
        .lines()
        .find(|l| l.contains("method=POST"))
        .unwrap_or_else(|| panic!("no POST line in {log}"));
    let line = line
        .split_once(' ')
        .unwrap()
        .1
        .rsplit_once(" latency_ms=")
        .unwrap()
        .0;
    insta::assert_snapshot!(format!("{header}\n{line}"));
}

/// Every `--help`, top level and per subcommand.
const HELP_PAGES: &[&[&str]] = &[
    &[],
    &["serve"],
    &["scenarios", "list"],
    &["scenarios", "show"],
    &["scenarios", "check"],
    &["conformance", "run"],
    &["conformance", "list"],
    &["conformance", "server"],
    &["load"],
    &["load", "run"],
    &["load", "raw"],
    &["load", "fleet"],
    &["load", "merge"],
    &["identities"],
    &["health"],
    &["docs"],
    &["record"],
    &["fidelity"],
    &["fidelity", "diff"],
    &["fidelity", "facts"],
];

fn output(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn help_points_only_to_documents_the_binary_itself_prints() {
    // After `pip install` or `cargo install` there is no checkout: a path like
    // `benches/SCHEMA.md` in the help would lead nowhere, `truidentidad-mock docs SCHEMA` does.
    let mut referenced = std::collections::BTreeSet::new();
    for page in HELP_PAGES {
        let args: Vec<&str> = page.iter().copied().chain(["--help"]).collect();
        let (ok, help) = output(&args);
        assert!(ok, "{args:?}: {help}");
        for word in help.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            let word = word.trim_end_matches(['.', ',', ';', '`']);
            assert!(
                !(word.ends_with(".md") && word.contains('/')),
                "{args:?} --help names the repository file {word}"
            );
        }
        for (i, _) in help.match_indices("truidentidad-mock docs ") {
            let name: String = help[i + 23..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !name.is_empty() {
                referenced.insert(name);
            }
        }
    }
    assert!(referenced.contains("SCHEMA"), "{referenced:?}");
    for name in &referenced {
        let (ok, text) = output(&["docs", name]);
        assert!(ok && text.starts_with('#'), "docs {name}: {text}");
    }
    let (_, schema) = output(&["docs", "SCHEMA"]);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        schema,
        std::fs::read_to_string(repo.join("benches/SCHEMA.md")).unwrap()
    );
    let (ok, err) = output(&["docs", "nope"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("no document `nope`; known: README, SCHEMA"),
        "{err}"
    );
}

#[test]
fn serve_dash_h_is_a_summary_and_dash_dash_help_the_full_text() {
    let (_, short) = output(&["serve", "-h"]);
    let (_, long) = output(&["serve", "--help"]);
    assert!(
        short.lines().count() * 2 < long.lines().count(),
        "-h has {} lines, --help {}",
        short.lines().count(),
        long.lines().count()
    );
    assert!(short.contains("truidentidad-mock serve --help"), "{short}");
    assert!(long.contains("Examples:"), "{long}");
}

#[test]
fn version_names_the_commit() {
    let (ok, text) = output(&["--version"]);
    assert!(ok, "{text}");
    let rest = text
        .strip_prefix(concat!(
            "truidentidad-mock ",
            env!("CARGO_PKG_VERSION"),
            " (commit "
        ))
        .unwrap_or_else(|| panic!("{text}"));
    let commit = rest.trim_end().strip_suffix(')').unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}
