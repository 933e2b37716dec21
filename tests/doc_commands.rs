//! Every shell block (```sh) of the README and the docs, run the way a newcomer pastes it.
//!
//! `every_shell_block_is_run_or_accounted_for` finds each block in the repository's Markdown
//! and holds it to the plan below: run here by a named test, run elsewhere (named), or, for
//! measurement records that take minutes, every `truidentidad-mock` command line in it is
//! parsed by the binary (`--help` appended: clap rejects an unknown flag or a bad value before
//! it reaches the help). A new block without a plan fails that test, and so does a plan whose
//! block is gone.
//!
//! The blocks run with `sh`, in a temporary directory that links the repository's
//! `conformance/`, with this build's binary on `PATH`. What the harness changes, and nothing
//! else:
//! - `cargo build --release` is dropped and `./target/release/truidentidad-mock` is the
//!   binary on `PATH` (this test's build);
//! - fixed ports (8080, 8099, …) become free ones, and a `serve` without `--port` gets the one
//!   that stands for 8080;
//! - after a line that starts a server in the background (`… &`), the next line waits for its
//!   port, as a person typing the next line would;
//! - against a `--clock manual` server, `sleep N` advances the mock's clock by N seconds;
//! - a block's test may shorten its `--duration` and `--poll-deadline` (it says so);
//! - `VLD…`, which the README asks the reader to replace with the id they got, is replaced
//!   with the `validation_id` the lines before it printed.

#[path = "support/process_group.rs"]
mod process_group;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use process_group::ProcessGroup;

const BIN: &str = env!("CARGO_BIN_EXE_truidentidad-mock");

/// How long one block may run before the test fails (and its processes are killed).
const BLOCK_LIMIT: Duration = Duration::from_secs(150);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What happens to one block, found by its file and a line of it.
struct Entry {
    file: &'static str,
    marker: &'static str,
    plan: Plan,
}

