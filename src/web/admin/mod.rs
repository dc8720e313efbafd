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
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// A form with many pictures at once (the library's upload without scripts): twelve full-size
/// files. Each is checked against the per-file limit on its own.
const UPLOAD_LIMIT: usize = 12 * crate::media::library::MAX_BYTES;

pub fn routes(state: AppState) -> Router<AppState> {
    table()
        .layer(middleware::from_fn(same_origin_posts))
        .layer(middleware::from_fn_with_state(state, no_store))
}

/// A picture's upload: the library's per-file limit and room for the form's fields.
const PICTURE_FORM: usize = crate::media::library::MAX_BYTES + 64 * 1024;

route_table!(ROUTES, table;
    get "/admin" => session::home;
    get "/admin/" => session::home;
    post "/admin/login" => session::login;
    post "/admin/logout" => session::logout;
    get "/admin/articles" => articles::list;
    get "/admin/articles/new" => articles::new;
    post "/admin/articles/new" => articles::create;
    get "/admin/articles/{id}" => articles::edit;
    post "/admin/articles/{id}" => articles::save;
    get "/admin/articles/{id}/revisions" => revisions::list;
    post "/admin/articles/autosave" => articles::autosave;
    post "/admin/articles/{id}/autosave" => articles::autosave;
    post "/admin/preview" => articles::preview_markdown;
    get "/admin/sections" => taxonomy::sections;
    post "/admin/sections" => taxonomy::save_section;
    get "/admin/sections/{id}" => taxonomy::edit_section;
    post "/admin/sections/{id}" => taxonomy::save_section;
    post "/admin/sections/{id}/delete" => taxonomy::delete_section;
    get "/admin/tags" => taxonomy::tags;
    post "/admin/tags/{id}" => taxonomy::change_tag;
    get "/admin/pages" => site::pages_list;
    post "/admin/pages" => site::page_save;
    get "/admin/pages/{id}" => site::page_edit;
    post "/admin/pages/{id}" => site::page_save;
    get "/admin/users" => site::users_list;
    post "/admin/users" => site::user_create;
    post "/admin/users/{id}" => site::user_change;
    get "/admin/settings" => site::settings_show;
    post "/admin/settings" => site::settings_save;
    get "/admin/comments" => comments::queue;
    post "/admin/comments" => comments::act;
    get "/admin/comments/{id}" => comments::show;
    post "/admin/comments/{id}" => comments::edit;
    post "/admin/comments/{id}/reply" => comments::reply;
    get "/admin/discussion" => comments::settings_show;
    post "/admin/discussion" => comments::settings_save;
    get "/admin/authors" => site::authors_list;
    post "/admin/authors" => site::author_save;
    get "/admin/authors/{id}" => site::author_edit;
    post "/admin/authors/{id}" => site::author_save;
    post "/admin/authors/{id}/photo" => site::author_photo, limit PICTURE_FORM;
    post "/admin/settings/logo" => site::settings_logo, limit PICTURE_FORM;
    post "/admin/articles/{id}/preview" => articles::create_preview;
    post "/admin/articles/{id}/image" => articles::upload_image, limit PICTURE_FORM;
    get "/admin/media" => media::list;
    post "/admin/media" => media::upload, limit UPLOAD_LIMIT;
    get "/admin/media/{id}" => media::show;
    post "/admin/media/{id}" => media::save;
    post "/admin/media/{id}/replace" => media::replace, limit PICTURE_FORM;
    post "/admin/articles/{id}/preview/revoke" => articles::revoke_previews;
    post "/admin/articles/{id}/related" => articles::related_choice;
    get "/admin/tokens" => tokens::list;
    post "/admin/tokens" => tokens::create;
    post "/admin/tokens/{id}/revoke" => tokens::revoke;
    get "/admin/webhooks" => webhooks::list;
    post "/admin/webhooks" => webhooks::create;
    get "/admin/webhooks/{id}" => webhooks::show;
    post "/admin/webhooks/{id}" => webhooks::change;
    post "/admin/webhooks/{id}/deliveries/{delivery}" => webhooks::redeliver;
);

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
