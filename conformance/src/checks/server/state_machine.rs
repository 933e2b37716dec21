//! `state-machine`: one validation followed: it may stay pending, then turns terminal once and stays there.

use std::time::Instant;

use super::ctx::Ctx;
use super::formats::check_validation_body;
use super::id::ServerCheckId;
use crate::http::Method;

pub(crate) async fn state_machine(ctx: &mut Ctx<'_>, path: &str, id: &str) {
    let plan = ctx.plan;
    let started = Instant::now();
    let mut history: Vec<String> = Vec::new();
    let result = loop {
        let r = match ctx.send(Method::GET, path, true, None, "").await {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        if r.status != 200 {
            break Err(format!(
                "poll answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
        }
        let status = match r
            .json()
            .ok_or_else(|| "the poll body is not JSON".to_string())
            .and_then(|v| check_validation_body(&v, Some(id), &plan.account_id))
        {
            Ok(s) => s,
            Err(e) => break Err(e),
        };
        if let Some(prev) = history.last()
            && prev != "pending"
            && *prev != status
        {
            break Err(format!(
                "a terminal validation changed: {prev} then {status}"
            ));
        }
        let terminal_twice = status != "pending" && history.last() == Some(&status);
        history.push(status);
        if terminal_twice {
            break Ok(format!("polled {}: {}", history.len(), history.join(" → ")));
        }
        if started.elapsed() >= plan.watch {
            break Ok(format!(
                "still pending after {} (valid, but the terminal state was not seen)",
                humantime::format_duration(plan.watch)
            ));
        }
        tokio::time::sleep(plan.interval).await;
    };
    ctx.record(ServerCheckId::StateMachine, result);
}
