//! The one rule for a document (cédula) number, shared by `POST /v1/validations` and the
//! browser journey so the two can never disagree about what a person may type.
//!
//! Why these bounds: Colombian cédulas issued over the decades have from 3 (the oldest) to
//! 10 digits, and NUIPs 10; 15 leaves room for foreign ids without accepting a paste of
//! garbage. People copy numbers as printed ("1.020.304.050") or grouped with spaces, so dots
//! and spaces are formatting, removed before the check, never a reason to refuse.
//!
//! The stand-in SDK (`assets/truorasdk.js`) mirrors this rule in `DOCUMENT_DIGITS` and
//! `normaliseDocument`; a unit test below and a browser test hold both to the same answers.

/// Fewest digits a document number may have.
pub const MIN_DIGITS: usize = 3;
/// Most digits a document number may have.
pub const MAX_DIGITS: usize = 15;

/// Characters accepted as formatting and removed: dots, spaces, no-break spaces.
fn is_formatting(c: char) -> bool {
    matches!(c, '.' | ' ' | '\u{a0}')
}

/// A number that breaks the rule; the message says what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be {MIN_DIGITS} to {MAX_DIGITS} digits (a Colombian cédula number; dots and spaces are ignored), got `{0}`"
)]
pub struct BadDocument(pub String);

/// The digits of `raw` once formatting is removed, if they follow the rule.
pub fn normalise(raw: &str) -> Result<String, BadDocument> {
    let digits: String = raw.trim().chars().filter(|c| !is_formatting(*c)).collect();
    if (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(digits)
    } else {
        Err(BadDocument(crate::text::truncate(raw.trim(), 32)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs and what the rule makes of them; the browser test `journey-document` runs the
    /// same table through the create API and the SDK.
    const CASES: &[(&str, Option<&str>)] = &[
        ("1020304050", Some("1020304050")),
        ("1.020.304.050", Some("1020304050")),
        ("1 020 304 050", Some("1020304050")),
        ("123", Some("123")),
        ("123456789012345", Some("123456789012345")),
        ("12", None),
        ("1234567890123456", None),
        ("12a45", None),
        ("1-020-304", None),
        ("", None),
    ];

    #[test]
    fn the_rule_accepts_formatted_numbers_and_refuses_the_rest() {
        for (raw, want) in CASES {
            assert_eq!(normalise(raw).ok().as_deref(), *want, "{raw:?}");
        }
    }

    #[test]
    fn the_sdk_mirrors_the_bounds() {
        let sdk = include_str!("../assets/truorasdk.js");
        let line = format!("var DOCUMENT_DIGITS = {{ min: {MIN_DIGITS}, max: {MAX_DIGITS} }};");
        assert!(
            sdk.contains(&line),
            "truorasdk.js must declare `{line}` (the rule lives in document.rs)"
        );
    }

    #[test]
    fn the_message_states_the_rule() {
        insta::assert_snapshot!(normalise("12a").unwrap_err().to_string(), @"must be 3 to 15 digits (a Colombian cédula number; dots and spaces are ignored), got `12a`");
    }
}
