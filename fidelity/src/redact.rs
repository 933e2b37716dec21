//! Redaction, applied as an exchange is captured, so nothing secret ever reaches a file.
//!
//! - API keys (`Truora-API-Key`, `Authorization`) become `key-sha256:` and the first 16 hex
//!   digits of their SHA-256: stable across runs, so recordings stay comparable and the diff can
//!   still tell an accepted key from a rejected one.
//! - Document numbers, names and IP addresses are found by field name (form, query, JSON) and
//!   replaced with `[redacted:document]`, `[redacted:name]`, `[redacted:ip]`. A value learned
//!   that way is also replaced wherever it appears later (a response echoing the document).
//! - Every `http(s)://` string in a body (image and video links) becomes `[redacted:url]`.
//! - Anything shaped like an IPv4 address, anywhere, becomes `[redacted:ip]`.

use std::sync::RwLock;

use sha2::{Digest, Sha256};

use crate::learned::LearnedValues;

/// The placeholder written for a redacted value of `class`.
pub fn placeholder(class: &str) -> String {
    format!("[redacted:{class}]")
}

/// The stable stand-in for an API key.
pub fn key_hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("key-sha256:{hex}")
}

/// What kind of personal value a field of this name holds, if any.
pub fn field_class(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    if n.contains("document") || n.contains("national_id") || n == "dni" || n == "cedula" {
        Some("document")
    } else if n == "name"
        || n == "names"
        || n.ends_with("_name")
        || n.ends_with("_names")
        || n == "surname"
        || n == "surnames"
    {
        Some("name")
    } else if n == "ip" || n.ends_with("_ip") || n.starts_with("ip_") || n.contains("ip_address") {
        Some("ip")
    } else {
        None
    }
}

/// Request and response headers whose value is a credential or an address.
fn header_class(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "truora-api-key" | "authorization" | "x-api-key" | "proxy-authorization" => Some("key"),
        "cookie" | "set-cookie" => Some("cookie"),
        "x-forwarded-for" | "x-real-ip" | "forwarded" | "true-client-ip" | "cf-connecting-ip"
        | "x-client-ip" => Some("ip"),
        _ => None,
    }
}

/// Redacts the texts of one recording, learning personal values as it goes. What one text
/// costs does not depend on how many values were learned before ([`LearnedValues`]).
#[derive(Debug, Default)]
pub struct Redactor {
    learned: RwLock<LearnedValues>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    fn learn(&self, value: &str) {
        // Very short values ("a", "1") would blot out unrelated text.
        if value.chars().count() >= 3
            && let Ok(mut set) = self.learned.write()
        {
            set.insert(value);
        }
    }

    /// A header value.
    pub fn header(&self, name: &str, value: &str) -> String {
        match header_class(name) {
            Some("key") => match value.split_once(' ') {
                // `Authorization: Bearer …` keeps its scheme.
                Some((scheme, token)) if name.eq_ignore_ascii_case("authorization") => {
                    format!("{scheme} {}", key_hash(token.trim()))
                }
                _ => key_hash(value.trim()),
            },
            Some(class) => placeholder(class),
            None => self.text(value),
        }
    }

