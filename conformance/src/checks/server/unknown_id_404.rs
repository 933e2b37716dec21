//! `unknown-id-404`: a poll of an id nobody created gets 404 and the envelope.

use super::ctx::Ctx;
use super::formats::check_envelope;
use super::id::ServerCheckId;
use crate::http::Method;

/// A well-formed validation id that no server hands out.
pub(crate) fn unknown_path() -> String {
    format!("/v1/validations/VLD{}", "0".repeat(32))
}

pub(crate) async fn unknown_id_404(ctx: &mut Ctx<'_>) {
    let r = ctx.send(Method::GET, &unknown_path(), true, None, "").await;
    ctx.record(
        ServerCheckId::UnknownId404,
        r.and_then(|r| check_envelope(&r, 404)),
    );
}
