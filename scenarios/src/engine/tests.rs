use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::catalogue::Catalogue;
use crate::model::{Outcome, Phase};

fn facts(secs: u64, polls: u32) -> ValidationFacts {
    ValidationFacts {
        since_creation: Duration::from_secs(secs),
        since_scenario_start: Duration::from_secs(secs),
        polls,
        timeout: Duration::from_secs(300),
        forced: None,
    }
}

fn scenario(name: &str) -> Scenario {
    let c = Catalogue::builtin();
    c.get(c.id_of(name).unwrap()).clone()
}

#[test]
fn success_turns_terminal_at_its_time() {
    let s = scenario("success");
    assert_eq!(observe(&s, &facts(2, 0)).status, ValidationStatus::Pending);
    let done = observe(&s, &facts(3, 0));
    assert_eq!(done.status, ValidationStatus::Success);
    assert_eq!(done.outcome, Some(Outcome::Success));
}

#[test]
fn poll_driven_phase_counts_polls_before_the_current_one() {
    let s = scenario("success-after-polls");
    for polls in 0..3 {
        assert_eq!(
            observe(&s, &facts(1000 % 300, polls)).status,
            ValidationStatus::Pending
        );
    }
    assert_eq!(observe(&s, &facts(0, 3)).status, ValidationStatus::Success);
}

/// Truora documents that a validation not finished by its timeout expires, so the poll-driven
/// scenario does too, and says so: its three polls must come before the timeout.
#[test]
fn success_after_polls_expires_past_its_timeout_as_its_description_says() {
    let s = scenario("success-after-polls");
    assert!(s.expires);
    assert!(
        s.description.contains("before the timeout") && !s.description.contains("whatever"),
        "{}",
        s.description
    );
    assert_eq!(
        observe(&s, &facts(299, 3)).status,
        ValidationStatus::Success
    );
    // Polls after the timeout are not counted (the store keeps them out of `polls`).
    let late = observe(&s, &facts(300, 2));
    assert_eq!(
        late.outcome,
        Some(Outcome::Expired {
            reason: "input_file_not_uploaded"
        })
    );
}

#[test]
fn pending_past_timeout_expires_with_the_scenario_reason() {
    let s = scenario("expired-not-started");
    assert_eq!(
        observe(&s, &facts(299, 50)).status,
        ValidationStatus::Pending
    );
    let o = observe(&s, &facts(300, 50));
    assert_eq!(
        o.outcome,
        Some(Outcome::Expired {
            reason: "face_validation_not_started"
        })
    );
}

#[test]
fn never_completes_ignores_timeout() {
    let s = scenario("never-completes");
    assert_eq!(
        observe(&s, &facts(1_000_000, 9_999)).status,
        ValidationStatus::Pending
    );
}

#[test]
fn outcome_reached_before_timeout_wins_over_expiry() {
    let s = scenario("success");
    let mut f = facts(400, 0);
    f.timeout = Duration::from_secs(3);
    assert_eq!(observe(&s, &f).outcome, Some(Outcome::Success));
    f.timeout = Duration::from_secs(2);
    assert!(matches!(
        observe(&s, &f).outcome,
        Some(Outcome::Expired { .. })
    ));
}

#[test]
fn forced_outcome_overrides_the_timeline() {
    let s = scenario("never-completes");
    let mut f = facts(1, 0);
    f.forced = Some(Outcome::SystemError);
    assert_eq!(observe(&s, &f).outcome, Some(Outcome::SystemError));
}

#[test]
fn faults_match_kind_phase_and_ordinal() {
    let s = scenario("flaky-5xx-then-success");
    let req = |nth| RequestFacts {
        kind: RequestKind::Poll,
        nth,
        phase: 0,
        entropy: 1,
    };
    let status = |f: Option<&Fault>| match f.map(|f| &f.action) {
        Some(FaultAction::HttpError { status, .. }) => Some(*status),
        _ => None,
    };
    assert_eq!(status(select_fault(&s, &req(1))), Some(503));
    assert_eq!(status(select_fault(&s, &req(2))), Some(500));
    assert_eq!(status(select_fault(&s, &req(3))), None);
    let create = RequestFacts {
        kind: RequestKind::Create,
        ..req(1)
    };
    assert!(select_fault(&s, &create).is_none());
}

