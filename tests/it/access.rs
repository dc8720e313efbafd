//! Who may do what, route by route: every route of the admin's and readers' route tables
//! (`gazette::web::admin::ROUTES`, `PUBLIC_ROUTES`, `READER_FORM_ROUTES`) and every operation of
//! the API's own description (`/api/openapi.json`) is tried by anonymous and by each role, and
//! the outcome compared with the one table of rules below. A route without a rule fails the
//! test, so a new route cannot arrive without saying who may use it.
//!
//! Outcomes: `Refused` is a 403, an anonymous visitor sent to sign in (303 to /admin), or a 401;
//! anything else is `Let` (the handler ran: 200, a redirect after success, 400 or 422 for the
//! empty form, 404 for a placeholder that names nothing). Each role gets its own fresh demo site,
//! so one role's changes (a section deleted) cannot decide another's outcome.

use std::collections::BTreeMap;

use gazette::domain::Role;
use gazette::web::api::auth::Scope;

use crate::admin::{Browser, field};
use crate::helpers::TestApp;

const DEMO_PASSWORD: &str = "courier-demo";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Contributor,
    Author,
    Editor,
    Administrator,
}

const EVERYONE: [Who; 5] = [Who::Anonymous, Who::Contributor, Who::Author, Who::Editor, Who::Administrator];

impl Who {
    fn email(self) -> Option<&'static str> {
        match self {
            Who::Anonymous => None,
            Who::Contributor => Some("priya@harbourcourier.example"),
            Who::Author => Some("tomasz@harbourcourier.example"),
            Who::Editor => Some("maeve@harbourcourier.example"),
            Who::Administrator => Some("admin@harbourcourier.example"),
        }
    }
}

