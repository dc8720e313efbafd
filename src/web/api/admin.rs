//! The Admin API: what a newsroom's scripts do in the admin, with a token instead of a session
//! (see `auth`). Every change goes through the same domain functions as the admin's forms
//! (`content::save_article`, `content::set_featured_image`, `comments::moderate`, the picture
//! library), so roles, the workflow, versions, revisions and content events are the same.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{ApiUser, Scope};
use super::{ApiResult, Problem};
use crate::content::{self, SaveError};
use crate::domain::comment::CommentState;
use crate::domain::{ArticleStatus, CommentStatus, NewArticle, Slug};
use crate::storage::articles;
use crate::web::AppState;

/// Largest JSON body (an article's Markdown may be 1 MB).
pub const MAX_JSON_BYTES: usize = 2 << 20;

fn json_answer<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn body<T>(input: Result<axum::Json<T>, JsonRejection>) -> ApiResult<T> {
    input.map(|axum::Json(v)| v).map_err(|e| {
        let status = match &e {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        Problem::new(status, format!("The body is not what this address takes: {}", e.body_text()))
    })
}

fn path_id(p: Result<Path<i64>, PathRejection>) -> ApiResult<i64> {
    p.map(|Path(id)| id)
        .map_err(|e| Problem::bad_request(format!("The address is not valid: {}", e.body_text())))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(q)| q)
        .map_err(|e| Problem::bad_request(format!("The query is not valid: {}", e.body_text())))
}

/// An article as staff see it: every state, with its Markdown and version.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffArticle {
    pub id: i64,
    /// Send it back with a change: a change based on an older version is refused (409).
    pub version: i64,
    /// draft, pending, scheduled, published, unpublished or trashed.
    pub status: String,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    /// The text in Markdown (`> [!FIGURE]` and `> [!PULLQUOTE]` blocks included).
    pub body: String,
    pub excerpt: String,
    /// Section slugs, the primary first.
    pub sections: Vec<String>,
    /// Author slugs, in byline order.
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    /// When it was or will be published.
    #[schema(format = DateTime)]
    pub publish_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub comments_open: bool,
    pub correction: String,
    /// The featured picture's address (`/media/42` for a library picture).
    pub picture: Option<String>,
    /// Its address on the site (readers can open it once published).
    pub url: String,
}

