//! One request's path through the server, and the only place that sees all of it:
//!
//! ```text
//! router → auth → body → api::create | api::poll | control | web → faults → recorder
//! ```
//!
//! [`crate::router`] names the endpoint; this module sends the request to the stage that
//! handles it and hands the [`Reply`] to the [`Recorder`], which journals and logs it. Every
//! error is an [`ApiError`] value rendered in one place; connection faults are the only way a
//! request ends without a response, and they are chosen by a scenario, never by a bug.

use std::pin::Pin;
use std::sync::Arc;

use http::{Method, Request, Response, header};
use hyper::body::Incoming;

use crate::api::create::{self, CreateHead};
use crate::api::poll::{self, PendingFault, Polled};
use crate::auth::authorize_admin;
use crate::config::ClockMode;
use crate::error::ApiError;
use crate::exchange::{ConnInfo, Exchange};
use crate::form::truncate;
use crate::journal::{AppliedFault, FormFields, KeyState, Kind};
use crate::recorder::{Aborted, Recorder};
use crate::reply::Reply;
use crate::response_body::ResponseBody;
use crate::router::{self, ControlRoute, Route};
use crate::state::AppState;
use crate::{control, faults, web};

/// Boxes the work of a deferred path together with its recorder, which journals and logs the
/// request once the work's reply is ready (or when hyper drops the future mid-way).
macro_rules! later {
    ($record:ident, $conn:ident, |$state:ident, $ex:ident| $work:expr) => {
        Box::pin(async move {
            let reply = {
                let $state = &*$record.state;
                let $ex = &mut $record.ex;
                $work.await
            };
            $record.answer(&$conn, reply)
        })
    };
}

/// The service function: handles one request and records it.
///
/// Not an `async fn`: the poll path (and every error) is answered synchronously and handed to
/// hyper as a ready future a few dozen bytes large. Only work that has to wait (a body to
/// read, a fault's delay, the control API, the browser side) is boxed. See [`Routed`].
pub fn handle(state: &Arc<AppState>, conn: &Arc<ConnInfo>, req: Request<Incoming>) -> Handled {
    let received = state.clock.now();
    // The latency (metrics, log) is the clock's own `sent - received` when the clock follows
    // real time (one clock read fewer at each end); a manual clock stands still, so then it
    // needs a monotonic reading of its own.
    let started = (state.config.clock == ClockMode::Manual).then(std::time::Instant::now);
    let mut ex = Exchange {
        received,
        method: req.method().clone(),
        uri: req.uri().clone(),
        kind: Kind::Other,
        validation_id: None,
        api_key: KeyState::NotRequired,
        content_type: req.headers().get(header::CONTENT_TYPE).cloned(),
        form: FormFields::default(),
        fault: AppliedFault::default(),
        observed: None,
        chosen: None,
        poll_counted: false,
        skip_journal: false,
    };
    let routed = route(state, req, &mut ex);
    // The state and connection are shared with the boxed work only: the ready path borrows
    // them, so the common case touches no reference count (with several worker threads,
    // a shared count's cache line moves between cores on every request).
    match routed {
        Routed::Ready(reply) => Handled::Now(Some(
            Recorder::new(&**state, conn, started, ex).answer(conn, reply),
        )),
        // One boxed future per path, each only as large as its own state: a single future
        // over all of them was 3.4 KB, allocated and copied on every create.
        Routed::Deferred(work) => Handled::Later({
            let mut record = Recorder::new(Arc::clone(state), conn, started, ex);
            let conn = Arc::clone(conn);
            match work {
                Deferred::Create(head) => {
                    later!(record, conn, |state, ex| create::create(
                        state, &conn, head, ex
                    ))
                }
                Deferred::Adapter(req) => {
                    later!(record, conn, |state, ex| web::adapter::route(
                        state, req, ex
                    ))
                }
                Deferred::Control(req) => {
                    later!(record, conn, |state, ex| control::route(state, req, ex))
                }
                Deferred::RemotePoll(asked) => {
                    later!(record, conn, |state, ex| poll::poll_remote(
                        state, asked, ex
                    ))
                }
                Deferred::PollFault(PendingFault {
                    scenario,
                    fault,
                    entropy,
                    ok_body,
                }) => later!(record, conn, |state, ex| faults::apply(
                    &fault,
                    entropy,
                    &state.catalogue.get(scenario).name,
                    ok_body,
                    ex
                )),
            }
        }),
    }
}

