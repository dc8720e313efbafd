//! Feeds, checked by our own assertions and, when Python's feedparser is installed (`.ci/run`
//! installs it), by a parser from another ecosystem.

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(feeds_list_the_latest_articles_in_three_formats, feeds_answer_conditional_gets);

async fn feeds_list_the_latest_articles_in_three_formats(app: TestApp) {
    app.load_demo().await;
    for (path, ct) in [
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/section/politics/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/tag/calder-swing-bridge/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/author/ines-ferreira/feed.json", "application/feed+json; charset=utf-8"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], ct, "{path}");
        let body = r.text().await.unwrap();
        check_with_feedparser(path, &body);
    }
    let rss = app.page("/feed.xml", 200).await;
    assert_eq!(rss.matches("<item>").count(), 20, "20 entries by default");
    assert!(rss.contains("<guid isPermaLink=\"false\">tag:127.0.0.1,"), "stable ids");
    assert!(rss.contains("<dc:creator>") && rss.contains("<category>"));
    assert!(rss.contains("<atom:link href=\"http://127.0.0.1:"), "absolute self link");
    let json: serde_json::Value = serde_json::from_str(&app.page("/feed.json", 200).await).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert!(json["items"][0]["content_html"].as_str().unwrap().contains("<p>"));
    let politics = app.page("/section/politics/atom.xml", 200).await;
    assert!(politics.contains("Amadi wins the mayoralty") && !politics.contains("Rovers stun Lowfield"));
    app.page("/section/nope/feed.xml", 404).await;
    app.page("/section/politics/feed.rdf", 404).await;
    // Pages announce their feeds.
    let home = app.page("/", 200).await;
    assert!(home.contains("<link rel=\"alternate\" type=\"application/rss+xml\""));
    let section = app.page("/section/politics/", 200).await;
    assert!(section.contains("href=\"/section/politics/feed.xml\""));
}

async fn feeds_answer_conditional_gets(app: TestApp) {
    app.load_demo().await;
    let first = app.get("/atom.xml").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let modified = first.headers()["last-modified"].to_str().unwrap().to_owned();
    let again =
        app.client.get(format!("{}/atom.xml", app.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let since = app
        .client
        .get(format!("{}/atom.xml", app.base))
        .header("if-modified-since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), 304);
    let stale = app
        .client
        .get(format!("{}/atom.xml", app.base))
        .header("if-none-match", "\"old\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

/// Parses a feed with Python's feedparser and checks what it found; skips when not installed.
fn check_with_feedparser(path: &str, body: &str) {
    let script = r#"
import sys, json, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
problems = []
if d.bozo and not path.endswith('.json'):
    problems.append('not well-formed: %s' % d.bozo_exception)
if not path.endswith('.json'):
    if not d.feed.get('title'): problems.append('no feed title')
    if len(d.entries) == 0: problems.append('no entries')
    for e in d.entries:
        for k in ('title', 'link', 'id', 'published_parsed'):
            if not e.get(k): problems.append('entry without %s' % k)
        if not e.get('link', '').startswith('http'): problems.append('relative link %s' % e.get('link'))
        if not e.get('author'): problems.append('entry without author')
        if not e.get('tags'): problems.append('entry without categories')
print(json.dumps(problems))
"#;
    let has = std::process::Command::new("python3").args(["-c", "import feedparser"]).output();
    if !has.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: feedparser is not installed (pip install feedparser)");
        return;
    }
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", &format!("path = {path:?}\n{script}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let problems = String::from_utf8_lossy(&out.stdout);
    assert_eq!(problems.trim(), "[]", "feedparser on {path}: {problems}");
}

on_both_stores!(sitemaps_list_every_article_and_the_news_of_two_days);

async fn sitemaps_list_every_article_and_the_news_of_two_days(app: TestApp) {
    app.load_demo().await;
    let index = app.page("/sitemap.xml", 200).await;
    assert!(index.contains("<sitemapindex") && index.contains("/sitemaps/articles-1.xml</loc><lastmod>20"));
    assert!(index.contains("/sitemaps/site.xml"));
    let articles = app.page("/sitemaps/articles-1.xml", 200).await;
    assert_eq!(articles.matches("<url>").count(), 35);
    assert!(articles.contains("<loc>http://127.0.0.1:") && articles.contains("<lastmod>"));
    let site = app.page("/sitemaps/site.xml", 200).await;
    assert!(
        site.contains("/section/politics/</loc>")
            && site.contains("/about/</loc>")
            && site.contains("/author/maeve-okonjo/</loc>")
    );
    app.page("/sitemaps/articles-2.xml", 404).await;
    app.page("/sitemaps/articles-x.xml", 404).await;
    let news = app.page("/sitemap-news.xml", 200).await;
    assert!(
        news.contains("<news:name>The Harbour Courier</news:name>")
            && news.contains("<news:language>en</news:language>")
    );
    assert!(
        news.contains("Rain at last") && !news.contains("Lyric Theatre to reopen"),
        "only the last two days"
    );
    let robots = app.page("/robots.txt", 200).await;
    assert!(robots.contains("Sitemap: http://127.0.0.1:") && robots.contains("/sitemap-news.xml"));
    for doc in [&index, &articles, &site, &news] {
        well_formed(doc);
    }
}

fn well_formed(xml: &str) {
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read()); print('ok')",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("skipped: no python3 to check XML");
        return;
    };
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_websub_hub_hears_of_publications() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = received.clone();
    let hub = axum::Router::new().route(
        "/hub",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!("http://{}/hub", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hub).await.unwrap() });

    // The hub is on this machine: allowed by the operator (the outbound guard refuses loopback).
    let app = TestApp::sqlite_with(|c| {
        c.base_url = Some("https://news.example".into());
        c.outbound.allow = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.load_demo().await;
    let feed = app.page("/feed.xml", 200).await;
    assert!(!feed.contains("rel=\"hub\""), "no hub link until one is set");
    gazette::content::set_setting(&app.db, "site.websub_hub", &hub_url).await.unwrap();
    app.refresh().await;
    assert!(
        app.page("/feed.xml", 200).await.contains(&format!("<atom:link href=\"{hub_url}\" rel=\"hub\"/>"))
    );
    // The demo edition was published after the app started: it is announced first.
    for _ in 0..50 {
        if received.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(received.lock().unwrap().len(), 3, "the demo's publication was announced");
    received.lock().unwrap().clear();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(received.lock().unwrap().is_empty(), "nothing new, no ping");

    app.newsroom().await;
    app.publish(crate::helpers::article("hub-news", "news", &["ada-reporter"], 0)).await;
    for _ in 0..50 {
        if received.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let got = received.lock().unwrap().clone();
    assert!(
        got.contains(&"hub.mode=publish&hub.url=https%3A%2F%2Fnews.example%2Ffeed.xml".to_owned()),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "one ping per feed format: {got:?}");
}
