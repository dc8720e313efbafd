//! Section, tag and author listings read the link tables' listing index (migration 0010); the
//! publication time it carries must follow every way an article enters or leaves the archive.

use gazette::content::{self, Actor};
use gazette::domain::{ArticleStatus, Role};
use gazette::storage::articles::{self, Scope};
use gazette::storage::{people, taxonomy};

use crate::helpers::{TestApp, article};
use crate::on_both_stores;

on_both_stores!(listings_follow_publishing_unpublishing_scheduling_and_merges);

async fn ids(app: &TestApp, section: i64, tag: i64, author: i64) -> [Vec<String>; 4] {
    let slugs = |rows: Vec<articles::CardRow>| rows.into_iter().map(|r| r.slug).collect::<Vec<_>>();
    let db = &app.db;
    let feed = articles::feed_items(db, Scope::Section(section), 50).await.unwrap();
    let feed: Vec<String> = feed.into_iter().map(|r| r.slug).collect();
    let (s, t, a) = (
        articles::in_section(db, section, 50, 0).await.unwrap(),
        articles::with_tag(db, tag, 50, 0).await.unwrap(),
        articles::by_author(db, author, 50, 0).await.unwrap(),
    );
    assert_eq!(articles::count_in_section(db, section).await.unwrap() as usize, s.len());
    assert_eq!(articles::count_with_tag(db, tag).await.unwrap() as usize, t.len());
    assert_eq!(articles::count_by_author(db, author).await.unwrap() as usize, a.len());
    [slugs(s), slugs(t), slugs(a), feed]
}

async fn listings_follow_publishing_unpublishing_scheduling_and_merges(app: TestApp) {
    app.newsroom().await;
    let editor =
        gazette::accounts::create_user(&app.db, "ed@example.com", "Ed", Role::Editor, "a long passphrase")
            .await
            .unwrap();
    let actor = Actor { user_id: editor, role: Role::Editor };
    app.publish(article("older", "news", &["ada-reporter"], 3)).await;
    let newer = app.publish(article("newer", "news", &["ada-reporter"], 1)).await;
    let mut draft = article("draft", "news", &["ada-reporter"], 0);
    draft.status = ArticleStatus::Draft;
    draft.published_at = None;
    let draft_id = app.publish(draft.clone()).await;

    let section =
        taxonomy::sections(&app.db).await.unwrap().into_iter().find(|s| s.slug == "news").unwrap().id;
    let tag = taxonomy::find_tag(&app.db, "harbour").await.unwrap().unwrap().id;
    let author = people::find_by_slug(&app.db, "ada-reporter").await.unwrap().unwrap().id;
    let both = vec!["newer".to_owned(), "older".to_owned()];
    assert_eq!(
        ids(&app, section, tag, author).await,
        [both.clone(), both.clone(), both.clone(), both.clone()]
    );

    // Unpublished: it leaves every listing at once.
    let mut back = article("newer", "news", &["ada-reporter"], 1);
    back.status = ArticleStatus::Draft;
    let version = articles::find_for_edit(&app.db, newer).await.unwrap().unwrap().version;
    content::save_article(&app.db, actor, Some(newer), version, back, "").await.unwrap();
    let only = vec!["older".to_owned()];
    assert_eq!(
        ids(&app, section, tag, author).await,
        [only.clone(), only.clone(), only.clone(), only.clone()]
    );

    // Scheduled, then published by the scheduler when its time comes.
    let mut scheduled = draft;
    scheduled.status = ArticleStatus::Scheduled;
    scheduled.published_at = Some(chrono::Utc::now().timestamp() + 3600);
    let version = articles::find_for_edit(&app.db, draft_id).await.unwrap().unwrap().version;
    content::save_article(&app.db, actor, Some(draft_id), version, scheduled, "").await.unwrap();
    assert_eq!(ids(&app, section, tag, author).await[0], only, "not before its time");
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(
        &mut tx,
        "UPDATE articles SET published_at = published_at - 7200 WHERE id = $1",
        draft_id
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(content::publish_due(&app.db).await.unwrap(), 1);
    let two = vec!["draft".to_owned(), "older".to_owned()];
    assert_eq!(ids(&app, section, tag, author).await, [two.clone(), two.clone(), two.clone(), two.clone()]);

    // A merged tag brings its articles with their publication times.
    let mut tx = app.db.begin().await.unwrap();
    let port = taxonomy::ensure_tag(&mut tx, "Port").await.unwrap();
    gazette::tx_exec!(&mut tx, "DELETE FROM article_tags WHERE article_id = $1", draft_id).unwrap();
    gazette::tx_exec!(
        &mut tx,
        "INSERT INTO article_tags (article_id, tag_id, position) VALUES ($1, $2, 0)",
        draft_id,
        port
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&app, section, tag, author).await[1], only);
    let mut tx = app.db.begin().await.unwrap();
    taxonomy::merge_tags(&mut tx, port, tag).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&app, section, tag, author).await[1], two);

    // A later publication time re-orders the listing.
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(
        &mut tx,
        "UPDATE articles SET published_at = published_at - 30 * 86400 WHERE id = $1",
        draft_id
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&app, section, tag, author).await[0], vec!["older".to_owned(), "draft".to_owned()]);
    // The public pages read the same listing.
    app.refresh().await;
    let html = app.page("/section/news/", 200).await;
    let (o, d) = (html.find("/older/").unwrap(), html.find("/draft/").unwrap());
    assert!(o < d && !html.contains("/newer/"));
}
