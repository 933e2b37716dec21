//! The Node.js helper's `ScenarioName` union (clients/node/index.d.ts) is the built-in
//! catalogue's names, in catalogue order: a scenario added to or renamed in
//! `scenarios/catalogue/*.toml` fails this test until the types follow.
//! `UPDATE_CLIENT_TYPES=1 cargo test --test client_types` rewrites the block.

use std::path::PathBuf;

use truidentidad_scenarios::Catalogue;

const BEGIN: &str = "// BEGIN scenario names";
const END: &str = "// END scenario names";

/// The generated block: the lines between the markers.
fn generated() -> String {
    let catalogue = Catalogue::builtin();
    let mut out =
        String::from("/** A built-in scenario's name (`truidentidad-mock scenarios list`). */\n");
    out.push_str("export type ScenarioName =\n");
    for (_, s) in catalogue.iter() {
        out.push_str(&format!("  | '{}'\n", s.name));
    }
    out.pop();
    out.push_str(";\n");
    out
}

#[test]
fn node_scenario_name_union_matches_the_catalogue() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/node/index.d.ts");
    let text = std::fs::read_to_string(&path).unwrap();
    let begin = text.find(BEGIN).expect("index.d.ts lost its BEGIN marker");
    // The block starts on the line after the BEGIN comment (two lines long).
    let start = begin + text[begin..].find("\n// regenerate").unwrap();
    let start = start + 1 + text[start + 1..].find('\n').unwrap() + 1;
    let end = text.find(END).expect("index.d.ts lost its END marker");
    let want = generated();
    if std::env::var_os("UPDATE_CLIENT_TYPES").is_some() {
        let updated = format!("{}{want}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        text[start..end],
        want,
        "clients/node/index.d.ts's ScenarioName is not the catalogue's names; run \
         UPDATE_CLIENT_TYPES=1 cargo test --test client_types"
    );
}

/// The value of the first line of `text` that starts with `key` and has a quoted value.
fn quoted_after(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no `{key}` line"));
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn the_helpers_are_the_crates_version() {
    // Each helper refuses a binary of another version, so a release bumps all of them.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(repo.join(p)).unwrap();
    let crate_version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        quoted_after(&read("clients/python/pyproject.toml"), "version ="),
        crate_version,
        "clients/python/pyproject.toml"
    );
    assert_eq!(
        quoted_after(
            &read("clients/python/src/truidentidad_mock/_server.py"),
            "__version__ ="
        ),
        crate_version,
        "clients/python/src/truidentidad_mock/_server.py"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&read("clients/node/package.json")).unwrap()["version"],
        crate_version,
        "clients/node/package.json"
    );
}
