//! `timeout-range`: both documented bounds of `timeout` (1 and 21600) are accepted.

use super::ctx::Ctx;
use super::id::ServerCheckId;

pub(crate) async fn timeout_range(ctx: &mut Ctx<'_>, form: &str) {
    let mut accepted = Vec::new();
    let mut result = Ok(());
    for t in [1, 21600] {
        match ctx.create(&format!("{form}&timeout={t}")).await {
            Ok(_) => accepted.push(t.to_string()),
            Err(e) => result = Err(format!("timeout={t}: {e}")),
        }
    }
    ctx.record(
        ServerCheckId::TimeoutRange,
        result.map(|()| format!("accepted timeout={}", accepted.join(", "))),
    );
}
