//! Static files of the theme, `robots.txt` and the favicon.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::theme::Asset;
use crate::web::AppState;
use crate::web::error::WebError;

/// `/static/NAME.HASH.EXT`: the URL changes with the content, so it is cached for a year.
pub async fn show(State(app): State<AppState>, Path(file): Path<String>, request: HeaderMap) -> Response {
    match app.theme.asset_by_url(&format!("/static/{file}")) {
        Some(asset) => serve(asset, "public, max-age=31536000, immutable", &request),
        None => WebError::NotFound.into_response(),
    }
}

pub async fn favicon(State(app): State<AppState>, request: HeaderMap) -> Response {
    match app.theme.asset_by_name("favicon.ico") {
        Some(asset) => serve(asset, "public, max-age=86400", &request),
        None => WebError::NotFound.into_response(),
    }
}

pub async fn robots(State(app): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let origin = super::feeds::origin(&app, &headers);
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /search\nDisallow: /admin\nDisallow: /preview/\n\n\
         Sitemap: {origin}/sitemap.xml\nSitemap: {origin}/sitemap-news.xml\n"
    );
    super::text(body, "text/plain; charset=utf-8", 3600)
}

/// A theme file, compressed at start, with its validator.
fn serve(asset: &Asset, cache: &'static str, request: &HeaderMap) -> Response {
    let mut response = asset.page.respond(request);
    response.headers_mut().remove("x-cache");
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `/media/HASH.EXT`: an uploaded file. The name is its content hash, so it never changes.
pub async fn media(State(app): State<AppState>, Path(file): Path<String>) -> Response {
    if !crate::media::is_stored_name(&file) {
        return WebError::NotFound.into_response();
    }
    let path = crate::media::dir(&app.data_dir).join(&file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let content_type = crate::media::sniff(&bytes).map_or("application/octet-stream", |(_, t)| t);
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => WebError::NotFound.into_response(),
    }
}
