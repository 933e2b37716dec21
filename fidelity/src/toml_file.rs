//! Reading the TOML files the diff takes (mapping, baseline), with `file:line:column` on error.

use std::path::Path;

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum TomlFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// 1-based line and column of byte `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, TomlFileError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TomlFileError::Io {
        path: p.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
        TomlFileError::Parse {
            path: p,
            line,
            column,
            message: e.message().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_baseline_names_its_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.toml");
        std::fs::write(&path, "accepted = [\n  \"a\",\n  3,\n]\n").expect("write");
        let err = load::<crate::diff::Baseline>(&path).expect_err("a number is not a key");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{}:3:3: ", path.display())),
            "{text}"
        );
    }
}
