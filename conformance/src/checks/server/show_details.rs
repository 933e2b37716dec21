//! `show-details`: `show_details=true` adds a `details` object, and only when asked.

use super::ctx::Ctx;
use super::id::ServerCheckId;
use crate::http::{Method, Resp};

pub(crate) async fn show_details(ctx: &mut Ctx<'_>, path: &str) {
    let with = ctx
        .send(
            Method::GET,
            &format!("{path}?show_details=true"),
            true,
            None,
            "",
        )
        .await;
    let without = ctx.send(Method::GET, path, true, None, "").await;
    ctx.record(
        ServerCheckId::ShowDetails,
        with.and_then(|w| without.map(|wo| (w, wo)))
            .and_then(|(w, wo)| {
                let has = |r: &Resp| {
                    r.json()
                        .is_some_and(|v| v.get("details").is_some_and(|d| d.is_object()))
                };
                match (has(&w), has(&wo)) {
                    (true, false) => Ok("details only when asked".into()),
                    (a, b) => Err(format!("details with show_details=true: {a}; without: {b}")),
                }
            }),
    );
}
