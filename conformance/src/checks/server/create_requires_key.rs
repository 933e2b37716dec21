//! `create-requires-key`: a create without the key is refused with 401 and Truora's envelope.

use super::ctx::{Ctx, FORM};
use super::formats::check_envelope;
use super::id::ServerCheckId;
use crate::http::Method;

pub(crate) async fn create_requires_key(ctx: &mut Ctx<'_>, form: &str) {
    let r = ctx
        .send(Method::POST, "/v1/validations", false, FORM, form)
        .await;
    ctx.record(
        ServerCheckId::CreateRequiresKey,
        r.and_then(|r| check_envelope(&r, 401)),
    );
}
