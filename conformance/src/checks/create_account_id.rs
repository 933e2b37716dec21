//! Rule `create-account-id`: Create sends the given account_id.

use super::common::{form_creates, over, plural};
use crate::trace::{Request, Trace};
use crate::verdict::Finding;

pub(super) fn create_account_id(t: &Trace) -> Vec<Finding> {
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
