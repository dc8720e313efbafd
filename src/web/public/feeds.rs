//! Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the site and for each section, tag and author.
//! Entries keep a stable id (`tag:` URI from the article's id, unchanged by edits); full text or
//! excerpt and the number of entries are settings. Conditional GET with ETag and Last-Modified.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::storage::articles::{self, Scope};
use crate::storage::{people, taxonomy};
use crate::web::AppState;
use crate::web::error::{OrNotFound, WebError, WebResult};
use crate::web::views::{author_url, section_url, tag_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn from_file(name: &str) -> Option<Self> {
        match name {
            "feed.xml" => Some(Self::Rss),
            "atom.xml" => Some(Self::Atom),
            "feed.json" => Some(Self::Json),
            _ => None,
        }
    }

    fn file(self) -> &'static str {
        match self {
            Self::Rss => "feed.xml",
            Self::Atom => "atom.xml",
            Self::Json => "feed.json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// `https://host` for absolute links: the configured base URL, else the request's host.
pub fn origin(app: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &app.base_url {
        return base.to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)))
        .unwrap_or("localhost");
    let scheme = match headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

struct Entry {
    id: String,
    url: String,
    title: String,
    summary: String,
    content: String,
    published: DateTime<Utc>,
    updated: DateTime<Utc>,
    authors: Vec<(String, String)>,
    categories: Vec<String>,
    image: Option<(String, String)>,
}

struct Feed {
    title: String,
    description: String,
    home: String,
    /// The feed's own path without the file name, e.g. `/section/news/`.
    base_path: String,
    language: String,
    updated: DateTime<Utc>,
    entries: Vec<Entry>,
}

fn time(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn absolute(origin: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_owned()
    } else {
        format!("{origin}{url}")
    }
}

async fn build(
    app: &AppState,
    headers: &HeaderMap,
    scope: Scope,
    title: String,
    description: String,
    home: String,
) -> anyhow::Result<Feed> {
    let site = app.site.get();
    let views = app.views(&site);
    let origin = origin(app, headers);
    let rows = articles::feed_items(&app.db, scope, site.settings.feed_items).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let bylines = articles::bylines(&app.db, &ids).await?;
    let sections = articles::sections_of(&app.db, &ids).await?;
    let host =
        origin.split("://").nth(1).unwrap_or("localhost").split(':').next().unwrap_or("localhost").to_owned();
    let entries = rows
        .iter()
        .map(|r| {
            let url = absolute(&origin, &site.article_url(&r.slug, r.published_at));
            let mut content = if site.settings.feed_full_text {
                r.body_html.clone()
            } else {
                format!("<p>{}</p>", xml_escape(&r.excerpt))
            };
            if !r.correction.is_empty() {
                content
                    .push_str(&format!("<p><strong>Correction:</strong> {}</p>", xml_escape(&r.correction)));
            }
            Entry {
                id: format!("tag:{host},{}:article:{}", time(r.created_at).format("%Y-%m-%d"), r.id),
                title: r.headline.clone(),
                summary: if r.standfirst.is_empty() { r.excerpt.clone() } else { r.standfirst.clone() },
                content,
                published: time(r.published_at),
                updated: time(r.updated_at.max(r.published_at)),
                authors: bylines
                    .iter()
                    .filter(|b| b.article_id == r.id)
                    .map(|b| (b.name.clone(), absolute(&origin, &author_url(&b.slug))))
                    .collect(),
                categories: sections
                    .iter()
                    .filter(|s| s.article_id == r.id)
                    .map(|s| s.name.clone())
                    .collect(),
                image: r
                    .featured_image_url
                    .as_ref()
                    // A library picture's plain file about 1280 wide (feed readers do not follow
                    // `<picture>`), any other address as it is.
                    .and_then(|u| {
                        Some((
                            absolute(&origin, &views.sized(u, 1280)?),
                            r.featured_image_alt.clone().unwrap_or_default(),
                        ))
                    }),
                url,
            }
        })
        .collect::<Vec<_>>();
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or_else(|| time(0));
    let base_path = home.clone();
    Ok(Feed {
        title,
        description,
        home: absolute(&origin, &home),
        base_path: absolute(&origin, &base_path),
        language: site.settings.language.clone(),
        updated,
        entries,
    })
}

fn rss(feed: &Feed, hub: Option<&str>) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:media=\"http://search.yahoo.com/mrss/\">\n<channel>\n",
    );
    let self_url = format!("{}{}", feed.base_path, Format::Rss.file());
    x.push_str(&format!(
        "<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n<language>{}</language>\n\
         <lastBuildDate>{}</lastBuildDate>\n<generator>Gazette</generator>\n\
         <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        xml_escape(&feed.title),
        xml_escape(&feed.home),
        xml_escape(&feed.description),
        xml_escape(&feed.language),
        feed.updated.to_rfc2822(),
        xml_escape(&self_url)
    ));
    if let Some(hub) = hub {
        x.push_str(&format!("<atom:link href=\"{}\" rel=\"hub\"/>\n", xml_escape(hub)));
    }
    for e in &feed.entries {
        x.push_str("<item>\n");
        x.push_str(&format!(
            "<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n<pubDate>{}</pubDate>\n\
             <description>{}</description>\n<content:encoded>{}</content:encoded>\n",
            xml_escape(&e.title),
            xml_escape(&e.url),
            xml_escape(&e.id),
            e.published.to_rfc2822(),
            xml_escape(&e.summary),
            xml_escape(&e.content)
        ));
        for (name, _) in &e.authors {
            x.push_str(&format!("<dc:creator>{}</dc:creator>\n", xml_escape(name)));
        }
        for c in &e.categories {
            x.push_str(&format!("<category>{}</category>\n", xml_escape(c)));
        }
        if let Some((url, alt)) = &e.image {
            x.push_str(&format!(
                "<media:content url=\"{}\" medium=\"image\"><media:description>{}</media:description></media:content>\n",
                xml_escape(url),
                xml_escape(alt)
            ));
        }
        x.push_str("</item>\n");
    }
    x.push_str("</channel>\n</rss>\n");
    x
}

