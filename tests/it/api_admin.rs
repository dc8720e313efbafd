//! The Admin API: tokens made in the admin (shown once, stored hashed, revocable), articles
//! created, changed, published and unpublished through the domain layer with versions, pictures
//! and moderation; every action refused to every scope and role that may not; bad input a
//! problem document with nothing written.

use gazette::domain::Role;
use gazette::web::api::auth::{self, Scope};
use serde_json::{Value, json};

use crate::admin::{Browser, PASSWORD};
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(
    articles_are_written_published_and_unpublished_with_versions_and_events,
    every_action_is_refused_to_the_scopes_and_roles_that_may_not,
    bad_input_is_a_problem_document_and_nothing_is_written,
);

/// A user with `role` (the existing one, if the address has an account) and a token with
/// `scopes`; returns the token.
pub async fn token(app: &TestApp, email: &str, role: Role, scopes: &[Scope]) -> String {
    let user = match gazette::accounts::create_user(&app.db, email, email, role, PASSWORD).await {
        Ok(id) => id,
        Err(_) => {
            gazette::fetch_one!(&app.db, (i64,), "SELECT id FROM users WHERE email = $1", email).unwrap().0
        }
    };
    let new = auth::generate().unwrap();
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let mut tx = app.db.begin().await.unwrap();
    gazette::storage::tokens::create(&mut tx, user, "test", &new.prefix, &new.hash, &names.join(" "))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    new.secret
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn events(app: &TestApp, kind: &str) -> i64 {
    gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM content_events WHERE kind = $1", kind)
        .unwrap()
        .0
}

async fn articles_count(app: &TestApp) -> i64 {
    gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM articles").unwrap().0
}

async fn articles_are_written_published_and_unpublished_with_versions_and_events(app: TestApp) {
    app.load_demo().await;
    let editor = token(&app, "ed@example.com", Role::Editor, &Scope::ALL).await;
    use reqwest::Method;

    // Created as a draft: nothing public yet.
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/admin/articles",
        &editor,
        Some(json!({
            "headline": "Night ferry timetable restored",
            "standfirst": "The 22:40 sails again from Monday.",
            "body": "The operator said crews were back.\n\n> \"We are glad,\" a deckhand said.",
            "sections": ["news"],
            "authors": ["maeve-okonjo"],
            "tags": ["Ferries"],
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!((created["status"].as_str(), created["version"].as_i64()), (Some("draft"), Some(1)));
    assert_eq!(created["authors"], json!(["maeve-okonjo"]));
    let (status, _) = call(&app, Method::GET, &format!("/api/v1/articles/{id}"), "", None).await;
    assert_eq!(status, 404, "a draft is not public");

    // A change based on an older version is refused, naming the newer one.
    let path = format!("/api/v1/admin/articles/{id}");
    let (status, saved) = call(
        &app,
        Method::PATCH,
        &path,
        &editor,
        Some(json!({"headline": "Night ferry back", "version": 1})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!((saved["version"].as_i64(), saved["headline"].as_str()), (Some(2), Some("Night ferry back")));
    assert_eq!(saved["tags"], json!(["Ferries"]), "fields not sent stay");
    let (status, stale) =
        call(&app, Method::PATCH, &path, &editor, Some(json!({"standfirst": "Lost update", "version": 1})))
            .await;
    assert_eq!(status, 409, "{stale}");
    assert_eq!(stale["current_version"], 2);
    assert!(stale["detail"].as_str().unwrap().contains("version 2"));

    // Published through the domain layer: its event, and the public API follows.
    let published_before = events(&app, "article.published").await;
    let (status, live) =
        call(&app, Method::POST, &format!("{path}/publish"), &editor, Some(json!({"version": 2}))).await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["status"], "published");
    assert_eq!(events(&app, "article.published").await, published_before + 1);
    app.refresh().await;
    let (status, public) = call(&app, Method::GET, &format!("/api/v1/articles/{id}"), "", None).await;
    assert_eq!((status, public["headline"].as_str()), (200, Some("Night ferry back")));
    let revisions: (i64,) = gazette::fetch_one!(
        &app.db,
        (i64,),
        "SELECT COUNT(*) FROM article_revisions WHERE article_id = $1",
        id
    )
    .unwrap();
    assert!(revisions.0 >= 3, "each save is a revision");

    // A picture from the library, sent as a file; then the featured picture.
    let png = {
        let img = image::RgbaImage::from_fn(64, 40, |x, _| image::Rgba([20, 90, 160, (x * 4) as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let r = app
        .client
        .post(format!(
            "{}/api/v1/admin/media?file_name=ferry.png&alt=The%20night%20ferry&credit=Staff",
            app.base
        ))
        .bearer_auth(&editor)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let picture: Value = r.json().await.unwrap();
    let picture_id = picture["id"].as_i64().unwrap();
    assert_eq!(picture["reference"], format!("/media/{picture_id}"));
    let (status, with_picture) = call(
        &app,
        Method::PATCH,
        &path,
        &editor,
        Some(
            json!({"picture": {"id": picture_id, "caption": "Leaving at dusk."}, "version": live["version"]}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{with_picture}");
    assert_eq!(with_picture["picture"], format!("/media/{picture_id}"));

    // Unpublished: gone from the public API.
    let (status, off) = call(
        &app,
        Method::POST,
        &format!("{path}/unpublish"),
        &editor,
        Some(json!({"version": with_picture["version"]})),
    )
    .await;
    assert_eq!((status, off["status"].as_str()), (200, Some("unpublished")), "{off}");
    app.refresh().await;
    let (status, _) = call(&app, Method::GET, &format!("/api/v1/articles/{id}"), "", None).await;
    assert_eq!(status, 404);

    // Scheduled for tomorrow.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (status, scheduled) = call(
        &app,
        Method::POST,
        &format!("{path}/publish"),
        &editor,
        Some(json!({"version": off["version"], "at": tomorrow})),
    )
    .await;
    assert_eq!((status, scheduled["status"].as_str()), (200, Some("scheduled")), "{scheduled}");

    // Moderation: a pending comment approved, with its event.
    let (status, queue) =
        call(&app, Method::GET, "/api/v1/admin/comments?status=pending", &editor, None).await;
    assert_eq!(status, 200, "{queue}");
    if let Some(pending) = queue["comments"].as_array().unwrap().first() {
        let approved_before = events(&app, "comment.approved").await;
        let (status, done) = call(
            &app,
            Method::POST,
            &format!("/api/v1/admin/comments/{}", pending["id"]),
            &editor,
            Some(json!({"status": "approved"})),
        )
        .await;
        assert_eq!((status, done["status"].as_str()), (200, Some("approved")), "{done}");
        assert_eq!(events(&app, "comment.approved").await, approved_before + 1);
    }

    // Listed for staff in every state.
    let (status, drafts) =
        call(&app, Method::GET, "/api/v1/admin/articles?status=scheduled", &editor, None).await;
    assert_eq!(status, 200);
    assert!(drafts["articles"].as_array().unwrap().iter().any(|a| a["id"] == id));
}

/// What each action needs, and whether each role may, on an article created by an editor.
async fn every_action_is_refused_to_the_scopes_and_roles_that_may_not(app: TestApp) {
    use reqwest::Method;
    app.load_demo().await;
    let owner = token(&app, "owner@example.com", Role::Editor, &Scope::ALL).await;
    // A fresh article of the editor's for each attempt (so versions never get in the way).
    let fresh = |status: &'static str| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let (s, a) = call(
                app,
                Method::POST,
                "/api/v1/admin/articles",
                &owner,
                Some(json!({"headline": "Owned by the editor", "sections": ["news"], "status": status})),
            )
            .await;
            assert_eq!(s, 201, "{a}");
            (a["id"].as_i64().unwrap(), a["version"].as_i64().unwrap())
        }
    };
    let comment: i64 = gazette::fetch_one!(&app.db, (i64,), "SELECT MIN(id) FROM comments").unwrap().0;
    let mut tried = 0;
    for role in [Role::Contributor, Role::Author, Role::Editor] {
        for scope in Scope::ALL {
            let t = token(
                &app,
                &format!("{}-{}@example.com", role, scope.as_str().replace(':', "-")),
                role,
                &[scope],
            )
            .await;
            // (action, the scope it needs, whether this role may do it on another's article)
            let others = role >= Role::Editor;
            let cases: Vec<(&str, Scope, bool)> = vec![
                ("list", Scope::DraftsRead, true),
                ("get", Scope::DraftsRead, others),
                ("create draft", Scope::ArticlesWrite, true),
                ("change", Scope::ArticlesWrite, others),
                ("publish", Scope::ArticlesPublish, others),
                ("unpublish", Scope::ArticlesPublish, others),
                ("media", Scope::MediaWrite, true),
                ("comments", Scope::CommentsModerate, role >= Role::Author),
                ("moderate", Scope::CommentsModerate, others),
            ];
            for (action, needs, role_may) in cases {
                let allowed = scope == needs && role_may;
                let (id, version) = fresh("draft").await;
                let (status, answer) = match action {
                    "list" => call(&app, Method::GET, "/api/v1/admin/articles", &t, None).await,
                    "get" => call(&app, Method::GET, &format!("/api/v1/admin/articles/{id}"), &t, None).await,
                    "create draft" => {
                        let body = json!({"headline": "Mine", "sections": ["news"]});
                        call(&app, Method::POST, "/api/v1/admin/articles", &t, Some(body)).await
                    }
                    "change" => {
                        let body = json!({"headline": "Changed", "version": version});
                        call(&app, Method::PATCH, &format!("/api/v1/admin/articles/{id}"), &t, Some(body))
                            .await
                    }
                    "publish" => {
                        let body = json!({"version": version});
                        call(
                            &app,
                            Method::POST,
                            &format!("/api/v1/admin/articles/{id}/publish"),
                            &t,
                            Some(body),
                        )
                        .await
                    }
                    "unpublish" => {
                        let (live, v) = fresh("published").await;
                        let body = json!({"version": v});
                        call(
                            &app,
                            Method::POST,
                            &format!("/api/v1/admin/articles/{live}/unpublish"),
                            &t,
                            Some(body),
                        )
                        .await
                    }
                    "media" => {
                        let r = app
                            .client
                            .post(format!("{}/api/v1/admin/media?file_name=x.png&alt=x", app.base))
                            .bearer_auth(&t)
                            .body(tiny_png(tried))
                            .send()
                            .await
                            .unwrap();
                        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
                    }
                    "comments" => call(&app, Method::GET, "/api/v1/admin/comments", &t, None).await,
                    _ => {
                        let body = json!({"status": "pending"});
                        call(&app, Method::POST, &format!("/api/v1/admin/comments/{comment}"), &t, Some(body))
                            .await
                    }
                };
                tried += 1;
                if allowed {
                    assert!(
                        (200..300).contains(&status),
                        "{role} with {} may {action}: {status} {answer}",
                        scope.as_str()
                    );
                } else {
                    assert_eq!(status, 403, "{role} with {} may not {action}: {answer}", scope.as_str());
                    assert_eq!(answer["status"], 403);
                }
            }
        }
    }
    assert_eq!(tried, 3 * 5 * 9);
}

/// POSTs over a raw connection, reading the answer while the body is still being sent (a
/// server may answer a too-large request at once and close): (status, JSON body).
async fn raw_post(app: &TestApp, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await; // may fail once the server has answered
        // The write half stays open until the answer is read, as a browser's would: dropping it
        // half-closes the connection, and a server takes that for a client that went away.
        std::future::pending::<()>().await;
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), read.read_to_end(&mut answer)).await;
    writer.abort();
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

/// A small PNG, different per `seed`.
fn tiny_png(seed: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([seed as u8, x as u8 * 20, y as u8 * 20]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn bad_input_is_a_problem_document_and_nothing_is_written(app: TestApp) {
    app.load_demo().await;
    let editor = token(&app, "ed@example.com", Role::Editor, &Scope::ALL).await;
    let before = articles_count(&app).await;
    let url = format!("{}/api/v1/admin/articles", app.base);
    let send = |body: Vec<u8>, content_type: Option<&'static str>, bearer: Option<String>| {
        let mut r = app.client.post(&url).body(body);
        if let Some(t) = content_type {
            r = r.header("content-type", t);
        }
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, headers, body)
        }
    };
    let json_type = Some("application/json");
    /// What is sent (name, body, content type, token) and the status it gets.
    type Case = (&'static str, Vec<u8>, Option<&'static str>, Option<String>, u16);
    let cases: Vec<Case> = vec![
        ("no token", b"{}".to_vec(), json_type, None, 401),
        ("a token never issued", b"{}".to_vec(), json_type, Some(format!("gz_{}", "0".repeat(64))), 401),
        ("not a token", b"{}".to_vec(), json_type, Some("hunter2".into()), 401),
        ("malformed JSON", b"{\"headline\": ".to_vec(), json_type, Some(editor.clone()), 400),
        ("not an object", b"[1, 2]".to_vec(), json_type, Some(editor.clone()), 422),
        ("a wrong type", br#"{"headline": 5, "sections": ["news"]}"#.to_vec(), json_type, Some(editor.clone()), 422),
        ("an unknown field", br#"{"headline": "x", "sections": ["news"], "sticky": true}"#.to_vec(), json_type, Some(editor.clone()), 422),
        ("no headline", br#"{"sections": ["news"]}"#.to_vec(), json_type, Some(editor.clone()), 422),
        ("no such section", br#"{"headline": "x", "sections": ["nope"]}"#.to_vec(), json_type, Some(editor.clone()), 422),
        ("no such author", br#"{"headline": "x", "sections": ["news"], "authors": ["nobody"]}"#.to_vec(), json_type, Some(editor.clone()), 422),
        ("a bad time", br#"{"headline": "x", "sections": ["news"], "publish_at": "soon"}"#.to_vec(), json_type, Some(editor.clone()), 422),
        ("not JSON at all", b"headline=x".to_vec(), Some("application/x-www-form-urlencoded"), Some(editor.clone()), 415),
        ("a picture without alt text to publish", br#"{"headline": "x", "sections": ["news"], "status": "published", "body": "![](https://e.example/a.png)"}"#.to_vec(), json_type, Some(editor.clone()), 422),
    ];
    for (what, body, content_type, bearer, expected) in cases {
        let (status, headers, problem) = send(body, content_type, bearer).await;
        assert_eq!(status, expected, "{what}: {problem}");
        assert_eq!(headers["content-type"], "application/problem+json", "{what}");
        assert_eq!(problem["status"], expected, "{what}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}");
        if expected == 401 {
            assert_eq!(headers["www-authenticate"], "Bearer", "{what}");
        }
    }
    // Too large: answered before the body is read (so over a raw connection: an HTTP client
    // may fail to finish sending once the answer has come).
    let huge =
        [b"{\"headline\": \"".as_slice(), &vec![b'a'; 3 << 20], b"\", \"sections\": [\"news\"]}"].concat();
    let (status, problem) = raw_post(&app, "/api/v1/admin/articles", &editor, "application/json", huge).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["status"], 413);
    assert_eq!(articles_count(&app).await, before, "nothing was written");

    // A signed-in browser's session is not a token: cookies never reach the Admin API.
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let r = app
        .client
        .post(&url)
        .header("cookie", b.cookie_header())
        .json(&json!({"headline": "Via a cookie", "sections": ["news"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Pictures: a refused file with the library's reason; the size limit.
    let r = app
        .client
        .post(format!("{}/api/v1/admin/media?file_name=x.png", app.base))
        .bearer_auth(&editor)
        .body(b"<svg onload=alert(1)></svg>".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("SVG"), "{problem}");
    let (status, problem) =
        raw_post(&app, "/api/v1/admin/media?file_name=x.png", &editor, "image/png", vec![0xFF; 41 << 20])
            .await;
    assert_eq!(status, 413, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("40 MB"), "{problem}");
    assert_eq!(gazette::storage::pictures::all(&app.db).await.unwrap().len(), 0);

    // A token used too often this minute waits.
    let reader = token(&app, "reader@example.com", Role::Contributor, &[Scope::DraftsRead]).await;
    let mut limited = None;
    for _ in 0..=auth::RATE_PER_MINUTE {
        let r = app
            .client
            .get(format!("{}/api/v1/admin/articles?limit=1", app.base))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the rate limit answers 429");
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
}

/// Tokens are made in the admin: shown once, stored as a hash, listed with their last use,
/// revoked; a contributor cannot give one a scope beyond their role.
/// A request refused before its body is read (too large) is answered at once; the client, like
/// curl or a browser uploading a file, goes on sending the body it announced, and only then reads.
/// The server reads on, discarding, so every byte is taken and the answer is there to read:
/// closing with unread bytes would reset the connection, and the client would see a send
/// failure instead of the 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_reaches_a_client_still_sending() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::sqlite().await;
    let editor = token(&app, "ed@example.com", Role::Editor, &[Scope::ArticlesWrite]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let length = 16 << 20;
    let head = format!(
        "POST /api/v1/admin/articles HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {editor}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 64 << 10];
    let sending = async {
        for sent in (0..length).step_by(chunk.len()) {
            if let Err(err) = stream.write_all(&chunk).await {
                return Err(format!("sending failed after {sent} bytes: {err}"));
            }
            if sent == 4 << 20 {
                // Past the limit: by now the server has answered and stopped reading.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        }
        Ok(())
    };
    let sent =
        tokio::time::timeout(std::time::Duration::from_secs(30), sending).await.expect("sending in time");
    sent.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the answer in time")
        .expect("the answer, not a reset");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_made_in_the_admin_shown_once_and_revoked() {
    let app = TestApp::sqlite().await;
    crate::admin::staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r = b
        .post(
            "/admin/tokens",
            &[
                ("_csrf", &csrf),
                ("name", "Newsletter"),
                ("scopes", "drafts:read"),
                ("scopes", "articles:write"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let secret = crate::admin::field(&page, "new-token\" readonly value");
    let secret = if secret.is_empty() {
        page.split("value=\"gz_").nth(1).map(|s| format!("gz_{}", &s[..64])).expect("the token is shown")
    } else {
        secret
    };
    assert!(secret.starts_with("gz_") && secret.len() == 67, "{secret}");
    // Shown once: not on the list; only its hash is stored.
    let (_, list) = b.get("/admin/tokens").await;
    assert!(list.contains("Newsletter") && !list.contains(&secret));
    let stored: Vec<(String, String)> =
        gazette::fetch_all!(&app.db, (String, String), "SELECT hash, prefix FROM api_tokens").unwrap();
    assert_eq!(stored, [(auth::hash(&secret), secret[..9].to_owned())]);
    // It works, and its use is noted.
    let r = app
        .client
        .get(format!("{}/api/v1/admin/articles", app.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, list) = b.get("/admin/tokens").await;
    assert!(!list.contains(">never<"), "last use is shown");
    // Revoked: refused at once.
    let id: i64 = gazette::fetch_one!(&app.db, (i64,), "SELECT id FROM api_tokens").unwrap().0;
    let r = b.post(&format!("/admin/tokens/{id}/revoke"), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    let r = app
        .client
        .get(format!("{}/api/v1/admin/articles", app.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Forms without the CSRF token are refused.
    let r = b.post("/admin/tokens", &[("name", "x"), ("scopes", "drafts:read")]).await;
    assert_ne!(r.status(), 200);

    // A contributor may not give a token a publishing scope.
    gazette::accounts::create_user(&app.db, "co@example.com", "Co", Role::Contributor, PASSWORD)
        .await
        .unwrap();
    let mut c = Browser::new(&app);
    c.sign_in("co@example.com", PASSWORD).await;
    let csrf = c.csrf().await;
    let r = c.post("/admin/tokens", &[("_csrf", &csrf), ("name", "x"), ("scopes", "articles:publish")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("may not publish"));
    assert_eq!(gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM api_tokens").unwrap().0, 1);
}
