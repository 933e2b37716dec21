//! Renderings of a [`RunReport`]: one module per format, each a pure function from the report
//! to text, so each can be snapshot-tested without running a client.

pub mod html;
pub mod junit;
pub mod terminal;
pub mod timeline;

use crate::verdict::{CaseReport, RuleFinding, RunReport, Summary};

/// One rule's findings across the run: the same rule with the same verdict (and `--expect`
/// state), in every case listed. The messages differ from case to case (request numbers,
/// waits, ids), so grouping by rule rather than by text is what tells the reader "this rule
/// FAILED in 13 cases"; the first message stands for the group and every case's own message
/// is kept underneath ([`FindingGroup::per_case`]).
#[derive(Debug, Clone)]
pub struct FindingGroup<'a> {
    /// The first occurrence: its message represents the group.
    pub finding: &'a RuleFinding,
    /// The cases it occurs in, in report order, each once.
    pub cases: Vec<&'a CaseReport>,
    /// Every occurrence as (index in `report.cases`, index in that case's `findings`).
    pub members: Vec<(usize, usize)>,
}

impl FindingGroup<'_> {
    /// `a, b, c`: the ids of its cases.
    pub fn case_list(&self) -> String {
        self.cases
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Each occurrence as (case id, its message), in report order.
    pub fn per_case<'r>(&self, report: &'r RunReport) -> Vec<(&'r str, &'r str)> {
        self.members
            .iter()
            .map(|&(ci, fi)| {
                let c = &report.cases[ci];
                (c.id.as_str(), c.findings[fi].message.as_str())
            })
            .collect()
    }
}

/// The run's findings grouped by rule (and verdict and `--expect` state), in order of first
/// occurrence (case order, then the case's finding order).
pub fn group_findings(report: &RunReport) -> Vec<FindingGroup<'_>> {
    let mut groups: Vec<FindingGroup<'_>> = Vec::new();
    for (ci, case) in report.cases.iter().enumerate() {
        for (fi, f) in case.findings.iter().enumerate() {
            let same = |g: &&mut FindingGroup<'_>| {
                g.finding.rule == f.rule
                    && g.finding.verdict == f.verdict
                    && g.finding.expected == f.expected
            };
            match groups.iter_mut().find(|g| same(g)) {
                Some(g) => {
                    if !g.cases.last().is_some_and(|c| std::ptr::eq(*c, case)) {
                        g.cases.push(case);
                    }
                    g.members.push((ci, fi));
                }
                None => groups.push(FindingGroup {
                    finding: f,
                    cases: vec![case],
                    members: vec![(ci, fi)],
                }),
            }
        }
    }
    groups
}

/// " (N expected)" after the failed count when some FAILED cases failed only on findings
/// listed in `--expect`, so "RESULT PASSED" next to a failed count explains itself.
fn expected_note(sum: &Summary) -> String {
    match sum.failed_expected {
        0 => String::new(),
        n if n == sum.failed => " (all expected, listed in --expect)".to_string(),
        n => format!(" ({n} expected, listed in --expect)"),
    }
}

/// The JSON report (schema in conformance/README.md): the [`RunReport`], plus
/// `finding_groups`, the findings grouped across cases (derived from `cases`, which keeps
/// every finding where it occurred).
pub fn json(report: &RunReport) -> String {
    #[derive(serde::Serialize)]
    struct Detail<'a> {
        case: &'a str,
        message: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Group<'a> {
        rule: &'a str,
        verdict: crate::verdict::Verdict,
        /// The first case's message, standing for the group.
        message: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        expected: bool,
        cases: Vec<&'a str>,
        /// Every occurrence, with its own message.
        per_case: Vec<Detail<'a>>,
    }
    #[derive(serde::Serialize)]
    struct Json<'a> {
        #[serde(flatten)]
        report: &'a RunReport,
        finding_groups: Vec<Group<'a>>,
    }
    let finding_groups = group_findings(report)
        .into_iter()
        .map(|g| Group {
            rule: &g.finding.rule,
            verdict: g.finding.verdict,
            message: &g.finding.message,
            expected: g.finding.expected,
            cases: g.cases.iter().map(|c| c.id.as_str()).collect(),
            per_case: g
                .per_case(report)
                .into_iter()
                .map(|(case, message)| Detail { case, message })
                .collect(),
        })
        .collect();
    serde_json::to_string_pretty(&Json {
        report,
        finding_groups,
    })
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
            // XML 1.0 forbids most control characters and U+FFFE/U+FFFF, even escaped.
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// XML 1.0 §2.2 `Char`: a document may contain no other character, not even as a character
/// reference, so a parser rejects the whole report over one of them.
fn is_xml_char(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Resolves the five references [`escape`] writes; `None` for any other `&`, as a
    /// conforming XML parser would reject it.
    fn unescape(e: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = e;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            let (c, len) = [
                ('&', "&amp;"),
                ('<', "&lt;"),
                ('>', "&gt;"),
                ('"', "&quot;"),
                ('\'', "&apos;"),
            ]
            .into_iter()
            .find(|(_, r)| rest.starts_with(r))
            .map(|(c, r)| (c, r.len()))?;
            out.push(c);
            rest = &rest[len..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// Any Unicode, with the fragments markup is made of mixed in: `]]>`, entity-like text,
    /// control characters and the noncharacters XML 1.0 forbids.
    fn any_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => any::<char>().prop_map(String::from),
            1 => prop::sample::select(vec![
                "]]>", "<![CDATA[", "&amp;", "&#0;", "&", "<", ">", "\"", "'", "\r\n", "\t",
                "\u{0}", "\u{1b}", "\u{7f}", "\u{FFFE}", "\u{FFFF}", "é",
            ])
            .prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..32).prop_map(|v| v.concat())
    }

    #[test]
    fn characters_xml_forbids_become_the_replacement_character() {
        assert_eq!(
            escape("\u{0}\u{1b}\u{FFFE}\u{FFFF}"),
            "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        let kept = "\t\n\r \u{7f}\u{85}\u{D7FF}\u{E000}\u{FFFD}\u{10000}\u{10FFFF}é";
        assert_eq!(escape(kept), kept);
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_markup(s in "\\PC*") {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"'));
            prop_assert!(e.chars().all(|c| (c as u32) >= 0x20 || matches!(c, '\n' | '\r' | '\t')));
        }

        /// Any text, control characters and `]]>` included: the result is legal XML 1.0
        /// content and attribute text (no markup character, every `&` a reference, only
        /// characters XML allows), and reads back as the input with forbidden characters
        /// replaced.
        #[test]
        fn escaped_any_text_is_legal_xml_and_reads_back(s in any_text()) {
            let e = escape(&s);
            prop_assert!(!e.contains(['<', '>', '"', '\'']), "{:?}", e);
            prop_assert!(e.chars().all(is_xml_char), "{:?}", e);
            let want: String = s
                .chars()
                .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
                .collect();
            prop_assert_eq!(unescape(&e), Some(want));
        }
    }
}
