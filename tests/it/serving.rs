//! The serving threads' own answers to page cache hits (`src/web/serve/fast.rs`), over raw
//! connections: what hyper would have answered, byte for byte in the body and header for
//! header; pipelined requests; a connection that goes on to something else (a form, a HEAD,
//! HTTP/1.0) is hyper's from then on and still works; a connection whose client moves from CPU
//! to CPU moves between the serving threads (`src/web/serve/lanes.rs`) and loses nothing; the
//! threads are scheduled as `[serving] scheduling` says.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Server, TestApp};

/// One response read off a raw connection: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads one response (with a `content-length`, or none for 304 and HEAD) from `pending`
/// and the stream.
async fn read_answer(stream: &mut TcpStream, pending: &mut Vec<u8>, head_only: bool) -> Answer {
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n =
            tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "the connection closed before an answer: {:?}", String::from_utf8_lossy(pending));
        pending.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(pending[..end].to_vec()).unwrap();
    pending.drain(..end + 4);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let length = if head_only || status == 304 {
        0
    } else {
        headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap())
    };
    while pending.len() < length {
        let n =
            tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "the connection closed inside a body");
        pending.extend_from_slice(&chunk[..n]);
    }
    let body = pending.drain(..length).collect();
    Answer { status, headers, body }
}

