//! `fidelity diff`: each recorded validation replayed on the mock, and what differs, as
//! structural differences with stable keys a baseline can accept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use truidentidad_scenarios::catalogue::Catalogue;
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};

use crate::pick::{self, ChosenBy, Mapping};
use crate::recording::{CallKind, Exchange, Failure, RecordedResponse, Timeline, read_timelines};
use crate::replay::{self, Answer, Terminal};
use crate::shape;
use crate::toml_file::{self, TomlFileError};

/// What a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// An answer on one side, a reset or a stall on the other.
    Transport,
    Status,
    /// A field present on one side only.
    Field,
    /// A field of another JSON type.
    Type,
    /// A `validation_status`, `failure_status` or reason the mock does not know.
    Vocabulary,
    /// The error envelope's `code`, or a body that is not the envelope.
    ErrorEnvelope,
    Header,
    Outcome,
    /// Time and polls until the validation finished.
    TimeToTerminal,
    /// No scenario of the catalogue ends the way the recording did.
    NoScenario,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Transport => "transport",
            Check::Status => "status",
            Check::Field => "field",
            Check::Type => "type",
            Check::Vocabulary => "vocabulary",
            Check::ErrorEnvelope => "error-envelope",
            Check::Header => "header",
            Check::Outcome => "outcome",
            Check::TimeToTerminal => "time-to-terminal",
            Check::NoScenario => "no-scenario",
        }
    }
}

/// One structural difference between the recording and the mock.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Difference {
    pub check: Check,
    /// What differs: `validation body $.risk_score`, `Retry-After on poll 429`.
    pub subject: String,
    pub recorded: String,
    pub mock: String,
}

impl Difference {
    /// The baseline's name for it. Timings move from run to run, so only their subject
    /// counts; everything else is keyed with both values, so a value that changes again is a
    /// new difference.
    pub fn key(&self) -> String {
        match self.check {
            Check::TimeToTerminal => format!("{} {}", self.check.as_str(), self.subject),
            _ => format!(
                "{} {}: recorded {}, mock {}",
                self.check.as_str(),
                self.subject,
                self.recorded,
                self.mock
            ),
        }
    }
}

/// A difference with everywhere it was seen.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub key: String,
    #[serde(flatten)]
    pub difference: Difference,
    /// `timeline#exchange` (1-based), or the timeline alone.
    pub seen_in: Vec<String>,
    /// Listed in the baseline.
    pub accepted: bool,
}

/// One recorded validation, as compared.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationRow {
    pub timeline: String,
    pub scenario: Option<String>,
    pub chosen_by: Option<ChosenBy>,
    pub exchanges: usize,
    pub recorded_outcome: Option<String>,
    pub recorded_terminal: Option<TerminalRow>,
    pub mock_terminal: Option<TerminalRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TerminalRow {
    pub outcome: String,
    pub polls: u32,
    pub offset_ms: u64,
}

