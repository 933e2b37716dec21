//! `conformance server`: checks a TruIdentidad server's answers (status codes, the error
//! envelope, field formats, the pending → terminal state machine) with the same rules an
//! integrator relies on, so the mock's fidelity is graded the way the real sandbox would be.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::http::{self, Method, Req, Resp};
use crate::server_facts::{FACTS, Fact, FactId};
use crate::verdict::Verdict;
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};

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
    pub id: &'static str,
    pub title: &'static str,
    /// The facts this check covers (typed: a check cannot name a fact that does not exist).
    pub covers: &'static [FactId],
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

    /// Facts covered by a check that ran (passed or failed), and those no check reached.
    pub fn coverage(&self) -> (Vec<&'static Fact>, Vec<&'static Fact>) {
        FACTS.iter().partition(|f| {
            self.checks
                .iter()
                .any(|c| c.verdict != Verdict::Skipped && c.covers.contains(&f.id))
        })
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
        let (covered, missed) = self.coverage();
        s.push_str("\nFacts (docs/fidelity.md):\n");
        for f in FACTS {
            let by: Vec<&str> = self
                .checks
                .iter()
                .filter(|c| c.verdict != Verdict::Skipped && c.covers.contains(&f.id))
                .map(|c| c.id)
                .collect();
            let by = if by.is_empty() {
                "NOT COVERED".to_string()
            } else {
                by.join(", ")
            };
            s.push_str(&format!("  {:20}  {:13}  {}\n", f.id.as_str(), f.tag, by));
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.verdict == Verdict::Failed)
            .count();
        let ran = self
            .checks
            .iter()
            .filter(|c| c.verdict != Verdict::Skipped)
            .count();
        s.push_str(&format!(
            "\n{}: {} checks ({} ran, {} failed), {} of {} facts covered{}\n",
            if self.passed() {
                "RESULT PASSED"
            } else {
                "RESULT FAILED"
            },
            self.checks.len(),
            ran,
            failed,
            covered.len(),
            FACTS.len(),
            if missed.is_empty() {
                String::new()
            } else {
                format!(
                    " (not covered: {})",
                    missed
                        .iter()
                        .map(|f| f.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
        s
    }
}

struct Ctx<'a> {
    plan: &'a ServerPlan,
    checks: Vec<ServerCheck>,
}

impl Ctx<'_> {
    fn record(
        &mut self,
        id: &'static str,
        title: &'static str,
        covers: &'static [FactId],
        result: Result<String, String>,
    ) {
        let (verdict, detail) = match result {
            Ok(d) => (Verdict::Passed, d),
            Err(d) => (Verdict::Failed, d),
        };
        self.push(id, title, covers, verdict, detail);
    }

    fn skip(
        &mut self,
        id: &'static str,
        title: &'static str,
        covers: &'static [FactId],
        why: &str,
    ) {
        self.push(id, title, covers, Verdict::Skipped, why.to_string());
    }

    fn push(
        &mut self,
        id: &'static str,
        title: &'static str,
        covers: &'static [FactId],
        verdict: Verdict,
        detail: String,
    ) {
        self.checks.push(ServerCheck {
            id,
            title,
            covers,
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
        let key = key.then(|| self.plan.api_key.clone());
        self.send_with(method, path, key.as_deref(), ct, body).await
    }

    async fn send_with(
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
    async fn create(&self, form: &str) -> Result<(String, serde_json::Value), String> {
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
    async fn watch(&self, id: &str, account_id: &str) -> Result<serde_json::Value, String> {
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

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

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

/// `creation_date` as Truora writes it: RFC 3339, UTC (`Z`), nine fraction digits.
pub fn is_truora_date(s: &str) -> bool {
    let fraction = s
        .strip_suffix('Z')
        .and_then(|d| d.rsplit_once('.'))
        .map(|(_, f)| f);
    humantime::parse_rfc3339(s).is_ok()
        && fraction.is_some_and(|f| f.len() == 9 && f.bytes().all(|b| b.is_ascii_digit()))
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
    if !is_truora_date(date) {
        return Err(format!(
            "creation_date `{date}` is not RFC 3339 UTC with nanoseconds"
        ));
    }
    let status = text("validation_status").ok_or("no validation_status")?;
    let known = |field: &str, list: &[&str]| match text(field) {
        Some(r) if !list.contains(&r) => Err(format!("{field} `{r}` is not one of Truora's codes")),
        None => Err(format!(
            "failure/{} without {field}",
            text("failure_status").unwrap_or_default()
        )),
        Some(_) => Ok(()),
    };
    match status {
        "pending" | "success" => {
            if let Some(f) = ["failure_status", "declined_reason", "expired_reason"]
                .iter()
                .find(|f| v.get(**f).is_some_and(|x| !x.is_null()))
            {
                return Err(format!("a {status} validation carries {f}"));
            }
        }
        "failure" => match text("failure_status") {
            Some("declined") => known("declined_reason", DECLINED_REASONS)?,
            Some("expired") => known("expired_reason", EXPIRED_REASONS)?,
            Some("system_error") => {}
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

/// Runs every check against `plan.base_url`. Checks that need the mock's control API say so
/// in their id (`mock-…`) and are skipped when `GET /_mock/health` does not answer as the
/// mock's does, so the report is the same kind of evidence against any server.
pub async fn run(plan: &ServerPlan) -> ServerReport {
    let mut ctx = Ctx {
        plan,
        checks: Vec::new(),
    };
    let acc = plan.account_id.as_str();
    let form = format!("type=government&account_id={acc}&user_authorized=true");

    let r = ctx
        .send(Method::POST, "/v1/validations", false, FORM, &form)
        .await;
    ctx.record(
        "create-requires-key",
        "A create without Truora-API-Key gets 401 with the error envelope",
        &[FactId::KeyHeader, FactId::ErrorEnvelope],
        r.and_then(|r| check_envelope(&r, 401)),
    );

    let created = ctx.create(&form).await;
    ctx.record(
        "create-returns-validation",
        "A form-encoded create (type=government) answers 200 with a pending validation: VLD id, the account_id sent, RFC 3339 nanosecond date",
        &[
            FactId::CreatePath,
            FactId::Create200,
            FactId::FormBody,
            FactId::TypeGovernment,
            FactId::AccountId,
            FactId::Ids,
            FactId::CreationDate,
            FactId::StatusValues,
        ],
        created.clone().and_then(|(id, v)| {
            match check_validation_body(&v, Some(&id), acc)?.as_str() {
                "pending" => Ok(format!("200, {id} pending")),
                s => Err(format!("a new validation is `{s}`, want pending")),
            }
        }),
    );

    let r = ctx.create("type=government&user_authorized=true").await;
    ctx.record(
        "create-generates-account-id",
        "A create without account_id gets a generated ACC + 32 hex account_id",
        &[FactId::AccountId, FactId::Ids],
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
        &[FactId::FormBody, FactId::ErrorEnvelope],
        r.and_then(|r| check_envelope(&r, 400)),
    );

    let r = ctx
        .send(Method::POST, "/v1/validations", true, FORM, "account_id=x")
        .await;
    ctx.record(
        "create-requires-type",
        "A create without type gets 400 with the error envelope",
        &[FactId::TypeGovernment, FactId::ErrorEnvelope],
        r.and_then(|r| check_envelope(&r, 400)),
    );

    let mut accepted = Vec::new();
    let mut result = Ok(());
    for t in [1, 21600] {
        match ctx.create(&format!("{form}&timeout={t}")).await {
            Ok(_) => accepted.push(t.to_string()),
            Err(e) => result = Err(format!("timeout={t}: {e}")),
        }
    }
    ctx.record(
        "timeout-range",
        "timeout=1 and timeout=21600 (the documented bounds) are accepted",
        &[FactId::TimeoutRange],
        result.map(|()| format!("accepted timeout={}", accepted.join(", "))),
    );

    let unknown = format!("/v1/validations/VLD{}", "0".repeat(32));
    let r = ctx.send(Method::GET, &unknown, true, None, "").await;
    ctx.record(
        "unknown-id-404",
        "An unknown validation_id gets 404 with the error envelope",
        &[FactId::UnknownId404, FactId::ErrorEnvelope],
        r.and_then(|r| check_envelope(&r, 404)),
    );

    match &plan.expired_key {
        Some(key) => {
            let r = ctx
                .send_with(Method::GET, &unknown, Some(key), None, "")
                .await;
            ctx.record(
                "expired-key-403",
                "An expired API key gets 403 with the error envelope",
                &[FactId::ExpiredKey403, FactId::ErrorEnvelope],
                r.and_then(|r| check_envelope(&r, 403)),
            );
        }
        None => ctx.skip(
            "expired-key-403",
            "An expired API key gets 403 with the error envelope",
            &[FactId::ExpiredKey403],
            "pass --expired-key with a key whose exp has passed",
        ),
    }

    expiry(&mut ctx, &form).await;

    let Ok((id, _)) = created else {
        for (check, title) in [
            (
                "poll-requires-key",
                "A poll without Truora-API-Key gets 401",
            ),
            (
                "poll-key-only",
                "A poll with only the key header answers 200",
            ),
            (
                "show-details",
                "show_details=true adds details, its absence does not",
            ),
            (
                "state-machine",
                "pending moves to success or failure, and stays there",
            ),
        ] {
            ctx.skip(check, title, &[], "no validation was created");
        }
        mock_outcomes(&mut ctx, &form).await;
        return ServerReport {
            base_url: plan.base_url.clone(),
            checks: ctx.checks,
        };
    };
    let path = format!("/v1/validations/{id}");
    let r = ctx.send(Method::GET, &path, false, None, "").await;
    ctx.record(
        "poll-requires-key",
        "A poll without Truora-API-Key gets 401 with the error envelope",
        &[FactId::KeyHeader, FactId::ErrorEnvelope],
        r.and_then(|r| check_envelope(&r, 401)),
    );

    let r = ctx.send(Method::GET, &path, true, None, "").await;
    ctx.record(
        "poll-key-only",
        "GET /v1/validations/{id} with only the key header answers 200 with the validation",
        &[FactId::PollPath, FactId::PollKeyOnly],
        r.and_then(|r| {
            if r.status != 200 {
                return Err(format!("status {}", r.status));
            }
            let v = r.json().ok_or("the body is not JSON")?;
            check_validation_body(&v, Some(&id), acc).map(|s| format!("200, {s}"))
        }),
    );

    let with = ctx
        .send(
            Method::GET,
            &format!("{path}?show_details=true"),
            true,
            None,
            "",
        )
        .await;
    let without = ctx.send(Method::GET, &path, true, None, "").await;
    ctx.record(
        "show-details",
        "show_details=true adds a details object; without it there is none",
        &[FactId::ShowDetails],
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

    state_machine(&mut ctx, &path, &id).await;
    mock_outcomes(&mut ctx, &form).await;
    ServerReport {
        base_url: plan.base_url.clone(),
        checks: ctx.checks,
    }
}

/// Follows one validation: it may stay pending, then turns terminal once and stays there.
async fn state_machine(ctx: &mut Ctx<'_>, path: &str, id: &str) {
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
    ctx.record(
        "state-machine",
        "pending moves to success or failure, and stays there; failure fields only on failure",
        &[FactId::StatusValues, FactId::FailureFields],
        result,
    );
}

/// A validation with `timeout=1` that nobody completes ends `failure`/`expired` with a
/// documented expired reason.
async fn expiry(ctx: &mut Ctx<'_>, form: &str) {
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
    ctx.record(
        "timeout-expires",
        "A validation left alone past timeout=1 ends failure/expired with a documented expired_reason",
        &[FactId::TimeoutExpiry, FactId::ExpiredReasons, FactId::FailureFields, FactId::StatusValues],
        result,
    );
}

/// Mock only: forces each kind of ending through `POST /_mock/validations/{id}/complete` and
/// checks the poll's fields and reason codes. Skipped against any server whose
/// `GET /_mock/health` does not answer like the mock's.
async fn mock_outcomes(ctx: &mut Ctx<'_>, form: &str) {
    const ID: &str = "mock-forced-outcomes";
    const TITLE: &str =
        "(mock only, uses /_mock/) each forced ending polls with Truora's fields and reason codes";
    const COVERS: &[FactId] = &[
        FactId::FailureFields,
        FactId::DeclinedReasons,
        FactId::ExpiredReasons,
    ];
    const CLOSED: &str = "the control API answered 401: the mock has an admin token";
    let is_mock = ctx
        .send(Method::GET, "/_mock/health", false, None, "")
        .await
        .is_ok_and(|r| r.status == 200 && r.json().is_some_and(|v| v.get("validations").is_some()));
    if !is_mock {
        ctx.skip(
            ID,
            TITLE,
            COVERS,
            "not a truidentidad-mock (no /_mock/health)",
        );
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
        Err(e) if e == CLOSED => ctx.skip(ID, TITLE, COVERS, &e),
        r => ctx.record(
            ID,
            TITLE,
            COVERS,
            r.map(|()| format!("{} endings forced and polled", seen.len())),
        ),
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
            "type": "government", "account_id": "a", "creation_date": "2024-01-01T00:00:00.123456789Z",
            "validation_status": "failure", "failure_status": "declined"
        });
        assert_eq!(
            check_validation_body(&v, None, "a").unwrap_err(),
            "failure/declined without declined_reason"
        );
    }

    #[test]
    fn dates_need_utc_and_nine_fraction_digits() {
        assert!(is_truora_date("2024-05-22T23:32:01.272290601Z"));
        assert!(!is_truora_date("2024-05-22T23:32:01Z"));
        assert!(!is_truora_date("2024-05-22T23:32:01.272Z"));
        assert!(!is_truora_date("2024-05-22T23:32:01.272290601+01:00"));
    }

    #[test]
    fn reasons_outside_truoras_list_and_failure_fields_on_pending_are_caught() {
        let body = |extra: serde_json::Value| {
            let mut v = serde_json::json!({
                "validation_id": format!("VLD{}", "0".repeat(32)),
                "type": "government", "account_id": "a",
                "creation_date": "2024-01-01T00:00:00.000000000Z",
            });
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            check_validation_body(&v, None, "a")
        };
        assert_eq!(
            body(serde_json::json!({"validation_status": "failure", "failure_status": "declined", "declined_reason": "made_up"})).unwrap_err(),
            "declined_reason `made_up` is not one of Truora's codes"
        );
        assert_eq!(
            body(serde_json::json!({"validation_status": "pending", "failure_status": "expired"}))
                .unwrap_err(),
            "a pending validation carries failure_status"
        );
        assert_eq!(
            body(serde_json::json!({"validation_status": "failure", "failure_status": "expired", "expired_reason": "face_validation_not_started"})).unwrap(),
            "failure"
        );
    }
}