/// What hyper awaits for one request: an answer already made, or boxed work.
pub enum Handled {
    Now(Option<Result<Response<ResponseBody>, Aborted>>),
    Later(Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Aborted>> + Send>>),
}

impl Future for Handled {
    type Output = Result<Response<ResponseBody>, Aborted>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            // Polled again after it completed (a contract violation): end the connection.
            Handled::Now(answer) => {
                std::task::Poll::Ready(answer.take().unwrap_or(Err(Aborted("close"))))
            }
            Handled::Later(work) => work.as_mut().poll(cx),
        }
    }
}

/// A request's answer: ready at once (the poll path, every error), or work that has to wait
/// (reading a body, a fault's delay, the control API, the browser side).
///
/// Why not one `async fn`: hyper moves each request's future into place, and an `async`
/// dispatcher's future is as large as the largest path it might take (over 2 KB here), so
/// every poll paid for copying the create, control and fault paths' state. Routing is
/// synchronous instead, and only the paths that wait box their future.
enum Routed {
    Ready(Reply),
    Deferred(Deferred),
}

/// The paths that wait, and what each needs besides the server state and the exchange.
enum Deferred {
    /// A create whose head passed the checks: only the body is left to read.
    Create(CreateHead),
    /// The Web Adapter: most of its endpoints read a body.
    Adapter(Request<Incoming>),
    Control(Request<Incoming>),
    /// A fault on a poll, applied to the answer it replaces or delays.
    PollFault(PendingFault),
    /// A poll the backend answers by awaiting (Redis).
    RemotePoll(poll::Asked),
}

impl From<Reply> for Routed {
    fn from(r: Reply) -> Self {
        Routed::Ready(r)
    }
}

impl From<ApiError> for Routed {
    fn from(e: ApiError) -> Self {
        Routed::Ready(e.into())
    }
}

fn route(state: &AppState, req: Request<Incoming>, ex: &mut Exchange) -> Routed {
    // The exchange already holds the target; lend it out for routing rather than clone it
    // once more (each clone of a `Uri` takes and releases a shared count).
    let uri = std::mem::take(&mut ex.uri);
    let route = router::route(req.method(), uri.path());
    ex.kind = route.kind();
    let routed = dispatch(state, req, route, ex);
    ex.uri = uri;
    routed
}

/// Sends a routed request to the stage that handles it.
fn dispatch(
    state: &AppState,
    req: Request<Incoming>,
    route: Route<'_>,
    ex: &mut Exchange,
) -> Routed {
    match route {
        Route::Create => match create::check_create(state, req, ex) {
            Ok(head) => Routed::Deferred(Deferred::Create(head)),
            Err(e) => e.into(),
        },
        Route::Poll(id) => match poll::poll(state, &req, id, ex) {
            Polled::Ready(reply) => Routed::Ready(reply),
            Polled::Fault(f) => Routed::Deferred(Deferred::PollFault(f)),
            Polled::Remote(asked) => Routed::Deferred(Deferred::RemotePoll(asked)),
        },
        Route::Control(ControlRoute { open, .. }) => {
            if !open && let Err(e) = authorize_admin(state, req.headers(), req.uri().query()) {
                return e.into();
            }
            Routed::Deferred(Deferred::Control(req))
        }
        Route::Adapter(_) => Routed::Deferred(Deferred::Adapter(req)),
        Route::Dashboard(route) => web::dashboard::route(state, &req, route, ex).into(),
        Route::Asset(asset) => web::assets::serve(asset, req.headers()).into(),
        Route::Index => {
            let body = serde_json::json!({
                "name": "truidentidad-mock",
                "api": ["POST /v1/validations", "GET /v1/validations/{validation_id}"],
                "control": "/_mock/",
                "openapi": "/_mock/openapi.yaml",
            });
            Reply::json(body.to_string()).into()
        }
        Route::WrongMethod { allow, .. } => {
            ApiError::method_not_allowed(req.method(), req.uri().path(), allow).into()
        }
        Route::NotFound(_) => not_found(req.method(), req.uri().path()).into(),
    }
}

fn not_found(method: &Method, path: &str) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {method} {}; the mock serves POST /v1/validations, GET /v1/validations/{{validation_id}} and its control API under /_mock/",
        truncate(path, 128)
    ))
}
