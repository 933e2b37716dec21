//! What the journal and the log learn about a request while it is handled, and what the
//! accept loop knows about its connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method};

use truidentidad_scenarios::catalogue::ScenarioId;

use crate::conn::ConnControl;
use crate::ids::ValidationId;
use crate::journal::{AppliedFault, FormFields, KeyState, Kind, Observed};
use crate::store::ChosenBy;

/// How a create's scenario was chosen: what its log line says, and, for a magic
/// `account_id` a typo away from a scenario name, the scenario it probably meant.
#[derive(Debug, Clone, Copy)]
pub struct Chosen {
    pub scenario: ScenarioId,
    pub by: ChosenBy,
    pub near_miss: Option<ScenarioId>,
}

/// What the accept loop knows about a connection.
#[derive(Debug)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    pub control: Arc<ConnControl>,
}

/// One request as it is being handled: each stage fills in what it learns, and the recorder
/// writes it to the journal and the log once the request is answered.
#[derive(Debug)]
pub struct Exchange {
    pub received: Duration,
    pub method: Method,
    /// The request target; cloning a `Uri` shares its bytes, so this costs no allocation
    /// until the journal copies the path out of it.
    pub uri: http::Uri,
    pub kind: Kind,
    pub validation_id: Option<ValidationId>,
    pub api_key: KeyState,
    /// Kept as the header value (sharing the request's bytes) and turned into text only
    /// when the journal records it.
    pub content_type: Option<HeaderValue>,
    pub form: FormFields,
    pub fault: AppliedFault,
    /// The validation state the response body carries, if it carries one.
    pub observed: Option<Observed>,
    /// On a create that stored a validation: how its scenario was chosen, for the log line.
    pub chosen: Option<Chosen>,
    /// The store counted this request as a poll of its validation: set by the poll handler
    /// once the store's poll step answered, whatever the response then became (a scenario's
    /// own 429 or 503 on that poll was counted; a rate limit's or brown-out's was not). What
    /// the control API replays a validation's polls from: evidence, not a guess from the status.
    pub poll_counted: bool,
    /// Leaves the request out of the journal: the dashboard's own refreshes would otherwise
    /// crowd out the requests an integrator is looking for.
    pub skip_journal: bool,
}
