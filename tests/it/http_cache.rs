//! Shared caches in front of Gazette: a real Varnish with the VCL in `deploy/varnish/`, purged
//! by surrogate key after content events; and the purge sent once per event when two nodes
//! share one database.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gazette::content;
use gazette::content::Actor;
use gazette::domain::{ArticleStatus, Role};
use gazette::web::cache::purge::Target;

use crate::helpers::{TestApp, article};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `varnishd`, or `None` (and the test says it skipped) when it is not installed; `.ci/run`
/// installs it and sets `GAZETTE_REQUIRE_VARNISH`, so there it cannot be skipped.
fn varnishd() -> Option<String> {
    let found = ["/usr/sbin/varnishd", "/usr/local/sbin/varnishd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned);
    if found.is_none() {
        assert!(std::env::var_os("GAZETTE_REQUIRE_VARNISH").is_none(), "varnishd is not installed");
        eprintln!("skipped: varnishd is not installed (apt-get install varnish)");
    }
    found
}

/// Varnish on `port` in front of the app at `backend`, with the repository's VCL.
struct Varnish {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Varnish {
    fn start(binary: &str, port: u16, backend: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let backend_port = backend.rsplit(':').next().unwrap();
        let vcl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/varnish/gazette.vcl"))
            .unwrap()
            .replace(".port = \"3000\";", &format!(".port = \"{backend_port}\";"));
        std::fs::write(dir.path().join("gazette.vcl"), vcl).unwrap();
        let child = Command::new(binary)
            .args(["-F", "-j", "none", "-s", "malloc,64m", "-a"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-n")
            .arg(dir.path().join("work"))
            .arg("-f")
            .arg(dir.path().join("gazette.vcl"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting varnishd");
        Self { child, base: format!("http://127.0.0.1:{port}"), _dir: dir }
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn x_cache(client: &reqwest::Client, url: &str) -> (String, String) {
    let r = client.get(url).send().await.unwrap();
    let hit = r.headers().get("x-cache").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (hit, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn varnish_serves_a_correction_within_two_seconds_and_keeps_other_pages() {
    let Some(binary) = varnishd() else { return };
    let varnish_port = free_port();
    let app = TestApp::sqlite_with(|c| {
        c.http_cache.purge = vec![Target::Varnish { url: format!("http://127.0.0.1:{varnish_port}/") }];
    })
    .await;
    app.newsroom().await;
    let mut alpha = article("alpha-story", "news", &["ada-reporter"], 1);
    alpha.body_source = "The harbour wall was built in 1871.".into();
    let alpha_id = app.publish(alpha.clone()).await;
    let mut beta = article("beta-story", "sport", &["ben-writer"], 2);
    beta.tags = vec!["Rowing".into()];
    app.publish(beta).await;
    let editor =
        gazette::accounts::create_user(&app.db, "ed@example.com", "Ed", Role::Editor, "a long passphrase")
            .await
            .unwrap();
    app.refresh().await;
    let varnish = Varnish::start(&binary, varnish_port, &app.base);
    // The setup's own events (sections, authors: `all`) are purged first, twice (the second
    // time once other nodes would have followed): let that pass before filling Varnish.
    let latest = gazette::storage::events::latest_id(&app.db).await.unwrap();
    let started = Instant::now();
    while gazette::storage::related::cursor(&app.db, "http-purge", 0).await.unwrap() < latest {
        assert!(started.elapsed() < Duration::from_secs(20), "the purger did not follow the events");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = app.redirect("/alpha-story/", 301).await;
    // Wait for Varnish to answer and find its backend healthy.
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{}{url}", varnish.base)).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "varnish did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let article_url = format!("{}{url}", varnish.base);
    let other_url = format!("{}/section/sport/", varnish.base);
    x_cache(&client, &other_url).await;
    let (hit, body) = x_cache(&client, &article_url).await;
    assert_eq!(hit, "HIT", "the article is kept");
    assert!(body.contains("built in 1871"));
    assert_eq!(x_cache(&client, &other_url).await.0, "HIT");
    // Shared links carry tracking parameters: the VCL drops them, so they are the same copy;
    // an address with a parameter no page reads is not kept.
    for tracking in ["?utm_source=fb&utm_medium=social", "?fbclid=IwAR3x&utm_campaign=z", "?gclid=1"] {
        assert_eq!(x_cache(&client, &format!("{article_url}{tracking}")).await.0, "HIT", "{tracking}");
    }
    x_cache(&client, &format!("{other_url}?nonce=1")).await;
    assert_eq!(x_cache(&client, &format!("{other_url}?nonce=1")).await.0, "MISS", "unknown parameter kept");
    let keys = app.get("/section/sport/").await.headers()["surrogate-key"].to_str().unwrap().to_owned();
    assert!(!keys.split(' ').any(|k| k == format!("a{alpha_id}")), "{keys}");

    // An editor corrects the article.
    let version =
        gazette::storage::articles::find_for_edit(&app.db, alpha_id).await.unwrap().unwrap().version;
    alpha.body_source = "The harbour wall was built in 1873.".into();
    alpha.status = ArticleStatus::Published;
    let corrected_at = Instant::now();
    content::save_article(
        &app.db,
        Actor { user_id: editor, role: Role::Editor },
        Some(alpha_id),
        version,
        alpha,
        "The wall was built in 1873, not 1871.",
    )
    .await
    .unwrap();
    let seen = loop {
        let (_, body) = x_cache(&client, &article_url).await;
        if body.contains("built in 1873") {
            break corrected_at.elapsed();
        }
        assert!(corrected_at.elapsed() < Duration::from_secs(5), "Varnish still serves the old article");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("Varnish served the correction after {} ms", seen.as_millis());
    assert!(seen < Duration::from_secs(2), "the correction took {seen:?}");
    assert_eq!(x_cache(&client, &other_url).await.0, "HIT", "a page that does not show it stays kept");
    assert_eq!(x_cache(&client, &article_url).await.0, "HIT", "and the corrected article is kept again");
    drop(varnish);
}

/// A purge receiver on 127.0.0.1 that records the stretch of events each request stands for.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let record = record.clone();
        async move {
            let events = headers.get("gazette-events").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            record.lock().unwrap().push(events);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_purge_each_event_once() {
    let Some((admin_url, name, url)) = crate::helpers::new_pg_database().await else {
        eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set");
        return;
    };
    let _guard = crate::helpers::PgDatabase { admin_url, name };
    let (purge_url, seen) = receiver().await;
    let with_purge = |c: &mut gazette::config::Config| {
        c.http_cache.purge = vec![Target::Varnish { url: purge_url.clone() }];
    };
    let a = TestApp::on_database(&url, with_purge).await;
    let b = TestApp::on_database(&url, with_purge).await;
    // A node's first round starts the shared cursor at the newest event.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.newsroom().await;
    let mut ids = Vec::new();
    // Both nodes follow the log every second: stories published over a few rounds.
    for i in 0..6 {
        ids.push(a.publish(article(&format!("story-{i}"), "news", &["ada-reporter"], i)).await);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = seen.lock().unwrap().clone();
    // Every event after the first round's starting point is purged, by one node, once.
    let mut stretches: Vec<(i64, i64)> = seen
        .iter()
        .map(|s| {
            let (from, to) = s.split_once('-').unwrap_or_else(|| panic!("no event stretch: {s:?}"));
            (from.parse().unwrap(), to.parse().unwrap())
        })
        .collect();
    stretches.sort_unstable();
    stretches.dedup(); // one stretch may take several requests (100 keys each)
    for pair in stretches.windows(2) {
        assert_eq!(pair[0].1 + 1, pair[1].0, "events purged twice or not at all: {stretches:?}");
    }
    let latest = gazette::storage::events::latest_id(&a.db).await.unwrap();
    assert_eq!(stretches.last().unwrap().1, latest, "every event purged: {stretches:?}");
    assert!(stretches.len() >= 2, "several rounds: {stretches:?}");
    let published: Vec<i64> = gazette::fetch_all!(
        &a.db,
        (i64,),
        "SELECT id FROM content_events WHERE kind = 'article.published' ORDER BY id"
    )
    .unwrap()
    .into_iter()
    .map(|(id,)| id)
    .collect();
    assert_eq!(published.len(), ids.len());
    assert!(published.iter().all(|e| *e >= stretches[0].0), "{published:?} {stretches:?}");
    drop(b);
}

/// Every public page: the same bytes for every reader, a validator, the cache policy, its keys,
/// and its brotli and gzip bodies once they are made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_pages_carry_validators_policy_keys_and_stored_encodings() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    let url = app.redirect("/swing-bridge-closed-after-engineers-find-crack/", 301).await;
    let first = app.get(&url).await;
    let headers = first.headers().clone();
    assert_eq!(
        headers["cache-control"],
        "public, max-age=60, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"
    );
    let keys = headers["surrogate-key"].to_str().unwrap().to_owned();
    assert!(keys.starts_with("all ") && keys.split(' ').any(|k| k.starts_with('a')), "{keys}");
    assert_eq!(headers["cache-tag"].to_str().unwrap(), keys.replace(' ', ","));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let body = first.bytes().await.unwrap();
    let again =
        app.client.get(format!("{}{url}", app.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // The stored encodings are made off the request path: soon every hit is brotli.
    let started = Instant::now();
    loop {
        let r = app
            .client
            .get(format!("{}{url}", app.base))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        if r.headers().get("content-encoding").is_some_and(|v| v == "br")
            && r.headers().contains_key("content-length")
        {
            assert_eq!(r.headers()["x-cache"], "hit");
            assert_eq!(r.headers()["etag"].to_str().unwrap(), etag, "one validator for every encoding");
            assert_eq!(r.headers()["vary"], "accept-encoding");
            let compressed = r.bytes().await.unwrap();
            let mut plain = Vec::new();
            brotli::BrotliDecompress(&mut &compressed[..], &mut plain).unwrap();
            assert_eq!(plain, body);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no stored brotli body");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Pages one reader is sent to are not kept.
    assert_eq!(app.get(&format!("{url}?comment=held")).await.headers()["cache-control"], "no-store");
    assert_eq!(app.get("/comments/token?article=1").await.headers()["cache-control"], "no-store");
}
