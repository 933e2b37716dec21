//! The checks: one small function per rule, each over a [`Trace`], each returning findings.
//!
//! A check finds nothing when its trigger is absent (no 429, no stall), so every check runs on
//! every case and the catalogue decides only wording and severity. Checks compare server-side
//! instants: a gap is "next request received − previous response sent", which the client's own
//! clock cannot shorten.

use std::time::Duration;

use truidentidad_mock_server::journal::KeyState;
use truidentidad_scenarios::model::{ConnectionFault, FaultAction};

use crate::client::ClientEnd;
use crate::trace::{Request, Seen, Trace, fmt_secs};
use crate::verdict::Finding;

pub type Check = fn(&Trace) -> Vec<Finding>;

const CHECKS: &[(&str, Check)] = &[
    ("client_completes", client_completes),
    ("api_key_on_every_request", api_key_on_every_request),
    ("create_form_encoded", create_form_encoded),
    ("create_type_government", create_type_government),
    ("create_account_id", create_account_id),
    ("user_authorized", user_authorized),
    ("poll_uses_validation_id", poll_uses_validation_id),
    ("min_poll_interval", min_poll_interval),
    ("honour_retry_after", honour_retry_after),
    ("slow_down_persists", slow_down_persists),
    ("backoff_on_errors", backoff_on_errors),
    ("jitter", jitter),
    ("one_poll_in_flight", one_poll_in_flight),
    ("retries_capped", retries_capped),
    ("no_retry_unchanged_4xx", no_retry_unchanged_4xx),
    ("create_not_resent_blindly", create_not_resent_blindly),
    ("stop_after_terminal", stop_after_terminal),
    ("give_up_by_deadline", give_up_by_deadline),
    ("abort_stalled_request", abort_stalled_request),
    ("outcome_matches", outcome_matches),
];

pub fn lookup(name: &str) -> Option<Check> {
    CHECKS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

pub fn names() -> Vec<&'static str> {
    CHECKS.iter().map(|(n, _)| *n).collect()
}

/// At most this many requests are spelled out in one message.
const LISTED: usize = 3;

/// `#3 GET … at t=1.2s, #4 …` and `(and N more)`.
fn list(reqs: &[&Request]) -> String {
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

fn seqs(reqs: &[&Request]) -> Vec<u64> {
    reqs.iter().map(|r| r.seq).collect()
}

/// One finding over a set of offending requests, or none.
fn over(reqs: Vec<&Request>, what: impl FnOnce(usize) -> String) -> Vec<Finding> {
    if reqs.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        format!("{}: {}", what(reqs.len()), list(&reqs)),
        seqs(&reqs),
    )]
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The sequences whose pacing is graded: each validation's create and polls.
fn sequences(t: &Trace) -> Vec<Vec<&Request>> {
    t.validation_ids()
        .into_iter()
        .map(|id| t.timeline(id))
        .collect()
}

/// `(previous, next, gap)` for consecutive requests of a sequence.
fn gaps<'a>(seq: &[&'a Request]) -> Vec<(&'a Request, &'a Request, Duration)> {
    seq.windows(2)
        .map(|w| (w[0], w[1], w[1].received.saturating_sub(w[0].sent)))
        .collect()
}

fn client_completes(t: &Trace) -> Vec<Finding> {
    let c = &t.client;
    let limit = fmt_secs(c.ended.saturating_sub(c.started));
    let stderr = if c.stderr_tail.is_empty() {
        String::new()
    } else {
        format!(
            "; its stderr ends with: {}",
            c.stderr_tail.lines().last().unwrap_or("")
        )
    };
    match &c.end {
        ClientEnd::Unreachable { .. } => Vec::new(),
        ClientEnd::Killed => vec![Finding::new(
            format!("the client was still running after {limit} (the case limit) and was killed"),
            vec![],
        )],
        ClientEnd::Exited { .. } if t.case.expect.validation_status == "error" => Vec::new(),
        ClientEnd::Exited { code } if *code != Some(0) => {
            let code = code.map_or("a signal".to_string(), |c| format!("code {c}"));
            vec![Finding::new(
                format!("the client exited with {code} instead of 0{stderr}"),
                vec![],
            )]
        }
        ClientEnd::Exited { .. } => match (&c.report, &c.report_error) {
            (_, Some(e)) => vec![Finding::new(e.clone(), vec![])],
            (Some(r), None) if r.validation_id.is_none() || r.validation_status.is_none() => {
                vec![Finding::new(
                    "the result line lacks `validation_id` or `validation_status`",
                    vec![],
                )]
            }
            _ => Vec::new(),
        },
    }
}

