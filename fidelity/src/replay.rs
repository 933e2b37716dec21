//! Replays a recorded timeline against an in-process mock on a manual clock: each request at
//! its recorded offset (the clock is moved, nobody sleeps), so the mock's scenario sees the
//! same times and poll counts the real service did.

use std::time::Duration;

use truidentidad_conformance::http::{self, HttpError, Method, Req};
use truidentidad_mock_server::MockServer;

use crate::recording::{
    CallKind, Failure, RecordedRequest, RecordedResponse, Timeline, header, polled_id,
};
use crate::shape;

/// How long a replayed request may take (real time) before it counts as stalled. Scenario
/// delays are at most a few seconds; a stall holds minutes.
pub const STALL_AFTER: Duration = Duration::from_secs(3);

/// How far past the last recorded request the mock is followed, waiting for it to finish.
pub const FOLLOW_LIMIT: Duration = Duration::from_secs(6 * 3600);

/// The account id replayed creates carry, so that the chosen scenario, not a magic
/// `account_id`, decides the mock's behaviour.
pub const REPLAY_ACCOUNT_ID: &str = "fidelity-replay";

/// What one replayed request got.
pub type Answer = Result<RecordedResponse, Failure>;

#[derive(Debug, Clone)]
pub struct Replay {
    /// One answer per recorded exchange, in order.
    pub answers: Vec<Answer>,
    /// The mock's first terminal answer: offset in ms and the poll count by then.
    pub terminal: Option<Terminal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Terminal {
    pub offset_ms: u64,
    pub polls: u32,
    pub outcome: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("starting the in-process mock: {0}")]
    Start(String),
}

