//! The newsroom admin: sign-in, sessions, CSRF, roles and the article workflow.

use gazette::accounts;
use gazette::domain::Role;

use crate::helpers::TestApp;
use crate::on_both_stores;

pub const PASSWORD: &str = "a long test password";

/// A browser-like session: the cookies it was given and the CSRF token of its last page.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    cookies: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self { app, cookies: Vec::new() }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> (u16, String) {
        let r = self
            .app
            .client
            .get(format!("{}{path}", self.app.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&r);
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&r);
        r
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let (_, html) = self.get("/admin").await;
        let token = field(&html, "login_token");
        self.post("/admin/login", &[("login_token", &token), ("email", email), ("password", password)]).await
    }

    pub async fn csrf(&mut self) -> String {
        let (status, html) = self.get("/admin/articles/new").await;
        assert_eq!(status, 200, "{html}");
        field(&html, "_csrf")
    }
}

pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

pub async fn staff(app: &TestApp, email: &str, name: &str, role: Role) {
    app.load_demo().await;
    accounts::create_user(&app.db, email, name, role, PASSWORD).await.unwrap();
}

pub fn article_form<'a>(
    csrf: &'a str,
    headline: &'a str,
    status: &'a str,
    version: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("version", version),
        ("headline", headline),
        ("standfirst", "A standfirst."),
        ("body", "First paragraph.\n\n> A quotation."),
        ("primary_section", "news"),
        ("sections", "politics"),
        ("authors", "maeve-okonjo"),
        ("tags", "Harbour, Testing"),
        ("status", status),
        ("publish_at", ""),
        ("comments_open", "on"),
    ]
}

on_both_stores!(
    a_fresh_site_explains_how_to_create_the_first_administrator,
    signing_in_sets_a_safe_session_cookie_and_signing_out_revokes_it,
    wrong_passwords_get_one_answer_and_are_throttled,
    a_contributor_drafts_and_submits_but_cannot_publish,
    an_author_publishes_and_the_story_appears,
    forms_without_the_right_token_change_nothing,
    a_stale_save_is_told_of_the_conflict,
    scheduled_articles_publish_themselves,
    editors_choose_what_stays_on_top_and_authors_cannot,
);

async fn a_fresh_site_explains_how_to_create_the_first_administrator(app: TestApp) {
    let response = app.get("/admin").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("gazette user add --email you@example.com"));
    // Without a session, admin pages send the browser to sign in.
    assert_eq!(app.redirect("/admin/articles", 303).await, "/admin");
}

