//! What the store keeps of one validation: the few facts the scenario engine's pure
//! `observe` needs, and nothing it could compute.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use truidentidad_scenarios::catalogue::ScenarioId;
use truidentidad_scenarios::{Catalogue, Observation, Outcome, ValidationFacts, observe};

use super::journey::Journey;
use super::person::{self, Person};
use crate::ids::ValidationId;

/// Optional create parameters, shared (`Arc`) so the copy of a record a poll takes costs no
/// allocation.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreateParams {
    pub user_authorized: Option<bool>,
    pub country: Option<String>,
    pub threshold: Option<f64>,
    pub document_number: Option<String>,
    /// With `--key-isolation`, the fingerprint of the key that created the validation
    /// ([`crate::auth::Owner`]); other keys get a 404.
    pub owner: Option<u64>,
}

/// What picked a validation's scenario, lowest precedence first: on create the strongest
/// selector present wins, and a document number typed later in the journey replaces the
/// scenario only when nothing stronger than a document number chose it (README, "Test
/// identities"). Kept so the journey can tell, without re-reading the create's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum ChosenBy {
    /// `serve --mix` or the default scenario: nothing asked for one.
    #[default]
    Default,
    /// The next armed scenario (`POST /_mock/arm`).
    Armed,
    /// A test identity's document number (create's `document_number`, or typed in the journey).
    Document,
    /// A magic `account_id`.
    AccountId,
    /// The `X-Mock-Scenario` header.
    Header,
    /// `POST /_mock/validations/{id}/scenario`, after the create: final.
    Control,
}

impl ChosenBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ChosenBy::Default => "default",
            ChosenBy::Armed => "armed",
            ChosenBy::Document => "document_number",
            ChosenBy::AccountId => "account_id",
            ChosenBy::Header => "header",
            ChosenBy::Control => "control",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ChosenBy::Default,
            ChosenBy::Armed,
            ChosenBy::Document,
            ChosenBy::AccountId,
            ChosenBy::Header,
            ChosenBy::Control,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// The stored facts of one validation.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: ValidationId,
    /// Creation order (0-based since start or the last reset); seeds per-validation draws.
    pub seq: u64,
    pub account_id: Arc<str>,
    pub scenario: ScenarioId,
    /// What picked `scenario`.
    pub chosen_by: ChosenBy,
    pub created: Duration,
    pub timeout: Duration,
    /// Every poll received.
    pub polls_total: u32,
    /// Polls received before the timeout (what poll-driven phases count).
    pub polls_counted: u32,
    /// A forced outcome or a scenario switch, once either happened (see [`Changes`]).
    pub changes: Option<Box<Changes>>,
    pub ip: IpAddr,
    pub params: Option<Arc<CreateParams>>,
    /// The browser journey, once the Web SDK opened this validation (see [`crate::web`]).
    /// Boxed: API-only validations never have one and keep the record small.
    pub journey: Option<Box<Journey>>,
}

/// What a validation can be told after its creation: an outcome forced on it (control API,
/// the browser journey) and the scenario switched under it. Boxed out of [`Record`]: nearly
/// every stored validation sees neither, and a smaller record is fewer cache lines written
/// per create and 48 bytes less per stored validation (a million at the default cap).
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    pub forced: Option<(Outcome, Duration)>,
    /// When the current scenario was attached (`created` until a switch).
    pub scenario_start: Duration,
    /// Polls counted before the current scenario was attached.
    pub polls_at_scenario_start: u32,
}

impl Record {
    /// The outcome forced on this validation and when, if any.
    pub fn forced(&self) -> Option<(Outcome, Duration)> {
        self.changes.as_ref().and_then(|c| c.forced)
    }

    /// When the current scenario was attached: `created` unless it was switched.
    pub fn scenario_start(&self) -> Duration {
        self.changes
            .as_ref()
            .map_or(self.created, |c| c.scenario_start)
    }

    /// Polls counted before the current scenario was attached.
    pub fn polls_at_scenario_start(&self) -> u32 {
        self.changes
            .as_ref()
            .map_or(0, |c| c.polls_at_scenario_start)
    }

    fn changes_mut(&mut self) -> &mut Changes {
        let created = self.created;
        self.changes.get_or_insert_with(|| {
            Box::new(Changes {
                forced: None,
                scenario_start: created,
                polls_at_scenario_start: 0,
            })
        })
    }

    /// Forces `outcome` as of `now`.
    pub fn force(&mut self, outcome: Outcome, now: Duration) {
        self.changes_mut().forced = Some((outcome, now));
    }

