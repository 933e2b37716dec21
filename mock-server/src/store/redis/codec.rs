//! How one record is laid out in its Redis hash.
//!
//! The counters a poll changes (`pt`, `pc`, `hp`) and the facts the poll script needs to
//! decide whether a poll counts (`c`, `t`, `x`, `h`) are fields of their own, so the script
//! updates them with `HINCRBY` and never parses the rest; everything else is one JSON value
//! (`d`) that only Rust reads and writes. `ver` counts writes of `d`, for the optimistic
//! updates of [`super::RedisStore::update_record`].

use truidentidad_scenarios::Catalogue;

use crate::ids::ValidationId;
pub(crate) use crate::saved::ns;
use crate::saved::{SavedRecord, load_record, save_record};
use crate::store::Record;

/// The fields read back for a record, in this order (`HMGET`).
pub(crate) const FIELDS: [&str; 5] = ["d", "pt", "pc", "hp", "ver"];

/// A record as fields to `HSET` (besides the counters, which the store sets itself).
#[derive(Debug)]
pub(crate) struct Encoded {
    pub data: String,
    pub created_ns: u64,
    pub timeout_ns: u64,
    /// Whether the current scenario expires (polls after the timeout then stop counting).
    pub expires: bool,
    /// Whether the journey holds the scenario's clock (polls then count as held).
    pub on_hold: bool,
    pub held_polls: u32,
}

pub(crate) fn encode(r: &Record, catalogue: &Catalogue) -> Encoded {
    let data = save_record(r, catalogue);
    Encoded {
        // Only strings, numbers and derived enums: serializing cannot fail.
        data: serde_json::to_string(&data).unwrap_or_default(),
        created_ns: data.created_ns,
        timeout_ns: data.timeout_ns,
        expires: catalogue.get(r.scenario).expires,
        on_hold: r.journey.as_ref().is_some_and(|j| j.on_hold()),
        held_polls: r.journey.as_ref().map_or(0, |j| j.held_polls()),
    }
}

/// What `HMGET` of [`FIELDS`] returned for an existing record.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub data: String,
    pub polls_total: u32,
    pub polls_counted: u32,
    pub held_polls: u32,
    pub version: u64,
}

/// A record whose JSON part no longer reads (written by an incompatible version, or a
/// scenario this replica does not have).
#[derive(Debug, thiserror::Error)]
#[error("validation {id} in Redis cannot be read by this version: {why}")]
pub(crate) struct DecodeError {
    pub id: ValidationId,
    pub why: String,
}

pub(crate) fn decode(
    id: ValidationId,
    s: &Stored,
    catalogue: &Catalogue,
) -> Result<Record, DecodeError> {
    let err = |why: String| DecodeError { id, why };
    let d: SavedRecord = serde_json::from_str(&s.data).map_err(|e| err(e.to_string()))?;
    load_record(
        id,
        d,
        (s.polls_total, s.polls_counted),
        Some(s.held_polls),
        catalogue,
    )
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::journey::{Device, Journey};
    use crate::store::{ChosenBy, CreateParams};
    use std::sync::Arc;
    use std::time::Duration;
    use truidentidad_scenarios::Outcome;

    fn stored(e: &Encoded, r: &Record) -> Stored {
        Stored {
            data: e.data.clone(),
            polls_total: r.polls_total,
            polls_counted: r.polls_counted,
            held_polls: e.held_polls,
            version: 0,
        }
    }

    proptest::proptest! {
        /// Whatever a record holds, what Redis stores reads back as the same record, so a
        /// replica that did not create a validation answers for it exactly as its creator.
        #[test]
        fn records_read_back_as_written(
            seq in 0u64..u64::MAX / 2,
            created in 0u64..1 << 50,
            timeout_s in 1u64..100_000,
            pt in 0u32..1000,
            pc in 0u32..1000,
            switched in proptest::option::of((0u64..1 << 50, 0u32..100)),
            forced in proptest::option::of(0u64..1 << 50),
            journey in proptest::option::of(0u64..1 << 50),
            country in proptest::option::of("[A-Z]{2}"),
            account in "\\PC{0,20}",
            chosen_by in proptest::sample::select(vec![
                ChosenBy::Default, ChosenBy::Armed, ChosenBy::Document,
                ChosenBy::AccountId, ChosenBy::Header, ChosenBy::Control,
            ]),
            owner in proptest::option::of(proptest::num::u64::ANY),
        ) {
            let c = Catalogue::builtin();
            let mut r = Record {
                id: ValidationId(u128::from(seq) << 3),
                seq,
                account_id: Arc::from(account),
                scenario: c.id_of("success").unwrap(),
                chosen_by,
                created: Duration::from_nanos(created),
                timeout: Duration::from_secs(timeout_s),
                polls_total: pt,
                polls_counted: pc,
                changes: None,
                ip: "10.0.0.7".parse().unwrap(),
                params: (country.is_some() || owner.is_some()).then(|| Arc::new(CreateParams { country, owner, ..Default::default() })),
                journey: None,
            };
            if let Some((at, polls)) = switched {
                r.polls_counted = polls;
                r.switch_scenario(c.id_of("never-completes").unwrap(), r.chosen_by, Duration::from_nanos(at));
                r.polls_counted = pc;
            }
            if let Some(at) = forced {
                r.force(Outcome::Declined { reason: truidentidad_scenarios::reasons::DECLINED_REASONS[0] }, Duration::from_nanos(at));
            }
            if let Some(at) = journey {
                let mut j = Journey::new(Duration::from_nanos(at), Device::Phone);
                j.log(Duration::from_nanos(at), "opened", Device::Phone, Some("x".into()));
                j.count_poll();
                r.journey = Some(Box::new(j));
            }
            let e = encode(&r, &c);
            let back = decode(r.id, &stored(&e, &r), &c).unwrap();
            proptest::prop_assert_eq!(format!("{back:?}"), format!("{r:?}"));
        }
    }
}
