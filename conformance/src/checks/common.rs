//! Helpers the checks share: wording (lists of requests, plurals) and the request sequences
//! whose pacing is graded. How waits are measured (`gaps`, `done_at`) and when a wait breaks a
//! Retry-After are rules of what the client did, so they live in [`crate::evidence`], which
//! the fleet report reads too.

use std::time::Duration;

use crate::client::ClientEnd;
pub(super) use crate::evidence::{breaks_retry_after, done_at, gaps};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

/// At most this many requests are spelled out in one message.
const LISTED: usize = 3;

/// `#3 GET … at t=1.2s, #4 …` and `(and N more)`.
pub(super) fn list(reqs: &[&Request]) -> String {
    let mut s = reqs
        .iter()
        .take(LISTED)
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("; ");
    if reqs.len() > LISTED {
        s.push_str(&format!(" (and {} more)", reqs.len() - LISTED));
    }
    s
}

pub(super) fn seqs(reqs: &[&Request]) -> Vec<u64> {
    reqs.iter().map(|r| r.seq).collect()
}

/// One finding over a set of offending requests, or none.
pub(super) fn over(reqs: Vec<&Request>, what: impl FnOnce(usize) -> String) -> Vec<Finding> {
    if reqs.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        format!("{}: {}", what(reqs.len()), list(&reqs)),
        seqs(&reqs),
    )]
}

/// "the limit is 1.000s minus 0.050s slack": a lower bound and the slack below it.
pub(super) fn at_least(limit: Duration, slack: Duration) -> String {
    format!(
        "the limit is {} minus {} slack",
        fmt_secs(limit),
        fmt_secs(slack)
    )
}

/// "the limit is 10.000s + 0.500s slack": an upper bound and the slack past it.
pub(super) fn at_most(limit: Duration, slack: Duration) -> String {
    format!(
        "the limit is {} + {} slack",
        fmt_secs(limit),
        fmt_secs(slack)
    )
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The sequences whose pacing is graded: each validation's create and polls.
pub(super) fn sequences(t: &Trace) -> Vec<Vec<&Request>> {
    t.validation_ids()
        .into_iter()
        .map(|id| t.timeline(id))
        .collect()
}

/// All graded sequences: each validation's timeline, plus the creates in order.
pub(super) fn paced_sequences(t: &Trace) -> Vec<Vec<&Request>> {
    let mut all = sequences(t);
    all.push(t.requests.iter().filter(|r| r.is_create()).collect());
    all
}

pub(super) fn is_form(ct: Option<&str>) -> bool {
    ct.and_then(|c| c.split(';').next()).is_some_and(|e| {
        e.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// Creates the mock could read: right content type and a parsed form, or a 400 on the form.
pub(super) fn form_creates(t: &Trace) -> impl Iterator<Item = &Request> {
    t.requests
        .iter()
        .filter(|r| r.is_create() && is_form(r.content_type.as_deref()))
}

/// The request the mock itself rejected (a 4xx other than 429 that no scenario fault sent) when
/// the client stopped with an error right after it. Stopping is then the right reaction to the
/// rejection, and the mistake that caused it is graded by the rule about that request
/// (`api-key-on-every-request`, `create-form-encoded`, …), so `client-completes` and
/// `outcome-matches` do not report the stop again.
pub(super) fn stopped_on_rejection(t: &Trace) -> Option<&Request> {
    let last = t.requests.iter().max_by_key(|r| (r.received, r.seq))?;
    let rejected = last.is_permanent_failure() && last.fault.effect.is_none();
    let stopped_with_error = match &t.client.end {
        ClientEnd::Exited { code } => {
            *code != Some(0)
                || t.client
                    .report
                    .as_ref()
                    .is_some_and(|r| r.validation_status.as_deref() == Some("error"))
        }
        _ => false,
    };
    (rejected && stopped_with_error).then_some(last)
}

/// A create whose outcome the client cannot know (README, "When a create's outcome is
/// unknown"): it got no response (reset, close, its own timeout) or a 5xx other than 503. The
/// service may have stored the validation. A 503 (and a 429) means it was not processed.
pub(super) fn is_ambiguous_create(r: &Request) -> bool {
    r.is_create() && (r.status == 0 || (r.status >= 500 && r.status != 503))
}

/// The ambiguous create the client stopped on, when it chose to stop rather than re-send: no
/// create was answered with a validation, the last create was ambiguous, nothing was polled,
/// and the client exited. That choice is graded by `create-not-resent-blindly` alone
/// (was it reported as the contract says?), so `client-completes` and `outcome-matches` do not
/// grade the stop again.
pub(super) fn stopped_on_ambiguous_create(t: &Trace) -> Option<&Request> {
    let last = t.requests.iter().rfind(|r| r.is_create())?;
    let exited = matches!(t.client.end, ClientEnd::Exited { .. });
    let answered = t.requests.iter().any(|r| r.is_create() && r.status == 200);
    let polled = t.requests.iter().any(|r| r.is_poll());
    (exited && !answered && !polled && is_ambiguous_create(last)).then_some(last)
}
