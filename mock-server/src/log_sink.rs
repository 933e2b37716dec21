//! A batching line sink for the request log (and the server's other log lines).
//!
//! Why not a tracing event per request: at tens of thousands of requests per second, the
//! event's dispatch, the subscriber's formatting buffer and the hand-off of each line to a
//! writer thread cost more than the mock's own request handling (BENCHMARKS.md §1). Here a
//! request line is formatted straight into one shared buffer under an uncontended lock, and
//! a flusher thread writes the whole buffer with one `write(2)` every few milliseconds.
//!
//! Nothing is dropped: when the output cannot keep up (stderr piped to a slow reader), a
//! writer waits for the flusher once the buffer passes [`MAX_PENDING`], rather than losing
//! lines or growing without bound.

use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use parking_lot::{Condvar, Mutex};

/// How long a line may wait in the buffer before it is written: short enough that a person
/// watching the log sees requests as they happen.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Wake the flusher early once this much is pending.
const FLUSH_AT: usize = 64 * 1024;
/// Writers wait for the flusher beyond this (backpressure instead of loss).
pub const MAX_PENDING: usize = 4 * 1024 * 1024;

/// Shared by the server's handlers (writers) and the flusher thread.
pub struct LogSink {
    pending: Mutex<Pending>,
    /// Wakes the flusher (buffer large, or closing).
    wake_flusher: Condvar,
    /// Wakes writers waiting on a full buffer.
    drained: Condvar,
}

struct Pending {
    buf: Vec<u8>,
    closed: bool,
    /// The current second (since the epoch) and its text, `2026-11-26T12:00:00`.
    second_text: (u64, String),
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSink").finish_non_exhaustive()
    }
}

/// Flushes what is pending and stops the flusher when dropped; keep it alive for as long as
/// the server logs.
#[must_use = "dropping the guard stops the flusher"]
pub struct FlushGuard {
    sink: Arc<LogSink>,
    thread: Option<JoinHandle<()>>,
}

impl LogSink {
    /// Starts a flusher thread writing to `out`.
    pub fn start(out: impl Write + Send + 'static) -> std::io::Result<(Arc<LogSink>, FlushGuard)> {
        let sink = Arc::new(LogSink {
            pending: Mutex::new(Pending {
                buf: Vec::with_capacity(FLUSH_AT * 2),
                closed: false,
                second_text: (0, String::new()),
            }),
            wake_flusher: Condvar::new(),
            drained: Condvar::new(),
        });
        let for_thread = Arc::clone(&sink);
        let thread = std::thread::Builder::new()
            .name("log-flusher".into())
            .spawn(move || for_thread.flush_loop(out))?;
        let guard = FlushGuard {
            sink: Arc::clone(&sink),
            thread: Some(thread),
        };
        Ok((sink, guard))
    }

    /// Appends whatever `fill` writes (whole lines, newline included) as one unit, so lines
    /// from different threads never interleave.
    pub fn append(&self, fill: impl FnOnce(&mut Vec<u8>)) {
        self.with_pending(|p| fill(&mut p.buf));
    }

    /// Runs `fill` on the pending buffer once there is room (backpressure), then wakes the
    /// flusher early if enough has gathered.
    fn with_pending(&self, fill: impl FnOnce(&mut Pending)) {
        let mut p = self.pending.lock();
        while p.buf.len() >= MAX_PENDING && !p.closed {
            self.wake_flusher.notify_one();
            self.drained.wait(&mut p);
        }
        fill(&mut p);
        if p.buf.len() >= FLUSH_AT {
            self.wake_flusher.notify_one();
        }
    }

    /// Appends one request line in the log's line format (see `LineFormat` in the binary):
    /// `2026-11-26T12:00:00.123456Z  INFO method=GET path=/v1/... status=200 latency_ms=0.024`.
    /// `facts` (` key=value` pieces, e.g. a create's validation id and scenario) go in
    /// before the latency, which stays last.
    pub fn request_line(
        &self,
        method: &http::Method,
        path: &str,
        status: u16,
        facts: &[&[u8]],
        latency: Duration,
    ) {
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let latency_us = latency.as_micros();
        self.with_pending(|p| {
            let Pending {
                buf, second_text, ..
            } = p;
            // The date and time to the second changes once a second: formatted then, reused
            // for every line in between.
            let secs = since_epoch.as_secs();
            if second_text.0 != secs || second_text.1.is_empty() {
                let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
                let full = humantime::format_rfc3339_seconds(t).to_string();
                second_text.0 = secs;
                second_text.1 = full.trim_end_matches('Z').to_string();
            }
            buf.extend_from_slice(second_text.1.as_bytes());
            // Byte pushes rather than `write!`: this runs once per request, and the fmt
            // machinery cost more than everything else on the line.
            buf.push(b'.');
            push_padded(buf, u64::from(since_epoch.subsec_micros()), 6);
            buf.extend_from_slice(b"Z  INFO method=");
            buf.extend_from_slice(method.as_str().as_bytes());
            buf.extend_from_slice(b" path=");
            buf.extend_from_slice(path.as_bytes());
            buf.extend_from_slice(b" status=");
            push_padded(buf, u64::from(status), 1);
            for piece in facts {
                buf.extend_from_slice(piece);
            }
            buf.extend_from_slice(b" latency_ms=");
            push_padded(buf, u64::try_from(latency_us / 1000).unwrap_or(u64::MAX), 1);
            buf.push(b'.');
            push_padded(buf, (latency_us % 1000) as u64, 3);
            buf.push(b'\n');
        });
    }

