//! `fidelity facts`: which facts of `docs/fidelity.md` (the ids `conformance server` checks,
//! [`truidentidad_conformance::server_facts::FACTS`]) a recording confirms, contradicts or
//! does not touch, with where it shows it. The rules are the conformance checks' own helpers
//! (`server_check`), applied to what was recorded instead of to live answers.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use truidentidad_conformance::http::Resp;
use truidentidad_conformance::server_check::{check_envelope, is_truora_date, is_validation_id};
use truidentidad_conformance::server_facts::{FACTS, Fact, FactId};
use truidentidad_scenarios::reasons::{DECLINED_REASONS, EXPIRED_REASONS};

use crate::recording::{
    CallKind, Exchange, RecordedResponse, RecordingError, Timeline, header, read_timelines,
};
use crate::shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bearing {
    Confirms,
    Contradicts,
    NotTouched,
}

impl Bearing {
    pub fn as_str(self) -> &'static str {
        match self {
            Bearing::Confirms => "confirms",
            Bearing::Contradicts => "CONTRADICTS",
            Bearing::NotTouched => "not touched",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FactRow {
    pub id: &'static str,
    pub tag: &'static str,
    pub text: &'static str,
    pub bearing: Bearing,
    /// How many exchanges bore it out, and the first place each way.
    pub confirmed_by: usize,
    pub contradicted_by: usize,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactsReport {
    pub recording: String,
    pub facts: Vec<FactRow>,
}

impl FactsReport {
    pub fn contradicted(&self) -> usize {
        self.facts
            .iter()
            .filter(|f| f.bearing == Bearing::Contradicts)
            .count()
    }

    pub fn render(&self) -> String {
        let mut s = format!(
            "Facts of docs/fidelity.md against the recording {}\n\n",
            self.recording
        );
        for f in &self.facts {
            s.push_str(&format!(
                "  {:20}  {:13}  {:12}  {}\n",
                f.id,
                f.tag,
                f.bearing.as_str(),
                f.evidence
            ));
        }
        let count = |b| self.facts.iter().filter(|f| f.bearing == b).count();
        s.push_str(&format!(
            "\n{} confirmed, {} contradicted, {} not touched\n",
            count(Bearing::Confirms),
            count(Bearing::Contradicts),
            count(Bearing::NotTouched)
        ));
        s
    }
}

/// Tallies one fact's evidence.
#[derive(Default)]
struct Tally {
    yes: usize,
    no: usize,
    first_yes: Option<String>,
    first_no: Option<String>,
}

impl Tally {
    fn add(&mut self, holds: bool, place: &str, why: impl FnOnce() -> String) {
        if holds {
            self.yes += 1;
            self.first_yes.get_or_insert_with(|| place.to_string());
        } else {
            self.no += 1;
            self.first_no
                .get_or_insert_with(|| format!("{place}: {}", why()));
        }
    }
}

fn form_value(x: &Exchange, name: &str) -> Option<String> {
    form_urlencoded::parse(x.request.body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn ok_json(x: &Exchange) -> Option<(&RecordedResponse, Value)> {
    let r = x.response.as_ref().filter(|r| r.status == 200)?;
    Some((r, r.json()?))
}

fn text<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Applies each fact's rule to one exchange.
fn observe(t: &Timeline, i: usize, x: &Exchange, tally: &mut [Tally]) {
    let place = format!("{}#{}", t.name, i + 1);
    let mut note = |id: &str, holds: bool, why: &dyn Fn() -> String| {
        if let Some(n) = FACTS.iter().position(|f| f.id.as_str() == id) {
            tally[n].add(holds, &place, why);
        }
    };
    let Some(r) = &x.response else { return };
    let key = header(&x.request.headers, "truora-api-key").is_some();
    if !key && x.kind != CallKind::Other {
        note("F-key-header", r.status == 401, &|| {
            format!("no key answered {}", r.status)
        });
    }
    if r.status >= 400 {
        let resp = Resp {
            status: r.status,
            headers: http::HeaderMap::new(),
            body: r.body.clone().into_bytes(),
        };
        let checked = check_envelope(&resp, r.status);
        note("F-error-envelope", checked.is_ok(), &|| {
            checked.clone().err().unwrap_or_default()
        });
    }
    match x.kind {
        CallKind::Create if key => {
            let ct = header(&x.request.headers, "content-type").unwrap_or_default();
            let form = ct.starts_with("application/x-www-form-urlencoded");
            if r.status < 300 {
                note("F-create-path", true, &String::new);
                note("F-create-200", r.status == 200, &|| {
                    format!("a create answered {}", r.status)
                });
                note("F-form-body", form, &|| {
                    format!("a create with Content-Type `{ct}` answered {}", r.status)
                });
            }
            if let Some(t) = form_value(x, "timeout").and_then(|t| t.parse::<u64>().ok()) {
                let inside = (1..=21_600).contains(&t);
                if r.status == 200 || r.status == 400 {
                    note("F-timeout-range", inside == (r.status == 200), &|| {
                        format!("timeout={t} answered {}", r.status)
                    });
                }
            }
            if let Some((_, v)) = ok_json(x) {
                if form_value(x, "type").as_deref() == Some("government") {
                    note(
                        "F-type-government",
                        text(&v, "type") == Some("government"),
                        &|| format!("type is {:?}", text(&v, "type")),
                    );
                }
                let sent = form_value(x, "account_id");
                let got = text(&v, "account_id").unwrap_or_default();
                let holds = match &sent {
                    Some(a) => got == a,
                    None => got
                        .strip_prefix("ACC")
                        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit())),
                };
                note("F-account-id", holds, &|| {
                    format!("sent {sent:?}, got `{got}`")
                });
            }
        }
        CallKind::Poll if key && r.status == 200 => {
            note("F-poll-path", true, &String::new);
            let extra = ["content-type", "accept"]
                .iter()
                .any(|h| header(&x.request.headers, h).is_some());
            if !extra {
                note("F-poll-key-only", true, &String::new);
            }
            if let Some(v) = r.json() {
                let asked = x.request.path.contains("show_details=true");
                let has = v.get("details").is_some_and(Value::is_object);
                if asked || has {
                    note("F-show-details", asked == has, &|| {
                        format!("show_details={asked} and details present: {has}")
                    });
                }
            }
        }
        _ => {}
    }
    if let Some((_, v)) = ok_json(x).filter(|(_, v)| v.get("validation_status").is_some()) {
        let id = text(&v, "validation_id").unwrap_or_default();
        note("F-ids", is_validation_id(id), &|| {
            format!("validation_id `{id}`")
        });
        let date = text(&v, "creation_date").unwrap_or_default();
        note("F-creation-date", is_truora_date(date), &|| {
            format!("creation_date `{date}`")
        });
        let status = text(&v, "validation_status").unwrap_or_default();
        note(
            "F-status-values",
            ["pending", "success", "failure"].contains(&status),
            &|| format!("validation_status `{status}`"),
        );
        if status == "failure" {
            let fs = text(&v, "failure_status").unwrap_or_default();
            let reason_field = match fs {
                "declined" => Some("declined_reason"),
                "expired" => Some("expired_reason"),
                _ => None,
            };
            let holds = match reason_field {
                Some(f) => text(&v, f).is_some(),
                None => fs == "system_error",
            };
            note("F-failure-fields", holds, &|| {
                format!(
                    "failure_status `{fs}` with {:?}",
                    reason_field.map(|f| text(&v, f))
                )
            });
            if let Some(reason) = text(&v, "declined_reason") {
                note(
                    "F-declined-reasons",
                    DECLINED_REASONS.contains(&reason),
                    &|| format!("declined_reason `{reason}`"),
                );
            }
            if let Some(reason) = text(&v, "expired_reason") {
                note(
                    "F-expired-reasons",
                    EXPIRED_REASONS.contains(&reason),
                    &|| format!("expired_reason `{reason}`"),
                );
            }
        } else if let Some(f) = ["failure_status", "declined_reason", "expired_reason"]
            .iter()
            .find(|f| v.get(**f).is_some_and(|x| !x.is_null()))
        {
            note("F-failure-fields", false, &|| {
                format!("a {status} body carries {f}")
            });
        }
    }
}

/// A validation created with `timeout=T` and seen `failure/expired` no earlier than T
/// confirms the expiry rule; one seen still pending well past T contradicts it.
fn expiry(t: &Timeline, tally: &mut [Tally]) {
    let Some(timeout_ms) = t
        .exchanges
        .iter()
        .find(|x| x.kind == CallKind::Create)
        .and_then(|x| form_value(x, "timeout"))
        .and_then(|v| v.parse::<u64>().ok())
        .map(|s| s * 1000)
    else {
        return;
    };
    let n = FACTS
        .iter()
        .position(|f| f.id == FactId::TimeoutExpiry)
        .unwrap_or(0);
    for (i, x) in t.exchanges.iter().enumerate() {
        let Some((_, v)) = ok_json(x) else { continue };
        let place = format!("{}#{}", t.name, i + 1);
        let state = shape::state(&v).unwrap_or_default();
        if state == "failure/expired" {
            tally[n].add(true, &place, String::new);
            return;
        }
        // A minute's grace: the real service may sweep expiries periodically.
        if state == "pending" && x.offset_ms > timeout_ms + 60_000 {
            tally[n].add(false, &place, || {
                format!(
                    "still pending {} s after its timeout",
                    (x.offset_ms - timeout_ms) / 1000
                )
            });
            return;
        }
    }
}

/// The facts a recording bears on.
pub fn facts(dir: &Path) -> Result<FactsReport, RecordingError> {
    let timelines = read_timelines(dir)?;
    let mut tally: Vec<Tally> = FACTS.iter().map(|_| Tally::default()).collect();
    for t in &timelines {
        for (i, x) in t.exchanges.iter().enumerate() {
            observe(t, i, x, &mut tally);
        }
        expiry(t, &mut tally);
    }
    let facts = FACTS
        .iter()
        .zip(tally)
        .map(|(f, t): (&Fact, Tally)| {
            let bearing = if t.no > 0 {
                Bearing::Contradicts
            } else if t.yes > 0 {
                Bearing::Confirms
            } else {
                Bearing::NotTouched
            };
            let evidence = match bearing {
                Bearing::Contradicts => format!(
                    "{} against, {} for; first: {}",
                    t.no,
                    t.yes,
                    t.first_no.unwrap_or_default()
                ),
                Bearing::Confirms => format!(
                    "{} exchange(s), first {}",
                    t.yes,
                    t.first_yes.unwrap_or_default()
                ),
                Bearing::NotTouched => "nothing in the recording bears on it".into(),
            };
            FactRow {
                id: f.id.as_str(),
                tag: f.tag,
                text: f.text,
                bearing,
                confirmed_by: t.yes,
                contradicted_by: t.no,
                evidence,
            }
        })
        .collect();
    Ok(FactsReport {
        recording: dir.display().to_string(),
        facts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Exchange, RecordedRequest, Timeline};

    fn exchange(status: u16, body: &str) -> Exchange {
        Exchange {
            kind: CallKind::Create,
            offset_ms: 0,
            duration_ms: 1,
            request: RecordedRequest {
                method: "POST".into(),
                path: "/v1/validations".into(),
                headers: vec![
                    ("Truora-API-Key".into(), "key-sha256:00".into()),
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                ],
                body: "type=government&account_id=a".into(),
            },
            response: Some(RecordedResponse {
                status,
                headers: Vec::new(),
                body: body.into(),
            }),
            failure: None,
        }
    }

    #[test]
    fn a_201_create_and_a_bare_error_contradict_their_facts() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("timelines")).expect("mkdir");
        let t = Timeline {
            name: "loose-0001".into(),
            validation_id: None,
            started: String::new(),
            exchanges: vec![exchange(201, "{}"), exchange(400, "bad request")],
        };
        std::fs::write(
            dir.path().join("timelines/loose-0001.json"),
            serde_json::to_string(&t).expect("json"),
        )
        .expect("write");
        let r = facts(dir.path()).expect("facts");
        let row = |id: &str| r.facts.iter().find(|f| f.id == id).expect("fact");
        assert_eq!(row("F-create-200").bearing, Bearing::Contradicts);
        assert_eq!(
            row("F-create-200").evidence,
            "1 against, 0 for; first: loose-0001#1: a create answered 201"
        );
        assert_eq!(row("F-error-envelope").bearing, Bearing::Contradicts);
        assert_eq!(row("F-poll-path").bearing, Bearing::NotTouched);
        assert_eq!(r.contradicted(), 2);
    }
}
