//! The picture library under `/admin/media`: a searchable grid, uploads of many files at once,
//! and for each picture its description, focal point, uses, replacement and deletion.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::articles::staff_view;
use super::forms::{Fields, admit, get, read_files, require};
use super::session::Staff;
use crate::domain::Role;
use crate::media::library::{self, AddError, DeleteError};
use crate::media::markup::{PictureRef, PictureView};
use crate::storage::pictures::{self, Description, PictureRow};
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

/// Pictures per page of the grid.
const PER_PAGE: i64 = 48;

#[derive(Serialize)]
struct Tile {
    id: i64,
    file_name: String,
    alt: String,
    caption: String,
    credit: String,
    width: i64,
    height: i64,
    size: String,
    state: String,
    error: Option<String>,
    focus_x: f64,
    focus_y: f64,
    /// Small variants for the grid and the editor (drawn once the picture is processed).
    picture: PictureView,
    reference: String,
    /// The Markdown that puts it in a text as a figure with its caption and credit.
    figure: String,
}

/// A library picture as a figure block for an article's text (see `domain::markdown`).
pub fn figure_markdown(id: i64, alt: &str, caption: &str, credit: &str) -> String {
    let line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let alt = line(alt).replace('\\', "\\\\").replace('[', "\\[").replace(']', "\\]");
    let mut out = format!("> [!FIGURE]\n> ![{alt}]({})\n", crate::media::markup::reference(id));
    let caption = line(caption);
    if !caption.is_empty() {
        out.push_str(&format!("> {caption}\n"));
    }
    let credit = line(credit);
    if !credit.is_empty() {
        out.push_str(&format!("> Credit: {credit}\n"));
    }
    out
}

