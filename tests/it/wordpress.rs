//! Moving in from WordPress: `gazette import wordpress` on a small export written for these
//! tests (tests/fixtures/wordpress.xml), and on damaged files.

use gazette::wordpress;

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(a_wordpress_export_moves_in_whole_and_twice_changes_nothing, damaged_exports_say_where);

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wordpress.xml");

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    gazette::fetch_one!(&app.db, (i64,), sqlx::AssertSqlSafe(sql)).unwrap().0
}

async fn a_wordpress_export_moves_in_whole_and_twice_changes_nothing(app: TestApp) {
    let report = wordpress::import(&app.db, std::path::Path::new(FIXTURE), |_| {}).await.unwrap();
    assert_eq!(report.version, "1.2");
    assert_eq!(report.counts.get("articles"), Some(&3), "{report}");
    assert_eq!(report.counts.get("comments"), Some(&3), "{report}");
    assert_eq!(report.counts.get("pages"), Some(&1), "{report}");
    assert_eq!(report.counts.get("attachments"), Some(&1), "{report}");
    assert_eq!(report.skipped.get("post type nav_menu_item"), Some(&1));
    assert_eq!(report.skipped.get("post type product"), Some(&1));
    assert!(report.problems.is_empty(), "{report}");
    assert_eq!(
        report.counts.get("sticky articles (kept at the top of the front page)"),
        Some(&1),
        "{report}"
    );
    app.refresh().await;
    // The sticky post leads the front page, though the block-editor post is newer.
    let home = app.page("/", 200).await;
    let lead = home.split("class=\"lead-title\"").nth(1).unwrap().split("</h3>").next().unwrap();
    assert!(lead.contains("Council sets the library budget"), "{lead}");

    // The classic post: paragraphs, a caption as a figure, an embed as a link, no script.
    let html = app.page("/2024/03/05/library-budget/", 200).await;
    assert!(html.contains("<p>The council met on Monday.<br>"), "wpautop");
    assert!(html.contains("<figure><img src=\"https://millbrook.example/wp-content/uploads/library.jpg\""));
    assert!(html.contains("<figcaption>The library on Mill Street</figcaption>"));
    assert!(html.contains("href=\"https://video.example/council-meeting\""));
    assert!(!html.contains("<script>alert"), "scripts are removed");
    assert!(html.contains("Town Hall") && html.contains("href=\"/tag/budget/\""));
    assert!(html.contains("Hettie Lamb"));
    // Comments: threaded, approved shown, spam kept but hidden; the HTML of a comment is text.
    assert!(html.contains("Good news for Saturday readers."));
    assert!(html.contains("class=\"comment-replies\"") && html.contains("Thanks, Pat!"));
    assert!(!html.contains("Buy now"));
    let states: Vec<(String,)> =
        gazette::fetch_all!(&app.db, (String,), "SELECT status FROM comments ORDER BY id").unwrap();
    assert_eq!(states.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["approved", "approved", "spam"]);
    // The featured image came from the attachment named by _thumbnail_id.
    let (image,): (Option<String>,) = gazette::fetch_one!(
        &app.db,
        (Option<String>,),
        "SELECT featured_image_url FROM articles WHERE slug = 'library-budget'"
    )
    .unwrap();
    assert_eq!(image.as_deref(), Some("https://millbrook.example/wp-content/uploads/library.jpg"));

    // The block-editor post: block comments gone, the gallery made of the attachment.
    let bridge = app.redirect("/archives/11/", 301).await;
    assert_eq!(bridge, "/2024/04/01/bridge-works/", "an old address answers with a 301");
    let html = app.page(&bridge, 200).await;
    assert!(!html.contains("wp:paragraph") && html.contains("The old bridge closes for repairs in May."));
    assert!(html.contains("class=\"gallery\"") || html.contains("uploads/library.jpg"));
    assert!(html.contains("Comments are closed"));
    assert_eq!(app.redirect("/?p=10", 301).await, "/2024/03/05/library-budget/");
    app.page("/?p=999", 404).await;

    // Sections keep their hierarchy; the page and the draft.
    let (parent,): (Option<i64>,) = gazette::fetch_one!(
        &app.db,
        (Option<i64>,),
        "SELECT parent_id FROM sections WHERE slug = 'town-hall'"
    )
    .unwrap();
    assert!(parent.is_some(), "Town Hall sits under Local & Regional");
    assert!(app.page("/about/", 200).await.contains("Written by neighbours."));
    let (status,): (String,) =
        gazette::fetch_one!(&app.db, (String,), "SELECT status FROM articles WHERE external_id LIKE '%:12'")
            .unwrap();
    assert_eq!(status, "draft");

    // A second run adds nothing.
    let before: Vec<i64> = table_counts(&app).await;
    let again = wordpress::import(&app.db, std::path::Path::new(FIXTURE), |_| {}).await.unwrap();
    assert!(again.counts.is_empty(), "{again}");
    assert_eq!(table_counts(&app).await, before);

    // A newer export of the same site: the changed post is updated, the rest left alone.
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.xml");
    let text = std::fs::read_to_string(FIXTURE).unwrap().replace(
        "<title>Council sets the library budget</title>",
        "<title>Council sets the library budget, and the hours</title>",
    );
    std::fs::write(&newer, text).unwrap();
    let update = wordpress::import(&app.db, &newer, |_| {}).await.unwrap();
    assert_eq!(update.counts.get("articles updated"), Some(&1), "{update}");
    app.refresh().await;
    let html = app.page("/2024/03/05/library-budget/", 200).await;
    assert!(html.contains("Council sets the library budget, and the hours"));
    assert!(
        html.contains("Town Hall") && html.contains("Hettie Lamb") && html.contains("Thanks, Pat!"),
        "links and comments kept"
    );
    assert_eq!(table_counts(&app).await, before);
}

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in ["articles", "comments", "pages", "sections", "authors", "tags", "attachments", "redirects"] {
        out.push(count(app, t).await);
    }
    out
}