fn rfc3339(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn staff_article(app: &AppState, id: i64) -> ApiResult<StaffArticle> {
    let row = articles::find_for_edit(&app.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("article with this id"))?;
    staff_article_from(app, row).await
}

/// [`staff_article`] from the row already read (by [`may_open`]).
async fn staff_article_from(app: &AppState, row: articles::EditRow) -> ApiResult<StaffArticle> {
    let id = row.id;
    let terms = articles::terms(&app.db, id).await?;
    let of = |kind: &str| terms.iter().filter(|t| t.kind == kind).map(|t| t.slug.clone()).collect::<Vec<_>>();
    let picture = articles::featured_image(&app.db, id).await?.and_then(|i| i.featured_image_url);
    let site = app.site.get();
    let url =
        app.views(&site).absolute(&site.article_url(&row.slug, row.published_at.unwrap_or(row.updated_at)));
    Ok(StaffArticle {
        id: row.id,
        version: row.version,
        status: row.status,
        sections: of("section"),
        authors: of("author"),
        tags: terms.iter().filter(|t| t.kind == "tag").map(|t| t.name.clone()).collect(),
        slug: row.slug,
        headline: row.headline,
        standfirst: row.standfirst,
        body: row.body_source,
        excerpt: row.excerpt,
        publish_at: row.published_at.map(rfc3339),
        updated_at: rfc3339(row.updated_at),
        comments_open: row.comment_status == "open",
        correction: row.correction,
        picture,
        url,
    })
}

/// May this token's owner open this article at all?
async fn may_open(app: &AppState, user: &ApiUser, id: i64) -> ApiResult<articles::EditRow> {
    let row = articles::find_for_edit(&app.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("article with this id"))?;
    if !user.role.can_edit(row.created_by == Some(user.user_id)) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!("A {} may not open others' articles.", user.role),
        ));
    }
    Ok(row)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffListParams {
    /// Only articles in this state.
    status: Option<String>,
    /// Articles per page, 1 to 100 (20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The page, from 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffArticleSummary {
    pub id: i64,
    pub status: String,
    pub headline: String,
    pub slug: String,
    pub section: String,
    #[schema(format = DateTime)]
    pub publish_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffArticleList {
    pub articles: Vec<StaffArticleSummary>,
    /// Articles in all (of this state).
    pub total: i64,
}

/// Articles in every state (most recently changed first)
///
/// Contributors and authors see the articles they created; editors and administrators all.
#[utoipa::path(
    get, path = "/api/v1/admin/articles", tag = "admin", params(StaffListParams),
    security(("token" = ["drafts:read"])),
    responses(
        (status = 200, description = "A page of articles", body = StaffArticleList),
        (status = 400, description = "A parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests with this token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    user: ApiUser,
    params: Result<Query<StaffListParams>, QueryRejection>,
) -> ApiResult<Response> {
    user.require(Scope::DraftsRead)?;
    let params = query(params)?;
    let status = match params.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => "",
        Some(s) => {
            s.parse::<ArticleStatus>().map_err(Problem::bad_request)?;
            s
        }
    };
    let limit = match params.limit.unwrap_or(20) {
        n @ 1..=100 => i64::from(n),
        n => return Err(Problem::bad_request(format!("`limit` must be from 1 to 100, not {n}."))),
    };
    let page = match params.page.unwrap_or(1) {
        n @ 1..=100_000 => i64::from(n),
        n => return Err(Problem::bad_request(format!("`page` must be from 1 to 100000, not {n}."))),
    };
    let owner = if user.role.sees_all_articles() { 0 } else { user.user_id };
    let filter = articles::AdminFilter { status, owner, ..Default::default() };
    let (rows, total) =
        articles::admin_list(&app.db, &filter, limit, (page - 1).saturating_mul(limit)).await?;
    let articles = rows
        .into_iter()
        .map(|r| StaffArticleSummary {
            id: r.id,
            status: r.status,
            headline: r.headline,
            slug: r.slug,
            section: r.section_name,
            publish_at: r.published_at.map(rfc3339),
            updated_at: rfc3339(r.updated_at),
        })
        .collect();
    Ok(json_answer(StatusCode::OK, &StaffArticleList { articles, total }))
}

/// One article in any state, with its Markdown and version
#[utoipa::path(
    get, path = "/api/v1/admin/articles/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The article's id")),
    security(("token" = ["drafts:read"])),
    responses(
        (status = 200, description = "The article", body = StaffArticle),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    user: ApiUser,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<Response> {
    user.require(Scope::DraftsRead)?;
    let id = path_id(id)?;
    let row = may_open(&app, &user, id).await?;
    Ok(json_answer(StatusCode::OK, &staff_article_from(&app, row).await?))
}

/// Deserializes a field that may be absent (None), null (Some(None)) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The featured picture of an article.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PictureInput {
    /// A picture in the library (see `POST /api/v1/admin/media`).
    pub id: i64,
    /// For readers who cannot see it; the library's own when not given (one of them must be).
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
}

/// An article to create, or the fields of one to change (those not given stay as they are).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    /// Required to create.
    pub headline: Option<String>,
    pub standfirst: Option<String>,
    /// The text in Markdown.
    pub body: Option<String>,
    /// Empty: the first paragraph.
    pub excerpt: Option<String>,
    /// Section slugs, the primary first; required to create.
    pub sections: Option<Vec<String>>,
    /// Author slugs, in byline order.
    pub authors: Option<Vec<String>>,
    /// Tag names (new ones are created).
    pub tags: Option<Vec<String>>,
    /// From the headline when not given.
    pub slug: Option<String>,
    /// draft (the default to create), pending, scheduled, published, unpublished, trashed;
    /// publishing, scheduling and unpublishing need the `articles:publish` scope.
    pub status: Option<String>,
    /// When to publish (scheduled) or when it was published; RFC 3339.
    #[schema(format = DateTime)]
    pub publish_at: Option<String>,
    pub comments_open: Option<bool>,
    /// A correction or update note, shown at the foot of the article with its time.
    pub correction: Option<String>,
    /// The featured picture; `null` takes it away.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PictureInput>)]
    pub picture: Option<Option<PictureInput>>,
    /// The version this change is based on (from the article as last read); required to
    /// change an article.
    pub version: Option<i64>,
}

