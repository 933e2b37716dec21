//! Rule `poll-uses-validation-id`: Polls use the returned validation_id exactly.

use super::common::{over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn poll_uses_validation_id(t: &Trace) -> Vec<Finding> {
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