/// The rules: the least role that may use a route (`Anonymous`: everyone). The objects named
/// by `{id}` belong to someone else (an editor's article, another user), so "may use" means
/// "may use on others' things"; owners' rights are tested where each feature is.
fn rule(method: &str, path: &str) -> Option<Who> {
    use Who::*;
    Some(match (method, path) {
        // Readers' pages, feeds, files and forms.
        ("get", p) if !p.starts_with("/admin") && !p.starts_with("/api") => Anonymous,
        ("post", "/comments") => Anonymous,
        // Signing in and out.
        ("get", "/admin" | "/admin/") | ("post", "/admin/login") => Anonymous,
        ("post", "/admin/logout") => Contributor,
        // Everyone on the staff writes, previews and sees their own lists.
        ("get", "/admin/articles" | "/admin/articles/new") => Contributor,
        // The comments on their own articles.
        ("get", "/admin/comments") => Author,
        ("post", "/admin/articles/new" | "/admin/articles/autosave" | "/admin/preview") => Contributor,
        ("get", "/admin/tokens") | ("post", "/admin/tokens") => Contributor,
        ("get", "/admin/media" | "/admin/media/{id}") | ("post", "/admin/media") => Contributor,
        // Others' articles, and the comments on them.
        ("get", "/admin/articles/{id}" | "/admin/articles/{id}/revisions") => Editor,
        (
            "post",
            "/admin/articles/{id}"
            | "/admin/articles/{id}/autosave"
            | "/admin/articles/{id}/image"
            | "/admin/articles/{id}/preview"
            | "/admin/articles/{id}/preview/revoke"
            | "/admin/articles/{id}/related",
        ) => Editor,
        ("post", "/admin/comments") => Author,
        ("get", "/admin/comments/{id}") | ("post", "/admin/comments/{id}" | "/admin/comments/{id}/reply") => {
            Editor
        }
        // The library is shared: authors describe and replace any picture (docs/MEDIA.md),
        // editors delete (a form field of the same route, tested in tests/it/media.rs).
        ("post", "/admin/media/{id}" | "/admin/media/{id}/replace") => Author,
        // Another's token.
        ("post", "/admin/tokens/{id}/revoke") => Administrator,
        // The site's structure and the desk.
        (
            "get",
            "/admin/sections"
            | "/admin/sections/{id}"
            | "/admin/tags"
            | "/admin/authors"
            | "/admin/authors/{id}",
        ) => Editor,
        (
            "post",
            "/admin/sections" | "/admin/sections/{id}" | "/admin/sections/{id}/delete" | "/admin/tags/{id}",
        ) => Editor,
        ("post", "/admin/authors" | "/admin/authors/{id}" | "/admin/authors/{id}/photo") => Editor,
        ("get", "/admin/pages" | "/admin/pages/{id}") | ("post", "/admin/pages" | "/admin/pages/{id}") => {
            Editor
        }
        ("get", "/admin/discussion") | ("post", "/admin/discussion") => Administrator,
        // Administration.
        ("get", "/admin/users" | "/admin/settings" | "/admin/webhooks" | "/admin/webhooks/{id}") => {
            Administrator
        }
        ("post", "/admin/users" | "/admin/users/{id}" | "/admin/settings" | "/admin/settings/logo") => {
            Administrator
        }
        (
            "post",
            "/admin/webhooks" | "/admin/webhooks/{id}" | "/admin/webhooks/{id}/deliveries/{delivery}",
        ) => Administrator,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Let,
    Refused,
}

fn outcome(who: Who, status: u16, location: &str) -> Outcome {
    match status {
        401 | 403 => Outcome::Refused,
        // Sent to sign in (for staff, the same answer is where signing out leads).
        303 if who == Who::Anonymous && (location == "/admin" || location.starts_with("/admin?")) => {
            Outcome::Refused
        }
        _ => Outcome::Let,
    }
}

/// Routes whose form carries a file: posted as multipart, as a browser would.
fn is_upload(method: &str, path: &str) -> bool {
    method == "post"
        && (path == "/admin/media"
            || ["/photo", "/logo", "/image", "/replace"].iter().any(|e| path.ends_with(e)))
}

/// Ids of things that belong to nobody in particular or to someone else.
async fn placeholders(app: &TestApp) -> BTreeMap<&'static str, String> {
    let one = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            gazette::fetch_one!(&db, (i64,), sqlx::AssertSqlSafe(sql))
                .map(|r| r.0.to_string())
                .unwrap_or_else(|_| "1".into())
        }
    };
    let mut p = BTreeMap::new();
    p.insert("article", one("SELECT a.id FROM articles a JOIN users u ON u.id = a.created_by WHERE u.role IN ('editor', 'administrator') ORDER BY a.id LIMIT 1").await);
    p.insert("any_article", one("SELECT id FROM articles ORDER BY id LIMIT 1").await);
    p.insert("section", one("SELECT id FROM sections ORDER BY id DESC LIMIT 1").await);
    p.insert("tag", one("SELECT id FROM tags ORDER BY id LIMIT 1").await);
    p.insert("page", one("SELECT id FROM pages ORDER BY id LIMIT 1").await);
    p.insert("user", one("SELECT id FROM users WHERE role = 'author' ORDER BY id LIMIT 1").await);
    p.insert("comment", one("SELECT id FROM comments ORDER BY id LIMIT 1").await);
    p.insert("author", one("SELECT id FROM authors ORDER BY id LIMIT 1").await);
    p.insert("picture", one("SELECT id FROM pictures ORDER BY id LIMIT 1").await);
    p.insert("token", one("SELECT id FROM api_tokens ORDER BY id LIMIT 1").await);
    p.insert("webhook", one("SELECT id FROM webhooks ORDER BY id LIMIT 1").await);
    p
}

