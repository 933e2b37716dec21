//! Text helpers for messages, below everything that builds one (a leaf module).

/// Cuts `s` to at most `max` characters for echoing in messages.
pub fn truncate(s: &str, max: usize) -> String {
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