fn slugs(list: &[String], what: &str) -> ApiResult<Vec<Slug>> {
    list.iter()
        .map(|s| {
            Slug::parse(s.trim())
                .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{what} {s:?}: {e}")))
        })
        .collect()
}

/// Builds the domain article from the input over the current one (for a change).
async fn merge(
    app: &AppState,
    input: &ArticleInput,
    current: Option<&StaffArticle>,
) -> ApiResult<(NewArticle, String)> {
    let invalid = |m: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let pick = |given: &Option<String>, had: Option<&String>| {
        given.clone().or_else(|| had.cloned()).unwrap_or_default()
    };
    let headline = pick(&input.headline, current.map(|c| &c.headline));
    if headline.trim().is_empty() {
        return Err(invalid("An article needs a headline.".into()));
    }
    let slug = match (&input.slug, current) {
        (Some(s), _) if !s.trim().is_empty() => {
            Slug::parse(s.trim()).map_err(|e| invalid(format!("slug: {e}")))?
        }
        (_, Some(c)) if input.slug.is_none() => Slug::parse(&c.slug).map_err(|e| invalid(e.to_string()))?,
        // A new article named by its headline: the first free address (`-2`, `-3`, ...), as
        // a script cannot answer "that slug is taken" the way an editor can.
        _ => free_slug(app, Slug::from_title(&headline), current.map(|c| c.id)).await?,
    };
    let sections = match (&input.sections, current) {
        (Some(s), _) => slugs(s, "section")?,
        (None, Some(c)) => slugs(&c.sections, "section")?,
        (None, None) => Vec::new(),
    };
    if sections.is_empty() {
        return Err(invalid("Name at least one section (`sections`, the primary first).".into()));
    }
    let site = app.site.get();
    if let Some(missing) = sections.iter().find(|s| site.section_by_slug(s.as_str()).is_none()) {
        return Err(invalid(format!("There is no section {:?}.", missing.as_str())));
    }
    let authors = match (&input.authors, current) {
        (Some(a), _) => slugs(a, "author")?,
        (None, Some(c)) => slugs(&c.authors, "author")?,
        (None, None) => Vec::new(),
    };
    for a in &authors {
        if crate::storage::people::find_by_slug(&app.db, a.as_str()).await?.is_none() {
            return Err(invalid(format!("There is no author {:?}.", a.as_str())));
        }
    }
    let status_text = pick(&input.status, current.map(|c| &c.status));
    let status = if status_text.is_empty() {
        ArticleStatus::Draft
    } else {
        status_text.parse::<ArticleStatus>().map_err(invalid)?
    };
    let published_at = match (&input.publish_at, current) {
        (Some(t), _) => Some(
            DateTime::parse_from_rfc3339(t.trim())
                .map_err(|_| invalid(format!("`publish_at` must be an RFC 3339 time, not {t:?}.")))?
                .timestamp(),
        ),
        (None, Some(c)) => {
            c.publish_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp())
        }
        (None, None) => None,
    };
    let article = NewArticle {
        external_id: None,
        slug,
        headline: headline.trim().to_owned(),
        standfirst: pick(&input.standfirst, current.map(|c| &c.standfirst)).trim().to_owned(),
        body_source: pick(&input.body, current.map(|c| &c.body)).replace("\r\n", "\n"),
        excerpt: pick(&input.excerpt, current.map(|c| &c.excerpt)),
        status,
        author_slugs: authors,
        section_slugs: sections,
        tags: match (&input.tags, current) {
            (Some(t), _) => t.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
            (None, Some(c)) => c.tags.clone(),
            (None, None) => Vec::new(),
        },
        featured_image: None,
        comment_status: if input.comments_open.or(current.map(|c| c.comments_open)).unwrap_or(true) {
            CommentStatus::Open
        } else {
            CommentStatus::Closed
        },
        published_at,
        sticky: false,
    };
    let correction = pick(&input.correction, current.map(|c| &c.correction));
    Ok((article, correction))
}

