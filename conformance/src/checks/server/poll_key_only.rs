//! `poll-key-only`: a poll carrying only the key header answers 200 with the validation.

use super::ctx::Ctx;
use super::formats::check_validation_body;
use super::id::ServerCheckId;
use crate::http::Method;

pub(crate) async fn poll_key_only(ctx: &mut Ctx<'_>, path: &str, id: &str) {
    let acc = ctx.plan.account_id.clone();
    let r = ctx.send(Method::GET, path, true, None, "").await;
    ctx.record(
        ServerCheckId::PollKeyOnly,
        r.and_then(|r| {
            if r.status != 200 {
                return Err(format!("status {}", r.status));
            }
            let v = r.json().ok_or("the body is not JSON")?;
            check_validation_body(&v, Some(id), &acc).map(|s| format!("200, {s}"))
        }),
    );
}
