//! Pages a reader sees. Handlers are thin: parse the input, call storage, build views, render.

pub mod archive;
pub mod article;
pub mod assets;
pub mod comments;
pub mod feeds;
pub mod home;
pub mod search;
pub mod sitemaps;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::{ErrorPage, WebError, WebResult};
use crate::storage::articles;

/// `?page=N` on lists: absent means 1; anything but a positive integer is a 400.
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub page: Option<String>,
}

impl PageQuery {
    pub fn number(&self) -> WebResult<i64> {
        match self.page.as_deref() {
            None | Some("") => Ok(1),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=100_000).contains(&n) => Ok(n),
                _ => Err(WebError::BadRequest(format!("{s:?} is not a page number."))),
            },
        }
    }
}

/// Unknown paths: paths without a trailing slash that would match with one are redirected
/// (`/about` to `/about/`); the rest are 404.
pub async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    let last = path.rsplit('/').next().unwrap_or("");
    if !path.ends_with('/') && !last.contains('.') && !last.is_empty() {
        let target = match request.uri().query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        return crate::web::moved_permanently(&target);
    }
    WebError::NotFound.into_response()
}

/// The themed error page; a 404 also offers search and the latest stories.
pub async fn error_page(app: &AppState, error: &ErrorPage) -> anyhow::Result<String> {
    let site = app.site.get();
    let views = app.views(&site);
    // The latest stories on a 404, when the database answers (the page is shown without them
    // otherwise).
    let latest = if error.status == StatusCode::NOT_FOUND && !app.db.is_down() {
        let rows = articles::latest(&app.db, 6, 0).await.unwrap_or_default();
        views.cards(&rows, &[])
    } else {
        Vec::new()
    };
    let title = match error.status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::BAD_REQUEST => "That request could not be understood",
        StatusCode::SERVICE_UNAVAILABLE => "Back in a moment",
        _ => "Something went wrong",
    };
    app.theme.render(
        "error.html",
        crate::view! {
            site => views.site(),
            meta => views.meta(title, "", ""),
            status => error.status.as_u16(),
            message => error.message,
            latest => latest,
        },
    )
}

/// A plain-text response with a cache lifetime in seconds.
pub fn text(body: String, content_type: &'static str, max_age: u32) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
        ],
        body,
    )
        .into_response()
}
