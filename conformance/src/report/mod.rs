//! Renderings of a [`RunReport`]: one module per format, each a pure function from the report
//! to text, so each can be snapshot-tested without running a client.

pub mod html;
pub mod junit;
pub mod terminal;

use crate::verdict::RunReport;

/// The JSON report (schema in conformance/README.md).
pub fn json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the report: {e}\"}}"))
}

/// Escapes text for XML and HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn escaped_text_has_no_markup(s in "\\PC*") {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"'));
            prop_assert!(e.chars().all(|c| (c as u32) >= 0x20 || matches!(c, '\n' | '\r' | '\t')));
        }
    }
}