fn fill(path: &str, p: &BTreeMap<&'static str, String>) -> String {
    let id = |key: &str| p.get(key).cloned().unwrap_or_else(|| "1".into());
    let which = match path {
        _ if path.starts_with("/admin/articles/") => "article",
        _ if path.starts_with("/admin/sections/") => "section",
        _ if path.starts_with("/admin/tags/") => "tag",
        _ if path.starts_with("/admin/pages/") => "page",
        _ if path.starts_with("/admin/users/") => "user",
        _ if path.starts_with("/admin/comments/") => "comment",
        _ if path.starts_with("/admin/authors/") => "author",
        _ if path.starts_with("/admin/media/") => "picture",
        _ if path.starts_with("/admin/tokens/") => "token",
        _ if path.starts_with("/admin/webhooks/") => "webhook",
        _ => "any_article",
    };
    path.replace("{id}", &id(which))
        .replace("{delivery}", "1")
        .replace("{token}", "not-a-token")
        .replace("{file}", "x.css")
        .replace("{kind}", "section")
        .replace("{slug}", "news")
        .replace("{version}", "1")
        .replace("{name}", "x.jpg")
        .replace("{a}", "2026")
        .replace("{b}", "11")
        .replace("{c}", "20")
        .replace("{y}", "2026")
        .replace("{m}", "11")
        .replace("{d}", "20")
}

