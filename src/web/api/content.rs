//! The Content API: the published site as JSON, read-only and cacheable (see the module above).

use std::collections::HashMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, Problem, public_json};
use crate::site::Site;
use crate::storage::api::{self, ApiArticleRow, ArticleFilter, ArticleTermRow};
use crate::web::AppState;
use crate::web::cache::shows_article;
use crate::web::views::{Views, author_url, section_url, tag_url};

/// Articles per list unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

/// A section, tag or author an article belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// Its page on the site.
    pub url: String,
}

/// A picture's files for `srcset`: each a comma-separated list of `URL WIDTHw`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Srcset {
    pub avif: String,
    pub webp: String,
    /// JPEG, or PNG for pictures with transparency.
    pub fallback: String,
}

/// Crops made around the picture's focal point, 1200 pixels wide (JPEG).
#[derive(Debug, Serialize, ToSchema)]
pub struct Crops {
    #[serde(rename = "16x9")]
    pub wide: String,
    #[serde(rename = "4x3")]
    pub standard: String,
    #[serde(rename = "1x1")]
    pub square: String,
}

/// An article's lead picture.
#[derive(Debug, Serialize, ToSchema)]
pub struct Picture {
    /// One file to show: a library picture's largest JPEG or PNG; any other image as stored.
    pub url: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// Size of the largest file (library pictures).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Every size in each format (library pictures).
    pub srcset: Option<Srcset>,
    pub crops: Option<Crops>,
}

/// A correction or update note shown at the foot of the article.
#[derive(Debug, Serialize, ToSchema)]
pub struct Correction {
    pub text: String,
    #[schema(format = DateTime)]
    pub at: Option<String>,
}

/// A published article.
#[derive(Debug, Serialize, ToSchema)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    /// Its canonical address on the site (absolute when the site's `base_url` is set).
    pub url: String,
    /// The path part of `url`.
    pub path: String,
    pub headline: String,
    pub standfirst: String,
    pub excerpt: String,
    /// The text as sanitized HTML, as the article page shows it.
    pub body_html: String,
    /// The text without markup, paragraphs separated by blank lines.
    pub body_text: String,
    pub word_count: i64,
    #[schema(format = DateTime)]
    pub published_at: String,
    /// Last change (edit or correction).
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub authors: Vec<TermRef>,
    /// The primary section first.
    pub sections: Vec<TermRef>,
    pub tags: Vec<TermRef>,
    pub picture: Option<Picture>,
    /// Ids of related articles, best first.
    pub related: Vec<i64>,
    pub comment_count: i64,
    pub comments_open: bool,
    pub correction: Option<Correction>,
}

/// A page of articles, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub articles: Vec<Article>,
    /// The address of the next page (older articles), or null at the end.
    pub next: Option<String>,
}

fn rfc3339(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Builds articles from rows with their terms and related lists, read in two statements.
async fn build(app: &AppState, site: &Site, rows: Vec<ApiArticleRow>) -> ApiResult<Vec<Article>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut terms: HashMap<i64, Vec<ArticleTermRow>> = HashMap::new();
    for t in api::terms_of(&app.db, &ids).await? {
        terms.entry(t.article_id).or_default().push(t);
    }
    let mut related: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in api::related_of(&app.db, &ids).await? {
        related.entry(r.article_id).or_default().push(r.related_id);
    }
    let views = app.views(site);
    Ok(rows
        .into_iter()
        .map(|row| {
            shows_article(row.id);
            let terms = terms.remove(&row.id).unwrap_or_default();
            let related = related.remove(&row.id).unwrap_or_default();
            to_article(&views, row, &terms, related)
        })
        .collect())
}

/// A published article as the Content API gives it (webhook payloads carry it), or None.
pub async fn published_article(app: &AppState, id: i64) -> anyhow::Result<Option<Article>> {
    let Some(row) = api::article(&app.db, id).await? else { return Ok(None) };
    let site = app.site.get_full();
    let built = build(app, &site, vec![row]).await.map_err(|p| anyhow::anyhow!(p.detail))?;
    Ok(built.into_iter().next())
}

