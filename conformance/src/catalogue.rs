//! The rule and case catalogue (`conformance/catalogue.toml`), embedded in the binary so the
//! suite needs no files on disk, and checked at load time: every rule names a known check
//! (a [`CheckId`], so an unknown name is a parse error with its line and column), every case a
//! known scenario.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use truidentidad_scenarios::Catalogue as ScenarioCatalogue;

use crate::check_id::CheckId;

/// The catalogue file, as shipped.
pub const CATALOGUE_TOML: &str = include_str!("../catalogue.toml");
/// The suite's own short scenarios, as shipped.
pub const SCENARIOS_TOML: &str = include_str!("../scenarios.toml");

/// MUST rules fail a case; SHOULD rules warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub level: Level,
    /// The check that grades the rule.
    pub check: CheckId,
    pub source: String,
    pub fix: String,
    /// Cases that exercise the rule (`*`: every case). Documentation only: every check runs on
    /// every case and finds nothing when its trigger is absent.
    #[serde(default)]
    pub cases: Vec<String>,
}

/// The `validation_status` a case expects the client to report, as `catalogue.toml` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedStatus {
    Success,
    Failure,
    /// The validation never finishes: the client gives up and reports `pending`.
    Pending,
    /// The client may stop with an error; nothing it reports is graded.
    Error,
}

impl ExpectedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedStatus::Success => "success",
            ExpectedStatus::Failure => "failure",
            ExpectedStatus::Pending => "pending",
            ExpectedStatus::Error => "error",
        }
    }
}

/// What the client must report at the end of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub validation_status: ExpectedStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub scenario: String,
    pub expect: Expect,
    /// The API key handed to the client; the default is the key the mock accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rule: Vec<Rule>,
    case: Vec<Case>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A TOML or shape error (an unknown check name among them), where it is.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        /// 1-based.
        line: usize,
        /// 1-based, in characters.
        column: usize,
        message: String,
    },
    /// A TOML or shape error the parser could not place.
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {0}", file = "conformance/scenarios.toml")]
    Scenarios(String),
    #[error("case `{case}` uses unknown scenario `{scenario}`")]
    UnknownScenario { case: String, scenario: String },
    #[error("duplicate {what} id `{id}`")]
    Duplicate { what: &'static str, id: String },
}

/// Rules, cases and the scenarios the cases need.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub rules: Vec<Rule>,
    pub cases: Vec<Case>,
    pub scenarios: Arc<ScenarioCatalogue>,
}

impl Catalogue {
    /// The catalogue shipped with the suite.
    pub fn builtin() -> Result<Self, CatalogueError> {
        Self::parse("conformance/catalogue.toml", CATALOGUE_TOML)
    }

