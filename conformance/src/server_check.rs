//! `conformance server`: checks a TruIdentidad server's answers (status codes, the error
//! envelope, field formats, the pending → terminal state machine) with the same rules an
//! integrator relies on, so the mock's fidelity is graded the way the real sandbox would be.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::http::{self, Method, Req, Resp};
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
}

/// One server check's result.
#[derive(Debug, Clone, Serialize)]
pub struct ServerCheck {
    pub id: &'static str,
    pub title: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub base_url: String,
    pub checks: Vec<ServerCheck>,
}

impl ServerReport {
    pub fn passed(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Failed | Verdict::Interrupted))
    }

    pub fn render(&self) -> String {
        let mut s = format!("TruIdentidad server conformance: {}\n\n", self.base_url);
        for c in &self.checks {
            s.push_str(&format!(
                "  {:11}  {:28}  {}\n",
                c.verdict.as_str(),
                c.id,
                c.detail
            ));
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.verdict == Verdict::Failed)
            .count();
        s.push_str(&format!(
            "\n{}: {} checks, {} failed\n",
            if self.passed() {
                "RESULT PASSED"
            } else {
                "RESULT FAILED"
            },
            self.checks.len(),
            failed
        ));
        s
    }
}

struct Ctx<'a> {
    plan: &'a ServerPlan,
    checks: Vec<ServerCheck>,
}

