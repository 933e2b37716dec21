//! The embedded browser files. `include_str!` keeps `serve` self-contained: no asset folder to
//! ship or find at run time, and no front-end build step (plain JS and CSS).
//!
//! Each file is served with a strong `ETag` and `Cache-Control: no-cache`, so the browser
//! revalidates every time (the running binary's files always win) and gets a `304` when it
//! already has them; gzip is used when the client accepts it. Both the tag and the gzip body
//! are worked out once per file, on first use ([`OnceLock`]), not per request.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::http_cache::{self, accepts_gzip, etag_of, none_match, set_validators};
use crate::reply::{Reply, json_response};

/// One embedded file and the path it is served at.
#[derive(Debug, PartialEq, Eq)]
pub struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// Loaded by integrators' pages on other origins (`<script type="module">` needs CORS).
    cross_origin: bool,
    encoded: OnceLock<Encoded>,
}

/// What is derived from a file's bytes once: its tags and its gzip body.
#[derive(Debug, PartialEq, Eq)]
struct Encoded {
    etag: String,
    /// `None` when gzip would not make the file smaller.
    gzip: Option<(Bytes, String)>,
}

impl Asset {
    const fn new(
        path: &'static str,
        content_type: &'static str,
        body: &'static str,
        cross_origin: bool,
    ) -> Self {
        Asset {
            path,
            content_type,
            body,
            cross_origin,
            encoded: OnceLock::new(),
        }
    }

    fn encoded(&self) -> &Encoded {
        self.encoded.get_or_init(|| Encoded {
            etag: etag_of(self.body.as_bytes(), ""),
            gzip: http_cache::gzip(self.body.as_bytes()).map(|gz| {
                // Tagged from the plain bytes: one tag per file and encoding, stable across runs.
                let tag = etag_of(self.body.as_bytes(), "-gz");
                (gz, tag)
            }),
        })
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const FAVICON: &str = include_str!("../../assets/favicon.svg");

/// Revalidate on every use: the mock is a development tool, a new binary's files must show.
const CACHE_CONTROL: &str = "no-cache";

static ASSETS: [Asset; 13] = [
    Asset::new("/favicon.ico", SVG, FAVICON, false),
    Asset::new("/favicon.svg", SVG, FAVICON, false),
    Asset::new(
        "/truorasdk.js",
        JS,
        include_str!("../../assets/truorasdk.js"),
        true,
    ),
    Asset::new(
        "/truorasdk.css",
        CSS,
        include_str!("../../assets/truorasdk.css"),
        true,
    ),
    Asset::new(
        "/dashboard",
        HTML,
        include_str!("../../assets/dashboard.html"),
        false,
    ),
    Asset::new("/demo", HTML, include_str!("../../assets/demo.html"), false),
    // The WebView host page; its query (validation_id, lang) is read by its script.
    Asset::new(
        "/sdk/webview",
        HTML,
        include_str!("../../assets/webview.html"),
        false,
    ),
    Asset::new(
        "/assets/webview.js",
        JS,
        include_str!("../../assets/webview.js"),
        false,
    ),
    Asset::new(
        "/assets/dashboard.js",
        JS,
        include_str!("../../assets/dashboard.js"),
        false,
    ),
    Asset::new(
        "/assets/admin-token.js",
        JS,
        include_str!("../../assets/admin-token.js"),
        false,
    ),
    Asset::new(
        "/assets/demo.js",
        JS,
        include_str!("../../assets/demo.js"),
        false,
    ),
    Asset::new(
        "/assets/journey.js",
        JS,
        include_str!("../../assets/journey.js"),
        false,
    ),
    Asset::new(
        "/assets/pages.css",
        CSS,
        include_str!("../../assets/pages.css"),
        false,
    ),
];

/// The journey page, served for every `/journey/{validation_id}`.
static JOURNEY_PAGE: Asset = Asset::new(
    "/journey/",
    HTML,
    include_str!("../../assets/journey.html"),
    false,
);

/// The file served at `path`, if any (a trailing `/` is ignored).
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    if path.starts_with(JOURNEY_PAGE.path) {
        return Some(&JOURNEY_PAGE);
    }
    ASSETS.iter().find(|a| a.path == path)
}

/// Answers with `asset` (the router already checked the method: GET or HEAD; hyper leaves
/// the body out of a HEAD answer but keeps its headers, `Content-Length` included).
pub fn serve(asset: &Asset, req: &HeaderMap) -> Reply {
    let enc = asset.encoded();
    let gzip = enc.gzip.as_ref().filter(|_| accepts_gzip(req));
    let etag = gzip.map_or(enc.etag.as_str(), |(_, t)| t.as_str());
    let mut r = if none_match(req, etag) {
        http_cache::not_modified(etag, CACHE_CONTROL)
    } else {
        let body = gzip.map_or_else(
            || Bytes::from_static(asset.body.as_bytes()),
            |(b, _)| b.clone(),
        );
        let mut r = json_response(StatusCode::OK, body);
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        if gzip.is_some() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        set_validators(h, etag, CACHE_CONTROL);
        r
    };
    if asset.cross_origin {
        r.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    Reply::Response(r)
}
