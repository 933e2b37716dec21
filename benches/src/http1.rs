//! HTTP/1.1 on the wire, as the load tool speaks it: an incremental response parser, the
//! buffered reader that feeds it, and the small timing helpers both the polling model's pool
//! (`pool`) and raw mode (`raw`) use around one exchange.
//!
//! A leaf: it knows bytes, sockets and timers, nothing of the API or of how failures are
//! counted (the `outcome` module), so the client, the pool and raw mode all build on it without
//! depending on one another.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Largest response head (status line and headers) accepted, as hyper's default order of
/// magnitude; a longer one is an error rather than unbounded buffering.
pub const MAX_HEAD: usize = 64 * 1024;
/// Header fields parsed per response; more is an error (the API sends about five).
pub(crate) const MAX_HEADERS: usize = 64;
/// Longest chunk-size line (size plus extensions) accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 1024;
/// Largest body kept for inspection (create's JSON); bodies that are only skipped have no limit.
pub const MAX_KEPT_BODY: usize = 1024 * 1024;
/// The read buffer starts small (the API's answers are a few hundred bytes, and raw mode may
/// hold thousands of connections) and doubles when a read fills it, up to [`MAX_HEAD`].
pub(crate) const INITIAL_BUFFER: usize = 8 * 1024;

/// Why an exchange broke below the HTTP status. Each counts as `other` and the connection is
/// replaced; the text says what the server did, for tests and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the connection closed before a response began")]
    ClosedBeforeResponse,
    #[error("the connection closed in the middle of a response")]
    ClosedMidResponse,
    #[error("the response head is over {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("the response has more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
    #[error("malformed response head: {0}")]
    Malformed(httparse::Error),
    #[error("invalid or conflicting Content-Length")]
    BadContentLength,
    #[error("malformed chunked body")]
    BadChunk,
    #[error("101 Switching Protocols: raw mode speaks HTTP/1.1 only")]
    Upgrade,
    #[error("response body over {MAX_KEPT_BODY} bytes where it must be read")]
    BodyTooLarge,
    /// An I/O error once part of the response had arrived (or while writing, in
    /// [`exchange_on`]).
    #[error("I/O error: {0}")]
    Io(io::ErrorKind),
    /// An I/O error before any byte of the response arrived: what a reused keep-alive
    /// connection the server closed at the moment it was reused shows (`ECONNRESET`), apart
    /// from a cut response so the pool can tell the two apart (the pool resends some
    /// requests after it, never after a cut response).
    #[error("I/O error before a response began: {0}")]
    IoBeforeResponse(io::ErrorKind),
}

/// A complete final response: its status, whether the connection must not be reused, and its
/// `Retry-After` delay if it gave one in seconds (the polling model waits at least that long
/// before polling again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub close: bool,
    pub retry_after: Option<Duration>,
}

/// How the body after a head ends (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// Bytes of a `Content-Length` body still to come.
    Body(u64),
    ChunkSize,
    /// Bytes of the current chunk still to come.
    ChunkData(u64),
    /// The CRLF that ends a chunk's data.
    ChunkEnd,
    /// Trailer fields after the last chunk, up to an empty line.
    Trailer,
    UntilClose,
    Done,
}

/// An incremental parser of one HTTP/1.1 response: fed whatever bytes have arrived, it says
/// how many it used, so a head or chunk line split across reads is simply parsed again once
/// more bytes are in, and body bytes are used (skipped or kept) as they arrive.
#[derive(Debug)]
pub struct ResponseParser {
    state: State,
    head: Head,
    /// Whether any byte of the response arrived (an EOF before one is a plain closed
    /// keep-alive connection, after one a cut response).
    started: bool,
}

impl Default for ResponseParser {
    fn default() -> Self {
        ResponseParser {
            state: State::Head,
            head: Head {
                status: 0,
                close: false,
                retry_after: None,
            },
            started: false,
        }
    }
}

impl ResponseParser {
    /// The response, once complete.
    pub fn done(&self) -> Option<Head> {
        (self.state == State::Done).then_some(self.head)
    }

