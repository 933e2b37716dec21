//! Text helpers for messages, below everything that builds one (a leaf module).

/// Cuts `s` to at most `max` characters for echoing in messages.
pub fn truncate(s: &str, max: usize) -> String {
    // No more bytes than `max` is no more characters either: no need to walk them (the
    // journal truncates every create's content type).
    if s.len() <= max {
        return s.to_string();
    }
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `s` as a message echoes a value: cut to `max` characters, with control characters and
/// other invisible ones escaped (`\u{85}`), so a value that looks right but is not (a status
/// padded with U+0085) shows what is wrong with it.
pub fn shown(s: &str, max: usize) -> String {
    let cut = truncate(s, max);
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        if c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{feff}' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Counted in characters, not bytes: multi-byte text is cut on a character, and kept
        /// whole when it has no more than `max` characters, however many bytes.
        #[test]
        fn truncate_keeps_the_first_max_characters(s in "\\PC{0,12}", max in 0usize..10) {
            let chars: Vec<char> = s.chars().collect();
            let expected = if chars.len() > max {
                format!("{}…", chars[..max].iter().collect::<String>())
            } else {
                s.clone()
            };
            prop_assert_eq!(truncate(&s, max), expected);
        }
    }
}
