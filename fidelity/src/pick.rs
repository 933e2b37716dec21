//! Which mock scenario a recorded validation is compared with.
//!
//! In order: the mapping file (by validation id, then by outcome label); a magic `account_id`
//! the recording's create carried (as the mock itself would choose); the first scenario of the
//! catalogue that ends the same way and has no faults; the first that ends the same way.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use truidentidad_scenarios::catalogue::{Catalogue, DEFAULT_SCENARIO};
use truidentidad_scenarios::model::Scenario;

use crate::recording::{CallKind, Timeline};
use crate::shape;
use crate::toml_file::{self, TomlFileError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChosenBy {
    Mapping,
    AccountId,
    Outcome,
    /// The recording never finished: the default scenario.
    Default,
}

impl ChosenBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ChosenBy::Mapping => "mapping",
            ChosenBy::AccountId => "account_id",
            ChosenBy::Outcome => "outcome",
            ChosenBy::Default => "default",
        }
    }
}

/// `[scenarios]` of a mapping file: validation id or outcome label → scenario name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub scenarios: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error(transparent)]
    File(#[from] TomlFileError),
    #[error("{path}: `{key}` maps to `{name}`, which is not a scenario (known: {known})")]
    Unknown {
        path: String,
        key: String,
        name: String,
        known: String,
    },
}

impl Mapping {
    pub fn load(path: &Path, catalogue: &Catalogue) -> Result<Self, MappingError> {
        let m: Mapping = toml_file::load(path)?;
        for (key, name) in &m.scenarios {
            if catalogue.id_of(name).is_none() {
                return Err(MappingError::Unknown {
                    path: path.display().to_string(),
                    key: key.clone(),
                    name: name.clone(),
                    known: catalogue.names(),
                });
            }
        }
        Ok(m)
    }
}

/// The label a scenario ends with, as a recording would show it.
pub fn scenario_outcome(s: &Scenario) -> Option<String> {
    match &s.outcome {
        Some(o) => Some(o.label()),
        None if s.expires => Some(format!("failure/expired/{}", s.expired_reason)),
        None => None,
    }
}

/// The recording's outcome: the first terminal body it shows.
pub fn recorded_outcome(t: &Timeline) -> Option<String> {
    t.exchanges
        .iter()
        .filter_map(|x| x.response.as_ref())
        .filter(|r| r.status == 200)
        .filter_map(|r| r.json())
        .find(shape::is_terminal)
        .and_then(|v| shape::outcome_label(&v))
}

/// The scenario for `t`, and why; `Err` names the outcome no scenario ends with.
pub fn pick(
    t: &Timeline,
    mapping: &Mapping,
    catalogue: &Catalogue,
) -> Result<(String, ChosenBy), String> {
    let outcome = recorded_outcome(t);
    let by_map = t
        .validation_id
        .as_ref()
        .and_then(|id| mapping.scenarios.get(id))
        .or_else(|| outcome.as_ref().and_then(|o| mapping.scenarios.get(o)));
    if let Some(name) = by_map {
        return Ok((name.clone(), ChosenBy::Mapping));
    }
    let account = t
        .exchanges
        .iter()
        .find(|x| x.kind == CallKind::Create)
        .and_then(|x| {
            form_urlencoded::parse(x.request.body.as_bytes())
                .find(|(k, _)| k == "account_id")
                .map(|(_, v)| v.into_owned())
        });
    if let Some(id) = account.and_then(|a| catalogue.from_account_id(&a)) {
        return Ok((catalogue.get(id).name.clone(), ChosenBy::AccountId));
    }
    let Some(outcome) = outcome else {
        return Ok((DEFAULT_SCENARIO.to_string(), ChosenBy::Default));
    };
    let ending: Vec<&Scenario> = catalogue
        .iter()
        .map(|(_, s)| s)
        .filter(|s| scenario_outcome(s).as_deref() == Some(outcome.as_str()))
        .collect();
    ending
        .iter()
        .find(|s| s.faults.is_empty())
        .or(ending.first())
        .map(|s| (s.name.clone(), ChosenBy::Outcome))
        .ok_or(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Exchange, RecordedRequest, RecordedResponse};

    fn timeline(account: &str, outcome_body: &str) -> Timeline {
        let x = |kind, body: &str, resp: &str| Exchange {
            kind,
            offset_ms: 0,
            duration_ms: 0,
            request: RecordedRequest {
                method: "POST".into(),
                path: "/v1/validations".into(),
                headers: Vec::new(),
                body: body.into(),
            },
            response: Some(RecordedResponse {
                status: 200,
                headers: Vec::new(),
                body: resp.into(),
            }),
            failure: None,
        };
        Timeline {
            name: "VLD1".into(),
            validation_id: Some("VLD1".into()),
            started: String::new(),
            exchanges: vec![
                x(
                    CallKind::Create,
                    &format!("type=government&account_id={account}"),
                    r#"{"validation_status":"pending"}"#,
                ),
                x(CallKind::Poll, "", outcome_body),
            ],
        }
    }

    const DECLINED: &str = r#"{"validation_status":"failure","failure_status":"declined","declined_reason":"similarity_threshold_not_passed"}"#;

    #[test]
    fn mapping_then_magic_account_then_outcome() {
        let c = Catalogue::builtin();
        let none = Mapping::default();
        assert_eq!(
            pick(&timeline("user-1", DECLINED), &none, &c),
            Ok(("declined-face-mismatch".into(), ChosenBy::Outcome))
        );
        assert_eq!(
            pick(
                &timeline("rate-limited.u", r#"{"validation_status":"success"}"#),
                &none,
                &c
            ),
            Ok(("rate-limited".into(), ChosenBy::AccountId))
        );
        let mapping = Mapping {
            scenarios: [(
                "failure/declined/similarity_threshold_not_passed".to_string(),
                "success".to_string(),
            )]
            .into(),
        };
        assert_eq!(
            pick(&timeline("rate-limited.u", DECLINED), &mapping, &c),
            Ok(("success".into(), ChosenBy::Mapping))
        );
        assert_eq!(
            pick(
                &timeline(
                    "u",
                    r#"{"validation_status":"failure","failure_status":"declined","declined_reason":"made_up"}"#
                ),
                &none,
                &c
            ),
            Err("failure/declined/made_up".into())
        );
    }
}