/// A demo site whose front page is in the page cache: the page, and a hit's response to it.
async fn front_page_cached() -> (TestApp, String, reqwest::Response) {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    // Rendered once (by hyper's path), stored, compressed.
    let page = app.page("/", 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reference = app.get("/").await;
    assert_eq!(reference.headers()["x-cache"], "hit");
    (app, page, reference)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_are_answered_from_the_socket_as_hyper_would() {
    let (app, page, reference) = front_page_cached().await;
    let etag = reference.headers()["etag"].to_str().unwrap().to_owned();

    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let mut pending = Vec::new();
    // Three requests in one write: identity, brotli, and a current copy (304).
    let requests = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n\
         GET / HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip, br\r\n\r\n\
         GET / HTTP/1.1\r\nHost: {addr}\r\nIf-None-Match: {etag}\r\n\r\n"
    );
    stream.write_all(requests.as_bytes()).await.unwrap();
    let plain = read_answer(&mut stream, &mut pending, false).await;
    assert_eq!(plain.status, 200);
    assert_eq!(String::from_utf8(plain.body.clone()).unwrap(), page, "the same bytes as hyper sent");
    assert_eq!(plain.header("content-length"), Some(page.len().to_string().as_str()));
    assert_eq!(plain.header("x-cache"), Some("hit"));
    assert_eq!(plain.header("etag"), Some(etag.as_str()));
    assert!(plain.header("date").is_some_and(|d| httpdate::parse_http_date(d).is_ok()), "a date");
    for (name, value) in reference.headers() {
        if name != "date" {
            assert_eq!(plain.header(name.as_str()), Some(value.to_str().unwrap()), "{name}");
        }
    }
    let br = read_answer(&mut stream, &mut pending, false).await;
    assert_eq!((br.status, br.header("content-encoding")), (200, Some("br")));
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut unpacked).unwrap();
    assert_eq!(unpacked, page.as_bytes());
    let current = read_answer(&mut stream, &mut pending, false).await;
    assert_eq!(current.status, 304);
    assert!(current.body.is_empty() && current.header("content-length").is_none());

    // Many requests on one connection (far past the first read buffer), one at a time.
    for n in 0..300 {
        let encoding = if n % 2 == 0 { "gzip, br" } else { "identity" };
        stream
            .write_all(
                format!("GET / HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {encoding}\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_answer(&mut stream, &mut pending, false).await;
        assert_eq!(answer.status, 200, "request {n}");
        assert_eq!(answer.body.len(), if n % 2 == 0 { br.body.len() } else { page.len() }, "request {n}");
    }

    // The same connection goes on to what only the application answers: a HEAD, a search
    // form, a page not in the cache; then a hit again (hyper's path now).
    stream.write_all(format!("HEAD / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let head = read_answer(&mut stream, &mut pending, true).await;
    assert_eq!(head.status, 200);
    stream
        .write_all(format!("GET /nowhere-at-all/ HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream, &mut pending, false).await.status, 404);
    stream.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let again = read_answer(&mut stream, &mut pending, false).await;
    assert_eq!(again.body, plain.body);

    // A request that arrives in pieces, then one with a body: hyper's, answered whole.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let mut pending = Vec::new();
    for piece in ["GET / HT", "TP/1.1\r\nHost: ", &addr, "\r\nAccept-Encoding: gzip\r\n", "\r\n"] {
        stream.write_all(piece.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let gz = read_answer(&mut stream, &mut pending, false).await;
    assert_eq!((gz.status, gz.header("content-encoding")), (200, Some("gzip")));
    stream
        .write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 3\r\n\r\nabc").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream, &mut pending, false).await.status, 200);

    // HTTP/1.0 and `Connection: close`: hyper's, which closes after the answer.
    for request in [
        "GET / HTTP/1.0\r\n\r\n".to_owned(),
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    ] {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut all = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut all)).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&all);
        assert!(text.starts_with("HTTP/1") && text.contains(" 200 OK"), "{request:?}: {text}");
        assert!(text.ends_with("</html>\n") || text.ends_with("</html>"), "{request:?}: the whole page");
    }

    // Garbage is hyper's to refuse.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost\r\n\r\n").await.unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut all)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 400"), "{}", String::from_utf8_lossy(&all));
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    let set = rustix::thread::sched_getaffinity(None).unwrap();
    (0..rustix::thread::CpuSet::MAX_CPU).filter(|&cpu| set.is_set(cpu)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_follows_its_client_from_cpu_to_cpu() {
    let (app, page, _) = front_page_cached().await;
    let cpus = allowed_cpus();
    let addr = app.base.trim_start_matches("http://").to_owned();
    // A client on one thread, bound to one CPU and then another every 20 requests: its packets
    // arrive on that CPU, and its connection moves to the serving thread there (on a machine
    // with one CPU, it stays). Some requests go in the same write as the one before, so that a
    // move can find a request already waiting.
    let answers = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        let mut bodies = Vec::new();
        let mut pending = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        for round in 0..200 {
            if round % 20 == 0 {
                let mut set = rustix::thread::CpuSet::new();
                set.set(cpus[(round / 20) % cpus.len()]);
                rustix::thread::sched_setaffinity(None, &set).unwrap();
            }
            let together = if round % 7 == 3 { 2 } else { 1 };
            stream.write_all(request.repeat(together).as_bytes()).unwrap();
            for _ in 0..together {
                let end = loop {
                    if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        break end + 4;
                    }
                    let n = stream.read(&mut chunk).unwrap();
                    assert!(n > 0, "the connection closed at request {round}");
                    pending.extend_from_slice(&chunk[..n]);
                };
                let head = String::from_utf8(pending[..end].to_vec()).unwrap();
                assert!(head.starts_with("HTTP/1.1 200"), "request {round}: {head}");
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap();
                while pending.len() < end + length {
                    let n = stream.read(&mut chunk).unwrap();
                    assert!(n > 0, "the connection closed inside a body at request {round}");
                    pending.extend_from_slice(&chunk[..n]);
                }
                bodies.push(pending[end..end + length].to_vec());
                pending.drain(..end + length);
            }
        }
        assert!(pending.is_empty(), "nothing unasked for");
        bodies
    })
    .await
    .unwrap();
    assert!(answers.len() > 200);
    for (n, body) in answers.iter().enumerate() {
        assert!(body == page.as_bytes(), "answer {n} is the page");
    }
}

/// The scheduling policy (0 normal, 3 batch: field 41 of `/proc/PID/task/TID/stat`) of each of
/// a node's serving threads.
fn serving_policies(pid: u32) -> Vec<u32> {
    let mut policies = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else { continue };
        if !comm.starts_with("gazette-http") {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap();
        // Fields from the third on follow the command name, which is in parentheses.
        let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
        policies.push(fields[41 - 3].parse().unwrap());
    }
    policies
}

#[tokio::test]
async fn serving_threads_are_batch_scheduled_unless_configured_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("normal.toml"), "[serving]\nscheduling = \"normal\"\n").unwrap();
    let batch = Server::start(&["--data-dir", &path("a")], &[]);
    let normal = Server::start(&["--config", &path("normal.toml"), "--data-dir", &path("b")], &[]);
    let client = reqwest::Client::new();
    for node in [&batch, &normal] {
        let started = std::time::Instant::now();
        while !client.get(format!("{}/robots.txt", node.base)).send().await.is_ok_and(|r| r.status() == 200) {
            assert!(started.elapsed() < Duration::from_secs(30), "{} did not start", node.base);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let threads = std::thread::available_parallelism().unwrap().get();
    assert_eq!(serving_policies(batch.child.id()), vec![3; threads], "SCHED_BATCH by default");
    assert_eq!(serving_policies(normal.child.id()), vec![0; threads], "SCHED_OTHER when asked");

    // A value that is not a policy is refused at start, saying what was wrong.
    std::fs::write(path("typo.toml"), "[serving]\nscheduling = \"fast\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
        .args(["--config", &path("typo.toml"), "--data-dir", &path("c"), "serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("unknown variant `fast`") && said.contains("batch"), "{said}");
}
