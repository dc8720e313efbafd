//! Serving HTTP connections: one thread per core, each with a single-threaded runtime of its
//! own, as nginx runs one worker process per core.
//!
//! The node's main runtime accepts connections and hands each to a serving thread: the one
//! bound to the CPU the connection's packets arrive on (see `lanes`). That thread reads the
//! connection's requests and answers the page cache's hits itself, so the common case (a cached
//! page over a kept-alive connection) never leaves the thread: no wake-up of another thread, no
//! work stolen between threads. Every other request (a miss, a form, the admin, the API) is
//! handed to the main runtime, where the database, the caches' followers and every other task
//! run as before, and its answer comes back to the serving thread to be written.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
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
use crate::config::{Scheduling, ServingConfig};
use lanes::Lanes;
use linger::Lingering;

mod fast;
mod lanes;
mod linger;

/// Serves `listener` until `shutdown` completes, then lets open connections finish the request
/// they are on (at most `grace`) and returns.
pub async fn serve(
    listener: TcpListener,
    front: Front,
    serving: ServingConfig,
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
    let cpus = Lanes::cpus(threads);
    let (sends, receives): (Vec<_>, Vec<_>) = (0..threads).map(|_| mpsc::unbounded_channel()).unzip();
    let lanes = Arc::new(Lanes::new(sends, cpus.clone()));
    let mut handles = Vec::with_capacity(threads);
    for (lane, (receive, cpu)) in receives.into_iter().zip(cpus).enumerate() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (front, main, lanes) = (front.clone(), main.clone(), lanes.clone());
        let (signal_tx, closed_rx) = (signal_tx.clone(), closed_rx.clone());
        let thread = std::thread::Builder::new().name(format!("gazette-http-{lane}")).spawn(move || {
            Lanes::bind(cpu);
            schedule(serving.scheduling);
            let serving = Serving { front, main, lanes, lane, signal_tx, closed_rx };
            runtime.block_on(serving.work(receive, grace));
        })?;
        handles.push(thread);
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
        next = (next + 1) % lanes.len();
        if lanes.hand(lanes.choose(&stream, next), (stream, peer)).is_err() {
            anyhow::bail!("a serving thread stopped");
        }
    }
    drop(listener);
    drop(signal_rx);
    if tokio::time::timeout(grace, closed_tx.closed()).await.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    drop(closed_tx);
    // Threads whose connections ended have returned; the others are cut when the process ends.
    for thread in handles.into_iter().filter(std::thread::JoinHandle::is_finished) {
        let _ = thread.join();
    }
    Ok(())
}

/// Sets the calling thread's scheduling policy. With `Batch` (`SCHED_BATCH`), a serving thread
/// woken by a request does not take its CPU from the task running there (often the client or
/// proxy that sent it, on the same host) but runs when that task blocks or its slice ends: the
/// requests that arrived meanwhile are answered in one go, not one context switch each. An idle
/// CPU runs it at once either way.
fn schedule(scheduling: Scheduling) {
    #[cfg(target_os = "linux")]
    if scheduling == Scheduling::Batch {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};
        // The niceness is set with the policy: 0, the default.
        if let Err(err) = thread_priority::set_thread_priority_and_policy(
            thread_priority::thread_native_id(),
            ThreadPriority::Os(thread_priority::ThreadPriorityOsValue::default()),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        ) {
            tracing::debug!(error = ?err, "could not schedule a serving thread as SCHED_BATCH");
        }
    }
}

/// One serving thread.
struct Serving {
    front: Front,
    main: tokio::runtime::Handle,
    lanes: Arc<Lanes>,
    /// This thread's number among the lanes.
    lane: usize,
    signal_tx: watch::Sender<()>,
    closed_rx: watch::Receiver<()>,
}

impl Serving {
    /// Serves each connection handed to this thread until the node stops; then lets those still
    /// open finish their request (at most `grace`).
    async fn work(self, mut receive: mpsc::UnboundedReceiver<lanes::Handed>, grace: Duration) {
        let stopping = self.signal_tx.clone();
        let mut stopping = std::pin::pin!(stopping.closed());
        loop {
            let (stream, peer) = tokio::select! {
                biased;
                () = &mut stopping => break,
                handed = receive.recv() => match handed {
                    Some(handed) => handed,
                    None => break,
                },
            };
            let mut stream = match TcpStream::from_std(stream) {
                Ok(stream) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "could not serve a connection");
                    self.lanes.ended(self.lane);
                    continue;
                }
            };
            let (front, main, lanes, lane) =
                (self.front.for_peer(peer), self.main.clone(), self.lanes.clone(), self.lane);
            let (signal_tx, closed_rx) = (self.signal_tx.clone(), self.closed_rx.clone());
            tokio::spawn(async move {
                let mut stopping = std::pin::pin!(signal_tx.closed());
                // Hits first, straight from the socket; the first other request, and the rest
                // of the connection with it, goes to hyper.
                let moves = fast::Moves { lanes: &lanes, lane };
                match fast::answer_hits(&mut stream, &front, stopping.as_mut(), moves).await {
                    fast::Next::Closed => {}
                    fast::Next::Hyper(read) => {
                        serve_with_hyper(Lingering::new(stream, read), front, main, stopping).await;
                    }
                    fast::Next::Move(to) => {
                        // Between two requests, nothing read: the other thread starts afresh.
                        tracing::trace!(
                            from = lane,
                            to,
                            "a connection moves to the serving thread of its CPU"
                        );
                        if let Ok(stream) = stream.into_std() {
                            let _ = lanes.hand(to, (stream, peer));
                        }
                    }
                }
                lanes.ended(lane);
                drop(closed_rx);
            });
        }
        // Connections handed over but not yet taken are closed.
        receive.close();
        while receive.try_recv().is_ok() {
            self.lanes.ended(self.lane);
        }
        let drained = async {
            while self.lanes.open(self.lane) > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let _ = tokio::time::timeout(grace, drained).await;
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
/// `worker_rlimit_nofile` does: each connection holds one, and the usual soft limit, 1,024, is
/// a few hundred readers kept alive beside the database's files and the media.
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
