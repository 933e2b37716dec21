//! Parsing and checking the create-validation form.
//!
//! The body is `application/x-www-form-urlencoded` (Truora's validators API takes no JSON).
//! Repeated keys are allowed, as Truora uses them for arrays; a scalar field repeated with
//! *different* values is an error rather than a silent pick.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ApiError;
use crate::store::CreateParams;
pub use crate::text::truncate;

/// Validation types Truora documents. Only `government` is emulated; the others get a 400
/// that says so instead of a generic "invalid type".
const OTHER_TRUORA_TYPES: &[&str] = &[
    "document-validation",
    "face-recognition",
    "electronic-signature",
    "email-verification",
    "phone-verification",
    "identity-questions",
    "voice-recognition",
];

/// Longest `account_id` accepted. Truora documents the character set, not a length; the mock
/// picks a generous bound so absurd values get a clear error.
pub const MAX_ACCOUNT_ID_LEN: usize = 256;

pub const MIN_TIMEOUT_SECS: u64 = 1;
pub const MAX_TIMEOUT_SECS: u64 = 21_600;
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// A checked create request.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateForm {
    /// Shared: the stored record takes it as is, without a second copy.
    pub account_id: Option<Arc<str>>,
    pub timeout: Duration,
    pub params: CreateParams,
}

/// True when `s` matches Truora's `^[a-zA-Z0-9_.-]+$`.
pub fn is_valid_account_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ACCOUNT_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks the `Content-Type` of a create request.
pub fn check_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    let Some(ct) = content_type else {
        return Err(ApiError::bad_request(
            "missing Content-Type header: send the body as application/x-www-form-urlencoded",
        ));
    };
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Content-Type must be application/x-www-form-urlencoded, got {essence}; the validations API does not accept JSON or multipart bodies"
        )))
    }
}

