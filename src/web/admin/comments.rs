//! Comment moderation: the queue (pending, approved, spam, trash, with counts and bulk
//! actions), editing a comment, replying as staff, and the discussion settings.
//!
//! Editors and Administrators moderate everything; Authors moderate comments on their own
//! articles; Contributors do not moderate. Every action checks this on the server.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::articles::staff_view;
use super::forms::{Fields, admit, get};
use super::session::Staff;
use crate::comments::{self, Moderation, Policy};
use crate::domain::Role;
use crate::domain::comment::CommentState;
use crate::storage::comments::{self as store, CommentRow, QueueFilter};
use crate::storage::users;
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

const PER_PAGE: i64 = 50;

/// Whether this staff member may moderate comments on this article.
async fn may_moderate(app: &AppState, staff: &Staff, article_id: i64) -> anyhow::Result<bool> {
    comments::may_moderate(&app.db, staff.user_id, staff.role, article_id).await
}

/// A posted form about one comment: role and CSRF token checked, the comment found, and the
/// staff member allowed to moderate it; otherwise the answer to give.
async fn admit_for(
    app: &AppState,
    staff: &Staff,
    id: i64,
    pairs: Vec<(String, String)>,
) -> WebResult<Result<(HashMap<String, String>, CommentRow), Response>> {
    let form = match admit(staff, Role::Author, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(Err(refused.into_response())),
    };
    let c = store::find(&app.db, id).await?.ok_or(WebError::NotFound)?;
    if !may_moderate(app, staff, c.article_id).await? {
        return Ok(Err(forbidden()));
    }
    Ok(Ok((form, c)))
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "Your role may not moderate these comments.").into_response()
}

#[derive(Debug, Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    article: String,
    page: Option<String>,
    #[serde(default)]
    done: String,
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    author: String,
    email: String,
    url: String,
    addr: String,
    body_html: String,
    status: String,
    reason: String,
    score: Option<i64>,
    staff: bool,
    created: String,
    article_id: i64,
    article: String,
    article_url: Option<String>,
    permalink: Option<String>,
}

fn row(app: &AppState, c: CommentRow) -> Row {
    let site = app.site.get();
    let views = app.views(&site);
    let article_url = c.article_published_at.map(|t| site.article_url(&c.article_slug, t));
    Row {
        permalink: (c.status == "approved")
            .then(|| article_url.clone().map(|u| format!("{u}#comment-{}", c.id)))
            .flatten(),
        article_url,
        id: c.id,
        author: c.author_name,
        email: c.author_email,
        url: c.author_url,
        addr: c.client_addr,
        body_html: c.body_html,
        status: c.status,
        reason: c.hold_reason,
        score: (c.spam_score >= 0.0).then(|| (c.spam_score * 100.0).round() as i64),
        staff: c.staff_user_id.is_some(),
        created: views.time(c.created_at).display,
        article_id: c.article_id,
        article: c.article_headline,
    }
}

/// `GET /admin/comments`: the queue.
pub async fn queue(
    State(app): State<AppState>,
    staff: Staff,
    Query(q): Query<QueueQuery>,
) -> WebResult<Response> {
    if staff.role < Role::Author {
        return Ok(forbidden());
    }
    let page = crate::web::public::PageQuery { page: q.page.clone() }.number()?;
    let status = CommentState::parse(&q.status).unwrap_or(CommentState::Pending);
    let owner = (staff.role < Role::Editor).then_some(staff.user_id);
    let filter = QueueFilter {
        status: Some(status),
        owner,
        article_id: q.article.parse().ok(),
        query: q.q.clone(),
        limit: PER_PAGE + 1,
        offset: (page - 1) * PER_PAGE,
    };
    let mut rows = store::queue(&app.db, &filter).await?;
    let more = rows.len() as i64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let counts: HashMap<String, i64> = store::counts(&app.db, owner).await?.into_iter().collect();
    let tabs: Vec<(String, i64)> = CommentState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), counts.get(s.as_str()).copied().unwrap_or(0)))
        .collect();
    let base = format!(
        "/admin/comments?status={}&q={}&article={}",
        status.as_str(),
        q.q.trim().replace(['&', '#', '?', '+', '%'], " "),
        q.article.trim().parse::<i64>().map(|n| n.to_string()).unwrap_or_default()
    );
    let body = app.theme.render(
        "admin/comments.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(&staff),
            status => status.as_str(),
            tabs => tabs,
            rows => rows.into_iter().map(|c| row(&app, c)).collect::<Vec<_>>(),
            q => q.q,
            article => q.article,
            page => page,
            prev_url => (page > 1).then(|| format!("{base}&page={}", page - 1)),
            next_url => more.then(|| format!("{base}&page={}", page + 1)),
            back => format!("{base}&page={page}"),
            done => q.done,
            keep_days => app.site.get().settings.comments.keep_days,
        },
    )?;
    Ok(Html(body).into_response())
}

