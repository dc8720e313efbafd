//! Serving HTTP connections: one thread per core, each with a single-threaded runtime of its
//! own, as nginx runs one worker process per core.
//!
//! The node's main runtime accepts connections and hands each to the serving thread with the
//! fewest open connections. That thread reads the connection's requests and answers the page
//! cache's hits itself, so the common case (a cached page over a kept-alive connection) never
//! leaves the thread: no wake-up of another thread, no work stolen between threads. Every other
//! request (a miss, a form, the admin, the API) is handed to the main runtime, where the
//! database, the caches' followers and every other task run as before, and its answer comes
//! back to the serving thread to be written.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::Service;

use super::front::Front;

/// One serving thread, as the acceptor sees it.
struct Worker {
    send: mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>,
    open: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<()>,
}

/// Serves `listener` until `shutdown` completes, then lets open connections finish the request
/// they are on (at most `grace`) and returns.
pub async fn serve(
    listener: TcpListener,
    front: Front,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let main = tokio::runtime::Handle::current();
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // Connections watch `signal` (dropped on shutdown: finish the current request, then close)
    // and hold `closed` until they end.
    let (signal_tx, signal_rx) = watch::channel(());
    let (closed_tx, closed_rx) = watch::channel(());
    let mut workers = Vec::with_capacity(threads);
    for n in 0..threads {
        let (send, receive) = mpsc::unbounded_channel();
        let open = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (front, main, open_there) = (front.clone(), main.clone(), open.clone());
        let (signal_tx, closed_rx) = (signal_tx.clone(), closed_rx.clone());
        let thread = std::thread::Builder::new().name(format!("gazette-http-{n}")).spawn(move || {
            runtime.block_on(async move {
                work(receive, front, main, open_there.clone(), signal_tx, closed_rx).await;
                // Stopping: let the connections still open finish their request (bounded).
                let drained = async {
                    while open_there.load(Ordering::Relaxed) > 0 {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                };
                let _ = tokio::time::timeout(grace, drained).await;
            });
        })?;
        workers.push(Worker { send, open, thread });
    }
    drop(closed_rx);

    let mut shutdown = std::pin::pin!(shutdown);
    let mut next = 0usize;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    // Out of file descriptors and the like: wait, as axum does.
                    tracing::error!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(stream) = stream.into_std() else { continue };
        // The thread with the fewest open connections; ties go round the threads.
        next = (next + 1) % workers.len();
        let chosen = (0..workers.len())
            .map(|i| (next + i) % workers.len())
            .min_by_key(|&i| workers[i].open.load(Ordering::Relaxed))
            .unwrap_or(0);
        workers[chosen].open.fetch_add(1, Ordering::Relaxed);
        if workers[chosen].send.send((stream, peer)).is_err() {
            anyhow::bail!("a serving thread stopped");
        }
    }
    drop(listener);
    drop(signal_rx);
    let threads: Vec<_> = workers.into_iter().map(|w| w.thread).collect();
    if tokio::time::timeout(grace, closed_tx.closed()).await.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    drop(closed_tx);
    // Threads whose connections ended have returned; the others are cut when the process ends.
    for thread in threads.into_iter().filter(std::thread::JoinHandle::is_finished) {
        let _ = thread.join();
    }
    Ok(())
}

/// A serving thread: serves each connection handed to it until the acceptor stops.
async fn work(
    mut receive: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    front: Front,
    main: tokio::runtime::Handle,
    open: Arc<AtomicUsize>,
    signal_tx: watch::Sender<()>,
    closed_rx: watch::Receiver<()>,
) {
    while let Some((stream, peer)) = receive.recv().await {
        let stream = match TcpStream::from_std(stream) {
            Ok(stream) => Lingering { stream: Some(stream), client_done: false },
            Err(err) => {
                tracing::warn!(error = %err, "could not serve a connection");
                open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
        };
        let front = front.for_peer(peer);
        let main = main.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let request = request.map(Body::new);
            match front.hit(&request) {
                Some(response) => Either::Left(std::future::ready(Ok(response))),
                None => Either::Right(elsewhere(front.clone(), main.clone(), request)),
            }
        });
        let (signal_tx, closed_rx, open) = (signal_tx.clone(), closed_rx.clone(), open.clone());
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            // Headers and body go out in one vectored write, the body never copied into
            // hyper's buffer (its adaptive default flattens bodies it judges small).
            builder.http1().writev(true);
            let mut conn =
                std::pin::pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
            let mut stopping = std::pin::pin!(signal_tx.closed());
            let mut asked_to_stop = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(err) = result {
                            tracing::trace!(error = %err, "connection ended");
                        }
                        break;
                    }
                    () = &mut stopping, if !asked_to_stop => {
                        asked_to_stop = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            open.fetch_sub(1, Ordering::Relaxed);
            drop(closed_rx);
        });
    }
}

/// A request the page cache cannot answer, run on the main runtime with the database and the
/// rest; its answer comes back to the serving thread.
async fn elsewhere(
    mut front: Front,
    main: tokio::runtime::Handle,
    request: axum::extract::Request,
) -> Result<Response, Infallible> {
    Ok(match main.spawn(async move { front.call(request).await }).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(err) => {
            tracing::error!(error = %err, "a request's handler failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    })
}

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
struct Lingering {
    stream: Option<TcpStream>,
    /// The client has closed its side, or the connection failed: nothing to wait for.
    client_done: bool,
}

impl Lingering {
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
    while tokio::time::Instant::now() < until {
        match tokio::time::timeout(LINGER_IDLE, stream.read(&mut discard)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
}

/// Errors of one connection, not of the listener (the next accept may well succeed).
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(err.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
