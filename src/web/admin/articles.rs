//! Articles in the admin: the list, the editor, and saving (create or update).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

use super::session::Staff;
use crate::content::{self, SaveError};
use crate::domain::{ArticleStatus, CommentStatus, NewArticle, Slug};
use crate::site::Site;
use crate::storage::{articles, people, users};
use crate::web::AppState;
use crate::web::error::{OrNotFound, WebError, WebResult};
use crate::web::views::Pagination;

const PER_PAGE: i64 = 30;

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    sort: String,
    page: Option<String>,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    headline: String,
    status: String,
    section: String,
    updated: String,
    published: Option<String>,
    /// The public address, for a published article.
    url: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let page = crate::web::public::PageQuery { page: q.page.clone() }.number()?;
    let status = if q.status.parse::<ArticleStatus>().is_ok() { q.status.as_str() } else { "" };
    let sort = if ["published", "headline"].contains(&q.sort.as_str()) { q.sort.as_str() } else { "updated" };
    let site = app.site.get();
    let authors = people::all(&app.db).await?;
    let filter = articles::AdminFilter {
        status,
        owner: if staff.role.sees_all_articles() { 0 } else { staff.user_id },
        author_id: authors.iter().find(|a| a.slug == q.author).map_or(0, |a| a.id),
        section_id: site.section_by_slug(&q.section).map_or(0, |s| s.id),
        text: q.q.trim(),
        sort,
    };
    let (rows, total) = articles::admin_list(&app.db, &filter, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let views = app.views(&site);
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            url: match (r.status.as_str(), r.published_at) {
                ("published", Some(t)) => Some(site.article_url(&r.slug, t)),
                _ => None,
            },
            published: r.published_at.map(|t| views.time(t).display),
            updated: views.time(r.updated_at).display,
            id: r.id,
            headline: r.headline,
            status: r.status,
            section: r.section_name,
        })
        .collect();
    let extra = format!(
        "status={status}&author={}&section={}&sort={sort}&q={}",
        if filter.author_id > 0 { q.author.as_str() } else { "" },
        if filter.section_id > 0 { q.section.as_str() } else { "" },
        q.q.trim().replace(['&', '#', '?', '+', '%'], " ")
    );
    let body = app.theme.render(
        "admin/articles.html",
        crate::view! {
            site_name => site.settings.name,
            staff => staff_view(&staff),
            rows => rows,
            status => status,
            q => q.q.trim(),
            author => q.author,
            section => q.section,
            sort => sort,
            authors => authors.iter().map(|a| (a.slug.clone(), a.name.clone())).collect::<Vec<_>>(),
            sections => site.sections.iter().map(|s| (s.slug.clone(), s.name.clone())).collect::<Vec<_>>(),
            statuses => ["draft", "pending", "scheduled", "published", "unpublished", "trashed"],
            pagination => Pagination::new("/admin/articles", &extra, page, PER_PAGE, total),
        },
    )?;
    Ok(Html(body).into_response())
}

#[derive(Serialize)]
pub(super) struct StaffView {
    name: String,
    role: String,
    csrf: String,
    can_set_sticky: bool,
}

pub(super) fn staff_view(staff: &Staff) -> StaffView {
    StaffView {
        name: staff.name.clone(),
        role: staff.role.to_string(),
        csrf: staff.csrf.clone(),
        can_set_sticky: staff.role.can_set_sticky(),
    }
}

/// What the editor form holds, in and out.
#[derive(Debug, Serialize, Default, Clone)]
struct Draft {
    id: Option<i64>,
    version: i64,
    headline: String,
    standfirst: String,
    slug: String,
    body: String,
    excerpt: String,
    primary_section: String,
    sections: Vec<String>,
    authors: Vec<String>,
    tags: String,
    status: String,
    publish_at: String,
    comments_open: bool,
    sticky: bool,
    correction: String,
}