    fn flush_loop(&self, mut out: impl Write) {
        let mut spare = Vec::with_capacity(FLUSH_AT * 2);
        loop {
            let closed = {
                let mut p = self.pending.lock();
                if p.buf.len() < FLUSH_AT && !p.closed {
                    // Idle, or let a burst gather into one write.
                    self.wake_flusher.wait_for(&mut p, FLUSH_EVERY);
                }
                std::mem::swap(&mut p.buf, &mut spare);
                self.drained.notify_all();
                p.closed
            };
            if !spare.is_empty() {
                // A log that cannot be written (closed stderr) must not stop the server.
                let _ = out.write_all(&spare);
                let _ = out.flush();
                spare.clear();
                if spare.capacity() > MAX_PENDING {
                    spare.shrink_to(FLUSH_AT * 2);
                }
            }
            if closed && self.pending.lock().buf.is_empty() {
                return;
            }
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.sink.pending.lock().closed = true;
        self.sink.wake_flusher.notify_one();
        self.sink.drained.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Lets tracing's formatter (which asks for a writer by reference) write into the sink. The
/// fmt layer writes each event with one `write_all`, so an event stays one unit.
impl Write for &LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(|b| b.extend_from_slice(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends `n` in decimal, left-padded with zeros to at least `width` digits (at most 20).
fn push_padded(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(digits.len().saturating_sub(width));
    buf.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output the test can read back after the guard has flushed it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_reaches_the_output_in_order_by_the_time_the_guard_drops() {
        let out = Shared::default();
        let (sink, guard) = LogSink::start(out.clone()).unwrap();
        for i in 0..10_000 {
            sink.append(|b| b.extend_from_slice(format!("line {i}\n").as_bytes()));
        }
        drop(guard);
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert!(
            lines
                .iter()
                .enumerate()
                .all(|(i, l)| *l == format!("line {i}"))
        );
    }

    #[test]
    fn lines_from_many_threads_never_interleave_and_none_is_lost() {
        let out = Shared::default();
        let (sink, guard) = LogSink::start(out.clone()).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let sink = &sink;
                s.spawn(move || {
                    for i in 0..5_000 {
                        // Large lines push the buffer past MAX_PENDING, exercising the wait.
                        let line = format!("{t}:{i}:{}\n", "x".repeat(1_000));
                        sink.append(|b| b.extend_from_slice(line.as_bytes()));
                    }
                });
            }
        });
        drop(guard);
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        let mut count = 0;
        for line in text.lines() {
            let mut parts = line.split(':');
            let (_, _, xs) = (parts.next(), parts.next(), parts.next().unwrap());
            assert_eq!(xs.len(), 1_000, "a line was torn: {line:.40}");
            count += 1;
        }
        assert_eq!(count, 20_000);
    }

    #[test]
    fn request_line_times_match_the_clock_and_latency_keeps_microseconds() {
        let out = Shared::default();
        let (sink, guard) = LogSink::start(out.clone()).unwrap();
        let before = SystemTime::now();
        for us in [0, 999, 1_000, 1_234_567] {
            sink.request_line(
                &http::Method::POST,
                "/",
                201,
                &[],
                Duration::from_micros(us),
            );
        }
        let after = SystemTime::now();
        drop(guard);
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        let mut latencies = Vec::new();
        for line in text.lines() {
            let time = humantime::parse_rfc3339(line.split(' ').next().unwrap()).unwrap();
            // The line's time has microseconds; `before` may have finer precision.
            assert!(
                time + Duration::from_micros(1) >= before && time <= after,
                "{line}"
            );
            latencies.push(line.rsplit_once("latency_ms=").unwrap().1.to_string());
        }
        assert_eq!(latencies, ["0.000", "0.999", "1.000", "1234.567"]);
    }

    proptest::proptest! {
        #[test]
        fn padded_numbers_match_format(n in proptest::prelude::any::<u64>(), width in 0usize..=20) {
            let mut buf = Vec::new();
            push_padded(&mut buf, n, width);
            proptest::prop_assert_eq!(String::from_utf8(buf).unwrap(), format!("{n:0width$}"));
        }
    }

    #[test]
    fn request_lines_use_the_log_line_format() {
        let out = Shared::default();
        let (sink, guard) = LogSink::start(out.clone()).unwrap();
        sink.request_line(
            &http::Method::GET,
            "/v1/validations/VLD1",
            200,
            &[],
            Duration::from_micros(24),
        );
        drop(guard);
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        let (time, rest) = text.split_once(' ').unwrap();
        assert!(humantime::parse_rfc3339(time).is_ok(), "{time}");
        assert_eq!(
            rest,
            " INFO method=GET path=/v1/validations/VLD1 status=200 latency_ms=0.024\n"
        );
    }
}
