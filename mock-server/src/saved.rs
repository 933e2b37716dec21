//! The saved forms of what outlives a process: a validation's record, a forced outcome and a
//! journal entry, as the state file (`--state-file`) and the Redis store both write them. One
//! codec for both, in a module below both (it depends on the store's record and the journal's
//! types only), so the state file and Redis cannot drift apart (the state file once dropped
//! the journey Redis kept) and neither depends on the other.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use truidentidad_scenarios::model::RetryAfter;
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};
use truidentidad_scenarios::{Outcome, ValidationStatus};

use truidentidad_scenarios::Catalogue;

use crate::ids::ValidationId;
use crate::journal::{
    AppliedFault, FaultEffect, FormFields, JournalEntry, KeyState, Kind, Observed,
};
use crate::store::journey::Journey;
use crate::store::{Changes, ChosenBy, CreateParams, Record};

/// A validation's facts but its id and poll counters, which the state file keeps beside it
/// and Redis in hash fields of their own (the poll script counts there without decoding).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedRecord {
    pub seq: u64,
    pub account_id: String,
    /// By name: replicas and restarts agree on names, not necessarily on catalogue order.
    pub scenario: String,
    /// What chose the scenario, by name ([`ChosenBy::as_str`]), so a journey knows whether a
    /// test identity typed later may replace it.
    #[serde(default, skip_serializing_if = "is_default_chooser")]
    pub chosen_by: String,
    pub created_ns: u64,
    pub timeout_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced: Option<SavedOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_start_ns: Option<u64>,
    #[serde(default)]
    pub polls_at_scenario_start: u32,
    pub ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<CreateParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journey: Option<Journey>,
}

fn is_default_chooser(chosen_by: &str) -> bool {
    chosen_by.is_empty() || chosen_by == ChosenBy::Default.as_str()
}

pub(crate) fn save_record(r: &Record, catalogue: &Catalogue) -> SavedRecord {
    SavedRecord {
        seq: r.seq,
        account_id: r.account_id.to_string(),
        scenario: catalogue.get(r.scenario).name.clone(),
        chosen_by: r.chosen_by.as_str().to_string(),
        created_ns: ns(r.created),
        timeout_ns: ns(r.timeout),
        forced: r.forced().map(|(o, at)| save_outcome(o, at)),
        scenario_start_ns: r.changes.as_deref().map(|c| ns(c.scenario_start)),
        polls_at_scenario_start: r.polls_at_scenario_start(),
        ip: r.ip,
        params: r.params.as_deref().cloned(),
        journey: r.journey.as_deref().cloned(),
    }
}

