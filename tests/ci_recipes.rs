//! The CI recipes users copy: the composite GitHub Action (`action.yml`) and the GitLab CI
//! snippet in `docs/ci.md`. Every flag they pass must exist in `conformance run --help`, every
//! action input must be used and documented, and both are run as written against the
//! reference Python client (`python3` on PATH, as the conformance tests need): green for a
//! good client, red for one that FAILED.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

const BIN: &str = env!("CARGO_BIN_EXE_truidentidad-mock");

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn run_help() -> String {
    let out = Command::new(BIN)
        .args(["conformance", "run", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Every `--flag` in `text`.
fn flags(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at;
        let mut end = start + 2;
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'-') {
            end += 1;
        }
        let before_ok = start == 0 || matches!(bytes[start - 1], b' ' | b'(' | b'\n');
        if before_ok && end > start + 2 {
            out.push(text[start..end].to_string());
        }
        i = end.max(start + 2);
    }
    out
}

fn assert_flags_exist(what: &str, used: &[String]) {
    let help = run_help();
    assert!(!used.is_empty(), "{what}: no flags found");
    for f in used {
        assert!(
            help.contains(&format!("{f} ")) || help.contains(&format!("{f}\n")),
            "{what} passes {f}, which `conformance run --help` does not list:\n{help}"
        );
    }
}

fn action() -> Value {
    serde_yaml::from_str(&read("action.yml")).expect("action.yml is YAML")
}

/// The action's `run:` script of the step that runs the suite.
fn action_suite_step(action: &Value) -> &Value {
    action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("conformance run"))
        })
        .expect("a step runs `conformance run`")
}

fn action_inputs(action: &Value) -> BTreeMap<String, String> {
    action["inputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let default = match &v["default"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => panic!("default of {k:?} is not a string: {other:?}"),
            };
            (k.as_str().unwrap().to_string(), default)
        })
        .collect()
}

/// The fenced YAML block under `## GitLab CI` in docs/ci.md.
fn gitlab_snippet() -> Value {
    let doc = read("docs/ci.md");
    let section = doc
        .split("## GitLab CI")
        .nth(1)
        .expect("a GitLab CI section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a yaml block in the GitLab CI section");
    serde_yaml::from_str(block).expect("the GitLab snippet is YAML")
}

#[test]
fn action_inputs_are_used_documented_and_pass_real_flags() {
    let action = action();
    let inputs = action_inputs(&action);
    let text = read("action.yml");
    let docs = read("docs/ci.md");
    for name in inputs.keys() {
        assert!(
            text.contains(&format!("inputs.{name} }}}}")),
            "input {name} is never used"
        );
        assert!(
            docs.contains(&format!("| `{name}` |")),
            "input {name} is not in docs/ci.md's table"
        );
    }
    let script = action_suite_step(&action)["run"].as_str().unwrap();
    let used: Vec<String> = script
        .lines()
        .filter(|l| l.contains("args+=("))
        .flat_map(flags)
        .collect();
    assert_eq!(
        used,
        [
            "--client",
            "--client-url",
            "--case",
            "--skip",
            "--expect",
            "--jobs",
            "--junit",
            "--html"
        ]
    );
    assert_flags_exist("action.yml", &used);
}

#[test]
fn gitlab_snippet_passes_real_flags() {
    let job = &gitlab_snippet()["truidentidad-conformance"];
    let lines: Vec<&str> = job["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let run = lines
        .iter()
        .find(|l| l.starts_with("truidentidad-mock conformance run "))
        .expect("the script runs the suite");
    assert_flags_exist("docs/ci.md's GitLab snippet", &flags(run));
    let junit = job["artifacts"]["reports"]["junit"].as_str().unwrap();
    assert!(run.contains(&format!("--junit {junit}")), "{run}");
    assert_eq!(job["artifacts"]["when"].as_str(), Some("always"));
}

fn good_client() -> String {
    format!(
        "python3 {}",
        repo("conformance/clients/python/good_client.py").display()
    )
}

/// Runs the action's suite step in `dir` as a runner would: inputs (defaults, then
/// `overrides`) through the step's `env:`, the binary given as the `binary` input.
fn run_action_step(dir: &Path, overrides: &[(&str, &str)]) -> std::process::Output {
    let action = action();
    let mut inputs = action_inputs(&action);
    inputs.insert("binary".into(), BIN.into());
    for (k, v) in overrides {
        assert!(inputs.contains_key(*k), "no input {k}");
        inputs.insert((*k).into(), (*v).into());
    }
    let step = action_suite_step(&action);
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-c", step["run"].as_str().unwrap()])
        .current_dir(dir)
        .env("RUNNER_TEMP", dir);
    for (k, v) in step["env"].as_mapping().unwrap() {
        let expr = v.as_str().unwrap();
        let name = expr
            .strip_prefix("${{ inputs.")
            .and_then(|e| e.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("env {k:?} is not an input: {expr}"));
        cmd.env(k.as_str().unwrap(), &inputs[name]);
    }
    cmd.output().unwrap()
}

#[test]
fn the_action_step_passes_a_good_client_and_fails_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let client = good_client();
    let out = run_action_step(dir.path(), &[("client", &client), ("case", "success")]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let junit = std::fs::read_to_string(dir.path().join("truidentidad-conformance.xml")).unwrap();
    assert!(
        junit.contains("<testcase") && !junit.contains("<failure"),
        "{junit}"
    );
    assert!(dir.path().join("truidentidad-conformance.html").exists());

    let out = run_action_step(dir.path(), &[("client", "exit 3"), ("case", "success")]);
    assert_eq!(out.status.code(), Some(1), "a FAILED case fails the step");
    let junit = std::fs::read_to_string(dir.path().join("truidentidad-conformance.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
}

#[test]
fn the_gitlab_script_runs_as_written() {
    let job = &gitlab_snippet()["truidentidad-conformance"];
    let dir = tempfile::tempdir().unwrap();
    // `before_script` installs the tool; the test puts the built binary on PATH instead.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in job["script"].as_sequence().unwrap() {
        let out = Command::new("sh")
            .args(["-e", "-c", line.as_str().unwrap()])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("TRUIDENTIDAD_CLIENT", good_client())
            .env("TRUIDENTIDAD_ARGS", "--case success")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line:?}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for artifact in job["artifacts"]["paths"].as_sequence().unwrap() {
        let p = dir.path().join(artifact.as_str().unwrap());
        assert!(p.exists(), "{} was not written", p.display());
    }
}
