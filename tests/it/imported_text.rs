//! Bodies that arrive as HTML (WordPress posts, JSON Lines, the JSON dump, older stores) are
//! searchable by their words: their text, word count and excerpt come from the HTML. The shared
//! real blogs are searched for words picked from their posts' bodies by this test, not by the
//! importer. Skipped, saying so, when `../shared/data` is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gazette::wordpress;

use crate::helpers::{TestApp, hrefs};
use crate::on_both_stores;
use crate::wordpress_shared::field;

on_both_stores!(older_stores_get_their_text_back);

/// Visible words of an HTML fragment, found by this test on its own: tags dropped, entities and
/// shortcodes left out.
fn visible_words(html: &str) -> Vec<String> {
    visible_text(html)
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' | '[' => in_tag = true,
            '>' | ']' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Published posts of a WXR file: (title, body).
fn posts(text: &str) -> Vec<(String, String)> {
    text.split("<item")
        .skip(1)
        .filter(|i| i.starts_with(['>', ' ', '\n', '\t']))
        .map(|i| i.split("</item>").next().unwrap_or(i))
        .filter(|i| field(i, "wp:post_type") == Some("post") && field(i, "wp:status") == Some("publish"))
        .map(|i| {
            (field(i, "title").unwrap_or("").to_owned(), field(i, "content:encoded").unwrap_or("").to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn words_from_imported_wordpress_bodies_are_found() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/wxr/real-blogs");
    if !dir.is_dir() {
        eprintln!("skipped: ../shared/data/wxr/real-blogs is absent");
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let mut searched = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let posts = posts(&text);
        if posts.is_empty() {
            continue;
        }
        let app = TestApp::sqlite().await;
        wordpress::import(&app.db, &path, |_| {}).await.unwrap();
        app.refresh().await;

        // Every published article whose HTML has words has text, a word count and an excerpt.
        let rows: Vec<(String, String, i64, String)> = gazette::fetch_all!(
            &app.db,
            (String, String, i64, String),
            "SELECT body_html, body_text, word_count, excerpt FROM articles WHERE status = 'published'"
        )
        .unwrap();
        for (html, body_text, words, excerpt) in &rows {
            let seen =
                visible_text(html).split_whitespace().filter(|t| t.chars().any(char::is_alphabetic)).count();
            if seen >= 5 {
                assert!(
                    *words as usize * 2 >= seen && !body_text.is_empty() && !excerpt.is_empty(),
                    "{name}: {words} words and text {:?} for a body of {seen} visible words: {:?}",
                    &body_text.chars().take(80).collect::<String>(),
                    &html.chars().take(200).collect::<String>()
                );
            }
        }

        // Words that occur in one post's body only (and in no title): a search for each finds
        // that post. Up to four posts a file, spread over the file.
        let mut posts_of: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (i, (title, body)) in posts.iter().enumerate() {
            for w in visible_words(body).into_iter().chain(visible_words(title)) {
                posts_of.entry(w).or_default().insert(i);
            }
        }
        let titles: BTreeSet<String> = posts.iter().flat_map(|(t, _)| visible_words(t)).collect();
        let step = (posts.len() / 4).max(1);
        for i in (0..posts.len()).step_by(step).take(4) {
            let Some(word) = visible_words(&posts[i].1)
                .into_iter()
                .find(|w| w.chars().count() >= 9 && !titles.contains(w) && posts_of[w].len() == 1)
            else {
                continue;
            };
            let headline = quick_xml::escape::unescape(&posts[i].0)
                .map_or(posts[i].0.clone(), std::borrow::Cow::into_owned);
            let slugs: Vec<(String,)> = gazette::fetch_all!(
                &app.db,
                (String,),
                "SELECT slug FROM articles WHERE headline = $1 AND status = 'published'",
                headline.trim()
            )
            .unwrap();
            assert!(!slugs.is_empty(), "{name}: no article titled {headline:?}");
            let html = app.page(&format!("/search?q={word}"), 200).await;
            let found = hrefs(&html);
            assert!(
                slugs.iter().any(|(slug,)| found.iter().any(|h| h.contains(&format!("/{slug}/")))),
                "{name}: a search for {word:?} (in the body of {headline:?}) did not find it"
            );
            searched += 1;
        }
    }
    assert!(searched >= 20, "{searched} searches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_and_dumps_with_html_bodies_are_searchable() {
    let app = TestApp::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wire.jsonl");
    std::fs::write(
        &file,
        r#"{"id":"w1","title":"Ferry timetable","text":"<div class=\"x\"><p>The <strong>quayside</strong> sandbanks shifted overnight.</p></div>","published":"2026-11-01","category":"news"}
"#,
    )
    .unwrap();
    gazette::jsonl::import(&app.db, std::io::BufReader::new(std::fs::File::open(&file).unwrap()), |_| {})
        .await
        .unwrap();
    app.refresh().await;
    let html = app.page("/search?q=sandbanks", 200).await;
    assert!(html.contains("Ferry timetable"), "JSON Lines HTML body not searchable");

    // A dump whose articles carry no text (as a store written before this fix exports them)
    // imports with the text taken from the HTML.
    let dump = dir.path().join("dump.jsonl");
    gazette::transfer::export(&app.db, &mut std::fs::File::create(&dump).unwrap()).await.unwrap();
    let emptied: String = std::fs::read_to_string(&dump)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v.get("body_text").is_some() {
                v["body_text"] = "".into();
                v["word_count"] = 0.into();
                v["excerpt"] = "".into();
            }
            v.to_string() + "\n"
        })
        .collect();
    std::fs::write(&dump, emptied).unwrap();
    let other = TestApp::sqlite().await;
    gazette::transfer::import(&other.db, std::io::BufReader::new(std::fs::File::open(&dump).unwrap()))
        .await
        .unwrap();
    other.refresh().await;
    let (text, words, excerpt): (String, i64, String) = gazette::fetch_one!(
        &other.db,
        (String, i64, String),
        "SELECT body_text, word_count, excerpt FROM articles"
    )
    .unwrap();
    assert_eq!(text, "The quayside sandbanks shifted overnight.");
    assert_eq!((words, excerpt.as_str()), (5, "The quayside sandbanks shifted overnight."));
    assert!(other.page("/search?q=sandbanks", 200).await.contains("Ferry timetable"));
}

/// A store written before the text came from the HTML: the data migration run at start takes
/// it again, records `article.updated`, and runs once.
async fn older_stores_get_their_text_back(app: TestApp) {
    app.newsroom().await;
    let mut a = crate::helpers::article("harbour-tariffs", "news", &["ada-reporter"], 1);
    a.body_source = "<p>New <em>tariffs</em> on the harbour's cranes.</p>\n\n<p>Second paragraph.</p>".into();
    let id = app.publish(a).await;
    sql(&app, "UPDATE articles SET body_text = '', word_count = 0, excerpt = '' WHERE id = $1", id).await;
    sql(&app, "DELETE FROM data_migrations WHERE done_at <> $1", 0).await;
    let before = gazette::storage::events::latest_id(&app.db).await.unwrap();
    assert_eq!(gazette::content::backfill_body_text(&app.db).await.unwrap(), 1);
    let (text, words, excerpt): (String, i64, String) = gazette::fetch_one!(
        &app.db,
        (String, i64, String),
        "SELECT body_text, word_count, excerpt FROM articles WHERE id = $1",
        id
    )
    .unwrap();
    assert_eq!(text, "New tariffs on the harbour's cranes.\n\nSecond paragraph.");
    assert_eq!((words, excerpt.as_str()), (8, "New tariffs on the harbour's cranes."));
    let events = gazette::storage::events::after(&app.db, before, 10).await.unwrap();
    assert_eq!(events.iter().map(|e| (e.1.as_str(), e.2)).collect::<Vec<_>>(), [("article.updated", id)]);
    // Done once: a second start finds nothing to do, even with the text emptied again.
    sql(&app, "UPDATE articles SET body_text = '' WHERE id = $1", id).await;
    assert_eq!(gazette::content::backfill_body_text(&app.db).await.unwrap(), 0);
}

async fn sql(app: &TestApp, statement: &'static str, id: i64) {
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(&mut tx, statement, id).unwrap();
    tx.commit().await.unwrap();
}
