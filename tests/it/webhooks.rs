//! Webhooks against a real receiver on 127.0.0.1: a subscription made in the admin, an event
//! delivered signed, retried after the receiver fails twice, every attempt logged, sent again
//! from the admin; private addresses refused unless allowed; one delivery per event with two
//! nodes on one PostgreSQL database.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use gazette::domain::Role;
use serde_json::Value;

use crate::admin::{Browser, PASSWORD};
use crate::helpers::{TestApp, article};

/// What the receiver was sent: (headers, body).
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver that answers 500, then 503, then 200 to everything after.
async fn receiver(fail_first: usize) -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let handler = move |headers: HeaderMap, body: String| {
        let seen = seen.clone();
        async move {
            let mut all = seen.lock().unwrap();
            all.push((headers, body));
            match all.len() {
                n if n <= fail_first && n % 2 == 1 => (StatusCode::INTERNAL_SERVER_ERROR, "database is down"),
                n if n <= fail_first => (StatusCode::SERVICE_UNAVAILABLE, "try later"),
                _ => (StatusCode::OK, "thanks"),
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/gazette", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/hooks/gazette", axum::routing::post(handler));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

async fn wait_for(received: &Received, n: usize, limit: Duration) {
    let started = std::time::Instant::now();
    while received.lock().unwrap().len() < n {
        assert!(started.elapsed() < limit, "only {} of {n} requests arrived", received.lock().unwrap().len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn local(config: &mut gazette::config::Config) {
    config.webhooks.allow_private = true;
    config.webhooks.retry_seconds = Some(1);
}

/// Makes a subscription through the admin; returns its id and signing secret.
async fn subscribe(app: &TestApp, url: &str, events: &[&str]) -> (i64, String) {
    crate::admin::staff(app, "boss@example.com", "Boss", Role::Administrator).await;
    let mut b = Browser::new(app);
    b.sign_in("boss@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let mut form = vec![("_csrf", csrf.as_str()), ("url", url)];
    form.extend(events.iter().map(|e| ("events", *e)));
    let r = b.post("/admin/webhooks", &form).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    let (_, page) = b.get(&at).await;
    let secret = page
        .split("value=\"whsec_")
        .nth(1)
        .map(|s| format!("whsec_{}", &s[..48]))
        .expect("the secret is shown");
    (id, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_signed_retried_logged_and_sent_again() {
    let app = TestApp::sqlite_with(local).await;
    let (url, received) = receiver(2).await;
    let (id, secret) = subscribe(&app, &url, &["article.published"]).await;

    app.newsroom().await;
    let article_id = app.publish(article("ferry-strike-ends", "news", &["ada-reporter"], 0)).await;
    // Published: the receiver fails twice, then takes it (retries after 1 s and 4 s here).
    wait_for(&received, 3, Duration::from_secs(30)).await;
    let calls = received.lock().unwrap().clone();
    for (headers, body) in &calls {
        assert_eq!(headers["gazette-event"], "article.published");
        assert_eq!(headers["content-type"], "application/json");
        // The signature: HMAC-SHA256 over "t." and the body, with the subscription's secret.
        let sig = headers["gazette-signature"].to_str().unwrap();
        let (t, v1) = sig.split_once(",v1=").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        assert_eq!(
            v1,
            hex(&gazette::webhooks::hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes()))
        );
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["event"], "article.published");
        assert_eq!(payload["subject_id"], article_id);
        assert_eq!(payload["article"]["headline"], "Headline of ferry-strike-ends");
    }
    assert_eq!(
        calls[0].0["gazette-delivery"], calls[2].0["gazette-delivery"],
        "one delivery, three attempts"
    );
    // Nothing more: delivered once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(received.lock().unwrap().len(), 3);

    // The log: each attempt with its status and the start of the answer.
    let mut b = Browser::new(&app);
    b.sign_in("boss@example.com", PASSWORD).await;
    let (_, page) = b.get(&format!("/admin/webhooks/{id}")).await;
    for expected in [
        "<strong>500</strong>",
        "database is down",
        "<strong>503</strong>",
        "<strong>200</strong>",
        "delivery-delivered",
    ] {
        assert!(page.contains(expected), "{expected} in the log");
    }
    // Sent again from the admin: a fourth request, the same delivery.
    let delivery: i64 = calls[0].0["gazette-delivery"].to_str().unwrap().parse().unwrap();
    let csrf = b.csrf().await;
    let r = b.post(&format!("/admin/webhooks/{id}/deliveries/{delivery}"), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    wait_for(&received, 4, Duration::from_secs(10)).await;

    // Other events are not sent to this subscription.
    let mut draft = article("quiet-draft", "news", &["ada-reporter"], 0);
    draft.status = gazette::domain::ArticleStatus::Draft;
    app.publish(draft).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(received.lock().unwrap().len(), 4);

    // Only administrators manage webhooks.
    gazette::accounts::create_user(&app.db, "ed@example.com", "Ed", Role::Editor, PASSWORD).await.unwrap();
    let mut e = Browser::new(&app);
    e.sign_in("ed@example.com", PASSWORD).await;
    assert_eq!(e.get("/admin/webhooks").await.0, 403);
    assert_eq!(e.get(&format!("/admin/webhooks/{id}")).await.0, 403);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_the_config_allows_them() {
    let app = TestApp::sqlite().await; // allow_private is off by default
    let (url, received) = receiver(0).await;
    let (id, _) = subscribe(&app, &url, &["*"]).await;
    app.newsroom().await;
    app.publish(article("harbour-news", "news", &["ada-reporter"], 0)).await;
    // The attempt is logged with the reason; nothing reached the receiver.
    let mut logged = String::new();
    for _ in 0..100 {
        let attempts: Vec<(String,)> = gazette::fetch_all!(
            &app.db,
            (String,),
            "SELECT a.response FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.webhook_id = $1",
            id
        )
        .unwrap();
        if let Some((why,)) = attempts.into_iter().next() {
            logged = why;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged.contains("private or local address"), "{logged:?}");
    assert!(received.lock().unwrap().is_empty());
    // Bad URLs are refused when the subscription is made.
    let mut b = Browser::new(&app);
    b.sign_in("boss@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r =
        b.post("/admin/webhooks", &[("_csrf", &csrf), ("url", "ftp://example.com/"), ("events", "*")]).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_event_once() {
    let Some((admin_url, name, url)) = crate::helpers::new_pg_database().await else {
        eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set");
        return;
    };
    let _guard = crate::helpers::PgDatabase { admin_url, name };
    let a = TestApp::on_database(&url, local).await;
    let b = TestApp::on_database(&url, local).await;
    let (hook_url, received) = receiver(0).await;
    subscribe(&a, &hook_url, &["article.published", "article.updated"]).await;
    a.newsroom().await;
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        node.publish(article(&format!("story-{i}"), "news", &["ada-reporter"], 0)).await;
    }
    wait_for(&received, 6, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = received.lock().unwrap().clone();
    let mut deliveries: Vec<String> =
        calls.iter().map(|(h, _)| h["gazette-delivery"].to_str().unwrap().to_owned()).collect();
    deliveries.sort();
    deliveries.dedup();
    assert_eq!((calls.len(), deliveries.len()), (6, 6), "each event once, by one of the two nodes");
}