    /// Uses what it can of `input` and returns how many bytes that was. Unused bytes are an
    /// incomplete head or chunk line (feed them again with more after them) or, once
    /// [`done`](Self::done), bytes after the response. Body bytes go to `body` when given.
    pub fn advance(
        &mut self,
        input: &[u8],
        mut body: Option<&mut Vec<u8>>,
    ) -> Result<usize, WireError> {
        self.started |= !input.is_empty();
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Done => return Ok(pos),
                State::Head => {
                    let Some((used, head, framing)) = parse_head(rest)? else {
                        return Ok(pos);
                    };
                    pos += used;
                    if head.status == 101 {
                        return Err(WireError::Upgrade);
                    }
                    if (100..200).contains(&head.status) {
                        // Interim (100 Continue, 103 Early Hints): the final response follows.
                        continue;
                    }
                    self.head = head;
                    self.state = match framing {
                        Framing::None | Framing::Length(0) => State::Done,
                        Framing::Length(n) => State::Body(n),
                        Framing::Chunked => State::ChunkSize,
                        Framing::UntilClose => {
                            self.head.close = true;
                            State::UntilClose
                        }
                    };
                }
                State::Body(left) | State::ChunkData(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = usize::try_from(left).map_or(rest.len(), |l| l.min(rest.len()));
                    keep(&mut body, &rest[..take])?;
                    pos += take;
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Body(_), 0) => State::Done,
                        (State::Body(_), _) => State::Body(left),
                        (_, 0) => State::ChunkEnd,
                        (_, _) => State::ChunkData(left),
                    };
                }
                State::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        pos += used;
                        self.state = if size == 0 {
                            State::Trailer
                        } else {
                            State::ChunkData(size)
                        };
                    }
                    Ok(httparse::Status::Partial) if rest.len() <= MAX_CHUNK_LINE => {
                        return Ok(pos);
                    }
                    _ => return Err(WireError::BadChunk),
                },
                State::ChunkEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        pos += 2;
                        self.state = State::ChunkSize;
                    }
                    [] | [b'\r'] => return Ok(pos),
                    _ => return Err(WireError::BadChunk),
                },
                State::Trailer => match rest.windows(2).position(|w| w == b"\r\n") {
                    Some(0) => {
                        pos += 2;
                        self.state = State::Done;
                    }
                    // A trailer field: nothing here needs it.
                    Some(i) => pos += i + 2,
                    None if rest.len() >= MAX_HEAD => return Err(WireError::HeadTooLarge),
                    None => return Ok(pos),
                },
                State::UntilClose => {
                    keep(&mut body, rest)?;
                    return Ok(input.len());
                }
            }
        }
    }

    /// The server closed the connection: the end of an until-close body, or a cut response.
    pub fn eof(&mut self) -> Result<(), WireError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ if !self.started => Err(WireError::ClosedBeforeResponse),
            _ => Err(WireError::ClosedMidResponse),
        }
    }
}

fn keep(body: &mut Option<&mut Vec<u8>>, bytes: &[u8]) -> Result<(), WireError> {
    if let Some(b) = body {
        if b.len() + bytes.len() > MAX_KEPT_BODY {
            return Err(WireError::BodyTooLarge);
        }
        b.extend_from_slice(bytes);
    }
    Ok(())
}

/// Parses a complete head at the start of `buf`: bytes used, status, close, framing. `None`
/// when the head is not all there yet.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Head, Framing)>, WireError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let used = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
        Ok(httparse::Status::Complete(_)) => return Err(WireError::HeadTooLarge),
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
            return Err(WireError::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(WireError::TooManyHeaders),
        Err(e) => return Err(WireError::Malformed(e)),
    };
    // A complete parse always has a code; 0 would count as `other`, never as success.
    let status = resp.code.unwrap_or(0);
    let mut length: Option<u64> = None;
    // Some(is chunked the final coding) of the last Transfer-Encoding field.
    let mut chunked: Option<bool> = None;
    let (mut close, mut keep_alive) = (false, false);
    // Only the first field counts, as `HeaderMap::get` gave the hyper client.
    let mut retry_after: Option<Option<Duration>> = None;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            // `42` or the list form `42, 42`; differing values make the framing ambiguous.
            for v in h.value.split(|&b| b == b',') {
                let n = parse_length(v.trim_ascii()).ok_or(WireError::BadContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(WireError::BadContentLength);
                }
                length = Some(n);
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = h.value.rsplit(|&b| b == b',').next().unwrap_or_default();
            chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("retry-after") {
            retry_after.get_or_insert_with(|| parse_retry_after(h.value));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    // HTTP/1.0 closes unless it says keep-alive; HTTP/1.1 keeps alive unless it says close.
    let close = if resp.version == Some(0) {
        !keep_alive || close
    } else {
        close
    };
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::None
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            // A transfer coding other than chunked last: the body runs to the close.
            (Some(false), _) => Framing::UntilClose,
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::UntilClose,
        }
    };
    let head = Head {
        status,
        close,
        retry_after: retry_after.flatten(),
    };
    Ok(Some((used, head, framing)))
}

