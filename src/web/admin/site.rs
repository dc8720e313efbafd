//! Site-wide administration: static pages (editors), users and settings (administrators).

use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::articles::staff_view;
use super::forms::{Fields, admit, get, list_page, read_upload, require, store_image};
use super::session::Staff;
use crate::accounts;
use crate::domain::{NewAuthor, NewPage, Role, Slug};
use crate::storage::{pages, people, settings, users};
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

async fn render(
    app: &AppState,
    name: &str,
    ctx: minijinja::Value,
    error: Option<String>,
) -> WebResult<Response> {
    let body = app.theme.render(name, ctx)?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(body)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Static pages
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct PageView {
    id: i64,
    slug: String,
    title: String,
    body: String,
    published: bool,
    in_footer: bool,
}

async fn pages_page(
    app: &AppState,
    staff: &Staff,
    editing: Option<i64>,
    error: Option<String>,
) -> WebResult<Response> {
    let all: Vec<PageView> = pages::all(&app.db)
        .await?
        .into_iter()
        .map(|p| PageView {
            id: p.id,
            slug: p.slug,
            title: p.title,
            body: p.body_source,
            published: p.status == "published",
            in_footer: p.in_footer == 1,
        })
        .collect();
    list_page(app, staff, "admin/pages.html", all, |p| p.id, editing, error).await
}

pub async fn pages_list(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
    }
    pages_page(&app, &staff, None, None).await
}

pub async fn page_edit(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
    }
    pages_page(&app, &staff, Some(id), None).await
}

pub async fn page_save(
    State(app): State<AppState>,
    staff: Staff,
    id: Option<Path<i64>>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Editor, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let id = id.map(|p| p.0);
    let title = get(&form, "title");
    if title.is_empty() {
        return pages_page(&app, &staff, id, Some("A page needs a title.".into())).await;
    }
    let slug = match get(&form, "slug") {
        "" => Slug::from_title(title),
        s => match Slug::parse(s) {
            Ok(slug) => slug,
            Err(e) => return pages_page(&app, &staff, id, Some(e.to_string())).await,
        },
    };
    if crate::web::public::archive::parse_year(slug.as_str()).is_some() {
        return pages_page(&app, &staff, id, Some("A page address cannot be a year.".into())).await;
    }
    let page = NewPage {
        slug,
        title: title.to_owned(),
        body_source: form.get("body").cloned().unwrap_or_default(),
        in_footer: form.contains_key("in_footer"),
    };
    let mut tx = app.db.begin().await?;
    if pages::slug_taken(&mut tx, page.slug.as_str(), id.unwrap_or(0)).await? {
        return pages_page(&app, &staff, id, Some(format!("The address /{}/ is already used.", page.slug)))
            .await;
    }
    if form.contains_key("delete") {
        pages::delete(&mut tx, id.ok_or(WebError::NotFound)?).await?;
    } else {
        pages::save(&mut tx, id, &page, form.contains_key("published")).await?;
    }
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to("/admin/pages").into_response())
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct UserView {
    id: i64,
    email: String,
    name: String,
    role: String,
}

async fn users_page(app: &AppState, staff: &Staff, error: Option<String>) -> WebResult<Response> {
    let list: Vec<UserView> = users::list(&app.db)
        .await?
        .into_iter()
        .map(|u| UserView { id: u.id, email: u.email, name: u.name, role: u.role })
        .collect();
    let ctx = crate::view! {
        site_name => app.site.get().settings.name,
        staff => staff_view(staff),
        users => list,
        me => staff.user_id,
        roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        error => error,
    };
    render(app, "admin/users.html", ctx, error).await
}

pub async fn users_list(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    users_page(&app, &staff, None).await
}

pub async fn user_create(
    State(app): State<AppState>,
    staff: Staff,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Administrator, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let role = match get(&form, "role").parse::<Role>() {
        Ok(role) => role,
        Err(e) => return users_page(&app, &staff, Some(e)).await,
    };
    let password = form.get("password").cloned().unwrap_or_default();
    match accounts::create_user(&app.db, get(&form, "email"), get(&form, "name"), role, &password).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => users_page(&app, &staff, Some(format!("{e:#}"))).await,
    }
}

