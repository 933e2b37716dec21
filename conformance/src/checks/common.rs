//! Helpers the checks share: wording (lists of requests, plurals) and the request sequences
//! whose pacing is graded.

use std::time::Duration;

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

/// `(previous, next, gap)` for consecutive requests of a sequence.
pub(super) fn gaps<'a>(seq: &[&'a Request]) -> Vec<(&'a Request, &'a Request, Duration)> {
    seq.windows(2)
        .map(|w| (w[0], w[1], w[1].received.saturating_sub(w[0].sent)))
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