    /// Parses and checks a catalogue file against the built-in plus suite scenarios.
    pub fn parse(file: &str, src: &str) -> Result<Self, CatalogueError> {
        let parsed: File = toml::from_str(src).map_err(|e| syntax_error(file, src, &e))?;
        let mut scenarios = ScenarioCatalogue::builtin();
        scenarios
            .load_file("conformance/scenarios.toml", SCENARIOS_TOML)
            .map_err(|e| CatalogueError::Scenarios(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for r in &parsed.rule {
            if !seen.insert(("rule", r.id.as_str())) {
                return Err(CatalogueError::Duplicate {
                    what: "rule",
                    id: r.id.clone(),
                });
            }
        }
        for c in &parsed.case {
            if !seen.insert(("case", c.id.as_str())) {
                return Err(CatalogueError::Duplicate {
                    what: "case",
                    id: c.id.clone(),
                });
            }
            if scenarios.id_of(&c.scenario).is_none() {
                return Err(CatalogueError::UnknownScenario {
                    case: c.id.clone(),
                    scenario: c.scenario.clone(),
                });
            }
        }
        Ok(Catalogue {
            rules: parsed.rule,
            cases: parsed.case,
            scenarios: Arc::new(scenarios),
        })
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id == id)
    }
}

/// `file:line:column: message` for a TOML error, from the byte offset where its span starts.
fn syntax_error(file: &str, src: &str, e: &toml::de::Error) -> CatalogueError {
    let message = e.message().trim_end().to_string();
    let Some(span) = e.span() else {
        return CatalogueError::Invalid {
            file: file.to_string(),
            message,
        };
    };
    let before = &src.as_bytes()[..span.start.min(src.len())];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    CatalogueError::Syntax {
        file: file.to_string(),
        line: before.iter().filter(|b| **b == b'\n').count() + 1,
        // Characters, not bytes: count the bytes that start one.
        column: before[line_start..]
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count()
            + 1,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_loads_and_every_check_exists() {
        let c = Catalogue::builtin().unwrap();
        assert!(c.rules.len() >= 18, "{} rules", c.rules.len());
        assert!(c.cases.len() >= 12, "{} cases", c.cases.len());
        for r in &c.rules {
            for case in r.cases.iter().filter(|c| *c != "*") {
                assert!(
                    c.case(case).is_some(),
                    "rule {} names unknown case {case}",
                    r.id
                );
            }
        }
    }

    #[test]
    fn unknown_check_fails_at_parse_time_with_its_place() {
        let src = r#"
[[rule]]
id = "x"
title = "x"
level = "MUST"
check = "no_such_check"
source = "s"
fix = "f"

[[case]]
id = "c"
title = "c"
scenario = "conformance-success"
expect = { validation_status = "success" }
"#;
        let e = Catalogue::parse("t.toml", src).unwrap_err();
        assert!(
            matches!(
                e,
                CatalogueError::Syntax {
                    line: 6,
                    column: 9,
                    ..
                }
            ),
            "{e:?}"
        );
        insta::assert_snapshot!(e.to_string());
    }

    #[test]
    fn unknown_expected_status_fails_at_parse_time() {
        let src = r#"
rule = []
[[case]]
id = "c"
title = "c"
scenario = "conformance-success"
expect = { validation_status = "done" }
"#;
        let e = Catalogue::parse("t.toml", src).unwrap_err().to_string();
        assert!(
            e.starts_with("t.toml:7:32: unknown variant `done`, expected one of `success`, `failure`, `pending`, `error`"),
            "{e}"
        );
    }

    #[test]
    fn error_columns_count_characters() {
        let src = "rule = []\ncase = []\n# ñ\n\"ñé\" = ]\n";
        let e = Catalogue::parse("t.toml", src).unwrap_err();
        assert!(
            matches!(
                e,
                CatalogueError::Syntax {
                    line: 4,
                    column: 8,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn every_check_is_named_as_the_catalogue_spells_it_and_used_by_a_rule() {
        let c = Catalogue::builtin().unwrap();
        for id in CheckId::ALL {
            use serde::de::IntoDeserializer;
            let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                id.as_str().into_deserializer();
            let parsed = CheckId::deserialize(de).unwrap();
            assert_eq!(parsed, id);
            assert!(
                c.rules.iter().any(|r| r.check == id),
                "no rule uses check {id}"
            );
        }
        let mut names: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CheckId::ALL.len());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// Broken catalogue files (arbitrary text, or the shipped one with a slice cut out)
        /// give an error or a catalogue, never a panic.
        #[test]
        fn broken_catalogues_never_panic(text in "\\PC{0,200}", cut in 0usize..20_000, len in 0usize..200) {
            let _ = Catalogue::parse("fuzz.toml", &text);
            let mut s = CATALOGUE_TOML.to_string();
            let start = cut.min(s.len());
            let end = (start + len).min(s.len());
            if s.is_char_boundary(start) && s.is_char_boundary(end) {
                s.replace_range(start..end, "");
                let _ = Catalogue::parse("cut.toml", &s);
            }
        }
    }

    #[test]
    fn unknown_scenario_is_a_clear_error() {
        let src = r#"
rule = []
[[case]]
id = "c"
title = "c"
scenario = "nope"
expect = { validation_status = "success" }
"#;
        let e = Catalogue::parse("t.toml", src).unwrap_err().to_string();
        assert_eq!(e, "case `c` uses unknown scenario `nope`");
    }
}
