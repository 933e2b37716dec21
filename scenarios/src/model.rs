//! The scenario model: what one validation does over its life.
//!
//! A scenario is a list of `pending` phases followed by an optional terminal [`Outcome`].
//! Phase boundaries are measured *from creation* (virtual time since creation, or polls
//! received since creation), which keeps [`crate::engine::observe`] a pure function of
//! `(elapsed, polls)`: no per-validation timers, no stored "current phase".

use std::time::Duration;

/// `validation_status` as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationStatus {
    Pending,
    Success,
    Failure,
}

impl ValidationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// A terminal result. `failure_status` and its reason travel together so a scenario can never
/// say `declined` without saying why.
///
/// Reasons are `&'static str` taken from [`crate::reasons`]: only documented codes exist, and the
/// outcome stays `Copy` so the engine never allocates on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    Declined { reason: &'static str },
    Expired { reason: &'static str },
    SystemError,
}

impl Outcome {
    pub fn status(&self) -> ValidationStatus {
        match self {
            Self::Success => ValidationStatus::Success,
            _ => ValidationStatus::Failure,
        }
    }

    /// `failure_status` on the wire, absent on success.
    pub fn failure_status(&self) -> Option<&'static str> {
        match self {
            Self::Success => None,
            Self::Declined { .. } => Some("declined"),
            Self::Expired { .. } => Some("expired"),
            Self::SystemError => Some("system_error"),
        }
    }

    pub fn declined_reason(&self) -> Option<&'static str> {
        match self {
            Self::Declined { reason } => Some(reason),
            _ => None,
        }
    }

    pub fn expired_reason(&self) -> Option<&'static str> {
        match self {
            Self::Expired { reason } => Some(reason),
            _ => None,
        }
    }

    /// A short label, e.g. `failure/declined/document_unregistered`, for logs and reports.
    pub fn label(&self) -> String {
        match self {
            Self::Success => "success".into(),
            Self::Declined { reason } => format!("failure/declined/{reason}"),
            Self::Expired { reason } => format!("failure/expired/{reason}"),
            Self::SystemError => "failure/system_error".into(),
        }
    }
}

/// One `pending` stretch of the timeline. It ends at whichever of its limits comes first;
/// a phase with neither never ends (only the last phase may be like that).
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: String,
    /// Virtual time since creation at which this phase ends.
    pub until: Option<Duration>,
    /// Number of polls since creation after which this phase ends: with `Some(2)`, the first
    /// two polls see this phase and the third sees the next.
    pub until_polls: Option<u32>,
}

/// Which request a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    Create,
    Poll,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Poll => "poll",
        }
    }
}

/// Added latency before the response starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    Fixed(Duration),
    /// Uniform between `min` and `max`, drawn from the seed.
    Uniform {
        min: Duration,
        max: Duration,
    },
}

/// Faults below HTTP: what the client's socket sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionFault {
    /// Close with a TCP RST and no response.
    Reset,
    /// Close with a FIN and no response.
    Close,
    /// Hold the connection open without answering for this long, then close it.
    Stall(Duration),
}

/// What replaces (or precedes) the normal response.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// An error status with Truora's error envelope. 429 carries `Retry-After` when set.
    HttpError {
        status: u16,
        message: Option<String>,
        retry_after: Option<RetryAfter>,
    },
    /// Only the added delay, then the normal response.
    DelayOnly,
    /// The normal response, dribbled in chunks.
    SlowBody {
        chunk_bytes: usize,
        every: Duration,
    },
    Connection(ConnectionFault),
    /// A 200 whose JSON body is cut in half.
    MalformedBody,
    /// A 200 with an empty body.
    EmptyBody,
}

impl std::fmt::Display for FaultAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HttpError {
                status,
                retry_after,
                ..
            } => {
                write!(f, "HTTP {status}")?;
                match retry_after {
                    Some(RetryAfter::Seconds(s)) => write!(f, " with Retry-After: {s} (seconds)"),
                    Some(RetryAfter::HttpDate(s)) => {
                        write!(f, " with Retry-After: now + {s}s (HTTP-date)")
                    }
                    None => Ok(()),
                }
            }
            Self::DelayOnly => write!(f, "normal response after the delay"),
            Self::SlowBody { chunk_bytes, every } => {
                write!(
                    f,
                    "body dribbled {chunk_bytes} bytes every {}",
                    humantime::format_duration(*every)
                )
            }
            Self::Connection(ConnectionFault::Reset) => {
                write!(f, "connection reset (RST), no response")
            }
            Self::Connection(ConnectionFault::Close) => {
                write!(f, "connection closed (FIN), no response")
            }
            Self::Connection(ConnectionFault::Stall(d)) => {
                write!(
                    f,
                    "no response for {}, then the connection closes",
                    humantime::format_duration(*d)
                )
            }
            Self::MalformedBody => write!(f, "200 with truncated JSON"),
            Self::EmptyBody => write!(f, "200 with an empty body"),
        }
    }
}

impl std::fmt::Display for Delay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixed(d) => write!(f, "delay {}", humantime::format_duration(*d)),
            Self::Uniform { min, max } => write!(
                f,
                "delay {} to {}",
                humantime::format_duration(*min),
                humantime::format_duration(*max)
            ),
        }
    }
}

/// How `Retry-After` is written: the RFC 9110 allows seconds or an HTTP-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    Seconds(u64),
    HttpDate(u64),
}

impl RetryAfter {
    pub fn seconds(self) -> u64 {
        match self {
            Self::Seconds(s) | Self::HttpDate(s) => s,
        }
    }
}

/// A fault rule: it fires on requests of `request` kind, in the named phase (or any), on the
/// listed request ordinals (or all), with probability `chance`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub request: RequestKind,
    /// Index into [`Scenario::phases`]; `None` means any phase. `Some(phases.len())` means the
    /// outcome (after the validation turned terminal).
    pub phase: Option<usize>,
    /// 1-based ordinals: for polls, the n-th poll of the validation; for creates, the n-th
    /// create with the same `account_id`. Empty means every request.
    pub nth: Vec<u32>,
    /// Probability in `[0, 1]`, drawn from the seed.
    pub chance: f64,
    pub delay: Option<Delay>,
    pub action: FaultAction,
}

/// A named, documented timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub phases: Vec<Phase>,
    /// `None`: the validation stays pending until it expires (or forever when `expires` is off).
    pub outcome: Option<Outcome>,
    /// Whether the validation turns `failure/expired` when its `timeout` elapses while pending.
    pub expires: bool,
    /// The `expired_reason` used on timeout.
    pub expired_reason: &'static str,
    pub faults: Vec<Fault>,
}

impl Scenario {
    /// The simplest useful scenario: pending for `pending_for`, then `success`.
    pub fn success_after(name: &str, pending_for: Duration) -> Self {
        Scenario {
            name: name.to_string(),
            description: format!(
                "Pending for {}, then success.",
                humantime::format_duration(pending_for)
            ),
            phases: vec![Phase {
                name: "processing".into(),
                until: Some(pending_for),
                until_polls: None,
            }],
            outcome: Some(Outcome::Success),
            expires: true,
            expired_reason: crate::reasons::DEFAULT_EXPIRED_REASON,
            faults: Vec::new(),
        }
    }

    /// The outcome label, or `pending` for scenarios that never finish on their own.
    pub fn outcome_label(&self) -> String {
        match &self.outcome {
            Some(o) => o.label(),
            None if self.expires => format!("failure/expired/{} (on timeout)", self.expired_reason),
            None => "pending (never completes)".into(),
        }
    }
}