async fn free_slug(app: &AppState, wanted: Slug, except: Option<i64>) -> ApiResult<Slug> {
    let mut tx = app.db.begin().await?;
    let mut candidate = wanted.clone();
    for n in 2..1000 {
        if !articles::slug_taken(&mut tx, candidate.as_str(), except.unwrap_or(0)).await? {
            break;
        }
        candidate = Slug::parse(&format!("{}-{n}", wanted.as_str())).unwrap_or_else(|_| wanted.clone());
    }
    drop(tx); // read only: rolled back
    Ok(candidate)
}

/// The scope a save needs beyond `articles:write`: publishing in any form.
fn needs_publish(status: ArticleStatus, before: Option<&str>) -> bool {
    matches!(status, ArticleStatus::Published | ArticleStatus::Scheduled | ArticleStatus::Unpublished)
        || matches!(before, Some("published" | "scheduled"))
}

/// Saves a new article or a change. `writes` is false for publishing and unpublishing alone,
/// which need `articles:publish` but not `articles:write`.
async fn save(
    app: &AppState,
    user: &ApiUser,
    id: Option<i64>,
    input: ArticleInput,
    writes: bool,
) -> ApiResult<Response> {
    if writes {
        user.require(Scope::ArticlesWrite)?;
    }
    let (current, sticky) = match id {
        Some(id) => {
            let row = may_open(app, user, id).await?;
            let sticky = row.sticky != 0;
            (Some(staff_article_from(app, row).await?), sticky)
        }
        None => (None, false),
    };
    let version = match (id, input.version) {
        (Some(_), Some(v)) => v,
        (Some(_), None) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Send the `version` this change is based on (from the article as you last read it).",
            ));
        }
        (None, _) => 0,
    };
    let (mut article, correction) = merge(app, &input, current.as_ref()).await?;
    // "Keep at the top" is not a field of the API: a change keeps it as it is.
    article.sticky = sticky;
    // The picture is checked before anything is stored: a create refused for an unknown
    // picture must not leave an article behind (a retry would store a second).
    let picture = match &input.picture {
        Some(p) => Some(resolve_picture(app, p.as_ref()).await?),
        None => None,
    };
    if needs_publish(article.status, current.as_ref().map(|c| c.status.as_str())) {
        user.require(Scope::ArticlesPublish)?;
    }
    // A new article's byline: the token owner's author profile when none is named.
    if id.is_none()
        && article.author_slugs.is_empty()
        && let Some(slug) = crate::storage::users::author_slug(&app.db, user.user_id).await?
    {
        article.author_slugs = Slug::parse(&slug).into_iter().collect();
    }
    let saved = match content::save_article(&app.db, user.actor(), id, version, article, &correction).await {
        Ok(id) => id,
        Err(SaveError::Conflict) => {
            let newer = articles::find_for_edit(&app.db, id.unwrap_or_default()).await?.map(|r| r.version);
            let mut problem = Problem::new(
                StatusCode::CONFLICT,
                format!(
                    "The article changed since version {version}: it is at version {}. Read it again, apply your change to it and send that version.",
                    newer.unwrap_or_default()
                ),
            );
            problem.current_version = newer;
            return Err(problem);
        }
        Err(SaveError::Forbidden) => {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!("A {} may not make this change.", user.role),
            ));
        }
        Err(SaveError::NotFound) => return Err(Problem::not_found("article with this id")),
        Err(e @ SaveError::Invalid(_)) => {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()));
        }
        Err(SaveError::Internal(e)) => return Err(e.into()),
    };
    if let Some(image) = picture {
        set_picture(app, user, saved, image).await?;
    }
    app.content_changed().await;
    let status = if id.is_none() { StatusCode::CREATED } else { StatusCode::OK };
    let mut response = json_answer(status, &staff_article(app, saved).await?);
    if id.is_none()
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/admin/articles/{saved}"))
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The featured image an input names (None: remove it), or why not: an unknown picture, or one
/// without alt text.
async fn resolve_picture(
    app: &AppState,
    picture: Option<&PictureInput>,
) -> ApiResult<Option<crate::domain::article::FeaturedImage>> {
    let Some(p) = picture else { return Ok(None) };
    let row = crate::storage::pictures::get(&app.db, p.id).await?.ok_or_else(|| {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("There is no picture {}.", p.id))
    })?;
    let own = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let image = crate::domain::article::FeaturedImage {
        url: crate::media::markup::reference(p.id),
        alt: own(&p.alt).unwrap_or(row.alt),
        caption: own(&p.caption).unwrap_or_default(),
        credit: own(&p.credit).unwrap_or_default(),
    };
    content::check_featured_image(Some(&image.alt)).map_err(picture_problem)?;
    Ok(Some(image))
}