enum Plan {
    /// Run by the named test in this file.
    Runs(&'static str),
    /// Run by another test or CI step, named here.
    Elsewhere(&'static str),
    /// A measurement record (minutes long): each command line is parsed, not run.
    FlagsParse,
}

const PLAN: &[Entry] = &[
    Entry {
        file: "README.md",
        marker: "cargo run --release -- serve",
        plan: Plan::Elsewhere(
            "the set-up commands: `.ci/run` runs `cargo test --workspace`, and tests/cli.rs starts `serve` on its built-in defaults",
        ),
    },
    Entry {
        file: "README.md",
        marker: "account_id=user-42 -d user_authorized=true",
        plan: Plan::Runs("readme_create_then_poll"),
    },
    Entry {
        file: "README.md",
        marker: "account_id=declined-deceased.user-42",
        plan: Plan::Runs("readme_magic_account_id_declines"),
    },
    Entry {
        file: "README.md",
        marker: "--junit report.xml",
        plan: Plan::Runs("readme_conformance_run_writes_junit"),
    },
    Entry {
        file: "README.md",
        marker: "--json run.json --threshold",
        plan: Plan::Runs("readme_load_against_a_served_mock"),
    },
    Entry {
        file: "README.md",
        marker: "load merge run-*.json",
        plan: Plan::Runs("readme_load_merge"),
    },
    Entry {
        file: "README.md",
        marker: "--json fleet.json",
        plan: Plan::Runs("readme_fleet_of_a_python_service"),
    },
    Entry {
        file: "README.md",
        marker: "serve --clock manual &",
        plan: Plan::Runs("readme_manual_clock"),
    },
    Entry {
        file: "README.md",
        marker: "pip install truidentidad-mock",
        plan: Plan::Elsewhere(
            "`.ci/run`'s package step (scripts/package_smoke.sh) pip-installs the wheel built from this checkout into a scratch venv with no cargo on PATH",
        ),
    },
    Entry {
        file: "README.md",
        marker: "npm install --save-dev truidentidad-mock",
        plan: Plan::Elsewhere(
            "`.ci/run`'s package step (scripts/package_smoke.sh) npm-installs the tarballs built from this checkout into a scratch project with no cargo on PATH",
        ),
    },
    Entry {
        file: "docs/packaging.md",
        marker: "bash scripts/package_smoke.sh",
        plan: Plan::Elsewhere("`.ci/run` runs this line after `cargo test`"),
    },
    Entry {
        file: "clients/node/README.md",
        marker: "npm install --save-dev truidentidad-mock",
        plan: Plan::Elsewhere(
            "`.ci/run`'s package step (scripts/package_smoke.sh) npm-installs the tarballs built from this checkout into a scratch project",
        ),
    },
    Entry {
        file: "README.md",
        marker: "docker build -t truidentidad-mock .",
        plan: Plan::Elsewhere(
            "no container engine here: scripts/dockerfile_steps.py (run by `.ci/run`) runs the Dockerfile's steps",
        ),
    },
    Entry {
        file: "README.md",
        marker: "/_mock/metrics",
        plan: Plan::Runs("readme_metrics"),
    },
    Entry {
        file: "docs/container.md",
        marker: "docker build -t truidentidad-mock .",
        plan: Plan::Elsewhere(
            "no container engine here: scripts/dockerfile_steps.py (run by `.ci/run`) runs the Dockerfile's steps",
        ),
    },
    Entry {
        file: "docs/scale-out.md",
        marker: "redis-server --port 6379",
        plan: Plan::Elsewhere(
            "tests/topology.rs, the_scale_out_commands_of_the_operators_page_run",
        ),
    },
    Entry {
        file: "clients/python/README.md",
        marker: "pip install truidentidad-mock",
        plan: Plan::Elsewhere(
            "`.ci/run`'s package step (scripts/package_smoke.sh) pip-installs the wheel built from this checkout into a scratch venv with no cargo on PATH",
        ),
    },
    Entry {
        file: "conformance/README.md",
        marker: "conformance/clients/bad/tight_loop.py",
        plan: Plan::Runs("conformance_readme_good_then_tight_loop"),
    },
    Entry {
        file: "conformance/README.md",
        marker: "conformance explore --seed 1 --runs 20",
        plan: Plan::Runs("conformance_readme_explore_worked_example"),
    },
    Entry {
        file: "conformance/README.md",
        marker: "time ./target/release/truidentidad-mock conformance run",
        plan: Plan::Elsewhere(
            "the first command of the first block of conformance/README.md, timed; conformance_readme_good_then_tight_loop runs it",
        ),
    },
    Entry {
        file: "conformance/README.md",
        marker: "conformance server --base-url",
        plan: Plan::Runs("conformance_readme_server_check"),
    },
    Entry {
        file: "BENCHMARKS.md",
        marker: "python3 conformance/clients/python/service.py 8099 &",
        plan: Plan::FlagsParse,
    },
    Entry {
        file: "BENCHMARKS.md",
        marker: "node conformance/clients/node/service.mjs 8098 &",
        plan: Plan::FlagsParse,
    },
    Entry {
        file: "BENCHMARKS.md",
        marker: "--target http://127.0.0.1:8097",
        plan: Plan::FlagsParse,
    },
    Entry {
        file: "RELIABILITY.md",
        marker: "reliability.py soak",
        plan: Plan::Elsewhere(
            "a 10-minute soak whose figures RELIABILITY.md records; scripts/reliability.py is the measurement, not a test",
        ),
    },
    Entry {
        file: "RELIABILITY.md",
        marker: "reliability.py restart",
        plan: Plan::Elsewhere(
            "a 100,000-validation restart whose figures RELIABILITY.md records; tests/cli.rs restarts `serve --state-file` under SIGTERM",
        ),
    },
    Entry {
        file: "docs/record.md",
        marker: "# 1. Start the proxy in front of Truora's API",
        plan: Plan::FlagsParse,
    },
    Entry {
        file: "docs/record.md",
        marker: "--write-baseline accepted.toml",
        plan: Plan::FlagsParse,
    },
    Entry {
        file: "docs/record.md",
        marker: "fidelity facts recording --json facts.json",
        plan: Plan::FlagsParse,
    },
    Entry {
        file: "docs/record.md",
        marker: "--pending-for 0s &",
        plan: Plan::Runs("record_md_try_it_with_no_credentials"),
    },
];

/// One ```sh block: where it is and its text.
#[derive(Debug, Clone)]
struct Block {
    file: String,
    line: usize,
    text: String,
}

/// Every ```sh block of every Markdown file in the repository (not under target/,
/// node_modules/ or dot-directories).
fn all_blocks() -> Vec<Block> {
    let mut files = Vec::new();
    markdown_files(&repo(), &mut files);
    files.sort();
    files
        .iter()
        .flat_map(|path| {
            let rel = path
                .strip_prefix(repo())
                .unwrap_or(path)
                .display()
                .to_string();
            let text = std::fs::read_to_string(path).unwrap_or_default();
            sh_blocks(&rel, &text)
        })
        .collect()
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                markdown_files(&path, out);
            }
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

fn sh_blocks(file: &str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut open {
            None if line.trim_end() == "```sh" => open = Some((i + 1, String::new())),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                let (start, body) = open.take().unwrap_or_default();
                blocks.push(Block {
                    file: file.to_string(),
                    line: start,
                    text: body,
                });
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    blocks
}

/// The one block of `file` holding `marker`.
fn block(file: &str, marker: &str) -> Block {
    let found: Vec<Block> = all_blocks()
        .into_iter()
        .filter(|b| b.file == file && b.text.contains(marker))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{file}: expected one ```sh block holding `{marker}`, found {}",
        found.len()
    );
    found.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn every_shell_block_is_run_or_accounted_for() {
    let blocks = all_blocks();
    let mut problems = Vec::new();
    for b in &blocks {
        let entries: Vec<&Entry> = PLAN
            .iter()
            .filter(|e| e.file == b.file && b.text.contains(e.marker))
            .collect();
        match entries.as_slice() {
            [] => problems.push(format!(
                "{}:{}: a ```sh block with no plan: add it to PLAN in tests/doc_commands.rs (run it, or say what runs it)\n{}",
                b.file, b.line, b.text
            )),
            [one] => match one.plan {
                Plan::FlagsParse => problems.extend(flags_problems(b)),
                Plan::Runs(test) => {
                    if !THIS_FILE.contains(&format!("\nfn {test}() {{")) {
                        problems.push(format!("{}:{}: no test `{test}` here", b.file, b.line));
                    }
                }
                Plan::Elsewhere(by) => {
                    if named_paths(by).iter().all(|p| !repo().join(p).exists()) {
                        problems.push(format!(
                            "{}:{}: `{by}` names no file of the repository that runs it",
                            b.file, b.line
                        ));
                    }
                }
            },
            _ => problems.push(format!(
                "{}:{}: more than one PLAN entry matches",
                b.file, b.line
            )),
        }
    }
    for e in PLAN {
        let n = blocks
            .iter()
            .filter(|b| b.file == e.file && b.text.contains(e.marker))
            .count();
        if n != 1 {
            problems.push(format!(
                "PLAN entry {} `{}` matches {n} blocks (it must match exactly one)",
                e.file, e.marker
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// This file, to check that a `Plan::Runs` names a test that exists.
const THIS_FILE: &str = include_str!("doc_commands.rs");

/// The paths a plan's text names (words with a `/` or a file extension).
fn named_paths(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "`,;:()".contains(c)))
        .filter(|w| {
            w.contains('/') || w.ends_with(".rs") || w.ends_with(".md") || w.ends_with(".py")
        })
        .map(|w| w.split_once(", ").map_or(w, |(p, _)| p).to_string())
        .collect()
}

/// The block's logical lines: continuation backslashes joined, comments and blank lines kept
/// out.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        if let Some(head) = raw.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(raw);
        let line = std::mem::take(&mut current);
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            lines.push(trimmed.to_string());
        }
    }
    lines
}

