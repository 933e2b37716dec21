//! Rule `no-retry-unchanged-4xx`: A 4xx other than 429 is not retried unchanged.

use super::common::plural;
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn no_retry_unchanged_4xx(t: &Trace) -> Vec<Finding> {
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
