//! `create-requires-type`: a create without `type` is refused with 400 and the envelope.

use super::ctx::{Ctx, FORM};
use super::formats::check_envelope;
use super::id::ServerCheckId;
use crate::http::Method;

pub(crate) async fn create_requires_type(ctx: &mut Ctx<'_>) {
    let r = ctx
        .send(Method::POST, "/v1/validations", true, FORM, "account_id=x")
        .await;
    ctx.record(
        ServerCheckId::CreateRequiresType,
        r.and_then(|r| check_envelope(&r, 400)),
    );
}
