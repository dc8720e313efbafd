//! The newsroom admin under `/admin`: sessions in the database, a CSRF token on every form,
//! `Cache-Control: no-store` on every answer, permissions checked on the server.

pub mod articles;
pub mod comments;
pub mod forms;
pub mod media;
pub mod revisions;
pub mod session;
pub mod site;
pub mod taxonomy;
pub mod tokens;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::AppState;

/// A form with many pictures at once (the library's upload without scripts): twelve full-size
/// files. Each is checked against the per-file limit on its own.
const UPLOAD_LIMIT: usize = 12 * crate::media::library::MAX_BYTES;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin", get(session::home))
        .route("/admin/", get(session::home))
        .route("/admin/login", post(session::login))
        .route("/admin/logout", post(session::logout))
        .route("/admin/articles", get(articles::list))
        .route("/admin/articles/new", get(articles::new).post(articles::create))
        .route("/admin/articles/{id}", get(articles::edit).post(articles::save))
        .route("/admin/articles/{id}/revisions", get(revisions::list))
        .route("/admin/articles/autosave", post(articles::autosave))
        .route("/admin/articles/{id}/autosave", post(articles::autosave))
        .route("/admin/preview", post(articles::preview_markdown))
        .route("/admin/sections", get(taxonomy::sections).post(taxonomy::save_section))
        .route("/admin/sections/{id}", get(taxonomy::edit_section).post(taxonomy::save_section))
        .route("/admin/sections/{id}/delete", post(taxonomy::delete_section))
        .route("/admin/tags", get(taxonomy::tags))
        .route("/admin/tags/{id}", post(taxonomy::change_tag))
        .route("/admin/pages", get(site::pages_list).post(site::page_save))
        .route("/admin/pages/{id}", get(site::page_edit).post(site::page_save))
        .route("/admin/users", get(site::users_list).post(site::user_create))
        .route("/admin/users/{id}", post(site::user_change))
        .route("/admin/settings", get(site::settings_show).post(site::settings_save))
        .route("/admin/comments", get(comments::queue).post(comments::act))
        .route("/admin/comments/{id}", get(comments::show).post(comments::edit))
        .route("/admin/comments/{id}/reply", post(comments::reply))
        .route("/admin/discussion", get(comments::settings_show).post(comments::settings_save))
        .route("/admin/authors", get(site::authors_list).post(site::author_save))
        .route("/admin/authors/{id}", get(site::author_edit).post(site::author_save))
        .route(
            "/admin/authors/{id}/photo",
            post(site::author_photo)
                .layer(DefaultBodyLimit::max(crate::media::library::MAX_BYTES + 64 * 1024)),
        )
        .route(
            "/admin/settings/logo",
            post(site::settings_logo)
                .layer(DefaultBodyLimit::max(crate::media::library::MAX_BYTES + 64 * 1024)),
        )
        .route("/admin/articles/{id}/preview", post(articles::create_preview))
        .route(
            "/admin/articles/{id}/image",
            post(articles::upload_image)
                .layer(DefaultBodyLimit::max(crate::media::library::MAX_BYTES + 64 * 1024)),
        )
        .route(
            "/admin/media",
            get(media::list).post(media::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/admin/media/{id}", get(media::show).post(media::save))
        .route(
            "/admin/media/{id}/replace",
            post(media::replace).layer(DefaultBodyLimit::max(crate::media::library::MAX_BYTES + 64 * 1024)),
        )
        .route("/admin/articles/{id}/preview/revoke", post(articles::revoke_previews))
        .route("/admin/articles/{id}/related", post(articles::related_choice))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route("/admin/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/admin/webhooks/{id}", get(webhooks::show).post(webhooks::change))
        .route("/admin/webhooks/{id}/deliveries/{delivery}", post(webhooks::redeliver))
        .layer(middleware::from_fn(same_origin_posts))
        .layer(middleware::from_fn_with_state(state, no_store))
}

async fn no_store(State(_): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Refuses cross-site form posts before any handler runs (the per-session token is checked
/// again in each handler).
async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let headers = request.headers();
        let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        let foreign_origin = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| o != "null" && o.split("://").nth(1) != Some(host));
        if cross_site || foreign_origin {
            return (StatusCode::FORBIDDEN, "Cross-site form posts are refused.").into_response();
        }
    }
    next.run(request).await
}
