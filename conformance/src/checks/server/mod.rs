//! The server checks of `conformance server`, one file per check as the client checks are;
//! [`ServerCheckId`] names them, [`FactId`](crate::server_facts::FactId) names the facts each
//! covers, and [`run_checks`] runs them in the report's order. Checks that need the mock's
//! control API say so in their id (`mock-…`) and skip against any other server.

mod ctx;
mod formats;
mod id;

mod create_generates_account_id;
mod create_rejects_json;
mod create_requires_key;
mod create_requires_type;
mod create_returns_validation;
mod expired_key_403;
mod mock_forced_outcomes;
mod poll_key_only;
mod poll_requires_key;
mod show_details;
mod state_machine;
mod timeout_expires;
mod timeout_range;
mod unknown_id_404;

pub use ctx::{ServerCheck, ServerPlan};
pub use formats::{check_envelope, check_validation_body, is_truora_date, is_validation_id};
pub use id::ServerCheckId;

use create_generates_account_id::create_generates_account_id;
use create_rejects_json::create_rejects_json;
use create_requires_key::create_requires_key;
use create_requires_type::create_requires_type;
use create_returns_validation::create_returns_validation;
use ctx::Ctx;
use expired_key_403::expired_key_403;
use mock_forced_outcomes::mock_forced_outcomes;
use poll_key_only::poll_key_only;
use poll_requires_key::poll_requires_key;
use show_details::show_details;
use state_machine::state_machine;
use timeout_expires::timeout_expires;
use timeout_range::timeout_range;
use unknown_id_404::unknown_id_404;

/// Runs every check against `plan.base_url`, in [`ServerCheckId::ALL`]'s order. The poll
/// checks need the validation the create check made; without one they are skipped, saying so.
pub async fn run_checks(plan: &ServerPlan) -> Vec<ServerCheck> {
    let mut ctx = Ctx::new(plan);
    let form = format!(
        "type=government&account_id={}&user_authorized=true",
        plan.account_id
    );
    create_requires_key(&mut ctx, &form).await;
    let created = create_returns_validation(&mut ctx, &form).await;
    create_generates_account_id(&mut ctx).await;
    create_rejects_json(&mut ctx).await;
    create_requires_type(&mut ctx).await;
    timeout_range(&mut ctx, &form).await;
    unknown_id_404(&mut ctx).await;
    expired_key_403(&mut ctx).await;
    timeout_expires(&mut ctx, &form).await;
    match created {
        Ok((id, _)) => {
            let path = format!("/v1/validations/{id}");
            poll_requires_key(&mut ctx, &path).await;
            poll_key_only(&mut ctx, &path, &id).await;
            show_details(&mut ctx, &path).await;
            state_machine(&mut ctx, &path, &id).await;
        }
        Err(_) => {
            for check in [
                ServerCheckId::PollRequiresKey,
                ServerCheckId::PollKeyOnly,
                ServerCheckId::ShowDetails,
                ServerCheckId::StateMachine,
            ] {
                ctx.skip(check, "no validation was created");
            }
        }
    }
    mock_forced_outcomes(&mut ctx, &form).await;
    ctx.checks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's ids are distinct, so a finding leads to exactly one check's file.
    #[test]
    fn server_check_ids_are_distinct() {
        let mut ids: Vec<&str> = ServerCheckId::ALL.iter().map(|c| c.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ServerCheckId::ALL.len());
    }
}
