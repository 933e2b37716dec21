//! The connection wrapper that lets a fault end a connection the way a real network does.
//!
//! hyper closes a connection when the service returns an error; dropping a plain socket sends
//! a FIN. For a reset, the socket needs `SO_LINGER` set to zero right before it is dropped,
//! and the service cannot reach the socket (hyper owns it), so the service sets a flag on a
//! shared [`ConnControl`] and this wrapper applies it in `Drop`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Per-connection switches the request handler may flip.
#[derive(Debug, Default)]
pub struct ConnControl {
    reset_on_close: AtomicBool,
}

impl ConnControl {
    /// Makes the coming close a TCP RST instead of a FIN.
    pub fn reset_on_close(&self) {
        self.reset_on_close.store(true, Ordering::Release);
    }
}

/// A `TcpStream` that honours [`ConnControl`] when dropped.
#[derive(Debug)]
pub struct FaultableStream {
    inner: TcpStream,
    control: Arc<ConnControl>,
}

impl FaultableStream {
    pub fn new(inner: TcpStream, control: Arc<ConnControl>) -> Self {
        FaultableStream { inner, control }
    }
}

impl Drop for FaultableStream {
    fn drop(&mut self) {
        if self.control.reset_on_close.load(Ordering::Acquire) {
            // Zero linger makes close() discard unsent data and send RST.
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(std::time::Duration::ZERO));
        }
    }
}

impl AsyncRead for FaultableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
