//! `create-generates-account-id`: a create without account_id gets a generated `ACC` + 32 hex one.

use super::ctx::Ctx;
use super::id::ServerCheckId;

pub(crate) async fn create_generates_account_id(ctx: &mut Ctx<'_>) {
    let r = ctx.create("type=government&user_authorized=true").await;
    ctx.record(
        ServerCheckId::CreateGeneratesAccountId,
        r.and_then(|(_, v)| {
            let a = v
                .get("account_id")
                .and_then(|a| a.as_str())
                .unwrap_or_default();
            let hex = a.strip_prefix("ACC").unwrap_or_default();
            if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(format!("generated {a}"))
            } else {
                Err(format!("generated account_id `{a}` is not ACC + 32 hex"))
            }
        }),
    );
}
