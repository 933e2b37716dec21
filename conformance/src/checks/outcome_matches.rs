//! Rule `outcome-matches`: The reported outcome is the one the service produced.

use super::common::{stopped_on_ambiguous_create, stopped_on_rejection};
use crate::catalogue::ExpectedStatus;
use crate::trace::Trace;
use crate::verdict::Finding;

pub(super) fn outcome_matches(t: &Trace) -> Vec<Finding> {
    let want = &t.case.expect;
    // Nothing sent (client-completes) or stopped on the mock's rejection of a request (graded
    // by the rule about that request): the outcome is not what went wrong.
    if want.validation_status == ExpectedStatus::Error
        || t.requests.is_empty()
        || stopped_on_rejection(t).is_some()
        || stopped_on_ambiguous_create(t).is_some()
    {
        return Vec::new();
    }
    let Some(r) = &t.client.report else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let created = t.created_ids();
    if let Some(id) = &r.validation_id
        && !created.contains(&id.as_str())
    {
        out.push(Finding::new(
            format!(
                "the client reported validation_id `{id}`, which no create returned (created: {})",
                created.join(", ")
            ),
            vec![],
        ));
    }
    let got_status = r.validation_status.as_deref().unwrap_or("(none)");
    let got_failure = r.failure_status.as_deref();
    let want_failure = want.failure_status.as_deref();
    if got_status != want.validation_status.as_str()
        || (want.validation_status != ExpectedStatus::Pending && got_failure != want_failure)
    {
        let show = |s: &str, f: Option<&str>| match f {
            Some(f) => format!("{s}/{f}"),
            None => s.to_string(),
        };
        out.push(Finding::new(
            format!(
                "the client reported {} but the validation ended {}",
                show(got_status, got_failure),
                if want.validation_status == ExpectedStatus::Pending {
                    "still pending (the client should give up and report pending)".to_string()
                } else {
                    show(want.validation_status.as_str(), want_failure)
                }
            ),
            vec![],
        ));
    }
    out
}
