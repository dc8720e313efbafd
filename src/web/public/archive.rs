//! Archive pages: section, tag, author, and year/month/day; also static pages, which share
//! the single-segment path space with years (and with articles under slug permalinks).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Datelike, Months, NaiveDate};
use minijinja::Value;

use super::PageQuery;
use crate::storage::articles::{self, CardRow};
use crate::storage::{pages, people, taxonomy};
use crate::web::error::{OrNotFound, WebError, WebResult};
use crate::web::views::{Pagination, author_url, section_url, tag_url};
use crate::web::{AppState, html_page};

/// What one archive page shows; rendered by `archive.html`.
struct Archive {
    kind: &'static str,
    heading: String,
    description: String,
    path: String,
    extra: Value,
}

async fn render(
    app: &AppState,
    archive: Archive,
    page: i64,
    total: i64,
    rows: Vec<CardRow>,
) -> WebResult<Response> {
    let site = app.site.get();
    let views = app.views(&site);
    let pagination = Pagination::new(&archive.path, "", page, site.settings.per_page, total);
    if page > pagination.pages {
        return Err(WebError::NotFound);
    }
    let bylines = articles::bylines(&app.db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let title = if page > 1 { format!("{}, page {page}", archive.heading) } else { archive.heading.clone() };
    let path = if page > 1 { format!("{}?page={page}", archive.path) } else { archive.path.clone() };
    let url = views.absolute(&archive.path);
    let jsonld = match archive.kind {
        "author" => serde_json::json!({
            "@context": "https://schema.org",
            "@type": "ProfilePage",
            "url": url,
            "mainEntity": { "@type": "Person", "name": archive.heading, "description": archive.description, "url": url },
        }),
        _ => serde_json::json!({
            "@context": "https://schema.org",
            "@type": "CollectionPage",
            "name": archive.heading,
            "description": archive.description,
            "url": url,
            "isPartOf": { "@type": "WebSite", "name": site.settings.name, "url": views.absolute("/") },
        }),
    };
    let meta = views
        .meta(&title, &archive.description, &path)
        .with_type(if archive.kind == "author" { "profile" } else { "website" })
        .with_jsonld(&jsonld);
    let body = app.theme.render(
        "archive.html",
        crate::view! {
            site => views.site(),
            meta => meta,
            kind => archive.kind,
            heading => archive.heading,
            description => archive.description,
            cards => views.cards(&rows, &bylines),
            pagination => pagination,
            feed_base => if matches!(archive.kind, "section" | "tag" | "author") { Some(archive.path.clone()) } else { None },
            ..archive.extra
        },
    )?;
    Ok(html_page(body))
}

fn window(app: &AppState, page: i64) -> (i64, i64) {
    let per_page = app.site.get().settings.per_page;
    (per_page, (page - 1) * per_page)
}

pub async fn section(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let page = q.number()?;
    let section = app.site.get().section_by_slug(&slug).cloned().ok_or(WebError::NotFound)?;
    let (limit, offset) = window(&app, page);
    let total = articles::count_in_section(&app.db, section.id).await?;
    let rows = articles::in_section(&app.db, section.id, limit, offset).await?;
    let parent = section
        .parent_id
        .and_then(|id| app.site.get().section_by_id(id).map(|p| (p.name.clone(), section_url(&p.slug))));
    let archive = Archive {
        kind: "section",
        heading: section.name,
        description: section.description,
        path: section_url(&section.slug),
        extra: crate::view! { parent => parent },
    };
    render(&app, archive, page, total, rows).await
}

pub async fn tag(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let page = q.number()?;
    let tag = taxonomy::find_tag(&app.db, &slug).await.or_404()?;
    let (limit, offset) = window(&app, page);
    let total = articles::count_with_tag(&app.db, tag.id).await?;
    let rows = articles::with_tag(&app.db, tag.id, limit, offset).await?;
    let archive = Archive {
        kind: "tag",
        heading: tag.name.clone(),
        description: format!("Stories tagged {}.", tag.name),
        path: tag_url(&tag.slug),
        extra: crate::view! {},
    };
    render(&app, archive, page, total, rows).await
}

pub async fn author(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let page = q.number()?;
    let author = people::find_by_slug(&app.db, &slug).await.or_404()?;
    let (limit, offset) = window(&app, page);
    let total = articles::count_by_author(&app.db, author.id).await?;
    let rows = articles::by_author(&app.db, author.id, limit, offset).await?;
    let archive = Archive {
        kind: "author",
        heading: author.name.clone(),
        description: author.bio.clone(),
        path: author_url(&author.slug),
        extra: crate::view! {
            author_photo => author.photo_url.as_deref().and_then(|u| {
                let site = app.site.get();
                app.views(&site).sized(u, 320)
            })
        },
    };
    render(&app, archive, page, total, rows).await
}

/// `/YYYY/` is a year archive; any other single segment is a static page, or an article
/// when permalinks are slug-only.
pub async fn one_segment(
    State(app): State<AppState>,
    Path(segment): Path<String>,
    Query(q): Query<PageQuery>,
    Query(article_query): Query<super::comments::ArticleQuery>,
) -> WebResult<Response> {
    if let Some(year) = parse_year(&segment) {
        let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(WebError::NotFound)?;
        let until = NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or(WebError::NotFound)?;
        return dated(&app, q.number()?, from, until, year.to_string(), format!("/{segment}/")).await;
    }
    if let Some(page) = pages::find_published(&app.db, &segment).await? {
        return static_page(&app, &page);
    }
    super::article::show_by_slug(&app, &segment, &article_query).await?.ok_or(WebError::NotFound)
}

pub async fn month(
    State(app): State<AppState>,
    Path((y, m)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let from = parse_date(&y, &m, "01").ok_or(WebError::NotFound)?;
    let until = from.checked_add_months(Months::new(1)).ok_or(WebError::NotFound)?;
    let heading = from.format("%B %Y").to_string();
    dated(&app, q.number()?, from, until, heading, format!("/{y}/{m}/")).await
}

pub async fn day(
    State(app): State<AppState>,
    Path((y, m, d)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let from = parse_date(&y, &m, &d).ok_or(WebError::NotFound)?;
    let until = from.succ_opt().ok_or(WebError::NotFound)?;
    let heading = format!("{} {}", from.day(), from.format("%B %Y"));
    dated(&app, q.number()?, from, until, heading, format!("/{y}/{m}/{d}/")).await
}

async fn dated(
    app: &AppState,
    page: i64,
    from: NaiveDate,
    until: NaiveDate,
    heading: String,
    path: String,
) -> WebResult<Response> {
    let (start, end) = app.site.get().day_range(from, until);
    let (limit, offset) = window(app, page);
    let total = articles::count_published_between(&app.db, start, end).await?;
    if total == 0 {
        return Err(WebError::NotFound);
    }
    let rows = articles::published_between(&app.db, start, end, limit, offset).await?;
    let archive = Archive {
        kind: "date",
        description: format!("Stories published in {heading}."),
        heading,
        path,
        extra: crate::view! {},
    };
    render(app, archive, page, total, rows).await
}

fn static_page(app: &AppState, page: &pages::PageRow) -> WebResult<Response> {
    let site = app.site.get();
    let views = app.views(&site);
    let body = app.theme.render(
        "page.html",
        crate::view! {
            site => views.site(),
            meta => views.meta(&page.title, "", &format!("/{}/", page.slug)),
            page => crate::view! {
                title => page.title,
                body_html => views.body(&page.body_html),
                updated => views.time(page.updated_at),
            },
        },
    )?;
    Ok(html_page(body))
}

/// A four-digit year from 1970 on.
pub fn parse_year(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|y| *y >= 1970)
}

/// `YYYY`, `MM`, `DD` exactly as permalinks write them, forming a real date.
pub fn parse_date(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let two = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two(m) || !two(d) {
        return None;
    }
    NaiveDate::from_ymd_opt(parse_year(y)?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_real_and_canonical() {
        assert!(parse_date("2026", "11", "24").is_some());
        for (y, m, d) in [
            ("2026", "13", "01"),
            ("2026", "02", "30"),
            ("26", "11", "24"),
            ("2026", "1", "24"),
            ("abcd", "11", "24"),
            ("1969", "12", "31"),
            ("2026", "+1", "01"),
        ] {
            assert!(parse_date(y, m, d).is_none(), "{y}-{m}-{d}");
        }
    }
}
