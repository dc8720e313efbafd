//! Content changes reach pages through the content event log, also when another node (here:
//! a second connection to the same store) made them.

use std::time::Duration;

use gazette::content;
use gazette::domain::{NewSection, Slug};
use gazette::storage::Db;

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(a_change_made_by_another_node_appears_within_seconds);

async fn a_change_made_by_another_node_appears_within_seconds(app: TestApp) {
    app.load_demo().await;
    assert!(!app.page("/", 200).await.contains("/section/weather/"));
    // Another node: its own connection pool to the same database.
    let other = Db::connect(&app.config.store).await.unwrap();
    let section = NewSection {
        slug: Slug::parse("weather").unwrap(),
        name: "Weather".into(),
        description: "Forecasts".into(),
        parent: None,
        position: 99,
    };
    content::ensure_section(&other, &section).await.unwrap();
    other.close().await;
    for _ in 0..50 {
        if app.page("/", 200).await.contains("href=\"/section/weather/\"") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the new section did not appear in the menu within five seconds");
}

on_both_stores!(cached_pages_follow_content_changes, a_comment_drops_only_the_pages_showing_its_article);

async fn cached_pages_follow_content_changes(app: TestApp) {
    app.load_demo().await;
    let first = app.get("/section/politics/").await;
    assert!(first.headers().get("x-cache").is_none());
    let second = app.get("/section/politics/").await;
    assert_eq!(second.headers()["x-cache"], "hit", "the second view comes from memory");
    assert_eq!(first.text().await.unwrap(), second.text().await.unwrap());

    let mut story = crate::helpers::article("fresh-politics-story", "politics", &["tomasz-keller"], 0);
    story.headline = "A brand new politics story".into();
    app.publish(story).await;
    app.refresh().await;
    let after = app.page("/section/politics/", 200).await;
    assert!(after.contains("A brand new politics story"), "the change is visible at once");
    // Errors are never cached.
    app.page("/section/nope/", 404).await;
    assert!(app.get("/section/nope/").await.headers().get("x-cache").is_none());
}

/// Whether a page came from memory, and its text.
async fn cached(app: &TestApp, path: &str) -> (bool, String) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let hit = response.headers().get("x-cache").is_some_and(|v| v == "hit");
    (hit, response.text().await.unwrap())
}

async fn a_comment_drops_only_the_pages_showing_its_article(app: TestApp) {
    use gazette::comments::{self, Existing};
    use gazette::domain::comment::CommentState;
    app.load_demo().await;
    let (id, slug, published_at): (i64, String, i64) = gazette::fetch_one!(
        &app.db,
        (i64, String, i64),
        "SELECT id, slug, published_at FROM articles WHERE status = 'published' ORDER BY published_at LIMIT 1"
    )
    .unwrap();
    let url = app.site.get().article_url(&slug, published_at);
    let mut pages = vec!["/".to_owned(), url.clone(), "/search?q=harbour".to_owned()];
    pages.extend(app.site.get().main_sections().map(|s| format!("/section/{}/", s.slug)));
    // Asked for twice: an address with parameters (the search) is stored from its second
    // request (web::cache::address).
    for _ in 0..2 {
        for p in &pages {
            cached(&app, p).await;
        }
    }
    for p in &pages {
        assert!(cached(&app, p).await.0, "{p} is served from memory");
    }

    // A reader's comment on the oldest story is approved.
    let filter = comments::load_filter(&app.db).await.unwrap();
    let comment = Existing {
        article_id: id,
        parent_id: None,
        name: "Wren Ashby".into(),
        email: "wren@example.com".into(),
        url: String::new(),
        text: "I remember the first day of this story well.".into(),
        created_at: gazette::storage::now(),
        staff_user_id: None,
        external_id: None,
        client_addr: "192.0.2.7".into(),
    };
    let cid = comments::add_existing(&app.db, &comment, CommentState::Pending).await.unwrap();
    comments::moderate(&app.db, &filter, &[cid], CommentState::Approved).await.unwrap();
    app.site.refresh(&app.db).await.unwrap();
    let (mut kept, mut dropped) = (0, 0);
    let link = format!("href=\"{url}\"");
    for p in &pages {
        let (hit, html) = cached(&app, p).await;
        if html.contains(&link) || *p == url {
            assert!(!hit, "{p} shows the commented article, so it is rendered again");
            dropped += 1;
        } else {
            assert!(hit, "{p} does not show the commented article, so it stays in memory");
            kept += 1;
        }
    }
    assert!(dropped >= 1 && kept >= 1, "dropped {dropped}, kept {kept}");
    assert!(cached(&app, &url).await.1.contains("I remember the first day of this story well."));

    // Publishing can change any list: every page is rendered again.
    app.publish(crate::helpers::article("late-news", "news", &["tomasz-keller"], 0)).await;
    app.site.refresh(&app.db).await.unwrap();
    for p in &pages {
        assert!(!cached(&app, p).await.0, "{p} after a publication");
    }
}