/// A saved record read back under `id` with its poll counters; `held_polls`, when given,
/// replaces the journey's own count (Redis counts held polls in a field of their own).
/// `Err` says what is wrong with it.
pub(crate) fn load_record(
    id: ValidationId,
    d: SavedRecord,
    (polls_total, polls_counted): (u32, u32),
    held_polls: Option<u32>,
    catalogue: &Catalogue,
) -> Result<Record, String> {
    let scenario = catalogue.id_of(&d.scenario).ok_or_else(|| {
        format!(
            "validation {id} uses scenario `{}`, which is not loaded; pass the --scenarios file that defines it",
            d.scenario
        )
    })?;
    let chosen_by = if d.chosen_by.is_empty() {
        ChosenBy::Default
    } else {
        ChosenBy::parse(&d.chosen_by)
            .ok_or_else(|| format!("validation {id} has an unknown chosen_by `{}`", d.chosen_by))?
    };
    let forced = d
        .forced
        .as_ref()
        .map(|o| load_outcome(o).map(|out| (out, Duration::from_nanos(o.at_ns))))
        .transpose()?;
    let changes = (forced.is_some() || d.scenario_start_ns.is_some()).then(|| {
        Box::new(Changes {
            forced,
            scenario_start: Duration::from_nanos(d.scenario_start_ns.unwrap_or(d.created_ns)),
            polls_at_scenario_start: d.polls_at_scenario_start,
        })
    });
    let journey = d.journey.map(|mut j| {
        if let Some(held) = held_polls {
            j.set_held_polls(held);
        }
        Box::new(j)
    });
    Ok(Record {
        id,
        seq: d.seq,
        account_id: Arc::from(d.account_id),
        scenario,
        chosen_by,
        created: Duration::from_nanos(d.created_ns),
        timeout: Duration::from_nanos(d.timeout_ns),
        polls_total,
        polls_counted,
        changes,
        ip: d.ip,
        params: d.params.map(Arc::new),
        journey,
    })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedEntry {
    pub received_ns: u64,
    pub sent_ns: u64,
    pub method: String,
    pub path: String,
    pub kind: String,
    pub validation_id: Option<String>,
    pub status: u16,
    pub fault: Option<String>,
    pub api_key: KeyState,
    pub content_type: Option<String>,
    pub form: Vec<(String, String)>,
    pub remote: SocketAddr,
    /// The state the response carried (files saved before it was kept have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<SavedObserved>,
    /// The Retry-After a throttling fault sent, which the fault's text leaves out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// Whether that Retry-After was sent as an HTTP-date (it then stood for
    /// `retry_after_seconds` from the answer): kept so a journal read back from Redis or a
    /// state file shows the same header form as the one kept in memory.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry_after_http_date: bool,
    /// Whether the store counted the request as a poll (files saved before it was kept:
    /// guessed from the status, see [`crate::journal::reached_store_as_poll`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_counted: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedObserved {
    pub status: String,
    pub outcome: Option<SavedOutcome>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedOutcome {
    pub status: String,
    pub failure_status: Option<String>,
    pub reason: Option<String>,
    pub at_ns: u64,
}

pub(crate) fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn save_outcome(o: Outcome, at: Duration) -> SavedOutcome {
    SavedOutcome {
        status: o.status().as_str().into(),
        failure_status: o.failure_status().map(str::to_string),
        reason: o
            .declined_reason()
            .or(o.expired_reason())
            .map(str::to_string),
        at_ns: ns(at),
    }
}

pub(crate) fn load_outcome(s: &SavedOutcome) -> Result<Outcome, String> {
    let known = |list: &[&'static str]| -> Result<&'static str, String> {
        let r = s.reason.as_deref().unwrap_or_default();
        list.iter()
            .find(|k| **k == r)
            .copied()
            .ok_or_else(|| format!("unknown reason `{r}`"))
    };
    match (s.status.as_str(), s.failure_status.as_deref()) {
        ("success", _) => Ok(Outcome::Success),
        ("failure", Some("declined")) => Ok(Outcome::Declined {
            reason: known(DECLINED_REASONS)?,
        }),
        ("failure", Some("expired")) => Ok(Outcome::Expired {
            reason: known(EXPIRED_REASONS)?,
        }),
        ("failure", Some("system_error")) => Ok(Outcome::SystemError),
        (st, fs) => Err(format!("unknown outcome {st}/{fs:?}")),
    }
}

/// A journaled fault from its text and the Retry-After the text leaves out.
pub(crate) fn load_fault(
    text: Option<&str>,
    retry_after: Option<RetryAfter>,
) -> Result<AppliedFault, String> {
    let mut fault = match text {
        Some(f) => f.parse::<AppliedFault>().map_err(|e| e.to_string())?,
        None => AppliedFault::default(),
    };
    if let (Some(FaultEffect::Status { retry_after: r, .. }), Some(s)) =
        (fault.effect.as_mut(), retry_after)
    {
        *r = Some(s);
    }
    Ok(fault)
}

pub(crate) fn load_observed(o: &SavedObserved) -> Result<Observed, String> {
    let status = match o.status.as_str() {
        "pending" => ValidationStatus::Pending,
        "success" => ValidationStatus::Success,
        "failure" => ValidationStatus::Failure,
        other => return Err(format!("unknown validation status `{other}`")),
    };
    Ok(Observed {
        status,
        outcome: o.outcome.as_ref().map(load_outcome).transpose()?,
    })
}

/// A journal entry as the state file (and the Redis store's journal stream) saves it.
pub(crate) fn save_entry(e: JournalEntry) -> SavedEntry {
    SavedEntry {
        received_ns: ns(e.received),
        sent_ns: ns(e.sent),
        method: e.method.to_string(),
        path: e.path,
        kind: e.kind.as_str().to_string(),
        validation_id: e.validation_id.map(|i| i.to_string()),
        status: e.status,
        fault: (!e.fault.is_none()).then(|| e.fault.to_string()),
        api_key: e.api_key,
        content_type: e.content_type,
        form: e.form.pairs(),
        remote: e.remote,
        observed: e.observed.map(|o| SavedObserved {
            status: o.status.as_str().into(),
            outcome: o.outcome.map(|o| save_outcome(o, Duration::ZERO)),
        }),
        retry_after_seconds: match e.fault.effect {
            Some(FaultEffect::Status {
                retry_after: Some(ra),
                ..
            }) => Some(ra.seconds()),
            _ => None,
        },
        retry_after_http_date: matches!(
            e.fault.effect,
            Some(FaultEffect::Status {
                retry_after: Some(RetryAfter::HttpDate(_)),
                ..
            })
        ),
        poll_counted: (e.kind == Kind::Poll).then_some(e.poll_counted),
    }
}

/// A saved journal entry read back; `Err` says what is wrong with it.
pub(crate) fn load_entry(e: SavedEntry) -> Result<JournalEntry, String> {
    let validation_id = match e.validation_id {
        Some(s) => Some(
            s.parse()
                .map_err(|_| format!("bad validation_id `{s}` in journal"))?,
        ),
        None => None,
    };
    // A kind this version does not know was saved by another: keep it as `other`.
    let kind = Kind::parse(&e.kind).unwrap_or(Kind::Other);
    Ok(JournalEntry {
        seq: 0,
        received: Duration::from_nanos(e.received_ns),
        sent: Duration::from_nanos(e.sent_ns),
        method: http::Method::from_bytes(e.method.as_bytes())
            .map_err(|_| format!("bad method `{}` in journal", e.method))?,
        path: e.path,
        kind,
        validation_id,
        status: e.status,
        fault: load_fault(
            e.fault.as_deref(),
            e.retry_after_seconds.map(if e.retry_after_http_date {
                RetryAfter::HttpDate
            } else {
                RetryAfter::Seconds
            }),
        )
        .map_err(|err| format!("{err} in journal"))?,
        observed: e
            .observed
            .as_ref()
            .map(load_observed)
            .transpose()
            .map_err(|err| format!("{err} in journal"))?,
        api_key: e.api_key,
        content_type: e.content_type,
        form: FormFields::from_pairs(e.form.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        remote: e.remote,
        poll_counted: e
            .poll_counted
            .unwrap_or_else(|| crate::journal::reached_store_as_poll(kind, e.status)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_entry_keeps_its_retry_after_across_a_restart() {
        let f = load_fault(
            Some("delay 5ms, http_error 429"),
            Some(RetryAfter::Seconds(3)),
        )
        .unwrap();
        assert_eq!(
            f.effect,
            Some(FaultEffect::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(3))
            })
        );
        assert_eq!(f.delay, Some(Duration::from_millis(5)));
        assert!(load_fault(Some("not a fault"), None).is_err());
    }

    /// The differential test found it: an HTTP-date Retry-After was saved without its
    /// seconds, so a journal read back from Redis lacked the `retry_after_seconds` that the
    /// in-memory journal shows.
    #[test]
    fn an_http_date_retry_after_keeps_its_seconds_and_form_across_a_save() {
        for ra in [RetryAfter::HttpDate(2), RetryAfter::Seconds(2)] {
            let mut fault = load_fault(Some("http_error 429"), None).unwrap();
            if let Some(FaultEffect::Status { retry_after, .. }) = fault.effect.as_mut() {
                *retry_after = Some(ra);
            }
            let saved = SavedEntry {
                received_ns: 0,
                sent_ns: 0,
                method: "GET".into(),
                path: "/v1/validations/x".into(),
                kind: "poll".into(),
                validation_id: None,
                status: 429,
                fault: Some(fault.to_string()),
                api_key: KeyState::Accepted,
                content_type: None,
                form: Vec::new(),
                remote: "127.0.0.1:1".parse().unwrap(),
                observed: None,
                retry_after_seconds: Some(ra.seconds()),
                retry_after_http_date: matches!(ra, RetryAfter::HttpDate(_)),
                poll_counted: Some(true),
            };
            let entry = load_entry(saved).unwrap();
            let again = save_entry(entry.clone());
            assert_eq!(again.retry_after_seconds, Some(2));
            assert_eq!(load_entry(again).unwrap().fault, entry.fault);
            assert_eq!(
                entry.fault.effect,
                Some(FaultEffect::Status {
                    status: 429,
                    retry_after: Some(ra)
                })
            );
        }
    }

    #[test]
    fn what_an_answer_carried_reads_back() {
        let saved = SavedObserved {
            status: "failure".into(),
            outcome: Some(save_outcome(
                Outcome::Declined {
                    reason: DECLINED_REASONS[0],
                },
                Duration::ZERO,
            )),
        };
        let o = load_observed(&saved).unwrap();
        assert_eq!(o.status, ValidationStatus::Failure);
        assert_eq!(
            o.outcome.and_then(|o| o.declined_reason()),
            Some(DECLINED_REASONS[0])
        );
        let bad = SavedObserved {
            status: "done".into(),
            outcome: None,
        };
        assert_eq!(
            load_observed(&bad).unwrap_err(),
            "unknown validation status `done`"
        );
    }
}
