//! The browser side (issue #6): stand-in Web SDK script, Web Adapter, dashboard and demo.

use http::Request;
use hyper::body::Incoming;

use crate::error::ApiError;
use crate::service::{Exchange, Reply};
use crate::state::AppState;

/// Whether `path` belongs to the browser side.
pub fn handles(_path: &str) -> bool {
    false
}

pub async fn route(_state: &AppState, req: Request<Incoming>, _ex: &mut Exchange) -> Reply {
    ApiError::not_found(format!("no page {}", req.uri().path())).into()
}
