//! Rule `api-key-on-every-request`: Truora-API-Key on every request.

use truidentidad_mock_server::journal::KeyState;

use super::common::{over, plural};
use crate::trace::Trace;
use crate::verdict::Finding;

pub(super) fn api_key_on_every_request(t: &Trace) -> Vec<Finding> {
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
