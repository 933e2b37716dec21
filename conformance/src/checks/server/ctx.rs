//! What every server check shares: the plan it runs under, the result it records, and the
//! requests it sends (with or without the key, form-encoded or not), so each check's file
//! holds only its own request and judgement.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::formats::check_validation_body;
use super::id::ServerCheckId;
use crate::http::{self, Method, Req, Resp};
use crate::server_facts::FactId;
use crate::verdict::Verdict;

/// What to check.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// Base URL without `/v1/validations`.
    pub base_url: String,
    pub api_key: String,
    /// account_id of the validation created for the checks.
    pub account_id: String,
    /// How long to follow the validation waiting for a terminal state.
    pub watch: Duration,
    /// Wait between polls while watching.
    pub interval: Duration,
    pub request_timeout: Duration,
    /// A key whose `exp` has passed, for the expired-key check (skipped without one).
    pub expired_key: Option<String>,
}

/// One server check's result.
#[derive(Debug, Clone, Serialize)]
pub struct ServerCheck {
    /// The check, typed; [`ServerCheck::id`] is its printed name.
    #[serde(skip)]
    pub check: ServerCheckId,
    /// `check.as_str()`: the id the report prints and the JSON carries.
    pub id: &'static str,
    pub title: &'static str,
    /// The facts this check covers (typed: a check cannot name a fact that does not exist).
    pub covers: &'static [FactId],
    pub verdict: Verdict,
    pub detail: String,
}

/// The running checks' state: the plan, and the results so far, in order.
pub(crate) struct Ctx<'a> {
    pub(crate) plan: &'a ServerPlan,
    pub(crate) checks: Vec<ServerCheck>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(plan: &'a ServerPlan) -> Self {
        Ctx {
            plan,
            checks: Vec::new(),
        }
    }

    /// Records `check`'s result: passed with what was seen, or failed with what was wrong.
    pub(crate) fn record(&mut self, check: ServerCheckId, result: Result<String, String>) {
        let (verdict, detail) = match result {
            Ok(d) => (Verdict::Passed, d),
            Err(d) => (Verdict::Failed, d),
        };
        self.push(check, verdict, detail);
    }

    /// Records `check` as skipped, and why (it then covers no fact).
    pub(crate) fn skip(&mut self, check: ServerCheckId, why: &str) {
        self.push(check, Verdict::Skipped, why.to_string());
    }

    fn push(&mut self, check: ServerCheckId, verdict: Verdict, detail: String) {
        self.checks.push(ServerCheck {
            check,
            id: check.as_str(),
            title: check.title(),
            covers: check.covers(),
            verdict,
            detail,
        });
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        key: bool,
        ct: Option<&str>,
        body: &str,
    ) -> Result<Resp, String> {
        let key = key.then(|| self.plan.api_key.clone());
        self.send_with(method, path, key.as_deref(), ct, body).await
    }

    pub(crate) async fn send_with(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        ct: Option<&str>,
        body: &str,
    ) -> Result<Resp, String> {
        let mut headers = Vec::new();
        if let Some(key) = key {
            headers.push(("Truora-API-Key".to_string(), key.to_string()));
        }
        if let Some(ct) = ct {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        let req = Req {
            method: method.clone(),
            url: format!("{}{path}", self.plan.base_url.trim_end_matches('/')),
            headers,
            body: body.as_bytes().to_vec(),
        };
        http::send(req, self.plan.request_timeout)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))
    }

    /// Creates a validation; its id and body, or why not.
    pub(crate) async fn create(&self, form: &str) -> Result<(String, serde_json::Value), String> {
        let r = self
            .send(Method::POST, "/v1/validations", true, FORM, form)
            .await?;
        if r.status != 200 {
            return Err(format!(
                "create answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
        }
        let v = r.json().ok_or("the create body is not JSON")?;
        let id = v
            .get("validation_id")
            .and_then(|x| x.as_str())
            .ok_or("the create body has no validation_id")?
            .to_string();
        Ok((id, v))
    }

    /// Polls `id` until it is terminal or `watch` passes; the last body.
    pub(crate) async fn watch(
        &self,
        id: &str,
        account_id: &str,
    ) -> Result<serde_json::Value, String> {
        let started = Instant::now();
        loop {
            let r = self
                .send(
                    Method::GET,
                    &format!("/v1/validations/{id}"),
                    true,
                    None,
                    "",
                )
                .await?;
            if r.status != 200 {
                return Err(format!("poll answered {}", r.status));
            }
            let v = r.json().ok_or("the poll body is not JSON")?;
            let status = check_validation_body(&v, Some(id), account_id)?;
            if status != "pending" || started.elapsed() >= self.plan.watch {
                return Ok(v);
            }
            tokio::time::sleep(self.plan.interval).await;
        }
    }
}

/// The create's content type.
pub(crate) const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