/// The decoded `(name, value)` pairs of an urlencoded body, as `form_urlencoded::parse`
/// gives them. A pair with no `+` or `%` is split and borrowed as it is; only the others go
/// through the general decoder, which scans every pair for both on the way (this runs on
/// every create).
pub fn pairs(text: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    text.split('&').filter(|p| !p.is_empty()).map(|pair| {
        if pair.bytes().any(|b| b == b'+' || b == b'%') {
            return form_urlencoded::parse(pair.as_bytes())
                .next()
                .unwrap_or((Cow::Borrowed(""), Cow::Borrowed("")));
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (Cow::Borrowed(name), Cow::Borrowed(value))
    })
}

/// Parses a create body.
pub fn parse_create(body: &[u8]) -> Result<CreateForm, ApiError> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(ApiError::bad_request(
            "the request body is not valid UTF-8; send form fields percent-encoded as UTF-8",
        ));
    };
    // Borrowed where nothing was percent-encoded: the usual body allocates nothing here.
    let mut fields: Vec<(Cow<str>, Cow<str>)> = Vec::with_capacity(8);
    for (k, v) in pairs(text) {
        if k.is_empty() {
            return Err(ApiError::bad_request(
                "the form body has an entry with an empty field name; send fields as name=value pairs joined by &",
            ));
        }
        fields.push((k, v));
    }
    let single = |name: &str| -> Result<Option<&str>, ApiError> {
        let mut values = fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref());
        let first = values.next();
        if let Some(f) = first
            && let Some(other) = values.find(|v| *v != f)
        {
            return Err(ApiError::bad_request(format!(
                "field {name} is given more than once with different values (`{f}` and `{other}`); send it once"
            )));
        }
        Ok(first)
    };

    match single("type")? {
        None => {
            return Err(ApiError::bad_request(
                "missing required field type: send type=government for a TruIdentidad (Registraduría) validation",
            ));
        }
        Some("government") => {}
        Some(t) if OTHER_TRUORA_TYPES.contains(&t) => {
            return Err(ApiError::bad_request(format!(
                "field type: `{t}` is a Truora validation type this mock does not emulate; it emulates only type=government (TruIdentidad)"
            )));
        }
        Some(t) => {
            return Err(ApiError::bad_request(format!(
                "field type: unknown validation type `{}`; use type=government",
                truncate(t, 64)
            )));
        }
    }

    let account_id = match single("account_id")? {
        None => None,
        Some(a) if is_valid_account_id(a) => Some(Arc::from(a)),
        Some(a) if a.len() > MAX_ACCOUNT_ID_LEN => {
            return Err(ApiError::bad_request(format!(
                "field account_id is {} characters long; the mock accepts at most {MAX_ACCOUNT_ID_LEN}",
                a.len()
            )));
        }
        Some(a) => {
            return Err(ApiError::bad_request(format!(
                "field account_id `{}` is invalid: only letters, digits, `_`, `.` and `-` are allowed (regex [a-zA-Z0-9_.-]+)",
                truncate(a, 64)
            )));
        }
    };

    let user_authorized = match single("user_authorized")? {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "field user_authorized must be true or false, got `{}`",
                truncate(v, 32)
            )));
        }
    };

    let timeout = match single("timeout")? {
        None => DEFAULT_TIMEOUT_SECS,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (MIN_TIMEOUT_SECS..=MAX_TIMEOUT_SECS).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "field timeout must be a whole number of seconds from {MIN_TIMEOUT_SECS} to {MAX_TIMEOUT_SECS}, got `{}`",
                    truncate(v, 32)
                )));
            }
        },
    };

    let threshold = match single("threshold")? {
        None => None,
        Some(v) => match v.parse::<f64>() {
            Ok(t) if (0.0..=1.0).contains(&t) => Some(t),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "field threshold must be a number from 0 to 1 (e.g. 0.65), got `{}`",
                    truncate(v, 32)
                )));
            }
        },
    };

    let country = match single("country")? {
        None => None,
        Some(c) if c.eq_ignore_ascii_case("CO") => Some("CO".to_string()),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "field country must be CO: TruIdentidad checks Colombia's Registraduría, got `{}`",
                truncate(c, 16)
            )));
        }
    };

    let document_number = match single("document_number")? {
        None => None,
        Some(d) => Some(
            crate::document::normalise(d)
                .map_err(|e| ApiError::bad_request(format!("field document_number {e}")))?,
        ),
    };

    Ok(CreateForm {
        account_id,
        timeout: Duration::from_secs(timeout),
        params: CreateParams {
            user_authorized,
            country,
            threshold,
            document_number,
            owner: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(body: &str) -> String {
        parse_create(body.as_bytes()).unwrap_err().message
    }

    #[test]
    fn minimal_and_full_forms() {
        let f = parse_create(b"type=government").unwrap();
        assert_eq!(f.account_id, None);
        assert_eq!(f.timeout, Duration::from_secs(300));
        let f = parse_create(
            b"type=government&account_id=user.42_x-y&user_authorized=true&country=CO&timeout=60&threshold=0.65&document_number=1020304050",
        )
        .unwrap();
        assert_eq!(f.account_id.as_deref(), Some("user.42_x-y"));
        assert_eq!(f.timeout, Duration::from_secs(60));
        assert_eq!(f.params.user_authorized, Some(true));
        assert_eq!(f.params.threshold, Some(0.65));
        assert_eq!(f.params.country.as_deref(), Some("CO"));
        assert_eq!(f.params.document_number.as_deref(), Some("1020304050"));
    }

    #[test]
    fn repeated_same_value_is_fine_conflicting_is_not() {
        assert!(parse_create(b"type=government&type=government").is_ok());
        insta::assert_snapshot!(err("type=government&account_id=a&account_id=b"), @"field account_id is given more than once with different values (`a` and `b`); send it once");
    }

    #[test]
    fn field_errors_name_the_field() {
        insta::assert_snapshot!(err(""), @"missing required field type: send type=government for a TruIdentidad (Registraduría) validation");
        insta::assert_snapshot!(err("type=face-recognition"), @"field type: `face-recognition` is a Truora validation type this mock does not emulate; it emulates only type=government (TruIdentidad)");
        insta::assert_snapshot!(err("type=gov"), @"field type: unknown validation type `gov`; use type=government");
        insta::assert_snapshot!(err("type=government&account_id=a%20b"), @"field account_id `a b` is invalid: only letters, digits, `_`, `.` and `-` are allowed (regex [a-zA-Z0-9_.-]+)");
        insta::assert_snapshot!(err("type=government&timeout=0"), @"field timeout must be a whole number of seconds from 1 to 21600, got `0`");
        insta::assert_snapshot!(err("type=government&timeout=21601"), @"field timeout must be a whole number of seconds from 1 to 21600, got `21601`");
        insta::assert_snapshot!(err("type=government&threshold=1.5"), @"field threshold must be a number from 0 to 1 (e.g. 0.65), got `1.5`");
        insta::assert_snapshot!(err("type=government&user_authorized=yes"), @"field user_authorized must be true or false, got `yes`");
        insta::assert_snapshot!(err("type=government&country=MX"), @"field country must be CO: TruIdentidad checks Colombia's Registraduría, got `MX`");
        insta::assert_snapshot!(err("type=government&document_number=12a"), @"field document_number must be 3 to 15 digits (a Colombian cédula number; dots and spaces are ignored), got `12a`");
        insta::assert_snapshot!(err("=x&type=government"), @"the form body has an entry with an empty field name; send fields as name=value pairs joined by &");
    }

    #[test]
    fn invalid_utf8_and_content_types() {
        assert!(
            parse_create(&[b't', b'=', 0xff])
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        assert!(
            check_content_type(Some("application/x-www-form-urlencoded; charset=utf-8")).is_ok()
        );
        insta::assert_snapshot!(check_content_type(Some("application/json")).unwrap_err().message, @"Content-Type must be application/x-www-form-urlencoded, got application/json; the validations API does not accept JSON or multipart bodies");
        assert!(check_content_type(None).is_err());
    }

    #[test]
    fn long_account_id_is_refused_with_its_length() {
        let body = format!("type=government&account_id={}", "a".repeat(300));
        assert_eq!(
            err(&body),
            "field account_id is 300 characters long; the mock accepts at most 256"
        );
    }

    proptest! {
        #[test]
        fn pairs_are_what_form_urlencoded_gives(text in "([a-z=&+%_.]|[0-9A-F]|é|%[0-9a-fA-F]{2}|%[gz]){0,40}") {
            let ours: Vec<_> = pairs(&text).collect();
            let theirs: Vec<_> = form_urlencoded::parse(text.as_bytes()).collect();
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn any_bytes_give_a_form_or_a_400(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            match parse_create(&body) {
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.status, http::StatusCode::BAD_REQUEST),
            }
        }

        #[test]
        fn account_id_regex(s in "[a-zA-Z0-9_.-]{1,100}") {
            prop_assert!(is_valid_account_id(&s));
        }
    }
}
