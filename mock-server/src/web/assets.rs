//! The embedded browser files. `include_str!` keeps `serve` self-contained: no asset folder to
//! ship or find at run time, and no front-end build step (plain JS and CSS).

use http::{HeaderValue, StatusCode, header};

use crate::reply::{Reply, json_response};

/// One embedded file and the path it is served at.
#[derive(Debug, PartialEq, Eq)]
pub struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// Loaded by integrators' pages on other origins (`<script type="module">` needs CORS).
    cross_origin: bool,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: &[Asset] = &[
    Asset {
        path: "/truorasdk.js",
        content_type: JS,
        body: include_str!("../../assets/truorasdk.js"),
        cross_origin: true,
    },
    Asset {
        path: "/truorasdk.css",
        content_type: CSS,
        body: include_str!("../../assets/truorasdk.css"),
        cross_origin: true,
    },
    Asset {
        path: "/dashboard",
        content_type: HTML,
        body: include_str!("../../assets/dashboard.html"),
        cross_origin: false,
    },
    Asset {
        path: "/demo",
        content_type: HTML,
        body: include_str!("../../assets/demo.html"),
        cross_origin: false,
    },
    Asset {
        path: "/assets/dashboard.js",
        content_type: JS,
        body: include_str!("../../assets/dashboard.js"),
        cross_origin: false,
    },
    Asset {
        path: "/assets/demo.js",
        content_type: JS,
        body: include_str!("../../assets/demo.js"),
        cross_origin: false,
    },
    Asset {
        path: "/assets/journey.js",
        content_type: JS,
        body: include_str!("../../assets/journey.js"),
        cross_origin: false,
    },
    Asset {
        path: "/assets/pages.css",
        content_type: CSS,
        body: include_str!("../../assets/pages.css"),
        cross_origin: false,
    },
];

/// The journey page, served for every `/journey/{validation_id}`.
static JOURNEY_PAGE: Asset = Asset {
    path: "/journey/",
    content_type: HTML,
    body: include_str!("../../assets/journey.html"),
    cross_origin: false,
};

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

/// Answers with `asset` (the router already checked the method: GET or HEAD).
pub fn serve(asset: &Asset) -> Reply {
    let mut r = json_response(StatusCode::OK, asset.body.as_bytes());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // The mock is a development tool: always serve the files of the running binary.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if asset.cross_origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    Reply::Response(r)
}
