//! The shapes Truora's answers take (the error envelope, ids, dates, a validation body), as
//! pure functions over a response, shared by the live checks here and by the fidelity facts
//! over recorded exchanges.

use crate::http::Resp;
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};

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