fn to_article(views: &Views<'_>, row: ApiArticleRow, terms: &[ArticleTermRow], related: Vec<i64>) -> Article {
    let refs = |kind: &str, url: fn(&str) -> String| {
        terms
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| TermRef {
                id: t.id,
                slug: t.slug.clone(),
                name: t.name.clone(),
                url: views.absolute(&url(&t.slug)),
            })
            .collect::<Vec<_>>()
    };
    let path = views.site.article_url(&row.slug, row.published_at);
    let picture = row.featured_image_url.as_deref().and_then(|url| {
        let image = views.image(
            url,
            row.featured_image_alt.as_deref(),
            row.featured_image_caption.as_deref(),
            row.featured_image_credit.as_deref(),
        )?;
        let library = views.site.picture(url).filter(|p| p.ready);
        Some(Picture {
            url: views.absolute(&library.map_or_else(|| url.to_owned(), |p| p.plain_url(1920))),
            alt: image.alt,
            caption: image.caption,
            credit: image.credit,
            width: image.picture.as_ref().map(|p| p.width),
            height: image.picture.as_ref().map(|p| p.height),
            srcset: image.picture.map(|p| Srcset { avif: p.avif, webp: p.webp, fallback: p.srcset }),
            crops: library.map(|p| Crops {
                wide: views.absolute(&p.crop((16, 9)).0),
                standard: views.absolute(&p.crop((4, 3)).0),
                square: views.absolute(&p.crop((1, 1)).0),
            }),
        })
    });
    Article {
        id: row.id,
        url: views.absolute(&path),
        path,
        slug: row.slug,
        headline: row.headline,
        standfirst: row.standfirst,
        excerpt: row.excerpt,
        body_html: views.body(&row.body_html),
        body_text: row.body_text,
        word_count: row.word_count,
        published_at: rfc3339(row.published_at),
        updated_at: rfc3339(row.updated_at.max(row.published_at)),
        authors: refs("author", author_url),
        sections: refs("section", section_url),
        tags: refs("tag", tag_url),
        picture,
        related,
        comment_count: row.comment_count,
        comments_open: row.comment_status == "open",
        correction: (!row.correction.is_empty())
            .then(|| Correction { text: row.correction, at: row.corrected_at.map(rfc3339) }),
    }
}

/// A time parameter: an RFC 3339 time or a day.
fn time_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)))
    };
    Schema::OneOf(
        OneOfBuilder::new().item(string(KnownFormat::DateTime)).item(string(KnownFormat::Date)).build(),
    )
}

/// A paging cursor, as `next` addresses carry it.
fn cursor_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[0-9]{1,15}-[0-9]{1,15}$")).build()
}

/// A query value that was given and is not blank (`?section=` counts as not given).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Filters and paging of the article list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only articles in this section (its slug).
    section: Option<String>,
    /// Only articles with this tag (its slug).
    tag: Option<String>,
    /// Only articles by this author (their slug).
    author: Option<String>,
    /// Published at or after: an RFC 3339 time (`2026-12-06T09:00:00Z`) or a day
    /// (`2026-12-06`, from midnight in the site's time zone).
    #[param(schema_with = time_schema)]
    since: Option<String>,
    /// Published before (same forms as `since`).
    #[param(schema_with = time_schema)]
    until: Option<String>,
    /// Changed (edited, corrected) at or after (same forms as `since`).
    #[param(schema_with = time_schema)]
    updated_since: Option<String>,
    /// Articles per page, 1 to 100 (20 when not given).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Where the previous page ended: the `next` address holds it.
    #[param(schema_with = cursor_schema)]
    after: Option<String>,
}

/// A time in a query: RFC 3339, or a day from local midnight.
fn parse_time(site: &Site, name: &str, value: &str) -> ApiResult<i64> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp());
    }
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(site.day_range(day, day).0);
    }
    Err(Problem::bad_request(format!(
        "`{name}` must be a time like 2026-12-06T09:00:00Z or a day like 2026-12-06, not {value:?}."
    )))
}