fn atom(feed: &Feed, hub: Option<&str>) -> String {
    let self_url = format!("{}{}", feed.base_path, Format::Atom.file());
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n\
         <title>{}</title>\n<subtitle>{}</subtitle>\n<id>{}</id>\n<updated>{}</updated>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
         <generator>Gazette</generator>\n",
        xml_escape(&feed.language),
        xml_escape(&feed.title),
        xml_escape(&feed.description),
        xml_escape(&feed.home),
        feed.updated.to_rfc3339(),
        xml_escape(&feed.home),
        xml_escape(&self_url)
    );
    if let Some(hub) = hub {
        x.push_str(&format!("<link rel=\"hub\" href=\"{}\"/>\n", xml_escape(hub)));
    }
    for e in &feed.entries {
        x.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
             <published>{}</published>\n<updated>{}</updated>\n<summary>{}</summary>\n<content type=\"html\">{}</content>\n",
            xml_escape(&e.title),
            xml_escape(&e.id),
            xml_escape(&e.url),
            e.published.to_rfc3339(),
            e.updated.to_rfc3339(),
            xml_escape(&e.summary),
            xml_escape(&e.content)
        ));
        for (name, url) in &e.authors {
            x.push_str(&format!(
                "<author><name>{}</name><uri>{}</uri></author>\n",
                xml_escape(name),
                xml_escape(url)
            ));
        }
        if e.authors.is_empty() {
            x.push_str(&format!("<author><name>{}</name></author>\n", xml_escape(&feed.title)));
        }
        for c in &e.categories {
            x.push_str(&format!("<category term=\"{}\"/>\n", xml_escape(c)));
        }
        if let Some((url, _)) = &e.image {
            x.push_str(&format!(
                "<link rel=\"enclosure\" type=\"{}\" href=\"{}\"/>\n",
                image_type(url),
                xml_escape(url)
            ));
        }
        x.push_str("</entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

fn image_type(url: &str) -> &'static str {
    match url.rsplit('.').next() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    }
}