async fn signing_in_sets_a_safe_session_cookie_and_signing_out_revokes_it(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    let r = b.sign_in("ED@example.com", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("gazette_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let (status, html) = b.get("/admin/articles").await;
    assert_eq!(status, 200);
    assert!(html.contains("Swing bridge closed"), "an editor sees every article");
    let old = b.cookies.clone();
    let csrf = b.csrf().await;
    assert_eq!(b.post("/admin/logout", &[("_csrf", &csrf)]).await.status(), 303);
    b.cookies = old; // a stolen copy of the cookie is dead too
    assert_eq!(b.get("/admin/articles").await.0, 303);
}

async fn wrong_passwords_get_one_answer_and_are_throttled(app: TestApp) {
    staff(&app, "au@example.com", "Au Thor", Role::Author).await;
    let mut b = Browser::new(&app);
    let unknown = b.sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let unknown = unknown.text().await.unwrap();
    let wrong = b.sign_in("au@example.com", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let msg = "The e-mail address or password is not right.";
    assert!(unknown.contains(msg) && wrong.contains(msg), "the same answer for both");
    for _ in 0..4 {
        b.sign_in("au@example.com", "not the password").await;
    }
    let throttled = b.sign_in("au@example.com", PASSWORD).await;
    assert_eq!(throttled.status(), 429, "even the right password waits");
    assert!(throttled.text().await.unwrap().contains("Too many failed sign-ins"));
}

async fn a_contributor_drafts_and_submits_but_cannot_publish(app: TestApp) {
    staff(&app, "co@example.com", "Co Tributor", Role::Contributor).await;
    let mut b = Browser::new(&app);
    b.sign_in("co@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let (_, list_before) = b.get("/admin/articles").await;
    assert!(!list_before.contains("Swing bridge closed"), "contributors see only their own work");

    let r = b
        .post("/admin/articles/new", &article_form(&csrf, "Contributor tries to publish", "published", "0"))
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        !app.page("/search?q=Contributor+tries", 200).await.contains(">Contributor tries to publish</a>")
    );

    let r =
        b.post("/admin/articles/new", &article_form(&csrf, "A contributor's draft", "pending", "0")).await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/admin/articles/").split('?').next().unwrap().to_owned();
    let (_, list) = b.get("/admin/articles?status=pending").await;
    assert!(list.contains("A contributor&#39;s draft"));
    // The editor of someone else's article is closed to a contributor.
    let demo_id = gazette::storage::articles::admin_list(
        &app.db,
        &gazette::storage::articles::AdminFilter { status: "published", ..Default::default() },
        1,
        0,
    )
    .await
    .unwrap()
    .0[0]
        .id;
    assert_eq!(b.get(&format!("/admin/articles/{demo_id}")).await.0, 403);
    let r =
        b.post(&format!("/admin/articles/{demo_id}"), &article_form(&csrf, "Hijacked", "draft", "1")).await;
    assert_eq!(r.status(), 403);
    assert!(!app.page("/search?q=Hijacked", 200).await.contains(">Hijacked</a>"));
    // Its own pending article: still not publishable.
    let r = b
        .post(
            &format!("/admin/articles/{id}"),
            &article_form(&csrf, "A contributor's draft", "published", "1"),
        )
        .await;
    assert_eq!(r.status(), 403);
}

async fn an_author_publishes_and_the_story_appears(app: TestApp) {
    staff(&app, "au@example.com", "Au Thor", Role::Author).await;
    let mut b = Browser::new(&app);
    b.sign_in("au@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r = b
        .post("/admin/articles/new", &article_form(&csrf, "Author publishes a scoop", "published", "0"))
        .await;
    assert_eq!(r.status(), 303);
    app.refresh().await;
    let home = app.page("/", 200).await;
    assert!(home.contains("Author publishes a scoop"), "on the front page at once");
    let link =
        crate::helpers::hrefs(&home).into_iter().find(|h| h.ends_with("/author-publishes-a-scoop/")).unwrap();
    let page = app.page(&link, 200).await;
    assert!(page.contains("<blockquote>") && page.contains("href=\"/tag/testing/\""));
}

async fn forms_without_the_right_token_change_nothing(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let r = b.post("/admin/articles/new", &article_form("forged", "Forged article", "published", "0")).await;
    assert_eq!(r.status(), 403);
    let csrf = b.csrf().await;
    let cross = app
        .client
        .post(format!("{}/admin/articles/new", app.base))
        .header("cookie", b.cookie_header())
        .header("origin", "https://evil.example")
        .form(&article_form(&csrf, "Cross-site article", "published", "0"))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let (_, list) = b.get("/admin/articles?q=article").await;
    assert!(!list.contains("Forged article") && !list.contains("Cross-site article"));
}

async fn a_stale_save_is_told_of_the_conflict(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r = b.post("/admin/articles/new", &article_form(&csrf, "Shared story", "draft", "0")).await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    let (_, editor) = b.get(&path).await;
    let version = field(&editor, "version");
    assert_eq!(
        b.post(&path, &article_form(&csrf, "Shared story, first edit", "draft", &version)).await.status(),
        303
    );
    let second = b.post(&path, &article_form(&csrf, "Shared story, second edit", "draft", &version)).await;
    assert_eq!(second.status(), 409);
    let html = second.text().await.unwrap();
    assert!(html.contains("Someone else saved this article") && html.contains("Shared story, second edit"));
    assert!(html.contains("Saved version compared with yours"), "both versions are shown");
    let (_, editor) = b.get(&path).await;
    assert!(editor.contains("Shared story, first edit"), "the first save was kept");
    assert!(editor.contains("2 revisions"));
}

async fn scheduled_articles_publish_themselves(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let site = app.site.get();
    // The form's precision is the minute: two minutes on, truncated, is at least a minute away
    // whatever the clock's second, so the save cannot overtake it.
    let soon = site.local(chrono::Utc::now().timestamp() + 120).format("%Y-%m-%dT%H:%M").to_string();
    let mut form = article_form(&csrf, "Embargoed until the minute", "scheduled", "0");
    form.retain(|(k, _)| *k != "publish_at");
    form.push(("publish_at", &soon));
    assert_eq!(b.post("/admin/articles/new", &form).await.status(), 303);
    assert!(!app.page("/", 200).await.contains("Embargoed until the minute"));
    // Time passes (moved back three minutes): the app's own scheduler publishes it.
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(
        &mut tx,
        "UPDATE articles SET published_at = published_at - 180 WHERE status = 'scheduled'"
    )
    .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..40 {
        app.refresh().await;
        if app.page("/", 200).await.contains("Embargoed until the minute") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the scheduled article was not published");
}

on_both_stores!(a_slug_change_keeps_the_old_address_and_corrections_show);

async fn a_slug_change_keeps_the_old_address_and_corrections_show(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r = b
        .post("/admin/articles/new", &article_form(&csrf, "Council votes on the harbour", "published", "0"))
        .await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    app.refresh().await;
    let home = app.page("/", 200).await;
    let old = crate::helpers::hrefs(&home)
        .into_iter()
        .find(|h| h.ends_with("/council-votes-on-the-harbour/"))
        .unwrap();

    let (_, editor) = b.get(&path).await;
    let version = field(&editor, "version");
    let mut form = article_form(&csrf, "Council votes on the harbour", "published", &version);
    form.retain(|(k, _)| *k != "slug");
    form.push(("slug", "harbour-vote"));
    form.push(("correction", "An earlier version gave the wrong date for the vote."));
    assert_eq!(b.post(&path, &form).await.status(), 303);
    app.refresh().await;

    let new = old.replace("council-votes-on-the-harbour", "harbour-vote");
    assert_eq!(app.redirect(&old, 301).await, new, "the old address moves permanently");
    let page = app.page(&new, 200).await;
    assert!(page.contains("class=\"correction\"") && page.contains("gave the wrong date"));
    assert!(page.contains("\"@type\":\"CorrectionComment\""), "and in the structured data");
}

on_both_stores!(revisions_show_a_readable_diff_and_can_be_restored);

async fn revisions_show_a_readable_diff_and_can_be_restored(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r =
        b.post("/admin/articles/new", &article_form(&csrf, "Ferry fares rise on Monday", "draft", "0")).await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    let (_, editor) = b.get(&path).await;
    let version = field(&editor, "version");
    let form = article_form(&csrf, "Ferry fares rise on Tuesday", "draft", &version);
    assert_eq!(b.post(&path, &form).await.status(), 303);

    assert!(editor.contains("<title>Edit: Ferry fares rise on Monday · "), "a plain-text title");
    let (status, history) = b.get(&format!("{path}/revisions")).await;
    assert_eq!(status, 200);
    assert!(history.contains("<del>Monday</del>") && history.contains("<ins>Tuesday</ins>"), "{history}");
    let first = history.split("?revision=").nth(2).unwrap().split('"').next().unwrap().to_owned();
    let (_, restoring) = b.get(&format!("{path}?revision={first}")).await;
    assert!(restoring.contains("value=\"Ferry fares rise on Monday\""));
    assert!(restoring.contains("Save to restore it"));
}

on_both_stores!(preview_links_show_drafts_until_revoked);

async fn preview_links_show_drafts_until_revoked(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r = b.post("/admin/articles/new", &article_form(&csrf, "Embargoed budget story", "draft", "0")).await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    let r = b.post(&format!("{path}/preview"), &[("_csrf", &csrf)]).await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let token = location.split("preview=").nth(1).unwrap().to_owned();
    let (_, editor) = b.get(&location).await;
    assert!(editor.contains(&format!("/preview/{token}")), "the link is shown once");

    let preview = app.get(&format!("/preview/{token}")).await;
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["cache-control"], "no-store");
    assert!(preview.text().await.unwrap().contains("Embargoed budget story"));
    app.page(&format!("/preview/{}", "0".repeat(64)), 404).await;
    assert!(!app.page("/", 200).await.contains("Embargoed budget story"), "still unpublished");

    assert_eq!(b.post(&format!("{path}/preview/revoke"), &[("_csrf", &csrf)]).await.status(), 303);
    app.page(&format!("/preview/{token}"), 404).await;
}

on_both_stores!(the_article_list_filters_and_sorts);

async fn the_article_list_filters_and_sorts(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let (_, sport) = b.get("/admin/articles?section=sport&sort=headline").await;
    assert!(sport.contains("Rovers stun Lowfield") && !sport.contains("Swing bridge closed"));
    let a = sport.find("Jonah Reyes").unwrap();
    let z = sport.find("Rovers stun Lowfield").unwrap();
    assert!(a < z, "sorted by headline");
    let (_, by_author) = b.get("/admin/articles?author=ines-ferreira").await;
    assert!(by_author.contains("Hosepipe ban") && !by_author.contains("Rovers stun"));
    let (_, text) = b.get("/admin/articles?q=hosepipe").await;
    assert!(text.contains("1 article<"), "{text}");
    assert_eq!(b.get("/admin/articles?page=x").await.0, 400);
}

on_both_stores!(a_featured_image_is_validated_stored_and_shown);

fn tiny_png() -> Vec<u8> {
    // A 1x1 PNG.
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
        0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05,
        0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
        0x60, 0x82,
    ]
}

async fn upload(b: &Browser<'_>, path: &str, csrf: &str, bytes: Vec<u8>, alt: &str) -> reqwest::Response {
    // After the server refuses an oversized body it closes that connection; a pooled
    // connection it closed can fail the next request before it is sent (a broken pipe, seen
    // in CI on PostgreSQL). A second try gets a fresh connection.
    match try_upload(b, path, csrf, bytes.clone(), alt).await {
        Ok(r) => r,
        Err(e) if e.is_request() => try_upload(b, path, csrf, bytes, alt).await.unwrap(),
        Err(e) => panic!("{e}"),
    }
}

async fn try_upload(
    b: &Browser<'_>,
    path: &str,
    csrf: &str,
    bytes: Vec<u8>,
    alt: &str,
) -> reqwest::Result<reqwest::Response> {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.to_owned())
        .text("alt", alt.to_owned())
        .text("caption", "The harbour at dawn.")
        .text("credit", "Courier staff")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("photo.png"));
    b.app
        .client
        .post(format!("{}{path}/image", b.app.base))
        .header("cookie", b.cookie_header())
        .multipart(form)
        .send()
        .await
}

async fn a_featured_image_is_validated_stored_and_shown(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let r =
        b.post("/admin/articles/new", &article_form(&csrf, "Dawn over the harbour", "published", "0")).await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();

    assert_eq!(upload(&b, &path, &csrf, b"<svg onload=alert(1)></svg>".to_vec(), "x").await.status(), 422);
    assert_eq!(upload(&b, &path, &csrf, tiny_png(), "").await.status(), 422, "alt text is required");
    let mut huge = tiny_png();
    huge.resize(41 * 1024 * 1024, 0);
    // The server answers 413 as soon as the limit is passed, and reads on (discarding) while
    // the browser is still sending: the browser gets the answer, not a reset connection.
    let r = try_upload(&b, &path, &csrf, huge, "big").await.expect("the answer, not a reset connection");
    assert_eq!(r.status(), 413);
    assert_eq!(upload(&b, &path, "forged", tiny_png(), "x").await.status(), 403);
    let (_, editor) = b.get(&path).await;
    assert!(!editor.contains("class=\"thumb\""), "nothing was stored by the refused uploads");

    assert_eq!(upload(&b, &path, &csrf, tiny_png(), "Boats at the quay").await.status(), 303);
    // The refused uploads stored nothing, so this picture is made now: pages show it once made.
    crate::media::all_ready(&app).await;
    let home = app.page("/", 200).await;
    let link =
        crate::helpers::hrefs(&home).into_iter().find(|h| h.ends_with("/dawn-over-the-harbour/")).unwrap();
    let page = app.page(&link, 200).await;
    assert!(page.contains("alt=\"Boats at the quay\"") && page.contains("Courier staff"));
    // A library picture, drawn as <picture>; a transparent PNG keeps PNG as its fallback.
    assert!(page.contains("<source type=\"image/avif\""), "{page}");
    let src = page.split("<img src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(src.starts_with("/media/") && src.ends_with("/1.png"), "{src}");
    let media = crate::media::processed(&app, &src).await;
    assert_eq!(media.headers()["content-type"], "image/png");
    assert_eq!(&media.bytes().await.unwrap()[..8], &tiny_png()[..8]);
    app.page("/media/..%2F..%2Fetc%2Fpasswd", 404).await;
}

on_both_stores!(autosave_keeps_text_without_touching_the_article);

async fn autosave_keeps_text_without_touching_the_article(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    // A new article's first autosave creates it as a draft, even if "published" is chosen.
    let r = b
        .post("/admin/articles/autosave", &article_form(&csrf, "Typed but never saved", "published", "0"))
        .await;
    assert_eq!(r.status(), 200);
    let json: serde_json::Value = r.json().await.unwrap();
    let path = json["action"].as_str().unwrap().to_owned();
    let (_, editor) = b.get(&path).await;
    assert!(editor.contains("status-draft"));
    app.refresh().await;
    assert!(!app.page("/", 200).await.contains("Typed but never saved"));

    // Later autosaves are kept aside; the article itself does not change until saved.
    let r = b
        .post(&format!("{path}/autosave"), &article_form(&csrf, "Typed, then the tab closed", "draft", "1"))
        .await;
    assert_eq!(r.status(), 200);
    let (_, editor) = b.get(&path).await;
    assert!(editor.contains("value=\"Typed but never saved\""));
    assert!(editor.contains("You have unsaved changes"), "the editor offers the autosave back");
    let restore = editor.split("?revision=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (_, restored) = b.get(&format!("{path}?revision={restore}")).await;
    assert!(restored.contains("value=\"Typed, then the tab closed\""));

    // The live preview renders with the site's code, and needs the token.
    let preview = app
        .client
        .post(format!("{}/admin/preview", app.base))
        .header("cookie", b.cookie_header())
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({ "body": "> [!PULLQUOTE]\n> Quote\n\n<script>x</script>" }))
        .send()
        .await
        .unwrap();
    let html = preview.json::<serde_json::Value>().await.unwrap()["html"].as_str().unwrap().to_owned();
    assert!(html.contains("pullquote") && !html.contains("<script"));
    let forged = app
        .client
        .post(format!("{}/admin/preview", app.base))
        .header("cookie", b.cookie_header())
        .json(&serde_json::json!({ "body": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

on_both_stores!(editors_manage_sections_and_tags_and_others_cannot);

async fn editors_manage_sections_and_tags_and_others_cannot(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    accounts::create_user(&app.db, "au@example.com", "Au Thor", Role::Author, PASSWORD).await.unwrap();
    let mut author = Browser::new(&app);
    author.sign_in("au@example.com", PASSWORD).await;
    let author_csrf = author.csrf().await;
    let opinion_id = app.site.get().section_by_slug("opinion").unwrap().id;
    let tags = gazette::storage::taxonomy::tags_with_counts(&app.db).await.unwrap();
    let column = tags.iter().find(|t| t.slug == "column").unwrap();
    let editorial = tags.iter().find(|t| t.slug == "editorial").unwrap();
    // An author gets 403 everywhere here, and nothing changes.
    assert_eq!(author.get("/admin/sections").await.0, 403);
    assert_eq!(author.get("/admin/tags").await.0, 403);
    let del = format!("/admin/sections/{opinion_id}/delete");
    assert_eq!(author.post(&del, &[("_csrf", &author_csrf), ("move_to", "news")]).await.status(), 403);
    let tag = format!("/admin/tags/{}", column.id);
    assert_eq!(author.post(&tag, &[("_csrf", &author_csrf), ("delete", "1")]).await.status(), 403);
    assert_eq!(
        author.post("/admin/sections", &[("_csrf", &author_csrf), ("name", "Weather")]).await.status(),
        403
    );
    app.page("/section/opinion/", 200).await;
    app.page("/tag/column/", 200).await;
    app.page("/section/weather/", 404).await;

    let mut ed = Browser::new(&app);
    ed.sign_in("ed@example.com", PASSWORD).await;
    let csrf = ed.csrf().await;
    assert_eq!(
        ed.post("/admin/sections", &[("_csrf", &csrf), ("name", "Weather"), ("position", "9")])
            .await
            .status(),
        303
    );
    assert!(app.page("/", 200).await.contains("href=\"/section/weather/\""), "in the menu at once");
    let (_, page) = ed.get(&format!("/admin/sections/{opinion_id}")).await;
    assert!(page.contains("will move to the section you choose"), "the page says what happens");
    assert_eq!(ed.post(&del, &[("_csrf", &csrf), ("move_to", "")]).await.status(), 422);
    assert_eq!(ed.post(&del, &[("_csrf", &csrf), ("move_to", "news")]).await.status(), 303);
    app.page("/section/opinion/", 404).await;
    let mut news = String::new();
    for page in 1..=2 {
        news.push_str(&app.page(&format!("/section/news/?page={page}"), 200).await);
    }
    assert!(news.contains("Whoever wins, the next mayor"), "opinion pieces moved to News");

    let merge = format!("/admin/tags/{}", column.id);
    assert_eq!(ed.post(&merge, &[("_csrf", &csrf), ("merge_into", "editorial")]).await.status(), 303);
    app.page("/tag/column/", 404).await;
    assert!(app.page("/tag/editorial/", 200).await.contains("Fishermen and turbines can share the sea"));
    let rename = format!("/admin/tags/{}", editorial.id);
    assert_eq!(ed.post(&rename, &[("_csrf", &csrf), ("name", "Our view")]).await.status(), 303);
    app.page("/tag/our-view/", 200).await;
    assert_eq!(ed.post(&rename, &[("_csrf", &csrf), ("delete", "1")]).await.status(), 303);
    app.page("/tag/our-view/", 404).await;
}

on_both_stores!(administrators_manage_users_settings_and_pages);

async fn administrators_manage_users_settings_and_pages(app: TestApp) {
    staff(&app, "boss@example.com", "Boss", Role::Administrator).await;
    accounts::create_user(&app.db, "ed@example.com", "Ed Itor", Role::Editor, PASSWORD).await.unwrap();
    let mut ed = Browser::new(&app);
    ed.sign_in("ed@example.com", PASSWORD).await;
    let ed_csrf = ed.csrf().await;
    // Editors: no users, no settings; pages yes.
    assert_eq!(ed.get("/admin/users").await.0, 403);
    assert_eq!(ed.get("/admin/settings").await.0, 403);
    let grab = [
        ("_csrf", ed_csrf.as_str()),
        ("email", "x@example.com"),
        ("name", "X"),
        ("role", "administrator"),
        ("password", PASSWORD),
    ];
    assert_eq!(ed.post("/admin/users", &grab).await.status(), 403);
    assert_eq!(ed.post("/admin/settings", &[("_csrf", &ed_csrf), ("name", "Hacked")]).await.status(), 403);
    assert!(!app.page("/", 200).await.contains("Hacked"));
    assert!(
        accounts::sign_in(&app.db, "x@example.com", PASSWORD, "test", None).await.is_err(),
        "no user was made"
    );
    let page = [
        ("_csrf", ed_csrf.as_str()),
        ("title", "Corrections policy"),
        ("body", "We correct errors openly."),
        ("published", "on"),
    ];
    assert_eq!(ed.post("/admin/pages", &page).await.status(), 303);
    assert!(app.page("/corrections-policy/", 200).await.contains("We correct errors openly."));
    let home = app.page("/", 200).await;
    assert!(!home.contains("href=\"/corrections-policy/\""), "not linked in the footer unless chosen");
    let linked = [
        ("_csrf", ed_csrf.as_str()),
        ("title", "Ethics code"),
        ("body", "We name our sources when we can."),
        ("published", "on"),
        ("in_footer", "on"),
    ];
    assert_eq!(ed.post("/admin/pages", &linked).await.status(), 303);
    let home = app.page("/", 200).await;
    assert!(home.contains("href=\"/ethics-code/\"") && !home.contains("href=\"/corrections-policy/\""));
    let year = [("_csrf", ed_csrf.as_str()), ("title", "2026"), ("body", "x")];
    assert_eq!(ed.post("/admin/pages", &year).await.status(), 422, "a page cannot shadow a year archive");

    let mut boss = Browser::new(&app);
    boss.sign_in("boss@example.com", PASSWORD).await;
    let csrf = boss.csrf().await;
    let settings = [
        ("_csrf", csrf.as_str()),
        ("name", "The Calder Evening Post"),
        ("tagline", "Evenings since 1902"),
        ("description", ""),
        ("language", "en-GB"),
        ("timezone", "Not/AZone"),
        ("per_page", "10"),
        ("permalink", "slug"),
    ];
    assert_eq!(boss.post("/admin/settings", &settings).await.status(), 422);
    let mut good = settings.to_vec();
    good[5] = ("timezone", "Europe/Oslo");
    assert_eq!(boss.post("/admin/settings", &good).await.status(), 200);
    let home = app.page("/", 200).await;
    assert!(home.contains("The Calder Evening Post") && home.contains("lang=\"en-GB\""));
    let link = crate::helpers::hrefs(&home)
        .into_iter()
        .find(|h| h.ends_with("/amadi-wins-mayoralty-by-412-votes/"))
        .unwrap();
    assert_eq!(link, "/amadi-wins-mayoralty-by-412-votes/", "slug addresses now");

    // Demote the editor: their next click already carries the new role.
    let users = gazette::storage::users::list(&app.db).await.unwrap();
    let ed_id = users.iter().find(|u| u.email == "ed@example.com").unwrap().id;
    let me = users.iter().find(|u| u.email == "boss@example.com").unwrap().id;
    let change = format!("/admin/users/{ed_id}");
    assert_eq!(boss.post(&change, &[("_csrf", &csrf), ("role", "contributor")]).await.status(), 303);
    assert_eq!(ed.get("/admin/pages").await.0, 403);
    // The last administrator cannot be demoted or removed (the demo has another one: remove it).
    let demo_admin = users.iter().find(|u| u.email == "admin@harbourcourier.example").unwrap().id;
    let demo_path = format!("/admin/users/{demo_admin}");
    assert_eq!(boss.post(&demo_path, &[("_csrf", &csrf), ("delete", "1")]).await.status(), 303);
    let me_path = format!("/admin/users/{me}");
    assert_eq!(boss.post(&me_path, &[("_csrf", &csrf), ("role", "editor")]).await.status(), 422);
    assert_eq!(boss.post(&me_path, &[("_csrf", &csrf), ("delete", "1")]).await.status(), 422);
    // Removing a user ends their session at once.
    assert_eq!(boss.post(&change, &[("_csrf", &csrf), ("delete", "1")]).await.status(), 303);
    assert_eq!(ed.get("/admin/articles").await.0, 303);
}

on_both_stores!(every_admin_action_refuses_the_roles_that_may_not_do_it);

/// For every admin action: each role below the one it needs gets 403, and nothing changes
/// (no content event, no new user, no new session-visible state).
async fn every_admin_action_refuses_the_roles_that_may_not_do_it(app: TestApp) {
    staff(&app, "owner@example.com", "Owner Editor", Role::Editor).await;
    let mut owner = Browser::new(&app);
    owner.sign_in("owner@example.com", PASSWORD).await;
    let csrf = owner.csrf().await;
    let r = owner
        .post("/admin/articles/new", &article_form(&csrf, "The editor's own story", "published", "0"))
        .await;
    let article = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    // The related lists the new story changes are written now, not during the checks below.
    app.refresh().await;
    let section = app.site.get().section_by_slug("news").unwrap().id;
    let tag = gazette::storage::taxonomy::tags_with_counts(&app.db).await.unwrap()[0].id;
    let page = gazette::storage::pages::all(&app.db).await.unwrap()[0].id;
    let user = gazette::storage::users::list(&app.db).await.unwrap()[0].id;
    let byline = gazette::storage::people::find_by_slug(&app.db, "maeve-okonjo").await.unwrap().unwrap().id;

    // (path, form fields besides _csrf, the lowest role allowed)
    let form = |f: &[(&'static str, &'static str)]| f.to_vec();
    type Action = (String, Vec<(&'static str, &'static str)>, Role);
    let actions: Vec<Action> = vec![
        (
            article.clone(),
            form(&[
                ("headline", "Changed"),
                ("status", "draft"),
                ("primary_section", "news"),
                ("version", "1"),
            ]),
            Role::Editor,
        ),
        (
            format!("{article}/autosave"),
            form(&[("headline", "Changed"), ("status", "draft"), ("primary_section", "news")]),
            Role::Editor,
        ),
        (format!("{article}/preview"), form(&[]), Role::Editor),
        (format!("{article}/preview/revoke"), form(&[]), Role::Editor),
        ("/admin/sections".into(), form(&[("name", "Weather")]), Role::Editor),
        (format!("/admin/sections/{section}"), form(&[("name", "Renamed")]), Role::Editor),
        (format!("/admin/sections/{section}/delete"), form(&[("move_to", "politics")]), Role::Editor),
        (format!("/admin/tags/{tag}"), form(&[("delete", "1")]), Role::Editor),
        ("/admin/pages".into(), form(&[("title", "New page")]), Role::Editor),
        ("/admin/authors".into(), form(&[("name", "New Freelancer")]), Role::Editor),
        (
            format!("/admin/authors/{byline}"),
            form(&[("delete", "1"), ("replacement", "ines-ferreira")]),
            Role::Editor,
        ),
        (format!("/admin/pages/{page}"), form(&[("title", "Renamed"), ("delete", "1")]), Role::Editor),
        (
            "/admin/users".into(),
            form(&[
                ("email", "n@example.com"),
                ("name", "N"),
                ("role", "administrator"),
                ("password", PASSWORD),
            ]),
            Role::Administrator,
        ),
        (format!("/admin/users/{user}"), form(&[("delete", "1")]), Role::Administrator),
        (
            "/admin/settings".into(),
            form(&[
                ("name", "Taken over"),
                ("timezone", "UTC"),
                ("per_page", "5"),
                ("permalink", "slug"),
                ("language", "en"),
            ]),
            Role::Administrator,
        ),
    ];
    let pages_to_view: Vec<(String, Role)> = vec![
        (article.clone(), Role::Editor),
        (format!("{article}/revisions"), Role::Editor),
        ("/admin/sections".into(), Role::Editor),
        ("/admin/tags".into(), Role::Editor),
        ("/admin/pages".into(), Role::Editor),
        ("/admin/authors".into(), Role::Editor),
        (format!("/admin/authors/{byline}"), Role::Editor),
        ("/admin/users".into(), Role::Administrator),
        ("/admin/settings".into(), Role::Administrator),
    ];
    for (i, role) in [Role::Contributor, Role::Author, Role::Editor].into_iter().enumerate() {
        let email = format!("r{i}@example.com");
        accounts::create_user(&app.db, &email, &format!("Role {i}"), role, PASSWORD).await.unwrap();
        let mut b = Browser::new(&app);
        b.sign_in(&email, PASSWORD).await;
        let token = b.csrf().await;
        for (path, need) in &pages_to_view {
            if role < *need {
                assert_eq!(b.get(path).await.0, 403, "{role} GET {path}");
            }
        }
        for (path, fields, need) in &actions {
            if role >= *need {
                continue;
            }
            let before = gazette::storage::events::latest_id(&app.db).await.unwrap();
            let users_before = gazette::storage::users::count(&app.db).await.unwrap();
            let mut body: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
            body.extend(fields.iter().copied());
            let status = b.post(path, &body).await.status();
            assert_eq!(status, 403, "{role} POST {path}");
            assert_eq!(
                gazette::storage::events::latest_id(&app.db).await.unwrap(),
                before,
                "{role} POST {path} changed content"
            );
            assert_eq!(
                gazette::storage::users::count(&app.db).await.unwrap(),
                users_before,
                "{role} POST {path}"
            );
        }
    }
    let (_, editor) = owner.get(&article).await;
    assert!(editor.contains("value=\"The editor&#39;s own story\""), "the article is untouched");
    assert!(editor.contains("0 links active"), "no preview link was made");
}

on_both_stores!(editors_manage_authors_and_administrators_set_the_logo);

async fn editors_manage_authors_and_administrators_set_the_logo(app: TestApp) {
    staff(&app, "boss@example.com", "Boss", Role::Administrator).await;
    let mut b = Browser::new(&app);
    b.sign_in("boss@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let new = [
        ("_csrf", csrf.as_str()),
        ("name", "Freya Lindgren"),
        ("bio", "Freelance photographer on the Calder coast."),
    ];
    assert_eq!(b.post("/admin/authors", &new).await.status(), 303);
    assert!(app.page("/author/freya-lindgren/", 200).await.contains("Freelance photographer"));
    let freya = gazette::storage::people::find_by_slug(&app.db, "freya-lindgren").await.unwrap().unwrap().id;
    let photo = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(tiny_png()).file_name("freya.png"));
    let r = app
        .client
        .post(format!("{}/admin/authors/{freya}/photo", app.base))
        .header("cookie", b.cookie_header())
        .multipart(photo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    crate::media::all_ready(&app).await; // pages leave a picture out until its files are made
    assert!(app.page("/author/freya-lindgren/", 200).await.contains("class=\"author-photo\""));

    // Deleting an author with articles needs someone to take over the byline.
    let maeve = gazette::storage::people::find_by_slug(&app.db, "maeve-okonjo").await.unwrap().unwrap().id;
    let path = format!("/admin/authors/{maeve}");
    let (_, page) = b.get(&path).await;
    assert!(page.contains("passes to the author you choose"), "the page says what happens");
    assert_eq!(b.post(&path, &[("_csrf", &csrf), ("delete", "1")]).await.status(), 422);
    assert_eq!(
        b.post(&path, &[("_csrf", &csrf), ("delete", "1"), ("replacement", "freya-lindgren")]).await.status(),
        303
    );
    app.page("/author/maeve-okonjo/", 404).await;
    assert!(app.page("/author/freya-lindgren/", 200).await.contains("Swing bridge closed"));

    let logo = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(tiny_png()).file_name("logo.png"));
    let r = app
        .client
        .post(format!("{}/admin/settings/logo", app.base))
        .header("cookie", b.cookie_header())
        .multipart(logo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    crate::media::all_ready(&app).await;
    assert!(app.page("/", 200).await.contains("<img class=\"logo\" src=\"/media/"));

    // An author may not set the logo.
    accounts::create_user(&app.db, "au@example.com", "Au Thor", Role::Author, PASSWORD).await.unwrap();
    let mut au = Browser::new(&app);
    au.sign_in("au@example.com", PASSWORD).await;
    let au_csrf = au.csrf().await;
    let logo = reqwest::multipart::Form::new().text("_csrf", au_csrf).text("remove", "1");
    let r = app
        .client
        .post(format!("{}/admin/settings/logo", app.base))
        .header("cookie", au.cookie_header())
        .multipart(logo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.page("/", 200).await.contains("<img class=\"logo\""), "unchanged");
}

on_both_stores!(every_workflow_transition_works_and_shows_on_the_site);

async fn every_workflow_transition_works_and_shows_on_the_site(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    let mut b = Browser::new(&app);
    b.sign_in("ed@example.com", PASSWORD).await;
    let csrf = b.csrf().await;
    let headline = "Lifeboat crew rescues three";
    let r = b.post("/admin/articles/new", &article_form(&csrf, headline, "draft", "0")).await;
    let path = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    let mut version = 1;
    for (status, visible) in [
        ("pending", false),
        ("published", true),
        ("unpublished", false),
        ("published", true),
        ("trashed", false),
        ("draft", false),
    ] {
        let v = version.to_string();
        let r = b.post(&path, &article_form(&csrf, headline, status, &v)).await;
        assert_eq!(r.status(), 303, "to {status}");
        version += 1;
        app.refresh().await;
        let found = app.page("/search?q=lifeboat", 200).await.contains(&format!(">{headline}</a>"));
        assert_eq!(found, visible, "{status}: visible on the site");
        let (_, editor) = b.get(&path).await;
        assert!(editor.contains(&format!("status-{status}")), "{status} shown in the editor");
    }
    // Trash is kept 30 days, then purged with a content event.
    assert_eq!(
        b.post(&path, &article_form(&csrf, headline, "trashed", &version.to_string())).await.status(),
        303
    );
    assert_eq!(gazette::content::purge_trash(&app.db).await.unwrap(), 0, "not before 30 days");
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(
        &mut tx,
        "UPDATE articles SET updated_at = updated_at - 31 * 86400 WHERE status = 'trashed'"
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(gazette::content::purge_trash(&app.db).await.unwrap(), 1);
    assert_eq!(b.get(&path).await.0, 404);
}

/// The headline of the front page's lead story.
async fn lead(app: &TestApp) -> String {
    let home = app.page("/", 200).await;
    let after = home.split("class=\"lead-title\"").nth(1).expect("a lead story");
    after.split("</h3>").next().unwrap().to_owned()
}

async fn sticky(app: &TestApp, slug: &str) -> i64 {
    gazette::fetch_one!(&app.db, (i64,), "SELECT sticky FROM articles WHERE slug = $1", slug).unwrap().0
}

async fn editors_choose_what_stays_on_top_and_authors_cannot(app: TestApp) {
    staff(&app, "ed@example.com", "Ed Itor", Role::Editor).await;
    accounts::create_user(&app.db, "au@example.com", "Au Thor", Role::Author, PASSWORD).await.unwrap();
    let mut au = Browser::new(&app);
    au.sign_in("au@example.com", PASSWORD).await;
    let csrf = au.csrf().await;
    let (_, editor) = au.get("/admin/articles/new").await;
    assert!(!editor.contains("name=\"sticky\""), "authors are not offered the choice");

    // An author's forged "sticky" is ignored: the story is published, not pinned.
    let mut form = article_form(&csrf, "An author would like the lead", "published", "0");
    form.push(("sticky", "on"));
    assert_eq!(au.post("/admin/articles/new", &form).await.status(), 303);
    assert_eq!(sticky(&app, "an-author-would-like-the-lead").await, 0);
    app.refresh().await;
    assert!(lead(&app).await.contains("An author would like the lead"), "the newest leads");

    // An editor pins an older story: it leads the front page above newer ones.
    let mut ed = Browser::new(&app);
    ed.sign_in("ed@example.com", PASSWORD).await;
    let csrf = ed.csrf().await;
    let (_, editor) = ed.get("/admin/articles/new").await;
    assert!(editor.contains("name=\"sticky\""));
    let mut form = article_form(&csrf, "The harbour inquiry, explained", "published", "0");
    form.retain(|(k, _)| *k != "publish_at");
    form.push(("publish_at", "2026-01-05T08:00"));
    form.push(("sticky", "on"));
    assert_eq!(ed.post("/admin/articles/new", &form).await.status(), 303);
    app.refresh().await;
    assert!(lead(&app).await.contains("The harbour inquiry, explained"), "{}", lead(&app).await);
    // The editor pins the author's story too; newest sticky first.
    let id = gazette::fetch_one!(
        &app.db,
        (i64,),
        "SELECT id FROM articles WHERE slug = 'an-author-would-like-the-lead'"
    )
    .unwrap()
    .0;
    let mut form = article_form(&csrf, "An author would like the lead", "published", "1");
    form.push(("sticky", "on"));
    assert_eq!(ed.post(&format!("/admin/articles/{id}"), &form).await.status(), 303);
    app.refresh().await;
    assert!(lead(&app).await.contains("An author would like the lead"));
    // Saving their own story again, the author cannot unpin it (the form has no say).
    let csrf = au.csrf().await;
    let form = article_form(&csrf, "An author would like the lead", "published", "2");
    assert_eq!(au.post(&format!("/admin/articles/{id}"), &form).await.status(), 303);
    assert_eq!(sticky(&app, "an-author-would-like-the-lead").await, 1);
    let (_, editor) = au.get(&format!("/admin/articles/{id}")).await;
    assert!(editor.contains("An editor keeps this story at the top of the front page."));
    // Unpinned by the editor, the old story goes back to its place in time.
    let csrf = ed.csrf().await;
    let form = article_form(&csrf, "An author would like the lead", "published", "3");
    assert_eq!(ed.post(&format!("/admin/articles/{id}"), &form).await.status(), 303);
    app.refresh().await;
    assert!(lead(&app).await.contains("The harbour inquiry, explained"));
}
