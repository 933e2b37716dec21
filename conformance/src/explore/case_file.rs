//! A scenario file as ordinary cases: `conformance run --case-file min.toml` runs each
//! `[[scenario]]` of the file as one case, graded by every rule, so the minimal scenario explore
//! writes can be checked into a team's repository as a regression test.
//!
//! What the client must report follows from the scenario: its outcome; `failure/expired` when
//! it has none but expires; `pending` (the client gives up by `--deadline`) when it never
//! completes.

use std::sync::Arc;
use std::time::Duration;

use truidentidad_scenarios::Scenario;
use truidentidad_scenarios::model::FaultAction;

use crate::catalogue::{Case, Catalogue, Expect, ExpectedStatus};
use crate::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    /// Every problem of the file, each with its `file:line:column`.
    #[error("{0}")]
    Format(#[from] truidentidad_scenarios::format::FormatErrors),
    #[error("cannot read the case file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// `--case-file FILE`: the catalogue whose cases are the file's scenarios, and the limits they
/// need ([`settings_for`]).
pub fn load(
    path: &std::path::Path,
    base: &Catalogue,
    settings: &Settings,
) -> Result<(Catalogue, Settings), CaseFileError> {
    let name = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|source| CaseFileError::Read {
        path: name.clone(),
        source,
    })?;
    let catalogue = catalogue_with(base, &name, &src)?;
    let scenarios: Vec<&Scenario> = catalogue
        .cases
        .iter()
        .filter_map(|c| catalogue.scenarios.id_of(&c.scenario))
        .map(|id| catalogue.scenarios.get(id))
        .collect();
    let limits = settings_for(&scenarios, settings);
    Ok((catalogue, limits))
}

/// What a client must report at the end of `s`.
pub fn expect_for(s: &Scenario) -> Expect {
    match (s.outcome, s.expires) {
        (Some(o), _) => Expect {
            validation_status: if o.status().is_terminal() && o.failure_status().is_none() {
                ExpectedStatus::Success
            } else {
                ExpectedStatus::Failure
            },
            failure_status: o.failure_status().map(str::to_string),
        },
        (None, true) => Expect {
            validation_status: ExpectedStatus::Failure,
            failure_status: Some("expired".into()),
        },
        (None, false) => Expect {
            validation_status: ExpectedStatus::Pending,
            failure_status: None,
        },
    }
}

/// The case that runs scenario `s`: id and scenario are its name.
pub fn case_for(s: &Scenario) -> Case {
    Case {
        id: s.name.clone(),
        title: s.description.clone(),
        scenario: s.name.clone(),
        expect: expect_for(s),
        api_key: None,
    }
}

/// The limits a scenario needs so a polite client can finish it: a `Retry-After` stays a floor
/// for every later poll (`slow-down-persists`), and a stalled request costs up to the request
/// timeout limit, so both lengthen the outcome deadline and the case limit (never shorten
/// them). The case limit keeps 15 s past the outcome deadline for the quiet window and
/// start-up.
pub fn settings_for(scenarios: &[&Scenario], base: &Settings) -> Settings {
    let mut extra = 0u64;
    for s in scenarios {
        let mut sum = 0;
        let mut max = 0;
        let mut stalls = 0;
        for f in &s.faults {
            match &f.action {
                FaultAction::HttpError {
                    retry_after: Some(ra),
                    ..
                } => {
                    sum += ra.seconds();
                    max = max.max(ra.seconds());
                }
                FaultAction::Connection(truidentidad_scenarios::ConnectionFault::Stall(_)) => {
                    stalls += 1;
                }
                _ => {}
            }
        }
        extra = extra.max(sum + 5 * max + stalls * base.request_timeout_limit.as_secs());
    }
    let mut s = base.clone();
    s.outcome_deadline = s
        .outcome_deadline
        .max(base.outcome_deadline + Duration::from_secs(extra));
    s.case_limit = s
        .case_limit
        .max(s.outcome_deadline + Duration::from_secs(15));
    s
}

/// The built-in catalogue's rules with the file's scenarios as its only cases.
pub fn catalogue_with(base: &Catalogue, file: &str, src: &str) -> Result<Catalogue, CaseFileError> {
    let parsed = truidentidad_scenarios::parse_scenarios(file, src)?;
    let mut scenarios = (*base.scenarios).clone();
    scenarios.load_file(file, src)?;
    Ok(Catalogue {
        rules: base.rules.clone(),
        cases: parsed.iter().map(case_for).collect(),
        scenarios: Arc::new(scenarios),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_becomes_a_case_expecting_its_outcome() {
        let src = r#"
[[scenario]]
name = "min-a"
description = "declined after 1 poll"
[[scenario.phase]]
until_polls = 1
[scenario.outcome]
status = "failure"
failure_status = "declined"
declined_reason = "underage"

[[scenario]]
name = "min-b"
description = "never completes"
expires = false
[[scenario.phase]]
name = "stuck"
"#;
        let c = catalogue_with(&Catalogue::builtin().unwrap(), "min.toml", src).unwrap();
        assert_eq!(c.cases.len(), 2);
        assert_eq!(c.cases[0].id, "min-a");
        assert_eq!(c.cases[0].expect.validation_status, ExpectedStatus::Failure);
        assert_eq!(
            c.cases[0].expect.failure_status.as_deref(),
            Some("declined")
        );
        assert_eq!(c.cases[1].expect.validation_status, ExpectedStatus::Pending);
        assert!(c.scenarios.id_of("min-a").is_some());
    }

    #[test]
    fn a_long_retry_after_lengthens_the_limits() {
        let src = r#"
[[scenario]]
name = "min-ra"
description = "a 12 s Retry-After"
[[scenario.phase]]
until_polls = 1
[scenario.outcome]
status = "success"
[[scenario.fault]]
nth = 1
status = 429
retry_after = "12s"
"#;
        let c = catalogue_with(&Catalogue::builtin().unwrap(), "min.toml", src).unwrap();
        let id = c.scenarios.id_of("min-ra").unwrap();
        let s = settings_for(&[c.scenarios.get(id)], &Settings::default());
        assert_eq!(s.outcome_deadline, Duration::from_secs(60 + 12 + 60));
        assert_eq!(s.case_limit, s.outcome_deadline + Duration::from_secs(15));
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let e = catalogue_with(
            &Catalogue::builtin().unwrap(),
            "min.toml",
            "[[scenario]]\nname = 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("min.toml:2:"), "{e}");
    }
}