impl Ctx<'_> {
    fn record(&mut self, id: &'static str, title: &'static str, result: Result<String, String>) {
        let (verdict, detail) = match result {
            Ok(d) => (Verdict::Passed, d),
            Err(d) => (Verdict::Failed, d),
        };
        self.checks.push(ServerCheck {
            id,
            title,
            verdict,
            detail,
        });
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        key: bool,
        ct: Option<&str>,
        body: &str,
    ) -> Result<Resp, String> {
        let mut headers = Vec::new();
        if key {
            headers.push(("Truora-API-Key".to_string(), self.plan.api_key.clone()));
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
}

/// The error envelope `{"code", "http_code", "message"}` with `http_code` equal to the status.
pub fn check_envelope(resp: &Resp, want_status: u16) -> Result<String, String> {
    if resp.status != want_status {
        return Err(format!(
            "status {} (want {want_status}): {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        ));
    }
    let v = resp
        .json()
        .ok_or_else(|| format!("the {want_status} body is not JSON"))?;
    let code_ok = v.get("code").is_some_and(|c| c.is_u64());
    let http_ok = v.get("http_code").and_then(|c| c.as_u64()) == Some(u64::from(want_status));
    let msg_ok = v
        .get("message")
        .is_some_and(|m| m.as_str().is_some_and(|s| !s.is_empty()));
    if code_ok && http_ok && msg_ok {
        Ok(format!("{want_status} with {{code, http_code, message}}"))
    } else {
        Err(format!(
            "the {want_status} body is not the error envelope {{code, http_code: {want_status}, message}}: {v}"
        ))
    }
}

/// `VLD` followed by 32 lowercase hex digits.
pub fn is_validation_id(s: &str) -> bool {
    s.strip_prefix("VLD").is_some_and(|h| {
        h.len() == 32
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Field formats of a validation body; returns its `validation_status`.
pub fn check_validation_body(
    v: &serde_json::Value,
    id: Option<&str>,
    account_id: &str,
) -> Result<String, String> {
    let text = |k: &str| v.get(k).and_then(|x| x.as_str());
    let vid = text("validation_id").ok_or("no validation_id")?;
    if !is_validation_id(vid) {
        return Err(format!("validation_id `{vid}` is not VLD + 32 hex digits"));
    }
    if let Some(id) = id
        && vid != id
    {
        return Err(format!(
            "validation_id `{vid}` differs from the requested `{id}`"
        ));
    }
    if text("type") != Some("government") {
        return Err(format!("type is {:?}, want government", text("type")));
    }
    if text("account_id") != Some(account_id) {
        return Err(format!(
            "account_id is {:?}, want `{account_id}`",
            text("account_id")
        ));
    }
    let date = text("creation_date").ok_or("no creation_date")?;
    if humantime::parse_rfc3339(date).is_err() {
        return Err(format!("creation_date `{date}` is not RFC 3339"));
    }
    let status = text("validation_status").ok_or("no validation_status")?;
    match status {
        "pending" | "success" => {}
        "failure" => match text("failure_status") {
            Some("declined") if text("declined_reason").is_none() => {
                return Err("failure/declined without declined_reason".into());
            }
            Some("expired") if text("expired_reason").is_none() => {
                return Err("failure/expired without expired_reason".into());
            }
            Some("declined" | "expired" | "system_error") => {}
            other => {
                return Err(format!(
                    "failure_status {other:?} is not declined, expired or system_error"
                ));
            }
        },
        other => {
            return Err(format!(
                "validation_status `{other}` is not pending, success or failure"
            ));
        }
    }
    Ok(status.to_string())
}

pub async fn run(plan: &ServerPlan) -> ServerReport {
    let mut ctx = Ctx {
        plan,
        checks: Vec::new(),
    };
    let form = format!(
        "type=government&account_id={}&user_authorized=true",
        plan.account_id
    );
    let form_ct = Some("application/x-www-form-urlencoded");

    let r = ctx
        .send(Method::POST, "/v1/validations", false, form_ct, &form)
        .await;
    ctx.record(
        "create-requires-key",
        "A create without Truora-API-Key gets 401",
        r.and_then(|r| check_envelope(&r, 401)),
    );

    let created = ctx
        .send(Method::POST, "/v1/validations", true, form_ct, &form)
        .await;
    let id = match &created {
        Ok(r) if r.status == 200 => match r.json() {
            Some(v) => {
                let res = check_validation_body(&v, None, &plan.account_id);
                let id = v
                    .get("validation_id")
                    .and_then(|x| x.as_str())
                    .map(str::to_string);
                ctx.record(
                    "create-returns-validation",
                    "A form-encoded create returns 200 and a pending validation",
                    res.and_then(|s| {
                        if s == "pending" {
                            Ok(format!("200, {} pending", id.clone().unwrap_or_default()))
                        } else {
                            Err(format!("a new validation is `{s}`, want pending"))
                        }
                    }),
                );
                id
            }
            None => {
                ctx.record(
                    "create-returns-validation",
                    "A form-encoded create returns 200 and a pending validation",
                    Err("the body is not JSON".into()),
                );
                None
            }
        },
        Ok(r) => {
            let msg = format!("status {}: {}", r.status, String::from_utf8_lossy(&r.body));
            ctx.record(
                "create-returns-validation",
                "A form-encoded create returns 200 and a pending validation",
                Err(msg),
            );
            None
        }
        Err(e) => {
            ctx.record(
                "create-returns-validation",
                "A form-encoded create returns 200 and a pending validation",
                Err(e.clone()),
            );
            None
        }
    };

    let r = ctx
        .send(
            Method::POST,
            "/v1/validations",
            true,
            Some("application/json"),
            "{\"type\":\"government\"}",
        )
        .await;
    ctx.record(
        "create-rejects-json",
        "A JSON create body gets 400 with the error envelope",
        r.and_then(|r| check_envelope(&r, 400)),
    );

    let r = ctx
        .send(
            Method::POST,
            "/v1/validations",
            true,
            form_ct,
            "account_id=x",
        )
        .await;
    ctx.record(
        "create-requires-type",
        "A create without type gets 400 with the error envelope",
        r.and_then(|r| check_envelope(&r, 400)),
    );

    let unknown = format!("/v1/validations/VLD{}", "0".repeat(32));
    let r = ctx.send(Method::GET, &unknown, true, None, "").await;
    ctx.record(
        "unknown-id-404",
        "An unknown validation_id gets 404 with the error envelope",
        r.and_then(|r| check_envelope(&r, 404)),
    );

    let Some(id) = id else {
        ctx.checks.push(ServerCheck {
            id: "state-machine",
            title: "pending moves to success or failure, and stays there",
            verdict: Verdict::Skipped,
            detail: "no validation was created".into(),
        });
        return ServerReport {
            base_url: plan.base_url.clone(),
            checks: ctx.checks,
        };
    };
    let path = format!("/v1/validations/{id}");
    let r = ctx.send(Method::GET, &path, false, None, "").await;
    ctx.record(
        "poll-requires-key",
        "A poll without Truora-API-Key gets 401",
        r.and_then(|r| check_envelope(&r, 401)),
    );

    let started = Instant::now();
    let mut history: Vec<String> = Vec::new();
    let result = loop {
        let r = match ctx.send(Method::GET, &path, true, None, "").await {
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
            .and_then(|v| check_validation_body(&v, Some(&id), &plan.account_id))
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
    ctx.record(
        "state-machine",
        "pending moves to success or failure, and stays there",
        result,
    );
    ServerReport {
        base_url: plan.base_url.clone(),
        checks: ctx.checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_ids_are_vld_and_32_hex() {
        assert!(is_validation_id(&format!("VLD{}", "a1".repeat(16))));
        assert!(!is_validation_id("VLD123"));
        assert!(!is_validation_id(&format!("VLD{}", "A1".repeat(16))));
    }

    #[test]
    fn body_checks_explain_what_is_wrong() {
        let v = serde_json::json!({
            "validation_id": format!("VLD{}", "0".repeat(32)),
            "type": "government", "account_id": "a", "creation_date": "2024-01-01T00:00:00Z",
            "validation_status": "failure", "failure_status": "declined"
        });
        assert_eq!(
            check_validation_body(&v, None, "a").unwrap_err(),
            "failure/declined without declined_reason"
        );
    }
}
