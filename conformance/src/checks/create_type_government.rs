//! Rule `create-type-government`: Create sends type=government.

use super::common::{form_creates, over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn create_type_government(t: &Trace) -> Vec<Finding> {
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
