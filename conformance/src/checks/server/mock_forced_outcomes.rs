//! `mock-forced-outcomes`: mock only: forces each kind of ending through `POST /_mock/validations/{id}/complete` and checks the poll's fields and reason codes. Skipped against any server whose `GET /_mock/health` does not answer like the mock's.

use super::ctx::Ctx;
use super::formats::check_validation_body;
use super::id::ServerCheckId;
use crate::http::Method;
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};

pub(crate) async fn mock_forced_outcomes(ctx: &mut Ctx<'_>, form: &str) {
    const ID: ServerCheckId = ServerCheckId::MockForcedOutcomes;
    const CLOSED: &str = "the control API answered 401: the mock has an admin token";
    let is_mock = ctx
        .send(Method::GET, "/_mock/health", false, None, "")
        .await
        .is_ok_and(|r| r.status == 200 && r.json().is_some_and(|v| v.get("validations").is_some()));
    if !is_mock {
        ctx.skip(ID, "not a truidentidad-mock (no /_mock/health)");
        return;
    }
    let acc = ctx.plan.account_id.clone();
    let mut seen = Vec::new();
    let mut result = Ok(());
    let endings = DECLINED_REASONS
        .iter()
        .map(|r| {
            format!(r#"{{"status":"failure","failure_status":"declined","declined_reason":"{r}"}}"#)
        })
        .chain(EXPIRED_REASONS.iter().map(|r| {
            format!(r#"{{"status":"failure","failure_status":"expired","expired_reason":"{r}"}}"#)
        }))
        .chain([r#"{"status":"failure","failure_status":"system_error"}"#.to_string()]);
    for ending in endings {
        let step = async {
            let (id, _) = ctx.create(form).await?;
            let r = ctx
                .send(
                    Method::POST,
                    &format!("/_mock/validations/{id}/complete"),
                    false,
                    Some("application/json"),
                    &ending,
                )
                .await?;
            if r.status == 401 {
                return Err(CLOSED.to_string());
            }
            let v = ctx.watch(&id, &acc).await?;
            check_validation_body(&v, Some(&id), &acc)
        };
        match step.await {
            Ok(_) => seen.push(()),
            Err(e) if e == CLOSED => {
                result = Err(e);
                break;
            }
            Err(e) => {
                result = Err(format!("{ending}: {e}"));
                break;
            }
        }
    }
    match result {
        Err(e) if e == CLOSED => ctx.skip(ID, &e),
        r => ctx.record(
            ID,
            r.map(|()| format!("{} endings forced and polled", seen.len())),
        ),
    }
}