async fn damaged_exports_say_where(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Cut in the middle of the third item: the first two are imported, the error names a line.
    let cut = fixture.find("<title>A draft about the f").unwrap();
    let truncated = write("cut.xml", &format!("{}<wp:post_id>12</wp:post_id", &fixture[..cut]));
    let err = wordpress::import(&app.db, &truncated, |_| {}).await.unwrap_err();
    assert!(format!("{err:#}").contains("line "), "{err:#}");
    assert_eq!(
        count(&app, "articles").await,
        0,
        "the first pass finds the damage before anything is written"
    );

    let undeclared = write("ns.xml", &fixture.replace("xmlns:wp=\"http://wordpress.org/export/1.2/\"", ""));
    let err = wordpress::import(&app.db, &undeclared, |_| {}).await.unwrap_err();
    assert!(format!("{err:#}").contains("never declares"), "{err:#}");

    let version = write(
        "v.xml",
        &fixture.replace("<wp:wxr_version>1.2</wp:wxr_version>", "<wp:wxr_version>9.9</wp:wxr_version>"),
    );
    let err = wordpress::import(&app.db, &version, |_| {}).await.unwrap_err();
    assert!(format!("{err:#}").contains("9.9"), "{err:#}");

    let not_wp = write("rss.xml", "<rss version=\"2.0\"><channel><title>x</title></channel></rss>");
    let err = wordpress::import(&app.db, &not_wp, |_| {}).await.unwrap_err();
    assert!(format!("{err:#}").contains("not a WordPress export"), "{err:#}");

    let mut bad_utf8 = fixture.clone().into_bytes();
    let at = fixture.find("Council sets").unwrap();
    bad_utf8[at] = 0xff;
    let p = dir.path().join("enc.xml");
    std::fs::write(&p, bad_utf8).unwrap();
    // Damage inside one item is local: that item is named with its line and skipped whole,
    // the rest is imported.
    let report = wordpress::import(&app.db, &p, |_| {}).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(
        report.problems[0].starts_with("item at line 22 ") && report.problems[0].contains("UTF-8"),
        "{report}"
    );
    assert_eq!(report.counts.get("articles"), Some(&2), "{report}");
    assert_eq!(count(&app, "articles").await, 2);
    assert_eq!(count(&app, "comments").await, 0, "the damaged post's comments are not half-imported");

    // Malformed XML in the middle item (a tag that never closes), and a post that quotes
    // `</item>` in its text: the quote is text, the damaged item is skipped, the rest comes in.
    let quoted = fixture
        .replace(
            "<p>The old bridge closes for repairs in May.</p>",
            "<p>The feed said &lt;/item&gt; and </item> too.</p>",
        )
        .replace("<title>A draft about the f", "<title><b>A draft about the f");
    let app2 = TestApp::sqlite().await;
    let report = wordpress::import(&app2.db, &write("mixed.xml", &quoted), |_| {}).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(report.problems[0].contains("</title>") || report.problems[0].contains("close"), "{report}");
    assert_eq!(report.counts.get("articles"), Some(&2), "{report}");
    app2.refresh().await;
    assert!(app2.page("/2024/04/01/bridge-works/", 200).await.contains("The feed said &lt;/item&gt;"));
}