fn limit(value: Option<u32>) -> ApiResult<u32> {
    match value.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(Problem::bad_request(format!("`limit` must be from 1 to {MAX_LIMIT}, not {n}."))),
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(q)| q)
        .map_err(|e| Problem::bad_request(format!("The query is not valid: {}", e.body_text())))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    p.map(|Path(p)| p)
        .map_err(|e| Problem::bad_request(format!("The address is not valid: {}", e.body_text())))
}

/// A query value for a `next` address.
fn encode(value: &str) -> String {
    crate::web::public::search::urlencode(value)
}

/// List published articles, newest first
///
/// Filters combine (an article must match all). Pages are read with the `next` address of
/// the previous answer (keyset pagination: a page never repeats or skips an article when new
/// ones are published meanwhile).
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "content",
    params(ListParams),
    responses(
        (status = 200, description = "A page of articles", body = ArticleList),
        (status = 304, description = "Not modified since the `ETag` sent in `If-None-Match`"),
        (status = 400, description = "A filter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section, tag or author", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn articles(
    State(app): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query(params)?;
    let site = app.site.get_full();
    let limit = limit(params.limit)?;
    let mut filter = ArticleFilter::default();
    if let Some(slug) = given(&params.section) {
        let section =
            site.section_by_slug(slug).ok_or_else(|| Problem::not_found(&format!("section {slug:?}")))?;
        filter.section_id = Some(section.id);
    }
    if let Some(slug) = given(&params.tag) {
        let tag = crate::storage::taxonomy::find_tag(&app.db, slug).await?;
        filter.tag_id = Some(tag.ok_or_else(|| Problem::not_found(&format!("tag {slug:?}")))?.id);
    }
    if let Some(slug) = given(&params.author) {
        let author = crate::storage::people::find_by_slug(&app.db, slug).await?;
        filter.author_id = Some(author.ok_or_else(|| Problem::not_found(&format!("author {slug:?}")))?.id);
    }
    // (Blank times and cursors are refused, as their format says.)
    filter.since = params.since.as_deref().map(|v| parse_time(&site, "since", v)).transpose()?;
    filter.until = params.until.as_deref().map(|v| parse_time(&site, "until", v)).transpose()?;
    filter.updated_since =
        params.updated_since.as_deref().map(|v| parse_time(&site, "updated_since", v)).transpose()?;
    filter.after = match params.after.as_deref() {
        None => None,
        Some(cursor) => Some(parse_cursor(cursor).ok_or_else(|| {
            Problem::bad_request("`after` is not a cursor this API gave out; take it from a `next` address.")
        })?),
    };
    let rows = api::articles(&app.db, &filter, i64::from(limit) + 1).await?;
    let more = rows.len() > limit as usize;
    let rows: Vec<ApiArticleRow> = rows.into_iter().take(limit as usize).collect();
    let next = match rows.last() {
        Some(last) if more => {
            let mut q = Vec::new();
            for (key, value) in [
                ("section", &params.section),
                ("tag", &params.tag),
                ("author", &params.author),
                ("since", &params.since),
                ("until", &params.until),
                ("updated_since", &params.updated_since),
            ] {
                if let Some(v) = given(value) {
                    q.push(format!("{key}={}", encode(v)));
                }
            }
            if params.limit.is_some() {
                q.push(format!("limit={limit}"));
            }
            q.push(format!("after={}-{}", last.published_at, last.id));
            Some(format!("/api/v1/articles?{}", q.join("&")))
        }
        _ => None,
    };
    let articles = build(&app, &site, rows).await?;
    public_json(&app, &ArticleList { articles, next })
}

/// `PUBLISHED-ID`, as `next` addresses carry it.
fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (published, id) = cursor.trim().split_once('-')?;
    Some((published.parse().ok()?, id.parse().ok()?))
}

/// One published article by id
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}",
    tag = "content",
    params(("id" = i64, Path, description = "The article's id")),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 304, description = "Not modified"),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<Response> {
    let id = path(id)?;
    let row = api::article(&app.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("published article with this id"))?;
    let site = app.site.get_full();
    let mut built = build(&app, &site, vec![row]).await?;
    public_json(&app, &built.remove(0))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathParams {
    /// The article's address on the site: its path (`/2026/12/06/a-story/`) or its whole URL.
    path: String,
}

/// One published article by its address on the site
#[utoipa::path(
    get,
    path = "/api/v1/articles/by-path",
    tag = "content",
    params(PathParams),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 304, description = "Not modified"),
        (status = 400, description = "No path given", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article lives there", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article_by_path(
    State(app): State<AppState>,
    params: Result<Query<PathParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query(params)?;
    let mut path = params.path.trim();
    if let Some(rest) = path.strip_prefix("https://").or_else(|| path.strip_prefix("http://")) {
        path = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let slug = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let not_found = || Problem::not_found(&format!("published article at {path:?}"));
    if slug.is_empty() {
        return Err(not_found());
    }
    let row = api::article_by_slug(&app.db, slug).await?.ok_or_else(not_found)?;
    let site = app.site.get_full();
    let canonical = site.article_url(&row.slug, row.published_at);
    if canonical.trim_end_matches('/') != path.trim_end_matches('/') {
        return Err(not_found());
    }
    let mut built = build(&app, &site, vec![row]).await?;
    public_json(&app, &built.remove(0))
}

/// An approved comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    /// The comment it answers, if any.
    pub parent_id: Option<i64>,
    pub author_name: String,
    /// The commenter's website, if they gave one.
    pub author_url: Option<String>,
    /// Sanitized HTML.
    pub body_html: String,
    /// Written by a member of staff.
    pub staff: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub article_id: i64,
    /// Oldest first; answers name their parent.
    pub comments: Vec<Comment>,
    /// The address of the next page (newer comments), or null at the end.
    pub next: Option<String>,
}

