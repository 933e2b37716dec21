//! `create-returns-validation`: a form-encoded create answers 200 with a well-formed pending validation. Returns the validation's id for the poll checks.

use super::ctx::Ctx;
use super::formats::check_validation_body;
use super::id::ServerCheckId;

pub(crate) async fn create_returns_validation(
    ctx: &mut Ctx<'_>,
    form: &str,
) -> Result<(String, serde_json::Value), String> {
    let acc = ctx.plan.account_id.clone();
    let created = ctx.create(form).await;
    ctx.record(
        ServerCheckId::CreateReturnsValidation,
        created.clone().and_then(|(id, v)| {
            match check_validation_body(&v, Some(&id), &acc)?.as_str() {
                "pending" => Ok(format!("200, {id} pending")),
                s => Err(format!("a new validation is `{s}`, want pending")),
            }
        }),
    );
    created
}
