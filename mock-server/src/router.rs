//! The one place that knows the server's paths: a request's method and path, parsed once into
//! a [`Route`]. Every surface (the API, the control API, the Web Adapter, the dashboard's data
//! and the embedded files) is a variant, so a handler matches on what was asked, never on
//! text, and a new endpoint is added here or nowhere.
//!
//! The router only names the endpoint. Checks that can fail with a message of their own (the
//! admin token, an id that does not parse) stay with the handler, in the order the handler
//! has always made them, so a request with two mistakes gets the same error as before.

use http::Method;

use crate::journal::Kind;
use crate::web::assets::{self, Asset};

/// Prefix of the Web Adapter, the stand-in SDK's backend.
pub const ADAPTER_PREFIX: &str = "/web-adapter/v1/validations/";
/// Prefix of the dashboard's data.
pub const DASHBOARD_PREFIX: &str = "/dashboard/api/validations";
/// The dashboard's live chart of API requests per second.
pub const DASHBOARD_TRAFFIC: &str = "/dashboard/api/traffic";
/// Prefix of the control API.
pub const CONTROL_PREFIX: &str = "/_mock";

/// What a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `POST /v1/validations`.
    Create,
    /// `GET` (or `HEAD`) `/v1/validations/{id}`, the id as sent.
    Poll(&'a str),
    /// `GET /`: what this server is.
    Index,
    Control(ControlRoute<'a>),
    Adapter(AdapterRoute<'a>),
    Dashboard(DashboardRoute<'a>),
    /// An embedded file (the SDK script, a page, the journey page).
    Asset(&'static Asset),
    /// A path that exists, asked for with a method it does not take.
    WrongMethod {
        kind: Kind,
        allow: &'static str,
    },
    /// No such endpoint.
    NotFound(Kind),
}

/// The control API, under `/_mock/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlRoute<'a> {
    pub endpoint: ControlEndpoint<'a>,
    /// Readiness probes and API clients must reach these without the admin token.
    pub open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEndpoint<'a> {
    Health,
    OpenApi,
    Scenarios,
    Validations,
    Validation(&'a str),
    Complete(&'a str),
    SetScenario(&'a str),
    Arm,
    Clock,
    ClockAdvance,
    Reset,
    Journal,
    Metrics,
    WrongMethod(&'static str),
    Unknown,
}

/// The Web Adapter, under [`ADAPTER_PREFIX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterRoute<'a> {
    /// A CORS preflight, answered the same for every adapter path.
    Preflight,
    /// The prefix alone, with no validation id.
    NoId,
    /// An endpoint of one validation, the id as sent.
    At {
        id: &'a str,
        endpoint: AdapterEndpoint<'a>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterEndpoint<'a> {
    /// `GET`: the validation's journey state.
    State,
    /// `POST open`: the SDK opened the journey.
    Open,
    /// `POST steps/liveness`: the video upload.
    Liveness,
    /// `POST steps/{step}`: any other step, named as sent.
    Step(&'a str),
    /// `GET handoff.svg`: the QR code to continue on a phone.
    Handoff,
    WrongMethod(&'static str),
    Unknown,
}

/// The dashboard's data, under [`DASHBOARD_PREFIX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardRoute<'a> {
    List,
    /// API requests per second, for the live chart.
    Traffic,
    /// One validation, the id as sent.
    Detail(&'a str),
    WrongMethod,
}

impl Route<'_> {
    /// The journal's name for the surface this request reached.
    pub fn kind(&self) -> Kind {
        match self {
            Route::Create => Kind::Create,
            Route::Poll(_) => Kind::Poll,
            Route::Index => Kind::Other,
            Route::Control(_) => Kind::Control,
            Route::Adapter(_) => Kind::WebAdapter,
            Route::Dashboard(_) | Route::Asset(_) => Kind::Web,
            Route::WrongMethod { kind, .. } | Route::NotFound(kind) => *kind,
        }
    }
}

/// Parses a request's method and path.
pub fn route<'a>(method: &Method, path: &'a str) -> Route<'a> {
    if path == "/v1/validations" {
        return if method == Method::POST {
            Route::Create
        } else {
            Route::WrongMethod {
                kind: Kind::Create,
                allow: "POST",
            }
        };
    }
    if let Some(id) = path.strip_prefix("/v1/validations/") {
        if id.is_empty() || id.contains('/') {
            return Route::NotFound(Kind::Poll);
        }
        // HEAD is a GET without the body (RFC 9110); hyper drops the body. Truora's answer to
        // HEAD is unknown: see docs/fidelity.md.
        return if method == Method::GET || method == Method::HEAD {
            Route::Poll(id)
        } else {
            Route::WrongMethod {
                kind: Kind::Poll,
                allow: "GET, HEAD",
            }
        };
    }
    if let Some(rest) = path.strip_prefix(ADAPTER_PREFIX) {
        return Route::Adapter(adapter(method, rest));
    }
    if let Some(rest) = path.strip_prefix(DASHBOARD_PREFIX) {
        return Route::Dashboard(dashboard(method, rest));
    }
    if path.trim_end_matches('/') == DASHBOARD_TRAFFIC {
        return Route::Dashboard(if method == Method::GET {
            DashboardRoute::Traffic
        } else {
            DashboardRoute::WrongMethod
        });
    }
    if let Some(asset) = assets::find(path) {
        return if method == Method::GET || method == Method::HEAD {
            Route::Asset(asset)
        } else {
            Route::WrongMethod {
                kind: Kind::Web,
                allow: "GET",
            }
        };
    }
    if let Some(rest) = path.strip_prefix(CONTROL_PREFIX)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        return Route::Control(ControlRoute {
            endpoint: control(method, rest),
            open: matches!(rest, "/health" | "/openapi.yaml"),
        });
    }
    if path == "/" {
        return if method == Method::GET {
            Route::Index
        } else {
            Route::WrongMethod {
                kind: Kind::Other,
                allow: "GET",
            }
        };
    }
    Route::NotFound(Kind::Other)
}

/// Non-empty path segments: `a//b/` is `a`, `b`, as the handlers have always read them.
fn segments(rest: &str) -> Vec<&str> {
    rest.split('/').filter(|s| !s.is_empty()).collect()
}

fn control<'a>(method: &Method, rest: &'a str) -> ControlEndpoint<'a> {
    use ControlEndpoint as C;
    let get = |e| {
        if method == Method::GET {
            e
        } else {
            C::WrongMethod("GET")
        }
    };
    let post = |e| {
        if method == Method::POST {
            e
        } else {
            C::WrongMethod("POST")
        }
    };
    match segments(rest).as_slice() {
        ["health"] => get(C::Health),
        ["openapi.yaml"] => get(C::OpenApi),
        ["scenarios"] => get(C::Scenarios),
        ["validations"] => get(C::Validations),
        ["validations", id] => get(C::Validation(id)),
        ["validations", id, "complete"] => post(C::Complete(id)),
        ["validations", id, "scenario"] => post(C::SetScenario(id)),
        ["arm"] => post(C::Arm),
        ["clock"] => get(C::Clock),
        ["clock", "advance"] => post(C::ClockAdvance),
        ["reset"] => post(C::Reset),
        ["journal"] => get(C::Journal),
        ["metrics"] => get(C::Metrics),
        _ => C::Unknown,
    }
}

fn adapter<'a>(method: &Method, rest: &'a str) -> AdapterRoute<'a> {
    use AdapterEndpoint as A;
    if method == Method::OPTIONS {
        return AdapterRoute::Preflight;
    }
    let segments = segments(rest);
    let Some((id, tail)) = segments.split_first() else {
        return AdapterRoute::NoId;
    };
    let only = |allowed: Method, e| {
        if method == allowed {
            e
        } else {
            A::WrongMethod(if allowed == Method::GET {
                "GET"
            } else {
                "POST"
            })
        }
    };
    let endpoint = match tail {
        [] => only(Method::GET, A::State),
        ["open"] => only(Method::POST, A::Open),
        ["steps", "liveness"] => only(Method::POST, A::Liveness),
        ["steps", step] => only(Method::POST, A::Step(step)),
        ["handoff.svg"] => only(Method::GET, A::Handoff),
        _ => A::Unknown,
    };
    AdapterRoute::At { id, endpoint }
}

fn dashboard<'a>(method: &Method, rest: &'a str) -> DashboardRoute<'a> {
    if method != Method::GET {
        return DashboardRoute::WrongMethod;
    }
    match rest.trim_end_matches('/').trim_start_matches('/') {
        "" => DashboardRoute::List,
        id => DashboardRoute::Detail(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths() {
        assert_eq!(route(&Method::POST, "/v1/validations"), Route::Create);
        assert_eq!(
            route(&Method::GET, "/v1/validations/VLD1"),
            Route::Poll("VLD1")
        );
        assert_eq!(
            route(&Method::HEAD, "/v1/validations/VLD1"),
            Route::Poll("VLD1")
        );
        assert_eq!(
            route(&Method::DELETE, "/v1/validations/VLD1"),
            Route::WrongMethod {
                kind: Kind::Poll,
                allow: "GET, HEAD"
            }
        );
        assert_eq!(
            route(&Method::GET, "/v1/validations/a/b"),
            Route::NotFound(Kind::Poll)
        );
        assert_eq!(route(&Method::GET, "/"), Route::Index);
        assert_eq!(route(&Method::GET, "/v2"), Route::NotFound(Kind::Other));
    }

    #[test]
    fn control_paths_and_which_are_open() {
        let r = route(&Method::GET, "/_mock/health");
        assert_eq!(
            r,
            Route::Control(ControlRoute {
                endpoint: ControlEndpoint::Health,
                open: true
            })
        );
        let r = route(&Method::GET, "/_mock/health/");
        assert!(matches!(
            r,
            Route::Control(ControlRoute { open: false, .. })
        ));
        assert_eq!(
            route(&Method::POST, "/_mock/validations/VLD1/complete"),
            Route::Control(ControlRoute {
                endpoint: ControlEndpoint::Complete("VLD1"),
                open: false
            })
        );
        assert_eq!(
            route(&Method::GET, "/_mock/reset"),
            Route::Control(ControlRoute {
                endpoint: ControlEndpoint::WrongMethod("POST"),
                open: false
            })
        );
        assert_eq!(
            route(&Method::GET, "/_mockery"),
            Route::NotFound(Kind::Other)
        );
    }

    #[test]
    fn browser_paths() {
        assert_eq!(
            route(
                &Method::POST,
                "/web-adapter/v1/validations/VLD1/steps/consent"
            ),
            Route::Adapter(AdapterRoute::At {
                id: "VLD1",
                endpoint: AdapterEndpoint::Step("consent")
            })
        );
        assert_eq!(
            route(&Method::OPTIONS, "/web-adapter/v1/validations/x"),
            Route::Adapter(AdapterRoute::Preflight)
        );
        assert_eq!(
            route(&Method::GET, "/dashboard/api/validations/VLD1/"),
            Route::Dashboard(DashboardRoute::Detail("VLD1"))
        );
        assert!(matches!(
            route(&Method::GET, "/journey/VLD1"),
            Route::Asset(_)
        ));
        assert_eq!(
            route(&Method::POST, "/truorasdk.js"),
            Route::WrongMethod {
                kind: Kind::Web,
                allow: "GET"
            }
        );
    }
}