/// For a measurement record: each `truidentidad-mock` command line, run with `--help` after
/// its arguments, must be accepted.
fn flags_problems(b: &Block) -> Vec<String> {
    let mut problems = Vec::new();
    for line in logical_lines(&b.text) {
        let line = line.replace("./target/release/truidentidad-mock", "truidentidad-mock");
        let Some(start) = line.find("truidentidad-mock ") else {
            continue;
        };
        let command = line[start..]
            .split(" # ")
            .next()
            .unwrap_or_default()
            .trim_end()
            .trim_end_matches('&')
            .trim_end();
        let out = Command::new("sh")
            .args(["-c", &format!("{command} --help")])
            .env("PATH", path_with_bin())
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => problems.push(format!(
                "{}:{}: `{command}` is not accepted: {}",
                b.file,
                b.line,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => problems.push(format!("{}:{}: sh: {e}", b.file, b.line)),
        }
    }
    problems
}

/// `PATH` with this build's binary first, so `truidentidad-mock` is the one under test.
fn path_with_bin() -> String {
    let dir = Path::new(BIN)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A `serve` the harness starts for blocks that expect one on 8080.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0", "--no-request-log"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out)
                .read_line(&mut line)
                .expect("read serve");
        }
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"));
        Served { child, port }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the harness adapts one block (see the module doc).
#[derive(Default)]
struct Adapt {
    /// Documented port → the free port standing in for it.
    ports: BTreeMap<u16, u16>,
    /// `sleep N` advances this server's manual clock.
    virtual_sleep_on: Option<u16>,
    /// Literal replacements this block's test names (e.g. a shorter `--duration`).
    replace: Vec<(&'static str, &'static str)>,
}

impl Adapt {
    fn port(mut self, documented: u16, actual: u16) -> Adapt {
        self.ports.insert(documented, actual);
        self
    }
}

/// The script `sh` runs for `text`.
fn adapt(text: &str, a: &Adapt) -> String {
    let mut script = String::from(
        "# Added by tests/doc_commands.rs (see its module doc).\n\
         __await_port() { i=0; until curl -s -o /dev/null \"http://127.0.0.1:$1/\"; do \
         i=$((i+1)); [ $i -gt 300 ] && break; command sleep 0.05; done; }\n",
    );
    if let Some(port) = a.virtual_sleep_on {
        script.push_str(&format!(
            "sleep() {{ curl -s -o /dev/null -X POST \"http://127.0.0.1:{port}/_mock/clock/advance?seconds=$1\"; }}\n"
        ));
    }
    let default_port = a.ports.get(&8080).copied();
    let mut body = text.replace("./target/release/truidentidad-mock", "truidentidad-mock");
    for (from, to) in &a.replace {
        assert!(body.contains(from), "the block no longer holds `{from}`");
        body = body.replace(from, to);
    }
    for (documented, actual) in &a.ports {
        body = body.replace(&documented.to_string(), &actual.to_string());
    }
    for line in body.lines() {
        if line.trim() == "cargo build --release" {
            continue;
        }
        let mut line = line.to_string();
        if let Some(port) = default_port
            && line.contains("truidentidad-mock serve")
            && !line.contains("--port")
        {
            line = line.replace(
                "truidentidad-mock serve",
                &format!("truidentidad-mock serve --port {port}"),
            );
        }
        script.push_str(&line);
        script.push('\n');
        let command = line.split(" # ").next().unwrap_or_default().trim_end();
        if command.ends_with('&') {
            // The first port this line names (a stand-in for a documented one), else 8080's.
            let port = a
                .ports
                .values()
                .find(|p| command.contains(&p.to_string()))
                .copied()
                .or(default_port);
            if let Some(port) = port {
                script.push_str(&format!("__await_port {port}\n"));
            }
        }
    }
    script
}

/// What a block printed and how it ended.
struct Ran {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A temporary working directory linking the repository's `conformance/`.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(repo().join("conformance"), dir.path().join("conformance"))
        .expect("link conformance/");
    dir
}

/// Runs `script` with `sh` in `dir`; everything it started is stopped afterwards.
fn run_script(script: &str, dir: &Path) -> Ran {
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script])
        .current_dir(dir)
        .env("PATH", path_with_bin())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    let mut group = ProcessGroup::spawn(&mut cmd).expect("spawn sh");
    let status = group.wait_timeout(BLOCK_LIMIT);
    drop(group);
    let ran = Ran {
        status: status.and_then(|s| s.code()),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "the block ran longer than {BLOCK_LIMIT:?}\n{}",
        ran.describe()
    );
    ran
}

