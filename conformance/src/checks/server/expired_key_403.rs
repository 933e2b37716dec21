//! `expired-key-403`: a key whose `exp` has passed gets 403 and the envelope (skipped unless the plan has such a key).

use super::ctx::Ctx;
use super::formats::check_envelope;
use super::id::ServerCheckId;
use super::unknown_id_404::unknown_path;
use crate::http::Method;

pub(crate) async fn expired_key_403(ctx: &mut Ctx<'_>) {
    let Some(key) = ctx.plan.expired_key.clone() else {
        ctx.skip(
            ServerCheckId::ExpiredKey403,
            "pass --expired-key with a key whose exp has passed",
        );
        return;
    };
    let r = ctx
        .send_with(Method::GET, &unknown_path(), Some(&key), None, "")
        .await;
    ctx.record(
        ServerCheckId::ExpiredKey403,
        r.and_then(|r| check_envelope(&r, 403)),
    );
}
