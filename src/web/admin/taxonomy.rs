//! Sections and tags in the admin (editors and administrators): create, edit, merge (tags),
//! and delete with a clear statement of what happens to their articles.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::forms::{Fields, admit, get, list_page, require};
use super::session::Staff;
use crate::domain::{NewSection, Role, Slug};
use crate::storage::taxonomy;
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

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
    list_page(app, staff, "admin/sections.html", sections, |s| s.id, editing, error).await
}

pub async fn sections(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
    }
    sections_page(&app, &staff, None, None).await
}

pub async fn edit_section(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
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
    if let Some(refused) = require(&staff, Role::Editor) {
        return Ok(refused);
    }
    tags_page(&app, &staff, None).await
}

async fn tags_page(app: &AppState, staff: &Staff, error: Option<String>) -> WebResult<Response> {
    let tags: Vec<TagView> = taxonomy::tags_with_counts(&app.db)
        .await?
        .into_iter()
        .map(|t| TagView { id: t.id, slug: t.slug, name: t.name, articles: t.articles })
        .collect();
    list_page(app, staff, "admin/tags.html", tags, |t| t.id, None, error).await
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
