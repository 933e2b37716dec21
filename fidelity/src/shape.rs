//! The structure of a JSON body, with values set aside: which fields are there and of what
//! type. Comparing shapes instead of bodies is how ids, dates, account ids and every other
//! per-run value are normalised away: a diff never reports a value it knows is volatile.

use std::collections::BTreeMap;

use serde_json::Value;

/// JSON type names as reports print them.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field's path (`$.details.face[]`) and type; array items merge under `[]`.
pub fn shape(v: &Value) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    walk(v, "$".to_string(), &mut out);
    out
}

fn walk(v: &Value, path: String, out: &mut BTreeMap<String, &'static str>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = format!("{path}.{k}");
                out.insert(p.clone(), type_name(x));
                walk(x, p, out);
            }
        }
        Value::Array(items) => {
            let p = format!("{path}[]");
            for x in items {
                out.insert(p.clone(), type_name(x));
                walk(x, p.clone(), out);
            }
        }
        _ => {}
    }
}

/// `pending`, `success`, `failure/declined`…: the state a validation body shows, which decides
/// the fields it may carry.
pub fn state(v: &Value) -> Option<String> {
    let status = v.get("validation_status")?.as_str()?;
    Some(match v.get("failure_status").and_then(Value::as_str) {
        Some(f) if status == "failure" => format!("failure/{f}"),
        _ => status.to_string(),
    })
}

/// Whether a body shows a finished validation.
pub fn is_terminal(v: &Value) -> bool {
    matches!(
        v.get("validation_status").and_then(Value::as_str),
        Some("success" | "failure")
    )
}

/// `success`, `failure/declined/face_mismatch`, `failure/system_error`: the outcome label the
/// scenarios use ([`truidentidad_scenarios::model::Outcome::label`]).
pub fn outcome_label(v: &Value) -> Option<String> {
    let t = |k: &str| v.get(k).and_then(Value::as_str);
    match (t("validation_status")?, t("failure_status")) {
        ("success", _) => Some("success".into()),
        ("failure", Some("declined")) => Some(format!(
            "failure/declined/{}",
            t("declined_reason").unwrap_or("?")
        )),
        ("failure", Some("expired")) => Some(format!(
            "failure/expired/{}",
            t("expired_reason").unwrap_or("?")
        )),
        ("failure", Some(f)) => Some(format!("failure/{f}")),
        ("failure", None) => Some("failure".into()),
        _ => None,
    }
}

/// `Retry-After` as a diff compares it: absent, a number of seconds, or an HTTP date (whose
/// value moves with the clock, so only its form counts).
pub fn retry_after(value: Option<&str>) -> String {
    match value.map(str::trim) {
        None => "absent".into(),
        Some(v) if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() => {
            format!("{v} s (seconds)")
        }
        Some(v) if httpdate::parse_http_date(v).is_ok() => "an HTTP date".into(),
        Some(v) => format!("`{v}` (neither seconds nor an HTTP date)"),
    }
}

/// Two `Retry-After`s as compared: when only one side sends it, the other's form does not
/// matter (a server whose 429s alternate seconds and dates is one difference, not two).
pub fn retry_after_pair(recorded: Option<&str>, mock: Option<&str>) -> (String, String) {
    match (recorded, mock) {
        (None, Some(_)) => ("absent".into(), "present".into()),
        (Some(_), None) => ("present".into(), "absent".into()),
        (r, m) => (retry_after(r), retry_after(m)),
    }
}

/// `Content-Type` without case or spacing differences.
pub fn content_type(value: Option<&str>) -> String {
    match value {
        None => "absent".into(),
        Some(v) => v
            .split(';')
            .map(|p| p.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_keep_paths_and_types_not_values() {
        let a = shape(&serde_json::json!({"validation_id": "VLD1", "n": 1, "d": {"x": [1, 2]}}));
        let b = shape(&serde_json::json!({"validation_id": "VLD2", "n": 7, "d": {"x": [3]}}));
        assert_eq!(a, b);
        assert_eq!(a.get("$.d.x[]"), Some(&"number"));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(None), "absent");
        assert_eq!(retry_after(Some("2")), "2 s (seconds)");
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            "an HTTP date"
        );
    }
}
