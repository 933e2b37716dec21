//! `timeout-expires`: a validation with `timeout=1` that nobody completes ends `failure`/`expired` with a documented expired reason.

use super::ctx::Ctx;
use super::id::ServerCheckId;

pub(crate) async fn timeout_expires(ctx: &mut Ctx<'_>, form: &str) {
    let acc = ctx.plan.account_id.clone();
    let result = match ctx.create(&format!("{form}&timeout=1")).await {
        Ok((id, _)) => ctx.watch(&id, &acc).await.and_then(|v| {
            let t = |k: &str| {
                v.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            match (
                t("validation_status").as_str(),
                t("failure_status").as_str(),
            ) {
                ("failure", "expired") => Ok(format!("failure/expired/{}", t("expired_reason"))),
                ("pending", _) => Ok(format!(
                    "still pending after {} (not seen expiring)",
                    humantime::format_duration(ctx.plan.watch)
                )),
                (s, f) => Err(format!("after its timeout: {s}/{f}, want failure/expired")),
            }
        }),
        Err(e) => Err(e),
    };
    ctx.record(ServerCheckId::TimeoutExpires, result);
}