fn api_key_on_every_request(t: &Trace) -> Vec<Finding> {
    let mut out = over(
        t.requests
            .iter()
            .filter(|r| r.api_key == KeyState::Missing)
            .collect(),
        |n| {
            format!(
                "{} sent without a Truora-API-Key header",
                plural(n, "request", "requests")
            )
        },
    );
    if t.case.api_key.is_none() {
        out.extend(over(
            t.requests
                .iter()
                .filter(|r| r.api_key == KeyState::Rejected)
                .collect(),
            |n| {
                format!(
                    "{} sent a key other than TRUORA_API_KEY",
                    plural(n, "request", "requests")
                )
            },
        ));
    }
    out
}

fn is_form(ct: Option<&str>) -> bool {
    ct.and_then(|c| c.split(';').next()).is_some_and(|e| {
        e.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

fn create_form_encoded(t: &Trace) -> Vec<Finding> {
    let bad: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| r.is_create() && !is_form(r.content_type.as_deref()))
        .collect();
    let cts: Vec<String> = bad
        .iter()
        .map(|r| {
            r.content_type
                .clone()
                .unwrap_or_else(|| "no Content-Type".into())
        })
        .collect();
    over(bad, |n| {
        format!(
            "{} not form-encoded ({})",
            plural(n, "create was", "creates were"),
            cts.first().map(String::as_str).unwrap_or("")
        )
    })
}

/// Creates the mock could read: right content type and a parsed form, or a 400 on the form.
fn form_creates(t: &Trace) -> impl Iterator<Item = &Request> {
    t.requests
        .iter()
        .filter(|r| r.is_create() && is_form(r.content_type.as_deref()))
}

fn create_type_government(t: &Trace) -> Vec<Finding> {
    let unread: Vec<&Request> = form_creates(t)
        .filter(|r| r.form.is_empty() && r.status == 400)
        .collect();
    let wrong: Vec<&Request> = form_creates(t)
        .filter(|r| !r.form.is_empty() && r.form_value("type") != Some("government"))
        .collect();
    let mut out = over(wrong, |n| {
        format!("{} without type=government", plural(n, "create", "creates"))
    });
    out.extend(over(unread, |n| {
        format!(
            "{} rejected with 400 before its fields were read (type=government missing, or another field invalid)",
            plural(n, "create was", "creates were")
        )
    }));
    out
}

fn create_account_id(t: &Trace) -> Vec<Finding> {
    let want = t.account_id.as_str();
    let bad: Vec<&Request> = form_creates(t)
        .filter(|r| !r.form.is_empty() && r.form_value("account_id") != Some(want))
        .collect();
    let got = bad
        .first()
        .map(|r| {
            r.form_value("account_id")
                .map_or("no account_id".to_string(), |a| format!("account_id `{a}`"))
        })
        .unwrap_or_default();
    over(bad, |n| {
        format!(
            "{} sent {got} instead of TRUORA_ACCOUNT_ID `{want}`",
            plural(n, "create", "creates")
        )
    })
}

fn user_authorized(t: &Trace) -> Vec<Finding> {
    let bad: Vec<&Request> = form_creates(t)
        .filter(|r| !r.form.is_empty() && r.form_value("user_authorized") != Some("true"))
        .collect();
    over(bad, |n| {
        format!(
            "{} without user_authorized=true",
            plural(n, "create", "creates")
        )
    })
}

fn poll_uses_validation_id(t: &Trace) -> Vec<Finding> {
    let created = t.created_ids();
    let bad: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| r.is_poll())
        .filter(|r| {
            r.validation_id
                .as_deref()
                .is_none_or(|id| !created.contains(&id))
        })
        .collect();
    over(bad, |n| {
        format!(
            "{} for an id no create returned (created: {})",
            plural(n, "poll", "polls"),
            if created.is_empty() {
                "none".to_string()
            } else {
                created.join(", ")
            }
        )
    })
}

fn min_poll_interval(t: &Trace) -> Vec<Finding> {
    let min = t.settings.min_interval;
    let floor = min.saturating_sub(t.settings.tolerance);
    let mut bad: Vec<(&Request, Duration)> = Vec::new();
    for seq in sequences(t) {
        for (_, next, gap) in gaps(&seq) {
            if next.is_poll() && gap < floor {
                bad.push((next, gap));
            }
        }
    }
    if bad.is_empty() {
        return Vec::new();
    }
    let shortest = bad.iter().map(|(_, g)| *g).min().unwrap_or_default();
    let reqs: Vec<&Request> = bad.iter().map(|(r, _)| *r).collect();
    vec![Finding::new(
        format!(
            "{} sooner than {} after the previous response (shortest wait {}): {}",
            plural(reqs.len(), "poll came", "polls came"),
            fmt_secs(min),
            fmt_secs(shortest),
            list(&reqs)
        ),
        seqs(&reqs),
    )]
}

/// All graded sequences: each validation's timeline, plus the creates in order.
fn paced_sequences(t: &Trace) -> Vec<Vec<&Request>> {
    let mut all = sequences(t);
    all.push(t.requests.iter().filter(|r| r.is_create()).collect());
    all
}

fn honour_retry_after(t: &Trace) -> Vec<Finding> {
    let tol = t.settings.tolerance;
    let mut out = Vec::new();
    for seq in paced_sequences(t) {
        for (prev, next, gap) in gaps(&seq) {
            let Some(ra) = prev.retry_after else { continue };
            if next.kind == prev.kind && gap + tol < ra {
                out.push(Finding::new(
                    format!(
                        "{} came {} after a {} with Retry-After: {} ({})",
                        next.label(),
                        fmt_secs(gap),
                        prev.status,
                        ra.as_secs(),
                        prev.label()
                    ),
                    vec![prev.seq, next.seq],
                ));
            }
        }
    }
    out
}

fn slow_down_persists(t: &Trace) -> Vec<Finding> {
    let tol = t.settings.tolerance;
    let mut out = Vec::new();
    for seq in sequences(t) {
        let mut floor: Option<(Duration, &Request)> = None;
        for (prev, next, gap) in gaps(&seq) {
            // The wait right after the signal is honour-retry-after's; this rule is about later ones.
            if let Some((ra, signal)) = floor
                && signal.seq != prev.seq
                && gap + tol < ra
            {
                out.push(Finding::new(
                    format!(
                        "{} came {} after the previous response, but {} asked for at least {}",
                        next.label(),
                        fmt_secs(gap),
                        signal.label(),
                        fmt_secs(ra)
                    ),
                    vec![signal.seq, next.seq],
                ));
                break;
            }
            if let Some(ra) = prev.retry_after
                && floor.is_none_or(|(f, _)| ra > f)
            {
                floor = Some((ra, prev));
            }
        }
    }
    out
}

/// Runs of consecutive failures without a Retry-After, as the waits that followed each.
fn error_runs<'a>(seq: &[&'a Request]) -> Vec<Vec<(&'a Request, &'a Request, Duration)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (prev, next, gap) in gaps(seq) {
        if prev.is_retryable_failure() && prev.retry_after.is_none() {
            cur.push((prev, next, gap));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

fn backoff_on_errors(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for seq in sequences(t) {
        for run in error_runs(&seq) {
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            // A wait held constant still varies by a few milliseconds of scheduling, so
            // "grew" means by a clear margin: the last wait at least a quarter longer than
            // the first. (Comparing them exactly made a fixed-wait client pass about half
            // the time.) Any real back-off (doubling, even with jitter) clears it easily.
            if run.len() >= 2 && last.2 < first.2 + first.2 / 4 {
                let waits: Vec<String> = run.iter().map(|(_, _, g)| fmt_secs(*g)).collect();
                out.push(Finding::new(
                    format!(
                        "after {} in a row the waits did not grow ({}), from {} on",
                        plural(run.len(), "error", "errors"),
                        waits.join(", "),
                        first.0.label()
                    ),
                    run.iter().map(|(_, n, _)| n.seq).collect(),
                ));
            }
        }
    }
    out
}

/// A wait at most this much past a multiple of half a second counts as "on the grid": an
/// unjittered client's waits land just past the grid point, by its own request overhead.
const GRID_OVERSHOOT: Duration = Duration::from_millis(80);
/// Fewer unhinted waits than this are not enough to judge.
const JITTER_MIN_WAITS: usize = 3;

/// Whether `d` lies at most [`GRID_OVERSHOOT`] past a multiple of 0.5 s.
pub fn on_half_second_grid(d: Duration) -> bool {
    (d.as_millis() % 500) as u64 <= GRID_OVERSHOOT.as_millis() as u64
}

fn jitter(t: &Trace) -> Vec<Finding> {
    let mut waits: Vec<(&Request, Duration)> = Vec::new();
    for seq in sequences(t) {
        for (prev, next, gap) in gaps(&seq) {
            if prev.retry_after.is_none() && gap >= Duration::from_millis(400) {
                waits.push((next, gap));
            }
        }
    }
    if waits.len() < JITTER_MIN_WAITS || !waits.iter().all(|(_, g)| on_half_second_grid(*g)) {
        return Vec::new();
    }
    let shown: Vec<String> = waits.iter().map(|(_, g)| fmt_secs(*g)).collect();
    vec![Finding::new(
        format!(
            "every wait without a server hint was a whole or half second ({}): clients started together would poll in lockstep",
            shown.join(", ")
        ),
        waits.iter().map(|(r, _)| r.seq).collect(),
    )]
}

fn one_poll_in_flight(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in t.validation_ids() {
        let mut polls: Vec<&Request> = t.timeline(id).into_iter().filter(|r| r.is_poll()).collect();
        polls.sort_by_key(|r| r.received);
        let overlapping: Vec<&Request> = polls
            .windows(2)
            .filter(|w| w[1].received < w[0].sent)
            .map(|w| w[1])
            .collect();
        out.extend(over(overlapping, |n| {
            format!(
                "{} sent while an earlier poll of {id} was still unanswered",
                plural(n, "poll was", "polls were")
            )
        }));
    }
    out
}

fn retries_capped(t: &Trace) -> Vec<Finding> {
    let cap = t.settings.max_retries as usize + 1;
    let mut out = Vec::new();
    for seq in paced_sequences(t) {
        let mut run: Vec<&Request> = Vec::new();
        let mut worst: Vec<&Request> = Vec::new();
        for r in &seq {
            if r.is_retryable_failure() {
                run.push(r);
                if run.len() > worst.len() {
                    worst = run.clone();
                }
            } else {
                run.clear();
            }
        }
        if worst.len() > cap {
            out.push(Finding::new(
                format!(
                    "{} failed requests in a row (at most {} allowed: 1 + --max-retries {}), from {} to {}",
                    worst.len(),
                    cap,
                    t.settings.max_retries,
                    worst[0].label(),
                    worst[worst.len() - 1].label()
                ),
                seqs(&worst),
            ));
        }
    }
    out
}

fn no_retry_unchanged_4xx(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, r) in t.requests.iter().enumerate() {
        if !r.is_permanent_failure() {
            continue;
        }
        let repeats: Vec<&Request> = t.requests[i + 1..]
            .iter()
            .filter(|n| {
                n.method == r.method
                    && n.path == r.path
                    && n.form == r.form
                    && n.api_key == r.api_key
                    && n.content_type == r.content_type
            })
            .collect();
        if let Some(first) = repeats.first() {
            out.push(Finding::new(
                format!(
                    "{} got {} and was sent again unchanged {} ({})",
                    r.label(),
                    r.status,
                    plural(repeats.len(), "time", "times"),
                    first.label()
                ),
                std::iter::once(r.seq)
                    .chain(repeats.iter().map(|x| x.seq))
                    .collect(),
            ));
            break;
        }
    }
    out
}

fn create_not_resent_blindly(t: &Trace) -> Vec<Finding> {
    let creates: Vec<&Request> = t.requests.iter().filter(|r| r.is_create()).collect();
    let Some(pos) = creates
        .iter()
        .position(|r| r.status == 0 || r.status >= 500)
    else {
        return Vec::new();
    };
    let failed = creates[pos];
    let resent = &creates[pos + 1..];
    let mut out = Vec::new();
    if resent.len() > 1 {
        out.push(Finding::new(
            format!(
                "after the ambiguous failure of {} the create was re-sent {} (each may create another validation)",
                failed.label(),
                plural(resent.len(), "time", "times")
            ),
            resent.iter().map(|r| r.seq).collect(),
        ));
    }
    if let Some(next) = resent.first() {
        let gap = next.received.saturating_sub(failed.sent);
        if gap + t.settings.tolerance < t.settings.min_interval {
            out.push(Finding::new(
                format!(
                    "{} re-sent the create only {} after the ambiguous failure of {}",
                    next.label(),
                    fmt_secs(gap),
                    failed.label()
                ),
                vec![failed.seq, next.seq],
            ));
        }
    }
    out
}

fn stop_after_terminal(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in t.validation_ids() {
        let timeline = t.timeline(id);
        let Some(pos) = timeline
            .iter()
            .position(|r| matches!(r.seen, Seen::Terminal { .. }))
        else {
            continue;
        };
        let end = timeline[pos];
        let after: Vec<&Request> = timeline[pos + 1..].to_vec();
        if let (
            Some(first),
            Seen::Terminal {
                validation_status, ..
            },
        ) = (after.first(), &end.seen)
        {
            out.push(Finding::new(
                format!(
                    "{} more {} after {} returned {validation_status}; the first came {} later: {}",
                    after.len(),
                    if after.len() == 1 {
                        "request"
                    } else {
                        "requests"
                    },
                    end.label(),
                    fmt_secs(first.received.saturating_sub(end.sent)),
                    list(&after)
                ),
                std::iter::once(end.seq)
                    .chain(after.iter().map(|r| r.seq))
                    .collect(),
            ));
        }
    }
    out
}

fn give_up_by_deadline(t: &Trace) -> Vec<Finding> {
    if t.case.expect.validation_status != "pending" {
        return Vec::new();
    }
    let limit = t.settings.deadline + t.settings.deadline_slack;
    if t.client.end == ClientEnd::Killed {
        return vec![Finding::new(
            format!(
                "the client never gave up: it was still running at the case limit, {} after it started (deadline {})",
                fmt_secs(t.client.ended.saturating_sub(t.client.started)),
                fmt_secs(t.settings.deadline)
            ),
            vec![],
        )];
    }
    // Measured from the client's first request, not its process start: interpreter start-up on
    // a loaded machine is not the client's polling.
    let start = t.requests.first().map_or(t.client.started, |r| r.received);
    let late: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| r.received.saturating_sub(start) > limit)
        .collect();
    over(late, |n| {
        format!(
            "{} after the deadline of {} (+{} slack) from the client's first request",
            plural(n, "request came", "requests came"),
            fmt_secs(t.settings.deadline),
            fmt_secs(t.settings.deadline_slack)
        )
    })
}

