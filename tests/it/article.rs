use gazette::domain::Slug;

use crate::helpers::{TestApp, article, hrefs, slug_permalinks};
use crate::on_both_stores;

on_both_stores!(
    article_page_shows_what_a_reader_expects,
    article_urls_are_canonical,
    article_page_costs_a_bounded_number_of_queries,
    hostile_markup_in_a_body_is_inert,
    unpublished_articles_are_not_shown,
);

async fn first_article_url(app: &TestApp) -> String {
    let html = app.page("/", 200).await;
    hrefs(&html).into_iter().find(|h| h.starts_with("/20")).expect("an article link")
}

async fn article_page_shows_what_a_reader_expects(app: TestApp) {
    app.load_demo().await;
    let url = first_article_url(&app).await;
    let html = app.page(&url, 200).await;
    assert!(html.contains("<h1 id=\"headline\">"));
    assert!(html.contains("class=\"standfirst\""));
    assert!(html.contains("rel=\"author\""), "byline links to the author");
    assert!(html.contains("<time datetime=\"20"), "machine-readable time");
    assert!(html.contains("href=\"/section/"), "section labels");
    assert!(html.contains("rel=\"tag\""), "tags");
    assert!(html.contains("<blockquote>"), "body with quotations");
    assert_eq!(html.matches("class=\"related-title\"").count(), 6, "six related posts");
    assert_eq!(html.matches("class=\"related-section\"").count(), 6, "each with its section");
    assert!(!html.contains(&format!("class=\"related-title\" href=\"{url}\"")), "not itself");
    assert!(html.contains("<link rel=\"canonical\""));
    assert!(html.contains("Leave a Comment") && html.contains("action=\"/comments\""), "the comment form");
    assert!(!html.contains("@@form-"), "every response gets a real token");
    // The byline leads to the author's page, which lists this article.
    let author = hrefs(&html).into_iter().find(|h| h.starts_with("/author/")).unwrap();
    assert!(app.page(&author, 200).await.contains(&format!("href=\"{url}\"")));
}

async fn article_urls_are_canonical(app: TestApp) {
    app.newsroom().await;
    app.publish(article("harbour-news", "news", &["ada-reporter"], 3)).await;
    app.refresh().await;
    let url = first_article_url(&app).await;
    app.page(&url, 200).await;
    let parts: Vec<&str> = url.trim_matches('/').split('/').collect();
    let [y, m, _d, slug] = parts[..] else { panic!("{url}") };
    // A real but wrong date redirects to the canonical address.
    let wrong_day = if parts[2] == "01" { "02" } else { "01" };
    assert_eq!(app.redirect(&format!("/{y}/{m}/{wrong_day}/{slug}/"), 301).await, url);
    // Impossible dates and unknown slugs are 404, never 500.
    for bad in [
        format!("/{y}/13/01/{slug}/"),
        format!("/{y}/02/30/{slug}/"),
        format!("/{y}/{m}/1/{slug}/"),
        format!("/0000/{m}/01/{slug}/"),
        format!("/{y}/{m}/01/no-such-story/"),
        "/2026/11/24/%3Cscript%3E/".to_owned(),
    ] {
        app.page(&bad, 404).await;
    }
    // Without the trailing slash: a redirect to the slashed form.
    assert_eq!(app.redirect(url.trim_end_matches('/'), 301).await, url);
}

async fn article_page_costs_a_bounded_number_of_queries(app: TestApp) {
    app.newsroom().await;
    // Pieces of one story, so that each has a related list (an article that shares nothing
    // with the others has none, and the page's stand-in for it is one more query).
    let story = |mut a: gazette::domain::NewArticle| {
        a.body_source.push_str("\n\nThe harbour board met about the dredging contract and the silt barges.");
        a
    };
    app.publish(story(article("plain", "news", &["ada-reporter"], 2))).await;
    let mut rich = article("rich", "news", &["ada-reporter", "ben-writer", "cy-editor", "di-columnist"], 1);
    rich.section_slugs = ["news", "politics", "sport"].iter().map(|s| Slug::parse(s).unwrap()).collect();
    rich.tags = (0..12).map(|i| format!("Tag number {i}")).collect();
    app.publish(story(rich)).await;
    for i in 0..8 {
        app.publish(story(article(&format!("filler-{i}"), "news", &["ben-writer"], 5 + i))).await;
    }
    app.refresh().await;
    let html = app.page("/", 200).await;
    let links: Vec<String> = hrefs(&html).into_iter().filter(|h| h.starts_with("/20")).collect();
    let find = |s: &str| links.iter().find(|h| h.ends_with(&format!("/{s}/"))).unwrap().clone();
    let cost = |path: String| {
        let app = &app;
        async move {
            let before = app.db.query_count();
            app.page(&path, 200).await;
            app.db.query_count() - before
        }
    };
    let plain = cost(find("plain")).await;
    let rich = cost(find("rich")).await;
    assert_eq!(plain, rich, "queries should not grow with authors, sections or tags");
    assert!(rich <= 6, "an article page took {rich} queries");
}

