//! Rule `user-authorized`: Create sends user_authorized=true.

use super::common::{form_creates, over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn user_authorized(t: &Trace) -> Vec<Finding> {
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