impl From<&Terminal> for TerminalRow {
    fn from(t: &Terminal) -> Self {
        TerminalRow {
            outcome: t.outcome.clone(),
            polls: t.polls,
            offset_ms: t.offset_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub recording: String,
    pub validations: Vec<ValidationRow>,
    pub findings: Vec<Finding>,
}

impl DiffReport {
    pub fn new_count(&self) -> usize {
        self.findings.iter().filter(|f| !f.accepted).count()
    }

    pub fn passed(&self) -> bool {
        self.new_count() == 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Recording(#[from] crate::recording::RecordingError),
    #[error(transparent)]
    Replay(#[from] replay::ReplayError),
}

/// Keys accepted by a baseline file: one TOML array, `accepted = ["…", …]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default)]
    pub accepted: BTreeSet<String>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Self, TomlFileError> {
        toml_file::load(path)
    }

    /// The baseline that accepts every finding of `report`.
    pub fn render(report: &DiffReport) -> String {
        let mut s = String::from(
            "# Differences between the recording and the mock that are accepted (fidelity diff --baseline).\n# A difference not listed here makes `fidelity diff` exit 1.\naccepted = [\n",
        );
        for f in &report.findings {
            // A JSON string is a valid TOML basic string.
            s.push_str(&format!(
                "  {},\n",
                serde_json::to_string(&f.key).unwrap_or_default()
            ));
        }
        s.push_str("]\n");
        s
    }
}

/// Compares every timeline of `dir` with the mock.
pub async fn diff(
    dir: &Path,
    mapping: &Mapping,
    baseline: &Baseline,
) -> Result<DiffReport, DiffError> {
    let timelines = read_timelines(dir)?;
    let catalogue = Catalogue::builtin();
    let keys = accepted_keys(&timelines);
    let mut findings: BTreeMap<Difference, Vec<String>> = BTreeMap::new();
    let mut rows = Vec::new();
    for t in &timelines {
        let mut found = Vec::new();
        vocabulary(t, &mut found);
        let rec_terminal = recorded_terminal(t);
        let mut row = ValidationRow {
            timeline: t.name.clone(),
            scenario: None,
            chosen_by: None,
            exchanges: t.exchanges.len(),
            recorded_outcome: pick::recorded_outcome(t),
            recorded_terminal: rec_terminal.as_ref().map(TerminalRow::from),
            mock_terminal: None,
        };
        match pick::pick(t, mapping, &catalogue) {
            Err(outcome) => found.push((
                None,
                Difference {
                    check: Check::NoScenario,
                    subject: "a scenario ending the same way".into(),
                    recorded: outcome,
                    mock: "none in the catalogue".into(),
                },
            )),
            Ok((scenario, by)) => {
                let replayed = replay::replay(t, &scenario, &keys).await?;
                compare_exchanges(&t.exchanges, &replayed.answers, &mut found);
                if t.validation_id.is_some() {
                    terminal(
                        rec_terminal.as_ref(),
                        replayed.terminal.as_ref(),
                        replay::poll_interval(t),
                        &mut found,
                    );
                }
                row.scenario = Some(scenario);
                row.chosen_by = Some(by);
                row.mock_terminal = replayed.terminal.as_ref().map(TerminalRow::from);
            }
        }
        for (at, d) in found {
            let place = match at {
                Some(i) => format!("{}#{}", t.name, i + 1),
                None => t.name.clone(),
            };
            let seen = findings.entry(d).or_default();
            if !seen.contains(&place) {
                seen.push(place);
            }
        }
        rows.push(row);
    }
    let findings = findings
        .into_iter()
        .map(|(difference, seen_in)| {
            let key = difference.key();
            Finding {
                accepted: baseline.accepted.contains(&key),
                key,
                difference,
                seen_in,
            }
        })
        .collect();
    Ok(DiffReport {
        recording: dir.display().to_string(),
        validations: rows,
        findings,
    })
}

/// The keys the recording shows were accepted: any that got an answer other than 401/403.
fn accepted_keys(timelines: &[Timeline]) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for x in timelines.iter().flat_map(|t| &t.exchanges) {
        if let (Some(k), Some(r)) = (
            crate::recording::header(&x.request.headers, "truora-api-key"),
            &x.response,
        ) && r.status != 401
            && r.status != 403
        {
            keys.insert(k.to_string());
        }
    }
    keys.into_iter().collect()
}

fn recorded_terminal(t: &Timeline) -> Option<Terminal> {
    let mut polls = 0;
    for x in &t.exchanges {
        if x.kind == CallKind::Poll {
            polls += 1;
        }
        if let Some(v) = x
            .response
            .as_ref()
            .filter(|r| r.status == 200)
            .and_then(RecordedResponse::json)
            .filter(shape::is_terminal)
        {
            return Some(Terminal {
                offset_ms: x.offset_ms,
                polls,
                outcome: shape::outcome_label(&v).unwrap_or_default(),
            });
        }
    }
    None
}

type Found = Vec<(Option<usize>, Difference)>;

fn describe(a: &Answer) -> String {
    match a {
        Ok(r) => format!("status {}", r.status),
        Err(f) => f.as_str().to_string(),
    }
}

/// Where a JSON body's fields are compared: validation bodies by state, errors by status.
fn body_class(kind: CallKind, r: &RecordedResponse, v: &Value) -> (String, String) {
    match shape::state(v) {
        Some(state) => ("validation body".into(), state),
        None if r.status >= 400 => (format!("{} error body", r.status), String::new()),
        None => (
            format!("{} {} body", kind.as_str(), r.status),
            String::new(),
        ),
    }
}

fn compare_exchanges(recorded: &[Exchange], answers: &[Answer], found: &mut Found) {
    type Shapes = BTreeMap<(String, String), BTreeMap<String, &'static str>>;
    let (mut rec_shapes, mut mock_shapes): (Shapes, Shapes) = Default::default();
    for (i, (x, mock)) in recorded.iter().zip(answers).enumerate() {
        if x.failure == Some(Failure::Unreachable) {
            // The proxy's own 502: nothing the upstream said.
            continue;
        }
        let rec: Answer = match (&x.response, x.failure) {
            (Some(r), _) => Ok(r.clone()),
            (None, f) => Err(f.unwrap_or(Failure::Reset)),
        };
        let kind = x.kind.as_str();
        let (r, m) = match (&rec, mock) {
            (Ok(r), Ok(m)) => (r, m),
            (Err(a), Err(b)) if a == b => continue,
            _ => {
                found.push((
                    Some(i),
                    Difference {
                        check: Check::Transport,
                        subject: kind.to_string(),
                        recorded: describe(&rec),
                        mock: describe(mock),
                    },
                ));
                continue;
            }
        };
        for (resp, shapes) in [(r, &mut rec_shapes), (m, &mut mock_shapes)] {
            if let Some(v) = resp.json() {
                shapes
                    .entry(body_class(x.kind, resp, &v))
                    .or_default()
                    .extend(shape::shape(&v));
            }
        }
        if r.status != m.status {
            found.push((
                Some(i),
                Difference {
                    check: Check::Status,
                    subject: kind.to_string(),
                    recorded: r.status.to_string(),
                    mock: m.status.to_string(),
                },
            ));
            continue;
        }
        let (ct_r, ct_m) = (
            shape::content_type(r.header("content-type")),
            shape::content_type(m.header("content-type")),
        );
        if ct_r != ct_m {
            found.push((
                Some(i),
                Difference {
                    check: Check::Header,
                    subject: format!("Content-Type on {kind} {}", r.status),
                    recorded: ct_r,
                    mock: ct_m,
                },
            ));
        }
        let (ra_r, ra_m) =
            shape::retry_after_pair(r.header("retry-after"), m.header("retry-after"));
        if ra_r != ra_m {
            found.push((
                Some(i),
                Difference {
                    check: Check::Header,
                    subject: format!("Retry-After on {kind} {}", r.status),
                    recorded: ra_r,
                    mock: ra_m,
                },
            ));
        }
        if r.status >= 400 {
            let code = |resp: &RecordedResponse| match resp.json() {
                Some(v) => match v.get("code") {
                    Some(c) => c.to_string(),
                    None => "no code".into(),
                },
                None => "not JSON".into(),
            };
            let (c_r, c_m) = (code(r), code(m));
            if c_r != c_m {
                found.push((
                    Some(i),
                    Difference {
                        check: Check::ErrorEnvelope,
                        subject: format!("code of the {} envelope", r.status),
                        recorded: c_r,
                        mock: c_m,
                    },
                ));
            }
        }
    }
    for (class, rec) in &rec_shapes {
        let Some(mock) = mock_shapes.get(class) else {
            continue;
        };
        let paths: BTreeSet<&String> = rec.keys().chain(mock.keys()).collect();
        for p in paths {
            let (a, b) = (rec.get(p), mock.get(p));
            let (check, recorded, mocked) = match (a, b) {
                (Some(a), Some(b)) if a == b => continue,
                (Some(a), Some(b)) => (Check::Type, a.to_string(), b.to_string()),
                (Some(a), None) => (Check::Field, a.to_string(), "absent".to_string()),
                (None, Some(b)) => (Check::Field, "absent".to_string(), b.to_string()),
                (None, None) => continue,
            };
            found.push((
                None,
                Difference {
                    check,
                    subject: format!("{} {p}", class.0),
                    recorded,
                    mock: mocked,
                },
            ));
        }
    }
}

/// Recorded values outside the vocabularies the mock knows.
fn vocabulary(t: &Timeline, found: &mut Found) {
    const STATUSES: &[&str] = &["pending", "success", "failure"];
    const FAILURES: &[&str] = &["declined", "expired", "system_error"];
    for (i, x) in t.exchanges.iter().enumerate() {
        let Some(v) = x
            .response
            .as_ref()
            .filter(|r| r.status < 300)
            .and_then(RecordedResponse::json)
        else {
            continue;
        };
        for (field, list) in [
            ("validation_status", STATUSES),
            ("failure_status", FAILURES),
            ("declined_reason", DECLINED_REASONS),
            ("expired_reason", EXPIRED_REASONS),
        ] {
            if let Some(value) = v.get(field).and_then(Value::as_str)
                && !list.contains(&value)
            {
                found.push((
                    Some(i),
                    Difference {
                        check: Check::Vocabulary,
                        subject: field.to_string(),
                        recorded: value.to_string(),
                        mock: "not in the mock's list".into(),
                    },
                ));
            }
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// Outcome and time to terminal. Polling quantises what either side can see, so times
/// within one poll interval of each other are the same.
fn terminal(rec: Option<&Terminal>, mock: Option<&Terminal>, interval_ms: u64, found: &mut Found) {
    let Some(rec) = rec else {
        // The client stopped before the validation finished: nothing to compare.
        return;
    };
    match mock {
        None => found.push((
            None,
            Difference {
                check: Check::TimeToTerminal,
                subject: rec.outcome.clone(),
                recorded: format!("{} after {} polls", secs(rec.offset_ms), rec.polls),
                mock: "never finished".into(),
            },
        )),
        Some(m) if m.outcome != rec.outcome => found.push((
            None,
            Difference {
                check: Check::Outcome,
                subject: "the validation's outcome".into(),
                recorded: rec.outcome.clone(),
                mock: m.outcome.clone(),
            },
        )),
        Some(m) if rec.offset_ms.abs_diff(m.offset_ms) > interval_ms => found.push((
            None,
            Difference {
                check: Check::TimeToTerminal,
                subject: rec.outcome.clone(),
                recorded: format!("{} after {} polls", secs(rec.offset_ms), rec.polls),
                mock: format!("{} after {} polls", secs(m.offset_ms), m.polls),
            },
        )),
        Some(_) => {}
    }
}
