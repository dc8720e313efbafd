//! What the admin's management pages share: reading a posted form after checking the role and
//! the CSRF token, and rendering a "list with an edit form" page.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::articles::staff_view;
use super::session::Staff;
use crate::domain::Role;
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

/// A posted form as name/value pairs (names may repeat).
pub type Fields = Form<Vec<(String, String)>>;

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

/// A trimmed form value, empty when absent.
pub fn get<'a>(map: &'a HashMap<String, String>, key: &str) -> &'a str {
    map.get(key).map_or("", |v| v.trim())
}

/// `Some(403 answer)` when the staff member's role is below `min`.
pub fn require(staff: &Staff, min: Role) -> Option<Response> {
    (staff.role < min).then(|| (StatusCode::FORBIDDEN, "Your role may not see this page.").into_response())
}

/// Renders a management page: `items` under the template's own name (`admin/tags.html` gets
/// `tags`), the id being edited (404 when it is not among them) and an error message (422).
pub async fn list_page<T: Serialize>(
    app: &AppState,
    staff: &Staff,
    template: &str,
    items: Vec<T>,
    id_of: fn(&T) -> i64,
    editing: Option<i64>,
    error: Option<String>,
) -> WebResult<Response> {
    if editing.is_some_and(|id| !items.iter().any(|i| id_of(i) == id)) {
        return Err(WebError::NotFound);
    }
    let key = template.rsplit('/').next().unwrap_or(template).trim_end_matches(".html");
    let list = minijinja::Value::from(BTreeMap::from([(
        key.to_owned(),
        minijinja::Value::from(minijinja::value::Serde(&items)),
    )]));
    let body = app.theme.render(
        template,
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            editing => editing,
            error => error,
            ..list
        },
    )?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(body)).into_response())
}

/// One file of a multipart form.
pub struct Upload {
    /// The name the browser gave (its last path part); may be empty.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads a multipart form: its text fields and its files (any part sent as a file; empty file
/// inputs are skipped).
pub async fn read_files(
    mut multipart: Multipart,
) -> Result<(HashMap<String, String>, Vec<Upload>), Response> {
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok((fields, files)),
            Err(e) => {
                return Err(
                    (e.status(), format!("The upload could not be read: {}", e.body_text())).into_response()
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(data) => data,
            Err(e) => {
                return Err(
                    (e.status(), format!("The upload could not be read: {}", e.body_text())).into_response()
                );
            }
        };
        match file_name {
            Some(file_name) if !(file_name.is_empty() && data.is_empty()) => {
                files.push(Upload { name: file_name, bytes: data.to_vec() });
            }
            Some(_) => {}
            None if name == "file" => files.push(Upload { name: String::new(), bytes: data.to_vec() }),
            None => {
                fields.insert(name, String::from_utf8_lossy(&data).trim().to_owned());
            }
        }
    }
}

/// Reads a multipart form with one file: the text fields and the file (empty when none).
pub async fn read_upload(multipart: Multipart) -> Result<(HashMap<String, String>, Upload), Response> {
    let (fields, mut files) = read_files(multipart).await?;
    let file = if files.is_empty() {
        Upload { name: String::new(), bytes: Vec::new() }
    } else {
        files.swap_remove(0)
    };
    Ok((fields, file))
}

/// Adds an uploaded picture to the library (checked, its original kept, processed by a job);
/// its address (`/media/ID`), or the answer to give.
pub async fn store_image(
    app: &AppState,
    staff: &Staff,
    upload: &Upload,
    description: &crate::storage::pictures::Description,
) -> Result<String, Response> {
    use crate::media::library::{self, AddError};
    use crate::media::process::Refused;
    match library::add(
        &app.db,
        &app.media.store,
        &upload.bytes,
        &upload.name,
        description,
        Some(staff.user_id),
    )
    .await
    {
        Ok(id) => {
            app.media.wake.notify_one();
            Ok(crate::media::markup::reference(id))
        }
        Err(AddError::Refused(e)) => {
            let status = if matches!(e, Refused::TooLarge(..)) {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Err((status, e.to_string()).into_response())
        }
        Err(AddError::Internal(e)) => Err(WebError::Internal(e).into_response()),
    }
}
