//! `gazette media fetch` (and `import wordpress --fetch-media`): an imported site's images are
//! copied from the old host, a real HTTP server on 127.0.0.1, into the picture library (checked
//! and processed like uploads), and what showed them is relinked; what cannot be fetched keeps
//! its working address. A copy an earlier version stored as a plain file joins the library.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use gazette::remote_media::{self, Options};
use gazette::wordpress;

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(images_move_in_and_failures_keep_their_addresses);

/// A small PNG, different per `seed` so that each file has its own hash.
fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([seed.wrapping_mul(60), x as u8 * 6, y as u8 * 8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The old WordPress host: two images, a missing one, a page posing as an image, a huge one.
async fn old_host() -> (String, tokio::task::JoinHandle<()>) {
    async fn file(axum::extract::Path(name): axum::extract::Path<String>) -> axum::response::Response {
        match name.as_str() {
            "harbour.png" => ([(header::CONTENT_TYPE, "image/png")], png(1)).into_response(),
            "harbour-300x200.png" => ([(header::CONTENT_TYPE, "image/png")], png(2)).into_response(),
            "fake.png" => {
                ([(header::CONTENT_TYPE, "image/png")], "<html><script>alert(1)</script>").into_response()
            }
            "huge.png" => {
                ([(header::CONTENT_TYPE, "image/png")], [png(3), vec![0; 2 << 20]].concat()).into_response()
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/wp-content/uploads/{name}", axum::routing::get(file));
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (host, server)
}

fn export(host: &str) -> String {
    let up = format!("{host}/wp-content/uploads");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Millbrook Notes</title><link>{host}</link><wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>{host}</wp:base_site_url><wp:base_blog_url>{host}</wp:base_blog_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[hettie]]></wp:author_login><wp:author_display_name><![CDATA[Hettie Lamb]]></wp:author_display_name></wp:author>
<item><title>The harbour at dawn</title><wp:post_id>20</wp:post_id><wp:post_parent>10</wp:post_parent><wp:status>inherit</wp:status><wp:post_type>attachment</wp:post_type><wp:attachment_url>{up}/harbour.png</wp:attachment_url></item>
<item><title>Annual report</title><wp:post_id>21</wp:post_id><wp:status>inherit</wp:status><wp:post_type>attachment</wp:post_type><wp:attachment_url>{up}/report.pdf</wp:attachment_url></item>
<item>
<title>Fog lifts over the harbour</title><link>{host}/2024/05/02/fog-lifts/</link><dc:creator><![CDATA[hettie]]></dc:creator>
<content:encoded><![CDATA[<p>The fog lifted at nine.</p>
<p><a href="{up}/harbour.png"><img src="{up}/harbour-300x200.png" alt="The harbour"></a></p>
<p><img src="{up}/missing.jpg" alt="Gone"> <img src="{up}/fake.png" alt="Fake"> <img src="{up}/huge.png" alt="Huge"></p>
<p><img src="https://elsewhere.example/cdn/boat.png" alt="Not ours"></p>]]></content:encoded>
<wp:post_id>10</wp:post_id><wp:post_date>2024-05-02 07:00:00</wp:post_date><wp:post_date_gmt>2024-05-02 07:00:00</wp:post_date_gmt>
<wp:comment_status>open</wp:comment_status><wp:post_name>fog-lifts</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="harbour"><![CDATA[Harbour]]></category>
<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>20</wp:meta_value></wp:postmeta>
</item>
<item><title>About</title><content:encoded><![CDATA[<p>Our harbour: <img src="{up}/harbour.png" alt="Harbour"></p>]]></content:encoded>
<wp:post_id>30</wp:post_id><wp:post_name>about</wp:post_name><wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>
</channel></rss>"#
    )
}

async fn events(app: &TestApp) -> i64 {
    gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM content_events").unwrap().0
}

async fn images_move_in_and_failures_keep_their_addresses(app: TestApp) {
    let (host, server) = old_host().await;
    let up = format!("{host}/wp-content/uploads");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.xml");
    std::fs::write(&file, export(&host)).unwrap();
    let imported = wordpress::import(&app.db, &file, |_| {}).await.unwrap();
    assert_eq!(imported.counts.get("articles"), Some(&1), "{imported}");

    // The old host is on this machine: allowed by name, as an operator would (`[outbound]`).
    let options = Options {
        concurrency: 2,
        timeout: Duration::from_secs(5),
        max_bytes: 1 << 20,
        allow_private: false,
        allow: vec!["127.0.0.1".parse().unwrap()],
    };
    let data_dir = app.config.data_dir.clone();
    let store = gazette::media::store::MediaStore::open(&app.config.media, &data_dir).unwrap();
    // An earlier version copied the 300x200 variant as a plain file and relinked the article.
    let small = format!("{up}/harbour-300x200.png");
    let legacy = gazette::media::validate(&png(2)).unwrap();
    gazette::media::store(&data_dir, &legacy, &png(2)).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(
        &mut tx,
        "INSERT INTO remote_media (url, local_name, attempts) VALUES ($1, $2, 1)",
        &small,
        &legacy
    )
    .unwrap();
    tx.commit().await.unwrap();
    let (article,): (i64,) =
        gazette::fetch_one!(&app.db, (i64,), "SELECT id FROM articles WHERE slug = 'fog-lifts'").unwrap();
    let copy = format!("/media/{legacy}");
    assert!(
        gazette::content::relink_article_media(&app.db, article, |t| Some(t.replace(&small, &copy)))
            .await
            .unwrap()
    );

    let report = remote_media::fetch(&app.db, &store, &data_dir, &options, |_, _| {}).await.unwrap();
    // harbour.png (attachment, featured image, page, link), its 300x200 variant (copied
    // before), and three that fail; the PDF is not an image and the other host's image is not
    // the site's.
    assert_eq!(report.found, 5, "{report}");
    assert_eq!((report.fetched, report.already), (1, 1), "{report}");
    assert_eq!(report.failed.len(), 3, "{report}");
    assert!(report.failed[&format!("{up}/missing.jpg")].contains("404"), "{report}");
    assert!(report.failed[&format!("{up}/fake.png")].contains("Only JPEG"), "{report}");
    assert!(report.failed[&format!("{up}/huge.png")].contains("limit is 1 MB"), "{report}");
    assert_eq!((report.articles_relinked, report.pages_relinked), (1, 1), "{report}");

    // The article now shows its copies; the failures and the other host keep their addresses.
    let (body, image): (String, Option<String>) = gazette::fetch_one!(
        &app.db,
        (String, Option<String>),
        "SELECT body_html, featured_image_url FROM articles WHERE slug = 'fog-lifts'"
    )
    .unwrap();
    let image = image.unwrap();
    let picture = gazette::media::markup::picture_id(&image).expect("a library picture");
    assert!(body.contains(&format!("href=\"{image}\"")), "the link to the full image is relinked: {body}");
    assert!(!body.contains("harbour-300x200.png") && !body.contains("/harbour.png"), "{body}");
    assert!(!body.contains(&legacy), "the earlier copy's address is relinked too: {body}");
    let pictures: Vec<(i64, String)> =
        gazette::fetch_all!(&app.db, (i64, String), "SELECT id, file_name FROM pictures ORDER BY id")
            .unwrap();
    assert_eq!(pictures.len(), 2, "{pictures:?}");
    assert!(pictures.contains(&(picture, "harbour.png".to_owned())), "{pictures:?}");
    let small_id = pictures.iter().find(|p| p.1 == "harbour-300x200.png").expect("the earlier copy joined").0;
    assert!(body.contains(&format!("src=\"/media/{small_id}\"")), "{body}");
    for kept in ["missing.jpg", "fake.png", "huge.png"] {
        assert!(body.contains(&format!("{up}/{kept}")), "{kept} keeps its address: {body}");
    }
    assert!(body.contains("https://elsewhere.example/cdn/boat.png"));
    // The copy is processed like an upload and served in every format.
    let copy = crate::media::processed(&app, &format!("/media/{picture}/1/40.avif")).await;
    assert_eq!(copy.headers()[header::CONTENT_TYPE], "image/avif");
    // (No transparency: the plain format is JPEG.)
    let plain = crate::media::processed(&app, &format!("/media/{picture}/1/40.jpg")).await;
    let decoded = image::load_from_memory(&plain.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (40, 30));
    // The page too; and the change went through the content layer (revision and event).
    let (page,): (String,) =
        gazette::fetch_one!(&app.db, (String,), "SELECT body_html FROM pages WHERE slug = 'about'").unwrap();
    assert!(page.contains(&format!("src=\"{image}\"")), "{page}");
    let (revisions,): (i64,) = gazette::fetch_one!(
        &app.db,
        (i64,),
        "SELECT COUNT(*) FROM article_revisions r JOIN articles a ON a.id = r.article_id WHERE a.slug = 'fog-lifts'"
    )
    .unwrap();
    assert!(revisions >= 1);
    app.refresh().await;
    let html = app.page("/2024/05/02/fog-lifts/", 200).await;
    assert!(
        html.contains(&format!(
            "<img src=\"/media/{small_id}/1/40.jpg\" srcset=\"/media/{small_id}/1/40.jpg 40w\""
        )),
        "the reader's page draws the copy in the text as a picture"
    );
    assert!(html.contains(&format!("/media/{picture}/1/40.avif 40w")), "and the featured picture");

    // A second run fetches nothing new, retries the failures, and changes nothing. What still
    // names the old host: the attachment record (its copy is kept) and the three failures.
    // (Their jobs done first: a finished job records its own event.)
    for _ in 0..600 {
        if gazette::storage::pictures::pending(&app.db).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = events(&app).await;
    let again = remote_media::fetch(&app.db, &store, &data_dir, &options, |_, _| {}).await.unwrap();
    assert_eq!((again.found, again.fetched, again.already, again.failed.len()), (4, 0, 1, 3), "{again}");
    assert_eq!((again.articles_relinked, again.pages_relinked), (0, 0), "{again}");
    assert_eq!(events(&app).await, before, "no change, no event");
    let (attempts,): (i64,) = gazette::fetch_one!(
        &app.db,
        (i64,),
        "SELECT attempts FROM remote_media WHERE url = $1",
        format!("{up}/missing.jpg")
    )
    .unwrap();
    assert_eq!(attempts, 2);

    // The old host goes away: a clear reason, and nothing changes.
    server.abort();
    let _ = server.await;
    let gone = remote_media::fetch(&app.db, &store, &data_dir, &options, |_, _| {}).await.unwrap();
    assert_eq!(gone.failed.len(), 3, "{gone}");
    assert!(gone.failed.values().all(|why| why.contains("could not connect")), "{gone}");
    assert_eq!(events(&app).await, before);
}

/// The importer's fetch goes through the outbound guard: an old site on loopback (in any
/// spelling), IPv6 loopback or link-local is refused before any connection, and a redirect from
/// an allowed host to a refused one is refused at its hop. Nothing is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_fetch_refuses_private_addresses_and_redirects_to_them() {
    let (host, _server) = old_host().await;
    // An old host allowed by address (127.0.0.2) whose uploads redirect to 127.0.0.1.
    let target = host.clone();
    let redirector = axum::Router::new().route(
        "/wp-content/uploads/{name}",
        axum::routing::get(move |axum::extract::Path(name): axum::extract::Path<String>| {
            let to = format!("{target}/wp-content/uploads/{name}");
            async move { axum::response::Redirect::temporary(&to) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let hop = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirector).await.unwrap() });
    let port = host.rsplit(':').next().unwrap();
    let cases = [
        (hop.clone(), vec!["127.0.0.2".parse().unwrap()], "is at 127.0.0.1, a private or local address"),
        (host.clone(), vec![], "is at 127.0.0.1, a private or local address"),
        (format!("http://[::1]:{port}"), vec![], "is at ::1, a private or local address"),
        (format!("http://localhost:{port}"), vec![], "a private or local address"),
        (format!("http://2130706433:{port}"), vec![], "is at 127.0.0.1, a private or local address"),
        ("http://169.254.169.254".to_owned(), vec![], "is at 169.254.169.254, a private or local address"),
    ];
    for (site, allow, expected) in cases {
        let app = TestApp::sqlite().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.xml");
        std::fs::write(&file, export(&site)).unwrap();
        wordpress::import(&app.db, &file, |_| {}).await.unwrap();
        let options = Options { timeout: Duration::from_secs(5), allow, ..Default::default() };
        let store = gazette::media::store::MediaStore::open(&app.config.media, &app.config.data_dir).unwrap();
        let report =
            remote_media::fetch(&app.db, &store, &app.config.data_dir, &options, |_, _| {}).await.unwrap();
        assert_eq!(report.fetched, 0, "{site}: {report}");
        assert!(!report.failed.is_empty(), "{site}: {report}");
        for (url, why) in &report.failed {
            assert!(why.contains(expected), "{site}: {url}: {why}");
        }
        let (pictures,): (i64,) =
            gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM pictures").unwrap();
        assert_eq!(pictures, 0, "{site}: nothing published");
    }
}
