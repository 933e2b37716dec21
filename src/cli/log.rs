//! The log line format: `2026-11-26T12:00:00.123456Z  INFO message key=value ...`.
//!
//! Why not tracing-subscriber's default format: it writes messages through an escaping
//! writer one character at a time and formats timestamps field by field, which made the
//! one-line-per-request log a measurable share of the mock's CPU under load (BENCHMARKS.md).
//! This format writes the same information in a few `write!` calls.

use std::fmt;
use std::sync::Arc;

use truidentidad_mock_server::log_sink::LogSink;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// A compact, fast event format (no spans: the server logs none).
pub struct LineFormat;

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = humantime::format_rfc3339_micros(std::time::SystemTime::now());
        write!(w, "{now} {:>5} ", event.metadata().level())?;
        let mut visitor = LineVisitor {
            w: &mut w,
            result: Ok(()),
            first: true,
        };
        event.record(&mut visitor);
        visitor.result?;
        writeln!(w)
    }
}

struct LineVisitor<'a, 'w> {
    w: &'a mut Writer<'w>,
    result: fmt::Result,
    first: bool,
}

impl Visit for LineVisitor<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let sep = if self.first { "" } else { " " };
        self.first = false;
        self.result = if field.name() == "message" {
            write!(self.w, "{sep}{value:?}")
        } else {
            write!(self.w, "{sep}{}={value:?}", field.name())
        };
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }
}

/// Hands tracing's formatted events to the batching [`LogSink`]. The fmt layer writes each
/// event with one `write_all`, so an event stays one unit in the sink.
pub struct SinkWriter(pub Arc<LogSink>);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for SinkWriter {
    type Writer = &'a LogSink;

    fn make_writer(&'a self) -> Self::Writer {
        &self.0
    }
}