/// Changes a user's role, sets a new password (`password`), or removes the user (`delete`).
pub async fn user_change(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Administrator, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let all = users::list(&app.db).await?;
    let user = all.iter().find(|u| u.id == id).ok_or(WebError::NotFound)?;
    let admins = all.iter().filter(|u| u.role() == Role::Administrator).count();
    let is_last_admin = user.role() == Role::Administrator && admins == 1;
    let mut tx = app.db.begin().await?;
    if form.contains_key("delete") {
        if id == staff.user_id || is_last_admin {
            return users_page(
                &app,
                &staff,
                Some("You cannot remove yourself or the last administrator.".into()),
            )
            .await;
        }
        users::delete(&mut tx, id).await?;
    } else if !get(&form, "password").is_empty() {
        drop(tx);
        return match accounts::reset_password(&app.db, &user.email, get(&form, "password")).await {
            Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
            Err(e) => users_page(&app, &staff, Some(format!("{e:#}"))).await,
        };
    } else {
        let role = match get(&form, "role").parse::<Role>() {
            Ok(role) => role,
            Err(e) => return users_page(&app, &staff, Some(e)).await,
        };
        if is_last_admin && role != Role::Administrator {
            return users_page(&app, &staff, Some("The site needs at least one administrator.".into())).await;
        }
        users::set_role(&mut tx, id, role).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/users").into_response())
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const SETTINGS: [(&str, &str); 8] = [
    ("site.name", "name"),
    ("site.tagline", "tagline"),
    ("site.description", "description"),
    ("site.language", "language"),
    ("site.timezone", "timezone"),
    ("site.per_page", "per_page"),
    ("site.permalink", "permalink"),
    ("site.websub_hub", "websub_hub"),
];

async fn settings_page(
    app: &AppState,
    staff: &Staff,
    error: Option<String>,
    saved: bool,
) -> WebResult<Response> {
    let site = app.site.get();
    let values = crate::view! {
        name => site.settings.name,
        tagline => site.settings.tagline,
        description => site.settings.description,
        language => site.settings.language,
        timezone => site.settings.timezone.name(),
        per_page => site.settings.per_page,
        permalink => if site.permalink == crate::config::PermalinkStyle::Slug { "slug" } else { "date" },
        logo => site.settings.logo,
        websub_hub => site.settings.websub_hub,
    };
    let ctx = crate::view! {
        site_name => site.settings.name,
        staff => staff_view(staff),
        values => values,
        saved => saved,
        error => error,
    };
    render(app, "admin/settings.html", ctx, error).await
}

pub async fn settings_show(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    settings_page(&app, &staff, None, false).await
}

pub async fn settings_save(
    State(app): State<AppState>,
    staff: Staff,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Administrator, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let problem = if get(&form, "name").is_empty() {
        Some("The site needs a name.".to_owned())
    } else if get(&form, "timezone").parse::<chrono_tz::Tz>().is_err() {
        Some(format!("{:?} is not a time zone name such as Europe/London.", get(&form, "timezone")))
    } else if !get(&form, "per_page").parse::<i64>().is_ok_and(|n| (1..=100).contains(&n)) {
        Some("Articles per page must be a number from 1 to 100.".to_owned())
    } else if !["date", "slug"].contains(&get(&form, "permalink")) {
        Some("Choose an address scheme.".to_owned())
    } else if !matches!(get(&form, "websub_hub"), "")
        && !["https://", "http://"].iter().any(|scheme| get(&form, "websub_hub").starts_with(scheme))
    {
        Some("The WebSub hub must be an http:// or https:// address, or empty.".to_owned())
    } else if get(&form, "language").is_empty() || get(&form, "language").len() > 35 {
        Some("Give a language code such as en or en-GB.".to_owned())
    } else {
        None
    };
    if problem.is_some() {
        return settings_page(&app, &staff, problem, false).await;
    }
    let current = settings::all(&app.db).await?;
    let mut tx = app.db.begin().await?;
    for (key, field) in SETTINGS {
        let value = get(&form, field);
        if current.get(key).map(String::as_str) != Some(value) {
            settings::set(&mut tx, key, value).await?;
        }
    }
    tx.commit().await?;
    app.content_changed().await;
    settings_page(&app, &staff, None, true).await
}

// ---------------------------------------------------------------------------------------------
// Authors (bylines)
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct AuthorView {
    id: i64,
    slug: String,
    name: String,
    bio: String,
    photo_url: Option<String>,
    articles: i64,
}

async fn authors_page(
    app: &AppState,
    staff: &Staff,
    editing: Option<i64>,
    error: Option<String>,
) -> WebResult<Response> {
    let all: Vec<AuthorView> = people::with_counts(&app.db)
        .await?
        .into_iter()
        .map(|a| AuthorView {
            id: a.id,
            slug: a.slug,
            name: a.name,
            bio: a.bio,
            photo_url: a.photo_url,
            articles: a.articles,
        })
        .collect();
    list_page(app, staff, "admin/authors.html", all, |a| a.id, editing, error).await
}

pub async fn authors_list(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
    }
    authors_page(&app, &staff, None, None).await
}

pub async fn author_edit(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
    }
    authors_page(&app, &staff, Some(id), None).await
}

