//! Sitemaps for search engines: an index of paged article sitemaps (at most 50,000 URLs each,
//! with `lastmod`), one for the rest of the site, and a Google News sitemap of the last two days.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::feeds::origin;
use crate::storage::{articles, people};
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};
use crate::web::views::{author_url, section_url};

pub const URLS_PER_SITEMAP: i64 = 50_000;
/// Google News takes articles of the last two days, at most 1,000.
const NEWS_WINDOW_SECS: i64 = 2 * 86_400;
const NEWS_MAX: i64 = 1_000;

fn xml(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=600")),
        ],
        body,
    )
        .into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn w3c(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `/sitemap.xml`: the index.
pub async fn index(State(app): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let o = origin(&app, &headers);
    let total = articles::count_published(&app.db).await?;
    let last = articles::last_change(&app.db).await?;
    let pages = ((total + URLS_PER_SITEMAP - 1) / URLS_PER_SITEMAP).max(1);
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    x.push_str(&format!(
        "<sitemap><loc>{}/sitemaps/site.xml</loc><lastmod>{}</lastmod></sitemap>\n",
        esc(&o),
        w3c(last)
    ));
    for n in 1..=pages {
        x.push_str(&format!(
            "<sitemap><loc>{}/sitemaps/articles-{n}.xml</loc><lastmod>{}</lastmod></sitemap>\n",
            esc(&o),
            w3c(last)
        ));
    }
    x.push_str("</sitemapindex>\n");
    Ok(xml(x))
}

/// `/sitemaps/articles-N.xml` and `/sitemaps/site.xml`.
pub async fn part(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> WebResult<Response> {
    let o = origin(&app, &headers);
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">\n",
    );
    let entry = |x: &mut String, loc: &str, lastmod: Option<i64>, image: Option<&str>| {
        x.push_str(&format!("<url><loc>{}{}</loc>", esc(&o), esc(loc)));
        if let Some(t) = lastmod {
            x.push_str(&format!("<lastmod>{}</lastmod>", w3c(t)));
        }
        if let Some(image) = image {
            let image = if image.starts_with('/') { format!("{o}{image}") } else { image.to_owned() };
            x.push_str(&format!("<image:image><image:loc>{}</image:loc></image:image>", esc(&image)));
        }
        x.push_str("</url>\n");
    };
    let url = |x: &mut String, loc: &str, lastmod: Option<i64>| entry(x, loc, lastmod, None);
    if file == "site.xml" {
        let site = app.site.get();
        url(&mut x, "/", Some(articles::last_change(&app.db).await?));
        for s in &site.sections {
            url(&mut x, &section_url(&s.slug), None);
        }
        for (slug, _) in &site.pages {
            url(&mut x, &format!("/{slug}/"), None);
        }
        for a in people::with_counts(&app.db).await?.iter().filter(|a| a.articles > 0) {
            url(&mut x, &author_url(&a.slug), None);
        }
    } else {
        let n: i64 = file
            .strip_prefix("articles-")
            .and_then(|f| f.strip_suffix(".xml"))
            .and_then(|n| n.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or(WebError::NotFound)?;
        let rows = articles::sitemap_page(&app.db, URLS_PER_SITEMAP, (n - 1) * URLS_PER_SITEMAP).await?;
        if rows.is_empty() && n > 1 {
            return Err(WebError::NotFound);
        }
        let site = app.site.get();
        let views = app.views(&site);
        for (slug, published, updated, image) in rows {
            // A library picture's largest plain file (search engines index the picture itself).
            let image = image.and_then(|i| views.sized(&i, 1920));
            entry(
                &mut x,
                &site.article_url(&slug, published),
                Some(updated.max(published)),
                image.as_deref(),
            );
        }
    }
    x.push_str("</urlset>\n");
    Ok(xml(x))
}

/// `/sitemap-news.xml`: the Google News sitemap.
pub async fn news(State(app): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let o = origin(&app, &headers);
    let site = app.site.get();
    let rows = articles::published_since(&app.db, crate::storage::now() - NEWS_WINDOW_SECS, NEWS_MAX).await?;
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n",
    );
    let language = site.settings.language.split('-').next().unwrap_or("en").to_lowercase();
    for (slug, headline, published) in rows {
        x.push_str(&format!(
            "<url><loc>{}{}</loc><news:news><news:publication><news:name>{}</news:name>\
             <news:language>{}</news:language></news:publication>\
             <news:publication_date>{}</news:publication_date><news:title>{}</news:title></news:news></url>\n",
            esc(&o),
            esc(&site.article_url(&slug, published)),
            esc(&site.settings.name),
            esc(&language),
            site.local(published).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            esc(&headline)
        ));
    }
    x.push_str("</urlset>\n");
    Ok(xml(x))
}