    /// Attaches `scenario`, chosen `by`, whose timeline and poll count start now; holds of a
    /// journey before now no longer apply to it. One method for every store and the journey,
    /// so a switch means the same wherever it happens (the Redis store once left `chosen_by`
    /// as it was, so a test identity typed later could undo a control switch).
    pub fn switch_scenario(&mut self, scenario: ScenarioId, by: ChosenBy, now: Duration) {
        self.scenario = scenario;
        self.chosen_by = by;
        let polls = self.polls_counted;
        let c = self.changes_mut();
        c.scenario_start = now;
        c.polls_at_scenario_start = polls;
        if let Some(j) = self.journey.as_mut() {
            j.rebase_hold(now);
        }
    }

    pub fn facts(&self, now: Duration) -> ValidationFacts {
        // While the user is in the browser journey the scenario's timeline is on hold (see
        // `Journey::held`), so an outcome never arrives before the video does.
        let (held, held_polls) = self
            .journey
            .as_deref()
            .map_or((Duration::ZERO, 0), |j| j.held(now));
        ValidationFacts {
            since_creation: now.saturating_sub(self.created),
            since_scenario_start: now
                .saturating_sub(self.scenario_start())
                .saturating_sub(held),
            polls: self
                .polls_counted
                .saturating_sub(self.polls_at_scenario_start())
                .saturating_sub(held_polls),
            timeout: self.timeout,
            forced: self.forced().map(|(o, _)| o),
        }
    }

    /// What the person did in the browser journey, if one exists (see [`super::person`]).
    fn person(&self) -> Option<Person> {
        self.journey.as_deref().map(|j| Person {
            opened: j.opened,
            uploaded: j.uploaded_at.is_some(),
        })
    }

    pub fn observe(&self, catalogue: &Catalogue, now: Duration) -> Observation {
        let person = self.person();
        let mut facts = self.facts(now);
        if person.is_some_and(|p| p.uploaded) {
            // The person met their deadline; what follows is TruIdentidad's processing.
            facts.timeout = Duration::MAX;
        }
        let observation = observe(
            person::scenario_for(catalogue, self.scenario, person),
            &facts,
        );
        if facts.forced.is_some() {
            return observation;
        }
        person::expiry_for(observation, person)
    }

    /// Counts one poll arriving at `now` and returns the poll's number. Every poll counts in
    /// `polls_total`; only polls before an expiring scenario's timeout move poll-driven
    /// phases (and the journey's count). The one rule both stores apply, so a replica on
    /// Redis counts exactly as the in-memory store does.
    pub fn count_poll(&mut self, catalogue: &Catalogue, now: Duration) -> u32 {
        let in_time = !(catalogue.get(self.scenario).expires
            && now.saturating_sub(self.created) >= self.timeout);
        self.polls_total = self.polls_total.saturating_add(1);
        if in_time {
            self.polls_counted = self.polls_counted.saturating_add(1);
            if let Some(j) = self.journey.as_mut() {
                j.count_poll();
            }
        }
        self.polls_total
    }

    /// The earliest moment, up to `now`, at which this validation was terminal, given when
    /// its polls arrived (`poll_arrivals`, from the journal): what a load test's detection lag
    /// is measured from. `None` while it is still pending at `now`.
    ///
    /// Found by bisection on the pure observation (terminal status only ever stays terminal
    /// as time passes and polls arrive), replaying the poll count at each instant as the store
    /// counted it (polls before the timeout), so time-driven phases, poll-driven phases,
    /// expiry and a forced outcome are all timed by the same rules that answered the polls.
    /// To the millisecond. A browser journey's hold is not replayed: validations followed
    /// through the Web SDK are not what a polling load test creates.
    pub fn terminal_since(
        &self,
        catalogue: &Catalogue,
        poll_arrivals: &[Duration],
        now: Duration,
    ) -> Option<Duration> {
        // As the store counts them: a scenario that expires stops counting at the timeout.
        let counts_until = if catalogue.get(self.scenario).expires {
            self.created.saturating_add(self.timeout)
        } else {
            Duration::MAX
        };
        let terminal_at = |t: Duration| {
            let mut at_t = self.clone();
            let counted = poll_arrivals
                .iter()
                .filter(|p| **p < t && **p < counts_until)
                .count();
            at_t.polls_counted = u32::try_from(counted).unwrap_or(u32::MAX);
            if at_t.forced().is_some_and(|(_, when)| when > t) {
                at_t.changes_mut().forced = None;
            }
            at_t.observe(catalogue, t).status.is_terminal()
        };
        if !terminal_at(now) {
            return None;
        }
        if terminal_at(self.created) {
            return Some(self.created);
        }
        // On a whole-millisecond grid from creation, so the answer is the same whenever it is
        // asked (a dashboard revalidating the detail, a load run reading it later): the
        // first grid point at which it is terminal.
        let since_created = now.saturating_sub(self.created);
        let grid = |n: u64| self.created + Duration::from_millis(n);
        // Invariant: pending at grid point `lo`, terminal at `hi`.
        let (mut lo, mut hi) = (0u64, since_created.as_nanos().div_ceil(1_000_000) as u64);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if terminal_at(grid(mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(grid(hi))
    }
}
