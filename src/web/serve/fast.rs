//! The page cache's hits, answered straight from the socket.
//!
//! A connection starts here. Each request is parsed with `httparse` (the parser hyper itself
//! uses); a plain `GET` of a page the cache holds is answered with the page's stored status line
//! and headers, the date, and its body, in one vectored write. (`sendfile` from a sealed
//! in-memory copy of each large page was tried and removed: once a connection is served on the
//! CPU its packets arrive on, copying a 45 KB body into the socket is faster, 166,000-172,000
//! requests/s against 116,000-136,000.) Anything else — another method, a body,
//! `Connection: close`, HTTP/1.0 or HTTP/2, an upgrade, a page the cache does not hold, a
//! request that does not parse — ends this loop, and the connection goes to hyper with the
//! bytes already read, for the rest of its life. So hyper answers everything it answered
//! before, with the same errors; this path answers only what it can answer whole.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Bytes;
use bytes::{Buf, BytesMut};
use rustix::time::ClockId;
use tokio::io::{AsyncReadExt, Interest};
use tokio::net::TcpStream;

use super::lanes::Lanes;
use crate::web::cache::page::{self, Answer, Encoding, Page};
use crate::web::front::Front;

/// Headers a request may have for this path (more go to hyper, which allows 100).
const MAX_HEADERS: usize = 48;
/// A request head longer than this goes to hyper (which answers 431 past its own limit).
const MAX_HEAD: usize = 16 * 1024;
/// How long a request may take to arrive once it has begun (hyper's `header_read_timeout`).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a kept-alive connection may wait for its next request (nginx's
/// `keepalive_timeout`).
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// How many answers between two looks at the CPU a connection's packets arrive on.
const MOVE_CHECK_EVERY: u32 = 16;

/// Which thread serves the connection, and the others it may move to.
pub(super) struct Moves<'a> {
    pub lanes: &'a Lanes,
    pub lane: usize,
}

/// How a connection goes on when it leaves this path.
pub(super) enum Next {
    /// It is over: the client closed it or failed, or the node is stopping and no request is
    /// under way.
    Closed,
    /// To hyper, with the bytes read but not answered.
    Hyper(Bytes),
    /// To another serving thread (the one of the CPU its packets now arrive on), between two
    /// requests: nothing read and not answered.
    Move(usize),
}

/// Answers the connection's requests while they are cache hits.
pub(super) async fn answer_hits(
    stream: &mut TcpStream,
    front: &Front,
    mut stopping: Pin<&mut impl Future<Output = ()>>,
    moves: Moves<'_>,
) -> Next {
    let mut read = BytesMut::with_capacity(4096);
    let mut head = Vec::with_capacity(2048);
    let mut idle = std::pin::pin!(tokio::time::sleep(IDLE_TIMEOUT));
    // When the last bytes came in: the idle timer counts the silence from there.
    let mut last_heard = coarse(ClockId::MonotonicCoarse);
    let mut answered = 0u32;
    let mut move_to = None;
    loop {
        // Every complete request already read (pipelined ones too).
        while !read.is_empty() {
            match parse(&read, front) {
                Parsed::Partial if read.len() <= MAX_HEAD => break,
                Parsed::Partial | Parsed::Other => return Next::Hyper(read.freeze()),
                Parsed::Hit { length, page, answer } => {
                    if send(stream, &page, answer, &mut head).await.is_err() {
                        return Next::Closed;
                    }
                    read.advance(length);
                    answered = answered.wrapping_add(1);
                }
            }
        }
        let between_requests = read.is_empty();
        if between_requests && let Some(to) = move_to.take() {
            return Next::Move(to);
        }
        // Room for a whole request (when the buffer is empty this moves its start back to the
        // front of the allocation, rather than reading into the last few bytes). A read shorter
        // than the room marks the socket not ready, so the next wait goes straight to epoll
        // rather than through a read that would find nothing.
        read.reserve(2048);
        let reading = stream.read_buf(&mut read);
        let got = if between_requests {
            // Between requests: the node stopping, or a long silence, ends the connection here.
            // The timer is not moved for each request; when it goes off before the connection
            // has been silent that long, it is set again for the rest.
            tokio::select! {
                biased;
                got = reading => got,
                () = stopping.as_mut() => return Next::Closed,
                () = idle.as_mut() => {
                    let silent = coarse(ClockId::MonotonicCoarse).saturating_sub(last_heard);
                    if silent >= IDLE_TIMEOUT {
                        return Next::Closed;
                    }
                    idle.as_mut().reset(tokio::time::Instant::now() + (IDLE_TIMEOUT - silent));
                    continue;
                }
            }
        } else {
            // In the middle of one: it has a while to arrive whole.
            tokio::time::timeout(HEAD_TIMEOUT, reading).await.unwrap_or(Ok(0))
        };
        match got {
            Ok(0) | Err(_) => return Next::Closed,
            Ok(_) => last_heard = coarse(ClockId::MonotonicCoarse),
        }
        // Now, with a request just received, the socket's incoming CPU is the one the client's
        // packets arrive on (after an answer it may be an acknowledgement's instead); a move
        // waits for the next moment between two requests.
        if answered.is_multiple_of(MOVE_CHECK_EVERY) {
            move_to = moves.lanes.better(moves.lane, stream);
        }
    }
}