/// The outcome of every table route for one visitor, on a fresh demo site of its own.
async fn try_every_route(who: Who) -> Vec<(String, String, u16, Outcome)> {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    // Things for the ids to name: a token and a picture of the administrator's.
    let admin_email = Who::Administrator.email().unwrap();
    crate::api_admin::token(&app, admin_email, Role::Administrator, &[Scope::DraftsRead]).await;
    let admin: (i64,) =
        gazette::fetch_one!(&app.db, (i64,), "SELECT id FROM users WHERE email = $1", admin_email).unwrap();
    // A picture the administrator added.
    let store = gazette::media::store::MediaStore::open(&app.config.media, &app.config.data_dir).unwrap();
    let description = gazette::storage::pictures::Description {
        alt: "Gulls".into(),
        caption: String::new(),
        credit: String::new(),
        focus: (5000, 5000),
    };
    gazette::media::library::add(
        &app.db,
        &store,
        &crate::helpers::png(40),
        "gulls.png",
        &description,
        Some(admin.0),
    )
    .await
    .unwrap();
    let p = placeholders(&app).await;
    let mut b = Browser::new(&app);
    let mut csrf = String::new();
    if let Some(email) = who.email() {
        assert_eq!(b.sign_in(email, DEMO_PASSWORD).await.status(), 303, "{email} signs in");
        let (_, html) = b.get("/admin/articles").await;
        csrf = field(&html, "_csrf");
        assert!(!csrf.is_empty(), "{who:?}: no CSRF token");
    }
    let mut routes: Vec<(&str, &str)> = gazette::web::admin::ROUTES
        .iter()
        .chain(gazette::web::PUBLIC_ROUTES)
        .chain(gazette::web::READER_FORM_ROUTES)
        .copied()
        .collect();
    // Reads first, then changes; signing out last.
    routes.sort_by_key(|(m, p)| (*m != "get", p.ends_with("/logout"), p.ends_with("/delete")));
    let mut out = Vec::new();
    for (method, path) in routes {
        let url = fill(path, &p);
        let r = if is_upload(method, path) {
            app.client
                .post(format!("{}{url}", app.base))
                .header("cookie", b.cookie_header())
                .multipart(reqwest::multipart::Form::new().text("_csrf", csrf.clone()).text("alt", "x"))
                .send()
                .await
                .unwrap()
        } else if method == "get" {
            app.client
                .get(format!("{}{url}", app.base))
                .header("cookie", b.cookie_header())
                .send()
                .await
                .unwrap()
        } else {
            app.client
                .post(format!("{}{url}", app.base))
                .header("cookie", b.cookie_header())
                .header("x-csrf-token", &csrf)
                .form(&[("_csrf", csrf.as_str())])
                .send()
                .await
                .unwrap()
        };
        let status = r.status().as_u16();
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(status < 500, "{who:?} {method} {url}: {status}");
        out.push((
            method.to_owned(),
            format!("{path} -> {location}"),
            status,
            outcome(who, status, &location),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_the_rules_say() {
    let mut missing = Vec::new();
    for (method, path) in gazette::web::admin::ROUTES
        .iter()
        .chain(gazette::web::PUBLIC_ROUTES)
        .chain(gazette::web::READER_FORM_ROUTES)
    {
        if rule(method, path).is_none() {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(missing.is_empty(), "routes without a rule in tests/it/access.rs: {missing:?}");
    let mut wrong = Vec::new();
    let mut tried = 0;
    for who in EVERYONE {
        for (method, shown, status, got) in try_every_route(who).await {
            let path = shown.split(" -> ").next().unwrap();
            let least = rule(&method, path).unwrap();
            let expected = if who >= least { Outcome::Let } else { Outcome::Refused };
            // Anonymous visitors may be let in to a page that asks them to sign in.
            if got != expected {
                wrong
                    .push(format!("{who:?} {method} {path}: {status} ({got:?}), the rule says {expected:?}"));
            }
            tried += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {tried} outcomes differ from the rules:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every operation of the API's own description, by token: none, a token of each role with
/// every scope, and a token of the highest role without the operation's scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_operation_answers_each_token_as_the_rules_say() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    let spec: serde_json::Value = serde_json::from_str(&app.page("/api/openapi.json", 200).await).unwrap();
    let p = placeholders(&app).await;
    let mut tokens = Vec::new();
    for who in EVERYONE.into_iter().skip(1) {
        let token = crate::api_admin::token(&app, who.email().unwrap(), Role::Contributor, &Scope::ALL).await;
        tokens.push((who, token));
    }
    let mut wrong = Vec::new();
    let mut tried = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let scope = op["security"][0]["token"][0].as_str();
            let url = path.replace("{id}", &p["article"]);
            let least = api_rule(method, path, scope);
            let Some(least) = least else {
                wrong.push(format!("{method} {path}: no rule"));
                continue;
            };
            let send = |token: Option<&str>| {
                let mut r = app
                    .client
                    .request(method.to_uppercase().parse().unwrap(), format!("{}{url}", app.base))
                    .header("content-type", "application/json")
                    .body("{}");
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                r.send()
            };
            let status = send(None).await.unwrap().status().as_u16();
            let got = outcome(Who::Anonymous, status, "");
            let expected = if least == Who::Anonymous { Outcome::Let } else { Outcome::Refused };
            if got != expected {
                wrong.push(format!("no token {method} {path}: {status}, the rule says {expected:?}"));
            }
            for (who, token) in &tokens {
                let status = send(Some(token)).await.unwrap().status().as_u16();
                assert!(status < 500, "{who:?} {method} {path}: {status}");
                let got = outcome(*who, status, "");
                let expected = if *who >= least { Outcome::Let } else { Outcome::Refused };
                if got != expected {
                    wrong.push(format!("{who:?} {method} {path}: {status}, the rule says {expected:?}"));
                }
                tried += 1;
            }
            // The administrator's token without this operation's scope.
            if let Some(scope) = scope {
                let others: Vec<Scope> = Scope::ALL.into_iter().filter(|s| s.as_str() != scope).collect();
                let less = crate::api_admin::token(
                    &app,
                    Who::Administrator.email().unwrap(),
                    Role::Administrator,
                    &others,
                )
                .await;
                let status = send(Some(&less)).await.unwrap().status().as_u16();
                if status != 403 {
                    wrong.push(format!("without {scope}: {method} {path}: {status}, the rule says 403"));
                }
            }
        }
    }
    assert!(tried > 40, "{tried}");
    assert!(wrong.is_empty(), "{} outcomes differ from the rules:\n{}", wrong.len(), wrong.join("\n"));
}

/// The API's rules: the least role, with a token that has the operation's scope.
fn api_rule(method: &str, path: &str, scope: Option<&str>) -> Option<Who> {
    use Who::*;
    Some(match (method, path, scope) {
        // Another's article (an editor's).
        (_, "/api/v1/admin/articles/{id}", Some(_)) => Editor,
        (_, p, None) if p.starts_with("/api/v1/") && !p.starts_with("/api/v1/admin") => Anonymous,
        (_, _, Some("drafts:read" | "articles:write" | "media:write")) => Contributor,
        (_, _, Some("articles:publish" | "comments:moderate")) => Author,
        _ => return None,
    })
}
