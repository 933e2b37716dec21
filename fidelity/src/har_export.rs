//! Exchanges written as HAR 1.2 entries ([`crate::har`]).

use std::time::{Duration, SystemTime};

use crate::exchange::{Exchange, header};
use crate::har::{self, Har};

fn headers(h: &[(String, String)]) -> Vec<har::Header> {
    h.iter()
        .map(|(name, value)| har::Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn query(path: &str) -> Vec<har::Header> {
    path.split_once('?')
        .map(|(_, q)| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(name, value)| har::Header {
                    name: name.into_owned(),
                    value: value.into_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn size(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A HAR log of `exchanges` (arrival time on the proxy's clock, exchange), in that order.
pub fn har<'a>(
    epoch: SystemTime,
    base_url: &str,
    exchanges: impl Iterator<Item = (Duration, &'a Exchange)>,
) -> Har {
    let entries = exchanges
        .map(|(at, x)| {
            let req = &x.request;
            let post_data = (!req.body.is_empty()).then(|| har::PostData {
                mime_type: header(&req.headers, "content-type")
                    .unwrap_or_default()
                    .to_string(),
                text: req.body.clone(),
            });
            let response = match &x.response {
                Some(r) => har::Response {
                    status: r.status,
                    status_text: http::StatusCode::from_u16(r.status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or_default()
                        .to_string(),
                    http_version: "HTTP/1.1".into(),
                    cookies: Vec::new(),
                    headers: headers(&r.headers),
                    content: har::Content {
                        size: size(r.body.len()),
                        mime_type: r.header("content-type").unwrap_or_default().to_string(),
                        text: Some(r.body.clone()),
                    },
                    redirect_url: String::new(),
                    headers_size: -1,
                    body_size: size(r.body.len()),
                    error: None,
                },
                None => har::Response {
                    status: 0,
                    status_text: String::new(),
                    http_version: "HTTP/1.1".into(),
                    cookies: Vec::new(),
                    headers: Vec::new(),
                    content: har::Content {
                        size: 0,
                        mime_type: String::new(),
                        text: None,
                    },
                    redirect_url: String::new(),
                    headers_size: -1,
                    body_size: -1,
                    error: x.failure.map(|f| f.as_str().to_string()),
                },
            };
            let time = x.duration_ms as f64;
            har::Entry {
                started_date_time: humantime::format_rfc3339_millis(epoch + at).to_string(),
                time,
                request: har::Request {
                    method: req.method.clone(),
                    url: format!("{base_url}{}", req.path),
                    http_version: "HTTP/1.1".into(),
                    cookies: Vec::new(),
                    headers: headers(&req.headers),
                    query_string: query(&req.path),
                    post_data,
                    headers_size: -1,
                    body_size: size(req.body.len()),
                },
                response,
                cache: har::Cache {},
                timings: har::Timings {
                    send: 0.0,
                    wait: time,
                    receive: 0.0,
                },
                comment: Some(format!("truidentidad {}", x.kind.as_str())),
            }
        })
        .collect();
    Har {
        log: har::Log {
            version: "1.2".into(),
            creator: har::Creator {
                name: "truidentidad-mock record".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            entries,
        },
    }
}