/// Paging of an article's comments.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentParams {
    /// Comments per page, 1 to 200 (100 when not given).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The last comment of the previous page: the `next` address holds it.
    #[param(minimum = 1)]
    after: Option<i64>,
}

/// Approved comments of a published article
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/comments",
    tag = "content",
    params(("id" = i64, Path, description = "The article's id"), CommentParams),
    responses(
        (status = 200, description = "Its approved comments, oldest first, a page at a time", body = CommentList),
        (status = 304, description = "Not modified"),
        (status = 400, description = "The id is not a number, or the paging is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn comments(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    params: Result<Query<CommentParams>, QueryRejection>,
) -> ApiResult<Response> {
    let id = path(id)?;
    let params = query(params)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=200).contains(&limit) {
        return Err(Problem::bad_request("`limit` is a number from 1 to 200."));
    }
    if params.after.is_some_and(|a| a < 1) {
        return Err(Problem::bad_request("`after` is a comment id from a `next` address."));
    }
    let after = params.after.unwrap_or(0);
    if !api::is_published(&app.db, id).await? {
        return Err(Problem::not_found("published article with this id"));
    }
    shows_article(id);
    let mut rows = crate::storage::comments::approved_page(&app.db, id, after, i64::from(limit) + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = match rows.last() {
        Some(last) if more => Some(match params.limit {
            Some(_) => format!("/api/v1/articles/{id}/comments?limit={limit}&after={}", last.id),
            None => format!("/api/v1/articles/{id}/comments?after={}", last.id),
        }),
        _ => None,
    };
    let comments = rows
        .into_iter()
        .map(|c| Comment {
            id: c.id,
            parent_id: c.parent_id,
            author_name: c.author_name,
            author_url: Some(c.author_url).filter(|u| !u.is_empty()),
            body_html: c.body_html,
            staff: c.staff_user_id.is_some(),
            created_at: rfc3339(c.created_at),
        })
        .collect();
    public_json(&app, &CommentList { article_id: id, comments, next })
}

/// A section, tag or author.
#[derive(Debug, Serialize, ToSchema)]
pub struct Term {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// A section's description or an author's biography.
    pub description: String,
    /// A section's parent section.
    pub parent_id: Option<i64>,
    /// An author's photo (a plain file about 320 wide).
    pub photo_url: Option<String>,
    /// Its page on the site.
    pub url: String,
    /// Published articles it lists.
    pub articles: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermList {
    pub items: Vec<Term>,
}

async fn term_list(app: &AppState, kind: &str, url: fn(&str) -> String) -> ApiResult<Response> {
    let site = app.site.get_full();
    let views = app.views(&site);
    let items = api::terms(&app.db, kind)
        .await?
        .into_iter()
        .map(|t| Term {
            url: views.absolute(&url(&t.slug)),
            photo_url: t.photo_url.as_deref().and_then(|u| views.sized(u, 320)).map(|u| views.absolute(&u)),
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
            parent_id: t.parent_id,
            articles: t.articles,
        })
        .collect();
    public_json(app, &TermList { items })
}

/// Every section, in menu order
#[utoipa::path(get, path = "/api/v1/sections", tag = "content",
    responses((status = 200, description = "The sections", body = TermList), (status = 304, description = "Not modified")))]