#[test]
fn uniform_delay_stays_in_range() {
    let d = Delay::Uniform {
        min: Duration::from_millis(200),
        max: Duration::from_millis(1500),
    };
    for e in 0..500 {
        let x = d.sample(e);
        assert!(x >= Duration::from_millis(200) && x <= Duration::from_millis(1500));
    }
}

use crate::model::FaultAction;

/// Arbitrary well-formed scenarios: phase limits non-decreasing, as the parser enforces.
fn arb_scenario() -> impl Strategy<Value = Scenario> {
    let phase = (
        proptest::option::of(0u64..120),
        proptest::option::of(0u32..20),
    );
    (
        proptest::collection::vec(phase, 0..5),
        proptest::option::of(prop_oneof![
            Just(Outcome::Success),
            Just(Outcome::SystemError),
            Just(Outcome::Declined {
                reason: "document_unregistered"
            }),
        ]),
        any::<bool>(),
    )
        .prop_map(|(raw, outcome, expires)| {
            let mut t = 0;
            let mut p = 0;
            let n = raw.len();
            let phases = raw
                .into_iter()
                .enumerate()
                .map(|(i, (dt, dp))| {
                    let mut until = dt.map(|d| {
                        t += d;
                        Duration::from_secs(t)
                    });
                    let until_polls = dp.map(|d| {
                        p += d;
                        p
                    });
                    // Only the last phase may be endless, as the parser requires.
                    if until.is_none() && until_polls.is_none() && i + 1 < n {
                        t += 1;
                        until = Some(Duration::from_secs(t));
                    }
                    Phase {
                        name: format!("p{i}"),
                        until,
                        until_polls,
                    }
                })
                .collect();
            Scenario {
                name: "arb".into(),
                description: "arbitrary".into(),
                phases,
                outcome,
                expires,
                expired_reason: "input_file_not_uploaded",
                faults: vec![],
            }
        })
}

/// A poll schedule: gaps in seconds between successive polls.
fn arb_schedule() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(0u64..40, 1..40)
}

/// Runs a schedule the way the store does: polls before the timeout are counted.
fn run(s: &Scenario, gaps: &[u64], timeout: u64) -> Vec<Observation> {
    let mut now = 0;
    let mut counted = 0;
    gaps.iter()
        .map(|g| {
            now += g;
            let f = ValidationFacts {
                since_creation: Duration::from_secs(now),
                since_scenario_start: Duration::from_secs(now),
                polls: counted,
                timeout: Duration::from_secs(timeout),
                forced: None,
            };
            if !(s.expires && now >= timeout) {
                counted += 1;
            }
            observe(s, &f)
        })
        .collect()
}

proptest! {
    #[test]
    fn terminal_states_are_final(s in arb_scenario(), gaps in arb_schedule(), timeout in 1u64..400) {
        let obs = run(&s, &gaps, timeout);
        if let Some(first) = obs.iter().position(|o| o.status.is_terminal()) {
            for o in &obs[first..] {
                prop_assert_eq!(o.outcome, obs[first].outcome);
            }
        }
    }

    #[test]
    fn observations_follow_the_timeline_in_order(s in arb_scenario(), gaps in arb_schedule(), timeout in 1u64..400) {
        let obs = run(&s, &gaps, timeout);
        // Phases never go backwards, and pending observations always name a real phase.
        for w in obs.windows(2) {
            prop_assert!(w[0].phase <= w[1].phase);
        }
        for o in &obs {
            match o.outcome {
                None => prop_assert!(o.phase < s.phases.len().max(1)),
                Some(out) => {
                    let allowed = Some(out) == s.outcome
                        || (s.expires && matches!(out, Outcome::Expired { .. }));
                    prop_assert!(allowed, "unexpected outcome {:?}", out);
                }
            }
        }
    }

    #[test]
    fn same_inputs_same_answers(s in arb_scenario(), gaps in arb_schedule(), timeout in 1u64..400) {
        prop_assert_eq!(run(&s, &gaps, timeout), run(&s, &gaps, timeout));
    }

    #[test]
    fn expiring_scenarios_are_terminal_after_timeout(s in arb_scenario(), gaps in arb_schedule(), timeout in 1u64..400) {
        let obs = run(&s, &gaps, timeout);
        let mut now = 0;
        for (g, o) in gaps.iter().zip(&obs) {
            now += g;
            if s.expires && now >= timeout {
                prop_assert!(o.status.is_terminal());
            }
        }
    }
}