/// `POST /admin/comments`: a bulk action on the ticked comments, or a one-comment action
/// (`one = ACTION:ID` from a row's button).
pub async fn act(
    State(app): State<AppState>,
    staff: Staff,
    axum::Form(pairs): Fields,
) -> WebResult<Response> {
    let ids: Vec<i64> =
        pairs.iter().filter(|(k, _)| k == "ids").filter_map(|(_, v)| v.parse().ok()).collect();
    let form = match admit(&staff, Role::Author, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let (action, ids) = match get(&form, "one").split_once(':') {
        Some((action, id)) => (action.to_owned(), id.parse().ok().into_iter().collect::<Vec<i64>>()),
        None => (get(&form, "action").to_owned(), ids),
    };
    let to = match action.as_str() {
        "approve" => CommentState::Approved,
        "unapprove" => CommentState::Pending,
        "spam" => CommentState::Spam,
        "trash" => CommentState::Trash,
        "restore" => CommentState::Pending,
        _ => return Err(WebError::BadRequest("Choose what to do with the selected comments.".into())),
    };
    let allowed = match staff.role {
        Role::Editor | Role::Administrator => true,
        Role::Author => store::all_owned(&app.db, staff.user_id, &ids).await?,
        Role::Contributor => false,
    };
    if !allowed {
        return Ok(forbidden());
    }
    // Where to go back to, checked before anything changes (a redirect that cannot be made
    // must not follow a moderation that was).
    let back = get(&form, "back");
    let back = if back.starts_with("/admin/comments") && crate::web::is_local_path(back) {
        back.to_owned()
    } else {
        "/admin/comments".to_owned()
    };
    let changed = comments::moderate(&app.db, &app.spam, &ids, to).await?;
    app.content_changed().await;
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{sep}done={changed}+{}", to.as_str())).into_response())
}

/// `GET /admin/comments/{id}`: one comment, to edit or answer.
pub async fn show(State(app): State<AppState>, staff: Staff, Path(id): Path<i64>) -> WebResult<Response> {
    comment_page(&app, &staff, id, None, StatusCode::OK).await
}

async fn comment_page(
    app: &AppState,
    staff: &Staff,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> WebResult<Response> {
    let c = store::find(&app.db, id).await?.ok_or(WebError::NotFound)?;
    if !may_moderate(app, staff, c.article_id).await? {
        return Ok(forbidden());
    }
    let text = c.body.clone();
    let body = app.theme.render(
        "admin/comment.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            c => row(app, c.clone()),
            text => text,
            user_agent => c.user_agent,
            learned => c.learned_as,
            error => error,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

/// `POST /admin/comments/{id}`: a moderator's edit.
pub async fn edit(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    axum::Form(pairs): Fields,
) -> WebResult<Response> {
    let (form, _) = match admit_for(&app, &staff, id, pairs).await? {
        Ok(admitted) => admitted,
        Err(refusal) => return Ok(refusal),
    };
    let text = form.get("comment").map_or("", String::as_str);
    match comments::edit(&app.db, id, get(&form, "author"), get(&form, "email"), get(&form, "url"), text)
        .await?
    {
        Ok(()) => {
            app.content_changed().await;
            Ok(Redirect::to(&format!("/admin/comments/{id}?saved=1")).into_response())
        }
        Err(problem) => {
            comment_page(&app, &staff, id, Some(problem.to_string()), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /admin/comments/{id}/reply`: an answer as staff, approved at once.
pub async fn reply(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    axum::Form(pairs): Fields,
) -> WebResult<Response> {
    let (form, c) = match admit_for(&app, &staff, id, pairs).await? {
        Ok(admitted) => admitted,
        Err(refusal) => return Ok(refusal),
    };
    let user = users::find(&app.db, staff.user_id).await?.ok_or(WebError::NotFound)?;
    let policy = app.site.get().settings.comments.clone();
    let text = form.get("reply").map_or("", String::as_str);
    match comments::staff_reply(&app.db, &policy, &c, (user.id, &user.name, &user.email), text).await? {
        Ok(new_id) => {
            app.content_changed().await;
            Ok(Redirect::to(&format!("/admin/comments/{new_id}?saved=1")).into_response())
        }
        Err(problem) => {
            comment_page(&app, &staff, id, Some(problem.to_string()), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `GET /admin/discussion`: the comment settings (Administrators).
pub async fn settings_show(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refusal) = super::forms::require(&staff, Role::Administrator) {
        return Ok(refusal);
    }
    let policy = app.site.get().settings.comments.clone();
    settings_page(&app, &staff, &policy.to_form(), None, false)
}

fn settings_page(
    app: &AppState,
    staff: &Staff,
    values: &HashMap<&'static str, String>,
    error: Option<&str>,
    saved: bool,
) -> WebResult<Response> {
    let body = app.theme.render(
        "admin/discussion.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            values => values,
            error => error,
            saved => saved,
            mark => {
                let mark = app.spam.mark();
                serde_json::json!({
                    "spam": mark.spam,
                    "not_spam": mark.not_spam,
                    "confirmed": mark.confirmed(),
                    "needed": crate::spam::MARK_CONFIRMATIONS,
                })
            },
        },
    )?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(body)).into_response())
}

/// `POST /admin/discussion`.
pub async fn settings_save(
    State(app): State<AppState>,
    staff: Staff,
    axum::Form(pairs): Fields,
) -> WebResult<Response> {
    let mut form = match admit(&staff, Role::Administrator, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    for check in ["enabled", "shipped_model", "spam_mark_from_start"] {
        form.insert(check.into(), if form.contains_key(check) { "true" } else { "false" }.into());
    }
    let numbers: [(&str, &str, std::ops::RangeInclusive<i64>); 8] = [
        ("max_links", "Links before a comment is held", 0..=100),
        ("close_after_days", "Days before comments close", 0..=36_500),
        ("max_depth", "Reply levels", 1..=10),
        ("threads_per_page", "Threads per page", 1..=500),
        ("min_seconds", "Seconds before a form may be sent", 0..=600),
        ("per_address_per_hour", "Comments per address per hour", 1..=1_000_000),
        ("per_email_per_hour", "Comments per email per hour", 1..=1_000_000),
        ("keep_days", "Days to keep spam and trash", 1..=3650),
    ];
    let mut problem = None;
    for (field, label, range) in &numbers {
        if !get(&form, field).parse::<i64>().is_ok_and(|n| range.contains(&n)) {
            problem =
                Some(format!("{label}: give a whole number from {} to {}.", range.start(), range.end()));
            break;
        }
    }
    if Moderation::parse(get(&form, "moderation")).is_none() {
        problem = Some("Choose who is approved without a moderator.".into());
    }
    if let Some(problem) = problem {
        let values = comments::SETTINGS
            .iter()
            .map(|(_, field)| (*field, form.get(*field).cloned().unwrap_or_default()))
            .collect();
        return settings_page(&app, &staff, &values, Some(&problem), false);
    }
    let current = crate::storage::settings::all(&app.db).await?;
    let mut tx = app.db.begin().await?;
    for (key, field) in comments::SETTINGS {
        let value = form.get(*field).map_or("", |v| v.trim());
        if current.get(*key).map(String::as_str) != Some(value) {
            crate::storage::settings::set(&mut tx, key, value).await?;
        }
    }
    tx.commit().await?;
    app.content_changed().await;
    let policy: Policy = app.site.get().settings.comments.clone();
    settings_page(&app, &staff, &policy.to_form(), None, true)
}