/// Runs a block adapted by `a` in a fresh working directory (returned, with what it wrote).
fn run_block(b: &Block, a: &Adapt) -> (Ran, tempfile::TempDir) {
    let dir = workdir();
    let ran = run_script(&adapt(&b.text, a), dir.path());
    (ran, dir)
}

/// The JSON documents a block printed, one per line that holds one.
fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn readme_create_then_poll() {
    let b = block("README.md", "account_id=user-42 -d user_authorized=true");
    let mock = Served::start(&["--clock", "manual"]);
    let a = Adapt::default().port(8080, mock.port);
    // The reader runs the create, then pastes the id it printed in place of `VLD…`.
    let (create, rest) = b
        .text
        .split_once("\n# Poll it")
        .expect("the block creates, then polls");
    let dir = workdir();
    let created = run_script(&adapt(create, &a), dir.path());
    let answer = json_lines(&created.stdout);
    let [answer] = answer.as_slice() else {
        panic!("one JSON answer from the create\n{}", created.describe());
    };
    assert_eq!(answer["account_id"], "user-42", "{answer}");
    assert_eq!(answer["type"], "government", "{answer}");
    assert_eq!(answer["validation_status"], "pending", "{answer}");
    let id = answer["validation_id"].as_str().expect("a validation_id");
    assert!(rest.contains("VLD…"), "the poll line shows the placeholder");
    let polled = run_script(
        &adapt(&format!("# Poll it{}", rest.replace("VLD…", id)), &a),
        dir.path(),
    );
    let poll = json_lines(&polled.stdout);
    let [poll] = poll.as_slice() else {
        panic!("one JSON answer from the poll\n{}", polled.describe());
    };
    assert_eq!(poll["validation_id"], id, "{poll}");
    assert_eq!(poll["validation_status"], "pending", "{poll}");
}