/// Creates (no id), updates, or deletes (`delete`, with `replacement`) an author.
pub async fn author_save(
    State(app): State<AppState>,
    staff: Staff,
    id: Option<Path<i64>>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Editor, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let id = id.map(|p| p.0);
    let all = people::with_counts(&app.db).await?;
    let current = match id {
        Some(id) => Some(all.iter().find(|a| a.id == id).ok_or(WebError::NotFound)?),
        None => None,
    };
    let mut tx = app.db.begin().await?;
    if let (Some(author), true) = (current, form.contains_key("delete")) {
        let replacement = all.iter().find(|a| a.slug == get(&form, "replacement") && a.id != author.id);
        if author.articles > 0 && replacement.is_none() {
            let message = format!(
                "{} has {} articles: choose who takes over the byline.",
                author.name, author.articles
            );
            return authors_page(&app, &staff, Some(author.id), Some(message)).await;
        }
        people::delete(&mut tx, author.id, replacement.map(|r| r.id)).await?;
    } else {
        let name = get(&form, "name");
        if name.is_empty() {
            return authors_page(&app, &staff, id, Some("An author needs a name.".into())).await;
        }
        let slug = match get(&form, "slug") {
            "" => Slug::from_title(name),
            s => match Slug::parse(s) {
                Ok(slug) => slug,
                Err(e) => return authors_page(&app, &staff, id, Some(e.to_string())).await,
            },
        };
        if people::slug_taken(&mut tx, slug.as_str(), id.unwrap_or(0)).await? {
            return authors_page(
                &app,
                &staff,
                id,
                Some(format!("The address /author/{slug}/ is already used.")),
            )
            .await;
        }
        let author = NewAuthor {
            slug,
            name: name.to_owned(),
            bio: get(&form, "bio").to_owned(),
            photo_url: current.and_then(|a| a.photo_url.clone()),
        };
        match id {
            Some(id) => people::update(&mut tx, id, &author).await?,
            None => {
                people::ensure(&mut tx, &author).await?;
            }
        }
    }
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to("/admin/authors").into_response())
}

/// `POST /admin/authors/{id}/photo`: the author's photo (multipart, field `file`).
pub async fn author_photo(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> WebResult<Response> {
    let (fields, upload) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(refused) => return Ok(refused),
    };
    if let Err(refused) = admit(&staff, Role::Editor, fields.into_iter().collect()) {
        return Ok(refused.into_response());
    }
    let all = people::with_counts(&app.db).await?;
    let a = all.iter().find(|a| a.id == id).ok_or(WebError::NotFound)?;
    let description = crate::storage::pictures::Description { alt: a.name.clone(), ..Default::default() };
    let url = match store_image(&app, &staff, &upload, &description).await {
        Ok(url) => url,
        Err(answer) => return Ok(answer),
    };
    let author = NewAuthor {
        slug: Slug::parse(&a.slug).map_err(anyhow::Error::from)?,
        name: a.name.clone(),
        bio: a.bio.clone(),
        photo_url: Some(url.clone()),
    };
    let mut tx = app.db.begin().await?;
    people::update(&mut tx, id, &author).await?;
    crate::storage::pictures::set_uses(&mut tx, "author", id, &crate::media::markup::referenced_ids(&url))
        .await?;
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to(&format!("/admin/authors/{id}")).into_response())
}

/// `POST /admin/settings/logo`: the site's logo (multipart, field `file`; `remove` clears it).
pub async fn settings_logo(
    State(app): State<AppState>,
    staff: Staff,
    multipart: Multipart,
) -> WebResult<Response> {
    let (fields, upload) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(refused) => return Ok(refused),
    };
    let remove = fields.contains_key("remove");
    if let Err(refused) = admit(&staff, Role::Administrator, fields.into_iter().collect()) {
        return Ok(refused.into_response());
    }
    let url = if remove {
        String::new()
    } else {
        let description = crate::storage::pictures::Description {
            alt: app.site.get().settings.name.clone(),
            ..Default::default()
        };
        match store_image(&app, &staff, &upload, &description).await {
            Ok(url) => url,
            Err(answer) => return Ok(answer),
        }
    };
    let mut tx = app.db.begin().await?;
    settings::set(&mut tx, "site.logo", &url).await?;
    crate::storage::pictures::set_uses(&mut tx, "site", 0, &crate::media::markup::referenced_ids(&url))
        .await?;
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to("/admin/settings").into_response())
}