enum Parsed {
    /// Not all of the request head has arrived.
    Partial,
    /// Not a plain GET of a cached page: hyper's.
    Other,
    Hit {
        length: usize,
        page: std::sync::Arc<Page>,
        answer: Answer,
    },
}

fn parse(read: &[u8], front: &Front) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let length = match request.parse(read) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    let (Some("GET"), Some(1), Some(target)) = (request.method, request.version, request.path) else {
        return Parsed::Other;
    };
    if !target.starts_with('/') {
        return Parsed::Other;
    }
    let mut conditional = false;
    for header in request.headers.iter() {
        let name = header.name;
        let plain = if name.eq_ignore_ascii_case("content-length") {
            header.value == b"0"
        } else if name.eq_ignore_ascii_case("connection") {
            header.value.eq_ignore_ascii_case(b"keep-alive")
        } else {
            conditional |=
                name.eq_ignore_ascii_case("if-none-match") || name.eq_ignore_ascii_case("if-modified-since");
            !(name.eq_ignore_ascii_case("transfer-encoding")
                || name.eq_ignore_ascii_case("expect")
                || name.eq_ignore_ascii_case("upgrade"))
        };
        if !plain {
            return Parsed::Other;
        }
    }
    let Some(page) = front.cached(target) else { return Parsed::Other };
    let values = |wanted: &'static str| {
        request
            .headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(wanted))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
    };
    let has = |wanted: &str| request.headers.iter().any(|h| h.name.eq_ignore_ascii_case(wanted));
    let current = conditional
        && page::is_current(
            has("if-none-match").then(|| values("if-none-match")),
            values("if-modified-since").next(),
            &page.etag,
            &page.headers,
        );
    let answer = page.answer(Encoding::choose_among(values("accept-encoding")), current);
    Parsed::Hit { length, page, answer }
}

/// Writes one answer: head, date and body.
async fn send(stream: &TcpStream, page: &Page, answer: Answer, head: &mut Vec<u8>) -> io::Result<()> {
    head.clear();
    head.extend_from_slice(page.head(answer));
    date_line(head);
    head.extend_from_slice(b"\r\n");
    write_all(stream, head, page.body(answer)).await
}

/// `head` then `body` (empty for a 304), in as few writes as the socket takes.
async fn write_all(stream: &TcpStream, head: &[u8], body: &[u8]) -> io::Result<()> {
    let mut slices = [IoSlice::new(head), IoSlice::new(body)];
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        let n = stream.async_io(Interest::WRITABLE, || Ok(rustix::io::writev(stream, slices)?)).await?;
        written(n)?;
        IoSlice::advance_slices(&mut slices, n);
    }
    Ok(())
}

/// A write that took nothing is an error (the socket would otherwise be tried forever).
fn written(n: usize) -> io::Result<usize> {
    if n == 0 { Err(io::ErrorKind::WriteZero.into()) } else { Ok(n) }
}

/// The time on one of the kernel's coarse clocks (updated each scheduler tick, a few
/// milliseconds), read without the time stamp counter.
fn coarse(clock: ClockId) -> Duration {
    let t = rustix::time::clock_gettime(clock);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

thread_local! {
    /// `date: …\r\n` for the current second, made once a second on each serving thread.
    static DATE: std::cell::RefCell<(u64, Vec<u8>)> = const { std::cell::RefCell::new((0, Vec::new())) };
}

/// Appends the `date` header hyper would add. (The kernel's coarse clock, read without the
/// time stamp counter: a date is to the second.)
fn date_line(head: &mut Vec<u8>) {
    let second = coarse(ClockId::RealtimeCoarse).as_secs();
    DATE.with_borrow_mut(|(made, line)| {
        if *made != second || line.is_empty() {
            *made = second;
            line.clear();
            line.extend_from_slice(b"date: ");
            line.extend_from_slice(
                httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(second)).as_bytes(),
            );
            line.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(line);
    });
}