#[test]
fn readme_magic_account_id_declines() {
    let b = block("README.md", "account_id=declined-deceased.user-42");
    let mock = Served::start(&["--clock", "manual"]);
    let a = Adapt {
        virtual_sleep_on: Some(mock.port),
        ..Adapt::default().port(8080, mock.port)
    };
    let (ran, _dir) = run_block(&b, &a);
    let answers = json_lines(&ran.stdout);
    let [poll] = answers.as_slice() else {
        panic!("one JSON answer (the poll)\n{}", ran.describe());
    };
    assert_eq!(poll["validation_status"], "failure", "{poll}");
    assert_eq!(poll["failure_status"], "declined", "{poll}");
    assert_eq!(
        poll["declined_reason"], "identity_belongs_to_dead_person",
        "{poll}"
    );
}

#[test]
fn readme_conformance_run_writes_junit() {
    let b = block("README.md", "--junit report.xml");
    let (ran, dir) = run_block(&b, &Adapt::default());
    assert_eq!(ran.status, Some(0), "{}", ran.describe());
    assert!(ran.stdout.contains("RESULT PASSED"), "{}", ran.describe());
    let junit = std::fs::read_to_string(dir.path().join("report.xml")).expect("report.xml");
    assert!(junit.contains("failures=\"0\""), "{junit}");
}