pub async fn sections(State(app): State<AppState>) -> ApiResult<Response> {
    term_list(&app, "section", section_url).await
}

/// Every tag, by name
#[utoipa::path(get, path = "/api/v1/tags", tag = "content",
    responses((status = 200, description = "The tags", body = TermList), (status = 304, description = "Not modified")))]
pub async fn tags(State(app): State<AppState>) -> ApiResult<Response> {
    term_list(&app, "tag", tag_url).await
}

/// Every author, by name
#[utoipa::path(get, path = "/api/v1/authors", tag = "content",
    responses((status = 200, description = "The authors", body = TermList), (status = 304, description = "Not modified")))]
pub async fn authors(State(app): State<AppState>) -> ApiResult<Response> {
    term_list(&app, "author", author_url).await
}

/// A static page (About, Contact, ...).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub url: String,
    pub body_html: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageList {
    pub items: Vec<Page>,
}

/// Every published static page
#[utoipa::path(get, path = "/api/v1/pages", tag = "content",
    responses((status = 200, description = "The pages", body = PageList), (status = 304, description = "Not modified")))]
pub async fn pages(State(app): State<AppState>) -> ApiResult<Response> {
    let site = app.site.get_full();
    let views = app.views(&site);
    let items = api::pages(&app.db)
        .await?
        .into_iter()
        .map(|p| Page {
            url: views.absolute(&format!("/{}/", p.slug)),
            body_html: views.body(&p.body_html),
            updated_at: rfc3339(p.updated_at),
            id: p.id,
            slug: p.slug,
            title: p.title,
        })
        .collect();
    public_json(&app, &PageList { items })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: words, "a phrase" in quotes, a prefix* (as on the site's search).
    q: String,
    /// Only articles in this section (its slug).
    section: Option<String>,
    /// Results per page, 1 to 50 (20 when not given).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
    /// The page of results, from 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    /// Articles that match in all.
    pub total: i64,
    pub page: u32,
    /// Best match first (relevance with a preference for recent stories).
    pub articles: Vec<Article>,
}

/// Search published articles
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "content",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching articles", body = SearchResults),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search(
    State(app): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query(params)?;
    let per_page = match params.limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=50 => n,
        n => return Err(Problem::bad_request(format!("`limit` must be from 1 to 50, not {n}."))),
    };
    let page = match params.page.unwrap_or(1) {
        n @ 1..=100_000 => n,
        n => return Err(Problem::bad_request(format!("`page` must be from 1 to 100000, not {n}."))),
    };
    let site = app.site.get_full();
    let section = match given(&params.section) {
        Some(slug) => Some(
            site.section_by_slug(slug).ok_or_else(|| Problem::not_found(&format!("section {slug:?}")))?.id,
        ),
        None => None,
    };
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let (query, total, ids) =
        crate::web::public::search::ranked(&app, &params.q, section, start + per_page as usize)
            .await
            .map_err(|e| match e {
                crate::web::error::WebError::Internal(e) => Problem::from(e),
                other => Problem::bad_request(other.to_string()),
            })?;
    let wanted: Vec<i64> = ids.into_iter().skip(start).take(per_page as usize).collect();
    let rows = api::articles_by_ids(&app.db, &wanted).await?;
    let articles = build(&app, &site, rows).await?;
    public_json(&app, &SearchResults { query, total, page, articles })
}