/// Delay-seconds only (an HTTP date is ignored), read as the hyper client's caller did:
/// `HeaderValue::to_str` (visible ASCII and tab), `trim`, then `u64::from_str`, which also
/// takes a leading `+`.
fn parse_retry_after(v: &[u8]) -> Option<Duration> {
    if !v.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return None;
    }
    let text = std::str::from_utf8(v).ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// A read buffer reused for every response of a connection, and the loop that fills it until
/// the parser has a whole response.
#[derive(Debug)]
pub struct ResponseReader {
    pub(crate) buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl Default for ResponseReader {
    fn default() -> Self {
        ResponseReader {
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
        }
    }
}

impl ResponseReader {
    /// Reads one response from `io`, keeping its body in `body` if given.
    pub async fn read<S: AsyncRead + Unpin>(
        &mut self,
        io: &mut S,
        mut body: Option<&mut Vec<u8>>,
    ) -> Result<Head, WireError> {
        let mut parser = ResponseParser::default();
        loop {
            if self.start < self.end {
                let used = parser.advance(&self.buf[self.start..self.end], body.as_deref_mut())?;
                self.start += used;
            }
            if self.start == self.end {
                (self.start, self.end) = (0, 0);
            }
            if let Some(head) = parser.done() {
                return Ok(head);
            }
            if self.end == self.buf.len() {
                // Full with an unfinished head or chunk line: make room at the front, or grow.
                if self.start > 0 {
                    self.buf.copy_within(self.start..self.end, 0);
                    (self.start, self.end) = (0, self.end - self.start);
                } else if self.buf.len() < MAX_HEAD {
                    self.buf.resize((self.buf.len() * 2).min(MAX_HEAD), 0);
                } else {
                    return Err(WireError::HeadTooLarge);
                }
            }
            let n = match io.read(&mut self.buf[self.end..]).await {
                Ok(n) => n,
                // Every byte read so far was fed to the parser above, so `started` says
                // whether any of this response arrived.
                Err(e) if !parser.started => return Err(WireError::IoBeforeResponse(e.kind())),
                Err(e) => return Err(WireError::Io(e.kind())),
            };
            if n == 0 {
                parser.eof()?;
                continue;
            }
            if self.end + n == self.buf.len() && self.buf.len() < MAX_HEAD {
                // The read filled the buffer: a big body, read it in bigger bites.
                let len = (self.buf.len() * 2).min(MAX_HEAD);
                self.buf.resize(len, 0);
            }
            self.end += n;
        }
    }

    /// Bytes after the last response (none in a well-behaved exchange without pipelining).
    pub fn has_leftover(&self) -> bool {
        self.start < self.end
    }

    /// Forgets buffered bytes (a new connection).
    pub fn clear(&mut self) {
        (self.start, self.end) = (0, 0);
    }
}

pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `at + d`, or a year later if that overflows (a huge `--request-timeout`).
pub(crate) fn far_after(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(at)
}

pub(crate) async fn exchange_on(
    stream: &mut TcpStream,
    reader: &mut ResponseReader,
    request: &[u8],
    body: Option<&mut Vec<u8>>,
) -> Result<Head, WireError> {
    stream
        .write_all(request)
        .await
        .map_err(|e| WireError::Io(e.kind()))?;
    reader.read(stream, body).await
}

/// Whether an idle keep-alive connection can take the next request. A read that would block
/// means open and silent; end of stream (the server closed it while idle), stray bytes or an
/// error mean replace it, without counting an error, as hyper's `is_closed` check did.
///
/// It usually costs no syscall: tokio clears a socket's read readiness after a read shorter
/// than the buffer (as the read that ended the last response was), so this returns
/// `WouldBlock` at once unless the runtime has seen a new event on the socket since, such as
/// the server's FIN. Like `is_closed`, it sees a close only once the runtime has.
pub(crate) fn idle_and_open(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Runs `fut` until `deadline` (`None` after it) on a timer that is moved only when it fires
/// early.
///
/// `tokio::time::timeout` per request would insert and remove an entry in the runtime's timer
/// wheel for every request. A worker's deadlines only grow, so a long-lived timer left at an
/// earlier request's deadline fires no later than the current one's: when it fires, either
/// the current request is late, or the timer moves to the current deadline and waits again.
/// That is at most one move per timeout period instead of two wheel operations per request.
pub(crate) async fn within<F: Future>(
    mut timer: Pin<&mut Sleep>,
    deadline: Instant,
    fut: F,
) -> Option<F::Output> {
    if timer.deadline() > deadline {
        timer.as_mut().reset(deadline);
    }
    let mut fut = pin!(fut);
    poll_fn(move |cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        while timer.as_mut().poll(cx).is_ready() {
            if timer.deadline() >= deadline {
                return Poll::Ready(None);
            }
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await
}