#[test]
fn readme_load_against_a_served_mock() {
    let b = block("README.md", "--json run.json --threshold");
    // Shorter, and its `expired-not-finished` validations are given up after 5 s, not 60 s.
    let a = Adapt {
        replace: vec![("--duration 30s", "--duration 2s --poll-deadline 5s")],
        ..Adapt::default().port(8080, free_port())
    };
    let (ran, dir) = run_block(&b, &a);
    // 99: the p99 threshold failed, which says how fast this machine was, not whether the
    // command works (speed is measured in benchmarks, never asserted in tests).
    assert!(matches!(ran.status, Some(0 | 99)), "{}", ran.describe());
    let report = read_json(&dir.path().join("run.json"));
    assert!(
        report["validations"]["started"].as_u64().unwrap_or(0) > 0,
        "{report}"
    );
    assert_eq!(report["errors"]["total"], 0, "{report}");
}

#[test]
fn readme_load_merge() {
    let b = block("README.md", "load merge run-*.json");
    let mock = Served::start(&[]);
    let dir = workdir();
    // The runs it merges: two machines' worth, as the paragraph before it describes.
    for host in ["a", "b"] {
        let out = Command::new(BIN)
            .args([
                "load",
                "run",
                "--target",
                &format!("http://127.0.0.1:{}", mock.port),
            ])
            .args(["--rate", "20", "--duration", "1s", "--quiet", "--seed", "7"])
            .args(["--json", &format!("run-{host}.json")])
            .current_dir(dir.path())
            .output()
            .expect("a load run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ran = run_script(&adapt(&b.text, &Adapt::default()), dir.path());
    assert!(matches!(ran.status, Some(0 | 99)), "{}", ran.describe());
    assert!(
        ran.stdout.starts_with("Merged 2 runs:"),
        "{}",
        ran.describe()
    );
    let merged = read_json(&dir.path().join("all.json"));
    let runs: u64 = ["run-a.json", "run-b.json"]
        .iter()
        .map(|f| {
            read_json(&dir.path().join(f))["create"]["count"]
                .as_u64()
                .unwrap_or(0)
        })
        .sum();
    assert!(runs > 0, "the runs created validations");
    assert_eq!(merged["create"]["count"], runs, "{merged}");
}

#[test]
fn readme_fleet_of_a_python_service() {
    let b = block("README.md", "--json fleet.json");
    // Shorter, and the service gives its `expired-not-finished` validations up after 5 s.
    let a = Adapt {
        replace: vec![("--duration 30s", "--duration 2s --poll-deadline 5s")],
        ..Adapt::default().port(8099, free_port())
    };
    let (ran, dir) = run_block(&b, &a);
    assert!(matches!(ran.status, Some(0 | 99)), "{}", ran.describe());
    let report = read_json(&dir.path().join("fleet.json"));
    let o = &report["outcomes"];
    let count = |k: &str| o[k].as_u64().unwrap_or(0);
    let run = report["fleet"]["run"].as_u64().unwrap_or(0);
    assert!(run > 0, "{report}");
    // Every client reported the right outcome, or `pending` while the mock still had it
    // pending (its `expired-not-finished` validations outlive the 5 s deadline): nothing else.
    assert_eq!(count("right") + count("deadline"), run, "{report}");
    assert_eq!(o["unreachable"], 0, "{report}");
    assert_eq!(o["wrong"], 0, "{report}");
}

#[test]
fn readme_manual_clock() {
    let b = block("README.md", "serve --clock manual &");
    let (ran, _dir) = run_block(&b, &Adapt::default().port(8080, free_port()));
    assert_eq!(ran.status, Some(0), "{}", ran.describe());
    let answers = json_lines(&ran.stdout);
    let [clock] = answers.as_slice() else {
        panic!("one JSON answer (the advance)\n{}", ran.describe());
    };
    assert_eq!(
        clock["now_seconds"], 300.0,
        "the clock moved by 300 s: {clock}"
    );
}

#[test]
fn readme_metrics() {
    let b = block("README.md", "/_mock/metrics");
    let mock = Served::start(&[]);
    let (ran, _dir) = run_block(&b, &Adapt::default().port(8080, mock.port));
    assert_eq!(ran.status, Some(0), "{}", ran.describe());
    assert!(
        ran.stdout
            .contains("# TYPE truidentidad_mock_requests_total counter"),
        "{}",
        ran.describe()
    );
}

#[test]
fn conformance_readme_good_then_tight_loop() {
    let b = block(
        "conformance/README.md",
        "conformance/clients/bad/tight_loop.py",
    );
    let timed = block(
        "conformance/README.md",
        "time ./target/release/truidentidad-mock conformance run",
    );
    // The timed block is this block's first command with `time` in front.
    let first = logical_lines(&b.text)
        .into_iter()
        .find(|l| l.contains("good_client.py"))
        .expect("the good client's run");
    assert_eq!(logical_lines(&timed.text), vec![format!("time {first}")]);
    let (ran, _dir) = run_block(&b, &Adapt::default());
    // The block's exit status is its last command's: the bad client's FAILED run.
    assert_eq!(ran.status, Some(1), "{}", ran.describe());
    let (good, bad) = ran
        .stdout
        .split_once("RESULT PASSED")
        .unwrap_or_else(|| panic!("the good client passes first\n{}", ran.describe()));
    assert!(!good.contains("FAILED"), "{}", ran.describe());
    assert!(
        bad.contains("FAILED success / min-poll-interval (MUST)"),
        "{}",
        ran.describe()
    );
    assert!(bad.contains("RESULT FAILED"), "{}", ran.describe());
    // The sample under "The second run prints" has the shape of what it prints now.
    let readme = std::fs::read_to_string(repo().join("conformance/README.md")).expect("README");
    let sample = readme
        .split_once("The second run prints")
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(sample, _)| sample)
        .expect("the sample output after \"The second run prints\"");
    if let Err(e) = same_shape(sample, bad) {
        panic!(
            "conformance/README.md's sample output drifted: {e}\n{}",
            ran.describe()
        );
    }
}

/// A line as a shape: numbers (times, counts, request numbers) become `N`, validation ids
/// `VLD…`, and runs of spaces one space, so a sample in the docs compares with what a command
/// prints now whatever the timing.
fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_digit() || *d == '.')
            {
                chars.next();
            }
            out.push('N');
        } else if c == 'V' && chars.clone().take(2).eq("LD".chars()) {
            chars.nth(1);
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '…')
            {
                chars.next();
            }
            out.push_str("VLD…");
        } else if c == ' ' {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_sample_matches_output_of_its_shape_and_not_other_output() {
    let out = "  CASE  VERDICT   TIME  REQUESTS\n  success  FAILED  6.725s  12\n  what:   11 polls came (#1 GET /v1/validations/VLDab12 at t=1.2s)\nRESULT FAILED: 0 passed, 1 failed\n";
    let sample = "  success  FAILED  7.007s  59\n  ...\n  what:   58 polls came (#3 GET …\nRESULT FAILED: 0 passed, 1 failed";
    assert_eq!(same_shape(sample, out), Ok(()));
    // A clause the output lacks, a line out of order, a different word: each is drift.
    assert!(same_shape("  success  FAILED  7.007s  59 polls", out).is_err());
    assert!(
        same_shape(
            "RESULT FAILED: 0 passed, 1 failed\n  success  FAILED  1s  2",
            out
        )
        .is_err()
    );
    assert!(same_shape("  success  PASSED  7.007s  59", out).is_err());
}

/// Each line of `sample` (except `...`, "more lines here") matches, in order, a line of
/// `output` of the same shape; a sample line ending in `…` is cut there and matches a line
/// that starts like it.
fn same_shape(sample: &str, output: &str) -> Result<(), String> {
    let out: Vec<String> = output.lines().map(shape).collect();
    let mut at = 0;
    for line in sample
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "...")
    {
        let want = shape(line);
        let (want, cut) = match want.strip_suffix('…') {
            Some(w) => (w.trim_end().to_string(), true),
            None => (want, false),
        };
        let found = out[at..].iter().position(|o| {
            if cut {
                o.starts_with(&want)
            } else {
                *o == want
            }
        });
        match found {
            Some(i) => at += i + 1,
            None => {
                return Err(format!(
                    "no line shaped like `{want}` (from the sample line `{line}`) after line {at} of the output"
                ));
            }
        }
    }
    Ok(())
}

