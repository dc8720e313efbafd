//! Comment submissions under load, on SQLite, while article pages keep serving.
//!
//! `cargo bench --bench comments [-- SECONDS [WRITERS]]` starts the release binary on
//! 127.0.0.1 over a fresh demo store (behind a "proxy" at 127.0.0.1, so that each simulated
//! reader can have an address of their own in `X-Forwarded-For`), fetches a form token per
//! comment from real article pages as a browser would, waits the minimum form age, then for
//! SECONDS (default 10) has WRITERS (default 16) connections post comments while 4 more read
//! article pages. It prints submissions per second, latency percentiles and every non-303
//! answer; the budget (issue 4) is 1,000 submissions/s with no errors.
//! The figures live in docs/PERFORMANCE.md.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let writers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let readers = 4;
    gazette::websub::install_tls();

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("gazette.toml");
    std::fs::write(&config, "trusted_proxies = [\"127.0.0.1\"]\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_gazette");
    let data = dir.path().join("data");
    let status = Command::new(bin)
        .args(["--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "demo"])
        .env("GAZETTE_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let _server = Server(
        Command::new(bin)
            .args(["--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "serve"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("GAZETTE_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    for _ in 0..200 {
        if client.get(format!("{base}/")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let home = client.get(format!("{base}/")).send().await.unwrap().text().await.unwrap();
    let mut articles: Vec<String> = home
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("/20") && h.ends_with('/'))
        .map(str::to_owned)
        .collect();
    articles.sort();
    articles.dedup();

    // Tokens, as browsers get them: one page view per comment.
    let wanted = (seconds as usize) * 3_000;
    let started = Instant::now();
    let forms: Arc<Mutex<Vec<(String, String, String)>>> = Arc::new(Mutex::new(Vec::with_capacity(wanted)));
    let mut fetchers = Vec::new();
    for w in 0..8 {
        let (client, base, articles, forms) = (client.clone(), base.clone(), articles.clone(), forms.clone());
        fetchers.push(tokio::spawn(async move {
            for i in (w..wanted).step_by(8) {
                let url = &articles[i % articles.len()];
                let html = client.get(format!("{base}{url}")).send().await.unwrap().text().await.unwrap();
                forms.lock().await.push((url.clone(), field(&html, "article_id"), field(&html, "token")));
            }
        }));
    }
    for f in fetchers {
        f.await.unwrap();
    }
    println!("fetched {wanted} forms in {:.1} s", started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(4)).await; // the minimum form age (3 s)

    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for w in 0..writers {
        let (client, base, forms, stop, next) =
            (client.clone(), base.clone(), forms.clone(), stop.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors: Vec<String> = Vec::new();
            let forms = forms.lock().await.clone();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, article_id, token)) = forms.get(i) else { break };
                // A few thousand readers, each with an address of their own.
                let addr = format!("10.{}.{}.{}", w, (i / 250) % 250, i % 250);
                let email = format!("reader{i}@example.com");
                let text = format!(
                    "Comment number {i}: the ferry timetable still does not match the one posted at the quay."
                );
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/comments"))
                    .header("x-forwarded-for", &addr)
                    .form(&[
                        ("article_id", article_id.as_str()),
                        ("token", token),
                        ("author", "Load Reader"),
                        ("email", &email),
                        ("comment", &text),
                    ])
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 303 => latencies.push(t.elapsed()),
                    Ok(r) => {
                        errors.push(format!("{} {}", r.status(), r.text().await.unwrap_or_default().len()))
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (latencies, errors)
        }));
    }
    let mut reads = Vec::new();
    for r in 0..readers {
        let (client, base, articles, stop) = (client.clone(), base.clone(), articles.clone(), stop.clone());
        reads.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match client.get(format!("{base}{}", articles[i % articles.len()])).send().await {
                    Ok(resp) if resp.status().is_success() => {
                        let _ = resp.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
                i += readers;
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        let (l, e) = t.await.unwrap();
        ok.extend(l);
        errors.extend(e);
    }
    let (mut pages, mut page_errors) = (Vec::new(), 0);
    for t in reads {
        let (l, e) = t.await.unwrap();
        pages.extend(l);
        page_errors += e;
    }
    ok.sort();
    pages.sort();
    let stored = {
        let cfg = gazette::config::Config::for_store(&data, None).unwrap();
        let db = gazette::app::open_store(&cfg).await.unwrap();
        let (n,): (i64,) = gazette::fetch_one!(
            &db,
            (i64,),
            "SELECT count(*) FROM comments WHERE author_name = 'Load Reader'"
        )
        .unwrap();
        n
    };
    println!(
        "comments: {} accepted in {elapsed:.1} s = {:.0}/s with {writers} connections; p50 {:.2} ms, p99 {:.2} ms; \
         {} errors; {stored} in the store",
        ok.len(),
        ok.len() as f64 / elapsed,
        percentile(&ok, 0.5).as_secs_f64() * 1e3,
        percentile(&ok, 0.99).as_secs_f64() * 1e3,
        errors.len()
    );
    println!(
        "article pages meanwhile: {:.0}/s with {readers} connections; p50 {:.2} ms, p99 {:.2} ms; {page_errors} errors",
        pages.len() as f64 / elapsed,
        percentile(&pages, 0.5).as_secs_f64() * 1e3,
        percentile(&pages, 0.99).as_secs_f64() * 1e3,
    );
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    if next.load(Ordering::Relaxed) >= wanted {
        println!("note: ran out of prepared forms before the time was up; the rate is a lower bound");
    }
}
