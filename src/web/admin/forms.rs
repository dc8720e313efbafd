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

/// Reads a multipart form with one file field `file`: the text fields and the file's bytes.
pub async fn read_upload(mut multipart: Multipart) -> Result<(HashMap<String, String>, Vec<u8>), Response> {
    let mut fields = HashMap::new();
    let mut bytes = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok((fields, bytes)),
            Err(e) => {
                return Err(
                    (e.status(), format!("The upload could not be read: {}", e.body_text())).into_response()
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let data = match field.bytes().await {
            Ok(data) => data,
            Err(e) => {
                return Err(
                    (e.status(), format!("The upload could not be read: {}", e.body_text())).into_response()
                );
            }
        };
        if name == "file" {
            bytes = data.to_vec();
        } else {
            fields.insert(name, String::from_utf8_lossy(&data).trim().to_owned());
        }
    }
}

/// Validates and stores an uploaded image; its public URL, or the answer to give.
pub async fn store_image(app: &AppState, bytes: &[u8]) -> Result<String, Response> {
    let name = crate::media::validate(bytes).map_err(|e| {
        let status = if matches!(e, crate::media::MediaError::TooLarge(..)) {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        (status, e.to_string()).into_response()
    })?;
    crate::media::store(&app.data_dir, &name, bytes)
        .await
        .map_err(|e| WebError::Internal(e).into_response())?;
    Ok(format!("/media/{name}"))
}
