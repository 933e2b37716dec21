//! `poll-requires-key`: a poll without the key is refused with 401 and the envelope.

use super::ctx::Ctx;
use super::formats::check_envelope;
use super::id::ServerCheckId;
use crate::http::Method;

pub(crate) async fn poll_requires_key(ctx: &mut Ctx<'_>, path: &str) {
    let r = ctx.send(Method::GET, path, false, None, "").await;
    ctx.record(
        ServerCheckId::PollRequiresKey,
        r.and_then(|r| check_envelope(&r, 401)),
    );
}
