//! Hostile input costs bounded work: each construct a body can grow (nesting, repetition, long
//! tokens; `gazette::domain::hostile`) renders in time linear in its size or is refused with a
//! message, and the other parsers strangers reach refuse depth. Times are compared with each
//! other (four times the input may cost at most about four times the time), never with a
//! clock budget: the budgets are the render bench's (`cargo bench --bench render`).

use std::time::{Duration, Instant};

use gazette::domain::{hostile, markdown};

/// The fastest of three renders (the least disturbed by the machine's other work).
fn time(body: &str) -> (Duration, Result<(), String>) {
    let mut best = Duration::MAX;
    let mut outcome = Ok(());
    for _ in 0..3 {
        let started = Instant::now();
        outcome = markdown::render(body).map(|_| ()).map_err(|e| e.to_string());
        best = best.min(started.elapsed());
    }
    (best, outcome)
}

#[test]
fn every_construct_renders_in_linear_time_or_is_refused_with_a_message() {
    const SMALL: usize = 64 * 1024;
    let (small, large) = (hostile::constructs(SMALL), hostile::constructs(4 * SMALL));
    let mut report = Vec::new();
    for ((name, a), (_, b)) in small.iter().zip(&large) {
        let (ta, ra) = time(a);
        let (tb, rb) = time(b);
        for r in [&ra, &rb] {
            if let Err(message) = r {
                assert!(message.contains("limit"), "{name}: refused without saying why: {message}");
            }
        }
        // Linear is 4x; a square law would be 16x. The slack absorbs a loaded machine and timer
        // noise on tiny times.
        let ratio = tb.as_secs_f64() / ta.as_secs_f64().max(1e-4);
        report.push(format!(
            "{name}: {ta:?} -> {tb:?} ({ratio:.1}x){}",
            if rb.is_err() { ", refused" } else { "" }
        ));
        assert!(
            tb <= ta * 10 + Duration::from_millis(30),
            "{name}: {} KB took {ta:?}, {} KB took {tb:?}: super-linear\n{}",
            a.len() / 1024,
            b.len() / 1024,
            report.join("\n")
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn deep_json_is_refused_not_followed() {
    // serde_json stops at 128 levels: an API body or a dump line of 100,000 brackets is an
    // error, not a stack overflow.
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
    let line = format!("{{\"id\":\"1\",\"title\":\"t\",\"text\":{deep}}}");
    assert!(gazette::jsonl::parse_line(&line).is_err());
}

/// A nested quotation of 16,000 levels (0.65 s of CPU before, 100,000 about 40 s) sent by a
/// staff member through the editor, the live preview and the Admin API: refused at once with a
/// message that names the line, and nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_quote_is_refused_by_the_editor_the_preview_and_the_api() {
    use crate::admin::{Browser, article_form};
    let app = crate::helpers::TestApp::sqlite().await;
    app.load_demo().await;
    let count = || async { gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM articles").unwrap().0 };
    let before = count().await;
    let deep = format!("Intro.\n\n{}x", ">".repeat(100_000));
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("maeve@harbourcourier.example", "courier-demo").await.status(), 303);
    let csrf = b.csrf().await;
    let mut form = article_form(&csrf, "Too deep", "draft", "0");
    form.retain(|(k, _)| *k != "body");
    form.push(("body", &deep));
    let r = b.post("/admin/articles/new", &form).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("line 3 puts 100000 quotations or lists inside each other"),
        "{}",
        &html[..html.len().min(2000)]
    );
    let r = app
        .client
        .post(format!("{}/admin/preview", app.base))
        .header("cookie", b.cookie_header())
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({ "body": deep }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("the limit is 32"));
    let token = crate::api_admin::token(
        &app,
        "maeve@harbourcourier.example",
        gazette::domain::Role::Editor,
        &[gazette::web::api::auth::Scope::ArticlesWrite],
    )
    .await;
    let r = app
        .client
        .post(format!("{}/api/v1/admin/articles", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "headline": "Too deep", "body": deep, "sections": ["news"], "authors": ["maeve-okonjo"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("quotations or lists inside each other"));
    assert_eq!(count().await, before, "nothing stored");
}

/// A WordPress export whose item nests 200,000 elements: refused item by item with its line
/// (the rest imported), no deep recursion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_export_item_is_skipped_with_its_line() {
    let app = crate::helpers::TestApp::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.xml");
    let deep = format!("{}x{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
    std::fs::write(
        &file,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>T</title><wp:wxr_version>1.2</wp:wxr_version>
<item><title>Deep</title><wp:post_id>1</wp:post_id><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:post_date_gmt>2024-01-01 10:00:00</wp:post_date_gmt><dc:creator>x</dc:creator>{deep}</item>
<item><title>Fine</title><wp:post_id>2</wp:post_id><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:post_date_gmt>2024-01-01 10:00:00</wp:post_date_gmt><dc:creator>x</dc:creator><content:encoded><![CDATA[<p>Words.</p>]]></content:encoded></item>
</channel></rss>"#
        ),
    )
    .unwrap();
    let report = gazette::wordpress::import(&app.db, &file, |_| {}).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(format!("{report}").contains("nested more than 64 deep"), "{report}");
    assert_eq!(report.counts.get("articles"), Some(&1), "{report}");
}
