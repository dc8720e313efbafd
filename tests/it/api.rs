//! The JSON Content API (`/api/v1/`), its OpenAPI description and reference page: what it
//! lists and how it pages, what one article carries, caching like pages, and problem documents
//! for every bad request.

use gazette::domain::ArticleStatus;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::{TestApp, article};
use crate::on_both_stores;

on_both_stores!(
    articles_are_listed_newest_first_filtered_and_paged_without_repeats,
    an_article_carries_its_bylines_terms_picture_and_comments,
    bad_requests_get_problem_documents_and_nothing_else,
);

async fn get_json(app: &TestApp, path: &str) -> (u16, HeaderMap, Value) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.unwrap();
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"));
    (status, headers, value)
}

async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, headers, value) = get_json(app, path).await;
    assert_eq!(status, 200, "GET {path}: {value}");
    assert_eq!(headers["content-type"], "application/json", "{path}");
    value
}

fn ids(list: &Value) -> Vec<i64> {
    list["articles"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

/// Five stories over five days in two sections, and a draft that must never show.
async fn site(app: &TestApp) -> Vec<i64> {
    app.newsroom().await;
    let mut ids = Vec::new();
    for (i, (slug, section, author)) in [
        ("ferry-fares-rise", "news", "ada-reporter"),
        ("council-budget-vote", "politics", "ben-writer"),
        ("harbour-wall-repairs", "news", "ada-reporter"),
        ("mayor-steps-down", "politics", "cy-editor"),
        ("lifeboat-new-crew", "news", "ben-writer"),
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(app.publish(article(slug, section, &[author], 5 - i as i64)).await);
    }
    let mut draft = article("unfinished-draft", "news", &["ada-reporter"], 0);
    draft.status = ArticleStatus::Draft;
    app.publish(draft).await;
    app.refresh().await;
    ids
}

async fn articles_are_listed_newest_first_filtered_and_paged_without_repeats(app: TestApp) {
    let published = site(&app).await;
    let newest_first: Vec<i64> = published.iter().rev().copied().collect();

    let (status, headers, all) = get_json(&app, "/api/v1/articles").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), newest_first, "the draft is not listed");
    assert!(all["next"].is_null());
    // Cached like a page: public, a validator, surrogate keys for purging.
    assert!(headers["cache-control"].to_str().unwrap().starts_with("public"), "{headers:?}");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let keys = headers["surrogate-key"].to_str().unwrap();
    assert!(keys.split(' ').any(|k| k == "api"), "{keys}");
    assert!(keys.split(' ').any(|k| k == format!("a{}", published[0])), "{keys}");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(format!("{}/api/v1/articles", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Pages of two: every article once, in order, however the pages are cut.
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/articles?limit=2".to_owned());
    while let Some(path) = next {
        let page = ok(&app, &path).await;
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, newest_first);
    // A story published while a reader pages does not shift the pages after it.
    let first = ok(&app, "/api/v1/articles?limit=2").await;
    app.publish(article("breaking-late-story", "news", &["di-columnist"], 0)).await;
    app.refresh().await;
    let second = ok(&app, first["next"].as_str().unwrap()).await;
    assert_eq!(ids(&second), newest_first[2..4], "keyset paging: nothing repeated or skipped");
    let fresh = ok(&app, "/api/v1/articles?limit=1").await;
    assert_eq!(fresh["articles"][0]["slug"], "breaking-late-story", "the list follows content events");

    // Filters, alone and together; times as days or RFC 3339.
    let news = ok(&app, "/api/v1/articles?section=news").await;
    assert_eq!(ids(&news).len(), 4);
    assert!(news["articles"].as_array().unwrap().iter().all(|a| a["sections"][0]["slug"] == "news"));
    let ada = ok(&app, "/api/v1/articles?author=ada-reporter&section=news").await;
    assert_eq!(ids(&ada), [published[2], published[0]]);
    let tagged = ok(&app, "/api/v1/articles?tag=harbour&limit=100").await;
    assert_eq!(ids(&tagged).len(), 6);
    let now = chrono::Utc::now();
    let since = (now - chrono::Duration::days(2) - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = ok(&app, &format!("/api/v1/articles?since={since}")).await;
    assert_eq!(ids(&recent).len(), 3, "{recent}");
    let until = (now - chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    let old = ok(&app, &format!("/api/v1/articles?until={until}")).await;
    assert!(ids(&old).iter().all(|id| published[..3].contains(id)), "{old}");
    // A day is read in the site's time zone: yesterday's UTC date has begun everywhere (today's
    // has not, just after midnight UTC, west of Greenwich).
    let yesterday = (now - chrono::Duration::days(1)).format("%Y-%m-%d");
    let changed = ok(&app, &format!("/api/v1/articles?updated_since={yesterday}")).await;
    assert!(!ids(&changed).is_empty());
}

async fn an_article_carries_its_bylines_terms_picture_and_comments(app: TestApp) {
    app.load_demo().await;
    let list = ok(&app, "/api/v1/articles?limit=100").await;
    let with_comments = list["articles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["comment_count"].as_i64().unwrap() > 0)
        .expect("the demo has comments")
        .clone();
    let id = with_comments["id"].as_i64().unwrap();
    let one = ok(&app, &format!("/api/v1/articles/{id}")).await;
    assert_eq!(one, with_comments, "the list and the article agree");
    for field in
        ["headline", "standfirst", "body_html", "body_text", "url", "path", "published_at", "updated_at"]
    {
        assert!(one[field].as_str().is_some_and(|s| !s.is_empty()), "{field}: {one}");
    }
    assert!(
        !one["authors"].as_array().unwrap().is_empty() && !one["sections"].as_array().unwrap().is_empty()
    );
    assert!(one["authors"][0]["url"].as_str().unwrap().starts_with("/author/"));
    assert!(chrono::DateTime::parse_from_rfc3339(one["published_at"].as_str().unwrap()).is_ok());
    assert!(!one["body_html"].as_str().unwrap().contains("<script"));
    // The same article by its address on the site, as a path or a whole URL.
    let path = one["path"].as_str().unwrap().to_owned();
    let page = app.page(&path, 200).await;
    assert!(page.contains(one["headline"].as_str().unwrap().split('\'').next().unwrap()));
    assert_eq!(ok(&app, &format!("/api/v1/articles/by-path?path={path}")).await["id"], id);
    assert_eq!(
        ok(&app, &format!("/api/v1/articles/by-path?path=https://news.example{path}")).await["id"],
        id
    );
    let (status, _, _) = get_json(&app, "/api/v1/articles/by-path?path=/2001/01/01/nothing-here/").await;
    assert_eq!(status, 404);
    // Its approved comments, oldest first; answers name their parent.
    let comments = ok(&app, &format!("/api/v1/articles/{id}/comments")).await;
    let list = comments["comments"].as_array().unwrap();
    assert_eq!(list.len() as i64, one["comment_count"].as_i64().unwrap());
    assert!(list.windows(2).all(|w| w[0]["created_at"].as_str() <= w[1]["created_at"].as_str()));
    // Related ids are published articles the API serves.
    if let Some(related) = one["related"].as_array().and_then(|r| r.first()) {
        ok(&app, &format!("/api/v1/articles/{}", related.as_i64().unwrap())).await;
    }
    // The site's sections, tags, authors and pages.
    let sections = ok(&app, "/api/v1/sections").await;
    assert!(
        sections["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["slug"] == "news" && s["articles"].as_i64().unwrap() > 0)
    );
    assert!(!ok(&app, "/api/v1/tags").await["items"].as_array().unwrap().is_empty());
    let authors = ok(&app, "/api/v1/authors").await;
    assert!(authors["items"].as_array().unwrap().iter().any(|a| a["slug"] == "maeve-okonjo"));
    assert!(!ok(&app, "/api/v1/pages").await["items"].as_array().unwrap().is_empty());
    // Search, as on the site.
    let word: String = one["headline"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .max_by_key(|w| w.len())
        .unwrap()
        .to_owned();
    let found = ok(&app, &format!("/api/v1/search?q={word}")).await;
    assert!(ids(&found).contains(&id), "searching {word:?}: {found}");
    assert!(found["total"].as_i64().unwrap() >= 1);
    // Drafts are not served, by any address.
    let mut draft = article("secret-draft", "news", &["maeve-okonjo"], 0);
    draft.status = ArticleStatus::Draft;
    let draft_id = app.publish(draft).await;
    let (status, _, problem) = get_json(&app, &format!("/api/v1/articles/{draft_id}")).await;
    assert_eq!((status, problem["status"].as_i64()), (404, Some(404)));
    let (status, _, _) = get_json(&app, &format!("/api/v1/articles/{draft_id}/comments")).await;
    assert_eq!(status, 404);
}

async fn bad_requests_get_problem_documents_and_nothing_else(app: TestApp) {
    site(&app).await;
    for (path, status, says) in [
        ("/api/v1/articles?limit=0", 400, "limit"),
        ("/api/v1/articles?limit=101", 400, "limit"),
        ("/api/v1/articles?limit=ten", 400, "query"),
        ("/api/v1/articles?since=yesterday", 400, "since"),
        ("/api/v1/articles?after=not-a-cursor", 400, "after"),
        ("/api/v1/articles?section=no-such-desk", 404, "section"),
        ("/api/v1/articles?tag=nope", 404, "tag"),
        ("/api/v1/articles?author=nobody", 404, "author"),
        ("/api/v1/articles/abc", 400, "address"),
        ("/api/v1/articles/99999", 404, "no published article"),
        ("/api/v1/articles/by-path", 400, "query"),
        ("/api/v1/search", 400, "query"),
        ("/api/v1/search?q=ferry&limit=500", 400, "limit"),
        ("/api/v1/search?q=ferry&page=0", 400, "page"),
        ("/api/v2/anything", 404, "api/docs"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["status"], status, "{path}");
        assert!(problem["title"].is_string() && problem["type"] == "about:blank", "{problem}");
        let detail = problem["detail"].as_str().unwrap().to_lowercase();
        assert!(detail.contains(says), "{path}: {detail}");
    }
    // Writes are not part of the Content API.
    let r = app.client.post(format!("{}/api/v1/articles", app.base)).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 405);
    // Browsers on other sites may ask first.
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/articles", app.base))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_names_every_route_and_reads_as_a_page() {
    let app = TestApp::sqlite().await;
    let spec = ok(&app, "/api/openapi.json").await;
    assert_eq!(spec["openapi"], "3.1.0");
    let paths: Vec<&str> = spec["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/{id}",
        "/api/v1/articles/by-path",
        "/api/v1/articles/{id}/comments",
        "/api/v1/sections",
        "/api/v1/tags",
        "/api/v1/authors",
        "/api/v1/pages",
        "/api/v1/search",
    ] {
        assert!(paths.contains(&path), "{path} is not described: {paths:?}");
    }
    for schema in ["Article", "ArticleList", "Problem", "Picture", "Comment", "Term", "SearchResults"] {
        assert!(spec["components"]["schemas"][schema].is_object(), "{schema}");
    }
    let page = app.page("/api/docs", 200).await;
    assert!(page.contains("<code>/api/v1/articles/{id}/comments</code>"), "{page}");
    assert!(page.contains("id=\"schema-Article\""));
    assert!(!page.contains("<script src"), "the reference needs no script");
}
