//! Rule `create-not-resent-blindly`: Create is not re-sent blindly after an ambiguous failure.

use super::common::{at_least, plural};
use crate::trace::{Request, Trace, fmt_secs};
use crate::verdict::Finding;

pub(super) fn create_not_resent_blindly(t: &Trace) -> Vec<Finding> {
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
                    "{} re-sent the create only {} after the ambiguous failure of {}; {}",
                    next.label(),
                    fmt_secs(gap),
                    failed.label(),
                    at_least(t.settings.min_interval, t.settings.tolerance)
                ),
                vec![failed.seq, next.seq],
            ));
        }
    }
    out
}