/// What a round trip must keep: every article (slug, headline, status), static page, comment
/// (state, threading), author, section (with its parent) and tag.
async fn inventory(db: &gazette::storage::Db) -> Vec<String> {
    let mut out = Vec::new();
    for (slug, headline, status, sticky) in gazette::fetch_all!(
        db,
        (String, String, String, i64),
        "SELECT slug, headline, status, sticky FROM articles ORDER BY slug"
    )
    .unwrap()
    {
        out.push(format!("article {slug} {headline} {status} sticky={sticky}"));
    }
    for (slug, title) in
        gazette::fetch_all!(db, (String, String), "SELECT slug, title FROM pages ORDER BY slug").unwrap()
    {
        out.push(format!("page {slug} {title}"));
    }
    for (article, name, status, replies_to) in gazette::fetch_all!(
        db,
        (String, String, String, Option<String>),
        "SELECT a.slug, c.author_name, c.status, p.author_name FROM comments c JOIN articles a ON a.id = c.article_id \
         LEFT JOIN comments p ON p.id = c.parent_id ORDER BY a.slug, c.created_at, c.author_name"
    )
    .unwrap()
    {
        out.push(format!("comment {article} {name} {status} {replies_to:?}"));
    }
    for (slug, name) in
        gazette::fetch_all!(db, (String, String), "SELECT slug, name FROM authors ORDER BY slug").unwrap()
    {
        out.push(format!("author {slug} {name}"));
    }
    for (slug, parent) in gazette::fetch_all!(
        db,
        (String, Option<String>),
        "SELECT s.slug, p.slug FROM sections s LEFT JOIN sections p ON p.id = s.parent_id ORDER BY s.slug"
    )
    .unwrap()
    {
        out.push(format!("section {slug} {parent:?}"));
    }
    for (slug,) in gazette::fetch_all!(db, (String,), "SELECT slug FROM tags ORDER BY slug").unwrap() {
        out.push(format!("tag {slug}"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_into_an_empty_site_keeps_everything() {
    for source in ["demo", "fixture"] {
        let first = TestApp::sqlite().await;
        if source == "demo" {
            first.load_demo().await;
        } else {
            wordpress::import(&first.db, std::path::Path::new(FIXTURE), |_| {}).await.unwrap();
        }
        let mut xml = Vec::new();
        wordpress::export(&first.db, "https://courier.example", &mut xml).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.xml");
        std::fs::write(&file, &xml).unwrap();
        let second = TestApp::sqlite().await;
        let report = wordpress::import(&second.db, &file, |_| {}).await.unwrap();
        assert!(report.problems.is_empty(), "{report}");
        let (a, b) = (inventory(&first.db).await, inventory(&second.db).await);
        let missing: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
        assert!(missing.is_empty(), "{source}: lost in the round trip: {missing:#?}\n{report}");
        assert!(a.len() > 10, "{source}: {} records", a.len());
    }
}

/// An export without post ids (an old or hand-made one): every item is its own article, two
/// posts of one title get two addresses, and comments on pages are counted as not imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_ids_are_not_taken_for_one() {
    let app = TestApp::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let item = |title: &str, guid: &str, kind: &str, comment: &str| {
        format!(
            "<item><title>{title}</title><guid isPermaLink=\"false\">{guid}</guid>\
             <content:encoded><![CDATA[<p>{title} text.</p>]]></content:encoded>\
             <wp:post_date>2020-05-01 10:00:00</wp:post_date><wp:post_name>same-name</wp:post_name>\
             <wp:status>publish</wp:status><wp:post_type>{kind}</wp:post_type>{comment}</item>"
        )
    };
    let comment = "<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Ann</wp:comment_author>\
                   <wp:comment_content>Nice.</wp:comment_content><wp:comment_approved>1</wp:comment_approved>\
                   </wp:comment>";
    let file = dir.path().join("old.xml");
    std::fs::write(
        &file,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" \
             xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
             xmlns:wp=\"https://wordpress.org/export/1.2/\"><channel><title>Old</title>\
             <wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>http://old.example</wp:base_site_url>{}{}{}{}\
             </channel></rss>",
            item("First", "http://old.example/?p=1", "post", comment),
            item("Second", "http://old.example/?p=2", "post", ""),
            item("Third", "", "post", ""),
            item("About", "http://old.example/?page_id=3", "page", comment),
        ),
    )
    .unwrap();
    let report = wordpress::import(&app.db, &file, |_| {}).await.unwrap();
    assert_eq!(report.counts.get("articles"), Some(&3), "{report}");
    assert_eq!(report.counts.get("comments"), Some(&1), "{report}");
    assert_eq!(
        report.skipped.get("comment on a page (Gazette pages take no comments)"),
        Some(&1),
        "{report}"
    );
    let slugs: Vec<(String,)> =
        gazette::fetch_all!(&app.db, (String,), "SELECT slug FROM articles ORDER BY id").unwrap();
    let slugs: Vec<&str> = slugs.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(slugs, ["same-name", "same-name-2", "same-name-3"]);
    // A second run finds every one of them again.
    let again = wordpress::import(&app.db, &file, |_| {}).await.unwrap();
    assert_eq!(again.counts.get("articles"), None, "{again}");
    assert_eq!(count(&app, "articles").await, 3);
}

/// An export of many pages links only the first few top-level ones in the footer (a site's
/// menus are not in the export); the others are served, and staff choose under Pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_few_imported_pages_are_linked_in_the_footer() {
    let app = TestApp::sqlite().await;
    let before = gazette::storage::pages::footer_count(&app.db).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let page = |n: usize, parent: usize| {
        format!(
            "<item><title>Page {n}</title><content:encoded><![CDATA[<p>Text of page {n}.</p>]]></content:encoded>\
             <wp:post_id>{}</wp:post_id><wp:post_date>2020-05-01 10:00:00</wp:post_date><wp:post_name>page-{n}</wp:post_name>\
             <wp:post_parent>{parent}</wp:post_parent><wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>",
            100 + n
        )
    };
    let mut items: String = (1..=30).map(|n| page(n, 0)).collect();
    items.insert_str(0, &page(0, 101)); // a child page, first in the file
    let file = dir.path().join("pages.xml");
    std::fs::write(
        &file,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" \
             xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
             xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>Pages</title>\
             <wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>http://pages.example</wp:base_site_url>{items}\
             </channel></rss>"
        ),
    )
    .unwrap();
    let report = wordpress::import(&app.db, &file, |_| {}).await.unwrap();
    assert_eq!(report.counts.get("pages"), Some(&31), "{report}");
    assert_eq!(gazette::storage::pages::footer_count(&app.db).await.unwrap(), before.max(8));
    let footer = gazette::storage::pages::footer(&app.db).await.unwrap();
    assert!(footer.iter().any(|(slug, _)| slug == "page-1"), "{footer:?}");
    assert!(!footer.iter().any(|(slug, _)| slug == "page-0"), "a child page is not linked: {footer:?}");
    assert!(!footer.iter().any(|(slug, _)| slug == "page-30"), "nor the thirtieth: {footer:?}");
    assert!(app.page("/page-30/", 200).await.contains("Text of page 30."), "but it is served");
}