/// The explore worked example: found at `1:2`, shrunk to the two faults the README quotes, and
/// the minimal file replayed as an ordinary case FAILS the same rule.
#[test]
fn conformance_readme_explore_worked_example() {
    let b = block(
        "conformance/README.md",
        "conformance explore --seed 1 --runs 20",
    );
    let readme = std::fs::read_to_string(repo().join("conformance/README.md")).unwrap();
    let (ran, _dir) = run_block(&b, &Adapt::default());
    assert_eq!(ran.status, Some(1), "{}", ran.describe());
    let found = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("FOUND "))
        .unwrap_or_else(|| panic!("no FOUND line\n{}", ran.describe()));
    assert!(readme.contains(found), "the README quotes {found}");
    let shrunk = ran
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("shrunk in "))
        .and_then(|l| l.split_once(" to "))
        .map(|(_, tail)| tail.to_string())
        .unwrap_or_else(|| panic!("no shrunk line\n{}", ran.describe()));
    assert!(readme.contains(&shrunk), "the README quotes {shrunk}");
    // The replay: the second command's report.
    let replay = ran
        .stdout
        .rsplit_once("RESULT FAILED: seed 1 scenario 1:2")
        .map(|(_, after)| after.to_string())
        .unwrap_or_default();
    assert!(
        replay.contains("FAILED explore-min-1-2 / client-completes (MUST)"),
        "{}",
        ran.describe()
    );
}