impl Draft {
    fn from_pairs(pairs: Vec<(String, String)>) -> (Self, String) {
        let mut d = Draft::default();
        let mut csrf = String::new();
        for (k, v) in pairs {
            match k.as_str() {
                "_csrf" => csrf = v,
                "version" => d.version = v.parse().unwrap_or(0),
                "headline" => d.headline = v,
                "standfirst" => d.standfirst = v,
                "slug" => d.slug = v,
                "body" => d.body = v.replace("\r\n", "\n"),
                "excerpt" => d.excerpt = v,
                "primary_section" => d.primary_section = v,
                "sections" => d.sections.push(v),
                "authors" => d.authors.push(v),
                "tags" => d.tags = v,
                "status" => d.status = v,
                "publish_at" => d.publish_at = v,
                "comments_open" => d.comments_open = true,
                "sticky" => d.sticky = true,
                "correction" => d.correction = v,
                _ => {}
            }
        }
        (d, csrf)
    }

    /// Parses the form into a domain article, or says what is wrong.
    fn to_article(&self, site: &Site) -> Result<NewArticle, String> {
        let slug = if self.slug.trim().is_empty() {
            Slug::from_title(&self.headline)
        } else {
            Slug::parse(self.slug.trim()).map_err(|e| e.to_string())?
        };
        let status: ArticleStatus = self.status.parse().map_err(|_| "Choose a status.".to_owned())?;
        let primary = Slug::parse(&self.primary_section).map_err(|_| "Choose a section.".to_owned())?;
        let mut sections = vec![primary.clone()];
        sections.extend(self.sections.iter().filter_map(|s| Slug::parse(s).ok()).filter(|s| *s != primary));
        let published_at = match self.publish_at.trim() {
            "" => None,
            t => {
                let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
                    .map_err(|_| format!("{t:?} is not a date and time."))?;
                Some(
                    site.settings
                        .timezone
                        .from_local_datetime(&naive)
                        .earliest()
                        .ok_or_else(|| format!("{t} does not exist in the site's time zone."))?
                        .timestamp(),
                )
            }
        };
        Ok(NewArticle {
            external_id: None,
            slug,
            headline: self.headline.trim().to_owned(),
            standfirst: self.standfirst.trim().to_owned(),
            body_source: self.body.clone(),
            excerpt: self.excerpt.clone(),
            status,
            author_slugs: self.authors.iter().filter_map(|a| Slug::parse(a).ok()).collect(),
            section_slugs: sections,
            tags: self.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            featured_image: None,
            comment_status: if self.comments_open { CommentStatus::Open } else { CommentStatus::Closed },
            published_at,
            sticky: self.sticky,
        })
    }
}

async fn editor(
    app: &AppState,
    staff: &Staff,
    draft: &Draft,
    error: Option<String>,
    status: StatusCode,
) -> WebResult<Response> {
    editor_with_notice(app, staff, draft, error, Extras::default(), status).await
}

/// Optional parts of the editor page.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    /// The stored body against the submitted one, after a conflict.
    conflict: Option<Vec<super::revisions::Segment>>,
}