async fn hostile_markup_in_a_body_is_inert(app: TestApp) {
    app.newsroom().await;
    let mut a = article("hostile", "news", &["ada-reporter"], 1);
    a.headline = "<script>alert('headline')</script> & friends".into();
    a.body_source = "Hello <script>alert(1)</script><img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))\n\n<svg onload=alert(4)></svg>".into();
    app.publish(a).await;
    app.refresh().await;
    let url = first_article_url(&app).await;
    let html = app.page(&url, 200).await;
    let body = html.split("class=\"story-body\"").nth(1).unwrap().split("id=\"comments\"").next().unwrap();
    for bad in ["<script", "onerror", "javascript:", "<svg", "onload"] {
        assert!(!body.contains(bad), "{bad} in {body}");
    }
    // The page's only scripts are its structured data and the theme's own comment script.
    for script in html.split("<script").skip(1) {
        assert!(
            script.starts_with(" type=\"application/ld+json\">")
                || script.starts_with(" src=\"/static/comments."),
            "a script that is not ours: <script{}",
            &script[..script.len().min(80)]
        );
    }
    assert!(html.contains("&lt;script&gt;alert(&#39;headline&#39;)&lt;/script&gt; &amp; friends"));
}

async fn unpublished_articles_are_not_shown(app: TestApp) {
    app.newsroom().await;
    let mut draft = article("secret-draft", "news", &["ada-reporter"], 1);
    draft.status = gazette::domain::ArticleStatus::Draft;
    draft.published_at = None;
    app.publish(draft).await;
    app.refresh().await;
    let html = app.page("/", 200).await;
    assert!(!html.contains("secret-draft"));
    assert!(!app.page("/search?q=secret", 200).await.contains("secret-draft"));
}

#[tokio::test]
async fn slug_permalinks_serve_articles_at_the_root() {
    let app = TestApp::sqlite_with(slug_permalinks).await;
    app.newsroom().await;
    app.publish(article("by-slug-only", "news", &["ada-reporter"], 1)).await;
    app.refresh().await;
    let html = app.page("/", 200).await;
    assert!(html.contains("href=\"/by-slug-only/\""));
    assert!(app.page("/by-slug-only/", 200).await.contains("Headline of by-slug-only"));
}

on_both_stores!(pages_carry_search_engine_metadata);

fn jsonld(html: &str) -> serde_json::Value {
    let raw = html
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    serde_json::from_str(raw).unwrap()
}

async fn pages_carry_search_engine_metadata(app: TestApp) {
    app.load_demo().await;
    let url = first_article_url(&app).await;
    let html = app.page(&url, 200).await;
    for tag in [
        "og:site_name",
        "og:title",
        "og:description",
        "og:url",
        "twitter:card",
        "article:published_time",
        "article:section",
    ] {
        assert!(html.contains(&format!("\"{tag}\"")), "{tag} on the article page");
    }
    assert!(html.contains("<meta property=\"og:type\" content=\"article\">"));
    let ld = jsonld(&html);
    let article = &ld[0];
    assert_eq!(article["@type"], "NewsArticle");
    for field in [
        "headline",
        "datePublished",
        "dateModified",
        "author",
        "publisher",
        "mainEntityOfPage",
        "articleSection",
        "keywords",
        "commentCount",
    ] {
        assert!(!article[field].is_null(), "NewsArticle.{field}");
    }
    assert_eq!(article["author"][0]["@type"], "Person");
    assert!(
        article["datePublished"].as_str().unwrap().ends_with("+00:00")
            || article["datePublished"].as_str().unwrap().contains('+'),
        "with a time zone"
    );
    assert_eq!(ld[1]["@type"], "BreadcrumbList");
    assert_eq!(ld[1]["itemListElement"].as_array().unwrap().len(), 3);

    let author = app.page("/author/maeve-okonjo/", 200).await;
    assert_eq!(jsonld(&author)["@type"], "ProfilePage");
    let section = app.page("/section/politics/", 200).await;
    assert_eq!(jsonld(&section)["@type"], "CollectionPage");
}

#[tokio::test]
async fn hostile_text_cannot_break_out_of_structured_data() {
    let app = TestApp::sqlite().await;
    app.newsroom().await;
    let mut a = article("breakout", "news", &["ada-reporter"], 1);
    a.headline = "</script><script>alert(1)</script>".into();
    app.publish(a).await;
    app.refresh().await;
    let url = first_article_url(&app).await;
    let html = app.page(&url, 200).await;
    assert!(!html.contains("<script>alert(1)"));
    assert_eq!(jsonld(&html)[0]["headline"], "</script><script>alert(1)</script>");
}
