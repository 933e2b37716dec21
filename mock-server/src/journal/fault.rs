//! The fault a scenario applied to one request, as the journal records it.
//!
//! Typed, so that whoever reads the journal (the conformance suite above all) matches on what
//! happened instead of searching a note for words. The journal's JSON and the state file still
//! write it as the one line of text they always have (`delay 250ms, http_error 429`), and
//! [`FromStr`] reads that line back, so state files saved before the types existed restore.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use truidentidad_scenarios::model::RetryAfter;

/// What a fault did to the response, besides any delay before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultEffect {
    /// An HTTP error in Truora's envelope instead of the answer.
    Status {
        status: u16,
        /// The `Retry-After` it carried, if any. Not part of the text form: a state file
        /// restores it as `None`.
        retry_after: Option<RetryAfter>,
    },
    /// The right body, dribbled out slowly.
    SlowBody,
    /// Half the body, so it is not valid JSON.
    MalformedBody,
    /// A 200 with no body.
    EmptyBody,
    /// The connection was reset (TCP RST) instead of answered.
    Reset,
    /// The connection was closed instead of answered.
    Close,
    /// Nothing was sent for this long, then the connection was closed.
    Stall(Duration),
}

impl FaultEffect {
    /// Whether the client received the validation's body intact despite the fault.
    pub fn delivers_body(self) -> bool {
        matches!(self, FaultEffect::SlowBody)
    }
}

/// The fault applied to one request: a delay, an effect, both, or neither; and whether the
/// client gave up (closed its connection) before the answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppliedFault {
    /// The delay before answering, at millisecond precision.
    pub delay: Option<Duration>,
    pub effect: Option<FaultEffect>,
    /// The client closed the connection before the response was sent.
    pub client_closed: bool,
}

impl AppliedFault {
    /// Nothing happened that the journal should mention.
    pub fn is_none(&self) -> bool {
        *self == AppliedFault::default()
    }

    /// Whether the request was stalled by a scenario.
    pub fn is_stall(&self) -> bool {
        matches!(self.effect, Some(FaultEffect::Stall(_)))
    }

    /// Whether the response body could not be read as a validation (malformed or empty).
    pub fn unreadable_body(&self) -> bool {
        matches!(
            self.effect,
            Some(FaultEffect::MalformedBody | FaultEffect::EmptyBody)
        )
    }
}

const CLIENT_CLOSED: &str = "client closed the connection before the response";

impl fmt::Display for FaultEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultEffect::Status { status, .. } => write!(f, "http_error {status}"),
            FaultEffect::SlowBody => f.write_str("slow_body"),
            FaultEffect::MalformedBody => f.write_str("malformed_body"),
            FaultEffect::EmptyBody => f.write_str("empty_body"),
            FaultEffect::Reset => f.write_str("connection_reset"),
            FaultEffect::Close => f.write_str("connection_close"),
            FaultEffect::Stall(d) => write!(f, "stall {}", humantime::format_duration(*d)),
        }
    }
}

impl fmt::Display for AppliedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = self.delay {
            write!(f, "delay {}ms", d.as_millis())?;
        }
        if let Some(e) = self.effect {
            let sep = if self.delay.is_some() { ", " } else { "" };
            write!(f, "{sep}{e}")?;
        }
        if self.client_closed {
            let sep = if self.delay.is_some() || self.effect.is_some() {
                "; "
            } else {
                ""
            };
            write!(f, "{sep}{CLIENT_CLOSED}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for AppliedFault {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A fault line that is not one the journal writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{0}`")]
pub struct ParseFaultError(String);

impl FromStr for FaultEffect {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseFaultError(s.to_string());
        Ok(match s {
            "slow_body" => FaultEffect::SlowBody,
            "malformed_body" => FaultEffect::MalformedBody,
            "empty_body" => FaultEffect::EmptyBody,
            "connection_reset" => FaultEffect::Reset,
            "connection_close" => FaultEffect::Close,
            _ => {
                if let Some(code) = s.strip_prefix("http_error ") {
                    FaultEffect::Status {
                        status: code.parse().map_err(|_| bad())?,
                        retry_after: None,
                    }
                } else if let Some(d) = s.strip_prefix("stall ") {
                    FaultEffect::Stall(humantime::parse_duration(d).map_err(|_| bad())?)
                } else {
                    return Err(bad());
                }
            }
        })
    }
}

impl FromStr for AppliedFault {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = AppliedFault::default();
        let mut rest = s;
        if let Some(r) = rest.strip_suffix(CLIENT_CLOSED) {
            out.client_closed = true;
            rest = r.strip_suffix("; ").unwrap_or(r);
        }
        if let Some(r) = rest.strip_prefix("delay ") {
            let (ms, tail) = r.split_once(", ").unwrap_or((r, ""));
            let ms = ms
                .strip_suffix("ms")
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| ParseFaultError(s.to_string()))?;
            out.delay = Some(Duration::from_millis(ms));
            rest = tail;
        }
        if !rest.is_empty() {
            out.effect = Some(rest.parse().map_err(|_| ParseFaultError(s.to_string()))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_form_is_the_journal_line() {
        let f = AppliedFault {
            delay: Some(Duration::from_millis(250)),
            effect: Some(FaultEffect::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(2)),
            }),
            client_closed: false,
        };
        assert_eq!(f.to_string(), "delay 250ms, http_error 429");
        let stalled = AppliedFault {
            effect: Some(FaultEffect::Stall(Duration::from_secs(30))),
            client_closed: true,
            ..Default::default()
        };
        assert_eq!(
            stalled.to_string(),
            "stall 30s; client closed the connection before the response"
        );
        let gave_up = AppliedFault {
            client_closed: true,
            ..Default::default()
        };
        assert_eq!(gave_up.to_string(), CLIENT_CLOSED);
    }

    #[test]
    fn unknown_lines_are_refused() {
        assert!("teleport".parse::<AppliedFault>().is_err());
        assert!("delay soonms".parse::<AppliedFault>().is_err());
    }

    fn effect() -> impl Strategy<Value = FaultEffect> {
        prop_oneof![
            (100u16..600).prop_map(|status| FaultEffect::Status {
                status,
                retry_after: None
            }),
            Just(FaultEffect::SlowBody),
            Just(FaultEffect::MalformedBody),
            Just(FaultEffect::EmptyBody),
            Just(FaultEffect::Reset),
            Just(FaultEffect::Close),
            (0u64..100_000).prop_map(|ms| FaultEffect::Stall(Duration::from_millis(ms))),
        ]
    }

    proptest! {
        /// What the journal writes (and a state file saves) reads back as the same fault.
        #[test]
        fn text_form_round_trips(
            delay in proptest::option::of(0u64..1_000_000),
            effect in proptest::option::of(effect()),
            client_closed in any::<bool>(),
        ) {
            let f = AppliedFault {
                delay: delay.map(Duration::from_millis),
                effect,
                client_closed,
            };
            prop_assert_eq!(f.to_string().parse::<AppliedFault>(), Ok(f));
        }
    }
}
