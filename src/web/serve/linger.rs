//! Closing a connection so that the client can read the last answer, and handing a
//! connection whose first bytes were already read over to hyper.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How long a connection the server closed first is still read from, at most, and how long
/// without a byte from the client ends that sooner (nginx's `lingering_time` and
/// `lingering_timeout`).
const LINGER_FOR: Duration = Duration::from_secs(30);
const LINGER_IDLE: Duration = Duration::from_secs(5);

/// A connection's socket, closed the way a browser can read the last answer.
///
/// When the server ends a connection while the client is still sending (an upload refused for
/// its size before its body is read, a request that closes the connection), closing the socket
/// with unread bytes makes the kernel reset the connection, and the reset can reach the client
/// before it has read the answer: the reader sees "connection reset" instead of "this file is
/// too large". So, unless the client has already finished, the socket is shut for writing (the
/// answer is complete) and read, discarding, until the client closes too or stops sending.
pub(super) struct Lingering {
    stream: Option<TcpStream>,
    /// Bytes read before hyper took the connection, given to it first.
    prefix: Bytes,
    /// The client has closed its side, or the connection failed: nothing to wait for.
    client_done: bool,
}

impl Lingering {
    /// `stream`, whose first bytes (`prefix`) were already read from it.
    pub(super) fn new(stream: TcpStream, prefix: Bytes) -> Self {
        Self { stream: Some(stream), prefix, client_done: false }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.stream.as_mut().expect("the stream is taken only when dropped"))
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() && buf.remaining() > 0 {
            let n = self.prefix.len().min(buf.remaining());
            let first = self.prefix.split_to(n);
            buf.put_slice(&first);
            return Poll::Ready(Ok(()));
        }
        let (room, before) = (buf.remaining(), buf.filled().len());
        let polled = self.stream().poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if room > 0 && buf.filled().len() == before => self.client_done = true,
            Poll::Ready(Err(_)) => self.client_done = true,
            _ => {}
        }
        polled
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take().filter(|_| !self.client_done) else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(linger(stream));
    }
}

/// Reads and discards what the client still sends, after the answer, then closes.
async fn linger(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    if stream.shutdown().await.is_err() {
        return;
    }
    let until = tokio::time::Instant::now() + LINGER_FOR;
    let mut discard = vec![0u8; 16 * 1024];
    loop {
        let by = (tokio::time::Instant::now() + LINGER_IDLE).min(until);
        match tokio::time::timeout_at(by, stream.read(&mut discard)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
}
