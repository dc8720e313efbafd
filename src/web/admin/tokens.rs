//! `/admin/tokens`: API tokens for scripts and apps (see `web::api::auth`). Every staff member
//! manages their own; administrators see and revoke everyone's. A new token is shown once.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::articles::staff_view;
use super::session::Staff;
use crate::domain::Role;
use crate::web::AppState;
use crate::web::api::auth::{self, Scope};
use crate::web::error::{WebError, WebResult};

#[derive(Serialize)]
struct TokenView {
    id: i64,
    name: String,
    prefix: String,
    owner: String,
    scopes: Vec<String>,
    created: String,
    last_used: Option<String>,
    revoked: bool,
}

fn day(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%-d %b %Y %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn page(
    app: &AppState,
    staff: &Staff,
    created: Option<(String, String)>,
    error: Option<String>,
) -> WebResult<Response> {
    let owner = (staff.role < Role::Administrator).then_some(staff.user_id);
    let tokens: Vec<TokenView> = crate::storage::tokens::list(&app.db, owner)
        .await?
        .into_iter()
        .map(|(t, owner)| TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            owner,
            scopes: t.scopes.split_whitespace().map(str::to_owned).collect(),
            created: day(t.created_at),
            last_used: t.last_used_at.map(day),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let scopes: Vec<(&str, &str, bool)> =
        Scope::ALL.iter().map(|s| (s.as_str(), s.describe(), staff.role >= s.least_role())).collect();
    let body = app.theme.render(
        "admin/tokens.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            tokens => tokens,
            scopes => scopes,
            created => created,
            error => error,
        },
    )?;
    let status =
        if created.is_none() && error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, [("cache-control", "no-store")], Html(body)).into_response())
}

/// `GET /admin/tokens`
pub async fn list(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    page(&app, &staff, None, None).await
}

/// `POST /admin/tokens`: a new token for the signed-in user, shown once.
pub async fn create(
    State(app): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let csrf = pairs.iter().find(|(k, _)| k == "_csrf").map_or("", |(_, v)| v.as_str());
    if let Err(refused) = staff.check_csrf(csrf) {
        return Ok(refused.into_response());
    }
    let name = pairs.iter().find(|(k, _)| k == "name").map_or("", |(_, v)| v.trim()).to_owned();
    let scopes: Vec<&str> = pairs.iter().filter(|(k, _)| k == "scopes").map(|(_, v)| v.as_str()).collect();
    match auth::issue(&app.db, staff.user_id, staff.role, &name, &scopes).await {
        Ok(secret) => page(&app, &staff, Some((name, secret)), None).await,
        Err(auth::IssueError::Refused(why)) => page(&app, &staff, None, Some(why)).await,
        Err(auth::IssueError::Internal(e)) => Err(WebError::Internal(e)),
    }
}

/// `POST /admin/tokens/{id}/revoke`: one's own, or anyone's for an administrator.
pub async fn revoke(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let csrf = pairs.iter().find(|(k, _)| k == "_csrf").map_or("", |(_, v)| v.as_str());
    if let Err(refused) = staff.check_csrf(csrf) {
        return Ok(refused.into_response());
    }
    let token = crate::storage::tokens::get(&app.db, id).await?.ok_or(WebError::NotFound)?;
    if token.user_id != staff.user_id && staff.role < Role::Administrator {
        return Ok((StatusCode::FORBIDDEN, "You may revoke only your own tokens.").into_response());
    }
    let mut tx = app.db.begin().await?;
    crate::storage::tokens::revoke(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}
