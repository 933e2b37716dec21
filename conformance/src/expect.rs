//! Known deviations (`--expect FILE`): findings an integrator has accepted for now.
//!
//! A matched finding no longer fails the run; an entry that matches nothing fails it, so the
//! file cannot silently outlive the bug it excuses (the OIDF suite's "unused entry" rule).
//!
//! ```toml
//! [[deviation]]
//! case = "rate-limited"        # a case id, or "*" for every case
//! rule = "honour-retry-after"
//! reason = "INT-42: Retry-After support lands in v2"
//! ```

use serde::Deserialize;

use crate::catalogue::Catalogue;
use crate::verdict::{CaseReport, ExpectSummary};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    pub case: String,
    pub rule: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    deviation: Vec<Deviation>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExpectError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: deviation {index} names unknown case `{case}`; known cases: {known}")]
    UnknownCase {
        file: String,
        index: usize,
        case: String,
        known: String,
    },
    #[error("{file}: deviation {index} names unknown rule `{rule}`; known rules: {known}")]
    UnknownRule {
        file: String,
        index: usize,
        rule: String,
        known: String,
    },
}

/// Parses an expectations file and checks its names against the catalogue.
pub fn parse(file: &str, src: &str, catalogue: &Catalogue) -> Result<Vec<Deviation>, ExpectError> {
    let parsed: File = toml::from_str(src).map_err(|e| ExpectError::Syntax {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    for (i, d) in parsed.deviation.iter().enumerate() {
        if d.case != "*" && catalogue.case(&d.case).is_none() {
            return Err(ExpectError::UnknownCase {
                file: file.to_string(),
                index: i + 1,
                case: d.case.clone(),
                known: catalogue
                    .cases
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if catalogue.rule(&d.rule).is_none() {
            return Err(ExpectError::UnknownRule {
                file: file.to_string(),
                index: i + 1,
                rule: d.rule.clone(),
                known: catalogue
                    .rules
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(parsed.deviation)
}

/// Marks matching findings as expected and lists the entries that matched nothing.
pub fn apply(file: &str, deviations: &[Deviation], cases: &mut [CaseReport]) -> ExpectSummary {
    let mut used = vec![false; deviations.len()];
    let mut matched = 0;
    for case in cases.iter_mut() {
        for f in case.findings.iter_mut() {
            if let Some(i) = deviations
                .iter()
                .position(|d| (d.case == "*" || d.case == case.id) && d.rule == f.rule)
            {
                used[i] = true;
                f.expected = true;
                matched += 1;
            }
        }
    }
    ExpectSummary {
        file: file.to_string(),
        unused: deviations
            .iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(d, _)| format!("case `{}`, rule `{}`", d.case, d.rule))
            .collect(),
        matched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Level;
    use crate::verdict::{RuleFinding, Verdict};

    /// The ```toml block of conformance/README.md's "Known deviations", as a user copies it.
    #[test]
    fn the_readme_example_is_a_valid_file() {
        let readme = include_str!("../README.md");
        let block = readme
            .split("## Known deviations")
            .nth(1)
            .and_then(|s| s.split("```toml\n").nth(1))
            .and_then(|s| s.split("```").next())
            .expect("a toml block under Known deviations");
        let parsed = parse("README.md", block, &Catalogue::builtin().unwrap()).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].case, "rate-limited");
        assert_eq!(parsed[0].rule, "honour-retry-after");
    }

    fn case_with(rule: &str) -> CaseReport {
        let cat = Catalogue::builtin().unwrap();
        let mut c = CaseReport::not_run(
            cat.case("rate-limited").unwrap(),
            "a".into(),
            Verdict::Failed,
            String::new(),
        );
        c.findings.push(RuleFinding {
            rule: rule.into(),
            title: String::new(),
            level: Level::Must,
            verdict: Verdict::Failed,
            message: String::new(),
            requests: vec![],
            fix: String::new(),
            source: String::new(),
            expected: false,
        });
        c
    }

    #[test]
    fn matched_findings_are_expected_and_stale_entries_are_listed() {
        let cat = Catalogue::builtin().unwrap();
        let src = "[[deviation]]\ncase = \"rate-limited\"\nrule = \"honour-retry-after\"\n\n[[deviation]]\ncase = \"*\"\nrule = \"jitter\"\n";
        let d = parse("known.toml", src, &cat).unwrap();
        let mut cases = vec![case_with("honour-retry-after")];
        let s = apply("known.toml", &d, &mut cases);
        assert!(cases[0].findings[0].expected);
        assert_eq!(s.matched, 1);
        assert_eq!(s.unused, vec!["case `*`, rule `jitter`".to_string()]);
    }

    #[test]
    fn summary_tells_expected_failures_apart() {
        let cat = Catalogue::builtin().unwrap();
        let src = "[[deviation]]\ncase = \"rate-limited\"\nrule = \"honour-retry-after\"\n";
        let d = parse("known.toml", src, &cat).unwrap();
        // One case failed only on the listed rule, one also on a rule nobody listed.
        let mut cases = vec![
            case_with("honour-retry-after"),
            case_with("honour-retry-after"),
        ];
        cases[1]
            .findings
            .extend(case_with("stop-after-terminal").findings);
        apply("known.toml", &d, &mut cases);
        let s = crate::verdict::RunReport::summarize(&cases);
        assert_eq!((s.failed, s.failed_expected), (2, 1));
    }

    #[test]
    fn unknown_names_are_clear_errors() {
        let cat = Catalogue::builtin().unwrap();
        let e = parse(
            "k.toml",
            "[[deviation]]\ncase = \"nope\"\nrule = \"jitter\"\n",
            &cat,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "k.toml: deviation 1 names unknown case `nope`; known cases: success, "
            ),
            "{e}"
        );
        let e = parse(
            "k.toml",
            "[[deviation]]\ncase = \"*\"\nrule = \"nope\"\n",
            &cat,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("k.toml: deviation 1 names unknown rule `nope`"),
            "{e}"
        );
    }
}
