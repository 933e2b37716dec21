//! The embedded files as a browser receives them: gzip when accepted, a strong ETag that
//! turns a repeat request into a `304`, revalidation on every use, a favicon, and HEAD.

mod common;

use std::io::Read;

use common::*;

async fn fetch(
    server: &truidentidad_mock_server::MockServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    request(server.address(), method, path, headers, b"").await
}

/// The headers a client caches by, in a stable order, hashes hidden.
fn cache_headers(r: &Resp) -> String {
    let mut out = format!("{}\n", r.status);
    for name in [
        "content-type",
        "content-encoding",
        "content-length",
        "etag",
        "cache-control",
        "vary",
        "access-control-allow-origin",
    ] {
        if let Some(v) = r.header(name) {
            let v = if name == "content-length" { "[n]" } else { v };
            out.push_str(&format!("{name}: {v}\n"));
        }
    }
    out
}

fn gunzip(body: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut out)
        .expect("a gzip body");
    out
}

#[tokio::test]
async fn files_are_gzipped_when_the_client_accepts_it() {
    let server = manual_server().await;
    let plain = fetch(&server, "GET", "/assets/pages.css", &[]).await;
    let gz = fetch(
        &server,
        "GET",
        "/assets/pages.css",
        &[("Accept-Encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert!(
        gz.body.len() * 2 < plain.body.len(),
        "{} vs {} bytes",
        gz.body.len(),
        plain.body.len()
    );
    assert_eq!(gunzip(&gz.body), plain.text());
    assert_ne!(
        plain.header("etag"),
        gz.header("etag"),
        "one tag per representation"
    );
    let refused = fetch(
        &server,
        "GET",
        "/assets/pages.css",
        &[("Accept-Encoding", "gzip;q=0, identity")],
    )
    .await;
    assert_eq!(refused.header("content-encoding"), None);

    let sdk = fetch(
        &server,
        "GET",
        "/truorasdk.js",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    let page = fetch(&server, "GET", "/dashboard", &[]).await;
    let mut s = redactions();
    s.add_filter(r#""[0-9a-f]{16}(-gz)?""#, "\"[hash]$1\"");
    s.bind(|| {
        insta::assert_snapshot!(
            "asset_headers",
            format!(
                "GET /truorasdk.js, Accept-Encoding: gzip\n{}\nGET /dashboard\n{}",
                cache_headers(&sdk),
                cache_headers(&page)
            )
        );
    });
}

#[tokio::test]
async fn a_matching_etag_gets_a_304_and_the_browser_must_revalidate() {
    let server = manual_server().await;
    for enc in ["", "gzip"] {
        let first = fetch(&server, "GET", "/truorasdk.js", &[("Accept-Encoding", enc)]).await;
        let tag = first.header("etag").expect("an ETag").to_string();
        assert!(
            tag.starts_with('"') && tag.ends_with('"'),
            "a strong tag: {tag}"
        );
        assert_eq!(first.header("cache-control"), Some("no-cache"));
        assert_eq!(first.header("vary"), Some("Accept-Encoding"));

        let again = fetch(
            &server,
            "GET",
            "/truorasdk.js",
            &[("Accept-Encoding", enc), ("If-None-Match", &tag)],
        )
        .await;
        assert_eq!(again.status, 304, "{enc:?}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        assert_eq!(
            again.header("access-control-allow-origin"),
            Some("*"),
            "CORS on the 304 too"
        );

        let stale = fetch(
            &server,
            "GET",
            "/truorasdk.js",
            &[
                ("Accept-Encoding", enc),
                ("If-None-Match", "\"0000000000000000\""),
            ],
        )
        .await;
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body, first.body);
    }
}

#[tokio::test]
async fn head_answers_with_the_headers_of_get_and_no_body() {
    let server = manual_server().await;
    let get = fetch(&server, "GET", "/demo", &[("Accept-Encoding", "gzip")]).await;
    let head = fetch(&server, "HEAD", "/demo", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for h in ["etag", "content-encoding", "content-type", "content-length"] {
        assert_eq!(head.header(h), get.header(h), "{h}");
    }
    let tag = get.header("etag").unwrap().to_string();
    let cond = fetch(
        &server,
        "HEAD",
        "/demo",
        &[("Accept-Encoding", "gzip"), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(cond.status, 304);
}

#[tokio::test]
async fn the_favicon_is_served_and_linked_from_the_pages() {
    let server = manual_server().await;
    for path in ["/favicon.ico", "/favicon.svg"] {
        let r = fetch(&server, "GET", path, &[]).await;
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some("image/svg+xml")),
            "{path}"
        );
        assert!(r.text().starts_with("<svg"));
    }
    for page in ["/demo", "/dashboard"] {
        let html = fetch(&server, "GET", page, &[]).await.text();
        assert!(
            html.contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#),
            "{page}"
        );
    }
}
