//! The embedded browser files. `include_str!` keeps `serve` self-contained: no asset folder to
//! ship or find at run time, and no front-end build step (plain JS and CSS).

use http::{HeaderValue, Method, Request, StatusCode, header};

use crate::error::ApiError;
use crate::service::{Reply, json_response};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// Loaded by integrators' pages on other origins (`<script type="module">` needs CORS).
    cross_origin: bool,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ASSETS: &[Asset] = &[
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

const JOURNEY_PAGE: &str = include_str!("../../assets/journey.html");
const JOURNEY_PREFIX: &str = "/journey/";

fn find(path: &str) -> Option<(&'static str, &'static str, bool)> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    if path.starts_with(JOURNEY_PREFIX) {
        return Some((HTML, JOURNEY_PAGE, false));
    }
    ASSETS
        .iter()
        .find(|a| a.path == path)
        .map(|a| (a.content_type, a.body, a.cross_origin))
}

pub fn handles(path: &str) -> bool {
    find(path).is_some()
}

pub fn serve<B>(req: &Request<B>) -> Option<Reply> {
    let (content_type, body, cross_origin) = find(req.uri().path())?;
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Some(ApiError::method_not_allowed(req.method(), req.uri().path(), "GET").into());
    }
    let mut r = json_response(StatusCode::OK, body.as_bytes());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The mock is a development tool: always serve the files of the running binary.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if cross_origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    Some(Reply::Response(r))
}
