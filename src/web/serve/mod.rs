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
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::Service;

use super::front::Front;
use linger::Lingering;

mod fast;
mod linger;

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
    raise_file_limit();
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
        let mut stream = match TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(err) => {
                tracing::warn!(error = %err, "could not serve a connection");
                open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
        };
        let (front, main) = (front.for_peer(peer), main.clone());
        let (signal_tx, closed_rx, open) = (signal_tx.clone(), closed_rx.clone(), open.clone());
        tokio::spawn(async move {
            let mut stopping = std::pin::pin!(signal_tx.closed());
            // Hits first, straight from the socket; the first other request, and the rest of
            // the connection with it, goes to hyper.
            if let Some(read) = fast::answer_hits(&mut stream, &front, stopping.as_mut()).await {
                serve_with_hyper(Lingering::new(stream, read), front, main, stopping).await;
            }
            open.fetch_sub(1, Ordering::Relaxed);
            drop(closed_rx);
        });
    }
}

/// Serves a connection with hyper (HTTP/1.1 and HTTP/2): page cache hits on this thread, the
/// rest on the main runtime.
async fn serve_with_hyper(
    io: Lingering,
    front: Front,
    main: tokio::runtime::Handle,
    mut stopping: Pin<&mut impl Future<Output = ()>>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let request = request.map(Body::new);
        match front.hit(&request) {
            Some(response) => Either::Left(std::future::ready(Ok(response))),
            None => Either::Right(elsewhere(front.clone(), main.clone(), request)),
        }
    });
    let mut builder = Builder::new(TokioExecutor::new());
    // Headers and body go out in one vectored write, the body never copied into hyper's
    // buffer (its adaptive default flattens bodies it judges small).
    // hyper's limit on the time a request head may take to arrive (30 s) needs its timer.
    builder.http1().writev(true).timer(hyper_util::rt::TokioTimer::new());
    let mut conn = std::pin::pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
    let mut asked_to_stop = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::trace!(error = %err, "connection ended");
                }
                return;
            }
            () = &mut stopping, if !asked_to_stop => {
                asked_to_stop = true;
                conn.as_mut().graceful_shutdown();
            }
        }
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

/// Raises the soft limit on open files to the hard one (at most a million), as nginx's
/// `worker_rlimit_nofile` does: besides one per connection, each large page in the page cache
/// holds one (its sealed file, see `cache::page`), and the usual soft limit is 1,024.
fn raise_file_limit() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let most = limit.maximum.unwrap_or(1 << 20).min(1 << 20);
        if limit.current.is_some_and(|current| current < most) {
            let _ = setrlimit(Resource::Nofile, Rlimit { current: Some(most), maximum: limit.maximum });
        }
    }
}

/// Errors of one connection, not of the listener (the next accept may well succeed).
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(err.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
