//! Sections and tags in the admin (editors and administrators): create, edit, merge (tags),
//! and delete with a clear statement of what happens to their articles.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::articles::staff_view;
use super::session::Staff;
use crate::domain::{NewSection, Role, Slug};
use crate::storage::taxonomy;
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

type Fields = Form<Vec<(String, String)>>;

/// Why a form was refused before anything changed.
#[derive(Debug)]
pub enum Refused {
    Role,
    ExpiredForm,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Role => (StatusCode::FORBIDDEN, "Your role may not make this change.").into_response(),
            Refused::ExpiredForm => super::session::ExpiredForm.into_response(),
        }
    }
}

/// Checks the role and the CSRF token; returns the form as a map.
pub fn admit(
    staff: &Staff,
    min: Role,
    pairs: Vec<(String, String)>,
) -> Result<HashMap<String, String>, Refused> {
    if staff.role < min {
        return Err(Refused::Role);
    }
    let map: HashMap<String, String> = pairs.into_iter().collect();
    staff.check_csrf(map.get("_csrf").map_or("", String::as_str)).map_err(|_| Refused::ExpiredForm)?;
    Ok(map)
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "Your role may not see this page.").into_response()
}

fn get<'a>(map: &'a HashMap<String, String>, key: &str) -> &'a str {
    map.get(key).map_or("", |v| v.trim())
}

#[derive(Serialize)]
struct SectionView {
    id: i64,
    slug: String,
    name: String,
    description: String,
    parent_id: Option<i64>,
    position: i64,
    articles: i64,
}

async fn sections_page(
    app: &AppState,
    staff: &Staff,
    error: Option<String>,
    editing: Option<i64>,
) -> WebResult<Response> {
    let sections: Vec<SectionView> = taxonomy::sections_with_counts(&app.db)
        .await?
        .into_iter()
        .map(|s| SectionView {
            id: s.id,
            slug: s.slug,
            name: s.name,
            description: s.description,
            parent_id: s.parent_id,
            position: s.position,
            articles: s.articles,
        })
        .collect();
    if editing.is_some_and(|id| !sections.iter().any(|s| s.id == id)) {
        return Err(WebError::NotFound);
    }
    let body = app.theme.render(
        "admin/sections.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            sections => sections,
            editing => editing,
            error => error,
        },
    )?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(body)).into_response())
}

pub async fn sections(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if staff.role < Role::Editor {
        return Ok(forbidden());
    }
    sections_page(&app, &staff, None, None).await
}

pub async fn edit_section(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    if staff.role < Role::Editor {
        return Ok(forbidden());
    }
    sections_page(&app, &staff, None, Some(id)).await
}

/// Creates (no id) or updates a section.
pub async fn save_section(
    State(app): State<AppState>,
    staff: Staff,
    id: Option<Path<i64>>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Editor, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let name = get(&form, "name");
    if name.is_empty() {
        return sections_page(&app, &staff, Some("A section needs a name.".into()), id.map(|p| p.0)).await;
    }
    let slug = match get(&form, "slug") {
        "" => Slug::from_title(name),
        s => match Slug::parse(s) {
            Ok(slug) => slug,
            Err(e) => return sections_page(&app, &staff, Some(e.to_string()), id.map(|p| p.0)).await,
        },
    };
    let site = app.site.get().clone();
    if site.sections.iter().any(|s| s.slug == slug.as_str() && Some(s.id) != id.as_ref().map(|p| p.0)) {
        let message = format!("The slug {:?} is already used by another section.", slug.as_str());
        return sections_page(&app, &staff, Some(message), id.map(|p| p.0)).await;
    }
    let parent =
        site.section_by_slug(get(&form, "parent")).filter(|p| Some(p.id) != id.as_ref().map(|i| i.0));
    let position = get(&form, "position").parse().unwrap_or(0);
    let mut tx = app.db.begin().await?;
    match &id {
        Some(Path(id)) => {
            taxonomy::update_section(
                &mut tx,
                *id,
                &slug,
                name,
                get(&form, "description"),
                parent.map(|p| p.id),
                position,
            )
            .await?;
        }
        None => {
            let section = NewSection {
                slug,
                name: name.to_owned(),
                description: get(&form, "description").to_owned(),
                parent: parent.map(|p| Slug::parse(&p.slug)).transpose().map_err(anyhow::Error::from)?,
                position,
            };
            taxonomy::ensure_section(&mut tx, &section).await?;
        }
    }
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to("/admin/sections").into_response())
}

pub async fn delete_section(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Editor, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let site = app.site.get().clone();
    site.section_by_id(id).ok_or(WebError::NotFound)?;
    let Some(target) = site.section_by_slug(get(&form, "move_to")).filter(|t| t.id != id) else {
        let message = "Choose the section that receives this section's articles.".to_owned();
        return sections_page(&app, &staff, Some(message), Some(id)).await;
    };
    let mut tx = app.db.begin().await?;
    taxonomy::delete_section(&mut tx, id, target.id).await?;
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to("/admin/sections").into_response())
}

#[derive(Serialize)]
struct TagView {
    id: i64,
    slug: String,
    name: String,
    articles: i64,
}

pub async fn tags(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if staff.role < Role::Editor {
        return Ok(forbidden());
    }
    tags_page(&app, &staff, None).await
}

async fn tags_page(app: &AppState, staff: &Staff, error: Option<String>) -> WebResult<Response> {
    let tags: Vec<TagView> = taxonomy::tags_with_counts(&app.db)
        .await?
        .into_iter()
        .map(|t| TagView { id: t.id, slug: t.slug, name: t.name, articles: t.articles })
        .collect();
    let body = app.theme.render(
        "admin/tags.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            tags => tags,
            error => error,
        },
    )?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(body)).into_response())
}

/// Renames a tag, merges it into another (`merge_into`), or deletes it (`delete`).
pub async fn change_tag(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let form = match admit(&staff, Role::Editor, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let tags = taxonomy::tags_with_counts(&app.db).await?;
    tags.iter().find(|t| t.id == id).ok_or(WebError::NotFound)?;
    let mut tx = app.db.begin().await?;
    if form.contains_key("delete") {
        taxonomy::delete_tag(&mut tx, id).await?;
    } else if let Some(target) = form.get("merge_into").filter(|s| !s.is_empty()) {
        let Some(into) = tags.iter().find(|t| t.slug == *target && t.id != id) else {
            return tags_page(&app, &staff, Some("Choose another tag to merge into.".into())).await;
        };
        taxonomy::merge_tags(&mut tx, id, into.id).await?;
    } else {
        let name = get(&form, "name");
        let slug = Slug::from_title(name);
        if name.is_empty() || tags.iter().any(|t| t.slug == slug.as_str() && t.id != id) {
            let message = "That name is empty or already taken: to combine two tags, merge them.".to_owned();
            return tags_page(&app, &staff, Some(message)).await;
        }
        taxonomy::rename_tag(&mut tx, id, name, &slug).await?;
    }
    tx.commit().await?;
    app.content_changed().await;
    Ok(Redirect::to("/admin/tags").into_response())
}
