//! Revalidation and compression for what the browser side serves: strong ETags, `304 Not
//! Modified` on a matching `If-None-Match`, and gzip when `Accept-Encoding` allows it.
//!
//! Why: a dashboard left open refetches every 2 s and the pages are reloaded often while an
//! integrator works. A `304` costs a few header bytes instead of the whole body, and gzip
//! cuts what does change to a fraction; `Cache-Control: no-cache` still makes the browser ask
//! every time, so a new binary's files are never served stale.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::response_body::ResponseBody;

/// A strong entity tag for `bytes`: a hash of the exact bytes sent, quoted, with `suffix`
/// telling encodings of one file apart (a gzip body is a different representation).
pub fn etag_of(bytes: &[u8], suffix: &str) -> String {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}{suffix}\"", h.finish())
}

/// Whether `If-None-Match` names `etag` (or is `*`). Weak comparison, as RFC 9110 §13.1.2
/// asks for `If-None-Match`: a `W/` prefix on either side is ignored.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let wanted = bare(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == wanted)
}

/// Whether the client takes gzip: `gzip` or `*` listed with a non-zero quality.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
        })
}

/// `bytes` gzipped, or `None` when that would not make them smaller (tiny bodies).
pub fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::default());
    // Writing to a Vec cannot fail; an error would only mean "serve it uncompressed".
    enc.write_all(bytes).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < bytes.len()).then(|| Bytes::from(out))
}

/// A `304 Not Modified` carrying the validators and caching headers the `200` would have.
pub fn not_modified(etag: &str, cache_control: &'static str) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(Bytes::new()));
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    set_validators(r.headers_mut(), etag, cache_control);
    r
}

/// `ETag`, `Cache-Control` and `Vary: Accept-Encoding` (the body depends on that header).
pub fn set_validators(h: &mut HeaderMap, etag: &str, cache_control: &'static str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn accept_encoding_is_read_with_qualities() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1, GZIP;q=0.5"
        )])));
        assert!(accepts_gzip(&headers(&[("accept-encoding", "*")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let tag = etag_of(b"hello", "");
        assert_eq!(tag, etag_of(b"hello", ""), "stable for the same bytes");
        assert_ne!(tag, etag_of(b"hello!", ""));
        assert_ne!(tag, etag_of(b"hello", "-gz"));
        let list: &'static str = Box::leak(format!("\"other\", W/{tag}").into_boxed_str());
        assert!(none_match(&headers(&[("if-none-match", list)]), &tag));
        assert!(none_match(&headers(&[("if-none-match", "*")]), &tag));
        assert!(!none_match(
            &headers(&[("if-none-match", "\"other\"")]),
            &tag
        ));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn gzip_round_trips_and_skips_what_it_cannot_shrink() {
        let text = "the same words again and again ".repeat(50);
        let gz = gzip(text.as_bytes()).expect("repetitive text shrinks");
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        assert_eq!(out, text);
        assert_eq!(gzip(b"x"), None);
    }
}
