//! `create-rejects-json`: a JSON create body is refused with 400 and the envelope (Truora reads forms only).

use super::ctx::Ctx;
use super::formats::check_envelope;
use super::id::ServerCheckId;
use crate::http::Method;

pub(crate) async fn create_rejects_json(ctx: &mut Ctx<'_>) {
    let r = ctx
        .send(
            Method::POST,
            "/v1/validations",
            true,
            Some("application/json"),
            "{\"type\":\"government\"}",
        )
        .await;
    ctx.record(
        ServerCheckId::CreateRejectsJson,
        r.and_then(|r| check_envelope(&r, 400)),
    );
}
