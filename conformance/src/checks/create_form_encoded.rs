//! Rule `create-form-encoded`: Create is form-encoded.

use super::common::{is_form, over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn create_form_encoded(t: &Trace) -> Vec<Finding> {
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
