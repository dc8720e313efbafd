//! Defects found by probing the demo edition as an attacker and as a careless colleague would
//! (issue 28), each kept from coming back: redirects that leave the site, a contributor changing
//! the picture of an article an editor has published, a refused upload kept in the library, an
//! API create refused after it stored the article, an API change that dropped "keep at the top",
//! a moderation answered with a 500, comments in the API all at once, and no HSTS on https.

use gazette::domain::Role;
use serde_json::json;

use crate::admin::{Browser, PASSWORD, staff};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_redirect_leaves_the_site() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    for path in
        ["//evil%2Eexample", "//evil.example", "//2130706433", "/%5Cevil%2Eexample", "///evil.example"]
    {
        let r = app.get(path).await;
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        assert!(
            location.as_deref().is_none_or(gazette::web::is_local_path),
            "{path}: {} to {location:?}",
            r.status()
        );
    }
    // A raw request, as a browser would not normalize it: `/\evil` is `//evil` to a browser.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    socket
        .write_all(b"GET /\\evil%2Eexample HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(!answer.to_ascii_lowercase().contains("location: /\\"), "{}", &answer[..answer.len().min(300)]);
    // Ordinary slash redirects still work.
    assert_eq!(app.redirect("/search-help", 301).await, "/search-help/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_cannot_change_a_published_articles_picture_and_refusals_store_nothing() {
    let app = TestApp::sqlite().await;
    staff(&app, "co@example.com", "Co Tributor", Role::Contributor).await;
    let (contributor,): (i64,) =
        gazette::fetch_one!(&app.db, (i64,), "SELECT id FROM users WHERE email = 'co@example.com'").unwrap();
    // Their article, published by an editor.
    let id = app.publish(crate::helpers::article("harbour-lights", "news", &["maeve-okonjo"], 0)).await;
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(&mut tx, "UPDATE articles SET created_by = $1 WHERE id = $2", contributor, id).unwrap();
    tx.commit().await.unwrap();
    let pictures = || async { gazette::storage::pictures::all(&app.db).await.unwrap().len() };
    let before = pictures().await;
    let image_of = || async {
        gazette::fetch_one!(
            &app.db,
            (Option<String>,),
            "SELECT featured_image_url FROM articles WHERE id = $1",
            id
        )
        .unwrap()
        .0
    };
    let image = image_of().await;

    let mut b = Browser::new(&app);
    let signed = b.sign_in("co@example.com", PASSWORD).await;
    assert_eq!(signed.status(), 303, "{}", signed.text().await.unwrap());
    let csrf = b.csrf().await;
    let post = |form: reqwest::multipart::Form| {
        app.client
            .post(format!("{}/admin/articles/{id}/image", app.base))
            .header("cookie", b.cookie_header())
            .multipart(form)
            .send()
    };
    let remove = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).text("remove", "1");
    assert_eq!(post(remove).await.unwrap().status(), 403);
    let upload = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .text("alt", "Lights on the quay")
        .part("file", reqwest::multipart::Part::bytes(crate::helpers::png(90)).file_name("lights.png"));
    assert_eq!(post(upload).await.unwrap().status(), 403);
    assert_eq!(image_of().await, image, "the picture is the editor's");
    assert_eq!(pictures().await, before, "a refused upload joins no library");

    // An editor's upload without alt text is refused before it is stored too.
    let mut e = Browser::new(&app);
    e.sign_in("maeve@harbourcourier.example", "courier-demo").await;
    let csrf = e.csrf().await;
    let upload = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("alt", "")
        .part("file", reqwest::multipart::Part::bytes(crate::helpers::png(90)).file_name("lights.png"));
    let r = app
        .client
        .post(format!("{}/admin/articles/{id}/image", app.base))
        .header("cookie", e.cookie_header())
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(pictures().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_stores_nothing_it_refuses_and_keeps_what_it_is_not_told() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    use gazette::web::api::auth::Scope;
    let token = crate::api_admin::token(
        &app,
        "maeve@harbourcourier.example",
        Role::Editor,
        &[Scope::ArticlesWrite, Scope::ArticlesPublish],
    )
    .await;
    let call = |method: reqwest::Method, path: String, body: serde_json::Value| {
        app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&token).json(&body).send()
    };
    let count = || async { gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM articles").unwrap().0 };
    let before = count().await;
    let body = json!({ "headline": "Pier reopens", "body": "Text.", "sections": ["news"], "picture": { "id": 999_999 } });
    for _ in 0..2 {
        let r = call(reqwest::Method::POST, "/api/v1/admin/articles".into(), body.clone()).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("There is no picture 999999"));
    }
    assert_eq!(count().await, before, "nothing stored, even on a retry");

    // A sticky story stays at the top through an API change that does not mention it.
    let (id, version): (i64, i64) = gazette::fetch_one!(
        &app.db,
        (i64, i64),
        "SELECT id, version FROM articles WHERE status = 'published' ORDER BY id LIMIT 1"
    )
    .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(&mut tx, "UPDATE articles SET sticky = 1 WHERE id = $1", id).unwrap();
    tx.commit().await.unwrap();
    let r = call(
        reqwest::Method::PATCH,
        format!("/api/v1/admin/articles/{id}"),
        json!({ "version": version, "standfirst": "Now with a new standfirst." }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (sticky,): (i64,) =
        gazette::fetch_one!(&app.db, (i64,), "SELECT sticky FROM articles WHERE id = $1", id).unwrap();
    assert_eq!(sticky, 1, "keep at the top was cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderation_with_a_bad_back_address_goes_back_to_the_list() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    let (comment,): (i64,) = gazette::fetch_one!(
        &app.db,
        (i64,),
        "SELECT id FROM comments WHERE status = 'approved' ORDER BY id LIMIT 1"
    )
    .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in("maeve@harbourcourier.example", "courier-demo").await;
    let (_, html) = b.get("/admin/comments").await;
    let csrf = crate::admin::field(&html, "_csrf");
    let one = format!("unapprove:{comment}");
    let r = b
        .post("/admin/comments", &[("_csrf", &csrf), ("one", &one), ("back", "/admin/comments\r\nX: 1")])
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/admin/comments?done=1"), "{location}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_in_the_content_api_come_a_page_at_a_time() {
    let app = TestApp::sqlite().await;
    app.newsroom().await;
    let id = app.publish(crate::helpers::article("busy-thread", "news", &["ada-reporter"], 0)).await;
    let mut tx = app.db.begin().await.unwrap();
    for n in 0..250_i64 {
        gazette::tx_exec!(
            &mut tx,
            "INSERT INTO comments (article_id, depth, author_name, author_email, body, body_html, status, created_at, \
               status_changed_at) VALUES ($1, 0, 'Reader', 'r@example.com', 'x', '<p>x</p>', 'approved', $2, $2)",
            id,
            1_700_000_000 + n / 2
        )
        .unwrap();
    }
    tx.commit().await.unwrap();
    app.refresh().await;
    let mut seen = Vec::new();
    let mut next = Some(format!("/api/v1/articles/{id}/comments"));
    let mut pages = 0;
    while let Some(path) = next {
        let page: serde_json::Value = serde_json::from_str(&app.page(&path, 200).await).unwrap();
        let comments = page["comments"].as_array().unwrap();
        assert!(comments.len() <= 100);
        seen.extend(comments.iter().map(|c| c["id"].as_i64().unwrap()));
        next = page["next"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (250, 250), "every comment once, in order");
    assert_eq!(seen, sorted);
    assert_eq!(app.get(&format!("/api/v1/articles/{id}/comments?limit=0")).await.status(), 400);
    assert_eq!(app.get(&format!("/api/v1/articles/{id}/comments?after=0")).await.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_sites_send_hsts() {
    let secure = TestApp::sqlite_with(|c| c.base_url = Some("https://news.example".into())).await;
    secure.load_demo().await;
    for path in ["/", "/", "/admin", "/search?q=harbour"] {
        let r = secure.get(path).await;
        assert_eq!(
            r.headers().get("strict-transport-security").map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    let plain = TestApp::sqlite().await;
    assert!(plain.get("/").await.headers().get("strict-transport-security").is_none());
}