fn stalls(t: &Trace) -> bool {
    t.scenario
        .faults
        .iter()
        .any(|f| matches!(f.action, FaultAction::Connection(ConnectionFault::Stall(_))))
}

fn abort_stalled_request(t: &Trace) -> Vec<Finding> {
    if !stalls(t) {
        return Vec::new();
    }
    let polled = t.requests.iter().any(|r| r.is_poll());
    if t.client.end == ClientEnd::Killed {
        let msg = if polled {
            "the client was killed at the case limit while waiting on a request the mock never answered"
        } else {
            "the client never got past the stalled poll: it was still waiting when killed at the case limit"
        };
        return vec![Finding::new(
            format!(
                "{msg}; give every request a timeout of at most {}",
                fmt_secs(t.settings.request_timeout_limit)
            ),
            vec![],
        )];
    }
    if !polled {
        return vec![Finding::new(
            "after the stalled poll the client never polled again (the stall is not in the journal: the mock is still holding it)",
            vec![],
        )];
    }
    // The mock journals a request the client abandoned when the client closes the socket, so
    // `sent - received` is how long the client waited before giving up.
    let limit = t.settings.request_timeout_limit;
    let slow: Vec<&Request> = t
        .requests
        .iter()
        .filter(|r| {
            r.fault.as_deref().is_some_and(|f| f.contains("stall"))
                && r.sent.saturating_sub(r.received) > limit
        })
        .collect();
    slow.iter()
        .map(|r| {
            Finding::new(
                format!(
                    "the client waited {} on a request the mock never answered before giving up; abort requests after at most {}",
                    fmt_secs(r.sent.saturating_sub(r.received)),
                    fmt_secs(t.settings.request_timeout_limit)
                ),
                vec![r.seq],
            )
        })
        .collect()
}

fn outcome_matches(t: &Trace) -> Vec<Finding> {
    let want = &t.case.expect;
    if want.validation_status == "error" {
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
    if got_status != want.validation_status
        || (want.validation_status != "pending" && got_failure != want_failure)
    {
        let show = |s: &str, f: Option<&str>| match f {
            Some(f) => format!("{s}/{f}"),
            None => s.to_string(),
        };
        out.push(Finding::new(
            format!(
                "the client reported {} but the validation ended {}",
                show(got_status, got_failure),
                if want.validation_status == "pending" {
                    "still pending (the client should give up and report pending)".to_string()
                } else {
                    show(&want.validation_status, want_failure)
                }
            ),
            vec![],
        ));
    }
    out
}

#[cfg(test)]
mod tests;
