//! Stamps the git commit into `truidentidad-mock --version`, so a bug report (or a helper that
//! found a binary of another version) says exactly what ran.
//!
//! Where the commit comes from, first found wins: `TRUIDENTIDAD_MOCK_COMMIT` (set by a
//! packager building from a tarball), `.cargo_vcs_info.json` (what `cargo package` records,
//! so a crate built from crates.io still knows its commit), `git rev-parse` in a checkout.
//! With none of them (an sdist unpacked with no `.git`), the commit reads `unknown`: never a
//! build failure.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TRUIDENTIDAD_MOCK_COMMIT");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    let commit = std::env::var("TRUIDENTIDAD_MOCK_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| from_vcs_info(dir))
        .or_else(|| from_git(dir))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=TRUIDENTIDAD_MOCK_COMMIT={}", commit.trim());
}

fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    // `"sha1": "<40 hex>"`: a fixed shape, read without a JSON parser in the build.
    let after = text.split_once("\"sha1\"")?.1;
    let sha: String = after
        .split('"')
        .nth(1)?
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() >= 12).then(|| sha[..12].to_string())
}

fn from_git(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself (a checkout) and the branch it points to (a commit).
    let mut watch = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(git(&["rev-parse", "--git-path", &branch]));
    }
    for path in watch.into_iter().flatten() {
        let path = dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(commit)
}
