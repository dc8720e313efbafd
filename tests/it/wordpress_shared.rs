//! Every WordPress export in `../shared/data/wxr/` (real blogs in six languages, the theme unit
//! test data, WooCommerce's sample shop, the official importer's edge cases), imported into a
//! fresh site and checked against the file, counted here independently of the importer: every
//! published post is a published article, every page a page, every attachment recorded, every
//! comment either imported or named in the report's skipped lines, and no text mangled. Skipped,
//! saying so, when `../shared/data` is absent (a fresh clone has no `../shared`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gazette::wordpress;

use crate::helpers::TestApp;

fn exports() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/wxr");
    if !dir.is_dir() {
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                out.push(path);
            }
        }
    }
    out.sort();
    Some(out)
}

/// The text of `<tag>` in `item` (its first occurrence), CDATA or not.
pub fn field<'a>(item: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = item.find(&open)? + open.len();
    let end = start + item[start..].find(&format!("</{tag}>"))?;
    let text = item[start..end].trim();
    Some(text.strip_prefix("<![CDATA[").and_then(|t| t.strip_suffix("]]>")).unwrap_or(text))
}

/// What a file holds, by plain text search: `(post type, status)` -> items, and for posts the
/// comments (of type comment) with text.
#[derive(Debug, Default)]
struct Held {
    items: BTreeMap<(String, String), usize>,
    post_comments: usize,
    all_comments: usize,
}

fn held(text: &str) -> Held {
    let mut h = Held::default();
    // `<item>` or `<item xmlns...>`, not `<items>`.
    for item in text.split("<item").skip(1).filter(|i| i.starts_with(['>', ' ', '\n', '\t'])) {
        let item = item.split("</item>").next().unwrap_or(item);
        let kind = field(item, "wp:post_type").unwrap_or("").to_owned();
        let status = field(item, "wp:status").unwrap_or("").to_owned();
        let importable = kind == "post" && !matches!(status.as_str(), "auto-draft" | "inherit");
        for comment in item.split("<wp:comment>").skip(1) {
            h.all_comments += 1;
            let kind = field(comment, "wp:comment_type").unwrap_or("");
            let content = field(comment, "wp:comment_content").unwrap_or("");
            if importable && matches!(kind, "" | "comment") && !content.trim().is_empty() {
                h.post_comments += 1;
            }
        }
        *h.items.entry((kind, status)).or_default() += 1;
    }
    h
}

async fn count(app: &TestApp, sql: &str) -> usize {
    gazette::fetch_one!(&app.db, (i64,), sqlx::AssertSqlSafe(sql.to_owned())).unwrap().0 as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_export_is_imported_and_accounted_for() {
    let Some(files) = exports() else {
        eprintln!("skipped: ../shared/data/wxr is absent");
        return;
    };
    let mut checked = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let app = TestApp::sqlite().await;
        let report = match wordpress::import(&app.db, &path, |_| {}).await {
            Ok(report) => report,
            Err(err) => {
                // Refused whole: only a file that is not a readable export, with a clear reason
                // and nothing written.
                let why = format!("{err:#}");
                assert!(!why.is_empty() && !why.contains("panicked"), "{name}: {why}");
                assert_eq!(count(&app, "SELECT count(*) FROM articles").await, 0, "{name}: {why}");
                eprintln!("{name}: refused: {why}");
                continue;
            }
        };
        let h = held(&text);
        let of = |kind: &str, status: &str| {
            h.items.get(&(kind.to_owned(), status.to_owned())).copied().unwrap_or(0)
        };
        let skipped_items: usize =
            report.skipped.iter().filter(|(k, _)| k.starts_with("post type")).map(|(_, v)| v).sum();
        let damaged = report.problems.len();
        // A damaged item is skipped whole and named; the rest must all be there.
        let published = count(&app, "SELECT count(*) FROM articles WHERE status = 'published'").await;
        let pages = count(&app, "SELECT count(*) FROM pages").await;
        let comments = count(&app, "SELECT count(*) FROM comments").await;
        let attachments = report.counts.get("attachments").copied().unwrap_or(0);
        let posts_published = of("post", "publish");
        // A post scheduled ("future") for a time already past is published at once, as
        // WordPress's own scheduler would on its next run.
        let scheduled = of("post", "future");
        assert!(
            published + damaged >= posts_published && published <= posts_published + scheduled,
            "{name}: {published} published articles for {posts_published} published posts\n{report}"
        );
        assert!(pages <= of("page", "publish"), "{name}: {pages} pages\n{report}");
        let attachment_items: usize =
            h.items.iter().filter(|((k, _), _)| k == "attachment").map(|(_, v)| v).sum();
        assert!(attachments <= attachment_items, "{name}\n{report}");
        if damaged == 0 {
            assert!(published >= posts_published, "{name}\n{report}");
            assert_eq!(attachments, attachment_items, "{name}\n{report}");
            assert_eq!(comments, h.post_comments, "{name}: comments\n{report}");
            // Every comment in the file is imported or named in a skipped line.
            let skipped_comments: usize =
                report.skipped.iter().filter(|(k, _)| k.contains("comment")).map(|(_, v)| v).sum();
            assert_eq!(comments + skipped_comments, h.all_comments, "{name}: comments accounted\n{report}");
            // Post types Gazette does not publish (products, menus ...) are counted, not imported.
            let other: usize = h
                .items
                .iter()
                .filter(|((k, _), _)| !matches!(k.as_str(), "post" | "page" | "attachment"))
                .map(|(_, v)| v)
                .sum();
            assert_eq!(skipped_items, other, "{name}: other post types\n{report}");
        }
        // No mojibake: every character beyond ASCII in the imported headlines, bodies and
        // comments is one the file has (UTF-8 read as Latin-1 would show "Ã", "Å", "â€" ...).
        let texts: Vec<(String,)> = gazette::fetch_all!(
            &app.db,
            (String,),
            "SELECT headline || ' ' || body_source FROM articles UNION ALL SELECT body FROM comments"
        )
        .unwrap();
        for (t,) in &texts {
            if let Some(c) = t.chars().find(|c| !c.is_ascii() && !text.contains(*c)) {
                panic!("{name}: {c:?} is not in the file: {:?}", t.chars().take(120).collect::<String>());
            }
        }
        eprintln!(
            "{name}: {published} published, {pages} pages, {comments} comments, {attachments} attachments"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} exports checked");
}
