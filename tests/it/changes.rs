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

on_both_stores!(cached_pages_follow_content_changes);

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