fn tile(r: &PictureRow) -> Tile {
    let p = PictureRef::from(r);
    Tile {
        id: r.id,
        file_name: r.file_name.clone(),
        alt: r.alt.clone(),
        caption: r.caption.clone(),
        credit: r.credit.clone(),
        width: r.width,
        height: r.height,
        size: if r.bytes >= 1024 * 1024 {
            format!("{:.1} MB", r.bytes as f64 / 1048576.0)
        } else {
            format!("{} kB", (r.bytes + 1023) / 1024)
        },
        state: r.state.clone(),
        error: r.error.clone(),
        focus_x: r.focus_x as f64 / 100.0,
        focus_y: r.focus_y as f64 / 100.0,
        picture: p.view(),
        reference: crate::media::markup::reference(r.id),
        figure: figure_markdown(r.id, &r.alt, &r.caption, &r.credit),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
    /// Choosing the picture of this article (from its editor).
    #[serde(default, rename = "for")]
    for_article: Option<i64>,
}

/// One file's outcome after an upload.
#[derive(Serialize)]
struct Outcome {
    file_name: String,
    added: Option<i64>,
    refused: Option<String>,
}

async fn library_page(
    app: &AppState,
    staff: &Staff,
    q: &ListQuery,
    outcomes: Vec<Outcome>,
    status: StatusCode,
) -> WebResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = pictures::search(&app.db, &q.q, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let pending = pictures::pending(&app.db).await?;
    let pagination = crate::web::views::Pagination::new(
        "/admin/media",
        &[
            (!q.q.is_empty()).then(|| format!("q={}", crate::web::public::search::urlencode(&q.q))),
            q.for_article.map(|a| format!("for={a}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("&"),
        page,
        PER_PAGE,
        total,
    );
    let body = app.theme.render(
        "admin/media.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            pictures => rows.iter().map(tile).collect::<Vec<_>>(),
            total => total,
            query => q.q,
            pending => pending,
            pagination => pagination,
            outcomes => outcomes,
            max_mb => library::MAX_BYTES >> 20,
            for_article => q.for_article,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

/// `GET /admin/media`: the library.
pub async fn list(
    State(app): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Contributor) {
        return Ok(refused);
    }
    library_page(&app, &staff, &q, Vec::new(), StatusCode::OK).await
}

/// `POST /admin/media`: one or many files (field `files`), with an optional credit and alt text
/// given to all. Each file is checked on its own: one refused file does not stop the others.
/// Scripts (admin.js) send files one at a time to show progress, and get JSON back.
pub async fn upload(State(app): State<AppState>, staff: Staff, multipart: Multipart) -> WebResult<Response> {
    let (fields, files) = match read_files(multipart).await {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    let wants_json = fields.get("format").is_some_and(|f| f == "json");
    let form = match admit(&staff, Role::Contributor, fields.into_iter().collect()) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    let description = Description {
        alt: get(&form, "alt").to_owned(),
        caption: String::new(),
        credit: get(&form, "credit").to_owned(),
        focus: (5000, 5000),
    };
    let mut outcomes = Vec::new();
    for file in &files {
        let name = library::clean_file_name(&file.name);
        match library::add(
            &app.db,
            &app.media.store,
            &file.bytes,
            &file.name,
            &description,
            Some(staff.user_id),
        )
        .await
        {
            Ok(id) => {
                app.media.wake.notify_one();
                outcomes.push(Outcome { file_name: name, added: Some(id), refused: None });
            }
            Err(AddError::Refused(e)) => {
                outcomes.push(Outcome { file_name: name, added: None, refused: Some(e.to_string()) })
            }
            Err(AddError::Internal(e)) => return Err(WebError::Internal(e)),
        }
    }
    if files.is_empty() {
        outcomes.push(Outcome {
            file_name: String::new(),
            added: None,
            refused: Some("Choose one or more pictures to upload.".into()),
        });
    }
    let any_refused = outcomes.iter().any(|o| o.refused.is_some());
    let status = if any_refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    if wants_json {
        return Ok((status, axum::Json(outcomes)).into_response());
    }
    library_page(&app, &staff, &ListQuery::default(), outcomes, status).await
}

#[derive(Serialize)]
struct UseView {
    kind: String,
    title: String,
    url: String,
}

async fn picture_page(
    app: &AppState,
    staff: &Staff,
    id: i64,
    message: Option<(bool, String)>,
) -> WebResult<Response> {
    let row = pictures::get(&app.db, id).await?.ok_or(WebError::NotFound)?;
    let uses: Vec<UseView> = pictures::uses(&app.db, id)
        .await?
        .into_iter()
        .map(|u| UseView {
            url: match u.kind.as_str() {
                "article" => format!("/admin/articles/{}", u.subject_id),
                "page" => format!("/admin/pages/{}", u.subject_id),
                "author" => format!("/admin/authors/{}", u.subject_id),
                _ => "/admin/settings".to_owned(),
            },
            kind: u.kind,
            title: u.title,
        })
        .collect();
    let (status, error, notice) = match message {
        Some((true, m)) => (StatusCode::UNPROCESSABLE_ENTITY, Some(m), None),
        Some((false, m)) => (StatusCode::OK, None, Some(m)),
        None => (StatusCode::OK, None, None),
    };
    let body = app.theme.render(
        "admin/picture.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            p => tile(&row),
            uses => uses,
            error => error,
            notice => notice,
            max_mb => library::MAX_BYTES >> 20,
        },
    )?;
    Ok((status, Html(body)).into_response())
}

/// `GET /admin/media/{id}`: one picture.
pub async fn show(State(app): State<AppState>, staff: Staff, Path(id): Path<i64>) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Contributor) {
        return Ok(refused);
    }
    picture_page(&app, &staff, id, None).await
}

/// A focal point typed as a percentage, in hundredths of a percent.
fn percent(v: &str) -> Option<i64> {
    let v: f64 = v.trim().trim_end_matches('%').parse().ok()?;
    v.is_finite().then(|| (v * 100.0).round().clamp(0.0, 10_000.0) as i64)
}

/// `POST /admin/media/{id}`: save the description and focal point (authors and above), or
/// delete (`delete`, editors and above; only what nothing uses).
pub async fn save(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Fields,
) -> WebResult<Response> {
    let deleting = pairs.iter().any(|(k, _)| k == "delete");
    let form = match admit(&staff, if deleting { Role::Editor } else { Role::Author }, pairs) {
        Ok(form) => form,
        Err(refused) => return Ok(refused.into_response()),
    };
    if deleting {
        return match library::delete(&app.db, &app.media.store, id).await {
            Ok(()) => Ok(Redirect::to("/admin/media?deleted=1").into_response()),
            Err(DeleteError::InUse) => {
                picture_page(&app, &staff, id, Some((true, DeleteError::InUse.to_string()))).await
            }
            Err(DeleteError::Internal(e)) => Err(WebError::Internal(e)),
        };
    }
    let current = pictures::get(&app.db, id).await?.ok_or(WebError::NotFound)?;
    let description = Description {
        alt: get(&form, "alt").to_owned(),
        caption: get(&form, "caption").to_owned(),
        credit: get(&form, "credit").to_owned(),
        focus: (
            percent(get(&form, "focus_x")).unwrap_or(current.focus_x),
            percent(get(&form, "focus_y")).unwrap_or(current.focus_y),
        ),
    };
    if description.alt.chars().count() > 1000 || description.caption.chars().count() > 2000 {
        return picture_page(
            &app,
            &staff,
            id,
            Some((true, "The alt text or the caption is too long.".into())),
        )
        .await;
    }
    let mut tx = app.db.begin().await?;
    pictures::describe(&mut tx, id, &description).await?;
    tx.commit().await?;
    app.media.wake.notify_one();
    app.content_changed().await;
    picture_page(&app, &staff, id, Some((false, "Saved. Pages that show this picture follow.".into()))).await
}

/// `POST /admin/media/{id}/replace`: a new file in place of the picture's (authors and above).
pub async fn replace(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> WebResult<Response> {
    let (fields, mut files) = match read_files(multipart).await {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };
    if let Err(refused) = admit(&staff, Role::Author, fields.into_iter().collect()) {
        return Ok(refused.into_response());
    }
    let Some(file) = files.pop() else {
        return picture_page(
            &app,
            &staff,
            id,
            Some((true, "Choose the picture to put in its place.".into())),
        )
        .await;
    };
    match library::replace(&app.db, &app.media.store, id, &file.bytes, &file.name).await {
        Ok(true) => {
            app.media.wake.notify_one();
            app.content_changed().await;
            picture_page(&app, &staff, id, Some((false, "Replaced. Pages that show it follow.".into()))).await
        }
        Ok(false) => Err(WebError::NotFound),
        Err(AddError::Refused(e)) => picture_page(&app, &staff, id, Some((true, e.to_string()))).await,
        Err(AddError::Internal(e)) => Err(WebError::Internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focal_points_are_read_as_percentages() {
        assert_eq!(percent("50"), Some(5000));
        assert_eq!(percent("33.33%"), Some(3333));
        assert_eq!(percent("150"), Some(10_000));
        assert_eq!(percent("x"), None);
        assert_eq!(percent("NaN"), None);
    }
}
