//! Response bodies: whole, or dribbled slowly for the `slow_body` fault.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// The body type of every response the server sends.
#[derive(Debug)]
pub struct ResponseBody {
    data: Bytes,
    slow: Option<Slow>,
}

#[derive(Debug)]
struct Slow {
    chunk: usize,
    every: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl ResponseBody {
    pub fn full(data: impl Into<Bytes>) -> Self {
        ResponseBody {
            data: data.into(),
            slow: None,
        }
    }

    /// `data` in chunks of `chunk` bytes, one every `every`.
    pub fn dribble(data: impl Into<Bytes>, chunk: usize, every: Duration) -> Self {
        ResponseBody {
            data: data.into(),
            slow: Some(Slow {
                chunk: chunk.max(1),
                every,
                sleep: Box::pin(tokio::time::sleep(every)),
            }),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        match &mut this.slow {
            None => Poll::Ready(Some(Ok(Frame::data(std::mem::take(&mut this.data))))),
            Some(slow) => {
                if slow.sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let next = tokio::time::Instant::now() + slow.every;
                slow.sleep.as_mut().reset(next);
                let n = slow.chunk.min(this.data.len());
                Poll::Ready(Some(Ok(Frame::data(this.data.split_to(n)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

use std::future::Future;