fn json_feed(feed: &Feed, hub: Option<&str>) -> String {
    let items: Vec<serde_json::Value> = feed
        .entries
        .iter()
        .map(|e| {
            let mut item = json!({
                "id": e.id,
                "url": e.url,
                "title": e.title,
                "summary": e.summary,
                "content_html": e.content,
                "date_published": e.published.to_rfc3339(),
                "date_modified": e.updated.to_rfc3339(),
                "authors": e.authors.iter().map(|(n, u)| json!({"name": n, "url": u})).collect::<Vec<_>>(),
                "tags": e.categories,
            });
            if let Some((url, _)) = &e.image {
                item["image"] = json!(url);
            }
            item
        })
        .collect();
    let mut doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "description": feed.description,
        "home_page_url": feed.home,
        "feed_url": format!("{}{}", feed.base_path, Format::Json.file()),
        "language": feed.language,
        "items": items,
    });
    if let Some(hub) = hub {
        doc["hubs"] = json!([{ "type": "WebSub", "url": hub }]);
    }
    doc.to_string()
}

/// A feed with its `Last-Modified`; the page cache's layer adds the `ETag` and answers
/// conditional requests (`If-None-Match`, `If-Modified-Since`) with 304.
fn with_last_modified(body: String, content_type: &'static str, modified: DateTime<Utc>) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

async fn serve(
    app: &AppState,
    headers: &HeaderMap,
    format: Format,
    scope: Scope,
    title: String,
    description: String,
    home: String,
) -> WebResult<Response> {
    let feed = build(app, headers, scope, title, description, home).await?;
    let hub = app.site.get().settings.websub_hub.clone();
    let hub = (!hub.is_empty()).then_some(hub.as_str());
    let body = match format {
        Format::Rss => rss(&feed, hub),
        Format::Atom => atom(&feed, hub),
        Format::Json => json_feed(&feed, hub),
    };
    Ok(with_last_modified(body, format.content_type(), feed.updated))
}

pub async fn site_rss(State(app): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    site_feed(&app, &headers, Format::Rss).await
}
pub async fn site_atom(State(app): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    site_feed(&app, &headers, Format::Atom).await
}
pub async fn site_json(State(app): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    site_feed(&app, &headers, Format::Json).await
}

async fn site_feed(app: &AppState, headers: &HeaderMap, format: Format) -> WebResult<Response> {
    let s = &app.site.get().settings;
    let description = if s.description.is_empty() { s.tagline.clone() } else { s.description.clone() };
    serve(app, headers, format, Scope::All, s.name.clone(), description, "/".into()).await
}

/// `/{section|tag|author}/{slug}/{feed.xml|atom.xml|feed.json}`.
pub async fn scoped(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path((kind, slug, file)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let format = Format::from_file(&file).ok_or(WebError::NotFound)?;
    let site_name = app.site.get().settings.name.clone();
    let (scope, title, description, home) = match kind.as_str() {
        "section" => {
            let s = app.site.get().section_by_slug(&slug).cloned().ok_or(WebError::NotFound)?;
            (Scope::Section(s.id), format!("{}: {site_name}", s.name), s.description, section_url(&s.slug))
        }
        "tag" => {
            let t = taxonomy::find_tag(&app.db, &slug).await.or_404()?;
            (
                Scope::Tag(t.id),
                format!("{}: {site_name}", t.name),
                format!("Stories tagged {}.", t.name),
                tag_url(&t.slug),
            )
        }
        "author" => {
            let a = people::find_by_slug(&app.db, &slug).await.or_404()?;
            (Scope::Author(a.id), format!("{}: {site_name}", a.name), a.bio, author_url(&a.slug))
        }
        _ => return Err(WebError::NotFound),
    };
    serve(&app, &headers, format, scope, title, description, home).await
}