    /// A form-encoded body or a query string: sensitive fields by name, then [`Self::text`].
    pub fn form(&self, body: &str) -> String {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, v) in &pairs {
            if field_class(k).is_some() {
                self.learn(v);
            }
        }
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            let v = match field_class(k) {
                Some(class) => placeholder(class),
                None if is_url(v) => placeholder("url"),
                None => self.text(v),
            };
            out.append_pair(k, &v);
        }
        out.finish()
    }

    /// A path with an optional query string.
    pub fn path(&self, path_and_query: &str) -> String {
        match path_and_query.split_once('?') {
            Some((path, query)) => format!("{}?{}", self.text(path), self.form(query)),
            None => self.text(path_and_query),
        }
    }

    /// A body: JSON field by field, a form by its fields, anything else as text.
    pub fn body(&self, content_type: Option<&str>, body: &str) -> String {
        let ct = content_type.unwrap_or_default().to_ascii_lowercase();
        if ct.starts_with("application/x-www-form-urlencoded") {
            return self.form(body);
        }
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(mut v) if v.is_object() || v.is_array() => {
                self.learn_json(&v);
                self.json(&mut v);
                serde_json::to_string(&v).unwrap_or_else(|_| self.text(body))
            }
            _ => self.text(body),
        }
    }

    fn learn_json(&self, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map {
                    match (field_class(k), x) {
                        (Some(_), serde_json::Value::String(s)) => self.learn(s),
                        (Some(_), serde_json::Value::Number(n)) => self.learn(&n.to_string()),
                        _ => self.learn_json(x),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| self.learn_json(x)),
            _ => {}
        }
    }

    fn json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    match field_class(k) {
                        Some(class) if !x.is_object() && !x.is_array() && !x.is_null() => {
                            *x = serde_json::Value::String(placeholder(class));
                        }
                        _ => self.json(x),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|x| self.json(x)),
            serde_json::Value::String(s) if is_url(s) => *s = placeholder("url"),
            serde_json::Value::String(s) => *s = self.text(s),
            _ => {}
        }
    }

    /// Free text: learned values and IPv4 addresses.
    pub fn text(&self, s: &str) -> String {
        let out = scrub_ipv4(s);
        match self.learned.read() {
            Ok(set) => set.replace_all(&out, "[redacted]"),
            // A writer panicked mid-insert: the values it held are still there.
            Err(poisoned) => poisoned.into_inner().replace_all(&out, "[redacted]"),
        }
    }
}

fn is_url(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Replaces every dotted quad of 1–3 digit numbers, not part of a longer run of digits and
/// dots (a version like `1.2.3.4.5` is left alone).
pub fn scrub_ipv4(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let boundary_before = i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.');
        if boundary_before
            && b[i].is_ascii_digit()
            && let Some(len) = ipv4_at(&b[i..])
        {
            out.push_str(&s[copied..i]);
            out.push_str(&placeholder("ip"));
            i += len;
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// The length of a dotted quad at the start of `b`, if one is there and ends on a boundary.
fn ipv4_at(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 4 {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 3 {
            return None;
        }
        let n: u32 = std::str::from_utf8(&b[start..i]).ok()?.parse().ok()?;
        if n > 255 {
            return None;
        }
        if part < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    let after = b.get(i);
    let ends = match after {
        None => true,
        Some(c) if c.is_ascii_digit() => false,
        // `1.2.3.4.5` is not an address; `1.2.3.4.` at a sentence's end is.
        Some(b'.') => !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    };
    ends.then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_stably_and_differently() {
        assert_eq!(key_hash("secret"), key_hash("secret"));
        assert_ne!(key_hash("secret"), key_hash("secret2"));
        assert!(key_hash("secret").starts_with("key-sha256:"));
        assert_eq!(key_hash("secret").len(), "key-sha256:".len() + 16);
    }

    #[test]
    fn ipv4_addresses_go_and_versions_stay() {
        assert_eq!(
            scrub_ipv4("from 203.0.113.7, via 10.0.0.1."),
            "from [redacted:ip], via [redacted:ip]."
        );
        assert_eq!(scrub_ipv4("v1.2.3.4.5 and 1.2.3"), "v1.2.3.4.5 and 1.2.3");
        assert_eq!(scrub_ipv4("999.1.1.1"), "999.1.1.1");
    }

    #[test]
    fn form_fields_are_redacted_by_name_and_learned() {
        let r = Redactor::new();
        let out = r.form(
            "type=government&document_number=1020304050&first_name=Ana+Mar%C3%ADa&account_id=acc-1",
        );
        assert_eq!(
            out,
            "type=government&document_number=%5Bredacted%3Adocument%5D&first_name=%5Bredacted%3Aname%5D&account_id=acc-1"
        );
        assert_eq!(
            r.body(Some("application/json"), r#"{"doc":"CC 1020304050","photo":"https://cdn.example/a.jpg","client_ip":"1.2.3.4"}"#),
            r#"{"client_ip":"[redacted:ip]","doc":"CC [redacted]","photo":"[redacted:url]"}"#
        );
    }
}
