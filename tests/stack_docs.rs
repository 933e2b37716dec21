//! The README's "Use it from your stack" section is what runs elsewhere: each snippet must be
//! the file (or doctest) that a test executes, so copying it copies something that works.
//!
//! - Python: `clients/python/smoke/test_readme.py` (pytest in `.ci/run`'s package step, from
//!   a scratch directory where the wheel is all that is installed: `scripts/package_smoke.sh`).
//! - Node.js: `clients/node/smoke/readme.test.js` (`node --test` in the same step, in a scratch
//!   project with the npm packages installed from their tarballs).
//! - Container: the Dockerfile's header (`scripts/dockerfile_steps.py` in `.ci/run` starts the
//!   image's command with this `docker run` line's variables).
//! - CI: the action's inputs (`tests/ci_recipes.rs` runs the action itself).
//! - Rust: the `MockServer` doctest in `mock-server/src/server.rs`.
//! - Metrics: each sample line is in the snapshot of `mock-server/tests/metrics.rs`'s known run.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The section's fenced blocks of `lang`, in order.
fn blocks(lang: &str) -> Vec<String> {
    let readme = read("README.md");
    let section = readme
        .split("\n## Use it from your stack\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a section `Use it from your stack`");
    section
        .split(&format!("```{lang}\n"))
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or_default().to_string())
        .collect()
}

fn one(lang: &str) -> String {
    let b = blocks(lang);
    assert_eq!(b.len(), 1, "one ```{lang} block expected");
    b.into_iter().next().unwrap_or_default()
}

#[test]
fn python_snippet_is_the_installed_wheels_test() {
    assert_eq!(one("python"), read("clients/python/smoke/test_readme.py"));
}

#[test]
fn node_snippet_is_the_installed_packages_test() {
    assert_eq!(one("js"), read("clients/node/smoke/readme.test.js"));
}

#[test]
fn rust_snippet_is_the_mock_server_doctest() {
    let source = read("mock-server/src/server.rs");
    let doctest = source
        .split("/// ```\n")
        .nth(1)
        .expect("MockServer has a doctest");
    let visible: String = doctest
        .lines()
        .map(|l| l.strip_prefix("///").unwrap_or(l))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .filter(|l| !l.starts_with("# ") && *l != "#")
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(one("rust"), visible);
}

#[test]
fn container_snippet_is_the_dockerfiles_own() {
    let dockerfile = read("Dockerfile");
    let header: String = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("#   docker "))
        .map(|l| format!("docker {l}\n"))
        .collect();
    let sh = blocks("sh");
    assert!(sh.contains(&header), "{header}\nnot among {sh:#?}");
}

#[test]
fn ci_snippet_uses_real_inputs() {
    let snippet: serde_yaml::Value = serde_yaml::from_str(&one("yaml")).unwrap();
    let step = &snippet[0];
    assert!(
        step["uses"]
            .as_str()
            .unwrap()
            .contains("truidentidad-mock@")
    );
    let action: serde_yaml::Value = serde_yaml::from_str(&read("action.yml")).unwrap();
    for (k, _) in step["with"].as_mapping().unwrap() {
        assert!(
            action["inputs"].get(k.as_str().unwrap()).is_some(),
            "README passes input {k:?}, which action.yml does not declare"
        );
    }
}

#[test]
fn metrics_sample_is_what_the_server_printed() {
    let sample = one("text");
    let snapshot =
        read("mock-server/tests/snapshots/metrics__a_small_known_run_as_prometheus_reads_it.snap");
    let latency = regex_lite_replace(&sample);
    let mut lines = 0;
    for line in latency.lines() {
        if line.starts_with("truidentidad_mock_open_connections ") || line == "…" {
            continue;
        }
        assert!(
            snapshot.lines().any(|s| s == line),
            "README metrics line {line:?} is not in the snapshot"
        );
        lines += 1;
    }
    assert!(lines >= 10, "the sample shows too little: {sample}");
}

/// The snapshot's latency filter, by hand: values of `_bucket`/`_sum` lines become `[latency]`.
fn regex_lite_replace(text: &str) -> String {
    text.lines()
        .map(|l| {
            let is_latency = l.starts_with("truidentidad_mock_request_duration_seconds_bucket{")
                || l.starts_with("truidentidad_mock_request_duration_seconds_sum{");
            match (is_latency, l.rsplit_once(' ')) {
                (true, Some((name, _))) => format!("{name} [latency]\n"),
                _ => format!("{l}\n"),
            }
        })
        .collect()
}