#[test]
fn conformance_readme_server_check() {
    let b = block("conformance/README.md", "conformance server --base-url");
    let (ran, _dir) = run_block(&b, &Adapt::default().port(8080, free_port()));
    assert_eq!(ran.status, Some(0), "{}", ran.describe());
    assert!(
        ran.stdout.contains("\nRESULT PASSED: "),
        "{}",
        ran.describe()
    );
}

#[test]
fn record_md_try_it_with_no_credentials() {
    let b = block("docs/record.md", "--pending-for 0s &");
    let a = Adapt::default()
        .port(8443, free_port())
        .port(8090, free_port());
    let (ran, dir) = run_block(&b, &a);
    // The block ends with `fidelity facts`: nothing the mock says contradicts a fact.
    assert_eq!(ran.status, Some(0), "{}", ran.describe());
    assert!(
        ran.stdout.contains("time-to-terminal success")
            && ran
                .stdout
                .contains("RESULT FAILED: 1 difference(s), 1 new, 0 accepted"),
        "the diff names the one difference, the upstream finishing at once\n{}",
        ran.describe()
    );
    assert!(ran.stdout.contains("F-create-200"), "{}", ran.describe());
    for file in ["recording/recording.har", "recording/timelines"] {
        assert!(dir.path().join(file).exists(), "{file}\n{}", ran.describe());
    }
}