async fn set_picture(
    app: &AppState,
    user: &ApiUser,
    id: i64,
    image: Option<crate::domain::article::FeaturedImage>,
) -> ApiResult<()> {
    content::set_featured_image(&app.db, user.actor(), id, image).await.map_err(picture_problem)
}

/// What a refused featured image means to an API client.
fn picture_problem(e: SaveError) -> Problem {
    match e {
        SaveError::Invalid(m) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, m),
        SaveError::Forbidden => {
            Problem::new(StatusCode::FORBIDDEN, "You may not change this article's picture.")
        }
        SaveError::NotFound => Problem::not_found("article with this id"),
        SaveError::Conflict => Problem::new(StatusCode::CONFLICT, "The article changed meanwhile."),
        SaveError::Internal(e) => e.into(),
    }
}

/// Create an article
///
/// As a draft unless `status` says otherwise (publishing needs the `articles:publish` scope and
/// a role that may publish). The byline is the token owner's when `authors` is not given.
#[utoipa::path(
    post, path = "/api/v1/admin/articles", tag = "admin", request_body = ArticleInput,
    security(("token" = ["articles:write"])),
    responses(
        (status = 201, description = "Created; `Location` names it", body = StaffArticle),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 2 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid article (a field of the wrong type, unknown, or missing)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    user: ApiUser,
    input: Result<axum::Json<ArticleInput>, JsonRejection>,
) -> ApiResult<Response> {
    let input = body(input)?;
    save(&app, &user, None, input, true).await
}

/// Change an article
///
/// Only the fields given change. `version` must be the article's current version: a change
/// based on an older one is refused with 409 and the current version, so that nobody's edit is
/// overwritten unseen.
#[utoipa::path(
    patch, path = "/api/v1/admin/articles/{id}", tag = "admin", request_body = ArticleInput,
    params(("id" = i64, Path, description = "The article's id")),
    security(("token" = ["articles:write"])),
    responses(
        (status = 200, description = "Saved", body = StaffArticle),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Based on an older version (`current_version` names the newer)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 2 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid change", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    State(app): State<AppState>,
    user: ApiUser,
    id: Result<Path<i64>, PathRejection>,
    input: Result<axum::Json<ArticleInput>, JsonRejection>,
) -> ApiResult<Response> {
    let id = path_id(id)?;
    let input = body(input)?;
    save(&app, &user, Some(id), input, true).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    /// The version this is based on.
    pub version: i64,
    /// Publish at this time (RFC 3339): in the future, the article is scheduled; not given, now.
    #[schema(format = DateTime)]
    pub at: Option<String>,
}