async fn editor_with_notice(
    app: &AppState,
    staff: &Staff,
    draft: &Draft,
    error: Option<String>,
    extras: Extras,
    status: StatusCode,
) -> WebResult<Response> {
    let autosave = match draft.id {
        Some(id) if extras.notice.is_none() => articles::pending_autosave(&app.db, id, staff.user_id)
            .await?
            .map(|(rid, at)| (rid, app.site.get().local(at).format("%-d %B, %H:%M").to_string())),
        _ => None,
    };
    let site = app.site.get();
    let authors = people::all(&app.db).await?;
    let allowed: Vec<&str> = ["draft", "pending", "scheduled", "published", "unpublished", "trashed"]
        .into_iter()
        .filter(|s| s.parse::<ArticleStatus>().is_ok_and(|st| staff.role.can_set_status(st, true)))
        .collect();
    let related = match draft.id {
        Some(id) => {
            let (pins, excludes) = crate::storage::related::overrides(&app.db, id).await?;
            let shown = crate::storage::related::cards(&app.db, id).await?;
            let excluded = crate::storage::related::cards_by_id(&app.db, &excludes).await?;
            let row = |c: &crate::storage::articles::CardRow, kind: &str| serde_json::json!({ "slug": c.slug, "headline": c.headline, "kind": kind });
            let mut items: Vec<serde_json::Value> = shown
                .iter()
                .map(|c| row(c, if pins.contains(&c.id) { "pinned" } else { "computed" }))
                .collect();
            items.extend(excluded.iter().map(|c| row(c, "excluded")));
            items
        }
        None => Vec::new(),
    };
    let (revisions, previews, image) = match draft.id {
        Some(id) => (
            articles::revision_count(&app.db, id).await?,
            articles::preview_link_count(&app.db, id).await?,
            match articles::featured_image(&app.db, id).await? {
                Some(articles::ImageRow { featured_image_url: Some(url), featured_image_alt, .. }) => {
                    Some((thumbnail(app, &url).await?, featured_image_alt.unwrap_or_default()))
                }
                _ => None,
            },
        ),
        None => (0, 0, None),
    };
    let body = app.theme.render(
        "admin/editor.html",
        crate::view! {
            site_name => site.settings.name,
            staff => staff_view(staff),
            draft => draft,
            error => error,
            notice => extras.notice,
            conflict => extras.conflict,
            autosave => autosave,
            sections => site.sections.iter().map(|s| (s.slug.clone(), s.name.clone())).collect::<Vec<_>>(),
            authors => authors.iter().map(|a| (a.slug.clone(), a.name.clone())).collect::<Vec<_>>(),
            statuses => allowed,
            revisions => revisions,
            previews => previews,
            image => image,
            related => related,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

pub async fn new(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    let me = users::author_slug(&app.db, staff.user_id).await?;
    let draft = Draft {
        status: "draft".into(),
        comments_open: true,
        authors: me.into_iter().collect(),
        primary_section: app.site.get().main_sections().next().map(|s| s.slug.clone()).unwrap_or_default(),
        ..Draft::default()
    };
    editor(&app, &staff, &draft, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct EditQuery {
    revision: Option<i64>,
    saved: Option<String>,
    preview: Option<String>,
}

pub async fn edit(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<EditQuery>,
) -> WebResult<Response> {
    let row = articles::find_for_edit(&app.db, id).await.or_404()?;
    if !staff.role.can_edit(row.created_by == Some(staff.user_id)) {
        return Ok((StatusCode::FORBIDDEN, "You may not edit this article.").into_response());
    }
    let terms = articles::terms(&app.db, id).await?;
    let site = app.site.get();
    let of = |kind: &str| terms.iter().filter(|t| t.kind == kind).map(|t| t.slug.clone()).collect::<Vec<_>>();
    let sections = of("section");
    let draft = Draft {
        id: Some(row.id),
        version: row.version,
        headline: row.headline,
        standfirst: row.standfirst,
        slug: row.slug,
        body: row.body_source,
        excerpt: row.excerpt,
        primary_section: sections.first().cloned().unwrap_or_default(),
        sections: sections.into_iter().skip(1).collect(),
        authors: of("author"),
        tags: terms.iter().filter(|t| t.kind == "tag").map(|t| t.name.clone()).collect::<Vec<_>>().join(", "),
        status: row.status,
        publish_at: row
            .published_at
            .map(|t| site.local(t).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        comments_open: row.comment_status == "open",
        sticky: row.sticky != 0,
        correction: row.correction,
    };
    let mut draft = draft;
    let mut notice = q.saved.map(|_| "Saved.".to_owned());
    if let Some(token) = q.preview.filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())) {
        let base = app.base_url.as_deref().unwrap_or("");
        notice = Some(format!(
            "Preview link (shown once; anyone with it can read this article until you revoke it): {base}/preview/{token}"
        ));
    }
    if let Some(rid) = q.revision {
        let revisions = articles::revisions(&app.db, id).await?;
        let r = revisions.iter().find(|r| r.id == rid).ok_or(WebError::NotFound)?;
        draft.headline.clone_from(&r.headline);
        draft.standfirst.clone_from(&r.standfirst);
        draft.body.clone_from(&r.body_source);
        draft.slug.clone_from(&r.slug);
        notice = Some(format!(
            "This is the text of the revision of {}. Save to restore it; the current text stays in the history.",
            site.local(r.created_at).format("%-d %B %Y, %H:%M")
        ));
    }
    editor_with_notice(&app, &staff, &draft, None, Extras { notice, conflict: None }, StatusCode::OK).await
}

pub async fn create(
    State(app): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    submit(&app, &staff, None, pairs).await
}

pub async fn save(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    submit(&app, &staff, Some(id), pairs).await
}

async fn submit(
    app: &AppState,
    staff: &Staff,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> WebResult<Response> {
    let (mut draft, csrf) = Draft::from_pairs(pairs);
    if let Err(refused) = staff.check_csrf(&csrf) {
        return Ok(refused.into_response());
    }
    draft.id = id;
    // Whose article it is, before what the form says: a change nobody may make is refused as
    // such, not for an empty headline.
    if let Some(id) = id
        && let Some(refused) = refused_article(app, staff, id).await?
    {
        return Ok(refused);
    }
    let article = match draft.to_article(&app.site.get()) {
        Ok(a) => a,
        Err(message) => {
            return editor(app, staff, &draft, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match content::save_article(&app.db, staff.actor(), id, draft.version, article, &draft.correction).await {
        Ok(id) => {
            app.content_changed().await;
            Ok(Redirect::to(&format!("/admin/articles/{id}?saved=1")).into_response())
        }
        Err(SaveError::Forbidden) => {
            Ok((StatusCode::FORBIDDEN, "You may not make this change.").into_response())
        }
        Err(SaveError::NotFound) => Err(WebError::NotFound),
        Err(SaveError::Internal(e)) => Err(WebError::Internal(e)),
        Err(e @ SaveError::Conflict) => {
            let stored = match id {
                Some(id) => {
                    articles::find_for_edit(&app.db, id).await?.map(|r| r.body_source).unwrap_or_default()
                }
                None => String::new(),
            };
            let extras =
                Extras { notice: None, conflict: Some(super::revisions::diff(&stored, &draft.body)) };
            editor_with_notice(app, staff, &draft, Some(e.to_string()), extras, StatusCode::CONFLICT).await
        }
        Err(e @ SaveError::Invalid(_)) => {
            editor(app, staff, &draft, Some(e.to_string()), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The editor's view of a featured image: a library picture's 640 file once its files are made
/// (None while they are: the editor says so rather than show a broken picture), any other
/// address as it is. Read from the store, not the snapshot, which follows a moment later.
async fn thumbnail(app: &AppState, url: &str) -> anyhow::Result<Option<String>> {
    let Some(id) = crate::media::markup::picture_id(url) else {
        return Ok(Some(url.to_owned()));
    };
    Ok(crate::storage::pictures::get(&app.db, id)
        .await?
        .filter(|row| row.state == "ready")
        .map(|row| crate::media::markup::PictureRef::from(&row).plain_url(640)))
}

/// Checks the form's token and that the staff member may edit article `id`; `Some(answer)`
/// when the request must stop here.
async fn may_edit(
    app: &AppState,
    staff: &Staff,
    id: i64,
    pairs: Vec<(String, String)>,
) -> WebResult<Option<Response>> {
    let csrf = pairs.iter().find(|(k, _)| k == "_csrf").map_or("", |(_, v)| v.as_str());
    if let Err(refused) = staff.check_csrf(csrf) {
        return Ok(Some(refused.into_response()));
    }
    refused_article(app, staff, id).await
}

/// `Some(403)` when the staff member may not change article `id` (a 404 when there is none).
async fn refused_article(app: &AppState, staff: &Staff, id: i64) -> WebResult<Option<Response>> {
    let row = articles::find_for_edit(&app.db, id).await.or_404()?;
    if !staff.role.can_edit(row.created_by == Some(staff.user_id)) {
        return Ok(Some((StatusCode::FORBIDDEN, "You may not change this article.").into_response()));
    }
    Ok(None)
}

/// Creates a preview link for an article and shows it once, in the editor.
pub async fn create_preview(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    if let Some(stop) = may_edit(&app, &staff, id, pairs).await? {
        return Ok(stop);
    }
    let token = crate::accounts::random_token();
    let mut tx = app.db.begin().await?;
    articles::add_preview_link(&mut tx, id, &crate::accounts::token_hash(&token), staff.user_id).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/articles/{id}?preview={token}")).into_response())
}

/// Revokes every preview link of an article.
pub async fn revoke_previews(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    if let Some(stop) = may_edit(&app, &staff, id, pairs).await? {
        return Ok(stop);
    }
    let mut tx = app.db.begin().await?;
    articles::revoke_preview_links(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/articles/{id}")).into_response())
}

/// Pins, excludes or clears one article on this article's related list (Editors and
/// Administrators). The list is computed again within seconds.
pub async fn related_choice(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let form = match super::forms::admit(&staff, crate::domain::Role::Editor, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let target = super::forms::get(&form, "related");
    // A slug, or an article's address: its last path segment.
    let slug = target.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned();
    let other: Option<(i64,)> =
        crate::fetch_optional!(&app.db, (i64,), "SELECT id FROM articles WHERE slug = $1", &slug)
            .map_err(anyhow::Error::from)?;
    let Some((other,)) = other.filter(|(o,)| *o != id) else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("No other article has the address or slug {target:?}."),
        )
            .into_response());
    };
    let kind = match super::forms::get(&form, "action") {
        "pin" => Some("pin"),
        "exclude" => Some("exclude"),
        "clear" => None,
        _ => return Err(WebError::BadRequest("Choose pin, exclude or clear.".into())),
    };
    articles::find_for_edit(&app.db, id).await?.ok_or(WebError::NotFound)?;
    let mut tx = app.db.begin().await?;
    crate::storage::related::set_override(&mut tx, id, other, kind).await?;
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to(&format!("/admin/articles/{id}#related-heading")).into_response())
}

/// Uploads (or removes, with `remove`) the featured image of an article.
pub async fn upload_image(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> WebResult<Response> {
    use super::forms::{get, read_upload, store_image};
    let (fields, upload) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(refused) => return Ok(refused),
    };
    if let Err(refused) = staff.check_csrf(get(&fields, "_csrf")) {
        return Ok(refused.into_response());
    }
    let chosen = crate::media::markup::picture_id(&format!("/media/{}", get(&fields, "picture")));
    let image = if fields.contains_key("remove") {
        None
    } else if let Some(picture) = chosen {
        // A picture from the library: its own description unless the form gives one.
        let row = crate::storage::pictures::get(&app.db, picture).await?.ok_or(WebError::NotFound)?;
        let or = |field: &str, own: &str| {
            let v = get(&fields, field);
            if v.is_empty() { own.to_owned() } else { v.to_owned() }
        };
        Some(crate::domain::article::FeaturedImage {
            url: crate::media::markup::reference(picture),
            alt: or("alt", &row.alt),
            caption: or("caption", ""),
            credit: or("credit", ""),
        })
    } else {
        // Allowed, and described, before the upload joins the library.
        if let Err(e) =
            content::may_set_featured_image(&app.db, staff.actor(), id, Some(get(&fields, "alt"))).await
        {
            return image_refused(e);
        }
        let description = crate::storage::pictures::Description {
            alt: get(&fields, "alt").to_owned(),
            caption: get(&fields, "caption").to_owned(),
            credit: get(&fields, "credit").to_owned(),
            focus: (5000, 5000),
        };
        let url = match store_image(&app, &staff, &upload, &description).await {
            Ok(url) => url,
            Err(answer) => return Ok(answer),
        };
        Some(crate::domain::article::FeaturedImage {
            url,
            alt: get(&fields, "alt").to_owned(),
            caption: get(&fields, "caption").to_owned(),
            credit: get(&fields, "credit").to_owned(),
        })
    };
    match content::set_featured_image(&app.db, staff.actor(), id, image).await {
        Ok(()) => {
            app.content_changed().await;
            Ok(Redirect::to(&format!("/admin/articles/{id}?saved=1")).into_response())
        }
        Err(e) => image_refused(e),
    }
}

fn image_refused(e: SaveError) -> WebResult<Response> {
    match e {
        SaveError::Forbidden => Ok((StatusCode::FORBIDDEN, "You may not make this change.").into_response()),
        SaveError::NotFound => Err(WebError::NotFound),
        SaveError::Internal(e) => Err(WebError::Internal(e)),
        e => Ok((StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()),
    }
}

/// `POST /admin/preview`: the body rendered by the same code as the site, for the live preview.
pub async fn preview_markdown(
    State(app): State<AppState>,
    staff: Staff,
    headers: axum::http::HeaderMap,
    axum::Json(input): axum::Json<PreviewInput>,
) -> Response {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Err(refused) = staff.check_csrf(token) {
        return refused.into_response();
    }
    let rendered = match content::render(&input.body).await {
        Ok(r) => r,
        Err(e) => return WebError::Internal(e).into_response(),
    };
    match rendered {
        Ok(r) => {
            // Library pictures as readers will get them.
            let html = app.views(&app.site.get()).body_with(
                &r.html,
                "<span class=\"picture-pending\">The picture is being made into sizes for phones and \
                 screens; it shows here in a moment.</span>",
            );
            axum::Json(serde_json::json!({ "html": html, "words": r.word_count })).into_response()
        }
        Err(e @ crate::domain::markdown::RenderError::TooLong(_)) => {
            (StatusCode::PAYLOAD_TOO_LARGE, e.to_string()).into_response()
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct PreviewInput {
    body: String,
}

/// `POST /admin/articles/{id}/autosave`: keeps the form's text as this user's autosave.
/// `POST /admin/articles/autosave` (no id): creates the article as a draft first.
pub async fn autosave(
    State(app): State<AppState>,
    staff: Staff,
    id: Option<Path<i64>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (mut draft, csrf) = Draft::from_pairs(pairs);
    if let Err(refused) = staff.check_csrf(&csrf) {
        return refused.into_response();
    }
    if let Some(Path(id)) = &id {
        match refused_article(&app, &staff, *id).await {
            Ok(None) => {}
            Ok(Some(refused)) => return refused,
            Err(e) => return e.into_response(),
        }
    }
    if draft.headline.trim().is_empty() {
        return (StatusCode::UNPROCESSABLE_ENTITY, "Nothing to save yet: the headline is empty.")
            .into_response();
    }
    let result = match id {
        Some(Path(id)) => match draft.to_article(&app.site.get()) {
            Ok(article) => {
                content::autosave(&app.db, staff.actor(), id, &article).await.map(|()| (id, draft.version))
            }
            Err(message) => Err(SaveError::Invalid(message)),
        },
        None => {
            draft.status = "draft".into();
            draft.publish_at.clear();
            match draft.to_article(&app.site.get()) {
                Ok(article) => {
                    content::save_article(&app.db, staff.actor(), None, 0, article, &draft.correction)
                        .await
                        .map(|id| (id, 1))
                }
                Err(message) => Err(SaveError::Invalid(message)),
            }
        }
    };
    match result {
        Ok((id, version)) => axum::Json(serde_json::json!({
            "id": id,
            "version": version,
            "action": format!("/admin/articles/{id}"),
            "saved_at": app.site.get().local(crate::storage::now()).format("%H:%M:%S").to_string(),
        }))
        .into_response(),
        Err(SaveError::Forbidden) => {
            (StatusCode::FORBIDDEN, "You may not edit this article.").into_response()
        }
        Err(SaveError::NotFound) => (StatusCode::NOT_FOUND, "The article is gone.").into_response(),
        Err(SaveError::Internal(e)) => WebError::Internal(e).into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}
