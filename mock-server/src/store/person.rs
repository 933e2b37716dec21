//! Whose word counts once a person is in the browser journey.
//!
//! A scenario stands for what TruIdentidad finds (the registry and face checks) *and*, for
//! backend-only tests, what a person did (`declined-data-authorization`,
//! `expired-not-finished`). In a journey the person acts for themselves, so a scenario must
//! not contradict them: it cannot decline someone who accepted the policy, nor report "video
//! not uploaded" after the upload. These pure rules map a scenario's ending onto what the
//! person did; backend-only validations (no journey) are never touched.
//!
//! - After the video is uploaded, a scenario whose ending is the person's (see
//!   [`decided_by_person`]) gives way to the catalogue's `success` scenario, timed from the
//!   upload: the person did their part and the scenario says nothing about the checks.
//! - After the upload the validation's `timeout` no longer applies: it is the person's
//!   deadline, and they met it.
//! - A timeout before the upload reports what the person did: `face_validation_not_started`
//!   when the journey was never opened, `input_file_not_uploaded` when it was.
//! - Forced outcomes (the control API, the person's own declines) are final and untouched.

use truidentidad_scenarios::catalogue::{DEFAULT_SCENARIO, ScenarioId};
use truidentidad_scenarios::{Catalogue, Observation, Outcome, Scenario};

/// Declined reasons that describe what a person did in the journey rather than what the
/// registry or face checks found.
pub const PERSON_DECLINED_REASONS: &[&str] = &[
    "data_authorization_not_provided",
    "geolocation_denied",
    "canceled",
    "unwanted_camera_permissions",
    "user_process_postponed",
    "abandoned_without_using_retries",
    "face_validation_not_started",
    "process_started_late",
    "validation_not_finished",
    "validation_expired",
];

/// What the person did, as far as the ending is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    /// The SDK (or the phone page) opened the journey.
    pub opened: bool,
    /// The liveness video arrived.
    pub uploaded: bool,
}

/// Whether `scenario`'s ending is the person's doing: a decline for something a person does,
/// or never finishing (pending until it expires).
pub fn decided_by_person(scenario: &Scenario) -> bool {
    match scenario.outcome {
        Some(Outcome::Declined { reason }) => PERSON_DECLINED_REASONS.contains(&reason),
        Some(Outcome::Expired { .. }) => true,
        None => scenario.expires,
        Some(Outcome::Success | Outcome::SystemError) => false,
    }
}

/// The scenario that drives a validation whose person is in `person`'s state.
pub fn scenario_for(catalogue: &Catalogue, id: ScenarioId, person: Option<Person>) -> &Scenario {
    let scenario = catalogue.get(id);
    match person {
        Some(Person { uploaded: true, .. }) if decided_by_person(scenario) => catalogue
            .id_of(DEFAULT_SCENARIO)
            .map_or(scenario, |s| catalogue.get(s)),
        _ => scenario,
    }
}

/// Rewrites an expiry the scenario produced so its reason matches what the person did.
pub fn expiry_for(observation: Observation, person: Option<Person>) -> Observation {
    match (observation.outcome, person) {
        (Some(Outcome::Expired { .. }), Some(p)) => Observation {
            outcome: Some(Outcome::Expired {
                reason: if p.opened {
                    "input_file_not_uploaded"
                } else {
                    "face_validation_not_started"
                },
            }),
            ..observation
        },
        _ => observation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_endings_are_recognised_in_the_builtin_catalogue() {
        let c = Catalogue::builtin();
        let mut by_person: Vec<&str> = c
            .iter()
            .filter(|(_, s)| decided_by_person(s))
            .map(|(_, s)| s.name.as_str())
            .collect();
        by_person.sort_unstable();
        assert_eq!(
            by_person,
            [
                "declined-data-authorization",
                "declined-geolocation-denied",
                "expired-not-finished",
                "expired-not-started",
            ]
        );
    }

    #[test]
    fn every_person_reason_is_a_documented_declined_reason() {
        for r in PERSON_DECLINED_REASONS {
            assert!(
                truidentidad_scenarios::reasons::DECLINED_REASONS.contains(r),
                "{r}"
            );
        }
    }
}