/// Publish an article now, or schedule it
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/publish", tag = "admin", request_body = PublishInput,
    params(("id" = i64, Path, description = "The article's id")),
    security(("token" = ["articles:publish"])),
    responses(
        (status = 200, description = "Published or scheduled", body = StaffArticle),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Based on an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (e.g. a picture without alt text)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 2 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish(
    State(app): State<AppState>,
    user: ApiUser,
    id: Result<Path<i64>, PathRejection>,
    input: Result<axum::Json<PublishInput>, JsonRejection>,
) -> ApiResult<Response> {
    user.require(Scope::ArticlesPublish)?;
    let id = path_id(id)?;
    let input = body(input)?;
    let future = match &input.at {
        Some(t) => {
            DateTime::parse_from_rfc3339(t.trim())
                .map_err(|_| {
                    Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("`at` must be an RFC 3339 time, not {t:?}."),
                    )
                })?
                .timestamp()
                > crate::storage::now()
        }
        None => false,
    };
    let change = ArticleInput {
        status: Some(if future { "scheduled" } else { "published" }.to_owned()),
        publish_at: input.at.clone(),
        version: Some(input.version),
        ..Default::default()
    };
    save(&app, &user, Some(id), change, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnpublishInput {
    /// The version this is based on.
    pub version: i64,
}

/// Take an article off the site
#[utoipa::path(
    post, path = "/api/v1/admin/articles/{id}/unpublish", tag = "admin", request_body = UnpublishInput,
    params(("id" = i64, Path, description = "The article's id")),
    security(("token" = ["articles:publish"])),
    responses(
        (status = 200, description = "Unpublished", body = StaffArticle),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Based on an older version", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 2 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (a field of the wrong type, unknown or missing)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unpublish(
    State(app): State<AppState>,
    user: ApiUser,
    id: Result<Path<i64>, PathRejection>,
    input: Result<axum::Json<UnpublishInput>, JsonRejection>,
) -> ApiResult<Response> {
    user.require(Scope::ArticlesPublish)?;
    let id = path_id(id)?;
    let input = body(input)?;
    let change = ArticleInput {
        status: Some("unpublished".to_owned()),
        version: Some(input.version),
        ..Default::default()
    };
    save(&app, &user, Some(id), change, false).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaParams {
    /// The file's name (shown in the library; its extension must match its content).
    file_name: String,
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
}

/// A picture added to the library.
#[derive(Debug, Serialize, ToSchema)]
pub struct PictureAdded {
    pub id: i64,
    /// How articles name it (`picture.id` of an article, or in Markdown).
    pub reference: String,
    pub width: i64,
    pub height: i64,
    /// `processing` until every size is made (pages leave it out until then), then `ready`.
    pub state: String,
}

/// Add a picture to the library
///
/// The body is the file itself (JPEG, PNG, GIF or WebP, up to 40 MB), checked like an upload in
/// the admin; the same file sent twice is one picture.
#[utoipa::path(
    post, path = "/api/v1/admin/media", tag = "admin", params(MediaParams),
    request_body(content = Vec<u8>, content_type = "image/*", description = "The picture file"),
    security(("token" = ["media:write"])),
    responses(
        (status = 201, description = "Added (or already there)", body = PictureAdded),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 40 MB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a picture Gazette takes (the reason says why)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "A parameter is missing or not valid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_media(
    State(app): State<AppState>,
    user: ApiUser,
    params: Result<Query<MediaParams>, QueryRejection>,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    user.require(Scope::MediaWrite)?;
    let params = query(params)?;
    let bytes = bytes.map_err(|e| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The file could not be read whole ({}); the limit is {} MB.",
                e.body_text(),
                crate::media::library::MAX_BYTES >> 20
            ),
        )
    })?;
    let description = crate::storage::pictures::Description {
        alt: params.alt.unwrap_or_default(),
        caption: params.caption.unwrap_or_default(),
        credit: params.credit.unwrap_or_default(),
        focus: (5000, 5000),
    };
    let id = match crate::media::library::add(
        &app.db,
        &app.media.store,
        &bytes,
        &params.file_name,
        &description,
        Some(user.user_id),
    )
    .await
    {
        Ok(id) => id,
        Err(crate::media::library::AddError::Refused(why)) => {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, why.to_string()));
        }
        Err(crate::media::library::AddError::Internal(e)) => return Err(e.into()),
    };
    app.media.wake.notify_one();
    let row =
        crate::storage::pictures::get(&app.db, id).await?.ok_or_else(|| Problem::not_found("picture"))?;
    app.content_changed().await;
    Ok(json_answer(
        StatusCode::CREATED,
        &PictureAdded {
            id,
            reference: crate::media::markup::reference(id),
            width: row.width,
            height: row.height,
            state: row.state,
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentListParams {
    /// pending (the default), approved, spam or trash.
    status: Option<String>,
    /// Only comments on this article.
    article: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// A comment as moderators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffComment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub status: String,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    /// What the commenter wrote (plain text).
    pub body: String,
    /// The spam filter's probability.
    pub spam_score: f64,
    /// Why it was held, if it was.
    pub hold_reason: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<crate::storage::comments::CommentRow> for StaffComment {
    fn from(c: crate::storage::comments::CommentRow) -> Self {
        Self {
            id: c.id,
            article_id: c.article_id,
            parent_id: c.parent_id,
            status: c.status,
            author_name: c.author_name,
            author_email: c.author_email,
            author_url: c.author_url,
            body: c.body,
            spam_score: c.spam_score,
            hold_reason: c.hold_reason,
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffCommentList {
    pub comments: Vec<StaffComment>,
}

/// Comments to moderate, newest first
///
/// Editors and administrators see every comment; authors those on their own articles.
#[utoipa::path(
    get, path = "/api/v1/admin/comments", tag = "admin", params(CommentListParams),
    security(("token" = ["comments:moderate"])),
    responses(
        (status = 200, description = "Comments", body = StaffCommentList),
        (status = 400, description = "A parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn comments(
    State(app): State<AppState>,
    user: ApiUser,
    params: Result<Query<CommentListParams>, QueryRejection>,
) -> ApiResult<Response> {
    user.require(Scope::CommentsModerate)?;
    let params = query(params)?;
    let status = match params.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => CommentState::Pending,
        Some(s) => CommentState::parse(s).ok_or_else(|| {
            Problem::bad_request(format!("`status` is pending, approved, spam or trash, not {s:?}."))
        })?,
    };
    let limit = match params.limit.unwrap_or(50) {
        n @ 1..=100 => i64::from(n),
        n => return Err(Problem::bad_request(format!("`limit` must be from 1 to 100, not {n}."))),
    };
    let filter = crate::storage::comments::QueueFilter {
        status: Some(status),
        owner: (user.role < crate::domain::Role::Editor).then_some(user.user_id),
        article_id: params.article,
        query: String::new(),
        limit,
        offset: 0,
    };
    let comments = crate::storage::comments::queue(&app.db, &filter)
        .await?
        .into_iter()
        .map(StaffComment::from)
        .collect();
    Ok(json_answer(StatusCode::OK, &StaffCommentList { comments }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationInput {
    /// pending, approved, spam or trash. Marking spam (or approving what the filter doubted)
    /// teaches the spam filter, as in the admin.
    pub status: String,
}

/// Moderate a comment
#[utoipa::path(
    post, path = "/api/v1/admin/comments/{id}", tag = "admin", request_body = ModerationInput,
    params(("id" = i64, Path, description = "The comment's id")),
    security(("token" = ["comments:moderate"])),
    responses(
        (status = 200, description = "Moderated", body = StaffComment),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token or its owner may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a state", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 2 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn moderate(
    State(app): State<AppState>,
    user: ApiUser,
    id: Result<Path<i64>, PathRejection>,
    input: Result<axum::Json<ModerationInput>, JsonRejection>,
) -> ApiResult<Response> {
    user.require(Scope::CommentsModerate)?;
    let id = path_id(id)?;
    let input = body(input)?;
    let to = CommentState::parse(&input.status).ok_or_else(|| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`status` is pending, approved, spam or trash, not {:?}.", input.status),
        )
    })?;
    let c = crate::storage::comments::find(&app.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("comment with this id"))?;
    if !crate::comments::may_moderate(&app.db, user.user_id, user.role, c.article_id).await? {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!("A {} may not moderate comments on this article.", user.role),
        ));
    }
    crate::comments::moderate(&app.db, &app.spam, &[id], to).await?;
    app.content_changed().await;
    let c = crate::storage::comments::find(&app.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("comment with this id"))?;
    Ok(json_answer(StatusCode::OK, &StaffComment::from(c)))
}