/// Replays `timeline` on a fresh mock whose default scenario is `scenario`; `keys` are the
/// (redacted) API keys the recording shows were accepted.
pub async fn replay(
    timeline: &Timeline,
    scenario: &str,
    keys: &[String],
) -> Result<Replay, ReplayError> {
    let keys = keys.to_vec();
    let server = MockServer::builder()
        .seed(1)
        .manual_clock()
        .default_scenario(scenario)
        .configure(move |c| c.api_keys = keys)
        .start()
        .await
        .map_err(|e| ReplayError::Start(e.to_string()))?;
    let base = server.uri();
    let mut mock_id: Option<String> = None;
    let recorded_id = timeline.validation_id.clone();
    let mut answers = Vec::with_capacity(timeline.exchanges.len());
    let mut terminal = None;
    let mut polls = 0u32;
    let mut key = keys_of(timeline);

    // A timeline that starts with a poll (the recording began mid-validation) needs a
    // validation on the mock to poll, if the upstream knew it (a poll of an unknown id is
    // replayed as one).
    let known = timeline
        .exchanges
        .iter()
        .any(|x| x.response.as_ref().is_some_and(|r| r.status == 200));
    if recorded_id.is_some()
        && known
        && timeline.exchanges.first().map(|x| x.kind) != Some(CallKind::Create)
    {
        let req = RecordedRequest {
            method: "POST".into(),
            path: "/v1/validations".into(),
            headers: vec![
                ("Truora-API-Key".into(), key.clone().unwrap_or_default()),
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            body: "type=government".into(),
        };
        if let Ok(r) = send(&base, &req, None, None).await {
            mock_id = validation_id(&r);
        }
    }

    for x in &timeline.exchanges {
        move_to(&server, x.offset_ms);
        if let Some(k) = header(&x.request.headers, "truora-api-key") {
            key = Some(k.to_string());
        }
        let answer = send(
            &base,
            &x.request,
            recorded_id.as_deref(),
            mock_id.as_deref(),
        )
        .await;
        if x.kind == CallKind::Create
            && let Ok(r) = &answer
            && mock_id.is_none()
        {
            mock_id = validation_id(r);
        }
        if x.kind == CallKind::Poll {
            polls += 1;
        }
        if terminal.is_none()
            && let Ok(r) = &answer
            && r.status == 200
            && let Some(v) = r.json()
            && shape::is_terminal(&v)
        {
            terminal = Some(Terminal {
                offset_ms: x.offset_ms,
                polls,
                outcome: shape::outcome_label(&v).unwrap_or_default(),
            });
        }
        answers.push(answer);
    }

    // Follow the mock past the recording, at the recording's own poll interval, until it
    // finishes: "the real service took 41 polls, the mock takes 3" needs both numbers.
    if terminal.is_none()
        && let Some(id) = &mock_id
    {
        let step = poll_interval(timeline);
        let last = timeline.exchanges.last().map_or(0, |x| x.offset_ms);
        let mut at = last;
        let req = RecordedRequest {
            method: "GET".into(),
            path: format!("/v1/validations/{id}"),
            headers: vec![("Truora-API-Key".into(), key.unwrap_or_default())],
            body: String::new(),
        };
        while terminal.is_none() && at.saturating_sub(last) < millis(FOLLOW_LIMIT) {
            at += step;
            move_to(&server, at);
            polls += 1;
            if let Ok(r) = send(&base, &req, None, None).await
                && r.status == 200
                && let Some(v) = r.json()
                && shape::is_terminal(&v)
            {
                terminal = Some(Terminal {
                    offset_ms: at,
                    polls,
                    outcome: shape::outcome_label(&v).unwrap_or_default(),
                });
            }
        }
    }
    server.shutdown().await;
    Ok(Replay { answers, terminal })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The median gap between the recording's polls, 1 s when it has fewer than two.
pub fn poll_interval(timeline: &Timeline) -> u64 {
    let offsets: Vec<u64> = timeline
        .exchanges
        .iter()
        .filter(|x| x.kind == CallKind::Poll)
        .map(|x| x.offset_ms)
        .collect();
    let mut gaps: Vec<u64> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2)
        .copied()
        .filter(|g| *g > 0)
        .unwrap_or(1000)
}

fn keys_of(timeline: &Timeline) -> Option<String> {
    timeline
        .exchanges
        .iter()
        .find_map(|x| header(&x.request.headers, "truora-api-key").map(str::to_string))
}

fn move_to(server: &MockServer, offset_ms: u64) {
    let target = Duration::from_millis(offset_ms);
    let now = server.now();
    if target > now {
        server.advance(target - now);
    }
}

fn validation_id(r: &RecordedResponse) -> Option<String> {
    (r.status == 200)
        .then(|| r.json())
        .flatten()
        .and_then(|v| v.get("validation_id")?.as_str().map(str::to_string))
}

/// The create form as replayed: redacted fields dropped (the mock would refuse a placeholder
/// as a document number) and the account id neutral.
pub fn replay_form(body: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(body.as_bytes()) {
        if v.contains("[redacted") {
            continue;
        }
        if k == "account_id" {
            out.append_pair(&k, REPLAY_ACCOUNT_ID);
        } else {
            out.append_pair(&k, &v);
        }
    }
    out.finish()
}

async fn send(
    base: &str,
    req: &RecordedRequest,
    recorded_id: Option<&str>,
    mock_id: Option<&str>,
) -> Answer {
    let mut path = req.path.clone();
    if let (Some(r), Some(m)) = (recorded_id, mock_id)
        && polled_id(&path) == Some(r)
    {
        path = path.replacen(r, m, 1);
    }
    let kind = CallKind::of(&req.method, &req.path);
    let body = if kind == CallKind::Create
        && header(&req.headers, "content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        replay_form(&req.body)
    } else {
        req.body.clone()
    };
    let headers = req
        .headers
        .iter()
        .filter(|(k, _)| {
            ["truora-api-key", "content-type", "accept"]
                .iter()
                .any(|h| k.eq_ignore_ascii_case(h))
        })
        .cloned()
        .collect();
    let method = Method::from_bytes(req.method.as_bytes()).unwrap_or(Method::GET);
    let r = http::send(
        Req {
            method,
            url: format!("{base}{path}"),
            headers,
            body: body.into_bytes(),
        },
        STALL_AFTER,
    )
    .await;
    match r {
        Ok(resp) => Ok(RecordedResponse {
            status: resp.status,
            headers: resp
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&resp.body).into_owned(),
        }),
        Err(HttpError::Timeout(_)) => Err(Failure::ClientGaveUp),
        Err(_) => Err(Failure::Reset),
    }
}
