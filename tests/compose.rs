//! `compose.yaml`, the Redis topology as containers: CI cannot pull images to start it
//! (docs/container.md), so this checks what can go stale without a run: every `serve` flag
//! and `TRUIDENTIDAD_MOCK_*` variable it passes exists in `serve --help`, every replica it
//! starts shares one Redis store and is behind the balancer, and the balancer's configuration
//! is the file it mounts.

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

const BIN: &str = env!("CARGO_BIN_EXE_truidentidad-mock");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn serve_help() -> String {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_compose_topology_uses_real_flags_one_store_and_every_replica_behind_nginx() {
    let compose: Value = serde_yaml::from_str(&read("compose.yaml")).expect("compose.yaml is YAML");
    let services = compose["services"].as_mapping().expect("services");
    let help = serve_help();
    let replicas: Vec<(&str, &Value)> = services
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .filter(|(_, v)| v.get("build").is_some())
        .collect();
    assert!(
        replicas.len() >= 2,
        "two or more replicas built from the Dockerfile"
    );

    let mut stores = Vec::new();
    for (name, svc) in &replicas {
        let command = strings(&svc["command"]);
        assert_eq!(command.first().map(String::as_str), Some("serve"), "{name}");
        for flag in command.iter().filter(|a| a.starts_with("--")) {
            assert!(
                help.contains(&format!("{flag} ")),
                "{name} passes {flag}, not in `serve --help`"
            );
        }
        let at = command
            .iter()
            .position(|a| a == "--store")
            .expect("--store");
        stores.push(command[at + 1].clone());
        for var in svc["environment"].as_mapping().expect("environment").keys() {
            let var = var.as_str().unwrap();
            // clap writes `[env: NAME=value]`, or `[env: NAME]` for hidden values, and may
            // wrap the line after `[env:`.
            assert!(
                help.contains(&format!(" {var}]")) || help.contains(&format!(" {var}=")),
                "{name} sets {var}, not a `serve` variable"
            );
        }
        // The store's host is the Redis service.
        let host = stores
            .last()
            .unwrap()
            .trim_start_matches("redis://")
            .split(':')
            .next()
            .unwrap()
            .to_string();
        assert!(
            services.contains_key(host.as_str()),
            "{name}'s store points at `{host}`, not a service"
        );
    }
    stores.dedup();
    assert_eq!(
        stores.len(),
        1,
        "every replica shares one store: {stores:?}"
    );

    // nginx mounts the compose configuration, whose upstream lists exactly the replicas.
    let lb = &services["lb"];
    let mount = strings(&lb["volumes"])
        .into_iter()
        .find(|v| v.ends_with("/etc/nginx/nginx.conf:ro"))
        .expect("nginx.conf mounted");
    let conf = read(mount.trim_start_matches("./").split(':').next().unwrap());
    let upstream: Vec<&str> = conf
        .lines()
        // `server host:port …;` lines of the upstream, not the `server {` block.
        .filter_map(|l| l.trim().strip_prefix("server "))
        .filter(|l| !l.starts_with('{'))
        .filter_map(|l| l.split(':').next())
        .collect();
    let mut names: Vec<&str> = replicas.iter().map(|(n, _)| *n).collect();
    names.sort();
    assert_eq!(upstream, names);
    assert!(
        strings(&lb["ports"]).iter().any(|p| p.ends_with(":8080")),
        "the balancer is published"
    );
}
